/**
 * Who may decide an approval: the requester, or anyone matching `human.approvers`.
 * With `human.confirm_requires_second_person`, a `confirm` call needs someone other than the
 * requester to approve it; the requester may still deny (withdraw) their own call.
 */
import { matchesAnyPattern } from '../security/allowlist.ts';
import type { Approval, Decision } from './types.ts';

/** What {@link checkDecider} looks at. */
export interface DeciderCheck {
  approval: Approval;
  /** Who clicked (Slack user id, or the local user name in the terminal). */
  decider: string;
  decision: Decision;
  /** `human.approvers` patterns (`*`, `?`, `!exclude`; later rules win; empty = nobody). */
  approvers: readonly string[];
  /** `human.confirm_requires_second_person`. */
  confirmRequiresSecondPerson: boolean;
}

/** Whether the decider may decide, and if not, a message for them saying why. */
export type DeciderVerdict = { ok: true } | { ok: false; message: string };

/**
 * Decide whether `decider` may make `decision` on `approval`.
 * Pure; never throws for valid input.
 */
export function checkDecider(input: DeciderCheck): DeciderVerdict {
  const { approval, decider, decision } = input;
  const isRequester = decider === approval.requester;
  const isApprover = matchesAnyPattern(decider, input.approvers);
  if (!isRequester && !isApprover) {
    return {
      ok: false,
      message: `Only the requester <@${approval.requester}> or an approver listed in human.approvers can decide this.`,
    };
  }
  // Checked after the approver match on purpose: being an approver does not let the
  // requester approve their own confirm call when a second person is required.
  if (input.confirmRequiresSecondPerson && approval.level === 'confirm' && decision === 'approve' && isRequester) {
    return {
      ok: false,
      message:
        'This call needs confirmation from someone other than the requester (human.confirm_requires_second_person); ' +
        'ask an approver listed in human.approvers. You can still deny it.',
    };
  }
  return { ok: true };
}
