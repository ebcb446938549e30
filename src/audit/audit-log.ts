/**
 * The audit log, a record of every decision and outcome, durable before the tool runs: a
 * transactional outbox in the state database, mirrored to `memory/approvals.json` (JSON Lines,
 * hash-chained).
 *
 * - {@link AuditLog.append} computes the next record from the database's chain head and
 *   inserts it, with the exact line the file will hold, inside the caller's transaction. A
 *   state change and its audit record therefore commit (or roll back) together; the file is
 *   not touched.
 * - {@link AuditLog.flush}, after the commit, copies every committed record the file does not
 *   have yet, in seq order, and fsyncs. It runs under `BEGIN IMMEDIATE`: the database write
 *   lock is what serialises two processes writing the same file, so the chain cannot fork.
 *   When it throws, the caller must not act on what it recorded (run the tool).
 * - {@link AuditLog.flushAfterCommit} is what runs after every commit: a flush at once when
 *   the commit holds a record something is about to act on (a decision, a request), and one a
 *   moment later ({@link OUTCOME_FLUSH_DELAY_MS}) when it holds only outcomes, so the outcome
 *   of one tool call shares an fsync with the next call's decision. An outcome waits only in
 *   the database, committed: the next flush, the turn's reply, shutdown and, after a crash,
 *   the start-up check each bring it to the file.
 * - {@link AuditLog.prepare}, at start-up, reconciles the file with the database
 *   (`audit-startup.ts`): it cuts a torn last line, catches the file up after a crash between
 *   commit and flush, imports a file written by an older mithai, and refuses, with a named
 *   {@link AuditErrorCode}, a file that lost records, was replaced, or is ahead of the
 *   database, unless the operator accepts the gap (`acceptGap`).
 *
 * The file is therefore always a prefix of the database's chain. Reading and writing the file
 * itself is `audit-file.ts`. The names callers use from those modules are re-exported here, so
 * `audit-log.ts` stays the one import path for the audit log.
 */
import { fstatSync, fsyncSync, ftruncateSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AuditError, errorMessage } from '../errors.ts';
import type { Redactor } from '../security/redactor.ts';
import type { AuditStore } from '../state/audit-store.ts';
import { computeRecordHash, RECORD_VERSION, recordLine } from './audit-chain.ts';
import { fsyncDir, readAuditTail, statIfExists, withFd, writeAll } from './audit-file.ts';
import { ACCEPT_GAP_FLAG, dbInconsistentError, EMPTY_AUDIT_HEAD, RECORD_BATCH, seqRange } from './audit-outbox.ts';
import { reconcileAuditFile, type AuditFinding, type AuditPrepareOptions, type AuditPrepareReport, type AuditTornCut, type ReconcileMode } from './audit-startup.ts';
import { SYSTEM_AUDIT_EVENTS } from './types.ts';
import type { AuditEventInput, AuditRecord, AuditSink, SystemAuditInput, SystemAuditRecord } from './types.ts';

export { ACCEPT_GAP_FLAG, type AuditErrorCode } from './audit-outbox.ts';
export { readAuditFile, type AuditFileContents } from './audit-file.ts';
export type { AuditFinding, AuditPrepareOptions, AuditPrepareReport, AuditTornCut } from './audit-startup.ts';

/** Options for {@link AuditLog.open}. */
export interface AuditLogOptions {
  /** Redacts `input` and `reason` before they are recorded. */
  redactor: Redactor;
  /** The outbox in the state database; the source of truth for the chain. */
  store: AuditStore;
  /** Clock for the `time` field and the names of saved-aside files (default: the system clock). */
  now?: () => Date;
  /** Told when a delayed flush of outcome records fails (the next flush tries again). */
  onDelayedFlushError?: (err: AuditError) => void;
}

/**
 * The longest an outcome record waits, committed in the database, before a flush copies it to
 * the file. Decisions and requests never wait: they reach the file before anything acts on
 * them. Short enough that the file is current to the eye, long enough that the outcome of one
 * tool call and the decision of the next share a flush.
 */
export const OUTCOME_FLUSH_DELAY_MS = 20;

/** Appends hash-chained audit records to the state database and mirrors them to a file. */
export class AuditLog implements AuditSink {
  /** Absolute path of the log file. */
  readonly path: string;
  readonly #redactor: Redactor;
  readonly #store: AuditStore;
  readonly #now: () => Date;
  readonly #onDelayedFlushError: ((err: AuditError) => void) | undefined;
  /** A record that must reach the file before anything acts on it was appended since the last flush. */
  #urgent = false;
  #delayedFlush: NodeJS.Timeout | undefined;

  private constructor(path: string, options: AuditLogOptions) {
    this.path = path;
    this.#redactor = options.redactor;
    this.#store = options.store;
    this.#now = options.now ?? (() => new Date());
    this.#onDelayedFlushError = options.onDelayedFlushError;
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
    // Set before the insert: a rolled-back record costs at most one needless flush.
    if (input.event !== 'outcome') this.#urgent = true;
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
    if (head !== undefined && head.flushedSeq !== head.seq) {
      this.#guard('the file was not brought up to date', () => this.#store.transaction(() => this.#flushLocked()));
    }
    this.#urgent = false;
    this.#cancelDelayedFlush();
  }

  /**
   * What runs after every commit: {@link flush} now when a record other than an outcome was
   * appended since the last flush (callers act on decisions and requests as soon as the
   * commit returns), otherwise a flush within {@link OUTCOME_FLUSH_DELAY_MS} if anything is
   * waiting. Cheap (one read) when nothing is.
   *
   * @throws AuditError as {@link flush}, only when it flushes now.
   */
  flushAfterCommit(): void {
    if (this.#urgent) {
      this.flush();
      return;
    }
    if (this.#delayedFlush !== undefined) return;
    this.#refuseInTransaction('flushAfterCommit');
    const head = this.#guard('nothing was written', () => this.#store.head());
    if (head === undefined || head.flushedSeq === head.seq) return;
    this.#delayedFlush = setTimeout(() => {
      this.#delayedFlush = undefined;
      try {
        this.flush();
      } catch (err) {
        this.#onDelayedFlushError?.(err as AuditError);
      }
    }, OUTCOME_FLUSH_DELAY_MS);
    // A pending flush never holds the process open: shutdown calls close(), and a start after
    // a crash catches the file up from the database.
    this.#delayedFlush.unref();
  }

  /** Stop a delayed flush from running (shutdown, before the database closes): call {@link flush} first. */
  close(): void {
    this.#cancelDelayedFlush();
  }

  #cancelDelayedFlush(): void {
    if (this.#delayedFlush === undefined) return;
    clearTimeout(this.#delayedFlush);
    this.#delayedFlush = undefined;
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

  /** Inside BEGIN IMMEDIATE: reconcile the file with the database (see `audit-startup.ts`). */
  #reconcile(mode: ReconcileMode): AuditFinding[] {
    return reconcileAuditFile({ path: this.path, store: this.#store, now: this.#now, recordSystem: (fields) => this.#record(fields) }, mode);
  }

  /** Inside BEGIN IMMEDIATE: bring the file up to the database's head. */
  #flushLocked(): void {
    const head = this.#store.head();
    if (head === undefined || head.flushedSeq === head.seq) return;
    const existed = statIfExists(this.path) !== undefined;
    if (!existed && head.flushedSeq > 0) {
      throw new AuditError(
        `audit log ${this.path} is missing, but the state database says records ${seqRange(1, head.flushedSeq)} were already written to it; nothing was written. ` +
          `Restore the file, or restart mithai with ${ACCEPT_GAP_FLAG} to rewrite it from the database.`,
        { code: 'audit_file_missing' },
      );
    }
    withFd(this.path, 'a+', (fd) => {
      if (!existed) fsyncDir(this.path);
      const size = fstatSync(fd).size;
      const tail = readAuditTail(fd, size);
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
        throw new AuditError(`audit log ${this.path} ends at seq ${tail.seq}, but records up to seq ${head.flushedSeq} were written to it: records ${seqRange(tail.seq + 1, head.flushedSeq)} were cut off. Restore the file, or ${accept} to write them back from the database.`, { code: 'audit_tail_missing' });
      }
      if (tail.seq > 0 && this.#store.record(tail.seq)?.line !== tail.line) {
        throw new AuditError(`audit log ${this.path}: its last line (seq ${tail.seq}) is not the record the state database committed at that seq: the file was replaced or edited. Run \`mithai audit verify\`; restore the original file, or ${accept}.`, { code: 'audit_replaced' });
      }
      try {
        for (let from = tail.seq + 1; from <= head.seq; from += RECORD_BATCH) {
          const expected = Math.min(RECORD_BATCH, head.seq - from + 1);
          const rows = this.#store.recordsFrom(from, expected);
          // Holes at the end of a batch too, not only between rows: never mark unwritten records written.
          if (rows.length !== expected) throw dbInconsistentError(`it has ${rows.length} records from seq ${from} where ${expected} were expected (its head is at seq ${head.seq})`);
          rows.forEach((row, i) => {
            if (row.seq !== from + i) throw dbInconsistentError(`it has no record at seq ${from + i} although its head is at seq ${head.seq}`);
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
    const head = this.#store.head() ?? EMPTY_AUDIT_HEAD;
    // Field order is fixed (chain fields around the event's own), so the line is stable.
    // System reasons are our own words, but everything that reaches the log is redacted.
    const redacted = 'approval_id' in fields ? fields : { ...fields, reason: this.#redactor.redact(fields.reason) };
    const unsigned = { v: RECORD_VERSION, seq: head.seq + 1, time: this.#now().toISOString(), ...redacted, prev_hash: head.hash };
    let record: AuditRecord | SystemAuditRecord;
    let line: string;
    try {
      record = { ...unsigned, hash: computeRecordHash(unsigned) };
      // The one canonical serialization (canonical JSON, hash included): the verifier accepts
      // these bytes and no others, so a line is never rewritten into "the same record".
      line = recordLine(record);
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
      // Optional and only when there is something to say: a record without taint is exactly
      // the record an older mithai wrote.
      ...(input.taint !== undefined && input.taint.length > 0 ? { taint: input.taint.map((t) => ({ kind: t.kind, source: this.#redactor.redact(t.source) })) } : {}),
    };
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
