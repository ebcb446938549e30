/**
 * The audit log, a record of every decision and outcome, in the file before the tool runs: a
 * transactional outbox in the state database, mirrored to `memory/approvals.json` (JSON Lines,
 * hash-chained).
 *
 * - {@link AuditLog.append} computes the next record from the database's chain head and
 *   inserts it, with the exact line the file will hold, inside the caller's transaction. A
 *   state change and its audit record therefore commit (or roll back) together, and the
 *   commit is synced to disk (SQLite `synchronous = FULL`): the database's copy is the
 *   durable one. The file is not touched.
 * - {@link AuditLog.write}, after the commit, appends every committed record the file does not
 *   have yet, in seq order, under `BEGIN IMMEDIATE` (the database write lock serialises two
 *   processes writing the same file, so the chain cannot fork), and has them fsync'd in the
 *   background within `AUDIT_SYNC_DELAY_MS` (one fsync for every write of that window, never
 *   on a turn's path). When it returns the records are in the file, so a process killed at any
 *   later instant loses none of them; within the delay they are on disk. When it throws, the caller
 *   must not act on what it recorded (run the tool). The runtime calls it after every commit
 *   that appended a record ({@link AuditLog.writeAfterCommit}).
 * - {@link AuditLog.flush} is write plus an fsync now, and notes in the database how far the
 *   file is on disk (start-up, shutdown, the CLI). The background fsyncs note it with the next
 *   record instead, so they cost no commit of their own. A power loss can take records from
 *   the end of the file that were not on disk yet; the database still has them, and the
 *   start-up check writes them back.
 * - {@link AuditLog.prepare}, at start-up, reconciles the file with the database
 *   (`audit-startup.ts`): it cuts a torn last line, catches the file up after a crash between
 *   commit and write, imports a file written by an older mithai, and refuses, with a named
 *   {@link AuditErrorCode}, a file that lost records, was replaced, or is ahead of the
 *   database, unless the operator accepts the gap (`acceptGap`).
 *
 * The file is therefore always a prefix of the database's chain. Reading and writing the file
 * itself is `audit-file.ts`; the open descriptor and its fsyncs are `audit-file-handle.ts`. The
 * names callers use from those modules are re-exported here, so `audit-log.ts` stays the one
 * import path for the audit log.
 */
import { fstatSync, fsyncSync, ftruncateSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AuditError, errorMessage } from '../errors.ts';
import type { Redactor } from '../security/redactor.ts';
import type { AuditStore } from '../state/audit-store.ts';
import { computeRecordHash, RECORD_VERSION, recordLine } from './audit-chain.ts';
import { readAuditTail, statIfExists, writeAll } from './audit-file.ts';
import { AUDIT_SYNC_DELAY_MS, AuditFileHandle } from './audit-file-handle.ts';

export { AUDIT_SYNC_DELAY_MS } from './audit-file-handle.ts';
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
  /** Told when a background fsync of the file fails (writes then refuse until a sync succeeds). */
  onSyncError?: (err: AuditError) => void;
  /** The longest a written record waits for its background fsync (default `AUDIT_SYNC_DELAY_MS`, 1 s). */
  syncDelayMs?: number;
}

/** Appends hash-chained audit records to the state database and mirrors them to a file. */
export class AuditLog implements AuditSink {
  /** Absolute path of the log file. */
  readonly path: string;
  readonly #redactor: Redactor;
  readonly #store: AuditStore;
  readonly #now: () => Date;
  readonly #file: AuditFileHandle;
  /** A record was appended since the last write (perhaps rolled back: then a write finds nothing to do). */
  #isDirty = false;
  /**
   * The first seq this process appended in a commit that did not wait for the disk, while no
   * commit that waits has covered it: records from here on are held back from the file.
   */
  #unsyncedFrom: number | undefined;
  /** The last record appended in a commit that waits for the disk, since the last writeAfterCommit. */
  #syncedAppend: { seq: number; hash: string } | undefined;
  /**
   * Every record up to this seq is known to be on disk in the database: this process appended
   * it (or a later one) in a commit that waited, or synced the WAL after reading the head. A
   * record past it (another process's, committed without waiting) is not written to the file
   * before the WAL is synced.
   */
  #durableSeq = 0;
  #barrierTimer: NodeJS.Timeout | undefined;
  readonly #syncDelayMs: number;
  readonly #onSyncError: (err: AuditError) => void;

  private constructor(path: string, options: AuditLogOptions) {
    this.path = path;
    this.#redactor = options.redactor;
    this.#store = options.store;
    this.#now = options.now ?? (() => new Date());
    this.#onSyncError = options.onSyncError ?? (() => {});
    this.#syncDelayMs = options.syncDelayMs ?? AUDIT_SYNC_DELAY_MS;
    this.#file = new AuditFileHandle(path, this.#onSyncError, this.#syncDelayMs);
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
   * `BEGIN IMMEDIATE` when none is open. Does not touch the file: call {@link write} after the
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
    // Set before the insert: a rolled-back record costs at most one needless write.
    this.#isDirty = true;
    return this.#guard('the record was not saved', () =>
      this.#store.transaction(() => {
        const record = this.#record(fields);
        if (this.#store.commitSkipsSync) this.#unsyncedFrom ??= record.seq;
        // An appended record always writes to the WAL, so a commit that waits for the disk
        // then syncs it, and with it every commit before.
        else this.#syncedAppend = { seq: record.seq, hash: record.hash };
        return record;
      }),
    );
  }

  /**
   * Append every committed record the file does not have yet to its end, in seq order, and
   * have it fsync'd in the background. Records held back (committed without waiting for the
   * disk) are brought to disk first (one fsync of the database's WAL), so the file is complete
   * when this returns: call it before acting on a record. Before writing, checks that the
   * file's last line is the database's record at that seq (unless the file is exactly as this
   * process's last write left it), so a file that was cut, replaced or torn is never continued.
   * Costs one read of the database when nothing is waiting; idempotent.
   *
   * @throws AuditError when the file cannot be brought up to date (see {@link AuditErrorCode}),
   *   or the last background fsync failed and a new one fails too; the caller must then not
   *   run the tool it recorded.
   */
  write(): void {
    this.#refuseInTransaction('write');
    if (this.#unsyncedFrom !== undefined) this.#syncBarrier();
    this.#writeDurable();
  }

  /**
   * Append what is on disk in the database and not yet in the file, leaving held-back records
   * for later (a catch-up after a failed write; not before acting on a record).
   *
   * @throws AuditError as {@link write}.
   */
  catchUp(): void {
    this.#refuseInTransaction('catchUp');
    this.#writeDurable();
  }

  #writeDurable(): void {
    this.#isDirty = false;
    if (this.#file.syncError !== undefined) this.#guard('nothing was written', () => this.#file.syncNow());
    const head = this.#guard('nothing was written', () => this.#store.head());
    // Records of a commit that did not wait for the disk stay in the database until one that
    // waits covers them (see writeAfterCommit).
    let last = this.#unsyncedFrom === undefined ? head?.seq ?? 0 : this.#unsyncedFrom - 1;
    if (head === undefined || last <= Math.max(head.flushedSeq, this.#file.writtenSeq)) return;
    if (last > this.#durableSeq) {
      // Records this process does not know are on disk: another process (the CLI, a runtime)
      // may have committed them without waiting. One fsync of the WAL brings them there, and
      // this process's held-back records with them.
      this.#syncBarrier();
      last = head.seq;
    }
    this.#guard('the file was not brought up to date', () => this.#store.transaction(() => this.#writeLocked(last)));
    this.#file.requestSync();
  }

  /**
   * {@link write}, then fsync now and note in the database how far the file is on disk. For
   * start-up, shutdown and commands that exit right after; the runtime's own path uses write.
   *
   * @throws AuditError as {@link write}, or when the fsync fails.
   */
  flush(): void {
    this.#refuseInTransaction('flush');
    // Records another process committed without waiting for the disk (held back there) are
    // in the same WAL: bring them to disk before this process writes and fsyncs them.
    this.#syncBarrier();
    this.write();
    this.#guard('the file was not synced to disk', () => this.#file.syncNow());
    const synced = this.#file.syncedSeq;
    this.#guard('the file was written but the database does not know yet', () => {
      if (synced > (this.#store.head()?.flushedSeq ?? 0)) this.#store.transaction(() => this.#store.raiseFlushedSeq(synced));
    });
  }

  /**
   * What runs after every commit: {@link write} when a record was appended since the last one
   * (callers act on decisions and requests as soon as the commit returns). Free otherwise.
   *
   * A commit that waited for the disk (`synced`) covers every commit before it. Records of one
   * that did not (an outcome committed with its turn's results) are held back from the file
   * until such a commit, or, at the latest, until the sync delay has passed, when a small
   * commit that waits is made for them: the file never holds a record a power loss could take
   * from the database.
   *
   * @throws AuditError as {@link write}.
   */
  writeAfterCommit(synced = true): void {
    const appended = this.#syncedAppend;
    this.#syncedAppend = undefined;
    // Covering only when that record really committed (not rolled back): its commit wrote to
    // the WAL and waited for the disk.
    const isCovering = synced && appended !== undefined && this.#guard('nothing was written', () => this.#store.record(appended.seq))?.hash === appended.hash;
    if (isCovering) {
      this.#durableSeq = Math.max(this.#durableSeq, appended.seq);
      if (this.#unsyncedFrom !== undefined) {
        // Held-back records are on disk now: they go to the file with this one.
        this.#coveredBySync();
        this.#isDirty = true;
      }
    }
    if (this.#isDirty) this.#writeDurable();
    if (this.#unsyncedFrom !== undefined) this.#scheduleBarrier();
  }

  #coveredBySync(): void {
    this.#unsyncedFrom = undefined;
    if (this.#barrierTimer === undefined) return;
    clearTimeout(this.#barrierTimer);
    this.#barrierTimer = undefined;
  }

  #scheduleBarrier(): void {
    if (this.#barrierTimer !== undefined) return;
    this.#barrierTimer = setTimeout(() => {
      this.#barrierTimer = undefined;
      try {
        this.write();
      } catch (err) {
        this.#onSyncError(err instanceof AuditError ? err : new AuditError(`audit log ${this.path} could not be updated (${errorMessage(err)})`, { cause: err }));
        // Tried again after another delay, unless the disk itself failed: then no later fsync
        // can prove the records are on disk, and they wait in the database for a restart.
        if (this.#unsyncedFrom !== undefined && !isFinalSyncFailure(err)) this.#scheduleBarrier();
      }
    }, this.#syncDelayMs);
    // Never holds the process open: shutdown and exit flush.
    this.#barrierTimer.unref();
  }

  /** Bring every commit made so far to disk (an fsync of the database's WAL): held-back records are then safe to write. */
  #syncBarrier(): void {
    const headSeq = this.#guard('the records were not brought to disk', () => this.#store.head()?.seq ?? 0);
    this.#guard('the records were not brought to disk', () => this.#store.syncCommitted());
    this.#durableSeq = Math.max(this.#durableSeq, headSeq);
    this.#coveredBySync();
  }

  /** Resolves once the background fsyncs started so far have returned. */
  whenSynced(): Promise<void> {
    return this.#file.whenSynced();
  }

  /** Close the file (call {@link flush} first, for a clean stop); a background fsync finishes on its own. */
  close(): void {
    if (this.#barrierTimer !== undefined) clearTimeout(this.#barrierTimer);
    this.#barrierTimer = undefined;
    this.#file.close();
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
    // The check may cut or move the file: nothing known about the open one still holds.
    this.#file.reset();
    const findings = this.#guard('the start-up check did not finish', () => this.#store.transaction(() => this.#reconcile(options.acceptGap === true ? 'accept' : 'strict')));
    this.flush();
    return { findings, seq: this.#store.head()?.seq ?? 0 };
  }

  /**
   * Cut a torn last line, and only that (`mithai audit repair`): the bytes are saved next to
   * the log as `<file>.torn-<time>` and an `audit_repaired` record is added to the chain.
   * Other disagreements with the database are left for {@link prepare} to name. Does not
   * write it: call {@link flush} afterwards to write the repair record (and anything else
   * waiting) to the file.
   *
   * @returns what was cut, or null when the last line was intact.
   * @throws AuditError when the file or database cannot be used, or a file to import does not
   *   verify (`audit_corrupt`).
   */
  repairTornTail(): AuditTornCut | null {
    this.#refuseInTransaction('repairTornTail');
    this.#file.reset();
    const findings = this.#guard('the repair did not finish', () => this.#store.transaction(() => this.#reconcile('torn_only')));
    return findings.find((f): f is AuditTornCut => f.code === 'audit_repaired') ?? null;
  }

  /** Inside BEGIN IMMEDIATE: reconcile the file with the database (see `audit-startup.ts`). */
  #reconcile(mode: ReconcileMode): AuditFinding[] {
    return reconcileAuditFile({ path: this.path, store: this.#store, now: this.#now, recordSystem: (fields) => this.#record(fields) }, mode);
  }

  /** Inside BEGIN IMMEDIATE: bring the file up to the database's head, or to `limit` before it. */
  #writeLocked(limit: number): void {
    const head = this.#store.head();
    if (head === undefined) return;
    const last = Math.min(head.seq, limit);
    // Records this process, or any process (flushed_seq), knows were written to the file.
    const written = Math.max(head.flushedSeq, this.#file.writtenSeq);
    let fd = this.#file.current();
    if (fd === undefined) {
      if (written > 0) {
        throw new AuditError(
          `audit log ${this.path} is missing, but records ${seqRange(1, written)} were already written to it; nothing was written. ` +
            `Restore the file, or restart mithai with ${ACCEPT_GAP_FLAG} to rewrite it from the database.`,
          { code: 'audit_file_missing' },
        );
      }
      fd = this.#file.create();
    }
    const size = fstatSync(fd).size;
    // The cached end is trusted only when it is at least as far as the file is known to go: a
    // file cut back to an older line of this process's own is checked (and refused) in full.
    const cached = this.#file.unchangedEnd(fd, size);
    const end = cached === undefined || cached < written ? this.#checkedTail(fd, size, head.seq, written) : { seq: cached, line: undefined };
    let newSize = size;
    let lastLine: Buffer | undefined;
    try {
      for (let from = end.seq + 1; from <= last; from += RECORD_BATCH) {
        const expected = Math.min(RECORD_BATCH, last - from + 1);
        const rows = this.#store.recordsFrom(from, expected);
        // Holes at the end of a batch too, not only between rows: never mark unwritten records written.
        if (rows.length !== expected) throw dbInconsistentError(`it has ${rows.length} records from seq ${from} where ${expected} were expected (its head is at seq ${head.seq})`);
        rows.forEach((row, i) => {
          if (row.seq !== from + i) throw dbInconsistentError(`it has no record at seq ${from + i} although its head is at seq ${head.seq}`);
        });
        const bytes = Buffer.from(rows.map((row) => `${row.line}\n`).join(''), 'utf8');
        writeAll(fd, bytes);
        newSize += bytes.length;
        lastLine = Buffer.from(`${rows[rows.length - 1]!.line}\n`, 'utf8');
      }
    } catch (err) {
      // Undo a partial write so the file never ends in a torn line of our own making; if even
      // that fails, the next write finds the torn tail and refuses (and prepare cuts it).
      try {
        ftruncateSync(fd, size);
        fsyncSync(fd);
      } catch {
        // Reported through the original error below.
      }
      this.#file.forget();
      if (err instanceof AuditError) throw err;
      throw new AuditError(`audit log ${this.path} could not be written (${errorMessage(err)}); the file was not brought up to date`, { cause: err });
    }
    if (lastLine !== undefined) this.#file.endsWith(fd, newSize, last, lastLine);
    else if (end.line !== undefined) this.#file.endsWith(fd, size, end.seq, Buffer.from(`${end.line}\n`, 'utf8'));
  }

  /** The file's last line and its seq, after checking it is the database's record at that seq. */
  #checkedTail(fd: number, size: number, headSeq: number, written: number): { seq: number; line: string | undefined } {
    const tail = readAuditTail(fd, size);
    if (tail.torn) {
      throw new AuditError(
        `audit log ${this.path} ends with a torn line (a write was interrupted); nothing was written after it. Restart mithai, or run \`mithai audit repair\`: it cuts only the torn bytes, saves them next to the log and records the repair in the chain.`,
        { code: 'audit_torn' },
      );
    }
    const accept = `restart mithai with ${ACCEPT_GAP_FLAG}`;
    if (tail.seq > headSeq) {
      throw new AuditError(`audit log ${this.path} ends at seq ${tail.seq}, beyond the state database's last record (seq ${headSeq}): the file has records this database never committed. Run \`mithai audit verify\`; restore the matching state database, or ${accept}.`, { code: 'audit_ahead' });
    }
    if (tail.seq < written) {
      throw new AuditError(`audit log ${this.path} ends at seq ${tail.seq}, but records up to seq ${written} were written to it: records ${seqRange(tail.seq + 1, written)} were cut off. Restore the file, or ${accept} to write them back from the database.`, { code: 'audit_tail_missing' });
    }
    if (tail.seq > 0 && this.#store.record(tail.seq)?.line !== tail.line) {
      throw new AuditError(`audit log ${this.path}: its last line (seq ${tail.seq}) is not the record the state database committed at that seq: the file was replaced or edited. Run \`mithai audit verify\`; restore the original file, or ${accept}.`, { code: 'audit_replaced' });
    }
    return { seq: tail.seq, line: tail.seq > 0 ? tail.line : undefined };
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
    // The head moves with what this process's background fsyncs have put on disk, for free.
    this.#store.appendRecord({ seq: record.seq, hash: record.hash, line }, this.#file.syncedSeq);
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

/** A failed fsync of the state database (final for the process), anywhere in `err`'s causes. */
function isFinalSyncFailure(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e instanceof Error && depth < 5; e = e.cause, depth++) {
    if ((e as { code?: unknown }).code === 'state_sync_failed') return true;
  }
  return false;
}
