/**
 * After a burst, the heap's extra room goes back once the engine has run no step for a second:
 * a few full collections, once per quiet spell, never while a step runs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IDLE_RELEASE_AFTER_MS, IdleMemoryRelease } from '../../src/engine/idle-memory.ts';
import { FakeClock } from '../fixtures/fake-clock.ts';

/** One step that starts and ends. */
function oneStep(idle: IdleMemoryRelease): void {
  idle.stepStarted();
  idle.stepEnded();
}

function release(): { clock: FakeClock; idle: IdleMemoryRelease; collections: () => number } {
  const clock = new FakeClock();
  let n = 0;
  const idle = new IdleMemoryRelease(clock, { collect: () => void n++ });
  return { clock, idle, collections: () => n };
}

test('collections run once the last step has ended and nothing ran for the quiet period', () => {
  const { clock, idle, collections } = release();
  idle.stepStarted();
  idle.stepStarted();
  idle.stepEnded();
  clock.advance(IDLE_RELEASE_AFTER_MS * 5);
  assert.equal(collections(), 0, 'a step is still running');
  idle.stepEnded();
  clock.advance(IDLE_RELEASE_AFTER_MS - 1);
  assert.equal(collections(), 0);
  clock.advance(1);
  assert.ok(collections() >= 1);
});

test('a step that starts during the quiet period puts the collection off', () => {
  const { clock, idle, collections } = release();
  oneStep(idle);
  clock.advance(IDLE_RELEASE_AFTER_MS - 10);
  idle.stepStarted();
  clock.advance(IDLE_RELEASE_AFTER_MS * 3);
  assert.equal(collections(), 0);
  idle.stepEnded();
  clock.advance(IDLE_RELEASE_AFTER_MS);
  assert.ok(collections() >= 1);
});

test('one release per quiet spell: a process that stays quiet is not collected again', () => {
  const { clock, idle, collections } = release();
  oneStep(idle);
  clock.advance(IDLE_RELEASE_AFTER_MS);
  const once = collections();
  clock.advance(IDLE_RELEASE_AFTER_MS * 100);
  assert.equal(collections(), once);
  assert.equal(clock.pendingTimers, 0);
  oneStep(idle);
  clock.advance(IDLE_RELEASE_AFTER_MS);
  assert.equal(collections(), once * 2, 'the next burst is released again');
});

test('nothing runs after stop (shutdown)', () => {
  const { clock, idle, collections } = release();
  oneStep(idle);
  idle.stop();
  clock.advance(IDLE_RELEASE_AFTER_MS * 2);
  assert.equal(collections(), 0);
});

test('the default collection is V8\'s own: it frees unreachable memory', async () => {
  const clock = new FakeClock();
  const idle = new IdleMemoryRelease(clock);
  const ref = (() => new WeakRef({ big: new Array(1000).fill('x') }))();
  // A WeakRef's target lives at least until the job that made it ends.
  await new Promise((resolve) => setImmediate(resolve));
  oneStep(idle);
  clock.advance(IDLE_RELEASE_AFTER_MS);
  assert.equal(ref.deref(), undefined, 'a full collection ran');
});
