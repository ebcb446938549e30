/**
 * What the model reads after a command ran: how it ended, how long it took, and its output,
 * each stream cut at `max_output_bytes` with the rest counted. A non-zero exit is an ordinary
 * result (the model reads the exit code and stderr); only a refusal is an error.
 */
import type { CappedOutput, RunArgvResult } from 'mithai';

/** The result of `shell__run_command`. */
export interface CommandResult {
  /** What ran: the program by absolute path, then the arguments. */
  argv: readonly string[];
  /** Exit code, or null when a signal ended it. */
  exit_code: number | null;
  /** The signal that ended it, if one did. */
  signal: string | null;
  duration_ms: number;
  /** True when the time limit stopped it. */
  timed_out: boolean;
  stdout: string;
  stderr: string;
  /** Why it ended early, when it did. */
  note?: string;
}

/** The result for `ran`, produced by running `argv` with a limit of `timeoutMs`. */
export function commandResult(argv: readonly string[], ran: RunArgvResult, timeoutMs: number): CommandResult {
  const result: CommandResult = {
    argv,
    exit_code: ran.exitCode,
    signal: ran.signal,
    duration_ms: ran.durationMs,
    timed_out: ran.timedOut,
    stdout: shown(ran.stdout),
    stderr: shown(ran.stderr),
  };
  // A process that left the command's process group (setsid) was not killed: say so rather
  // than claim everything is gone.
  const killed = ran.escaped ? 'the command was killed' : 'the command and every process it started were killed';
  const notes: string[] = [];
  if (ran.timedOut) notes.push(`stopped after ${timeoutMs / 1000} s (skills.config.shell.timeout_seconds); ${killed}`);
  else if (ran.aborted) notes.push(`stopped because the call was cancelled; ${killed}`);
  if (ran.escaped) {
    notes.push('a process it started left its process group and still held the output open when the command ended: it was not killed and may still be running; output after that point was not read');
  }
  if (notes.length > 0) result.note = notes.join('; ');
  return result;
}

/** A stream's kept text, with a note of what was cut. */
function shown(output: CappedOutput): string {
  if (output.droppedBytes === 0) return output.text;
  const separator = output.text === '' || output.text.endsWith('\n') ? '' : '\n';
  return `${output.text}${separator}… ${output.droppedBytes} more bytes not shown`;
}
