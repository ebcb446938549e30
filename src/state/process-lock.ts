/**
 * One serving process per state directory. `mithai chat` and `mithai run` both reconcile
 * approvals at start and cancel pending ones at exit, and both append to the audit chain; a
 * second process on the same project would cancel the first one's approvals and could fork the
 * chain. So the runtime takes `<state.path>/mithai.lock` (created exclusively, holding its pid)
 * and refuses to start while a live process holds it. A lock left by a dead process is taken over.
 * Read-only commands (`approvals list`, `audit verify`, `doctor`) do not take it.
 */
import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StateError, errorMessage } from '../errors.ts';

export const LOCK_FILE = 'mithai.lock';

/** A held lock; release it on shutdown. */
export interface ProcessLock {
  readonly path: string;
  release(): void;
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

/** The pid a lock file names, or undefined when it names none (gone, empty, unreadable). */
function holderOf(path: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** A name next to the lock no other process uses. */
function uniqueBeside(path: string, what: string): string {
  return `${path}.${what}-${process.pid}-${randomBytes(4).toString('hex')}`;
}

/**
 * Take the lock of a state directory. The lock file appears whole, holding the pid: it is
 * written under a name of its own and then hard-linked into place, which fails if a lock is
 * there (a process looking at it never reads an empty file and takes it for a dead one). A lock
 * left by a dead process is moved aside before it is taken over, and put back if it turns out to
 * have been taken over by a live process in the meantime.
 * @throws StateError when another live process holds it, or the lock file cannot be written.
 */
export function acquireProcessLock(stateDir: string): ProcessLock {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    if (link(path)) {
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          // Only our own: a lock another process holds now is not ours to remove.
          if (holderOf(path) === process.pid) rmSync(path, { force: true });
        },
      };
    }
    const holder = holderOf(path);
    if (holder !== undefined && holder !== process.pid && isAlive(holder)) {
      throw new StateError(
        `another mithai process (pid ${holder}) is already using ${stateDir}; run one \`mithai run\` or \`mithai chat\` per project (stop it, or point state.path elsewhere)`,
        { code: 'state_locked' },
      );
    }
    // Left behind by a process that died without cleaning up: move it aside, then take it.
    const aside = uniqueBeside(path, 'stale');
    try {
      renameSync(path, aside);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
      throw new StateError(`${path}: cannot move aside the lock left by pid ${holder ?? 'unknown'}: ${errorMessage(err)}`, { cause: err });
    }
    const moved = holderOf(aside);
    if (moved !== undefined && moved !== holder && moved !== process.pid && isAlive(moved)) {
      // Another process took the dead one's lock over between our read and our move: put its
      // lock back (if a third has not taken the place meanwhile) and try again.
      try {
        linkSync(aside, path);
      } catch {
        // The place is taken again; the next attempt reads who holds it.
      }
    }
    rmSync(aside, { force: true });
  }
  throw new StateError(`${path}: could not take the process lock; another process keeps creating it`, { code: 'state_locked' });
}

/** Put a lock file holding this pid in place. @returns false when a lock is already there. */
function link(path: string): boolean {
  const mine = uniqueBeside(path, 'new');
  try {
    writeFileSync(mine, `${process.pid}\n`, { mode: 0o600, flag: 'wx' });
    linkSync(mine, path);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StateError(`${path}: cannot create the process lock: ${errorMessage(err)}`, { cause: err });
  } finally {
    rmSync(mine, { force: true });
  }
}
