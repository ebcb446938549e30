/**
 * `mithai approvals list | head` closes the pipe after the lines it wanted; a log shipper that
 * reads `mithai run` may restart. The next write then fails with EPIPE, and an unhandled stream
 * error would crash with a stack trace. A reader that went away wants nothing more, but the
 * command is not done: the stream is silenced (later writes do nothing) and the command carries
 * on to its own end, with its own exit code and its own clean-up. So `mithai run` keeps serving
 * (its log lines are dropped; `logging.file` keeps them), a failed `approvals approve` still
 * exits non-zero, and `skill run` still withdraws its approval.
 */
let isInstalled = false;
const closed = new Set<NodeJS.WriteStream>();
const stdoutListeners: Array<() => void> = [];

/** Install the EPIPE handling on stdout and stderr, once per process; other write errors are thrown as before. */
export function endQuietlyWhenPipeCloses(): void {
  if (isInstalled) return;
  isInstalled = true;
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE') throw err;
      silence(stream);
    });
  }
}

/** Call `listener` once, when stdout's reader has gone away. */
export function whenStdoutCloses(listener: () => void): void {
  if (closed.has(process.stdout)) listener();
  else stdoutListeners.push(listener);
}

/** Whether `stream`'s reader has gone away (its writes are dropped). */
export function isPipeClosed(stream: NodeJS.WriteStream): boolean {
  return closed.has(stream);
}

function silence(stream: NodeJS.WriteStream): void {
  if (closed.has(stream)) return;
  closed.add(stream);
  // Writes after this do nothing and report success (a callback still runs), so no writer
  // waits on a stream nobody reads and no later write raises ERR_STREAM_DESTROYED.
  stream.write = ((_chunk: unknown, encodingOrCallback?: unknown, callback?: unknown): boolean => {
    const done = typeof encodingOrCallback === 'function' ? encodingOrCallback : callback;
    if (typeof done === 'function') queueMicrotask(() => (done as () => void)());
    return true;
  }) as typeof stream.write;
  if (stream === process.stdout) for (const listener of stdoutListeners.splice(0)) listener();
}
