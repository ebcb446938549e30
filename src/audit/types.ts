/**
 * Shapes of the audit log (`memory/approvals.json`, JSON Lines, hash-chained).
 * One record per decision (auto, approved, denied, expired, cancelled), one when an approval
 * is requested, and one per outcome (succeeded, failed, unknown).
 */
import type { LevelReason } from '../human/types.ts';

export type AuditEvent = 'requested' | 'decision' | 'outcome';
export type AuditDecision = 'auto' | 'approved' | 'denied' | 'expired' | 'cancelled';
export type AuditStatus = 'pending' | 'not_run' | 'executing' | 'succeeded' | 'failed' | 'unknown';

/** What a caller appends; the appender adds v, seq, time, prev_hash and hash. */
export interface AuditEventInput {
  event: AuditEvent;
  /** Approval id; for auto calls, the call id. */
  approval_id: string;
  call_id: string;
  session: string;
  requester: string;
  decider: string | null;
  tool: string;
  level: 'auto' | 'approve' | 'confirm';
  level_reason: LevelReason;
  decision: AuditDecision | null;
  fingerprint: string;
  /** The tool input; the appender redacts it. */
  input: unknown;
  status: AuditStatus;
  reason: string | null;
}

/** A record as written: the input plus chain fields. */
export interface AuditRecord extends AuditEventInput {
  v: 1;
  seq: number;
  time: string;
  prev_hash: string;
  hash: string;
}

/** Anything that can append audit records; throws AuditError when it cannot. */
export interface AuditSink {
  append(input: AuditEventInput): AuditRecord;
}
