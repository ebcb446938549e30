/**
 * The start-up check behind `AuditLog.prepare` and `AuditLog.repairTornTail`: reconcile the
 * audit file with the database's chain. It cuts a torn last line (recording the repair in the
 * chain), notes a file behind the database since a crash between commit and flush, imports a
 * file written by an older mithai, and refuses, with a named `AuditErrorCode`, a file that
 * lost records, was replaced, or is ahead of the database, unless the operator accepts the
 * gap; then it makes the next flush rewrite what is missing and records the gap.
 *
 * Nothing here ever starts a new chain on top of an old file, and nothing advises moving the
 * whole file aside: that would cut off the history the log exists to keep.
 */
import { fsyncSync, ftruncateSync } from 'node:fs';
import { basename } from 'node:path';
import { AuditError } from '../errors.ts';
import type { AuditHeadRow, AuditStore } from '../state/audit-store.ts';
import { parseRecordLine } from './audit-chain.ts';
import { moveAside, readAuditFile, saveAside, withFd, type AuditFileContents } from './audit-file.ts';
import { ACCEPT_GAP_FLAG, dbInconsistentError, EMPTY_AUDIT_HEAD, RECORD_BATCH, seqRange } from './audit-outbox.ts';
import { verifyAuditLines } from './verify-audit-log.ts';
import type { AuditGapInput, AuditGapProblem, AuditRepairedInput, SystemAuditInput, SystemAuditRecord } from './types.ts';

/** Options for `AuditLog.prepare`. */
export interface AuditPrepareOptions {
  /**
   * The operator accepts that the file lost records, was replaced, or is ahead of the
   * database ({@link ACCEPT_GAP_FLAG}): missing records are written back from the database
   * (byte-identical, so the chain verifies), a replaced or ahead file is moved aside to a
   * named file and rebuilt from the database, and an `audit_gap` record says what happened.
   */
  acceptGap?: boolean;
}

/** Something `AuditLog.prepare` or `AuditLog.repairTornTail` found and dealt with; log it. */
export interface AuditFinding {
  /**
   * `audit_repaired`: a torn last line was cut (see {@link AuditTornCut}).
   * `audit_caught_up`: committed records were missing from the file's end (a crash between a
   *   commit and its flush) and were written.
   * `audit_imported`: the database had no chain yet and adopted the file's (an upgrade).
   * `audit_gap`: an operator-accepted gap (`acceptGap`) was repaired from the database.
   */
  code: 'audit_repaired' | 'audit_caught_up' | 'audit_imported' | 'audit_gap';
  /** What happened, in words, with paths and seqs. */
  message: string;
  /** seq of the chain record that records it (`audit_repaired`, `audit_gap`), else null. */
  seq: number | null;
}

/** A torn last line that was cut. */
export interface AuditTornCut extends AuditFinding {
  code: 'audit_repaired';
  seq: number;
  /** How many bytes were cut. */
  removedBytes: number;
  /** Byte offset the cut started at (the file's size afterwards). */
  offset: number;
  /** Absolute path of the file the cut bytes were saved to. */
  savedTo: string;
  /** seq of the last intact record in the file (0 when none). */
  afterSeq: number;
}

/** What `AuditLog.prepare` did. */
export interface AuditPrepareReport {
  /** What was found and dealt with, in order; empty when file and database agreed. */
  findings: AuditFinding[];
  /** seq of the last record, now in both the database and the file. */
  seq: number;
}

/**
 * How far {@link reconcileAuditFile} goes: `strict` refuses a gap, `accept` repairs it (the
 * operator passed {@link ACCEPT_GAP_FLAG}), `torn_only` only cuts a torn tail.
 */
export type ReconcileMode = 'strict' | 'accept' | 'torn_only';

/** What reconciling needs of the audit log it runs for. */
export interface ReconcileTarget {
  /** Absolute path of the log file. */
  path: string;
  /** The outbox; a `BEGIN IMMEDIATE` transaction is open on it. */
  store: AuditStore;
  /** Clock for the names of saved-aside files. */
  now: () => Date;
  /** Build, hash and store a system record after the database head (inside the transaction). */
  recordSystem(fields: SystemAuditInput): SystemAuditRecord;
}

/** A problem only an operator may accept. */
interface GapProblem {
  code: AuditGapProblem;
  from: number;
  to: number;
  message: string;
}

/**
 * Inside BEGIN IMMEDIATE: compare file and database, decide, then change things. All
 * decisions come before any change, so a refusal leaves file and database as they were.
 *
 * @returns what was found and dealt with, in order.
 * @throws AuditError coded with the gap problem (`strict`), `audit_corrupt`,
 *   `audit_db_inconsistent`, or uncoded when the file cannot be used.
 */
export function reconcileAuditFile(log: ReconcileTarget, mode: ReconcileMode): AuditFinding[] {
  const findings: AuditFinding[] = [];
  const scan = readAuditFile(log.path);
  let head = log.store.head();
  if (head === undefined && log.store.count() > 0) throw dbInconsistentError('the chain head is missing although records exist');
  if (head === undefined && scan.lines.length > 0) {
    findings.push(importFile(log, scan.lines));
    head = log.store.head();
  }
  const current = head ?? EMPTY_AUDIT_HEAD;
  const problem = mode === 'torn_only' ? undefined : diagnose(log, scan, current);
  if (problem !== undefined && mode !== 'accept') {
    const tornNote = scan.torn === null ? '' : ` The file also ends with a torn line (${scan.torn.bytes.length} bytes), which will be cut once this is resolved.`;
    throw new AuditError(problem.message + tornNote, { code: problem.code });
  }
  // A file about to be moved aside whole keeps its torn bytes with it; cutting them first
  // would change the file before the step most likely to fail (the rename).
  const movesAside = problem?.code === 'audit_replaced' || problem?.code === 'audit_ahead';
  if (scan.torn !== null && !movesAside) findings.push(cutTorn(log, scan, scan.torn));
  if (problem !== undefined) findings.push(acceptGap(log, problem, scan.lines.length, current));
  else if (mode !== 'torn_only' && scan.lines.length < current.seq) {
    findings.push({
      code: 'audit_caught_up',
      seq: null,
      message: `audit log ${log.path}: records ${seqRange(scan.lines.length + 1, current.seq)} were committed to the state database but not yet written to the file (mithai stopped between a commit and its flush); writing them now`,
    });
  }
  return findings;
}

/** What an operator would have to accept, or undefined when the file is a prefix of the database. */
function diagnose(log: ReconcileTarget, scan: AuditFileContents, head: AuditHeadRow): GapProblem | undefined {
  const n = scan.lines.length;
  const accept = `pass ${ACCEPT_GAP_FLAG}`;
  if (!scan.exists && head.flushedSeq > 0) {
    return {
      code: 'audit_file_missing',
      from: 1,
      to: head.flushedSeq,
      message:
        `audit log ${log.path} is missing, but the state database says records ${seqRange(1, head.flushedSeq)} were already written to it. ` +
        `Restore the file from a backup, or ${accept} to rewrite it from the database's copy of every record (the gap is recorded in the chain).`,
    };
  }
  const overlap = Math.min(n, head.seq);
  for (let from = 1; from <= overlap; from += RECORD_BATCH) {
    const rows = log.store.recordsFrom(from, Math.min(RECORD_BATCH, overlap - from + 1));
    for (let seq = from; seq < from + RECORD_BATCH && seq <= overlap; seq++) {
      const row = rows[seq - from];
      if (row?.seq !== seq) throw dbInconsistentError(`it has no record at seq ${seq} although its head is at seq ${head.seq}`);
      const line = scan.lines[seq - 1]!;
      if (row.line === line) continue;
      const parsed = parseRecordLine(line);
      const found = parsed.ok ? `seq ${parsed.record.seq} with hash ${parsed.record.hash}` : `a line that is not a record (${parsed.reason})`;
      return {
        code: 'audit_replaced',
        from: seq,
        to: Math.max(n, head.seq),
        message:
          `audit log ${log.path} line ${seq} differs from the record the state database committed at seq ${seq} (the file has ${found}, the database has hash ${row.hash}): ` +
          `the file was replaced or edited. Restore the original file, or ${accept} to move this file aside to ${basename(log.path)}.replaced-<time> and rebuild the log from the database (the gap is recorded in the chain).`,
      };
    }
  }
  if (n > head.seq) {
    return {
      code: 'audit_ahead',
      from: head.seq + 1,
      to: n,
      message:
        `audit log ${log.path} has records up to seq ${n}, but the state database only knows records up to seq ${head.seq}: records ${seqRange(head.seq + 1, n)} were never committed to this database ` +
        `(was the state database restored from an older backup, or is state.path pointing at another project's?). Restore the matching state database, or ${accept} to move this file aside to ${basename(log.path)}.ahead-<time> and rebuild the log from the database (the gap is recorded in the chain).`,
    };
  }
  if (n < head.flushedSeq) {
    return {
      code: 'audit_tail_missing',
      from: n + 1,
      to: head.flushedSeq,
      message:
        `audit log ${log.path} ends at seq ${n}, but the state database says records up to seq ${head.flushedSeq} were written to it: records ${seqRange(n + 1, head.flushedSeq)} were cut off the end of the file. ` +
        `Restore the file from a backup, or ${accept} to write them back from the database's copy (byte-identical, so the chain verifies) and record the gap in the chain.`,
    };
  }
  return undefined;
}

/** Adopt the chain of a file written before the database kept one (an upgrade). */
function importFile(log: ReconcileTarget, lines: readonly string[]): AuditFinding {
  const verdict = verifyAuditLines(lines);
  if (!verdict.ok) {
    throw new AuditError(
      `audit log ${log.path} line ${verdict.line} is not a valid record (${verdict.reason}). The state database has no audit chain yet, so mithai would adopt this file's, ` +
        'but it will not adopt (or continue) a broken one. Restore the file from a backup; `mithai audit verify` names the bad line.',
      { code: 'audit_corrupt' },
    );
  }
  for (let i = 0; i < lines.length; i++) {
    const parsed = parseRecordLine(lines[i]!);
    if (!parsed.ok) throw new AuditError(`audit log ${log.path} line ${i + 1}: ${parsed.reason}`, { code: 'audit_corrupt' });
    log.store.appendRecord({ seq: parsed.record.seq, hash: parsed.record.hash, line: lines[i]! });
  }
  log.store.setFlushedSeq(lines.length);
  return { code: 'audit_imported', seq: null, message: `audit log ${log.path}: imported its ${lines.length} records into the state database, which now continues the chain from seq ${lines.length}` };
}

/** Save the torn bytes aside, cut them off, and record the repair (flushed later). */
function cutTorn(log: ReconcileTarget, scan: AuditFileContents, torn: { offset: number; bytes: Buffer }): AuditTornCut {
  const savedTo = saveAside(log.path, 'torn', torn.bytes, log.now);
  withFd(log.path, 'r+', (fd) => {
    ftruncateSync(fd, torn.offset);
    fsyncSync(fd);
  });
  const afterSeq = scan.lines.length;
  const reason = `cut a torn last line (${torn.bytes.length} bytes at byte ${torn.offset}, after seq ${afterSeq}): the last write was interrupted; the bytes were saved to ${basename(savedTo)}`;
  const record = log.recordSystem({
    event: 'audit_repaired',
    removed_bytes: torn.bytes.length,
    removed_at_offset: torn.offset,
    saved_to: basename(savedTo),
    after_seq: afterSeq,
    reason,
  } satisfies AuditRepairedInput);
  return {
    code: 'audit_repaired',
    seq: record.seq,
    message: `audit log ${log.path}: ${reason.replace(basename(savedTo), savedTo)}; recorded as seq ${record.seq}`,
    removedBytes: torn.bytes.length,
    offset: torn.offset,
    savedTo,
    afterSeq,
  };
}

/** Apply an operator-accepted gap: make the next flush rewrite what is missing, and record it. */
function acceptGap(log: ReconcileTarget, problem: GapProblem, fileRecords: number, head: AuditHeadRow): AuditFinding {
  let movedAside: string | null = null;
  let keep = fileRecords;
  if (problem.code === 'audit_replaced' || problem.code === 'audit_ahead') {
    movedAside = moveAside(log.path, problem.code === 'audit_replaced' ? 'replaced' : 'ahead', log.now);
    keep = 0;
  } else if (problem.code === 'audit_file_missing') {
    keep = 0;
  }
  // The next flush writes every record after `keep` from the database.
  log.store.setFlushedSeq(keep);
  const restored = head.seq - keep;
  const reason =
    `${problem.code}: ${describeGap(problem)}; the operator accepted it (${ACCEPT_GAP_FLAG}), so ${restored} records were written back from the state database` +
    (movedAside === null ? '' : ` after moving the file aside to ${basename(movedAside)}`);
  const record = log.recordSystem({
    event: 'audit_gap',
    problem: problem.code,
    from_seq: problem.from,
    to_seq: problem.to,
    restored,
    moved_aside_to: movedAside === null ? null : basename(movedAside),
    accepted_by_operator: true,
    reason,
  } satisfies AuditGapInput);
  return { code: 'audit_gap', seq: record.seq, message: `audit log ${log.path}: ${movedAside === null ? reason : reason.replace(basename(movedAside), movedAside)}; recorded as seq ${record.seq}` };
}

/** The gap in words, for the `audit_gap` record's reason. */
function describeGap(problem: GapProblem): string {
  switch (problem.code) {
    case 'audit_tail_missing':
      return `records ${seqRange(problem.from, problem.to)} were missing from the end of the file`;
    case 'audit_file_missing':
      return `the file was missing (records ${seqRange(problem.from, problem.to)} had been written to it)`;
    case 'audit_replaced':
      return `the file differed from the database from seq ${problem.from}`;
    case 'audit_ahead':
      return `the file had records ${seqRange(problem.from, problem.to)} that the database never committed`;
  }
}
