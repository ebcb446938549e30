/**
 * `mithai audit verify`: walks the hash chain of an audit log and names the first bad line.
 *
 * What it detects on the file alone: an edited record (its hash no longer matches its
 * contents), a removed record (a gap in `seq` and a `prev_hash` that points at nothing),
 * reordered records (`seq` out of order), lines that are not records at all, and a torn last
 * line (an interrupted write; `mithai audit repair` cuts it).
 *
 * What the file alone cannot show, by construction: records cut off the *end* (the chain up
 * to the cut is still valid), or a file rewritten wholesale with freshly computed hashes (there
 * is no key). The state database keeps its own copy of every record; {@link crossCheckAudit}
 * (cross-check.ts) compares the two and names both.
 */
import { existsSync, readFileSync } from 'node:fs';
import { AuditError, errorMessage } from '../errors.ts';
import { computeRecordHash, GENESIS_HASH, parseRecordLine } from './audit-chain.ts';

/** The verdict on an audit log. `records` counts the records that verified. */
export type AuditVerification = { ok: true; records: number } | { ok: false; line: number; reason: string; records: number };

/** What to tell someone whose log ends in a torn line. */
export const TORN_TAIL_ADVICE = '`mithai audit repair` cuts only the torn bytes (saving them next to the log) and records the repair in the chain';

/**
 * Verify the audit log at `path`. A missing file is a valid, empty log.
 *
 * @returns `{ ok: true, records }`, or `{ ok: false, line, reason, records }` naming the first
 *   bad line (1-based) and how many records before it verified.
 * @throws AuditError when the file exists but cannot be read.
 */
export function verifyAuditLog(path: string): AuditVerification {
  if (!existsSync(path)) return { ok: true, records: 0 };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AuditError(`audit log ${path} cannot be read (${errorMessage(err)}); check the path and its permissions`, { cause: err });
  }
  if (text === '') return { ok: true, records: 0 };
  const lines = text.split('\n');
  const endsWithNewline = lines[lines.length - 1] === '';
  if (endsWithNewline) lines.pop();
  return verifyAuditLines(lines, { endsWithNewline });
}

/**
 * Verify a chain given as lines (without their newlines), first line seq 1.
 *
 * @param options.endsWithNewline false when the last line had no newline (an interrupted
 *   write); it is then reported as torn even if it parses. Default true.
 */
export function verifyAuditLines(lines: readonly string[], options: { endsWithNewline?: boolean } = {}): AuditVerification {
  const endsWithNewline = options.endsWithNewline ?? true;
  let previousHash = GENESIS_HASH;
  let records = 0;
  const fail = (index: number, reason: string): AuditVerification => ({ ok: false, line: index + 1, reason, records });
  for (let i = 0; i < lines.length; i++) {
    const isLast = i === lines.length - 1;
    if (isLast && !endsWithNewline) {
      return fail(i, `the last line has no newline at the end: the last write was interrupted; ${TORN_TAIL_ADVICE}`);
    }
    const parsed = parseRecordLine(lines[i]!);
    if (!parsed.ok) {
      // Only the last line can be the victim of an interrupted write; anywhere else it is damage.
      return fail(i, isLast ? `${parsed.reason}; it is the last line, so the last write was probably interrupted: ${TORN_TAIL_ADVICE}` : parsed.reason);
    }
    const { record } = parsed;
    const expectedSeq = records + 1;
    if (record.seq > expectedSeq) {
      return fail(i, `seq ${record.seq} where ${expectedSeq} was expected: a record before this line was removed`);
    }
    if (record.seq < expectedSeq) {
      return fail(i, `seq ${record.seq} where ${expectedSeq} was expected: records were reordered or duplicated`);
    }
    if (record.prev_hash !== previousHash) {
      return fail(i, 'prev_hash does not match the hash of the previous record: a record before this line was removed, edited or replaced');
    }
    if (computeRecordHash(record) !== record.hash) {
      return fail(i, 'hash does not match the contents of the record: this line was edited');
    }
    previousHash = record.hash;
    records++;
  }
  return { ok: true, records };
}
