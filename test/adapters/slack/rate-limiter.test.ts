/**
 * The per-user turn limit and the once-an-hour notices share one sliding-window limiter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter } from '../../../src/adapters/slack/rate-limiter.ts';
import { FakeClock } from '../../fixtures/fake-clock.ts';

test('allows the limit per window per key, then refuses until the window slides past', () => {
  const clock = new FakeClock();
  const limiter = new RateLimiter({ limit: 3, windowMs: 60_000, clock });
  assert.deepEqual([1, 2, 3, 4].map(() => limiter.take('U1')), [true, true, true, false]);
  assert.equal(limiter.take('U2'), true, 'keys are independent');
  clock.advance(30_000);
  assert.equal(limiter.take('U1'), false, 'refusals are not counted, but the window has not passed');
  clock.advance(30_001);
  assert.equal(limiter.take('U1'), true);
});

test('a limit of one per hour is a notice throttle', () => {
  const clock = new FakeClock();
  const notices = new RateLimiter({ limit: 1, windowMs: 3_600_000, clock });
  assert.equal(notices.take('U1'), true);
  clock.advance(3_599_999);
  assert.equal(notices.take('U1'), false);
  clock.advance(2);
  assert.equal(notices.take('U1'), true);
});

test('nonsense limits are refused', () => {
  assert.throws(() => new RateLimiter({ limit: 0, windowMs: 1000, clock: new FakeClock() }), RangeError);
  assert.throws(() => new RateLimiter({ limit: 1, windowMs: 0, clock: new FakeClock() }), RangeError);
});
