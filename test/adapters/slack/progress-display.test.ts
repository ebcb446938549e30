/**
 * The progress display on its own, with a manual clock and a recording poster (it models the
 * three writes the display makes and fails them on demand the way the WebClient does; it leaves
 * out Slack itself, which the end-to-end tests in test/e2e/slack-progress.test.ts drive).
 *
 * The rules: nothing is written before a turn has worked the delay since its first tool call
 * (a turn that ends sooner writes nothing at all); one status message per turn (posted once
 * due, then edited in place) or Slack's assistant status, never a write per tool call; at most one write per interval,
 * carrying the latest state; a refused status falls back to the message in `auto` and is
 * remembered for the channel; a failure never throws, a post that failed is never sent again,
 * a refusal to write into a shared channel ends the turn's progress, and a 429 pauses all
 * progress until its Retry-After; only tool names are shown.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import { ProgressDisplay, PROGRESS_EVENT_TYPE } from '../../../src/adapters/slack/progress-display.ts';
import { progressText } from '../../../src/adapters/slack/progress-text.ts';
import type { ProgressMode, ProgressPoster } from '../../../src/adapters/slack/progress-display.ts';
import { SharedChannelRefusal } from '../../../src/adapters/slack/slack-poster.ts';
import { WORKING_SIGNAL_DELAY_MS } from '../../../src/adapters/slack/turn-dispatcher.ts';
import type { MessageMetadata, PostBody } from '../../../src/adapters/slack/slack-poster.ts';
import type { Turn } from '../../../src/engine/types.ts';
import { FakeClock } from '../../fixtures/fake-clock.ts';

interface Write {
  method: 'post' | 'update' | 'setStatus';
  channel: string;
  /** The thread (post, setStatus) or the message (update). */
  at: string | undefined;
  text: string;
  metadata?: MessageMetadata;
}

class RecordingPoster implements ProgressPoster {
  readonly writes: Write[] = [];
  readonly #failures = new Map<Write['method'], unknown[]>();
  #ts = 0;

  /** The next write of `method` throws `error`. */
  failNext(method: Write['method'], error: unknown): void {
    this.#failures.set(method, [...(this.#failures.get(method) ?? []), error]);
  }

  async post(channel: string, threadTs: string | undefined, body: PostBody, metadata?: MessageMetadata): Promise<string> {
    this.#record({ method: 'post', channel, at: threadTs, text: body.text, ...(metadata ? { metadata } : {}) });
    return `100.${String(++this.#ts).padStart(6, '0')}`;
  }

  async update(channel: string, ts: string, body: PostBody): Promise<void> {
    this.#record({ method: 'update', channel, at: ts, text: body.text });
  }

  async setThreadStatus(channel: string, threadTs: string, status: string): Promise<void> {
    this.#record({ method: 'setStatus', channel, at: threadTs, text: status });
  }

  #record(write: Write): void {
    this.writes.push(write);
    const error = this.#failures.get(write.method)?.shift();
    if (error !== undefined) throw error;
  }
}

/** A WebClient platform error, as `@slack/web-api` throws it. */
const platformError = (code: string) => Object.assign(new Error(`An API error occurred: ${code}`), { code: 'slack_webapi_platform_error', data: { ok: false, error: code } });
const httpError = (status: number) => Object.assign(new Error(`HTTP ${status}`), { code: 'slack_webapi_http_error', statusCode: status });
const rateLimited = (seconds: number) => Object.assign(new Error('rate limited'), { code: 'slack_webapi_rate_limited_error', retryAfter: seconds });

const turn = (channel = 'C1', origin = '1.000100'): Turn => ({
  conversation: { platform: 'slack', team: 'T1', channel, thread: '1.000100' },
  user: 'U1',
  text: 'check the payments namespace',
  canAskHuman: true,
  origin,
});

/** The first write's delay (the product default: the display is built without the option). */
const DELAY = WORKING_SIGNAL_DELAY_MS;

function setup(mode: Exclude<ProgressMode, 'off'>, options: { firstWriteDelayMs?: number } = {}) {
  const clock = new FakeClock();
  const poster = new RecordingPoster();
  const logs: string[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void logs.push(line) });
  const display = new ProgressDisplay({ mode, poster, logger, clock, intervalMs: 1_000, ...options });
  return { clock, poster, display, logs };
}

/** Let the writes started so far (promises on the recording poster) settle. */
async function settled(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
}

test('a write starts only after the tool call it shows has started (never in front of it)', async () => {
  const { poster, display } = setup('message', { firstWriteDelayMs: 0 });
  display.showActivity(turn(), { tool: 'a__b', phase: 'started' });
  assert.equal(poster.writes.length, 0, 'nothing is written in the same turn of the event loop');
  await settled();
  assert.equal(poster.writes.length, 1);
});

test('three tool calls: one status message, edited in place at most once a second with the latest state, ending as a summary', async () => {
  const { clock, poster, display } = setup('message');
  const t = turn();
  display.showActivity(t, { tool: 'kubernetes__get_pods', phase: 'started' });
  clock.advance(DELAY);
  await settled();
  assert.deepEqual(poster.writes.map((w) => [w.method, w.at, w.text]), [['post', '1.000100', ':hourglass_flowing_sand: running `kubernetes__get_pods`…']], 'posted once due, in the thread');
  assert.deepEqual(poster.writes[0]!.metadata, { event_type: PROGRESS_EVENT_TYPE, event_payload: {} });

  // Five changes within the second: nothing is written until it has passed, then only the latest.
  display.showActivity(t, { tool: 'kubernetes__get_pods', phase: 'succeeded' });
  display.showActivity(t, { tool: 'kubernetes__get_events', phase: 'started' });
  display.showActivity(t, { tool: 'kubernetes__get_events', phase: 'failed', detail: 'boom' });
  display.showActivity(t, { tool: 'kubernetes__get_logs', phase: 'started' });
  await settled();
  assert.equal(poster.writes.length, 1, 'no write per tool call');
  clock.advance(999);
  await settled();
  assert.equal(poster.writes.length, 1, 'not before the interval');
  clock.advance(1);
  await settled();
  assert.deepEqual(poster.writes.slice(1).map((w) => [w.method, w.at, w.text]), [
    ['update', '100.000001', ':hourglass_flowing_sand: running `kubernetes__get_logs`… (done: `kubernetes__get_pods`, `kubernetes__get_events` (failed))'],
  ]);

  display.showActivity(t, { tool: 'kubernetes__get_logs', phase: 'succeeded' });
  display.turnFinished(t);
  clock.advance(1_000);
  await settled();
  assert.deepEqual(poster.writes.slice(2).map((w) => [w.method, w.at, w.text]), [
    ['update', '100.000001', 'Used `kubernetes__get_pods`, `kubernetes__get_events` (failed), `kubernetes__get_logs`.'],
  ]);
  assert.equal(poster.writes.filter((w) => w.method === 'post').length, 1, 'one message for the whole turn');
  assert.equal(clock.pendingTimers, 0, 'nothing left armed once the turn is done');
  assert.doesNotMatch(JSON.stringify(poster.writes), /payments|boom/, 'neither the input nor a tool error is shown');
});

test('a turn that waits for an approval says so in the same message, and carries on in it', async () => {
  const { clock, poster, display } = setup('message');
  const t = turn();
  display.approvalRequested(t);
  await settled();
  assert.equal(poster.writes.length, 0, 'an approval alone shows nothing: the card is in the thread');
  display.showActivity(t, { tool: 'ops__status', phase: 'started' });
  display.showActivity(t, { tool: 'ops__status', phase: 'succeeded' });
  display.approvalRequested(t);
  clock.advance(1_000);
  await settled();
  assert.equal(poster.writes.at(-1)!.text, ':hourglass_flowing_sand: waiting for approval… (done: `ops__status`)');
  display.showActivity(t, { tool: 'ops__restart', phase: 'started' });
  clock.advance(1_000);
  await settled();
  assert.equal(poster.writes.at(-1)!.text, ':hourglass_flowing_sand: running `ops__restart`… (done: `ops__status`)');
  assert.equal(poster.writes.filter((w) => w.method === 'post').length, 1);
});

test('a turn with no tool call writes nothing', async () => {
  const { clock, poster, display } = setup('auto');
  display.approvalRequested(turn());
  display.turnFinished(turn());
  clock.advance(5_000);
  await settled();
  assert.deepEqual(poster.writes, []);
});

test('auto shows the assistant status where Slack accepts it and clears it at the end; no message', async () => {
  const { clock, poster, display } = setup('auto');
  const t = turn();
  display.showActivity(t, { tool: 'ops__status', phase: 'started' });
  clock.advance(DELAY);
  await settled();
  display.showActivity(t, { tool: 'ops__status', phase: 'succeeded' });
  display.turnFinished(t);
  clock.advance(1_000);
  await settled();
  assert.deepEqual(poster.writes.map((w) => [w.method, w.at, w.text]), [
    ['setStatus', '1.000100', 'is running ops__status…'],
    ['setStatus', '1.000100', ''],
  ]);
});

test('auto falls back to the status message where Slack refuses the status, at once, and remembers the channel', async () => {
  const { clock, poster, display, logs } = setup('auto');
  poster.failNext('setStatus', platformError('invalid_thread_ts'));
  display.showActivity(turn(), { tool: 'ops__status', phase: 'started' });
  clock.advance(DELAY);
  await settled();
  assert.deepEqual(poster.writes.map((w) => [w.method, w.text]), [
    ['setStatus', 'is running ops__status…'],
    ['post', ':hourglass_flowing_sand: running `ops__status`…'],
  ]);
  assert.match(logs.join(''), /"fallback":"message".*slack\.progress_status_refused/);

  // The next turn in that channel goes straight to the message; another channel tries the status.
  display.showActivity(turn('C1', '2.000200'), { tool: 'ops__status', phase: 'started' });
  display.showActivity(turn('C2', '3.000300'), { tool: 'ops__status', phase: 'started' });
  clock.advance(1_000);
  await settled();
  assert.deepEqual(poster.writes.slice(2).map((w) => [w.method, w.channel]), [['post', 'C1'], ['setStatus', 'C2']]);
});

test('status mode never posts a message: where Slack refuses the status, nothing is shown', async () => {
  const { clock, poster, display } = setup('status');
  poster.failNext('setStatus', platformError('invalid_thread_ts'));
  const t = turn();
  display.showActivity(t, { tool: 'ops__status', phase: 'started' });
  clock.advance(DELAY);
  await settled();
  display.showActivity(t, { tool: 'ops__status', phase: 'succeeded' });
  display.turnFinished(t);
  clock.advance(5_000);
  await settled();
  assert.deepEqual(poster.writes.map((w) => w.method), ['setStatus']);
});

test('a failed post is never sent again (its answer may be lost); the turn goes on without progress', async () => {
  const { clock, poster, display, logs } = setup('message');
  poster.failNext('post', httpError(502));
  const t = turn();
  display.showActivity(t, { tool: 'a__b', phase: 'started' });
  clock.advance(DELAY);
  await settled();
  display.showActivity(t, { tool: 'a__b', phase: 'succeeded' });
  display.showActivity(t, { tool: 'a__c', phase: 'started' });
  display.turnFinished(t);
  clock.advance(5_000);
  await settled();
  assert.deepEqual(poster.writes.map((w) => w.method), ['post']);
  assert.match(logs.join(''), /"given_up":true.*slack\.progress_failed/);
  assert.equal(clock.pendingTimers, 0);
});

test('a failed update is tried again with the latest state; three failures in a row give up', async () => {
  const { clock, poster, display } = setup('message');
  const t = turn();
  display.showActivity(t, { tool: 'a__b', phase: 'started' });
  clock.advance(DELAY);
  await settled();
  poster.failNext('update', platformError('internal_error'));
  display.showActivity(t, { tool: 'a__b', phase: 'succeeded' });
  clock.advance(1_000);
  await settled();
  display.turnFinished(t);
  clock.advance(1_000);
  await settled();
  assert.deepEqual(poster.writes.map((w) => [w.method, w.text]), [
    ['post', ':hourglass_flowing_sand: running `a__b`…'],
    ['update', ':hourglass_flowing_sand: thinking… (done: `a__b`)'],
    ['update', 'Used `a__b`.'],
  ]);

  const other = turn('C1', '9.000900');
  display.showActivity(other, { tool: 'a__b', phase: 'started' });
  clock.advance(DELAY);
  await settled();
  for (let i = 0; i < 3; i++) poster.failNext('update', httpError(503));
  display.showActivity(other, { tool: 'a__b', phase: 'succeeded' });
  for (let i = 0; i < 5; i++) {
    clock.advance(1_000);
    await settled();
  }
  assert.equal(poster.writes.filter((w) => w.at === '100.000002' && w.method === 'update').length, 3, 'three tries, then it gives up');
  assert.equal(clock.pendingTimers, 0);
});

test("Slack's Retry-After pauses every turn's progress, then the latest state is written", async () => {
  const { clock, poster, display } = setup('message');
  const a = turn('C1', '1.000100');
  const b = turn('C2', '2.000200');
  display.showActivity(a, { tool: 'x__one', phase: 'started' });
  display.showActivity(b, { tool: 'x__one', phase: 'started' });
  clock.advance(DELAY);
  await settled();
  poster.failNext('update', rateLimited(5));
  display.showActivity(a, { tool: 'x__one', phase: 'succeeded' });
  clock.advance(1_000);
  await settled();
  display.showActivity(b, { tool: 'x__one', phase: 'succeeded' });
  clock.advance(3_000);
  await settled();
  assert.equal(poster.writes.length, 3, 'two posts and the rate-limited update; nothing during the pause');
  clock.advance(2_000);
  await settled();
  assert.deepEqual(poster.writes.slice(3).map((w) => [w.channel, w.text]).sort(), [
    ['C1', ':hourglass_flowing_sand: thinking… (done: `x__one`)'],
    ['C2', ':hourglass_flowing_sand: thinking… (done: `x__one`)'],
  ]);
});

test('a write refused for a shared channel ends that turn’s progress', async () => {
  const { clock, poster, display } = setup('auto');
  poster.failNext('setStatus', new SharedChannelRefusal('C1', 'assistant.threads.setStatus'));
  const t = turn();
  display.showActivity(t, { tool: 'a__b', phase: 'started' });
  clock.advance(DELAY);
  await settled();
  display.showActivity(t, { tool: 'a__c', phase: 'started' });
  display.turnFinished(t);
  clock.advance(5_000);
  await settled();
  assert.deepEqual(poster.writes.map((w) => w.method), ['setStatus'], 'no fallback message into a shared channel');
});

test('after stop nothing more is written', async () => {
  const { clock, poster, display } = setup('message');
  const t = turn();
  display.showActivity(t, { tool: 'a__b', phase: 'started' });
  clock.advance(DELAY);
  await settled();
  display.showActivity(t, { tool: 'a__b', phase: 'succeeded' });
  await display.stop(1_000);
  display.showActivity(t, { tool: 'a__c', phase: 'started' });
  clock.advance(5_000);
  await settled();
  assert.deepEqual(poster.writes.map((w) => w.method), ['post']);
  assert.equal(clock.pendingTimers, 0);
});

test('a turn that ends before the delay writes nothing at all (no message, no summary, no status to clear) and is forgotten', async () => {
  for (const mode of ['auto', 'message', 'status'] as const) {
    const { clock, poster, display } = setup(mode);
    const t = turn();
    display.showActivity(t, { tool: 'ops__status', phase: 'started' });
    display.showActivity(t, { tool: 'ops__status', phase: 'succeeded' });
    clock.advance(DELAY - 1);
    await settled();
    display.showActivity(t, { tool: 'ops__logs', phase: 'started' });
    display.showActivity(t, { tool: 'ops__logs', phase: 'succeeded' });
    display.turnFinished(t);
    clock.advance(10_000);
    await settled();
    assert.equal(poster.writes.length, 0, `${mode}: nothing written for a fast turn`);
    assert.equal(clock.pendingTimers, 0, `${mode}: nothing left armed`);

    // Forgotten: the next turn in the thread is timed from its own first tool call.
    const next = turn('C1', '2.000200');
    display.showActivity(next, { tool: 'ops__status', phase: 'started' });
    clock.advance(DELAY);
    await settled();
    assert.equal(poster.writes.length, 1, `${mode}: a slow turn after it is shown`);
  }
});

test('the first write is due the delay after the first tool call (later ones do not push it back), with the state of then', async () => {
  const { clock, poster, display } = setup('message');
  const t = turn();
  display.showActivity(t, { tool: 'a__one', phase: 'started' });
  clock.advance(DELAY - 100);
  display.showActivity(t, { tool: 'a__one', phase: 'succeeded' });
  display.showActivity(t, { tool: 'a__two', phase: 'started' });
  clock.advance(99);
  await settled();
  assert.equal(poster.writes.length, 0, 'not before the delay');
  clock.advance(1);
  await settled();
  assert.deepEqual(poster.writes.map((w) => [w.method, w.text]), [['post', ':hourglass_flowing_sand: running `a__two`… (done: `a__one`)']]);
  display.showActivity(t, { tool: 'a__two', phase: 'succeeded' });
  display.turnFinished(t);
  clock.advance(999);
  await settled();
  assert.equal(poster.writes.length, 1, 'then the interval, as before');
  clock.advance(1);
  await settled();
  assert.deepEqual(poster.writes.slice(1).map((w) => [w.method, w.text]), [['update', 'Used `a__one`, `a__two`.']]);
});

test('a turn that waits for an approval passes the delay and shows that it waits, in the message or the status', async () => {
  for (const [mode, waiting] of [['message', ':hourglass_flowing_sand: waiting for approval… (done: `ops__status`)'], ['auto', 'is waiting for approval…']] as const) {
    const { clock, poster, display } = setup(mode);
    const t = turn();
    display.showActivity(t, { tool: 'ops__status', phase: 'started' });
    display.showActivity(t, { tool: 'ops__status', phase: 'succeeded' });
    display.approvalRequested(t);
    await settled();
    assert.equal(poster.writes.length, 0, `${mode}: nothing before the delay`);
    clock.advance(DELAY);
    await settled();
    assert.deepEqual(poster.writes.map((w) => w.text), [waiting], `${mode}: shown once due`);
    // The decision came: the approved call runs, the turn ends.
    display.showActivity(t, { tool: 'ops__restart', phase: 'started' });
    display.showActivity(t, { tool: 'ops__restart', phase: 'succeeded' });
    display.turnFinished(t);
    clock.advance(1_000);
    await settled();
    assert.equal(poster.writes.at(-1)!.text, mode === 'message' ? 'Used `ops__status`, `ops__restart`.' : '', `${mode}: summarised or cleared`);
    assert.equal(clock.pendingTimers, 0);
  }
});

test('a turn that ends as its first write starts: that write carries the end (the summary, once; no status to set or clear)', async () => {
  for (const mode of ['message', 'auto'] as const) {
    const { clock, poster, display } = setup(mode);
    const t = turn();
    display.showActivity(t, { tool: 'a__b', phase: 'started' });
    clock.advance(DELAY);
    display.showActivity(t, { tool: 'a__b', phase: 'succeeded' });
    display.turnFinished(t);
    await settled();
    clock.advance(1_000);
    await settled();
    assert.deepEqual(poster.writes.map((w) => [w.method, w.text]), mode === 'message' ? [['post', 'Used `a__b`.']] : []);
    assert.equal(clock.pendingTimers, 0);
  }
});

test('stop cancels a first write not yet due', async () => {
  const { clock, poster, display } = setup('message');
  display.showActivity(turn(), { tool: 'a__b', phase: 'started' });
  assert.equal(clock.pendingTimers, 1);
  await display.stop(1_000);
  assert.equal(clock.pendingTimers, 0);
  clock.advance(5_000);
  await settled();
  assert.deepEqual(poster.writes, []);
});

test('progress text: tool names only (counted, failures marked, a long list cut), nothing that acts as mrkdwn', () => {
  const calls = [
    { tool: 'k__get', phase: 'succeeded' as const },
    { tool: 'k__get', phase: 'failed' as const },
    { tool: 'k__<!channel>`x', phase: 'succeeded' as const },
  ];
  assert.equal(progressText({ calls, isWaiting: false, isFinished: true }, 'message'), 'Used `k__get` ×2 (1 failed), `k__channelx`.');
  assert.equal(progressText({ calls: [...calls, { tool: 'k__logs', phase: 'started' }], isWaiting: false, isFinished: false }, 'status'), 'is running k__logs…');
  assert.equal(progressText({ calls, isWaiting: true, isFinished: false }, 'status'), 'is waiting for approval…');
  const many = Array.from({ length: 13 }, (_, i) => ({ tool: `s__t${i}`, phase: 'succeeded' as const }));
  assert.match(progressText({ calls: many, isWaiting: false, isFinished: true }, 'message'), /`s__t9` and 3 more\.$/);
});
