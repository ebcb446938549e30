/**
 * What a thread is told when a start (after a crash, a restart or a deploy) changed something
 * in it: an approval settled while mithai was down, or a turn carried on from its rows.
 */
import type { Approval } from '../human/types.ts';

/** What a thread is told when a start changed one of its approvals. */
export function restartNotice(approval: Approval): string {
  switch (approval.state) {
    case 'expired':
      return `The approval for \`${approval.tool}\` expired while mithai was down, without a decision; it was not run.`;
    case 'unknown':
      return `mithai stopped while \`${approval.tool}\` was running; its outcome is unknown and it will not be re-run. Check it before retrying.`;
    default:
      return `The approved call \`${approval.tool}\` was cancelled at restart: ${approval.reason ?? 'it could no longer start'}.`;
  }
}

/** What a thread is told when a start carries its turn on; undefined when only approvals wait. */
export function resumeNotice(state: string, approvals: readonly Approval[]): string | undefined {
  if (state === 'running' || state === 'replying') {
    return 'mithai restarted while working on this; carrying on from where it stopped (no tool that already ran is run again).';
  }
  if (state === 'waiting') {
    const approved = approvals.filter((a) => a.state === 'approved');
    if (approved.length > 0) return `mithai restarted after ${approved.map((a) => `\`${a.tool}\``).join(', ')} was approved; checking it again and running it now (once).`;
  }
  return undefined;
}
