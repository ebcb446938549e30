/**
 * Plain-text rendering of approvals for the terminal: the request, and each state it reaches.
 */
import type { Approval } from '../../human/types.ts';
import { showInvisible } from '../../security/show-invisible.ts';

const MAX_INPUT_CHARS = 4000;

/**
 * The approval request as shown before the question. Redacted and made visible *before* the
 * input is cut, so a cut can never leave half a secret, and hidden characters cannot make the
 * approver read something other than what will run.
 */
export function describeApproval(a: Approval, redact: (text: string) => string): string {
  const shown = (text: string): string => showInvisible(redact(text));
  let input = shown(JSON.stringify(JSON.parse(a.inputJson), null, 2));
  if (input.length > MAX_INPUT_CHARS) input = `${input.slice(0, MAX_INPUT_CHARS)}\n… (truncated; ${input.length - MAX_INPUT_CHARS} more characters)`;
  return [
    `  ── ${a.level === 'confirm' ? 'Confirmation' : 'Approval'} needed: ${shown(a.tool)} (${a.id})`,
    `  ${shown(a.toolDescription)}`,
    `  requested by ${a.requester}; level ${a.level} (${a.levelReason}); decide by ${a.deadline}`,
    ...input.split('\n').map((l) => `    ${l}`),
  ].join('\n');
}

/** One line describing where an approval stands. */
export function describeState(a: Approval): string {
  switch (a.state) {
    case 'pending':
      return `${a.tool}: waiting for a decision until ${a.deadline}`;
    case 'approved':
      return `${a.tool}: approved by ${a.decider} at ${a.decidedAt}`;
    case 'executing':
      return `${a.tool}: approved by ${a.decider} at ${a.decidedAt}, running…`;
    case 'succeeded':
      return `${a.tool}: approved by ${a.decider}, succeeded`;
    case 'failed':
      return `${a.tool}: approved by ${a.decider}, failed: ${a.outcome ?? 'unknown error'}`;
    case 'denied':
      return `${a.tool}: denied by ${a.decider}${a.reason ? ` (${a.reason})` : ''}; not run`;
    case 'expired':
      return `${a.tool}: expired at ${a.deadline} without a decision; not run`;
    case 'cancelled':
      return `${a.tool}: cancelled${a.reason ? ` (${a.reason})` : ''}; not run`;
    case 'unknown':
      return `${a.tool}: outcome unknown (${a.outcome ?? 'the runtime stopped while it ran'}); not re-run`;
  }
}
