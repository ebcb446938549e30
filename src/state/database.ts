/**
 * The one SQLite database (`<state.path>/mithai.db`) behind every store in `state/`:
 * sessions, approvals, skill state and Slack event de-duplication.
 *
 * Opening it applies the pragmas the stores rely on (WAL, a busy timeout so two connections
 * wait for each other instead of failing, foreign keys) and runs the migrations recorded in
 * `schema_version`. A database written by a newer mithai is refused rather than guessed at.
 *
 * @example
 * const db = openDatabase(config.state.path);
 * const approvals = new ApprovalStore(db);
 */
import { chmodSync, closeSync, fsync, fsyncSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { InternalError, StateError, errorMessage } from '../errors.ts';
import { MIGRATIONS } from './migrations.ts';

/** A better-sqlite3 connection, as every store takes it. */
export type Database = BetterSqlite3.Database;

/** Pass this instead of a directory to get a private in-memory database (tests). */
export const IN_MEMORY = ':memory:';

/** File name of the database inside the state directory. */
export const DATABASE_FILE = 'mithai.db';

/** How long a connection waits for another one's write lock before failing with SQLITE_BUSY. */
const BUSY_TIMEOUT_MS = 5000;

/** The newest schema version this code knows how to use. */
export const SCHEMA_VERSION: number = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/**
 * Open (creating if needed) the state database and bring its schema up to date.
 *
 * @param dir The state directory (created with mode 0700), or {@link IN_MEMORY} for a
 *   throwaway in-memory database.
 * @returns An open connection in WAL mode with foreign keys on.
 * @throws StateError when the directory or file cannot be opened, a migration fails, or the
 *   database has a schema version newer than this code knows.
 */
export function openDatabase(dir: string): Database {
  const isMemory = dir === IN_MEMORY;
  const file = isMemory ? IN_MEMORY : join(dir, DATABASE_FILE);
  let db: Database;
  try {
    if (!isMemory) mkdirSync(dir, { recursive: true, mode: 0o700 });
    db = new BetterSqlite3(file);
  } catch (err) {
    throw new StateError(`${file}: cannot open the state database: ${errorMessage(err)}`, { cause: err });
  }
  try {
    // Sessions and approvals may hold tool inputs; nobody but the owner should read them.
    // SQLite gives the -wal and -shm files the same mode as the database file.
    if (!isMemory) chmodSync(file, 0o600);
    db.pragma('journal_mode = WAL');
    // Every commit waits for the disk (the WAL is synced), unless the caller says a power loss
    // may undo it (see inWriteTransaction's `sync`).
    db.pragma('synchronous = FULL');
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    // What a commit deletes or frees is zeroed, not left in free pages: a purged input is gone.
    db.pragma('secure_delete = ON');
    db.pragma('foreign_keys = ON');
    // Checkpoints are run by us (see checkpointSoon): SQLite's automatic one ignores an fsync
    // that fails, and a failed fsync must never go unnoticed.
    if (!isMemory) db.pragma('wal_autocheckpoint = 0');
    migrate(db, file);
    cacheStatements(db);
    if (!isMemory) keepWalOpen(db);
    return db;
  } catch (err) {
    db.close();
    if (err instanceof StateError) throw err;
    throw new StateError(`${file}: cannot prepare the state database: ${errorMessage(err)}`, { cause: err });
  }
}

const WRITE_TRANSACTIONS = new WeakMap<Database, BetterSqlite3.Transaction<(body: () => unknown) => unknown>>();

/** How a commit meets the disk; see {@link inWriteTransaction}. */
export interface CommitOptions {
  /**
   * false: the commit does not wait for the disk (SQLite `synchronous = NORMAL` for this
   * commit). It survives the process being killed at any point, but a power loss or an OS
   * crash may undo it, together with every other commit since the last one that waited.
   * Only for writes a restart redoes safely (a stored model response: the model is asked
   * again). A commit that waits covers every commit before it. Ignored inside an open
   * transaction (the outermost commit decides). Default true.
   */
  sync?: boolean;
}

/**
 * Run `fn` in one write transaction: `BEGIN IMMEDIATE` when none is open (the write lock is
 * taken up front, so the commit cannot lose to another connection after `fn` did its work), or
 * a savepoint inside the open one. Throwing rolls back. One transaction wrapper per connection:
 * making a new one for every call cost about a third of a small transaction. The commit waits
 * for the disk unless `options.sync` is false.
 */
export function inWriteTransaction<T>(db: Database, fn: () => T, options: CommitOptions = {}): T {
  let run = WRITE_TRANSACTIONS.get(db);
  if (run === undefined) {
    run = db.transaction((body: () => unknown) => body());
    WRITE_TRANSACTIONS.set(db, run);
  }
  const open = OPEN_TRANSACTIONS.get(db);
  if (open !== undefined) return inSavepoint(db, open, run, fn);
  // Inside a transaction begun some other way (a migration's): a plain savepoint in it.
  if (db.inTransaction) return run.immediate(fn) as T;
  const state: OpenTransaction = { lostBy: undefined, wrote: 'no' };
  OPEN_TRANSACTIONS.set(db, state);
  // Checked once the body returns, before COMMIT: a transaction lost and begun again inside it
  // (a bare BEGIN) must not commit the half after the loss.
  const body = (): T => {
    const result = fn();
    if (state.lostBy !== undefined) throw transactionLost(db, state.lostBy);
    return result;
  };
  try {
    return outermost(db, run, body, options, state);
  } catch (err) {
    noteSyncFailure(db, err);
    if (state.lostBy !== undefined) throw transactionLost(db, state.lostBy);
    throw err;
  } finally {
    OPEN_TRANSACTIONS.delete(db);
  }
}

/**
 * One {@link inWriteTransaction} call in progress on a connection. `lostBy` is the error after
 * which SQLite rolled the whole transaction back on its own (it does for SQLITE_FULL, IOERR,
 * NOMEM: "the transaction may be rolled back automatically"), even from inside a savepoint
 * whose caller catches the error and carries on. From then on nothing of the call may write:
 * each statement would be its own commit, and a nested call would begin a fresh transaction,
 * committing half of what the outer one meant as a whole.
 */
interface OpenTransaction {
  lostBy: unknown;
  /**
   * Whether a statement of it changed a row (counted by the statements' own results, as
   * SQLite's total_changes() would, rolled-back savepoints included); `unknown` after SQL whose
   * changes cannot be told (db.exec).
   */
  wrote: 'no' | 'yes' | 'unknown';
}

const OPEN_TRANSACTIONS = new WeakMap<Database, OpenTransaction>();

/** Note what a statement of the open transaction changed: true, false, or undefined when it cannot be told. */
function noteWrite(open: OpenTransaction, changed: boolean | undefined): void {
  if (changed === true) open.wrote = 'yes';
  else if (changed === undefined && open.wrote === 'no') open.wrote = 'unknown';
}

type TransactionFn = BetterSqlite3.Transaction<(body: () => unknown) => unknown>;

/** A nested call: a savepoint inside the open transaction, refused once SQLite dropped it. */
function inSavepoint<T>(db: Database, open: OpenTransaction, run: TransactionFn, fn: () => T): T {
  return withinOpen(db, open, () => run.immediate(fn) as T);
}

/**
 * Run `work` (a statement, a savepoint) inside the open transaction: refused once SQLite has
 * dropped it, and an error after which SQLite drops it is recorded (see OpenTransaction).
 */
function withinOpen<T>(db: Database, open: OpenTransaction, work: () => T): T {
  if (!db.inTransaction) throw transactionLost(db, open.lostBy);
  try {
    return work();
  } catch (err) {
    noteIfLost(db, open, err);
    throw err;
  }
}

/** Record `err` as what cost the open transaction, when SQLite rolled it back after it. */
function noteIfLost(db: Database, open: OpenTransaction, err: unknown): void {
  noteSyncFailure(db, err);
  if (!db.inTransaction) open.lostBy ??= err;
}

/**
 * An fsync SQLite made in the middle of a transaction (a full page cache spilling to the WAL
 * syncs its header) that failed is as final as one at a commit: SQLite's descriptor has seen
 * the error, so the next fsync may succeed with pages lost. Recorded even when the caller
 * catches the error.
 */
function noteSyncFailure(db: Database, err: unknown): void {
  if (isSyncFailure(err)) diskOf(db).failure ??= syncFailed(db, err);
}

function transactionLost(db: Database, lostBy: unknown): StateError {
  const after = lostBy === undefined ? 'an earlier error' : errorMessage(lostBy);
  // A lost fsync's cause is the final sync failure, so whoever checks for one finds it.
  const cause = isSyncFailure(lostBy) ? (diskOf(db).failure ?? lostBy) : lostBy;
  return new StateError(`${db.name}: SQLite rolled back the whole transaction after ${after}; none of it was committed`, { code: 'state_transaction_lost', cause });
}

function outermost<T>(db: Database, run: TransactionFn, fn: () => T, options: CommitOptions, state: OpenTransaction): T {
  const disk = diskOf(db);
  if (options.sync !== false) {
    const made = disk.made;
    const result = waitingCommit(db, disk, () => run.immediate(fn) as T);
    // A commit that changed rows wrote to the WAL and SQLite synced it, with every earlier
    // commit's frames before this one's. (One that changed nothing wrote nothing and synced
    // nothing; one whose changes are unknown is not taken as a sync.)
    if (state.wrote === 'yes') {
      disk.synced = Math.max(disk.synced, made);
      checkpointSoon(db, disk);
    }
    return result;
  }
  // Prepared once (db.prepare is cached, see cacheStatements): db.pragma prepares its
  // statement on every call, and a turn makes a dozen commits that do not wait.
  db.prepare('PRAGMA synchronous = NORMAL').run();
  UNSYNCED_COMMITS.add(db);
  try {
    const result = run.immediate(fn) as T;
    // Counted only when it may have written something: a commit that changed nothing has nothing to sync.
    if (state.wrote !== 'no') {
      disk.made += 1;
      checkpointSoon(db, disk);
    }
    return result;
  } finally {
    UNSYNCED_COMMITS.delete(db);
    db.prepare('PRAGMA synchronous = FULL').run();
  }
}

const UNSYNCED_COMMITS = new WeakSet<Database>();

/**
 * What this connection knows about its commits reaching the disk. `made` counts the commits
 * that did not wait; every one counted up to `synced` is known to be on disk. Background syncs
 * are shared: callers needing commits the running fsync does not cover wait for one fsync that
 * starts after it (group commit), so a flood of events costs a few fsyncs, not one each.
 */
interface DiskState {
  made: number;
  synced: number;
  running: { through: number; done: Promise<void> } | undefined;
  next: { done: Promise<void>; resolve: () => void; reject: (err: unknown) => void } | undefined;
  /**
   * Set once an fsync of the WAL failed. Linux marks the pages it could not write clean, so a
   * later fsync can succeed with them lost: the failure is final for this process (restart).
   */
  failure: StateError | undefined;
  /** Commits that wrote since the last checkpoint was started. */
  sinceCheckpoint: number;
  /** A checkpoint is due and its timer runs (see checkpointSoon). */
  checkpointDue: boolean;
  /** When the last commit that wrote was made (performance.now()). */
  lastWriteAt: number;
  /** The WAL's descriptor for our own fsyncs, open from the connection's start to its close (see keepWalOpen). */
  wal: { fd: number; inUse: number } | undefined;
  /** The connection was closed: the kept descriptor goes once no fsync uses it. */
  isClosed: boolean;
}

/**
 * How many writing commits make a checkpoint due. A turn makes about 14 and adds about 90
 * pages to the WAL: every 150 commits moves about 900 pages, what SQLite's own default (1000
 * pages) would, so the WAL stays a few MB and is reused from its start.
 */
export const CHECKPOINT_EVERY_COMMITS = 150;

/**
 * A due checkpoint waits until no commit has written for this long: it blocks the event loop
 * for 2 to 20 ms (about 900 pages copied, two fsyncs), which lands in a gap between turns (or
 * while a turn waits for the model) instead of in the middle of a turn's tool calls.
 */
export const CHECKPOINT_QUIET_MS = 10;

/** A database never quiet that long is checkpointed anyway once this many commits wrote, so the WAL stays bounded. */
export const CHECKPOINT_FORCED_AFTER_COMMITS = 2 * CHECKPOINT_EVERY_COMMITS;

/**
 * Copy the WAL into the database file (a passive checkpoint: it never waits for readers or
 * writers) once enough commits have added to it, off the commits' own path: when the database
 * has been quiet for {@link CHECKPOINT_QUIET_MS}, or at the latest after
 * {@link CHECKPOINT_FORCED_AFTER_COMMITS}. Its fsyncs (the WAL, then the database file)
 * failing is final, like any.
 */
function checkpointSoon(db: Database, disk: DiskState): void {
  if (db.memory) return;
  disk.sinceCheckpoint += 1;
  disk.lastWriteAt = performance.now();
  if (disk.sinceCheckpoint < CHECKPOINT_EVERY_COMMITS || disk.checkpointDue) return;
  disk.checkpointDue = true;
  const wait = (ms: number): void => {
    setTimeout(() => {
      const quietFor = performance.now() - disk.lastWriteAt;
      if (db.open && quietFor < CHECKPOINT_QUIET_MS && disk.sinceCheckpoint < CHECKPOINT_FORCED_AFTER_COMMITS) {
        wait(CHECKPOINT_QUIET_MS - quietFor);
        return;
      }
      disk.checkpointDue = false;
      disk.sinceCheckpoint = 0;
      checkpoint(db, disk);
    }, ms).unref();
  };
  wait(CHECKPOINT_QUIET_MS);
}

/**
 * Copy the WAL into the database file and empty it, so bytes a commit overwrote or deleted (a
 * purged input: zeroed in the database file, see secure_delete) do not live on in older WAL
 * frames. Not done when another connection reads (then the usual checkpoints copy it later);
 * an fsync failure is final, as for any checkpoint.
 */
export function emptyWal(db: Database): void {
  if (db.memory) return;
  const disk = diskOf(db);
  if (!db.open || db.inTransaction || disk.failure !== undefined) return;
  try {
    db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get();
  } catch (err) {
    if (isSyncFailure(err)) disk.failure ??= syncFailed(db, err);
  }
}

function checkpoint(db: Database, disk: DiskState): void {
  if (!db.open || db.inTransaction || disk.failure !== undefined) return;
  try {
    db.prepare('PRAGMA wal_checkpoint(PASSIVE)').get();
  } catch (err) {
    // Any other failure leaves the WAL as it was, to be checkpointed next time.
    if (isSyncFailure(err)) disk.failure ??= syncFailed(db, err);
  }
}

const DISKS = new WeakMap<Database, DiskState>();

function diskOf(db: Database): DiskState {
  let disk = DISKS.get(db);
  if (disk === undefined) {
    disk = { made: 0, synced: 0, running: undefined, next: undefined, failure: undefined, sinceCheckpoint: 0, checkpointDue: false, lastWriteAt: 0, wal: undefined, isClosed: false };
    DISKS.set(db, disk);
  }
  return disk;
}

/**
 * Make a commit that waits for the disk (a write transaction, or a statement committed on its
 * own). After a failed sync nothing committed since the last good one is known to be on disk,
 * and no later fsync can prove it is, so it is refused; an fsync failure SQLite reports from it
 * is final.
 */
function waitingCommit<R>(db: Database, disk: DiskState, commit: () => R): R {
  if (disk.failure !== undefined) throw unsyncable(db, disk.failure);
  try {
    return commit();
  } catch (err) {
    if (isSyncFailure(err)) disk.failure ??= syncFailed(db, err);
    throw err;
  }
}

/**
 * True when `err` is a failure of the state database itself (a StateError, or an error SQLite
 * raised: the disk full, an I/O error, the database busy or locked), as opposed to a bug or bad
 * input in the code that was writing. Every commit is whole, so work whose write failed this way
 * can be tried again from what was saved.
 */
export function isStateFailure(err: unknown): boolean {
  return err instanceof StateError || err instanceof BetterSqlite3.SqliteError;
}

/** An error of SQLite's own fsync (a commit that waits for the disk). */
function isSyncFailure(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_IOERR_FSYNC' || code === 'SQLITE_IOERR_DIR_FSYNC';
}

function unsyncable(db: Database, failure: StateError): StateError {
  return new StateError(`${db.name}: a sync of the state database to disk failed earlier (${failure.message}); nothing more is committed as durable. Check the disk and restart mithai.`, { code: 'state_sync_failed', cause: failure });
}

/** The WAL file of `db`, opened for an fsync, or undefined when there is none (nothing to sync). */
function openWalFile(db: Database): number | undefined {
  try {
    return openSync(`${db.name}-wal`, 'r+');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new StateError(`${db.name}-wal: cannot open it to sync the last commits to disk: ${errorMessage(err)}`, { cause: err });
  }
}

/**
 * Open the WAL for our fsyncs when the connection opens, and keep it open until it closes. On
 * Linux (ext4, xfs, btrfs) a write-back error is reported once to every open file that was open
 * when it happened, but to one opened later only if nobody has seen it yet: with a file opened
 * per fsync, an error another process's commit had already reported (a CLI decision) would go
 * unseen here, and our next background fsync would succeed with those pages lost. (SQLite's own descriptor, behind the
 * commits that wait, is kept open the same way.) The WAL file stays the same file while any
 * connection has the database open, so the descriptor never goes stale.
 */
function keepWalOpen(db: Database): void {
  const disk = diskOf(db);
  const close = db.close.bind(db);
  db.close = (() => {
    // What was committed without waiting goes to disk through the kept descriptor first: once
    // it is closed, no later fsync could be trusted to see an error (see takeWal).
    if (db.open && !disk.isClosed && disk.failure === undefined && disk.synced < disk.made) {
      try {
        syncCommitted(db);
      } catch {
        // A failed fsync is recorded (disk.failure): every later sync of this connection rejects.
      }
    }
    const result = close();
    disk.isClosed = true;
    closeKeptWalWhenIdle(disk);
    return result;
  }) as typeof db.close;
  // Opened now, so that any later write-back error reaches it; none yet only before the first write.
  takeWal(db, disk)?.done();
}

/**
 * The kept descriptor of the WAL for one fsync, or undefined when there is nothing to sync (no
 * WAL yet; or the connection is closed and every commit it made is on disk). Call `done` when
 * the fsync has returned.
 * @throws StateError (`state_closed`) when the connection was closed with commits not known to
 *   be on disk: a descriptor opened now might not see the error that lost them.
 */
function takeWal(db: Database, disk: DiskState): { fd: number; done(): void } | undefined {
  if (disk.isClosed && disk.wal === undefined) {
    if (disk.synced >= disk.made) return undefined;
    throw new StateError(`${db.name}: the connection was closed before its last commits were known to be on disk`, { code: 'state_closed' });
  }
  if (disk.wal === undefined) {
    const fd = openWalFile(db);
    if (fd === undefined) return undefined;
    disk.wal = { fd, inUse: 0 };
  }
  const wal = disk.wal;
  wal.inUse += 1;
  return {
    fd: wal.fd,
    done: () => {
      wal.inUse -= 1;
      closeKeptWalWhenIdle(disk);
    },
  };
}

/** Close the kept descriptor once the connection is closed and no fsync uses it. */
function closeKeptWalWhenIdle(disk: DiskState): void {
  const wal = disk.wal;
  if (!disk.isClosed || wal === undefined || wal.inUse > 0) return;
  disk.wal = undefined;
  closeSync(wal.fd);
}

function syncFailed(db: Database, err: unknown): StateError {
  return new StateError(`${db.name}-wal: cannot sync the last commits to disk: ${errorMessage(err)}`, { code: 'state_sync_failed', cause: err });
}

/**
 * Bring every commit made so far to disk: fsync the WAL file, which holds the frames of the
 * commits that did not wait (a checkpoint has already synced what it moved out of it), this
 * connection's and any other's. A no-op for an in-memory database, or before anything was written.
 *
 * @throws StateError when the WAL file cannot be synced, or a sync failed before (code
 *   `state_sync_failed`: final for this process).
 */
export function syncCommitted(db: Database): void {
  if (db.memory) return;
  const disk = diskOf(db);
  if (disk.failure !== undefined) throw unsyncable(db, disk.failure);
  const through = disk.made;
  const wal = takeWal(db, disk);
  if (wal === undefined) return;
  try {
    fsyncSync(wal.fd);
  } catch (err) {
    noteSync(db, disk, through, err);
  } finally {
    wal.done();
  }
  noteSync(db, disk, through);
}

/** What an fsync of the WAL covering the commits counted up to `through` came to: on disk, or a final failure (thrown). */
function noteSync(db: Database, disk: DiskState, through: number, err?: unknown): void {
  if (err === undefined) {
    disk.synced = Math.max(disk.synced, through);
    return;
  }
  disk.failure ??= syncFailed(db, err);
  throw disk.failure;
}

/**
 * Resolves once every commit this connection has made so far is on disk: at once when they
 * all are (each commit that waited covers those before it), else after an fsync of the WAL on
 * libuv's thread pool, so the process goes on with other work meanwhile. Shared: one fsync in
 * flight and at most one queued behind it serve every caller.
 *
 * @throws StateError (the promise rejects) when the WAL file cannot be opened or synced, or a
 *   sync failed before (code `state_sync_failed`: every later call rejects too).
 */
export async function syncCommittedInBackground(db: Database): Promise<void> {
  if (db.memory) return;
  const disk = diskOf(db);
  if (disk.failure !== undefined) throw unsyncable(db, disk.failure);
  const target = disk.made;
  if (disk.synced >= target) return;
  if (disk.running !== undefined) {
    if (disk.running.through >= target) return disk.running.done;
    if (disk.next === undefined) {
      let resolve!: () => void;
      let reject!: (err: unknown) => void;
      const done = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      // Whoever waits on it handles a rejection; this keeps an unwaited one from crashing the process.
      done.catch(() => {});
      disk.next = { done, resolve, reject };
    }
    return disk.next.done;
  }
  return startSync(db, disk);
}

/** Start the one background fsync; when it ends, start the queued one (if any). */
function startSync(db: Database, disk: DiskState): Promise<void> {
  const through = disk.made;
  const done = (async () => {
    if (disk.failure !== undefined) throw unsyncable(db, disk.failure);
    const wal = takeWal(db, disk);
    if (wal === undefined) return;
    try {
      await new Promise<void>((resolve, reject) => fsync(wal.fd, (err) => (err ? reject(err) : resolve())));
    } catch (err) {
      noteSync(db, disk, through, err);
    } finally {
      wal.done();
    }
    noteSync(db, disk, through);
  })();
  const running = { through, done };
  disk.running = running;
  const after = (): void => {
    if (disk.running === running) disk.running = undefined;
    const next = disk.next;
    if (next === undefined) return;
    disk.next = undefined;
    startSync(db, disk).then(next.resolve, next.reject);
  };
  done.then(after, after);
  return done;
}

/**
 * True while the transaction open on `db` will commit without waiting for the disk. The audit
 * log holds back from its file the records of such a commit until a later commit has waited
 * for the disk, so the file never holds a record a power loss could take from the database.
 */
export function commitSkipsSync(db: Database): boolean {
  return UNSYNCED_COMMITS.has(db);
}

/** How many distinct SQL texts keep their prepared statement (the stores use a few dozen). */
const STATEMENT_CACHE_SIZE = 256;

/**
 * Make `db.prepare` reuse the statement prepared for the same SQL text. The stores prepare their
 * statements where they use them; preparing parses and plans the SQL every time (a few percent
 * of a turn's CPU in the profile). A cached statement is safe to reuse here because nothing in
 * mithai changes a statement's mode (`pluck`, `raw`, `expand`) or iterates one while preparing
 * the same SQL. Past {@link STATEMENT_CACHE_SIZE} texts the cache starts over.
 */
function cacheStatements(db: Database): void {
  const exec = db.exec.bind(db);
  db.exec = ((sql: string) => {
    const open = OPEN_TRANSACTIONS.get(db);
    if (open === undefined) return exec(sql);
    noteWrite(open, undefined);
    return withinOpen(db, open, () => exec(sql));
  }) as typeof db.exec;
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, ReturnType<typeof prepare>>();
  db.prepare = ((sql: string) => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      if (cache.size >= STATEMENT_CACHE_SIZE) cache.clear();
      statement = prepare(sql);
      // A PRAGMA that sets something (the synchronous switch around a commit) commits nothing.
      if (!statement.readonly && !/^\s*PRAGMA\b/i.test(sql)) watchAutocommits(db, statement);
      cache.set(sql, statement);
    }
    return statement;
  }) as typeof db.prepare;
}

/**
 * A writing statement run outside a transaction is its own commit, which waits for the disk
 * (see waitingCommit); it counts towards the next checkpoint. One that also returns rows
 * (`... RETURNING`) must run inside a transaction: better-sqlite3 commits it when it resets the
 * statement and drops any error of that commit, a failed fsync included.
 */
function watchAutocommits(db: Database, statement: BetterSqlite3.Statement): void {
  if (statement.reader) {
    for (const method of ['get', 'all', 'iterate', 'run'] as const) {
      const call = (statement[method] as (...params: unknown[]) => unknown).bind(statement);
      (statement as unknown as Record<string, unknown>)[method] = (...params: unknown[]) => {
        const open = OPEN_TRANSACTIONS.get(db);
        if (open !== undefined) {
          const result = withinOpen(db, open, () => call(...params));
          // `RETURNING` gives back a row for every row it changed, and makes every change in
          // its first step: a row back is a change, none is none (iterate is not counted).
          if (method === 'run') noteWrite(open, (result as BetterSqlite3.RunResult).changes > 0);
          else if (method === 'get') noteWrite(open, result !== undefined);
          else if (method === 'all') noteWrite(open, (result as unknown[]).length > 0);
          else noteWrite(open, undefined);
          return result;
        }
        if (!db.inTransaction) throw new InternalError(`${statement.source}: a statement that writes and returns rows must run inside a write transaction (its commit's errors would be lost)`);
        return call(...params);
      };
    }
    return;
  }
  const run = statement.run.bind(statement);
  statement.run = ((...params: unknown[]) => {
    const open = OPEN_TRANSACTIONS.get(db);
    if (open !== undefined) {
      const result = withinOpen(db, open, () => run(...params));
      noteWrite(open, result.changes > 0);
      return result;
    }
    if (db.inTransaction) return run(...params);
    const disk = diskOf(db);
    const result = waitingCommit(db, disk, () => run(...params));
    if (result.changes > 0) checkpointSoon(db, disk);
    return result;
  }) as typeof statement.run;
}

/** Apply every migration newer than the recorded version, each in its own transaction. */
function migrate(db: Database, file: string): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)');
  const row = db.prepare<[], { version: number }>('SELECT version FROM schema_version').get();
  const found = row?.version ?? 0;
  if (found > SCHEMA_VERSION) {
    // Never touch a schema we do not understand: a downgrade would misread or corrupt it.
    throw new StateError(
      `${file}: schema version ${found} is newer than this mithai understands (up to ${SCHEMA_VERSION}). ` +
        `Upgrade mithai, or move the state directory (state.path) aside to start with empty state.`,
      { code: 'state_version_unsupported' },
    );
  }
  for (const migration of MIGRATIONS) {
    if (migration.version <= found) continue;
    // BEGIN IMMEDIATE: two processes starting together must not both run the same migration.
    db.transaction(() => {
      const current = db.prepare<[], { version: number }>('SELECT version FROM schema_version').get()?.version ?? 0;
      if (current >= migration.version) return;
      db.exec(migration.sql);
      // One row only: replace whatever was there.
      db.prepare('DELETE FROM schema_version').run();
      db.prepare('INSERT INTO schema_version (version) VALUES (?)').run(migration.version);
    }).immediate();
  }
  // A migration can rewrite a whole table into the WAL (schema 4 copies every message): copy it
  // into the database file now and empty the WAL, rather than leave a WAL that size for the
  // first checkpoint to copy in one long block of the event loop. Not done when busy (another
  // process reads): then the usual checkpoints do it. A failed fsync fails the open.
  if (found < SCHEMA_VERSION && !db.memory) db.prepare('PRAGMA wal_checkpoint(TRUNCATE)').get();
}
