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
import { reply } from '../../fakes/anthropic/script.ts';
import { waitFor } from '../../fixtures/wait-for.ts';
import { startEngine } from '../../engine/engine-harness.ts';
import { dispatcherFront } from './dispatcher-front.ts';

type Fsync = (fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => void;

/** Holds every async fsync of the state database's WAL until `release(error?)`, which fails the held ones with `error` (later ones go through). */
function holdWalFsyncs(t: TestContext): { held: () => number; release: (error?: NodeJS.ErrnoException) => void } {
  const original = fs.fsync as unknown as Fsync;
  const waiting: Array<(error?: NodeJS.ErrnoException) => void> = [];
  let released = false;
  (fs as unknown as { fsync: Fsync }).fsync = (fd, callback) => {
    let path = '';
    try {
      path = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // not a path we hold
    }
    if (!path.endsWith('mithai.db-wal') || released) original(fd, callback);
    else waiting.push((error) => (error ? callback(error) : original(fd, callback)));
  };
  syncBuiltinESMExports();
  t.after(() => {
    (fs as unknown as { fsync: Fsync }).fsync = original;
    syncBuiltinESMExports();
  });
  return {
    held: () => waiting.length,
    release: (error) => {
      released = true;
      for (const go of waiting.splice(0)) go(error);
    },
  };
}

async function setup(t: TestContext) {
  const h = await startEngine(t, [reply('all good')]);
  h.runtime.engine.attach(h.adapter);
  const front = dispatcherFront(h.runtime.engine);
  const turnCount = (): number => h.runtime.db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM turns').get()!.n;
  return { h, deliver: (eventId: string) => front.deliver(eventId, '<@UBOT> how is web?'), acks: front.acks, turnCount };
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

test('a redelivery while the first delivery is not on disk yet is acknowledged only once it is', async (t) => {
  const wal = holdWalFsyncs(t);
  const { h, deliver, acks, turnCount } = await setup(t);
  const first = deliver('Ev1');
  await waitFor('the first WAL fsync', () => wal.held() >= 1);
  const again = deliver('Ev1');
  await waitFor('the duplicate\'s WAL fsync', () => wal.held() >= 2);
  assert.equal(acks(), 0, 'a duplicate of a turn the disk may not have is not acknowledged either');
  wal.release();
  await Promise.all([first, again]);
  assert.equal(acks(), 2);
  assert.equal(turnCount(), 1);
  await waitFor('the one reply', () => h.adapter.replies.length === 1);
});
