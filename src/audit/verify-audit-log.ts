/**
 * `mithai audit verify`: walks the hash chain of an audit log and names the first bad line.
 *
 * What it detects: an edited record (its hash no longer matches its contents), a removed
 * record (a gap in `seq` and a `prev_hash` that points at nothing), reordered records (`seq`
 * out of order), and lines that are not records at all.
 *
 * What it cannot detect, by construction: records cut off the *end* of the file (the chain up
 * to the cut is still valid), or a file rewritten wholesale with freshly computed hashes (there
 * is no key). Compare `records` with what you expect, and keep a copy elsewhere if that matters.
 */
import { existsSync, readFileSync } from 'node:fs';
import { AuditError, errorMessage } from '../errors.ts';
import { computeRecordHash, GENESIS_HASH, parseRecordLine } from './audit-chain.ts';

/** The verdict on an audit log. `records` counts the records that verified. */
export type AuditVerification = { ok: true; records: number } | { ok: false; line: number; reason: string; records: number };

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

  let previousHash = GENESIS_HASH;
  let records = 0;
  const fail = (index: number, reason: string): AuditVerification => ({ ok: false, line: index + 1, reason, records });
  for (let i = 0; i < lines.length; i++) {
    const parsed = parseRecordLine(lines[i]!);
    if (!parsed.ok) return fail(i, parsed.reason);
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
    if (i === lines.length - 1 && !endsWithNewline) {
      return fail(i, 'the last line has no newline at the end: the last write was interrupted, and mithai will not append after it');
    }
    previousHash = record.hash;
    records++;
  }
  return { ok: true, records };
}
