/**
 * One expiry timer per pending approval, on an injected {@link Clock}.
 *
 * A timer never fires early: when it wakes before the deadline (timers longer than Node's
 * ~24.8-day maximum are split, and a test clock may be moved arbitrarily) it re-arms for the
 * rest. The deadline itself stays the persisted one; these timers are only a way to notice it.
 */
import type { Clock } from '../clock.ts';

/** Longest delay Node's setTimeout accepts (2^31 - 1 ms); longer ones fire at once. */
const MAX_DELAY_MS = 2_147_483_647;

/** Arms, re-arms and clears deadline timers keyed by approval id. */
export class ExpiryTimers {
  readonly #clock: Clock;
  readonly #handles = new Map<string, unknown>();

  /** @param clock Time source for now() and timers. */
  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * Call `onDue(id)` once the clock reaches `deadlineMs`. Re-arming an id replaces its timer.
   */
  arm(id: string, deadlineMs: number, onDue: (id: string) => void): void {
    this.disarm(id);
    const delay = Math.min(Math.max(0, deadlineMs - this.#clock.now()), MAX_DELAY_MS);
    const handle = this.#clock.setTimeout(() => {
      if (this.#handles.get(id) !== handle) return;
      this.#handles.delete(id);
      if (this.#clock.now() < deadlineMs) {
        this.arm(id, deadlineMs, onDue);
        return;
      }
      onDue(id);
    }, delay);
    this.#handles.set(id, handle);
  }

  /** Whether a timer is armed for this id. */
  has(id: string): boolean {
    return this.#handles.has(id);
  }

  /** Stop the timer for this id, if any. */
  disarm(id: string): void {
    const handle = this.#handles.get(id);
    if (handle === undefined) return;
    this.#handles.delete(id);
    this.#clock.clearTimeout(handle);
  }

  /** Stop every timer. */
  clear(): void {
    for (const id of [...this.#handles.keys()]) this.disarm(id);
  }
}
