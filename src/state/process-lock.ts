/**
 * One serving process per state directory. `mithai chat` and `mithai run` both reconcile
 * approvals at start and cancel pending ones at exit, and both append to the audit chain; a
 * second process on the same project would cancel the first one's approvals and could fork the
 * chain. So the runtime holds an exclusive SQLite lock on `<state.path>/mithai.lock.db` for as
 * long as it runs, and refuses to start while another process (or another runtime in this one)
 * holds it. The lock is the kernel's (fcntl, through SQLite): it goes away with its process
 * however that process ends, so there is no stale lock to detect and take over, and no race
 * between processes that start together. `<state.path>/mithai.lock` holds the holder's pid, for
 * people and for the refusal message only. Read-only commands (`approvals list`, `audit
 * verify`, `doctor`) do not take the lock.
 */
import { chmodSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { StateError, errorMessage } from '../errors.ts';

/** The holder's pid, as text (informational). */
export const LOCK_FILE = 'mithai.lock';
/** The file the exclusive lock is held on. Never deleted: a process opening it must lock the same file as the holder. */
export const LOCK_DB_FILE = 'mithai.lock.db';

/** A held lock; release it on shutdown. */
export interface ProcessLock {
  /** The pid file. */
  readonly path: string;
  /**
   * false once the lock file at the path is no longer the one this process locked (deleted or
   * replaced while it ran): another process could then lock a new one and serve beside it.
   */
  isIntact(): boolean;
  release(): void;
}

/** The pid a pid file names, or undefined when it names none (gone, empty, unreadable). */
function holderOf(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to someone else, so it is alive.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The file's identity, or undefined when there is none. */
function inodeOf(path: string): string | undefined {
  try {
    const stats = statSync(path, { bigint: true });
    return `${stats.dev}:${stats.ino}`;
  } catch {
    return undefined;
  }
}

const ONE_PER_PROJECT = 'run one `mithai run` or `mithai chat` per project (stop it, or point state.path elsewhere)';

/** Why the lock is busy, in words: who holds it, as far as the pid file can say. */
function busy(stateDir: string, path: string, lockPath: string): StateError {
  const holder = holderOf(path);
  if (holder === process.pid) {
    return new StateError(`another runtime in this process already holds the lock on ${stateDir}; ${ONE_PER_PROJECT}`, { code: 'state_locked' });
  }
  if (holder !== undefined && isAlive(holder)) {
    return new StateError(`another mithai process (pid ${holder}) is already using ${stateDir}; ${ONE_PER_PROJECT}`, { code: 'state_locked' });
  }
  return new StateError(
    `${lockPath} is locked by a process that ${path} does not name (${holder === undefined ? 'it names none' : `it names pid ${holder}, which is not running`}): another mithai may be using ${stateDir}, or this filesystem does not support file locks (SQLite reports both as busy). Stop the other process, or put state.path on a local filesystem.`,
    { code: 'state_locked' },
  );
}

/**
 * Take the lock of a state directory.
 * @throws StateError (`state_locked`) when another process, or another runtime of this one,
 *   holds it (or the pid file names a running process that is not this one); StateError when
 *   the lock cannot be taken or the pid file written.
 */
export function acquireProcessLock(stateDir: string): ProcessLock {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, LOCK_FILE);
  const lockPath = join(stateDir, LOCK_DB_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    const before = inodeOf(lockPath);
    const lock = lockFile(stateDir, path, lockPath);
    // The file now locked must be the one at the path: one replaced around our open would leave
    // us holding a lock nobody else looks at.
    const after = inodeOf(lockPath);
    if (after === undefined || (before !== undefined && before !== after)) {
      lock.close();
      continue;
    }
    const holder = holderOf(path);
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
      // The lock was free, yet the pid file names a running process: a mithai whose lock file
      // was deleted or replaced while it ran (or a mithai from before this lock), or a process
      // that reused a dead mithai's pid. Refuse rather than run beside it.
      lock.close();
      throw new StateError(
        `${path} names pid ${holder}, which is running, but ${lockPath} was not locked: another mithai may be running whose lock file was deleted or replaced (never delete it while mithai runs). Stop it; if pid ${holder} is not mithai, delete ${path} and start again.`,
        { code: 'state_locked' },
      );
    }
    removeStrayAsides(stateDir);
    try {
      // Whole or not at all: written aside, then renamed over whatever a dead holder left.
      const aside = `${path}.${process.pid}`;
      writeFileSync(aside, `${process.pid}\n`, { mode: 0o600 });
      renameSync(aside, path);
    } catch (err) {
      lock.close();
      throw new StateError(`${path}: cannot write the process lock's pid file: ${errorMessage(err)}`, { cause: err });
    }
    let released = false;
    return {
      path,
      isIntact: () => inodeOf(lockPath) === after,
      release() {
        if (released) return;
        released = true;
        // Only our own pid file (someone may have replaced it); the lock file itself stays.
        if (holderOf(path) === process.pid) rmSync(path, { force: true });
        lock.close();
      },
    };
  }
  throw new StateError(`${lockPath}: could not take the process lock; the file keeps being replaced`, { code: 'state_locked' });
}

/** A pid file written aside (`mithai.lock.<pid>`) by a process that died before renaming it. */
const ASIDE_FILE = /^mithai\.lock\.\d+$/;

/**
 * Remove what processes that died between writing their pid file aside and renaming it left.
 * Only the lock's holder writes one, so with the lock held every one found is stray. Best
 * effort: a file that cannot be removed is only clutter.
 */
function removeStrayAsides(stateDir: string): void {
  let names: string[];
  try {
    names = readdirSync(stateDir);
  } catch {
    return;
  }
  for (const name of names) {
    if (!ASIDE_FILE.test(name)) continue;
    try {
      rmSync(join(stateDir, name), { force: true });
    } catch {
      // Clutter, not a hazard: it is never read.
    }
  }
}

/** Open the lock file and take its exclusive lock, kept until the connection closes. */
function lockFile(stateDir: string, path: string, lockPath: string): BetterSqlite3.Database {
  let lock: BetterSqlite3.Database;
  try {
    lock = new BetterSqlite3(lockPath, { timeout: 0 });
  } catch (err) {
    throw new StateError(`${lockPath}: cannot open the process lock: ${errorMessage(err)}`, { cause: err });
  }
  try {
    chmodSync(lockPath, 0o600);
    // Kept until the connection closes (release, or the process ending in any way). Nothing is
    // written to it; the journal stays in memory, so no journal file is left beside it.
    lock.pragma('locking_mode = EXCLUSIVE');
    lock.pragma('journal_mode = MEMORY');
    lock.exec('BEGIN EXCLUSIVE; COMMIT');
    return lock;
  } catch (err) {
    lock.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') throw busy(stateDir, path, lockPath);
    throw new StateError(`${lockPath}: cannot take the process lock: ${errorMessage(err)}`, { cause: err });
  }
}
