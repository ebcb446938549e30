/**
 * A sliding-window limit per key (a Slack user id): at most `limit` events per `windowMs`.
 * Used for the per-user turn limit, and with `limit: 1` for notices that must not repeat more
 * than once per window (the allowlist notice, the "slow down" notice).
 * Memory is bounded: keys whose window has passed are forgotten as new events come in.
 */
import type { Clock } from '../../clock.ts';

/** Options of a {@link RateLimiter}. */
export interface RateLimiterOptions {
  /** Events allowed per window. */
  limit: number;
  windowMs: number;
  clock: Pick<Clock, 'now'>;
}

/** Counts events per key over a sliding window. */
export class RateLimiter {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #events = new Map<string, number[]>();
  #lastSweep = 0;

  /** @throws RangeError when limit or windowMs is not positive. */
  constructor(options: RateLimiterOptions) {
    if (!(options.limit >= 1) || !(options.windowMs > 0)) throw new RangeError('RateLimiter: limit and windowMs must be positive');
    this.#limit = Math.floor(options.limit);
    this.#windowMs = options.windowMs;
    this.#clock = options.clock;
  }

  /**
   * Record an event for `key` if it is within the limit.
   * @returns true when allowed (and counted); false when the key is over its limit (not counted).
   */
  take(key: string): boolean {
    const now = this.#clock.now();
    this.#sweep(now);
    const recent = (this.#events.get(key) ?? []).filter((t) => t > now - this.#windowMs);
    if (recent.length >= this.#limit) {
      this.#events.set(key, recent);
      return false;
    }
    recent.push(now);
    this.#events.set(key, recent);
    return true;
  }

  /** Forget keys with no event inside the window (at most once per window). */
  #sweep(now: number): void {
    if (now - this.#lastSweep < this.#windowMs) return;
    this.#lastSweep = now;
    for (const [key, times] of this.#events) {
      if (times.every((t) => t <= now - this.#windowMs)) this.#events.delete(key);
    }
  }
}
