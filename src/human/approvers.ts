/**
 * Who may decide an approval: the requester, or anyone matching `human.approvers`.
 * Two rules can require a second person, someone other than the requester, to *approve* (the
 * requester may always deny, that is, withdraw, their own call):
 * - `human.confirm_requires_second_person`: a `confirm` call;
 * - `human.tainted_requires_second_person`: a call made in a conversation that had taken in
 *   untrusted content (the approval's `taint` is not empty), which may have asked for it.
 * For these rules the local operator `local:<name>` (the CLI) is the same person as `<name>`
 * (a `mithai chat` requester): the same login cannot approve its own call from another terminal.
 */
import { matchesAnyPattern } from '../security/allowlist.ts';
import { describeTaint } from './taint.ts';
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
  /** `human.tainted_requires_second_person`. */
  taintedRequiresSecondPerson: boolean;
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
  // requester approve their own call when a second person is required.
  if (decision !== 'approve' || !isSamePerson(decider, approval.requester)) return { ok: true };
  const isConfirmRule = input.confirmRequiresSecondPerson && approval.level === 'confirm';
  // Untrusted content is the more pressing reason (it may have asked for the call), so when both
  // rules apply its message is shown, naming both settings for a solo setup.
  if (input.taintedRequiresSecondPerson && approval.taint.length > 0) {
    return { ok: false, message: taintedMessage(approval, input.approvers, isConfirmRule) };
  }
  if (isConfirmRule) return { ok: false, message: confirmMessage(input.approvers) };
  return { ok: true };
}

/**
 * Whether `decider` is the requester for the second-person rules: the same id, or the same
 * local login (`local:alice` deciding from the CLI on what `alice` asked for in `mithai chat`).
 */
export function isSamePerson(decider: string, requester: string): boolean {
  return decider === requester || decider === `local:${requester}` || `local:${decider}` === requester;
}

/** Whether `human.approvers` names anyone at all (a pattern that is not an exclusion). */
function listsSomeone(approvers: readonly string[]): boolean {
  return approvers.some((p) => p.trim() !== '' && !p.trim().startsWith('!'));
}

/**
 * The refusal a requester gets for confirming their own `confirm` call: what happened, and both
 * ways on (another approver, or the setting for a solo setup).
 */
function confirmMessage(approvers: readonly string[]): string {
  const others = listsSomeone(approvers)
    ? 'ask another approver listed in human.approvers to confirm it'
    : 'human.approvers lists nobody else, so add a second approver there to confirm it';
  return (
    'You asked for this call, and confirm calls need a second person (human.confirm_requires_second_person): ' +
    `${others}, or set human.confirm_requires_second_person: false in config.yaml for a solo setup. You can still deny it.`
  );
}

function taintedMessage(approval: Approval, approvers: readonly string[], isConfirmToo: boolean): string {
  const others = listsSomeone(approvers)
    ? 'Ask an approver listed in human.approvers to approve it.'
    : 'human.approvers lists nobody, so nobody else can approve it: it will expire unless you deny it.';
  const solo = isConfirmToo
    ? 'Working alone? Set human.tainted_requires_second_person: false and human.confirm_requires_second_person: false in config.yaml to approve such calls yourself.'
    : 'Working alone? Set human.tainted_requires_second_person: false in config.yaml to approve such calls yourself.';
  return (
    `Untrusted content is in this conversation (${describeTaint(approval.taint)}), and it may have asked for this call, ` +
    'so someone other than the requester must approve it (human.tainted_requires_second_person). ' +
    `${others} You can still deny it. ${solo}`
  );
}
