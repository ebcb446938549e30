/**
 * What the model is told about a gated call whose approval ended without running it through
 * this dispatch: denied (with the reason), expired (never "denied"), cancelled (before or after
 * a decision), or outcome unknown (never to be retried blindly).
 */
import type { Approval } from '../human/types.ts';

/** The tool_result text for a settled approval. */
export function settledResultText(approval: Approval): string {
  const tool = approval.tool;
  switch (approval.state) {
    case 'denied': {
      const why = approval.reason ? ` Reason: ${approval.reason}` : ' No reason was given.';
      return `${tool} was denied by ${approval.decider ?? 'an approver'}; the call did not run.${why} Do not retry the same call unless the user asks.`;
    }
    case 'expired': {
      const seconds = Math.round((Date.parse(approval.deadline) - Date.parse(approval.createdAt)) / 1000);
      return `${tool} expired without a decision after ${seconds} s; the call did not run. Nobody denied it: ask the user whether to request it again.`;
    }
    case 'cancelled':
      if (approval.decider !== null) return `${tool} was approved by ${approval.decider} but cancelled before it started${approval.reason ? ` (${approval.reason})` : ''}; the call did not run.`;
      return `${tool} was cancelled before a decision${approval.reason ? ` (${approval.reason})` : ''}; the call did not run.`;
    case 'unknown':
      return `${tool} was approved by ${approval.decider ?? 'an approver'} and started, but its outcome is unknown (${approval.outcome ?? 'the runtime stopped while it ran'}). Do not retry it blindly: check whether it took effect first.`;
    case 'executing':
      return `${tool} is recorded as running; its outcome is unknown here. Do not retry it blindly.`;
    default:
      return `${tool} ran (${approval.state}${approval.outcome ? `: ${approval.outcome}` : ''}), but its output was lost in a restart. Check its effect before relying on it.`;
  }
}
