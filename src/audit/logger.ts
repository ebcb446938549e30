/**
 * The runtime's pino logger. Redaction happens in one place, on the way out: every serialised
 * line passes through the redactor before it reaches stdout or the log file, whatever field
 * (message, error stack, nested object, child binding) carried the secret. pino's own
 * path-based `redact` option is not used, because it only covers the paths someone remembered
 * to list.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { pino } from 'pino';
import type { DestinationStream, Logger as PinoLogger } from 'pino';
import { ConfigError, errorMessage } from '../errors.ts';
import type { Redactor } from '../security/redactor.ts';

/** The logger type used across mithai (pino's). */
export type Logger = PinoLogger;

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
}

/**
 * Create the logger: JSON lines with `name: 'mithai'`, redacted, to `destination` and
 * optionally a file.
 *
 * @throws ConfigError when the level is unknown or the log file cannot be opened.
 */
export function createLogger(options: LoggerOptions): Logger {
  const destination = options.destination ?? process.stdout;
  const fd = options.file === undefined ? undefined : openLogFile(options.file);
  const stream: DestinationStream = {
    write(line: string): void {
      const redacted = options.redactor.redact(line);
      destination.write(redacted);
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

function openLogFile(file: string): number {
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    return openSync(file, 'a', 0o600);
  } catch (err) {
    throw new ConfigError(`logging.file: cannot open ${file} for appending (${errorMessage(err)}); check the path and its permissions`, { cause: err });
  }
}
