/**
 * Shapes of the audit log (`memory/approvals.json`, JSON Lines, hash-chained).
 *
 * Approval records: one per decision (auto, approved, denied, expired, cancelled), one when an
 * approval is requested, and one per outcome (succeeded, failed, unknown).
 *
 * System records: written by the audit log itself when it repairs or re-aligns the file with
 * the state database, so every repair is part of the chain it repaired.
 */
import type { LevelReason, TaintSource } from '../human/types.ts';

/** Events of an approval's life, appended by the gate and the tool router. */
export type ApprovalAuditEvent = 'requested' | 'decision' | 'outcome';
/** Events the audit log writes about itself ({@link SystemAuditInput}). */
export type SystemAuditEvent = 'audit_repaired' | 'audit_gap';
/** Every event a record in the log can carry. */
export type AuditEvent = ApprovalAuditEvent | SystemAuditEvent;
/** How a call was decided: by policy (`auto`), by a person, by the clock, or cancelled. */
export type AuditDecision = 'auto' | 'approved' | 'denied' | 'expired' | 'cancelled';
/** Where the call stands as of the record. */
export type AuditStatus = 'pending' | 'not_run' | 'executing' | 'succeeded' | 'failed' | 'unknown';

/** The system events, for checking at run time whether an event is one of them. */
export const SYSTEM_AUDIT_EVENTS: ReadonlySet<AuditEvent> = new Set<SystemAuditEvent>(['audit_repaired', 'audit_gap']);

/**
 * What a caller appends; the appender adds v, seq, time, prev_hash and hash.
 *
 * `event` is typed as {@link AuditEvent} so existing callers that carry the wide type keep
 * compiling, but only {@link ApprovalAuditEvent}s are accepted: `AuditLog.append` refuses a
 * system event (those have their own shape and are written only by the log itself).
 */
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
  /**
   * The untrusted content the conversation had taken in when the call was requested. Only on
   * `requested` records of such calls (added in schema v3 of the state database); absent
   * everywhere else, so records written before it existed, and records without taint, keep
   * exactly the fields and bytes they always had.
   */
  taint?: TaintSource[];
}

/** The chain fields every record carries, whatever its event. */
export interface AuditChainFields {
  v: 1 | 2;
  seq: number;
  time: string;
  prev_hash: string;
  hash: string;
}

/** An approval record as written: the input plus chain fields. */
export interface AuditRecord extends AuditEventInput, AuditChainFields {}

/**
 * A torn last line (an interrupted write) was cut off the file and saved next to it.
 * Nothing is lost by the cut: every line is a copy of a record the database committed, so
 * the records that were torn are written again by the flush that follows.
 */
export interface AuditRepairedInput {
  event: 'audit_repaired';
  /** How many bytes were cut off the end of the file. */
  removed_bytes: number;
  /** Byte offset where the cut started (the file's size after the cut). */
  removed_at_offset: number;
  /** File name (next to the log) the cut bytes were saved to. */
  saved_to: string;
  /** seq of the last intact record in the file before the cut (0 when there was none). */
  after_seq: number;
  /** The same in words. */
  reason: string;
}

/** The problems an operator can accept with `acceptGap` (see {@link AuditGapInput}). */
export type AuditGapProblem = 'audit_tail_missing' | 'audit_file_missing' | 'audit_replaced' | 'audit_ahead';

/**
 * The file disagreed with the database and an operator accepted it (`acceptGap`): the file
 * was rebuilt or completed from the database's copy of every record.
 */
export interface AuditGapInput {
  event: 'audit_gap';
  /** What was found (the code of the error that refused to start without `acceptGap`). */
  problem: AuditGapProblem;
  /**
   * First and last seq concerned: the records missing from the file (tail missing, file
   * missing), the first differing record and the file's last (replaced), or the records only
   * the file had (ahead).
   */
  from_seq: number;
  to_seq: number;
  /** How many records were written back from the database. */
  restored: number;
  /** File name (next to the log) the old file was moved to, when it was moved aside. */
  moved_aside_to: string | null;
  /** Always true: this record exists only because an operator accepted the gap. */
  accepted_by_operator: true;
  /** The same in words. */
  reason: string;
}

/** What the audit log appends about itself. */
export type SystemAuditInput = AuditRepairedInput | AuditGapInput;

/** A system record as written. */
export type SystemAuditRecord = SystemAuditInput & AuditChainFields;

/** Any record of the log: an approval record or a system record. */
export type AnyAuditRecord = AuditRecord | SystemAuditRecord;

/**
 * Anything that can append audit records; throws AuditError when it cannot.
 *
 * `append` records inside the caller's transaction (nothing reaches the file yet); `write`
 * appends every committed record to the file. Call `write` after the transaction commits and
 * before acting on what was recorded (running a tool): if it throws, do not act.
 */
export interface AuditSink {
  append(input: AuditEventInput): AuditRecord;
  write(): void;
  /** Append what can go to the file now, without bringing held-back records to disk (a catch-up, not before acting). */
  catchUp(): void;
}
