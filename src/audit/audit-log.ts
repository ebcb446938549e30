/**
 * The audit log (SECURITY-BASELINE §6): a transactional outbox in the state database, mirrored
 * to `memory/approvals.json` (JSON Lines, hash-chained).
 *
 * - {@link AuditLog.append} computes the next record from the database's chain head and
 *   inserts it, with the exact line the file will hold, inside the caller's transaction. A
 *   state change and its audit record therefore commit (or roll back) together; the file is
 *   not touched.
 * - {@link AuditLog.flush}, after the commit, copies every committed record the file does not
 *   have yet, in seq order, and fsyncs. It runs under `BEGIN IMMEDIATE`: the database write
 *   lock is what serialises two processes writing the same file, so the chain cannot fork.
 *   When it throws, the caller must not act on what it recorded (run the tool).
 * - {@link AuditLog.prepare}, at start-up, reconciles the file with the database: it cuts a
 *   torn last line (recording the repair in the chain), catches the file up after a crash
 *   between commit and flush, imports a file written by an older mithai, and refuses, with a
 *   named {@link AuditErrorCode}, a file that lost records, was replaced, or is ahead of the
 *   database, unless the operator accepts the gap (`acceptGap`).
 *
 * The file is therefore always a prefix of the database's chain. Nothing here ever starts a
 * new chain on top of an old one, and nothing advises moving the whole file aside: that would
 * cut off the history the log exists to keep.
 */
import { closeSync, fstatSync, fsyncSync, ftruncateSync, mkdirSync, openSync, readSync, renameSync, statSync, writeSync, type Stats } from 'node:fs';
import { basename, dirname, resolve } from 'node:path';
import { AuditError, errorMessage } from '../errors.ts';
import type { Redactor } from '../security/redactor.ts';
import type { AuditHeadRow, AuditStore } from '../state/audit-store.ts';
import { computeRecordHash, GENESIS_HASH, parseRecordLine } from './audit-chain.ts';
import { verifyAuditLines } from './verify-audit-log.ts';
import { SYSTEM_AUDIT_EVENTS } from './types.ts';
import type { AuditEventInput, AuditGapInput, AuditGapProblem, AuditRecord, AuditRepairedInput, AuditSink, SystemAuditInput, SystemAuditRecord } from './types.ts';

/**
 * The command-line flag an operator passes to accept a gap (what `acceptGap: true` stands
 * for). Error messages name it; the CLI should define the flag with this exact spelling.
 */
export const ACCEPT_GAP_FLAG = '--accept-audit-gap';

/**
 * Stable codes of the {@link AuditError}s this module throws.
 *
 * - `audit_tail_missing`, `audit_file_missing`, `audit_replaced`, `audit_ahead`: the file
 *   disagrees with the database in a way only an operator may accept (`acceptGap`).
 * - `audit_torn`: {@link AuditLog.flush} found a torn last line; `prepare` or
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

/** Options for {@link AuditLog.open}. */
export interface AuditLogOptions {
  /** Redacts `input` and `reason` before they are recorded. */
  redactor: Redactor;
  /** The outbox in the state database; the source of truth for the chain. */
  store: AuditStore;
  /** Clock for the `time` field and the names of saved-aside files (default: the system clock). */
  now?: () => Date;
}

/** Options for {@link AuditLog.prepare}. */
export interface AuditPrepareOptions {
  /**
   * The operator accepts that the file lost records, was replaced, or is ahead of the
   * database ({@link ACCEPT_GAP_FLAG}): missing records are written back from the database
   * (byte-identical, so the chain verifies), a replaced or ahead file is moved aside to a
   * named file and rebuilt from the database, and an `audit_gap` record says what happened.
   */
  acceptGap?: boolean;
}

/** Something {@link AuditLog.prepare} or {@link AuditLog.repairTornTail} found and dealt with; log it. */
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

/** What {@link AuditLog.prepare} did. */
export interface AuditPrepareReport {
  /** What was found and dealt with, in order; empty when file and database agreed. */
  findings: AuditFinding[];
  /** seq of the last record, now in both the database and the file. */
  seq: number;
}

/** How many records one database read or file write handles. */
const BATCH = 500;
const TAIL_CHUNK = 64 * 1024;
const EMPTY_HEAD: AuditHeadRow = { seq: 0, hash: GENESIS_HASH, flushedSeq: 0 };

/** A problem only an operator may accept. */
interface GapProblem {
  code: AuditGapProblem;
  from: number;
  to: number;
  message: string;
}

/** An audit file as read whole (start-up, verify): its complete lines, and a torn tail if it has one. */
export interface AuditFileContents {
  /** False when there is no file at the path. */
  exists: boolean;
  /** Complete record lines, without newlines, not including a torn tail; line i is seq i + 1. */
  lines: string[];
  /** The torn last line (no newline, or a last line that is not a record), if any. */
  torn: { offset: number; bytes: Buffer } | null;
}

/** Appends hash-chained audit records to the state database and mirrors them to a file. */
export class AuditLog implements AuditSink {
  /** Absolute path of the log file. */
  readonly path: string;
  readonly #redactor: Redactor;
  readonly #store: AuditStore;
  readonly #now: () => Date;

  private constructor(path: string, options: AuditLogOptions) {
    this.path = path;
    this.#redactor = options.redactor;
    this.#store = options.store;
    this.#now = options.now ?? (() => new Date());
  }

  /**
   * Open an audit log: create its folder (mode 0700) and check the path is not something
   * other than a file. Cheap and read-only otherwise: call {@link AuditLog.prepare} at
   * start-up to reconcile the file with the database. The file itself (mode 0600) is created
   * by the first flush, so a file deleted behind our back is noticed rather than recreated.
   *
   * @throws AuditError when the folder cannot be created or the path is not a regular file.
   */
  static open(path: string, options: AuditLogOptions): AuditLog {
    const absPath = resolve(path);
    try {
      mkdirSync(dirname(absPath), { recursive: true, mode: 0o700 });
    } catch (err) {
      throw new AuditError(`audit log ${absPath}: cannot create its folder (${errorMessage(err)}); check that the memory path is writable`, { cause: err });
    }
    const stats = statIfExists(absPath);
    if (stats !== undefined && !stats.isFile()) {
      throw new AuditError(`audit log ${absPath} is not a regular file; check the memory path`);
    }
    return new AuditLog(absPath, options);
  }

  /**
   * Record one event: compute seq, prev_hash and hash from the database's chain head, insert
   * the record with its exact file line, and move the head. Runs inside the caller's open
   * transaction (so it commits or rolls back with the state change), or in its own
   * `BEGIN IMMEDIATE` when none is open. Does not touch the file: call {@link flush} after the
   * commit.
   *
   * @returns the record as it will be written, with v, seq, time, prev_hash and hash.
   * @throws AuditError when the record cannot be encoded or stored; the caller's transaction
   *   must then roll back (a change that could not be audited did not happen).
   */
  append(input: AuditEventInput): AuditRecord {
    if (SYSTEM_AUDIT_EVENTS.has(input.event)) {
      throw new AuditError(`audit log ${this.path}: event ${input.event} is written only by the audit log itself`, { code: 'audit_event_reserved' });
    }
    const fields = this.#redactedFields(input);
    return this.#guard('the record was not saved', () =>
      this.#store.transaction(() => this.#record(fields)),
    );
  }

  /**
   * Copy every committed record the file does not have yet to its end, in seq order, fsync,
   * and note how far the file goes. Before writing, checks that the file's last line is the
   * database's record at that seq, so a file that was cut, replaced or torn is never
   * continued. Cheap (one read) when nothing is waiting; idempotent.
   *
   * @throws AuditError when the file cannot be brought up to date (see {@link AuditErrorCode});
   *   the caller must then not run the tool it recorded.
   */
  flush(): void {
    this.#refuseInTransaction('flush');
    const head = this.#guard('nothing was written', () => this.#store.head());
    if (head === undefined || head.flushedSeq === head.seq) return;
    this.#guard('the file was not brought up to date', () => this.#store.transaction(() => this.#flushLocked()));
  }

  /**
   * The start-up check: reconcile the file with the database, then flush. Call once when the
   * runtime starts, after opening the database, before serving; log every finding.
   *
   * Repairs by itself (each reported as a finding): a torn last line (cut, saved next to the
   * log as `<file>.torn-<time>`, and recorded as an `audit_repaired` record); a file behind
   * the database since a crash between commit and flush (written); a database with no chain
   * yet and a file from an older mithai (imported, the file's tail adopted as the head).
   *
   * Refuses, unless `acceptGap`, with an AuditError coded `audit_tail_missing` (records the
   * database says were flushed are gone from the end), `audit_file_missing` (the file is gone
   * while the database has flushed records), `audit_replaced` (a line differs from the
   * database's record at that seq) or `audit_ahead` (the file has records the database never
   * committed). Nothing is changed when it refuses.
   *
   * @throws AuditError as above, `audit_corrupt` when a file to import does not verify,
   *   `audit_db_inconsistent`, or `audit_failed` when the file or database cannot be used.
   */
  prepare(options: AuditPrepareOptions = {}): AuditPrepareReport {
    this.#refuseInTransaction('prepare');
    const findings = this.#guard('the start-up check did not finish', () => this.#store.transaction(() => this.#reconcile(options.acceptGap === true ? 'accept' : 'strict')));
    this.flush();
    return { findings, seq: this.#store.head()?.seq ?? 0 };
  }

  /**
   * Cut a torn last line, and only that (`mithai audit repair`): the bytes are saved next to
   * the log as `<file>.torn-<time>` and an `audit_repaired` record is added to the chain.
   * Other disagreements with the database are left for {@link prepare} to name. Does not
   * flush: call {@link flush} afterwards to write the repair record (and anything else
   * waiting) to the file.
   *
   * @returns what was cut, or null when the last line was intact.
   * @throws AuditError when the file or database cannot be used, or a file to import does not
   *   verify (`audit_corrupt`).
   */
  repairTornTail(): AuditTornCut | null {
    this.#refuseInTransaction('repairTornTail');
    const findings = this.#guard('the repair did not finish', () => this.#store.transaction(() => this.#reconcile('torn_only')));
    return findings.find((f): f is AuditTornCut => f.code === 'audit_repaired') ?? null;
  }

  /**
   * Inside BEGIN IMMEDIATE: compare file and database, decide, then change things. All
   * decisions come before any change, so a refusal leaves file and database as they were.
   */
  #reconcile(mode: 'strict' | 'accept' | 'torn_only'): AuditFinding[] {
    const findings: AuditFinding[] = [];
    const scan = readAuditFile(this.path);
    let head = this.#store.head();
    if (head === undefined && this.#store.count() > 0) throw this.#dbInconsistent('the chain head is missing although records exist');
    if (head === undefined && scan.lines.length > 0) {
      findings.push(this.#importFile(scan.lines));
      head = this.#store.head();
    }
    const current = head ?? EMPTY_HEAD;
    const problem = mode === 'torn_only' ? undefined : this.#diagnose(scan, current);
    if (problem !== undefined && mode !== 'accept') {
      const tornNote = scan.torn === null ? '' : ` The file also ends with a torn line (${scan.torn.bytes.length} bytes), which will be cut once this is resolved.`;
      throw new AuditError(problem.message + tornNote, { code: problem.code });
    }
    // A file about to be moved aside whole keeps its torn bytes with it; cutting them first
    // would change the file before the step most likely to fail (the rename).
    const movesAside = problem?.code === 'audit_replaced' || problem?.code === 'audit_ahead';
    if (scan.torn !== null && !movesAside) findings.push(this.#cutTorn(scan, scan.torn));
    if (problem !== undefined) findings.push(this.#acceptGap(problem, scan.lines.length, current));
    else if (mode !== 'torn_only' && scan.lines.length < current.seq) {
      findings.push({
        code: 'audit_caught_up',
        seq: null,
        message: `audit log ${this.path}: records ${range(scan.lines.length + 1, current.seq)} were committed to the state database but not yet written to the file (mithai stopped between a commit and its flush); writing them now`,
      });
    }
    return findings;
  }

  /** What an operator would have to accept, or undefined when the file is a prefix of the database. */
  #diagnose(scan: AuditFileContents, head: AuditHeadRow): GapProblem | undefined {
    const n = scan.lines.length;
    const accept = `pass ${ACCEPT_GAP_FLAG}`;
    if (!scan.exists && head.flushedSeq > 0) {
      return {
        code: 'audit_file_missing',
        from: 1,
        to: head.flushedSeq,
        message:
          `audit log ${this.path} is missing, but the state database says records ${range(1, head.flushedSeq)} were already written to it. ` +
          `Restore the file from a backup, or ${accept} to rewrite it from the database's copy of every record (the gap is recorded in the chain).`,
      };
    }
    const overlap = Math.min(n, head.seq);
    for (let from = 1; from <= overlap; from += BATCH) {
      const rows = this.#store.recordsFrom(from, Math.min(BATCH, overlap - from + 1));
      for (let seq = from; seq < from + BATCH && seq <= overlap; seq++) {
        const row = rows[seq - from];
        if (row?.seq !== seq) throw this.#dbInconsistent(`it has no record at seq ${seq} although its head is at seq ${head.seq}`);
        const line = scan.lines[seq - 1]!;
        if (row.line === line) continue;
        const parsed = parseRecordLine(line);
        const found = parsed.ok ? `seq ${parsed.record.seq} with hash ${parsed.record.hash}` : `a line that is not a record (${parsed.reason})`;
        return {
          code: 'audit_replaced',
          from: seq,
          to: Math.max(n, head.seq),
          message:
            `audit log ${this.path} line ${seq} differs from the record the state database committed at seq ${seq} (the file has ${found}, the database has hash ${row.hash}): ` +
            `the file was replaced or edited. Restore the original file, or ${accept} to move this file aside to ${basename(this.path)}.replaced-<time> and rebuild the log from the database (the gap is recorded in the chain).`,
        };
      }
    }
    if (n > head.seq) {
      return {
        code: 'audit_ahead',
        from: head.seq + 1,
        to: n,
        message:
          `audit log ${this.path} has records up to seq ${n}, but the state database only knows records up to seq ${head.seq}: records ${range(head.seq + 1, n)} were never committed to this database ` +
          `(was the state database restored from an older backup, or is state.path pointing at another project's?). Restore the matching state database, or ${accept} to move this file aside to ${basename(this.path)}.ahead-<time> and rebuild the log from the database (the gap is recorded in the chain).`,
      };
    }
    if (n < head.flushedSeq) {
      return {
        code: 'audit_tail_missing',
        from: n + 1,
        to: head.flushedSeq,
        message:
          `audit log ${this.path} ends at seq ${n}, but the state database says records up to seq ${head.flushedSeq} were written to it: records ${range(n + 1, head.flushedSeq)} were cut off the end of the file. ` +
          `Restore the file from a backup, or ${accept} to write them back from the database's copy (byte-identical, so the chain verifies) and record the gap in the chain.`,
      };
    }
    return undefined;
  }

  /** Adopt the chain of a file written before the database kept one (an upgrade). */
  #importFile(lines: readonly string[]): AuditFinding {
    const verdict = verifyAuditLines(lines);
    if (!verdict.ok) {
      throw new AuditError(
        `audit log ${this.path} line ${verdict.line} is not a valid record (${verdict.reason}). The state database has no audit chain yet, so mithai would adopt this file's, ` +
          'but it will not adopt (or continue) a broken one. Restore the file from a backup; `mithai audit verify` names the bad line.',
        { code: 'audit_corrupt' },
      );
    }
    for (let i = 0; i < lines.length; i++) {
      const parsed = parseRecordLine(lines[i]!);
      if (!parsed.ok) throw new AuditError(`audit log ${this.path} line ${i + 1}: ${parsed.reason}`, { code: 'audit_corrupt' });
      this.#store.appendRecord({ seq: parsed.record.seq, hash: parsed.record.hash, line: lines[i]! });
    }
    this.#store.setFlushedSeq(lines.length);
    return { code: 'audit_imported', seq: null, message: `audit log ${this.path}: imported its ${lines.length} records into the state database, which now continues the chain from seq ${lines.length}` };
  }

  /** Save the torn bytes aside, cut them off, and record the repair (flushed later). */
  #cutTorn(scan: AuditFileContents, torn: { offset: number; bytes: Buffer }): AuditTornCut {
    const savedTo = this.#saveAside('torn', torn.bytes);
    withFd(this.path, 'r+', (fd) => {
      ftruncateSync(fd, torn.offset);
      fsyncSync(fd);
    });
    const afterSeq = scan.lines.length;
    const reason = `cut a torn last line (${torn.bytes.length} bytes at byte ${torn.offset}, after seq ${afterSeq}): the last write was interrupted; the bytes were saved to ${basename(savedTo)}`;
    const record = this.#record({
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
      message: `audit log ${this.path}: ${reason.replace(basename(savedTo), savedTo)}; recorded as seq ${record.seq}`,
      removedBytes: torn.bytes.length,
      offset: torn.offset,
      savedTo,
      afterSeq,
    };
  }

  /** Apply an operator-accepted gap: make the next flush rewrite what is missing, and record it. */
  #acceptGap(problem: GapProblem, fileRecords: number, head: AuditHeadRow): AuditFinding {
    let movedAside: string | null = null;
    let keep = fileRecords;
    if (problem.code === 'audit_replaced' || problem.code === 'audit_ahead') {
      movedAside = this.#moveAside(problem.code === 'audit_replaced' ? 'replaced' : 'ahead');
      keep = 0;
    } else if (problem.code === 'audit_file_missing') {
      keep = 0;
    }
    // The next flush writes every record after `keep` from the database.
    this.#store.setFlushedSeq(keep);
    const restored = head.seq - keep;
    const reason =
      `${problem.code}: ${describeGap(problem)}; the operator accepted it (${ACCEPT_GAP_FLAG}), so ${restored} records were written back from the state database` +
      (movedAside === null ? '' : ` after moving the file aside to ${basename(movedAside)}`);
    const record = this.#record({
      event: 'audit_gap',
      problem: problem.code,
      from_seq: problem.from,
      to_seq: problem.to,
      restored,
      moved_aside_to: movedAside === null ? null : basename(movedAside),
      accepted_by_operator: true,
      reason,
    } satisfies AuditGapInput);
    return { code: 'audit_gap', seq: record.seq, message: `audit log ${this.path}: ${movedAside === null ? reason : reason.replace(basename(movedAside), movedAside)}; recorded as seq ${record.seq}` };
  }

  /** Inside BEGIN IMMEDIATE: bring the file up to the database's head. */
  #flushLocked(): void {
    const head = this.#store.head();
    if (head === undefined || head.flushedSeq === head.seq) return;
    const existed = statIfExists(this.path) !== undefined;
    if (!existed && head.flushedSeq > 0) {
      throw new AuditError(
        `audit log ${this.path} is missing, but the state database says records ${range(1, head.flushedSeq)} were already written to it; nothing was written. ` +
          `Restore the file, or restart mithai with ${ACCEPT_GAP_FLAG} to rewrite it from the database.`,
        { code: 'audit_file_missing' },
      );
    }
    withFd(this.path, 'a+', (fd) => {
      if (!existed) fsyncDir(this.path);
      const size = fstatSync(fd).size;
      const tail = readTail(fd, size);
      if (tail.torn) {
        throw new AuditError(
          `audit log ${this.path} ends with a torn line (a write was interrupted); nothing was written after it. Restart mithai, or run \`mithai audit repair\`: it cuts only the torn bytes, saves them next to the log and records the repair in the chain.`,
          { code: 'audit_torn' },
        );
      }
      const accept = `restart mithai with ${ACCEPT_GAP_FLAG}`;
      if (tail.seq > head.seq) {
        throw new AuditError(`audit log ${this.path} ends at seq ${tail.seq}, beyond the state database's last record (seq ${head.seq}): the file has records this database never committed. Run \`mithai audit verify\`; restore the matching state database, or ${accept}.`, { code: 'audit_ahead' });
      }
      if (tail.seq < head.flushedSeq) {
        throw new AuditError(`audit log ${this.path} ends at seq ${tail.seq}, but records up to seq ${head.flushedSeq} were written to it: records ${range(tail.seq + 1, head.flushedSeq)} were cut off. Restore the file, or ${accept} to write them back from the database.`, { code: 'audit_tail_missing' });
      }
      if (tail.seq > 0 && this.#store.record(tail.seq)?.line !== tail.line) {
        throw new AuditError(`audit log ${this.path}: its last line (seq ${tail.seq}) is not the record the state database committed at that seq: the file was replaced or edited. Run \`mithai audit verify\`; restore the original file, or ${accept}.`, { code: 'audit_replaced' });
      }
      try {
        for (let from = tail.seq + 1; from <= head.seq; from += BATCH) {
          const rows = this.#store.recordsFrom(from, Math.min(BATCH, head.seq - from + 1));
          rows.forEach((row, i) => {
            if (row.seq !== from + i) throw this.#dbInconsistent(`it has no record at seq ${from + i} although its head is at seq ${head.seq}`);
          });
          writeAll(fd, Buffer.from(rows.map((row) => `${row.line}\n`).join(''), 'utf8'));
        }
        fsyncSync(fd);
      } catch (err) {
        // Undo a partial write so the file never ends in a torn line of our own making; if even
        // that fails, the next flush finds the torn tail and refuses (and prepare cuts it).
        try {
          ftruncateSync(fd, size);
          fsyncSync(fd);
        } catch {
          // Reported through the original error below.
        }
        throw err;
      }
    });
    this.#store.setFlushedSeq(head.seq);
  }

  /** Build, hash and store the next record after the database head (inside a transaction). */
  #record(fields: AuditEventInput): AuditRecord;
  #record(fields: SystemAuditInput): SystemAuditRecord;
  #record(fields: AuditEventInput | SystemAuditInput): AuditRecord | SystemAuditRecord {
    const head = this.#store.head() ?? EMPTY_HEAD;
    // Field order is fixed (chain fields around the event's own), so the line is stable.
    // System reasons are our own words, but everything that reaches the log is redacted.
    const redacted = 'approval_id' in fields ? fields : { ...fields, reason: this.#redactor.redact(fields.reason) };
    const unsigned = { v: 1 as const, seq: head.seq + 1, time: this.#now().toISOString(), ...redacted, prev_hash: head.hash };
    let record: AuditRecord | SystemAuditRecord;
    let line: string;
    try {
      record = { ...unsigned, hash: computeRecordHash(unsigned) };
      line = JSON.stringify(record);
    } catch (err) {
      throw new AuditError(`audit log ${this.path}: the ${fields.event} record cannot be encoded (${errorMessage(err)}); nothing was recorded`, { code: 'audit_encode_failed', cause: err });
    }
    this.#store.appendRecord({ seq: record.seq, hash: record.hash, line });
    return record;
  }

  /** The caller's fields in a fixed order, with input normalised to JSON and redacted. */
  #redactedFields(input: AuditEventInput): AuditEventInput {
    let normalised: unknown;
    try {
      // A JSON round trip first, so what we hash is exactly what the verifier will parse back.
      const json = JSON.stringify(input.input);
      normalised = json === undefined ? null : (JSON.parse(json) as unknown);
    } catch (err) {
      throw new AuditError(`audit log ${this.path}: the input of ${input.tool} cannot be encoded as JSON (${errorMessage(err)})`, { code: 'audit_encode_failed', cause: err });
    }
    return {
      event: input.event,
      approval_id: input.approval_id,
      call_id: input.call_id,
      session: input.session,
      requester: input.requester,
      decider: input.decider,
      tool: input.tool,
      level: input.level,
      level_reason: input.level_reason,
      decision: input.decision,
      fingerprint: input.fingerprint,
      input: this.#redactor.redactDeep(normalised),
      status: input.status,
      reason: input.reason === null ? null : this.#redactor.redact(input.reason),
    };
  }

  /** Write `bytes` to a new file next to the log (never overwriting one), fsync'd. */
  #saveAside(kind: 'torn', bytes: Buffer): string {
    const target = this.#asideName(kind);
    let fd: number;
    try {
      fd = openSync(target, 'wx', 0o600);
    } catch (err) {
      throw new AuditError(`audit log ${this.path}: cannot create ${target} to save the torn bytes in (${errorMessage(err)}); nothing was cut`, { cause: err });
    }
    try {
      writeAll(fd, bytes);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    fsyncDir(target);
    return target;
  }

  /** Rename the log to a new name next to it; the next flush starts a fresh copy from the database. */
  #moveAside(kind: 'replaced' | 'ahead'): string {
    const target = this.#asideName(kind);
    try {
      renameSync(this.path, target);
    } catch (err) {
      throw new AuditError(`audit log ${this.path}: cannot move it aside to ${target} (${errorMessage(err)}); nothing was changed`, { cause: err });
    }
    fsyncDir(target);
    return target;
  }

  /** `<log>.<kind>-<time>`, with a counter if that name is taken. */
  #asideName(kind: string): string {
    const stamp = this.#now().toISOString().replace(/:/g, '-');
    for (let n = 0; ; n++) {
      const candidate = `${this.path}.${kind}-${stamp}${n === 0 ? '' : `-${n}`}`;
      if (statIfExists(candidate) === undefined) return candidate;
    }
  }

  /**
   * File writes must follow commits, never precede them: records of an open transaction may
   * still roll back, and a file line for one of them would be a record the database never
   * committed. Being called inside one is a caller bug; fail closed.
   */
  #refuseInTransaction(method: string): void {
    if (this.#store.inTransaction) {
      throw new AuditError(`audit log ${this.path}: ${method} was called inside an open transaction; call it after the commit`, { code: 'audit_flush_in_transaction' });
    }
  }

  #dbInconsistent(what: string): AuditError {
    return new AuditError(
      `state database audit chain (audit_records / audit_head): ${what}, so the database was edited or damaged. Restore the state database (state.path) from a backup; \`mithai audit verify\` shows what the file still has.`,
      { code: 'audit_db_inconsistent' },
    );
  }

  /** Run `body`; anything but an AuditError becomes one (callers catch only AuditError). */
  #guard<T>(consequence: string, body: () => T): T {
    try {
      return body();
    } catch (err) {
      if (err instanceof AuditError) throw err;
      throw new AuditError(`audit log ${this.path} could not be updated (${errorMessage(err)}); ${consequence}`, { cause: err });
    }
  }
}

/** "5" or "5..9". */
function range(from: number, to: number): string {
  return from === to ? `${from}` : `${from}..${to}`;
}

function describeGap(problem: GapProblem): string {
  switch (problem.code) {
    case 'audit_tail_missing':
      return `records ${range(problem.from, problem.to)} were missing from the end of the file`;
    case 'audit_file_missing':
      return `the file was missing (records ${range(problem.from, problem.to)} had been written to it)`;
    case 'audit_replaced':
      return `the file differed from the database from seq ${problem.from}`;
    case 'audit_ahead':
      return `the file had records ${range(problem.from, problem.to)} that the database never committed`;
  }
}

function statIfExists(path: string): Stats | undefined {
  try {
    return statSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new AuditError(`audit log ${path} cannot be inspected (${errorMessage(err)}); check the memory path and its permissions`, { cause: err });
  }
}

/** Open `path` (`a+` creates it 0600), run `body`, always close. */
function withFd<T>(path: string, flags: 'a+' | 'r+' | 'r', body: (fd: number) => T): T {
  let fd: number;
  try {
    fd = openSync(path, flags, 0o600);
    if (!fstatSync(fd).isFile()) {
      closeSync(fd);
      throw new Error('it is not a regular file');
    }
  } catch (err) {
    throw new AuditError(`audit log ${path} cannot be opened (${errorMessage(err)}); check the memory path and its permissions`, { cause: err });
  }
  try {
    return body(fd);
  } catch (err) {
    if (err instanceof AuditError) throw err;
    throw new AuditError(`audit log ${path} could not be written (${errorMessage(err)}); the file was not brought up to date`, { cause: err });
  } finally {
    closeSync(fd);
  }
}

function writeAll(fd: number, bytes: Buffer): void {
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** fsync the folder holding `path`, so a created or renamed entry survives power loss. */
function fsyncDir(path: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dirname(path), 'r');
    fsyncSync(fd);
  } catch {
    // Some filesystems refuse fsync on a directory; the file's own fsync still happened.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Read a whole audit file into complete lines and a torn tail, if any (start-up and verify
 * only: appends never read more than the last line).
 *
 * @throws AuditError when the path exists but cannot be read as a file.
 */
export function readAuditFile(path: string): AuditFileContents {
  if (statIfExists(path) === undefined) return { exists: false, lines: [], torn: null };
  const bytes = withFd(path, 'r', (fd) => {
    const size = fstatSync(fd).size;
    const buffer = Buffer.alloc(size);
    let read = 0;
    while (read < size) {
      const n = readSync(fd, buffer, read, size - read, read);
      if (n === 0) break;
      read += n;
    }
    return buffer.subarray(0, read);
  });
  const lines: string[] = [];
  const offsets: number[] = [];
  let start = 0;
  for (let nl = bytes.indexOf(0x0a, start); nl !== -1; nl = bytes.indexOf(0x0a, start)) {
    lines.push(bytes.subarray(start, nl).toString('utf8'));
    offsets.push(start);
    start = nl + 1;
  }
  if (start < bytes.length) {
    // No newline at the end: every line is written with its newline in one write, so this is
    // an interrupted write.
    return { exists: true, lines, torn: { offset: start, bytes: bytes.subarray(start) } };
  }
  const last = lines.length - 1;
  if (last >= 0 && !parseRecordLine(lines[last]!).ok) {
    // A complete last line that is not a record (say zeros left by a power loss) is torn too.
    // Only the last line: damage anywhere else is not an interrupted write.
    const offset = offsets[last]!;
    lines.pop();
    return { exists: true, lines, torn: { offset, bytes: bytes.subarray(offset) } };
  }
  return { exists: true, lines, torn: null };
}

/** The file's last line and its seq, or that it is torn (0 for an empty file). */
function readTail(fd: number, size: number): { torn: false; seq: number; line: string } | { torn: true } {
  if (size === 0) return { torn: false, seq: 0, line: '' };
  const { line, endsWithNewline } = readLastLine(fd, size);
  if (!endsWithNewline) return { torn: true };
  const parsed = parseRecordLine(line);
  if (!parsed.ok) return { torn: true };
  return { torn: false, seq: parsed.record.seq, line };
}

/** Read backwards from the end until the start of the last line. */
function readLastLine(fd: number, size: number): { line: string; endsWithNewline: boolean } {
  let buffer = Buffer.alloc(0);
  let position = size;
  let endsWithNewline: boolean | undefined;
  while (position > 0) {
    const length = Math.min(TAIL_CHUNK, position);
    position -= length;
    const chunk = Buffer.alloc(length);
    let read = 0;
    while (read < length) {
      const n = readSync(fd, chunk, read, length - read, position + read);
      if (n === 0) break;
      read += n;
    }
    buffer = Buffer.concat([chunk.subarray(0, read), buffer]);
    endsWithNewline ??= buffer[buffer.length - 1] === 0x0a;
    const end = endsWithNewline ? buffer.length - 1 : buffer.length;
    const start = end === 0 ? -1 : buffer.lastIndexOf(0x0a, end - 1);
    if (start !== -1) return { line: buffer.subarray(start + 1, end).toString('utf8'), endsWithNewline };
  }
  const end = endsWithNewline ? buffer.length - 1 : buffer.length;
  return { line: buffer.subarray(0, end).toString('utf8'), endsWithNewline: endsWithNewline ?? false };
}
