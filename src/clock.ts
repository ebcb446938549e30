/**
 * Time as a dependency, so the gate's expiry, the rate limiter and tests can control it.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * The real clock. Timers keep the process alive on purpose: a turn waiting for an approval has
 * nothing else pending (stdin may have ended), and its expiry must still fire. Owners clear
 * their timers on close.
 */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};
