/**
 * Deadlines of pending approvals. The deadline itself is the persisted one; these timers are
 * only a fast way to notice it in this process. A periodic sweep (and every start) expires
 * whatever a timer missed, so a missed timer can delay an expiry, never prevent it, and a
 * late decision is refused by the gate anyway.
 */
import type { Logger } from 'pino';
import type { ApprovalStore } from '../state/approval-store.ts';
import type { ApprovalGate } from './approval-gate.ts';
import { ExpiryTimers } from './expiry-timers.ts';

/** How long to wait before retrying an expiry that could not be recorded. */
const EXPIRY_RETRY_MS = 30_000;

/** Arms a timer per pending approval and expires it through the gate when it is due. */
export class ApprovalExpiry {
  readonly #gate: ApprovalGate;
  readonly #store: Pick<ApprovalStore, 'listByState'>;
  readonly #logger: Logger;
  readonly #timers: ExpiryTimers;
  #unsubscribe: (() => void) | undefined;

  constructor(options: { gate: ApprovalGate; store: Pick<ApprovalStore, 'listByState'>; logger: Logger }) {
    this.#gate = options.gate;
    this.#store = options.store;
    this.#logger = options.logger;
    this.#timers = new ExpiryTimers(options.gate.clock);
  }

  /** Arm every pending approval's deadline, and follow new and settled ones from now on. */
  start(): void {
    if (this.#unsubscribe) return;
    this.#unsubscribe = this.#gate.onChange((approval) => {
      if (approval.state === 'pending') this.#arm(approval.id, Date.parse(approval.deadline));
      else this.#timers.disarm(approval.id);
    });
    for (const approval of this.#store.listByState(['pending'])) this.#arm(approval.id, Date.parse(approval.deadline));
  }

  /** Expire everything past its deadline now (the safety net). @returns how many expired. */
  sweep(): number {
    return this.#gate.expireDue().length;
  }

  /** Stop every timer and stop following the gate. */
  stop(): void {
    this.#unsubscribe?.();
    this.#unsubscribe = undefined;
    this.#timers.clear();
  }

  #arm(id: string, deadlineMs: number): void {
    this.#timers.arm(id, deadlineMs, (due) => this.#onDue(due));
  }

  /** Never throws: an expiry that cannot be recorded is retried later (the gate still refuses late decisions). */
  #onDue(id: string): void {
    try {
      this.#gate.expire(id);
    } catch (err) {
      this.#logger.error({ approval_id: id, err }, 'approval.expire_failed');
      this.#arm(id, this.#gate.clock.now() + EXPIRY_RETRY_MS);
    }
  }
}
