/**
 * A Slack message is acknowledged only once its turn is on disk, but the turn does not wait for
 * the disk to start: the state database's WAL is fsync'd on the thread pool while the model is
 * already asked. Here that fsync is held back: the model call goes out, the event stays
 * unacknowledged until the fsync completes, and an fsync that fails leaves it unacknowledged
 * (Slack delivers it again, and the redelivery is a duplicate of the turn already running).
 * A failed fsync is final: Linux may have dropped the pages it could not write, so no later
 * fsync proves them on disk; nothing is acknowledged, and no commit that must wait for the disk
 * is made, until a restart. A redelivery refused before it reaches the engine (rate limit,
 * organisation check) is not acknowledged before the first delivery's turn is on disk either.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { reply } from '../../fakes/anthropic/script.ts';
import { eio, interceptFsyncs } from '../../fixtures/intercept-fs.ts';
import type { FinishFsync } from '../../fixtures/intercept-fs.ts';
import { waitFor } from '../../fixtures/wait-for.ts';
import { startEngine } from '../../engine/engine-harness.ts';
import { inWriteTransaction } from '../../../src/state/database.ts';
import type { Organisation } from '../../../src/adapters/slack/organisation.ts';
import { dispatcherFront } from './dispatcher-front.ts';
import type { FrontOptions } from './dispatcher-front.ts';

/** Holds every async fsync of the state database's WAL until `release(error?)`, which fails the held ones with `error` (later ones go through). */
function holdWalFsyncs(t: TestContext): { held: () => number; release: (error?: NodeJS.ErrnoException) => void } {
  const waiting: FinishFsync[] = [];
  let released = false;
  interceptFsyncs(t, (path) => path.endsWith('mithai.db-wal'), (finish) => (released ? finish() : waiting.push(finish)));
  return {
    held: () => waiting.length,
    release: (error) => {
      released = true;
      for (const finish of waiting.splice(0)) finish(error);
    },
  };
}

/** Lets every callback and promise already queued run (a delivery reaches the await it parks on). */
async function settle(): Promise<void> {
  for (let i = 0; i < 5; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function setup(t: TestContext, options: FrontOptions = {}) {
  const h = await startEngine(t, [reply('all good')]);
  h.runtime.engine.attach(h.adapter);
  const front = dispatcherFront(h.runtime.engine, options);
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

test('an fsync that fails leaves the event unacknowledged, its redelivery too, and refuses commits that must wait for the disk', async (t) => {
  const wal = holdWalFsyncs(t);
  const { h, deliver, acks, turnCount } = await setup(t);
  const delivered = deliver('Ev1');
  await waitFor('the WAL fsync', () => wal.held() >= 1);
  wal.release(eio());
  await delivered;
  assert.equal(acks(), 0, 'a turn the disk may not have is never acknowledged');
  await deliver('Ev1');
  assert.equal(turnCount(), 1, 'the redelivery starts no second turn');
  assert.equal(acks(), 0, 'nor is the redelivery acknowledged: a later fsync could succeed with the first one\'s pages lost');
  assert.throws(() => inWriteTransaction(h.runtime.db, () => h.runtime.db.prepare("INSERT INTO event_dedupe (key, seen_at) VALUES ('probe', 0)").run()), (err: Error & { code?: string }) => err.code === 'state_sync_failed' && /restart mithai/.test(err.message));
  await waitFor('the one reply', () => h.adapter.replies.length === 1);
});

test('a redelivery while the first delivery is not on disk yet is acknowledged only once it is, by the same fsync', async (t) => {
  const wal = holdWalFsyncs(t);
  const { deliver, acks, turnCount } = await setup(t);
  const first = deliver('Ev1');
  await waitFor('the first WAL fsync', () => wal.held() >= 1);
  const again = deliver('Ev1');
  await settle();
  assert.equal(acks(), 0, 'a duplicate of a turn the disk may not have is not acknowledged either');
  assert.equal(wal.held(), 1, 'it waits on the fsync already running (it committed nothing new)');
  wal.release();
  await Promise.all([first, again]);
  assert.equal(acks(), 2);
  assert.equal(turnCount(), 1);
});

const refusals: Array<[string, FrontOptions]> = [
  ['the rate limit', { turnsPerMinute: 1 }],
  [
    'the organisation check',
    (() => {
      // The first lookup places the sender inside; the next cannot tell (users.info failed): refused.
      let lookups = 0;
      const organisation: Pick<Organisation, 'user' | 'channel'> = {
        user: async () => (lookups++ === 0 ? { isOutside: false, reason: 'test' } : { isOutside: true, reason: 'lookup failed' }),
        channel: async () => ({ isOutside: false, reason: 'test' }),
      } as unknown as Pick<Organisation, 'user' | 'channel'>;
      return { organisation };
    })(),
  ],
];

for (const [refusal, options] of refusals) {
  test(`a redelivery refused by ${refusal} is not acknowledged before the first delivery's turn is on disk`, async (t) => {
    const wal = holdWalFsyncs(t);
    const { deliver, acks, turnCount } = await setup(t, options);
    const first = deliver('Ev1');
    await waitFor('the first WAL fsync', () => wal.held() >= 1);
    // Slack retries (the ack took too long): the same event again, refused this time.
    const again = deliver('Ev1');
    await settle();
    assert.equal(acks(), 0, 'refused, but its first delivery is not on disk: no ack yet');
    wal.release(eio());
    await Promise.all([first, again]);
    assert.equal(acks(), 0, 'the fsync failed: neither delivery is acknowledged');
    assert.equal(turnCount(), 1);
  });
}
