/**
 * What a decision (or a wait) meets when the approval has already left `pending`:
 * the refusal shown to a late clicker, and the outcome a waiter gets.
 */
import type { Approval, ApprovalState, DecideResult, WaitOutcome } from './types.ts';

/** A refusal from {@link ApprovalGate.decide}. */
export type DecideRefusalResult = Extract<DecideResult, { ok: false }>;

/**
 * The refusal for a decision on an approval that is no longer pending: `expired` for an
 * expired one (never reported as denied), `already_decided` otherwise, with a message that
 * says who did what and when.
 */
export function settledRefusal(approval: Approval): DecideRefusalResult {
  const by = approval.decider === null ? '' : ` by <@${approval.decider}>`;
  const at = approval.decidedAt === null ? '' : ` at ${approval.decidedAt}`;
  switch (approval.state) {
    case 'expired':
      return {
        ok: false,
        refusal: 'expired',
        message: `This approval expired at ${approval.deadline} without a decision; the call was not run.`,
        approval,
      };
    case 'denied':
      return { ok: false, refusal: 'already_decided', message: `Already denied${by}${at}.`, approval };
    case 'cancelled':
      return {
        ok: false,
        refusal: 'already_decided',
        message: `Already cancelled${approval.reason === null ? '' : `: ${approval.reason}`}.`,
        approval,
      };
    case 'pending':
      // Only reached when a write found the row pending but past its deadline.
      return { ok: false, refusal: 'expired', message: `This approval expired at ${approval.deadline}; the call was not run.`, approval };
    default:
      return { ok: false, refusal: 'already_decided', message: `Already approved${by}${at}.`, approval };
  }
}

/** How a wait ends for an approval in this state; undefined while it is still pending. */
export function waitOutcomeOf(state: ApprovalState): WaitOutcome | undefined {
  switch (state) {
    case 'pending':
      return undefined;
    case 'denied':
    case 'expired':
    case 'cancelled':
      return state;
    default:
      // approved, executing, succeeded, failed, unknown: someone approved it.
      return 'approved';
  }
}
