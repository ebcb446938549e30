/**
 * Run one program with an argv array: no shell, its own process group, a time limit, an output
 * limit. The building block of the `shell` and `kubernetes` built-in skills, and of any skill
 * that runs a command.
 *
 * - **No shell.** `argv[0]` is the program, the rest are its arguments, passed as they are: no
 *   word splitting, globbing, `;`, pipes or `$(…)` can happen.
 * - **Killed whole.** The child leads its own process group; on the time limit or on `signal`
 *   the whole group gets SIGTERM, then SIGKILL after {@link KILL_GRACE_MS}, so grandchildren
 *   (`sh` → `sleep`) die too; when the program ends, what is left of its group is killed.
 * - **Never held open by an escapee.** A process that left the group (it called `setsid`) cannot
 *   be killed through it. If one still holds the output pipes when the program has ended, they
 *   are closed {@link EXIT_DRAIN_MS} later and the run ends (`escaped`), instead of waiting for
 *   that process however long it lives (it then dies of SIGPIPE at its next write, or lives on).
 * - **Bounded output.** stdout and stderr are each kept up to `maxOutputBytes`; the rest is
 *   counted, not stored.
 * - **Environment given explicitly** (use `ctx.childEnv()`): nothing is inherited implicitly.
 */
import { spawn } from 'node:child_process';

/** Time between SIGTERM and SIGKILL when a child is stopped. */
export const KILL_GRACE_MS = 2_000;

/**
 * After the program has ended, how long its stdout and stderr may stay open (held by a process
 * outside its process group) before they are closed and the run ends.
 */
export const EXIT_DRAIN_MS = 200;

/** Options for {@link runArgv}. */
export interface RunArgvOptions {
  /** The child's whole environment (nothing else is inherited). */
  env: Record<string, string>;
  /** Time limit in milliseconds. */
  timeoutMs: number;
  /** Bytes of stdout (and, separately, of stderr) kept. */
  maxOutputBytes: number;
  /** Stops the child early (the tool's own time limit, a cancelled turn). */
  signal?: AbortSignal;
  cwd?: string;
}

/** One stream's output, capped. */
export interface CappedOutput {
  text: string;
  /** Bytes produced beyond the cap (not kept). */
  droppedBytes: number;
}

/** How a run ended. */
export interface RunArgvResult {
  /** Exit code, or null when the child was ended by a signal. */
  exitCode: number | null;
  /** The signal that ended it, if any. */
  signal: NodeJS.Signals | null;
  stdout: CappedOutput;
  stderr: CappedOutput;
  /** True when the time limit ended it. */
  timedOut: boolean;
  /** True when `signal` ended it. */
  aborted: boolean;
  /**
   * True when the program had ended but a process that left its process group (`setsid`) still
   * held its output open: the pipes were closed after {@link EXIT_DRAIN_MS}; that process was
   * not killed and may still be running.
   */
  escaped: boolean;
  durationMs: number;
}

/** The program could not be started at all (not found, not executable). */
export class SpawnError extends Error {
  readonly code: string | undefined;
  constructor(program: string, cause: NodeJS.ErrnoException) {
    super(cause.code === 'ENOENT' ? `${program}: not found` : `${program}: could not be started (${cause.code ?? cause.message})`, { cause });
    this.name = 'SpawnError';
    this.code = cause.code;
  }
}

/**
 * Run `argv` and collect its output. Resolves when the child and its pipes have closed;
 * rejects with {@link SpawnError} only when the program could not be started.
 */
export function runArgv(argv: readonly string[], options: RunArgvOptions): Promise<RunArgvResult> {
  const [program, ...args] = argv;
  if (program === undefined || program === '') return Promise.reject(new TypeError('runArgv: argv must name a program'));
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      env: options.env,
      cwd: options.cwd,
      shell: false,
      detached: true, // its own process group, so the whole group can be killed
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
    });
    const stdout = capture(options.maxOutputBytes);
    const stderr = capture(options.maxOutputBytes);
    child.stdout.on('data', (chunk: Buffer) => stdout.add(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.add(chunk));
    let timedOut = false;
    let aborted = false;
    let escaped = false;
    let killTimer: NodeJS.Timeout | undefined;
    let drainTimer: NodeJS.Timeout | undefined;
    const stop = (): void => {
      if (killTimer !== undefined || child.pid === undefined) return;
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid!, 'SIGKILL'), KILL_GRACE_MS);
      killTimer.unref();
    };
    const deadline = setTimeout(() => {
      timedOut = true;
      stop();
    }, options.timeoutMs);
    const onAbort = (): void => {
      aborted = true;
      stop();
    };
    if (options.signal?.aborted) onAbort();
    else options.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanUp = (): void => {
      clearTimeout(deadline);
      if (killTimer !== undefined) clearTimeout(killTimer);
      if (drainTimer !== undefined) clearTimeout(drainTimer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    let settled = false;
    child.once('error', (err: NodeJS.ErrnoException) => {
      if (settled) return;
      settled = true;
      cleanUp();
      reject(new SpawnError(program, err));
    });
    // Members of the group that outlive the program (a backgrounded child) would hold the
    // pipes open and the call with them: they end with it.
    // A member that left the group cannot be killed through it: once the program has ended,
    // its pipes get EXIT_DRAIN_MS to close, then they are closed here and the run ends.
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null): void => {
      if (settled) return;
      settled = true;
      cleanUp();
      resolve({ exitCode, signal, stdout: stdout.result(), stderr: stderr.result(), timedOut, aborted, escaped, durationMs: Date.now() - started });
    };
    child.once('exit', (exitCode, signal) => {
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
      // The program has ended: its time limit no longer applies (a run that ended by itself is
      // not reported as timed out because an escapee kept its pipes open).
      clearTimeout(deadline);
      drainTimer = setTimeout(() => {
        escaped = true;
        child.stdout.destroy();
        child.stderr.destroy();
        finish(exitCode, signal);
      }, EXIT_DRAIN_MS);
      drainTimer.unref();
    });
    child.once('close', (exitCode, signal) => finish(exitCode, signal));
  });
}

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // Already gone.
  }
}

function capture(maxBytes: number): { add(chunk: Buffer): void; result(): CappedOutput } {
  const kept: Buffer[] = [];
  let keptBytes = 0;
  let droppedBytes = 0;
  return {
    add(chunk) {
      const room = maxBytes - keptBytes;
      if (room > 0) {
        const piece = chunk.length <= room ? chunk : chunk.subarray(0, room);
        kept.push(piece);
        keptBytes += piece.length;
      }
      droppedBytes += Math.max(0, chunk.length - Math.max(0, room));
    },
    result() {
      // A cut may split a UTF-8 sequence; the decoder replaces the broken tail with U+FFFD.
      return { text: Buffer.concat(kept).toString('utf8'), droppedBytes };
    },
  };
}
