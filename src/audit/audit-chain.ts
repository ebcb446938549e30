/**
 * The hash chain shared by the audit appender and the verifier, so both compute hashes and
 * check record shapes the same way:
 * `hash = sha256(prev_hash + canonicalJson(record without hash))`, with the first record's
 * `prev_hash` being 64 zeros and `seq` starting at 1.
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
  v: 1;
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
 * Parse one line of the audit log and check it has well-formed chain fields.
 * Returns the record, or a reason in words why the line is not a record.
 */
export function parseRecordLine(line: string): { ok: true; record: Record<string, unknown> & ChainFields } | { ok: false; reason: string } {
  if (line.trim() === '') return { ok: false, reason: 'the line is empty' };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, reason: 'the line is not valid JSON (truncated or edited)' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, reason: 'the line is not a JSON object' };
  const record = value as Record<string, unknown>;
  if (record.v !== 1) return { ok: false, reason: `unknown record version ${JSON.stringify(record.v ?? null)} (this mithai writes v 1)` };
  if (typeof record.seq !== 'number' || !Number.isSafeInteger(record.seq) || record.seq < 1) return { ok: false, reason: 'seq is missing or not a positive whole number' };
  if (typeof record.prev_hash !== 'string' || !HEX64.test(record.prev_hash)) return { ok: false, reason: 'prev_hash is missing or not a sha256 hex digest' };
  if (typeof record.hash !== 'string' || !HEX64.test(record.hash)) return { ok: false, reason: 'hash is missing or not a sha256 hex digest' };
  return { ok: true, record: record as Record<string, unknown> & ChainFields };
}
