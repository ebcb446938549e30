/**
 * Builds the audit record for a step of an approval's life from the approval row, so every
 * record carries the same identifying fields (ids, session, tool, level, fingerprint, input), and
 * the `requested` record of a call made after untrusted content also its sources (`taint`).
 */
import type { AuditDecision, AuditEvent, AuditEventInput, AuditStatus } from '../audit/types.ts';
import type { Approval } from './types.ts';

/** The parts of a record that depend on the step, not on the approval. */
export interface AuditStep {
  event: AuditEvent;
  decision: AuditDecision | null;
  status: AuditStatus;
  reason: string | null;
  /** Defaults to the approval's decider (null until someone decided). */
  decider?: string | null;
}

/**
 * The audit input for `approval` at `step`. The input is the approval's canonical input,
 * parsed back to a value; the audit appender redacts it.
 */
export function auditRecord(approval: Approval, step: AuditStep): AuditEventInput {
  return {
    event: step.event,
    approval_id: approval.id,
    call_id: approval.callId,
    session: approval.sessionKey,
    requester: approval.requester,
    decider: step.decider === undefined ? approval.decider : step.decider,
    tool: approval.tool,
    level: approval.level,
    level_reason: approval.levelReason,
    decision: step.decision,
    fingerprint: approval.fingerprint,
    input: parseInput(approval.inputJson),
    status: step.status,
    reason: step.reason,
    // The request record carries what the approver was warned about; older records (and every
    // record of an untainted call) have no such field, so their lines verify as before.
    ...(step.event === 'requested' && approval.taint.length > 0 ? { taint: approval.taint.map((t) => ({ ...t })) } : {}),
  };
}

function parseInput(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    // Keep the raw text rather than dropping the record: an audit entry must never be lost.
    return json;
  }
}
