/**
 * Progress in the thread (`adapter.slack.progress`), through the real Bolt app and the fake
 * Slack. The rules: while a turn works, its thread shows what it is doing, as Slack's assistant
 * status where Slack accepts it (an assistant thread) or else as ONE status message edited in
 * place, never a message per tool call; the message ends as a summary of the tools used; only
 * tool names are shown, never inputs; a turn without a tool call shows nothing; and a failing
 * status API never breaks or holds up the turn. These turns take tens of milliseconds, so most
 * tests show progress at once (`workingSignalDelayMs: 0`); the turn that waits for an approval
 * runs with the real delay, and test/e2e/slack-working-signals.test.ts pins the delay itself.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import type { SlackMessage } from '../fakes/slack/fake-slack.ts';
import { PROGRESS_EVENT_TYPE } from '../../src/adapters/slack/progress-display.ts';
import { WORKING_SIGNAL_DELAY_MS } from '../../src/adapters/slack/turn-dispatcher.ts';
import { ALICE, BOB, CHANNEL, botReplies, startSlackHarness, textReplies, waitFor, waitForCard } from './slack-harness.ts';
import type { SlackHarness, SlackHarnessOptions } from './slack-harness.ts';

/**
 * Three read-only tools (one takes an input that must never be shown) and one that needs approval.
 * The reads take 20 ms, as real ones take longer than the turn of the event loop progress waits.
 */
function tools(effectsFile: string): string {
  return `
import { appendFileSync } from 'node:fs';
import { defineSkill, defineTool, z } from 'mithai';
const effect = (line) => appendFileSync(${JSON.stringify(effectsFile)}, line + '\\n');
const read = (name) => defineTool({ description: 'Read ' + name, human: 'auto', readOnly: true,
  input: z.object({ namespace: z.string().optional() }), handle: async () => { effect(name); await new Promise((r) => setTimeout(r, 20)); return name + ' ok'; } });
export default defineSkill({
  tools: {
    get_pods: read('pods'),
    get_events: read('events'),
    get_logs: read('logs'),
    restart: defineTool({ description: 'Restart a service', human: 'approve',
      input: z.object({ service: z.string() }), handle: async ({ service }) => { effect('restart ' + service); return 'restarted ' + service; } }),
  },
});
`;
}

const THREE_TOOLS = [
  reply(toolUse('ops__get_pods', { namespace: 'payments-private-ns' })),
  reply(toolUse('ops__get_events', {})),
  reply(toolUse('ops__get_logs', {})),
  reply('All three look fine.'),
];

function start(t: Parameters<typeof startSlackHarness>[0], progress: string, options: SlackHarnessOptions = {}): Promise<SlackHarness> {
  // A short interval and no delay keep the test quick; the throttle and the delay themselves are
  // pinned in progress-display.test.ts.
  return startSlackHarness(t, { tools, script: THREE_TOOLS, ...options, slack: [`progress: ${progress}`, ...(options.slack ?? [])], service: { progressIntervalMs: 30, workingSignalDelayMs: 0, ...options.service } });
}

const isProgress = (m: SlackMessage): boolean => (m.metadata as { event_type?: string } | undefined)?.event_type === PROGRESS_EVENT_TYPE;

function progressMessages(h: SlackHarness, threadTs: string): SlackMessage[] {
  return botReplies(h.slack, CHANNEL, threadTs).filter(isProgress);
}

test('a turn with three tool calls shows one status message, edited in place to name each tool, and no message per tool call', async (t) => {
  const h = await start(t, 'auto');
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'check payments' });
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).includes('All three look fine.'), 10_000);
  const final = await waitFor('the summary', () => progressMessages(h, sent.ts).find((m) => m.text.startsWith('Used')), 5_000);
  assert.equal(final.text, 'Used `ops__get_pods`, `ops__get_events`, `ops__get_logs`.');
  assert.deepEqual(h.effects(), ['pods', 'events', 'logs']);

  // In the thread: the status message, then the reply. Nothing else.
  const thread = botReplies(h.slack, CHANNEL, sent.ts);
  assert.deepEqual(thread.map((m) => (isProgress(m) ? 'progress' : m.text)), ['progress', 'All three look fine.']);
  // The thread is not an assistant thread: auto tried the status once, then used the message.
  assert.deepEqual(h.slack.callsTo('assistant.threads.setStatus').map((c) => c.response.error), ['invalid_thread_ts']);

  const posts = h.slack.callsTo('chat.postMessage').filter((c) => (c.args.metadata as { event_type?: string } | undefined)?.event_type === PROGRESS_EVENT_TYPE);
  assert.equal(posts.length, 1, 'one status message for the turn');
  // Posted with the state at the time of writing (the first tool may be done by then).
  assert.match(String(posts[0]!.args.text), /^:hourglass_flowing_sand: .*`ops__get_pods`/);
  const updates = h.slack.callsTo('chat.update');
  assert.ok(updates.length >= 1 && updates.length <= 6, `edited in place, at most once per change (${updates.length} updates)`);
  assert.ok(updates.every((c) => c.args.ts === final.ts), 'every edit is of that one message');
  assert.ok(final.edited !== undefined);
  const everything = JSON.stringify([...posts, ...updates].map((c) => c.args));
  assert.doesNotMatch(everything, /payments-private-ns|pods ok/, 'no input and no result is shown');
  assert.deepEqual(h.slack.validationErrors, []);
});

test('in an assistant thread the turn sets Slack’s thread status for each tool and clears it; no status message', async (t) => {
  const h = await start(t, 'auto');
  const parent = await h.slack.postAsUser({ user: ALICE, channel: CHANNEL, text: 'payments look slow' });
  h.slack.markAssistantThread(CHANNEL, parent.ts);
  await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'check payments', threadTs: parent.ts });
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, parent.ts).includes('All three look fine.'), 10_000);
  await waitFor('the status cleared', () => h.slack.callsTo('assistant.threads.setStatus').at(-1)?.args.status === '', 5_000);

  const statuses = h.slack.callsTo('assistant.threads.setStatus').map((c) => [c.args.channel_id, c.args.thread_ts, c.args.status, c.response.ok]);
  assert.deepEqual(statuses[0], [CHANNEL, parent.ts, 'is running ops__get_pods…', true]);
  assert.ok(statuses.every(([, , , ok]) => ok === true));
  assert.ok(statuses.length <= 7, 'at most one call per change');
  assert.equal(h.slack.threadStatus(CHANNEL, parent.ts), undefined, 'nothing left under the thread');
  assert.deepEqual(progressMessages(h, parent.ts), [], 'no status message where the status works');
  assert.doesNotMatch(JSON.stringify(statuses), /payments-private-ns/);
});

test('a turn that waits for an approval shows, after the delay, 👀 and one status message that it waits, kept across the wait', async (t) => {
  const h = await start(t, 'message', {
    human: ['approvers: [UBOB000001]'],
    script: [reply(toolUse('ops__get_pods', {})), reply(toolUse('ops__restart', { service: 'api' })), reply('Restarted.')],
    // The real delay: the turn waits for a person, so it passes it whatever the machine's speed.
    service: { workingSignalDelayMs: WORKING_SIGNAL_DELAY_MS },
  });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart api if needed' });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts, 1, 10_000);
  await waitFor('the waiting status', () => progressMessages(h, sent.ts)[0]?.text.includes('waiting for approval…'), 5_000);
  assert.equal(progressMessages(h, sent.ts)[0]!.text, ':hourglass_flowing_sand: waiting for approval… (done: `ops__get_pods`)');
  assert.equal(progressMessages(h, sent.ts).length, 1, 'one status message');
  await waitFor('the 👀 reaction', () => h.slack.reactions(CHANNEL, sent.ts).some((r) => r.name === 'eyes'), 5_000);

  await h.slack.clickButton({ user: BOB, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).includes('Restarted.'), 10_000);
  await waitFor('the summary', () => progressMessages(h, sent.ts)[0]?.text.startsWith('Used'), 5_000);
  assert.deepEqual(progressMessages(h, sent.ts).map((m) => m.text), ['Used `ops__get_pods`, `ops__restart`.']);
  assert.deepEqual(h.effects(), ['pods', 'restart api']);
  await waitFor('the ✅ reaction', () => h.slack.reactions(CHANNEL, sent.ts).some((r) => r.name === 'white_check_mark'));
  assert.deepEqual(h.slack.reactions(CHANNEL, sent.ts).map((r) => r.name), ['white_check_mark'], '👀 swapped for ✅');
});

test('a turn with no tool call shows no progress', async (t) => {
  const h = await start(t, 'auto', { script: [reply('Nothing to check.')] });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'hello' });
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).length === 1, 10_000);
  await waitFor('the ✅ reaction', () => h.slack.reactions(CHANNEL, sent.ts).some((r) => r.name === 'white_check_mark'));
  assert.deepEqual(botReplies(h.slack, CHANNEL, sent.ts).map((m) => m.text), ['Nothing to check.']);
  assert.deepEqual(h.slack.callsTo('assistant.threads.setStatus'), []);
  assert.deepEqual(h.slack.callsTo('chat.update'), []);
});

test('a failing status API never breaks the turn: every setStatus fails, the turn answers', async (t) => {
  const h = await start(t, 'auto');
  const parent = await h.slack.postAsUser({ user: ALICE, channel: CHANNEL, text: 'status in an assistant thread' });
  h.slack.markAssistantThread(CHANNEL, parent.ts);
  h.slack.fail('assistant.threads.setStatus', { status: 503 }, { times: 100 });
  await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'check payments', threadTs: parent.ts });
  await waitFor('the reply despite the status API', () => textReplies(h.slack, CHANNEL, parent.ts).includes('All three look fine.'), 10_000);
  assert.deepEqual(h.effects(), ['pods', 'events', 'logs']);
  assert.ok(h.slack.callsTo('assistant.threads.setStatus').length <= 3, 'given up after a few failures in a row');
  assert.match(h.logs(), /slack\.progress_failed/);
  assert.deepEqual(progressMessages(h, parent.ts), [], 'a 503 is not a refusal: no fallback message');
});

test('a failing status message never breaks the turn: its post fails, it is not posted again, the turn answers', async (t) => {
  const h = await start(t, 'message');
  // The first chat.postMessage of the turn is the status message (the reply comes after three more model calls).
  h.slack.fail('chat.postMessage', { error: 'internal_error' });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'check payments' });
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).includes('All three look fine.'), 10_000);
  assert.equal(h.slack.callsTo('chat.postMessage')[0]!.fault, 'error:internal_error', 'the status post was the one that failed');
  assert.deepEqual(botReplies(h.slack, CHANNEL, sent.ts).map((m) => m.text), ['All three look fine.'], 'no status message, and no second try at one');
  assert.deepEqual(h.slack.callsTo('chat.update'), [], 'nothing to update');
  assert.deepEqual(h.effects(), ['pods', 'events', 'logs']);
});

test('progress: off shows nothing', async (t) => {
  const h = await start(t, 'off');
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'check payments' });
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).includes('All three look fine.'), 10_000);
  assert.deepEqual(botReplies(h.slack, CHANNEL, sent.ts).map((m) => m.text), ['All three look fine.']);
  assert.deepEqual(h.slack.callsTo('assistant.threads.setStatus'), []);
});
