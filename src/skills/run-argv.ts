/**
 * Run one program with an argv array: no shell, its own process group, a time limit, an output
 * limit. The building block of the `shell` and `kubernetes` built-in skills, and of any skill
 * that runs a command.
 *
 * - **No shell.** `argv[0]` is the program, the rest are its arguments, passed as they are: no
 *   word splitting, globbing, `;`, pipes or `$(…)` can happen.
 * - **Killed whole.** The child leads its own process group; on the time limit, on `signal`, or
 *   when the output cap is far exceeded, the whole group gets SIGTERM, then SIGKILL after
 *   {@link KILL_GRACE_MS}, so grandchildren (`sh` → `sleep`) die too.
 * - **Bounded output.** stdout and stderr are each kept up to `maxOutputBytes`; the rest is
 *   counted, not stored.
 * - **Environment given explicitly** (use `ctx.childEnv()`): nothing is inherited implicitly.
 */
import { spawn } from 'node:child_process';

/** Time between SIGTERM and SIGKILL when a child is stopped. */
export const KILL_GRACE_MS = 2_000;

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
    let killTimer: NodeJS.Timeout | undefined;
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
    child.once('exit', () => {
      if (child.pid !== undefined) killGroup(child.pid, 'SIGKILL');
    });
    child.once('close', (exitCode, signal) => {
      if (settled) return;
      settled = true;
      cleanUp();
      resolve({ exitCode, signal, stdout: stdout.result(), stderr: stderr.result(), timedOut, aborted, durationMs: Date.now() - started });
    });
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
