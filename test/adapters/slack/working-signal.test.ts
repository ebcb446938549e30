/**
 * The 👀 reaction of the turn dispatcher on its own, with a manual clock, a stub engine and a
 * poster that records reaction calls (one test uses the real SlackPoster over a fake Web API
 * client, for the order Slack sees). Full turns through Bolt are in test/e2e/slack-working-signals.test.ts.
 *
 * The rules: 👀 only once a turn accepted here is still unfinished {@link WORKING_SIGNAL_DELAY_MS}
 * after it was accepted; its end cancels a 👀 not yet due, removes 👀 only when it was sent (or,
 * for a turn this process did not accept, may have been), then adds ✅ or ❌; a message deferred
 * during shutdown gets 👀 at once; after stop no 👀 is sent; what is remembered is bounded.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { webApi } from '@slack/bolt';
import { TurnDispatcher, WORKING_SIGNAL_DELAY_MS } from '../../../src/adapters/slack/turn-dispatcher.ts';
import type { TurnDispatcherOptions } from '../../../src/adapters/slack/turn-dispatcher.ts';
import { SlackPoster } from '../../../src/adapters/slack/slack-poster.ts';
import type { InboundMessage } from '../../../src/adapters/slack/inbound-filters.ts';
import type { Turn } from '../../../src/engine/types.ts';
import { FakeClock } from '../../fixtures/fake-clock.ts';

type ReactionCall = [method: 'add' | 'remove', name: string, ts: string];

/** A dispatcher over stubs: every message is accepted as a new turn whose run resolves at once. */
function setup(poster?: Partial<Record<'react' | 'unreact' | 'ephemeral', unknown>>) {
  const clock = new FakeClock();
  const reactions: ReactionCall[] = [];
  const notices: string[] = [];
  const runs: string[] = [];
  let turns = 0;
  const options = {
    settings: { botUserId: 'UBOT', botId: 'BBOT', respond: 'mentions', allowedUsers: ['*'], allowedChannels: ['*'], turnsPerMinute: 100_000 },
    engine: {
      record: () => ({ turnId: `turn_${++turns}`, durable: Promise.resolve() }),
      run: async (id: string) => void runs.push(id),
      claimReceipts: () => true,
      whenDurable: async () => {},
      hasHistory: () => false,
    },
    adapter: {},
    poster: {
      react: (_channel: string, ts: string, name: string) => void reactions.push(['add', name, ts]),
      unreact: (_channel: string, ts: string, name: string) => void reactions.push(['remove', name, ts]),
      ephemeral: async (_channel: string, _user: string, text: string) => void notices.push(text),
      ...poster,
    },
    tracker: { run: (_name: string, work: () => Promise<unknown>) => void work().catch(() => undefined) },
    organisation: { user: async () => ({ isOutside: false, reason: 'test' }), channel: async () => ({ isOutside: false, reason: 'test' }) },
    clock,
    logger: pino({ level: 'silent' }),
    redact: (s: string) => s,
  } as unknown as TurnDispatcherOptions;
  return { clock, reactions, notices, runs, dispatcher: new TurnDispatcher(options) };
}

const ts = (n: number): string => `1700000000.${String(n).padStart(6, '0')}`;

const message = (n = 1): InboundMessage => ({ kind: 'app_mention', team: 'T1', channel: 'C1', user: 'U1', text: '<@UBOT> restart web', ts: ts(n), eventId: `Ev${n}` });

/** The turn the engine hands back to `turnFinished` for message `n`. */
const turnOf = (n = 1): Turn => ({
  conversation: { platform: 'slack', team: 'T1', channel: 'C1', thread: ts(n) },
  user: 'U1',
  text: 'restart web',
  canAskHuman: true,
  origin: ts(n),
});

test('a turn that finishes before the delay gets ✅ alone: no 👀 added, none removed, nothing left armed', async () => {
  const { clock, reactions, runs, dispatcher } = setup();
  await dispatcher.accept(message());
  assert.deepEqual(runs, ['turn_1'], 'the turn was started');
  assert.equal(clock.pendingTimers, 1, 'the 👀 is armed');
  clock.advance(WORKING_SIGNAL_DELAY_MS - 1);
  dispatcher.turnFinished(turnOf(), 'answered');
  assert.equal(clock.pendingTimers, 0, 'the 👀 was cancelled');
  clock.advance(10_000);
  assert.deepEqual(reactions, [['add', 'white_check_mark', ts(1)]]);
});

test('a turn still working at the delay gets 👀; at its end 👀 is removed, then ❌ or ✅ added', async () => {
  const { clock, reactions, dispatcher } = setup();
  await dispatcher.accept(message(1));
  await dispatcher.accept(message(2));
  clock.advance(WORKING_SIGNAL_DELAY_MS - 1);
  assert.deepEqual(reactions, [], 'not before the delay');
  clock.advance(1);
  assert.deepEqual(reactions, [['add', 'eyes', ts(1)], ['add', 'eyes', ts(2)]]);
  dispatcher.turnFinished(turnOf(1), 'failed');
  dispatcher.turnFinished(turnOf(2), 'answered');
  assert.deepEqual(reactions.slice(2), [['remove', 'eyes', ts(1)], ['add', 'x', ts(1)], ['remove', 'eyes', ts(2)], ['add', 'white_check_mark', ts(2)]]);
  assert.equal(clock.pendingTimers, 0);
});

test('a turn ending just as its 👀 is sent leaves no 👀 behind: Slack sees the add, then the remove, then ✅', async () => {
  const seen: string[] = [];
  let releaseAdd: () => void = () => undefined;
  const retrying = {
    reactions: {
      add: async ({ name }: { name: string }) => {
        seen.push(`add ${name} started`);
        // The 👀 add is slow (Slack is busy): whatever comes next on the message must wait for it.
        if (name === 'eyes') await new Promise<void>((resolve) => (releaseAdd = resolve));
        seen.push(`add ${name} done`);
        return { ok: true };
      },
      remove: async ({ name }: { name: string }) => {
        seen.push(`remove ${name}`);
        return { ok: true };
      },
    },
  } as unknown as webApi.WebClient;
  const real = new SlackPoster({ send: {} as webApi.WebClient, retrying }, { redact: (s) => s, redactDeep: (v) => v }, pino({ level: 'silent' }));
  const { clock, dispatcher } = setup({ react: real.react.bind(real), unreact: real.unreact.bind(real) });
  await dispatcher.accept(message());
  clock.advance(WORKING_SIGNAL_DELAY_MS);
  dispatcher.turnFinished(turnOf(), 'answered');
  for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
  assert.deepEqual(seen, ['add eyes started'], 'the removal waits for the add');
  releaseAdd();
  await real.settle(1_000);
  assert.deepEqual(seen, ['add eyes started', 'add eyes done', 'remove eyes', 'add white_check_mark started', 'add white_check_mark done']);
});

test('a turn this process did not accept (resumed after a restart) has its 👀 removed blindly, then ✅', () => {
  const { reactions, dispatcher } = setup();
  dispatcher.turnFinished(turnOf(7), 'answered');
  assert.deepEqual(reactions, [['remove', 'eyes', ts(7)], ['add', 'white_check_mark', ts(7)]]);
});

test('a message deferred during shutdown gets 👀 at once (it is answered only after the restart)', async () => {
  const { clock, reactions, notices, runs, dispatcher } = setup();
  dispatcher.stopAccepting();
  await dispatcher.accept(message());
  assert.deepEqual(reactions, [['add', 'eyes', ts(1)]]);
  assert.deepEqual(runs, [], 'not started');
  assert.equal(clock.pendingTimers, 0, 'nothing armed for it');
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
  assert.match(notices.join(''), /restarting/);
});

test('stop cancels every 👀 not yet due: nothing is reacted after it', async () => {
  const { clock, reactions, dispatcher } = setup();
  await dispatcher.accept(message(1));
  clock.advance(WORKING_SIGNAL_DELAY_MS);
  await dispatcher.accept(message(2));
  await dispatcher.accept(message(3));
  assert.equal(clock.pendingTimers, 2);
  dispatcher.stopAccepting();
  dispatcher.stop();
  assert.equal(clock.pendingTimers, 0);
  clock.advance(10_000);
  assert.deepEqual(reactions, [['add', 'eyes', ts(1)]], 'only the 👀 sent before the stop');
});

test('what is remembered is bounded: the oldest turns are forgotten (their end then removes 👀 blindly)', async () => {
  const { clock, reactions, dispatcher } = setup();
  for (let n = 1; n <= 2_000; n++) await dispatcher.accept(message(n));
  assert.ok(clock.pendingTimers < 2_000, `${clock.pendingTimers} timers armed for 2000 turns`);
  assert.ok(clock.pendingTimers >= 100, 'recent turns are still followed');
  dispatcher.turnFinished(turnOf(1), 'answered');
  dispatcher.turnFinished(turnOf(2_000), 'answered');
  assert.deepEqual(reactions, [['remove', 'eyes', ts(1)], ['add', 'white_check_mark', ts(1)], ['add', 'white_check_mark', ts(2_000)]]);
  const armed = clock.pendingTimers;
  clock.advance(WORKING_SIGNAL_DELAY_MS);
  const eyes = reactions.filter(([method, name]) => method === 'add' && name === 'eyes').map(([, , at]) => at);
  assert.equal(eyes.length, armed, 'a 👀 for each turn still followed, none for a forgotten one');
  assert.ok(!eyes.includes(ts(1)) && !eyes.includes(ts(2_000)), 'none for a finished turn');
});
