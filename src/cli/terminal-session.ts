/**
 * The terminal adapter wired to a runtime's engine, as `mithai chat` and `mithai skill run`
 * both use it: approvals are asked on this terminal (or read from piped stdin) and decided
 * through the engine's one decision entry point.
 */
import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import type { LoadedConfig } from '../config/load-config.ts';
import { LineReader } from '../adapters/terminal/line-reader.ts';
import { TerminalAdapter } from '../adapters/terminal/terminal-adapter.ts';
import type { StatusLine } from '../adapters/terminal/status-line.ts';
import type { Runtime } from '../engine/create-runtime.ts';

/** A terminal adapter, its line reader, and the signal that Ctrl-C / SIGTERM aborts. */
export interface TerminalSession {
  adapter: TerminalAdapter;
  lines: LineReader;
  stop: AbortController;
  interactive: boolean;
  /** Stop on SIGINT/SIGTERM; returns the function that removes the handlers. */
  handleSignals(): () => void;
}

/** Open a terminal session for `user` on `runtime`, with an optional spinner (`status`). */
export function openTerminalSession(runtime: Runtime, o: { user: string; botName: string; status?: StatusLine }): TerminalSession {
  const interactive = Boolean(process.stdin.isTTY);
  const stop = new AbortController();
  const onSignal = (): void => {
    stop.abort();
    lines.close();
  };
  const lines = new LineReader(process.stdin, interactive ? process.stdout : undefined, interactive, onSignal);
  const adapter = new TerminalAdapter({
    lines,
    output: process.stdout,
    user: o.user,
    botName: o.botName,
    decisions: {
      decide: (id, decider, decision, decideOptions) => runtime.engine.decide(id, decider, decision, { ...decideOptions, via: 'terminal' }),
      wait: (id, signal) => runtime.waiters.wait(id, signal),
      cancel: (id, reason) => runtime.engine.cancelPending(id, reason),
      check: (approval, decider, decision) => runtime.engine.checkDecider(approval, decider, decision),
    },
    interactive,
    stopSignal: stop.signal,
    redact: (t) => runtime.redactor.redact(t),
    ...(o.status === undefined ? {} : { status: o.status }),
  });
  return {
    adapter,
    lines,
    stop,
    interactive,
    handleSignals() {
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      return () => {
        process.removeListener('SIGINT', onSignal);
        process.removeListener('SIGTERM', onSignal);
      };
    },
  };
}

/**
 * Where a terminal command's logs go: they must not mix with the conversation on stdout. With
 * `logging.file` set the logger writes there itself; otherwise to `<state>/../logs/<file>`, or
 * to stderr with `--log-stderr`.
 */
export function terminalLogDestination(loaded: LoadedConfig, toStderr: boolean, file: string): NodeJS.WritableStream {
  if (toStderr) return process.stderr;
  if (loaded.config.logging.file) return new Writable({ write: (_chunk, _encoding, done) => done() });
  const logFile = join(dirname(loaded.config.state.path), 'logs', file);
  mkdirSync(dirname(logFile), { recursive: true, mode: 0o700 });
  return createWriteStream(logFile, { flags: 'a', mode: 0o600 });
}

/** Flush and close a destination from {@link terminalLogDestination}. */
export function closeLogDestination(destination: NodeJS.WritableStream): Promise<void> {
  if (destination === process.stderr) return Promise.resolve();
  return new Promise<void>((resolve) => (destination as NodeJS.WritableStream & { end(cb: () => void): void }).end(resolve));
}
