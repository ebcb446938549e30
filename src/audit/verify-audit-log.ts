/**
 * `mithai audit verify`: walks the hash chain of an audit log and names the first bad line.
 *
 * What it detects on the file alone: an edited record (its hash no longer matches its
 * contents), a removed record (a gap in `seq` and a `prev_hash` that points at nothing),
 * reordered records (`seq` out of order), lines that are not records at all, a torn last
 * line (an interrupted write; `mithai audit repair` cuts it), and a line that parses to a
 * valid record but is not byte-for-byte the line mithai writes for it (`recordLine`: the
 * canonical JSON of the whole record): duplicate keys, re-ordered keys, whitespace, another
 * number format or string escape, a BOM, a CRLF ending, bytes that are not valid UTF-8. A line
 * verifies as bytes, not as a parse.
 *
 * What the file alone cannot show, by construction: records cut off the *end* (the chain up
 * to the cut is still valid), or a file rewritten wholesale with freshly computed hashes (there
 * is no key). The state database keeps its own copy of every record; {@link crossCheckAudit}
 * (cross-check.ts) compares the two and names both.
 */
import { existsSync, readFileSync } from 'node:fs';
import { AuditError, errorMessage } from '../errors.ts';
import { computeRecordHash, GENESIS_HASH, lineMismatch, parseRecordLine } from './audit-chain.ts';

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
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new AuditError(`audit log ${path} cannot be read (${errorMessage(err)}); check the path and its permissions`, { cause: err });
  }
  if (bytes.length === 0) return { ok: true, records: 0 };
  const lines: string[] = [];
  // The first line whose bytes are not valid UTF-8 (0-based): decoding would replace them
  // with U+FFFD, and the decoded text could then equal a canonical line it is not.
  let badUtf8 = -1;
  let start = 0;
  for (;;) {
    const nl = bytes.indexOf(0x0a, start);
    const raw = bytes.subarray(start, nl === -1 ? bytes.length : nl);
    const line = raw.toString('utf8');
    if (badUtf8 === -1 && !Buffer.from(line, 'utf8').equals(raw)) badUtf8 = lines.length;
    lines.push(line);
    if (nl === -1) break;
    start = nl + 1;
  }
  const endsWithNewline = lines[lines.length - 1] === '';
  if (endsWithNewline) lines.pop();
  const verdict = verifyAuditLines(lines, { endsWithNewline });
  if (badUtf8 === -1 || badUtf8 >= lines.length) return verdict;
  if (!verdict.ok && verdict.line - 1 < badUtf8) return verdict;
  const torn = !endsWithNewline && badUtf8 === lines.length - 1;
  if (torn && !verdict.ok) return verdict;
  return { ok: false, line: badUtf8 + 1, records: badUtf8, reason: 'the line is not valid UTF-8, so it is not the bytes mithai writes for any record (mithai writes canonical JSON in UTF-8); the line was damaged or rewritten' };
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
    // Same record, other bytes (a BOM, CR, whitespace, key order, duplicate keys, number or
    // escape forms): the hash cannot see it, so compare the line with what the writer writes.
    const mismatch = lineMismatch(lines[i]!, record);
    if (mismatch !== undefined) return fail(i, mismatch);
    previousHash = record.hash;
    records++;
  }
  return { ok: true, records };
}
