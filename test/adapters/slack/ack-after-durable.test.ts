/**
 * A Slack message is acknowledged only once its turn is on disk, but the turn does not wait for
 * the disk to start: the state database's WAL is fsync'd on the thread pool while the model is
 * already asked. Here that fsync is held back: the model call goes out, the event stays
 * unacknowledged until the fsync completes, and an fsync that fails leaves it unacknowledged
 * (Slack delivers it again, and the redelivery is a duplicate of the turn already running).
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs, { readlinkSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import pino from 'pino';
import type { App, SocketModeReceiver } from '@slack/bolt';
import { recordBeforeAck } from '../../../src/adapters/slack/inbound-listeners.ts';
import { TurnDispatcher } from '../../../src/adapters/slack/turn-dispatcher.ts';
import type { Organisation } from '../../../src/adapters/slack/organisation.ts';
import type { SlackAdapter } from '../../../src/adapters/slack/slack-adapter.ts';
import type { SlackPoster } from '../../../src/adapters/slack/slack-poster.ts';
import type { TaskTracker } from '../../../src/adapters/slack/task-tracker.ts';
import { systemClock } from '../../../src/clock.ts';
import { reply } from '../../fakes/anthropic/script.ts';
import { waitFor } from '../../fixtures/wait-for.ts';
import { startEngine } from '../../engine/engine-harness.ts';

type Fsync = (fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => void;

/** Holds every async fsync of the state database's WAL until `release(error?)`. */
function holdWalFsyncs(t: TestContext): { held: () => number; release: (error?: NodeJS.ErrnoException) => void } {
  const original = fs.fsync as unknown as Fsync;
  const waiting: Array<() => void> = [];
  let failWith: NodeJS.ErrnoException | undefined;
  let released = false;
  (fs as unknown as { fsync: Fsync }).fsync = (fd, callback) => {
    let path = '';
    try {
      path = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // not a path we hold
    }
    const go = (): void => (failWith ? callback(failWith) : original(fd, callback));
    if (!path.endsWith('mithai.db-wal') || released) go();
    else waiting.push(go);
  };
  syncBuiltinESMExports();
  t.after(() => {
    (fs as unknown as { fsync: Fsync }).fsync = original;
    syncBuiltinESMExports();
  });
  return {
    held: () => waiting.length,
    release: (error) => {
      failWith = error;
      released = true;
      for (const go of waiting.splice(0)) go();
    },
  };
}

async function setup(t: TestContext) {
  const h = await startEngine(t, [reply('all good')]);
  h.runtime.engine.attach(h.adapter);
  const tracker = { run: (_name: string, work: () => Promise<unknown>) => void work().catch(() => {}) } as unknown as TaskTracker;
  const dispatcher = new TurnDispatcher({
    settings: { botUserId: 'UBOT', botId: 'BBOT', respond: 'mentions', allowedUsers: [], allowedChannels: [], turnsPerMinute: 10 },
    engine: h.runtime.engine,
    adapter: {} as SlackAdapter,
    poster: { ephemeral: async () => {}, react: () => {}, unreact: () => {} } as unknown as SlackPoster,
    tracker,
    organisation: { user: async () => ({ isOutside: false, reason: 'test' }), channel: async () => ({ isOutside: false, reason: 'test' }) } as unknown as Organisation,
    clock: systemClock,
    logger: pino({ level: 'silent' }),
    redact: (s) => s,
  });
  let front: App | undefined;
  recordBeforeAck({ init: (app: App) => (front = app) } as unknown as SocketModeReceiver, { processEvent: async (event: { ack: () => Promise<void> }) => event.ack() } as unknown as App, dispatcher, 'T1', pino({ level: 'silent' }));
  let acks = 0;
  const deliver = (eventId: string): Promise<void> => front!.processEvent({
    body: { type: 'event_callback', team_id: 'T1', event_id: eventId, event: { type: 'app_mention', user: 'U1', channel: 'C1', ts: '1700000000.000100', text: '<@UBOT> how is web?' } },
    ack: async () => void (acks += 1),
  } as unknown as Parameters<App['processEvent']>[0]);
  const turnCount = (): number => h.runtime.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM turns').get()!.n;
  return { h, deliver, acks: () => acks, turnCount };
}

test('the event is acknowledged only once its turn is on disk, and the model is asked before that', async (t) => {
  const wal = holdWalFsyncs(t);
  const { h, deliver, acks, turnCount } = await setup(t);
  const delivered = deliver('Ev1');
  await waitFor('the model call, with the WAL fsync still held', () => h.fake.requests.some((r) => r.path === '/v1/messages'));
  assert.ok(wal.held() >= 1, 'the turn was committed without waiting for the disk, and its fsync is pending');
  assert.equal(acks(), 0, 'not acknowledged while the turn is not on disk');
  assert.equal(turnCount(), 1);
  wal.release();
  await delivered;
  assert.equal(acks(), 1, 'acknowledged once the fsync completed');
  await waitFor('the reply', () => h.adapter.replies.length === 1);
  assert.equal(h.adapter.replies[0]!.text, 'all good');
});

test('an fsync that fails leaves the event unacknowledged; its redelivery is a duplicate of the running turn', async (t) => {
  const wal = holdWalFsyncs(t);
  const { h, deliver, acks, turnCount } = await setup(t);
  const delivered = deliver('Ev1');
  await waitFor('the WAL fsync', () => wal.held() >= 1);
  wal.release(Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' }));
  await delivered;
  assert.equal(acks(), 0, 'a turn the disk may not have is never acknowledged');
  await deliver('Ev1');
  assert.equal(turnCount(), 1, 'the redelivery starts no second turn');
  assert.equal(acks(), 1, 'the redelivery (a duplicate) is acknowledged');
  await waitFor('the one reply', () => h.adapter.replies.length === 1);
});
