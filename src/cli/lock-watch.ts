/**
 * Watching the process lock while a command serves (`mithai run` on its heartbeat, `mithai chat`
 * on its decision poll): a lock file deleted or replaced while mithai runs would let a second
 * process take a new lock and serve the same project beside this one, so the command is told,
 * once, and stops instead of carrying on unguarded.
 */
import type { Logger } from 'pino';

/** The process lock as a watcher sees it. */
export interface WatchedLock {
  isIntact(): boolean;
  /** Called once, the first time the lock is found not intact. */
  onLost(): void;
}

/**
 * A check to call on every beat: false while the lock is intact; true from the first beat that
 * finds it lost (that one logs `state.lock_lost` and calls `onLost`).
 */
export function lockWatch(lock: WatchedLock, stateDir: string, log: Logger): () => boolean {
  let isLost = false;
  return () => {
    if (isLost) return true;
    if (lock.isIntact()) return false;
    isLost = true;
    log.error({ state_path: stateDir, reason: 'the process lock file was deleted or replaced while mithai ran; another process may be serving this project' }, 'state.lock_lost');
    lock.onLost();
    return true;
  };
}
