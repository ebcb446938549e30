/**
 * The liveness file of `mithai run`, for a supervisor's health check: `<state.path>/run.heartbeat`
 * is rewritten every 10 s while the Socket Mode connection is open, and removed when `mithai run`
 * stops. Its age tells whether this process is serving Slack: fresh while it is connected and its
 * event loop runs; stale once it has been disconnected for a while, is stuck, or was killed
 * without a shutdown; missing before the first connection and after a clean stop. The file holds
 * the pid only, nothing secret. The Dockerfile's HEALTHCHECK reads its age (docs/deployment.md).
 * Each beat also checks that the process lock's file is still the one this process locked: one
 * deleted or replaced while mithai runs would let a second process serve beside it, so the
 * process is told (and stops) instead.
 */
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.ts';
import { lockWatch, type WatchedLock } from './lock-watch.ts';

/** The file's name inside `state.path`. */
export const HEARTBEAT_FILE = 'run.heartbeat';

/** How often the file is rewritten while connected. A health check allows a few missed beats. */
export const HEARTBEAT_EVERY_MS = 10_000;

/** A running heartbeat. */
export interface Heartbeat {
  /** Stop beating and remove the file (a stopped process is not healthy). Idempotent. */
  stop(): void;
}

/**
 * Beat now and then every `everyMs`, each time only if `isConnected()` says the connection is
 * open. A write that fails is logged once (until a write succeeds again), never thrown: a full
 * disk must not stop the service, and the health check then reports it by the file's age.
 * @param stateDir the project's `state.path` (it exists: the process lock is in it)
 * @param lock checked on every beat, connected or not
 */
export function startHeartbeat(stateDir: string, isConnected: () => boolean, log: Logger, everyMs = HEARTBEAT_EVERY_MS, lock?: WatchedLock): Heartbeat {
  const path = join(stateDir, HEARTBEAT_FILE);
  let hasFailed = false;
  let isStopped = false;
  const isLockLost = lock === undefined ? () => false : lockWatch(lock, stateDir, log);
  const beat = (): void => {
    if (isStopped || isLockLost() || !isConnected()) return;
    try {
      writeFileSync(path, `${process.pid}\n`, { mode: 0o600 });
      hasFailed = false;
    } catch (err) {
      if (!hasFailed) log.warn({ path, err: errorMessage(err) }, 'heartbeat.write_failed');
      hasFailed = true;
    }
  };
  beat();
  const timer = setInterval(beat, everyMs);
  timer.unref();
  return {
    stop() {
      isStopped = true;
      clearInterval(timer);
      rmSync(path, { force: true });
    },
  };
}
