/**
 * `mithai approvals list | head` closes the pipe after the lines it wanted. The next write then
 * fails with EPIPE, and an unhandled stream error would crash with a stack trace. A reader that
 * went away wanted nothing more: end quietly, with exit code 0, whichever command was printing.
 */
import { EXIT } from './exit-codes.ts';

let isInstalled = false;

/**
 * Make EPIPE on stdout or stderr end the process at once with exit code 0. Installed once per
 * process; other write errors are thrown as before. Ending at once is safe for every command:
 * SQLite and the audit appender write synchronously, so no half-written record is left, and a
 * `mithai chat` stopped this way is resumed like one that was killed (`--session NAME`).
 */
export function endQuietlyWhenPipeCloses(): void {
  if (isInstalled) return;
  isInstalled = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EPIPE') process.exit(EXIT.ok);
      throw err;
    });
  }
}
