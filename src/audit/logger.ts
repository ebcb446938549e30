/**
 * The runtime's pino logger. Redaction happens in one place, on the way out: every serialised
 * line passes through the redactor before it reaches stdout or the log file, whatever field
 * (message, error stack, nested object, child binding) carried the secret. pino's own
 * path-based `redact` option is not used, because it only covers the paths someone remembered
 * to list.
 *
 * Two formats (`logging.format`): JSON lines for machines, or pino-pretty's human-readable lines
 * when the destination is a terminal. Pretty lines are made from the already redacted JSON line,
 * in this thread and synchronously (pino-pretty's `prettyFactory`, not its worker-thread
 * transport), and are redacted once more after formatting, since prettifying unescapes strings:
 * a pretty line is never less redacted than its JSON line, no second redaction point exists in a
 * worker, and no line is lost when the process exits right after logging (`mithai run` ends with
 * `process.exit`). A log file always gets the JSON lines.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { prettyFactory } from 'pino-pretty';
import { ConfigError, errorMessage } from '../errors.ts';
import type { Redactor } from '../security/redactor.ts';

/** The logger type used across mithai (pino's). */
export type Logger = PinoLogger;

/** How lines are written to the destination: pino-pretty's human-readable lines or JSON lines. */
export type LogFormat = 'pretty' | 'json';

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** pino level: trace, debug, info, warn, error, fatal or silent. */
  level: string;
  /** Also append every line to this file (created with mode 0600, parent folder 0700). */
  file?: string;
  /** Applied to every line before it is written anywhere. */
  redactor: Redactor;
  /** Where lines go (default process.stdout). */
  destination?: NodeJS.WritableStream;
  /** `pretty` or `json` for `destination` (never for `file`); unset: {@link chooseLogFormat}. */
  format?: LogFormat;
}

/**
 * The format lines are written to `destination` in: the configured one, else `pretty` exactly
 * when `destination` is a terminal (a TTY), `json` otherwise (a pipe, a file, a test stream).
 */
export function chooseLogFormat(configured: LogFormat | undefined, destination: NodeJS.WritableStream): LogFormat {
  return configured ?? (isTerminal(destination) ? 'pretty' : 'json');
}

/**
 * Create the logger: lines with `name: 'mithai'`, redacted, to `destination` (JSON or pretty, see
 * {@link chooseLogFormat}) and optionally, as JSON, to a file.
 *
 * @throws ConfigError when the level is unknown or the log file cannot be opened.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const pretty = chooseLogFormat(options.format, destination) === 'pretty' ? prettyLines(destination) : undefined;
  const fd = options.file === undefined ? undefined : openLogFile(options.file);
  const stream: DestinationStream = {
    write(line: string): void {
      const redacted = options.redactor.redact(line);
      destination.write(pretty === undefined ? redacted : options.redactor.redact(pretty(redacted)));
      if (fd !== undefined) {
        try {
          writeSync(fd, redacted);
        } catch {
          // A full disk must not take the agent down with it: logs are best effort. The audit
          // log, which is not, has its own appender that fails closed.
        }
      }
    },
  };
  try {
    return pino({ name: 'mithai', level: options.level }, stream);
  } catch (err) {
    if (fd !== undefined) closeSync(fd);
    throw new ConfigError(`logging.level: ${errorMessage(err)}; use one of trace, debug, info, warn, error, fatal, silent`, { cause: err });
  }
}

/**
 * pino-pretty's formatter for one JSON line: one line per event (fields on it as JSON, an error
 * object below it), local time, no pid or hostname; colours only on a terminal without NO_COLOR.
 */
function prettyLines(destination: NodeJS.WritableStream): (line: string) => string {
  const colorize = isTerminal(destination) && !process.env.NO_COLOR;
  return prettyFactory({ colorize, singleLine: true, ignore: 'pid,hostname', translateTime: 'SYS:yyyy-mm-dd HH:MM:ss.l' });
}

function isTerminal(destination: NodeJS.WritableStream): boolean {
  return (destination as { isTTY?: unknown }).isTTY === true;
}

function openLogFile(file: string): number {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    return openSync(file, 'a', 0o600);
  } catch (err) {
    throw new ConfigError(`logging.file: cannot open ${file} for appending (${errorMessage(err)}); check the path and its permissions`, { cause: err });
  }
}
