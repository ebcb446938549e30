/**
 * The terms the outbox's users share: the appender and its flush (`audit-log.ts`), the
 * start-up check (`audit-startup.ts`) and the cross-check (`cross-check.ts`) all read the
 * database's chain the same way and word their refusals the same way.
 */
import { AuditError } from '../errors.ts';
import type { AuditHeadRow } from '../state/audit-store.ts';
import { GENESIS_HASH } from './audit-chain.ts';
import type { AuditGapProblem } from './types.ts';

/**
 * The command-line flag an operator passes to accept a gap (what `acceptGap: true` stands
 * for). Error messages name it; the CLI should define the flag with this exact spelling.
 */
export const ACCEPT_GAP_FLAG = '--accept-audit-gap';

/**
 * Stable codes of the {@link AuditError}s the audit log throws.
 *
 * - `audit_tail_missing`, `audit_file_missing`, `audit_replaced`, `audit_ahead`: the file
 *   disagrees with the database in a way only an operator may accept (`acceptGap`).
 * - `audit_torn`: `AuditLog.flush` found a torn last line; `prepare` or
 *   `mithai audit repair` cuts it.
 * - `audit_corrupt`: a file written by an older mithai does not verify, so it cannot be imported.
 * - `audit_db_inconsistent`: the database's own copy of the chain has a hole (it was edited).
 * - `audit_encode_failed`: the record cannot be encoded (nothing was recorded).
 * - `audit_event_reserved`: `append` was given a system event.
 * - `audit_flush_in_transaction`: `flush`, `prepare` or `repairTornTail` was called with a
 *   transaction open.
 * - `audit_failed`: the file or the database could not be read or written.
 */
export type AuditErrorCode =
  | AuditGapProblem
  | 'audit_torn'
  | 'audit_corrupt'
  | 'audit_db_inconsistent'
  | 'audit_encode_failed'
  | 'audit_event_reserved'
  | 'audit_flush_in_transaction'
  | 'audit_failed';

/** How many records one database read or file write handles. */
export const RECORD_BATCH = 500;

/** The database's chain head before the first record: what the first record continues from. */
export const EMPTY_AUDIT_HEAD: AuditHeadRow = { seq: 0, hash: GENESIS_HASH, flushedSeq: 0 };

/** A run of seqs as messages name it: "5" or "5..9". */
export function seqRange(from: number, to: number): string {
  return from === to ? `${from}` : `${from}..${to}`;
}

/** The refusal when the database's own copy of the chain has a hole; `what` says where. */
export function dbInconsistentError(what: string): AuditError {
  return new AuditError(
    `state database audit chain (audit_records / audit_head): ${what}, so the database was edited or damaged. Restore the state database (state.path) from a backup; \`mithai audit verify\` shows what the file still has.`,
    { code: 'audit_db_inconsistent' },
  );
}
