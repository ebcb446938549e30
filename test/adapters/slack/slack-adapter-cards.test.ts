/**
 * Approval cards can always be found again and never lie. The real SlackAdapter, SlackPoster
 * and @slack/web-api clients against the local fake Slack, with a real ApprovalStore:
 * - every card carries `mithai_approval` metadata, and a card whose post answer was lost (or
 *   whose ts was never stored) is found in its thread instead of being posted twice;
 * - chat.update is tried again after Slack's bad moments (platform errors, 5xx, resets, rate
 *   limits with their Retry-After) but not after a refusal;
 * - the state actually drawn is stored, a card left behind is redrawn by reconcileCards, and a
 *   card never keeps live buttons once its approval is not pending.
 * Retry waits go through an injected sleep that records them, so no test sleeps for real.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import pino from 'pino';
import { LogLevel, WebClient } from '@slack/web-api';
import { FakeSlack } from '../../fakes/slack/fake-slack.ts';
import type { SlackMessage } from '../../fakes/slack/fake-slack.ts';
import { SlackAdapter } from '../../../src/adapters/slack/slack-adapter.ts';
import type { SlackAdapterOptions } from '../../../src/adapters/slack/slack-adapter.ts';
import { SlackPoster } from '../../../src/adapters/slack/slack-poster.ts';
import { ApprovalStore } from '../../../src/state/approval-store.ts';
import { IN_MEMORY, openDatabase } from '../../../src/state/database.ts';
import { Redactor } from '../../../src/security/redactor.ts';
import type { Approval, ApprovalState } from '../../../src/human/types.ts';
import { approval as approvalFixture } from '../../fixtures/approval.ts';

const C = 'C0OPS00001';
const ALICE = 'UALICE0001';
const BOB = 'UBOB000001';
const META = (id: string) => ({ event_type: 'mithai_approval', event_payload: { approval_id: id } });

interface Setup {
  fake: FakeSlack;
  store: ApprovalStore;
  adapter: SlackAdapter;
  /** Every retry wait the adapter asked for, in ms. */
  waits: number[];
  logs: () => string;
  /** A thread root posted by Alice; approvals live in its thread. */
  thread: string;
  /** A fresh approval row in the thread (created now, so this adapter posts it without a search). */
  insert(overrides?: Partial<Approval>): Approval;
  /** Another adapter over the same store and Slack (a restarted process). */
  restart(options?: Partial<SlackAdapterOptions>): SlackAdapter;
}

async function setup(t: TestContext, options: Partial<SlackAdapterOptions> = {}): Promise<Setup> {
  const fake = await FakeSlack.start({ users: [{ id: ALICE, name: 'alice' }, { id: BOB, name: 'bob' }] });
  t.after(() => fake.stop());
  const db = openDatabase(IN_MEMORY);
  t.after(() => db.close());
  const store = new ApprovalStore(db);
  let logText = '';
  const logger = pino({ level: 'debug' }, new Writable({ write: (chunk, _enc, done) => ((logText += String(chunk)), done()) }));
  const redactor = new Redactor(['hunter2-very-secret']);
  const client = (): WebClient => new WebClient(fake.config.botToken, {
    slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: 2_000, logLevel: LogLevel.ERROR,
  });
  const poster = new SlackPoster({ send: client(), retrying: client() }, redactor, logger);
  const waits: number[] = [];
  const make = (more: Partial<SlackAdapterOptions> = {}): SlackAdapter => new SlackAdapter({
    poster, approvals: store, redact: (text) => redactor.redact(text), logger, botId: fake.config.botId,
    updateRetryMs: [5, 5, 5], sleep: async (ms) => void waits.push(ms), ...options, ...more,
  });
  const adapter = make();
  const root = await fake.postAsUser({ user: ALICE, channel: C, text: 'restart api please' });
  let n = 0;
  return {
    fake, store, adapter, waits, logs: () => logText, thread: root.ts,
    insert(overrides = {}) {
      n += 1;
      const row = approvalFixture({
        id: `apr_${String(n).padStart(12, '0')}`, callId: `toolu_${n}`, channel: C, thread: root.ts,
        sessionKey: `slack:T0FAKE0001:${C}:${root.ts}`, requester: ALICE, createdAt: new Date().toISOString(),
        deadline: new Date(Date.now() + 300_000).toISOString(), ...overrides,
      });
      store.insert(row);
      return row;
    },
    restart: make,
  };
}

/** The approval cards in the thread (bot messages with a mithai_tool block). */
function cardsIn(fake: FakeSlack, thread: string): SlackMessage[] {
  return fake.thread(C, thread).filter((m) => m.bot_id === fake.config.botId && (m.blocks ?? []).some((b) => b.block_id === 'mithai_tool'));
}

function buttonsOf(message: SlackMessage | undefined): string[] {
  return (message?.blocks ?? []).flatMap((b) => (Array.isArray(b.elements) ? (b.elements as Array<{ action_id?: string }>).map((e) => e.action_id ?? '') : []));
}

function textOf(message: SlackMessage | undefined): string {
  return (message?.blocks ?? []).map((b) => (b.text as { text?: string } | undefined)?.text ?? '').join('\n');
}

const decided = (store: ApprovalStore, id: string, to: ApprovalState = 'denied', via = 'slack'): Approval =>
  store.transition(id, ['pending'], to, { decider: BOB, decidedAt: new Date().toISOString(), decidedVia: via, reason: to === 'denied' ? 'not now' : null })!;

const refOf = (store: ApprovalStore, id: string): { channel: string; ts: string } => JSON.parse(store.get(id)!.displayRef ?? 'null') as { channel: string; ts: string };

test('a card is posted in the thread with mithai_approval metadata naming its approval, and where it is and what it shows are stored', async (t) => {
  const s = await setup(t);
  const a = s.insert();
  await s.adapter.requestApproval(a);
  const [card] = cardsIn(s.fake, s.thread);
  assert.ok(card);
  assert.deepEqual(card.metadata, META(a.id));
  assert.deepEqual(buttonsOf(card), ['mithai_approve', 'mithai_deny']);
  assert.deepEqual(refOf(s.store, a.id), { channel: C, ts: card.ts });
  assert.equal(s.store.get(a.id)?.displayedState, 'pending');
  assert.equal(s.fake.callsTo('conversations.replies').length, 0, 'a new approval is posted without searching first');

  decided(s.store, a.id, 'approved', 'slack');
  await s.adapter.showDecision(a);
  assert.deepEqual(s.fake.messageAt(C, card.ts)?.metadata, META(a.id), 'the update keeps the metadata');
  assert.deepEqual(s.fake.callsTo('chat.update').at(-1)?.args.metadata, META(a.id));
  assert.equal(s.store.get(a.id)?.displayedState, 'approved');
});

for (const lost of [{ status: 500 }, { reset: true as const }, { error: 'internal_error' }]) {
  test(`a card post whose answer was lost (${JSON.stringify(lost)} after Slack stored it) is found in the thread: ref stored, no second card`, async (t) => {
    const s = await setup(t);
    const a = s.insert();
    s.fake.fail('chat.postMessage', { ...lost, carriedOut: true });
    await s.adapter.requestApproval(a);
    const cards = cardsIn(s.fake, s.thread);
    assert.equal(cards.length, 1, 'one card in the thread');
    assert.equal(s.fake.callsTo('chat.postMessage').length, 1, 'posted once');
    assert.deepEqual(refOf(s.store, a.id), { channel: C, ts: cards[0]!.ts });
    assert.equal(s.store.get(a.id)?.displayedState, 'pending');
    assert.deepEqual(s.fake.callsTo('conversations.replies').at(-1)?.args.include_all_metadata, 'true');

    decided(s.store, a.id);
    await s.adapter.showDecision(a);
    assert.deepEqual(buttonsOf(s.fake.messageAt(C, cards[0]!.ts)), [], 'the found card is the one that gets updated');
    assert.match(s.logs(), /"reason":"the answer to the card post was lost".*"msg":"slack\.card_found"/);
  });
}

test('a post that failed before Slack stored anything is not found, so requestApproval throws (and nothing is posted twice)', async (t) => {
  const s = await setup(t);
  const a = s.insert();
  s.fake.fail('chat.postMessage', { status: 503 });
  await assert.rejects(s.adapter.requestApproval(a), (e: { statusCode?: number }) => e.statusCode === 503);
  assert.equal(cardsIn(s.fake, s.thread).length, 0);
  assert.equal(s.fake.callsTo('chat.postMessage').length, 1);
  assert.equal(s.store.get(a.id)?.displayRef, null);
});

test('a post Slack refused outright is not searched for, and once the approval is settled reconcile takes it off the list', async (t) => {
  const s = await setup(t);
  const a = s.insert();
  s.fake.fail('chat.postMessage', { error: 'invalid_blocks' });
  await assert.rejects(s.adapter.requestApproval(a), (e: { data?: { error?: string } }) => e.data?.error === 'invalid_blocks');
  assert.equal(s.fake.callsTo('conversations.replies').length, 0, 'a refusal proves there is no card');
  s.store.transition(a.id, ['pending'], 'cancelled', { reason: 'the approval request could not be shown' });
  assert.equal(await s.adapter.reconcileCards(), 0);
  assert.equal(s.fake.callsTo('conversations.replies').length, 0);
  assert.equal(s.store.get(a.id)?.displayedState, 'cancelled');
  assert.deepEqual(s.store.listUndisplayed().map((x) => x.id), []);
});

test('a card whose ts was never stored (crash after the post) is found by showDecision and updated, and never posted again', async (t) => {
  const s = await setup(t);
  const a = s.insert({ createdAt: new Date(Date.now() - 60_000).toISOString() });
  await s.adapter.requestApproval(a);
  const [card] = cardsIn(s.fake, s.thread);
  // The crash: the row never learned where the card is.
  s.store.setDisplayRef(a.id, 'null');
  const restarted = s.restart();

  await restarted.requestApproval(s.store.get(a.id)!);
  assert.equal(cardsIn(s.fake, s.thread).length, 1, 'the resumed approval reuses the card in the thread');
  assert.equal(s.fake.callsTo('chat.postMessage').length, 1);
  assert.deepEqual(refOf(s.store, a.id), { channel: C, ts: card!.ts });

  s.store.setDisplayRef(a.id, 'null');
  const again = s.restart();
  decided(s.store, a.id, 'denied');
  await again.showDecision(s.store.get(a.id)!);
  assert.deepEqual(refOf(s.store, a.id), { channel: C, ts: card!.ts });
  assert.deepEqual(buttonsOf(s.fake.messageAt(C, card!.ts)), []);
  assert.match(textOf(s.fake.messageAt(C, card!.ts)), /Denied by <@UBOB000001>/);
  assert.equal(s.store.get(a.id)?.displayedState, 'denied');
  assert.equal(s.fake.callsTo('chat.postMessage').length, 1);
});

test('requestApproval for an approval that already has a card redraws that card instead of posting another', async (t) => {
  const s = await setup(t);
  const a = s.insert();
  await s.adapter.requestApproval(a);
  await s.adapter.requestApproval(a);
  await s.restart().requestApproval(s.store.get(a.id)!);
  assert.equal(cardsIn(s.fake, s.thread).length, 1);
  assert.equal(s.fake.callsTo('chat.postMessage').length, 1);
});

test('a message of another app carrying the same metadata is not taken for our card', async (t) => {
  const s = await setup(t);
  const a = s.insert();
  s.fake.fail('chat.postMessage', { status: 500, carriedOut: true });
  // The stored message is the fake bot's; an adapter whose bot is someone else must not claim it.
  await assert.rejects(s.restart({ botId: 'BSOMEONEEL' }).requestApproval(a), (e: { statusCode?: number }) => e.statusCode === 500);
  assert.equal(s.store.get(a.id)?.displayRef, null);
});

for (const [name, fault] of [
  ['internal_error', { error: 'internal_error' }],
  ['service_unavailable', { error: 'service_unavailable' }],
  ['request_timeout', { error: 'request_timeout' }],
  ['HTTP 503', { status: 503 }],
  ['a reset connection', { reset: true as const }],
] as const) {
  test(`a card update that fails with ${name} is tried again and the card ends in its final state`, async (t) => {
    const s = await setup(t);
    const a = s.insert();
    await s.adapter.requestApproval(a);
    s.fake.fail('chat.update', fault, { times: 2 });
    decided(s.store, a.id, 'denied');
    await s.adapter.showDecision(a);
    const card = cardsIn(s.fake, s.thread)[0];
    assert.deepEqual(buttonsOf(card), []);
    assert.match(textOf(card), /Denied by <@UBOB000001>/);
    assert.equal(s.fake.callsTo('chat.update').length, 3);
    assert.deepEqual(s.waits, [5, 5]);
    assert.equal(s.store.get(a.id)?.displayedState, 'denied');
  });
}

test('a rate-limited card update waits out the Retry-After, not just the short configured delay', async (t) => {
  const s = await setup(t);
  const a = s.insert();
  await s.adapter.requestApproval(a);
  s.fake.rateLimit('chat.update', { times: 1, retryAfterSeconds: 7 });
  decided(s.store, a.id, 'denied');
  await s.adapter.showDecision(a);
  assert.deepEqual(s.waits, [7_000], 'the 7 s Retry-After was honoured over the 5 ms delay');
  assert.deepEqual(s.fake.callsTo('chat.update').map((c) => c.status), [429, 200]);
  assert.deepEqual(buttonsOf(cardsIn(s.fake, s.thread)[0]), []);
});

test('a Retry-After beyond the cap is not waited in place: the card is left behind and reconcile holds off until it has passed', async (t) => {
  let now = 1_000_000;
  const s = await setup(t, { now: () => now, retryAfterCapMs: 10_000 });
  const a = s.insert();
  await s.adapter.requestApproval(a);
  s.fake.rateLimit('chat.update', { times: 1, retryAfterSeconds: 60 });
  decided(s.store, a.id, 'denied');
  await s.adapter.showDecision(a);
  assert.deepEqual(s.waits, []);
  assert.equal(s.store.get(a.id)?.displayedState, 'pending', 'the row knows the card is behind');
  assert.equal(await s.adapter.reconcileCards(), 0, 'still inside the Retry-After');
  assert.equal(s.fake.callsTo('chat.update').length, 1);
  now += 60_000;
  assert.equal(await s.adapter.reconcileCards(), 1);
  assert.deepEqual(buttonsOf(cardsIn(s.fake, s.thread)[0]), []);
});

test('a card update that keeps failing leaves displayed_state behind; reconcileCards later redraws it and the buttons are gone', async (t) => {
  const s = await setup(t);
  const a = s.insert();
  await s.adapter.requestApproval(a);
  s.fake.fail('chat.update', { error: 'service_unavailable' }, { times: 4 });
  s.store.transition(a.id, ['pending'], 'cancelled', { reason: 'shutdown' });
  await s.adapter.showDecision(a);
  const card = cardsIn(s.fake, s.thread)[0];
  assert.deepEqual(buttonsOf(card), ['mithai_approve', 'mithai_deny'], 'Slack never took the update');
  assert.equal(s.fake.callsTo('chat.update').length, 4, 'first try and three retries');
  assert.equal(s.store.get(a.id)?.displayedState, 'pending');
  assert.deepEqual(s.store.listUndisplayed().map((x) => x.id), [a.id]);

  assert.equal(await s.adapter.reconcileCards(), 1);
  const fixed = s.fake.messageAt(C, card!.ts);
  assert.deepEqual(buttonsOf(fixed), []);
  assert.match(textOf(fixed), /Cancelled \(shutdown\), not run/);
  assert.equal(s.store.get(a.id)?.displayedState, 'cancelled');
  assert.equal(await s.adapter.reconcileCards(), 0, 'nothing left to fix');
});

test('reconcileCards after a restart finds a settled card that was never stored and redraws it; other adapters and finished cards are left alone', async (t) => {
  const s = await setup(t);
  const a = s.insert({ createdAt: new Date(Date.now() - 60_000).toISOString() });
  await s.adapter.requestApproval(a);
  s.store.setDisplayRef(a.id, 'null');
  decided(s.store, a.id, 'denied');
  const terminal = s.insert({ sessionKey: 'terminal:local:chat:1', channel: 'chat', thread: '1' });
  decided(s.store, terminal.id, 'approved', 'terminal');
  const done = s.insert();
  await s.adapter.requestApproval(done);
  decided(s.store, done.id, 'denied');
  await s.adapter.showDecision(done);
  const updatesBefore = s.fake.callsTo('chat.update').length;

  assert.equal(await s.restart().reconcileCards(), 1);
  const card = cardsIn(s.fake, s.thread).find((m) => (m.metadata as { event_payload?: { approval_id?: string } }).event_payload?.approval_id === a.id);
  assert.deepEqual(buttonsOf(card), []);
  assert.equal(s.store.get(a.id)?.displayedState, 'denied');
  assert.equal(s.fake.callsTo('chat.update').length, updatesBefore + 1, 'only the one card behind was redrawn');
  assert.equal(s.store.get(terminal.id)?.displayedState, null, "the terminal's approval is not ours to mark");
});

for (const [name, fault] of [
  ['cant_update_message', { error: 'cant_update_message' }],
  ['message_not_found', { error: 'message_not_found' }],
  ['invalid_blocks', { error: 'invalid_blocks' }],
  ['HTTP 400', { status: 400 }],
] as const) {
  test(`a card update Slack refuses (${name}) is not tried again, not even by reconcile until the state moves`, async (t) => {
    const s = await setup(t);
    const a = s.insert();
    await s.adapter.requestApproval(a);
    s.fake.fail('chat.update', fault, { times: 10 });
    s.store.transition(a.id, ['pending'], 'approved', { decider: BOB, decidedAt: new Date().toISOString(), decidedVia: 'slack' });
    await s.adapter.showDecision(a);
    assert.equal(s.fake.callsTo('chat.update').length, 1);
    assert.deepEqual(s.waits, []);
    assert.equal(await s.adapter.reconcileCards(), 0);
    assert.equal(s.fake.callsTo('chat.update').length, 1, 'reconcile does not hammer a refusal');
    s.store.transition(a.id, ['approved'], 'executing');
    await s.adapter.reconcileCards();
    assert.equal(s.fake.callsTo('chat.update').length, 2, 'a new state is worth one more try');
  });
}

test('a decided card never shows buttons, whatever state it is in; a pending one keeps them', async (t) => {
  const s = await setup(t);
  const states: Array<[ApprovalState, ApprovalState[]]> = [
    ['approved', ['approved']], ['executing', ['approved', 'executing']], ['succeeded', ['approved', 'executing', 'succeeded']],
    ['failed', ['approved', 'executing', 'failed']], ['unknown', ['approved', 'executing', 'unknown']], ['denied', ['denied']],
    ['expired', ['expired']], ['cancelled', ['cancelled']],
  ];
  for (const [final, path] of states) {
    const a = s.insert();
    await s.adapter.requestApproval(a);
    let from: ApprovalState = 'pending';
    for (const to of path) {
      s.store.transition(a.id, [from], to, { decider: BOB, decidedAt: new Date().toISOString(), decidedVia: 'slack' });
      from = to;
    }
    await s.adapter.showDecision(a);
    const card = s.fake.messageAt(C, refOf(s.store, a.id).ts);
    assert.deepEqual(buttonsOf(card), [], `${final} has no buttons`);
    assert.doesNotMatch(textOf(card), /Approval needed/, `${final} does not ask for approval`);
    assert.equal(s.store.get(a.id)?.displayedState, final);
  }
  const pending = s.insert();
  await s.adapter.requestApproval(pending);
  await s.adapter.showDecision(pending);
  assert.deepEqual(buttonsOf(s.fake.messageAt(C, refOf(s.store, pending.id).ts)), ['mithai_approve', 'mithai_deny']);
  assert.deepEqual(s.store.listUndisplayed(), []);
});

test('a row that moves on while its card is being updated is drawn again, so the card ends on the latest state', async (t) => {
  const s = await setup(t);
  const a = s.insert();
  await s.adapter.requestApproval(a);
  decided(s.store, a.id, 'approved');
  // The moment Slack takes the first update (drawing "approved"), the call runs and succeeds.
  void s.fake.waitForCall('chat.update', () => {
    s.store.transition(a.id, ['approved'], 'executing');
    s.store.transition(a.id, ['executing'], 'succeeded', { outcome: 'ok', finishedAt: new Date().toISOString() });
    return true;
  });
  await s.adapter.showDecision(a);
  assert.equal(s.fake.callsTo('chat.update').length, 2);
  assert.match(textOf(cardsIn(s.fake, s.thread)[0]), /— succeeded/);
  assert.equal(s.store.get(a.id)?.displayedState, 'succeeded');
});

test('a card decided from the command line says so, and a local: decider is plain text, not a mention', async (t) => {
  const s = await setup(t);
  const a = s.insert();
  await s.adapter.requestApproval(a);
  s.store.transition(a.id, ['pending'], 'approved', { decider: 'local:alice', decidedAt: new Date().toISOString(), decidedVia: 'cli' });
  await s.adapter.showDecision(a);
  const text = textOf(cardsIn(s.fake, s.thread)[0]);
  assert.match(text, /Approved by local:alice \(from the command line\) at /);
  assert.doesNotMatch(text, /<@local|<@alice/);
});

test('notice posts a short plain message in the thread, redacted and unable to ping the channel; a refused notice does not throw', async (t) => {
  const s = await setup(t);
  await s.adapter.notice({ channel: C, thread: s.thread }, 'Resumed after a restart <!channel>: token hunter2-very-secret');
  const last = s.fake.thread(C, s.thread).at(-1);
  assert.equal(last?.bot_id, s.fake.config.botId);
  assert.equal(last?.thread_ts, s.thread);
  assert.doesNotMatch(last?.text ?? '', /<!channel>|hunter2/);
  assert.match(last?.text ?? '', /Resumed after a restart @channel/);
  s.fake.fail('chat.postMessage', { error: 'channel_not_found' });
  await s.adapter.notice({ channel: C, thread: s.thread }, 'lost');
  assert.match(s.logs(), /"msg":"slack\.notice_post_failed"/);
});

test('a top-level card (no thread) whose post answer was lost is found in the channel history', async (t) => {
  const s = await setup(t);
  const a = s.insert({ thread: '' });
  s.fake.fail('chat.postMessage', { reset: true, carriedOut: true });
  await s.adapter.requestApproval(a);
  const top = s.fake.messages(C).filter((m) => m.bot_id === s.fake.config.botId);
  assert.equal(top.length, 1);
  assert.equal(top[0]!.thread_ts, undefined);
  assert.deepEqual(refOf(s.store, a.id), { channel: C, ts: top[0]!.ts });
  assert.equal(s.fake.callsTo('conversations.history').at(-1)?.args.include_all_metadata, 'true');
});

test('a settled approval whose card was never posted is searched for a few times, spaced out, then taken off the list', async (t) => {
  let now = 5_000_000;
  const s = await setup(t, { now: () => now });
  // From an earlier process that died before posting the card; settled at boot.
  const a = s.insert({ createdAt: new Date(Date.now() - 60_000).toISOString() });
  s.store.transition(a.id, ['pending'], 'cancelled', { reason: 'runtime restarted' });
  const searches = (): number => s.fake.callsTo('conversations.replies').length;
  assert.equal(await s.adapter.reconcileCards(), 0);
  assert.equal(searches(), 1);
  assert.equal(await s.adapter.reconcileCards(), 0);
  assert.equal(searches(), 1, 'not searched again right away');
  for (let i = 0; i < 2; i += 1) {
    now += 10_000;
    await s.adapter.reconcileCards();
  }
  assert.equal(searches(), 3);
  assert.equal(s.store.get(a.id)?.displayedState, 'cancelled', 'no card to fix: off the list');
  now += 60_000;
  await s.adapter.reconcileCards();
  assert.equal(searches(), 3);
  assert.equal(s.fake.callsTo('chat.postMessage').length, 0, 'reconcile never posts a card');
});
