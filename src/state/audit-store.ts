/**
 * The audit chain as the state database knows it (tables `audit_head` and `audit_records`,
 * migration 2): the outbox behind `memory/approvals.json`.
 *
 * Every audit record is inserted here in the same transaction as the state change it
 * records, so the two commit or roll back together; `AuditLog.flush` then copies committed
 * records to the file. The database is the source of truth and the file an always-prefix
 * mirror of it. This class only speaks SQL: hashing, encoding and the file live in `audit/`.
 *
 * @example
 * const store = new AuditStore(db);
 * const log = AuditLog.open(path, { redactor, store });
 */
import { StateError } from '../errors.ts';
import { commitSkipsSync, inWriteTransaction, syncCommitted } from './database.ts';
import type { Database } from './database.ts';

/** The end of the chain in the database, and how far the file has been brought up to it. */
export interface AuditHeadRow {
  /** seq of the last committed record. */
  seq: number;
  /** hash of that record. */
  hash: string;
  /** Every record up to this seq is known to be in the file and on disk (fsync'd); later ones may be in it too. */
  flushedSeq: number;
}

/** One committed audit record: its seq, its hash, and the exact line the file holds for it. */
export interface AuditRecordRow {
  seq: number;
  hash: string;
  /** The record's JSON text, without the newline; byte-for-byte what the file holds. */
  line: string;
}

/** An approval's id and state, for cross-checking the log against the approvals table. */
export interface ApprovalStateRow {
  id: string;
  state: string;
}

interface HeadRow {
  seq: number;
  hash: string;
  flushed_seq: number;
}

/** SQL for the audit outbox: the head row and the records. */
export class AuditStore {
  readonly #db: Database;

  /** @param db An open state database (see `openDatabase`), at schema version 2 or later. */
  constructor(db: Database) {
    this.#db = db;
  }

  /** True while a transaction is open on this connection. */
  get inTransaction(): boolean {
    return this.#db.inTransaction;
  }

  /** Bring every commit made so far to disk (see `syncCommitted`). */
  syncCommitted(): void {
    syncCommitted(this.#db);
  }

  /** True while the open transaction will commit without waiting for the disk (see `CommitOptions`). */
  get commitSkipsSync(): boolean {
    return commitSkipsSync(this.#db);
  }

  /**
   * Run `body` in a transaction: its own `BEGIN IMMEDIATE` when none is open (so two
   * processes take the write lock before reading the head, and never both continue from the
   * same one), or a savepoint inside the caller's transaction. Throwing rolls back.
   */
  transaction<T>(body: () => T): T {
    return inWriteTransaction(this.#db, body);
  }

  /** The head row, or undefined when no record was ever committed (or imported). */
  head(): AuditHeadRow | undefined {
    const row = this.#db.prepare<[], HeadRow>('SELECT seq, hash, flushed_seq FROM audit_head WHERE id = 1').get();
    return row === undefined ? undefined : { seq: row.seq, hash: row.hash, flushedSeq: row.flushed_seq };
  }

  /**
   * Insert a record and move the head to it, in one statement pair. seq is the primary key,
   * so a second writer that somehow continued from the same head fails instead of forking.
   *
   * @param syncedSeq How far the writer knows the file is on disk: raises `flushed_seq` (never lowers it).
   * @throws StateError when `record.seq` does not directly follow the head.
   */
  appendRecord(record: AuditRecordRow, syncedSeq = 0): void {
    const head = this.head();
    const expected = (head?.seq ?? 0) + 1;
    if (record.seq !== expected) {
      throw new StateError(`audit_records: seq ${record.seq} does not follow the head (${expected - 1})`, { code: 'audit_head_moved' });
    }
    this.#db.prepare('INSERT INTO audit_records (seq, hash, line) VALUES (?, ?, ?)').run(record.seq, record.hash, record.line);
    this.#db
      .prepare('INSERT INTO audit_head (id, seq, hash, flushed_seq) VALUES (1, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash, flushed_seq = MAX(flushed_seq, excluded.flushed_seq)')
      .run(record.seq, record.hash, Math.min(syncedSeq, record.seq));
  }

  /** Set how far the file is known to go (the start-up check lowers it to have records written again). */
  setFlushedSeq(seq: number): void {
    this.#db.prepare('UPDATE audit_head SET flushed_seq = ? WHERE id = 1').run(seq);
  }

  /** Record that every record up to `seq` is on disk in the file; never lowers what is recorded. */
  raiseFlushedSeq(seq: number): void {
    this.#db.prepare('UPDATE audit_head SET flushed_seq = MAX(flushed_seq, ?) WHERE id = 1').run(seq);
  }

  /** The record at `seq`, if the database has it. */
  record(seq: number): AuditRecordRow | undefined {
    return this.#db.prepare<[number], AuditRecordRow>('SELECT seq, hash, line FROM audit_records WHERE seq = ?').get(seq);
  }

  /** Up to `limit` records with seq >= `fromSeq`, in seq order. */
  recordsFrom(fromSeq: number, limit: number): AuditRecordRow[] {
    return this.#db.prepare<[number, number], AuditRecordRow>('SELECT seq, hash, line FROM audit_records WHERE seq >= ? ORDER BY seq LIMIT ?').all(fromSeq, limit);
  }

  /** How many records the database holds. */
  count(): number {
    return this.#db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM audit_records').get()?.n ?? 0;
  }

  /** Every approval's id and state (table `approvals`), for the audit cross-check. */
  approvalStates(): ApprovalStateRow[] {
    return this.#db.prepare<[], ApprovalStateRow>('SELECT id, state FROM approvals ORDER BY created_at, rowid').all();
  }
}
