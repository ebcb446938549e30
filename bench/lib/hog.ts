/**
 * A CPU hog: one child process per core, each spinning in a busy loop, so the system under test
 * competes for both cores. Stopped by their own pids.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { availableParallelism } from 'node:os';

export interface Hog {
  readonly size: number;
  stop(): Promise<void>;
}

export function startHog(count = availableParallelism()): Hog {
  const children: ChildProcess[] = Array.from({ length: count }, () => spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return {
    size: count,
    async stop() {
      await Promise.all(children.map((c) => new Promise<void>((resolve) => {
        if (c.exitCode !== null || c.signalCode !== null) return resolve();
        c.once('close', () => resolve());
        c.kill('SIGKILL');
      })));
    },
  };
}
