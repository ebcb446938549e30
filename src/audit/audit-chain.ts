/**
 * The hash chain shared by the audit appender and the verifier, so both compute hashes and
 * check record shapes the same way:
 * `hash = sha256(prev_hash + canonicalJson(record without hash))`, with the first record's
 * `prev_hash` being 64 zeros and `seq` starting at 1.
 *
 * A record has exactly one line: {@link recordLine}, the canonical JSON of the whole record
 * (hash included; keys sorted at every depth, no whitespace, JSON.stringify's number and
 * string forms). The appender writes that and nothing else, and the verifier requires those
 * exact bytes ({@link lineMismatch}): a line that merely parses to the same record (duplicate
 * keys, other key order, whitespace, `1e0` for `1`, `\u0061` for `a`, a BOM, a CR) is a
 * rewritten line, not a record that verifies.
 */
import { createHash } from 'node:crypto';
import { canonicalJson } from './canonical-json.ts';

/** `prev_hash` of the first record in a file. */
export const GENESIS_HASH = '0'.repeat(64);

/** The end of a chain: what the next record must continue from. */
export interface ChainHead {
  /** seq of the last record (0 for an empty log). */
  seq: number;
  /** hash of the last record ({@link GENESIS_HASH} for an empty log). */
  hash: string;
}

/** The chain fields of a parsed line, when it has them all. */
export interface ChainFields {
  v: 1 | 2;
  seq: number;
  prev_hash: string;
  hash: string;
}

const HEX64 = /^[0-9a-f]{64}$/;

/**
 * The hash a record must carry: sha256 over the previous hash and the canonical JSON of every
 * field except `hash` itself (so `prev_hash`, `seq` and `time` are covered too).
 */
export function computeRecordHash(record: object): string {
  // Any object: records are plain JSON data, so reading it as a string-keyed map is exact.
  const { hash: _ignored, ...rest } = record as Readonly<Record<string, unknown>>;
  const prev = typeof rest.prev_hash === 'string' ? rest.prev_hash : '';
  return createHash('sha256').update(prev).update(canonicalJson(rest)).digest('hex');
}

/**
 * The line the file holds for `record` (without its newline): its canonical JSON, hash
 * included. The only serialization the appender writes and the only bytes the verifier
 * accepts; `audit_records.line` in the state database holds the same string.
 *
 * @throws InternalError when the record is not plain JSON data (see canonicalJson).
 */
export function recordLine(record: object): string {
  // Records of version 1 were written by JSON.stringify in the writer's key order; their one
  // byte form is that (a parse keeps key order, so any rewrite of such a line — duplicate keys,
  // whitespace, number format, escapes — still differs). Version 2 lines are canonical JSON.
  if ((record as { v?: unknown }).v === LEGACY_RECORD_VERSION) return JSON.stringify(record);
  return canonicalJson(record);
}

/** The record version written by mithai before lines were canonical JSON (still verified, never written). */
export const LEGACY_RECORD_VERSION = 1;
/** The record version this mithai writes. */
export const RECORD_VERSION = 2 as const;

/**
 * Why `line` is not exactly {@link recordLine} of the record it parsed to, in words, or
 * undefined when it is. `record` must be what {@link parseRecordLine} returned for `line`.
 */
export function lineMismatch(line: string, record: object): string | undefined {
  const expected = recordLine(record);
  if (line === expected) return undefined;
  let how: string;
  if (line.startsWith('\uFEFF')) how = 'it starts with a byte order mark (U+FEFF)';
  else if (line.endsWith('\r')) how = 'it ends with a carriage return (a CRLF line ending)';
  else if (line.trim() !== line) how = 'it has whitespace before or after the record';
  else if (line.length === expected.length && [...line].sort().join('') === [...expected].sort().join('')) how = 'its keys are not in canonical (sorted) order';
  else {
    let at = 0;
    while (at < line.length && line[at] === expected[at]) at++;
    const show = (text: string): string => JSON.stringify(text.slice(at, at + 24));
    how = `from character ${at + 1} it has ${show(line)} where the canonical form has ${show(expected)} (duplicate keys, key order, whitespace, number format or string escapes differ)`;
  }
  return `the line is not the canonical form of its record: it parses to a record whose hash verifies, but its bytes are not the bytes mithai writes for that record (${how}); the line was rewritten after it was written. Restore the original line`;
}

/**
 * Parse one line of the audit log and check it has well-formed chain fields.
 * Returns the record, or a reason in words why the line is not a record.
 */
export function parseRecordLine(line: string): { ok: true; record: Record<string, unknown> & ChainFields } | { ok: false; reason: string } {
  if (line.trim() === '') return { ok: false, reason: 'the line is empty' };
  let value: unknown;
  try {
    // A leading BOM still leaves a record (it is refused as not canonical, not as torn).
    value = JSON.parse(line.startsWith('\uFEFF') ? line.slice(1) : line);
  } catch {
    return { ok: false, reason: 'the line is not valid JSON (truncated or edited)' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'the line is not a JSON object' };
  const record = value as Record<string, unknown>;
  if (record.v !== RECORD_VERSION && record.v !== LEGACY_RECORD_VERSION) return { ok: false, reason: `unknown record version ${JSON.stringify(record.v ?? null)} (this mithai writes v ${RECORD_VERSION} and reads v ${LEGACY_RECORD_VERSION})` };
  if (typeof record.seq !== 'number' || !Number.isSafeInteger(record.seq) || record.seq < 1) return { ok: false, reason: 'seq is missing or not a positive whole number' };
  if (typeof record.prev_hash !== 'string' || !HEX64.test(record.prev_hash)) return { ok: false, reason: 'prev_hash is missing or not a sha256 hex digest' };
  if (typeof record.hash !== 'string' || !HEX64.test(record.hash)) return { ok: false, reason: 'hash is missing or not a sha256 hex digest' };
  return { ok: true, record: record as Record<string, unknown> & ChainFields };
}
