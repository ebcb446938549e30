/**
 * A message that arrives while `mithai run` shuts down is either recorded before it is acknowledged
 * (and runs at the next start) or left unacknowledged for Slack to deliver again: never acked and
 * lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { App, SocketModeReceiver } from '@slack/bolt';
import { recordBeforeAck } from '../../../src/adapters/slack/inbound-listeners.ts';
import { TurnDispatcher } from '../../../src/adapters/slack/turn-dispatcher.ts';
import type { Organisation } from '../../../src/adapters/slack/organisation.ts';
import type { SlackAdapter } from '../../../src/adapters/slack/slack-adapter.ts';
import type { SlackPoster } from '../../../src/adapters/slack/slack-poster.ts';
import type { TaskTracker } from '../../../src/adapters/slack/task-tracker.ts';
import { systemClock } from '../../../src/clock.ts';
import { startEngine } from '../../engine/engine-harness.ts';

test('a message arriving during shutdown is either recorded or left unacknowledged', async (t) => {
  const h = await startEngine(t, []);
  const ephemerals: string[] = [];
  const poster = { ephemeral: async (_c: string, _u: string, text: string) => void ephemerals.push(text), react: () => {}, unreact: () => {} } as unknown as SlackPoster;
  const tracker = { run: (_name: string, work: () => Promise<unknown>) => void work().catch(() => {}) } as unknown as TaskTracker;
  const dispatcher = new TurnDispatcher({
    settings: { botUserId: 'UBOT', botId: 'BBOT', respond: 'mentions', allowedUsers: [], allowedChannels: [], turnsPerMinute: 10 },
    engine: h.runtime.engine,
    adapter: {} as SlackAdapter,
    poster,
    tracker,
    organisation: { user: async () => ({ isOutside: false, reason: 'test' }), channel: async () => ({ isOutside: false, reason: 'test' }) } as unknown as Organisation,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    redact: (s) => s,
  });
  let front: App | undefined;
  const receiver = { init: (app: App) => (front = app) } as unknown as SocketModeReceiver;
  let acked = 0;
  const app = { processEvent: async (event: { ack: () => Promise<void> }) => { await event.ack(); } } as unknown as App;
  recordBeforeAck(receiver, app, dispatcher, 'T1', pino({ level: 'silent' }));

  dispatcher.stopAccepting(); // slack-service stop(), step 1
  await front!.processEvent({
    body: { type: 'event_callback', team_id: 'T1', event_id: 'Ev1', event: { type: 'app_mention', user: 'U1', channel: 'C1', ts: '1700000000.000100', text: '<@UBOT> restart web please' } },
    ack: async () => void (acked += 1),
  } as unknown as Parameters<App['processEvent']>[0]);

  const recorded = h.runtime.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM turns').get()!.n;
  assert.ok(acked === 0 || recorded === 1, `acked ${acked} time(s) but recorded ${recorded} turn(s): the message is lost (told: ${ephemerals.join(' | ')})`);
});
