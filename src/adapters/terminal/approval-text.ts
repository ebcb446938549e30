/**
 * Plain-text rendering of approvals for the terminal: the request, and each state it reaches.
 */
import { describeTaint } from '../../human/taint.ts';
import type { Approval } from '../../human/types.ts';
import { redactThenCut } from '../../security/redact-then-cut.ts';
import { showInvisible } from '../../security/show-invisible.ts';
import { localDeadline, localTime } from './local-time.ts';

const MAX_INPUT_CHARS = 4000;

/**
 * The approval request as shown before the question. Redacted and made visible *before* the
 * input is cut, so a cut can never leave half a secret, and hidden characters cannot make the
 * approver read something other than what will run.
 */
export function describeApproval(a: Approval, redact: (text: string) => string): string {
  const shown = (text: string): string => showInvisible(redact(text));
  const input = shownInput(JSON.stringify(JSON.parse(a.inputJson), null, 2), redact);
  const warning = taintWarningText(a, redact);
  return [
    `  ── ${a.level === 'confirm' ? 'Confirmation' : 'Approval'} needed: ${shown(a.tool)} (${a.id})`,
    ...(warning === undefined ? [] : [`  ${warning}`]),
    `  ${shown(a.toolDescription)}`,
    `  requested by ${a.requester}; level ${a.level} (${a.levelReason}); decide by ${localDeadline(a.deadline)}`,
    ...input.split('\n').map((l) => `    ${l}`),
  ].join('\n');
}

/**
 * The warning about untrusted content in the approval's conversation, in plain words, or
 * undefined when there was none (the same facts as the Slack card's warning).
 */
export function taintWarningText(a: Approval, redact: (text: string) => string): string | undefined {
  if (a.taint.length === 0) return undefined;
  const sources = showInvisible(redact(describeTaint(a.taint)));
  return `⚠ Untrusted content is in this conversation — ${sources}. It may have asked for this call: check the input before approving.`;
}

/**
 * The input redacted (a bounded window of it, see redactThenCut), then made visible, then cut to
 * {@link MAX_INPUT_CHARS} with a note. Making hidden characters visible lengthens text, so the
 * visible text is cut once more; it is redacted already, so that cut cannot expose a secret.
 */
function shownInput(input: string, redact: (text: string) => string): string {
  const cut = redactThenCut(input, MAX_INPUT_CHARS, redact);
  const visible = showInvisible(cut.text);
  const omitted = cut.omitted + Math.max(0, visible.length - MAX_INPUT_CHARS);
  if (!cut.isCut && omitted === 0) return visible;
  return `${visible.slice(0, MAX_INPUT_CHARS)}\n… (truncated; ${cut.isExact ? '' : 'about '}${omitted} more characters)`;
}

/** One line describing where an approval stands (times in local time). */
export function describeState(a: Approval): string {
  switch (a.state) {
    case 'pending':
      return `${a.tool}: waiting for a decision until ${localDeadline(a.deadline)}`;
    case 'approved':
      return `${a.tool}: approved by ${a.decider} at ${localTime(a.decidedAt ?? '')}`;
    case 'executing':
      return `${a.tool}: approved by ${a.decider} at ${localTime(a.decidedAt ?? '')}, running…`;
    case 'succeeded':
      return `${a.tool}: approved by ${a.decider}, succeeded`;
    case 'failed':
      return `${a.tool}: approved by ${a.decider}, failed: ${a.outcome ?? 'unknown error'}`;
    case 'denied':
      return `${a.tool}: denied by ${a.decider}${a.reason ? ` (${a.reason})` : ''}; not run`;
    case 'expired':
      return `${a.tool}: expired at ${localTime(a.deadline)} without a decision; not run`;
    case 'cancelled':
      return `${a.tool}: cancelled${a.reason ? ` (${a.reason})` : ''}; not run`;
    case 'unknown':
      return `${a.tool}: outcome unknown (${a.outcome ?? 'the runtime stopped while it ran'}); not re-run`;
  }
}
