/**
 * One serving process per state directory. `mithai chat` and `mithai run` both reconcile
 * approvals at start and cancel pending ones at exit, and both append to the audit chain; a
 * second process on the same project would cancel the first one's approvals and could fork the
 * chain. So the runtime takes `<state.path>/mithai.lock` (created exclusively, holding its pid)
 * and refuses to start while a live process holds it. A lock left by a dead process is taken over.
 * Read-only commands (`approvals list`, `audit verify`, `doctor`) do not take it.
 */
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
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

/**
 * Take the lock of a state directory.
 * @throws StateError when another live process holds it, or the lock file cannot be written.
 */
export function acquireProcessLock(stateDir: string): ProcessLock {
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const path = join(stateDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(path, 'wx', 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      let released = false;
      return {
        path,
        release() {
          if (released) return;
          released = true;
          rmSync(path, { force: true });
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StateError(`${path}: cannot create the process lock: ${errorMessage(err)}`, { cause: err });
      }
    }
    const holder = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
    if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
      throw new StateError(
        `another mithai process (pid ${holder}) is already using ${stateDir}; run one \`mithai run\` or \`mithai chat\` per project (stop it, or point state.path elsewhere)`,
        { code: 'state_locked' },
      );
    }
    // Left behind by a process that died without cleaning up: take it over.
    rmSync(path, { force: true });
  }
  throw new StateError(`${path}: could not take the process lock; another process keeps creating it`, { code: 'state_locked' });
}
