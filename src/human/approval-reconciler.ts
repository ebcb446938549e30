/**
 * What a start finds, settled before anything is served. Rules (docs/approvals.md):
 * - pending, before its deadline, with a durable turn: stays pending; its card keeps working;
 * - pending past its deadline: expired (the model is told "expired without a decision");
 * - pending with no durable turn (written by a version without durable turns): cancelled;
 * - approved but never started, still inside its validity window: left approved, the engine
 *   re-checks it and runs it once;
 * - approved past its validity window (or with no durable turn): cancelled, never run;
 * - executing: the process died while it ran; `unknown`, never re-run.
 */
import type { ApprovalStore } from '../state/approval-store.ts';
import type { ApprovalGate } from './approval-gate.ts';
import type { Approval } from './types.ts';

/** What {@link reconcileApprovals} changed. */
export interface ReconcileResult {
  expired: Approval[];
  cancelled: Approval[];
  unknown: Approval[];
}

export const RESTARTED_EXECUTING = 'the runtime stopped while the call was running; outcome unknown; it will not be re-run';
export const RESTARTED_NO_TURN = 'runtime restarted before a decision, and this approval has no durable turn to resume';
export const APPROVED_TOO_LONG_AGO = 'approved, but it could not start within its validity window (human.approval_valid_seconds); it was not run';

/**
 * Settle what a previous process left behind. Call at start, before serving.
 * @throws AuditError when a change cannot be audited (start should stop: the row is unchanged
 *   and is settled at the next start).
 */
export function reconcileApprovals(gate: ApprovalGate, store: Pick<ApprovalStore, 'listByState'>, isOurs: (approval: Approval) => boolean = () => true): ReconcileResult {
  const result: ReconcileResult = { expired: [], cancelled: [], unknown: [] };
  const nowMs = gate.clock.now();
  for (const approval of store.listByState(['pending', 'approved', 'executing'])) {
    // Another platform's approvals are settled by the process that serves it, which can also
    // show them and tell their threads.
    if (!isOurs(approval)) continue;
    if (approval.state === 'pending') {
      if (nowMs >= Date.parse(approval.deadline)) push(result.expired, gate.expire(approval.id));
      else if (approval.turnId === null) push(result.cancelled, gate.cancel(approval.id, RESTARTED_NO_TURN));
    } else if (approval.state === 'approved') {
      const isStale = approval.turnId === null || (approval.validUntil !== null && nowMs >= Date.parse(approval.validUntil));
      if (isStale) push(result.cancelled, gate.cancelApproved(approval.id, APPROVED_TOO_LONG_AGO));
    } else {
      // The side effect may or may not have happened: say so, and never run it again.
      push(result.unknown, gate.finish(approval.id, 'unknown', RESTARTED_EXECUTING));
    }
  }
  return result;
}

function push(list: Approval[], approval: Approval | undefined): void {
  if (approval !== undefined) list.push(approval);
}
