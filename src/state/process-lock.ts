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
import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

/**
 * Take the lock of a state directory.
 * @throws StateError (`state_locked`) when another process, or another runtime of this one,
 *   holds it; StateError when the lock cannot be taken or the pid file written.
 */
export function acquireProcessLock(stateDir: string): ProcessLock {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, LOCK_FILE);
  const lockPath = join(stateDir, LOCK_DB_FILE);
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
  } catch (err) {
    lock.close();
    if ((err as { code?: unknown }).code === 'SQLITE_BUSY') {
      const holder = holderOf(path);
      throw new StateError(
        `another mithai process${holder === undefined ? '' : ` (pid ${holder})`} is already using ${stateDir}; run one \`mithai run\` or \`mithai chat\` per project (stop it, or point state.path elsewhere)`,
        { code: 'state_locked' },
      );
    }
    throw new StateError(`${lockPath}: cannot take the process lock: ${errorMessage(err)}`, { cause: err });
  }
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
    release() {
      if (released) return;
      released = true;
      // Only our own pid file (someone may have replaced it); the lock file itself stays.
      if (holderOf(path) === process.pid) rmSync(path, { force: true });
      lock.close();
    },
  };
}
