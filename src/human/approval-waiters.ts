/**
 * An in-process convenience: wait until an approval leaves `pending`. Correctness never depends
 * on it (the row is the truth, and a decision re-enters the engine by approval id); a prompt
 * uses it to stop asking once the approval was settled some other way.
 */
import type { ApprovalGate } from './approval-gate.ts';
import { KeyedWaiters } from '../keyed-waiters.ts';
import { waitOutcomeOf } from './settled-refusal.ts';
import type { WaitOutcome } from './types.ts';

/** Promises that resolve when an approval is settled through this process's gate. */
export class ApprovalWaiters {
  readonly #gate: ApprovalGate;
  readonly #waiters = new KeyedWaiters<WaitOutcome>();

  constructor(gate: ApprovalGate) {
    this.#gate = gate;
    gate.onChange((approval) => {
      const outcome = waitOutcomeOf(approval.state);
      if (outcome !== undefined) this.#waiters.settle(approval.id, outcome);
    });
  }

  /**
   * Resolves with how the approval was settled: at once when it already is, or when a change
   * made through this gate (or announced to it) settles it. Aborting `signal` resolves
   * `cancelled` for this waiter only; the approval itself is untouched.
   */
  wait(id: string, signal?: AbortSignal): Promise<WaitOutcome> {
    const current = this.#gate.get(id);
    const settled = current === undefined ? 'cancelled' : waitOutcomeOf(current.state);
    if (settled !== undefined) return Promise.resolve(settled);
    return this.#waiters.wait(id, 'cancelled', signal);
  }
}
