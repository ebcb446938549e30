/**
 * Bolt, the Socket Mode client and the Web API client log through this adapter into the
 * runtime's pino logger, so their lines are `slack.sdk_logged` events (the library's own words
 * in `detail`, the library in `sdk`), filtered by `logging.level`, and redacted like every other
 * log line. Nothing from Slack's libraries is written to the console.
 *
 * Their debug output carries whole payloads (every envelope, with people's message text, and
 * every request body), so it goes to pino's `trace` level: `logging.level: debug` shows
 * mithai's own debug lines, which log ids, never the text of messages it drops.
 */
import { format } from 'node:util';
import { LogLevel } from '@slack/bolt';
import type { Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from 'pino';

/** A Bolt/Slack-SDK logger that writes to `log` (a pino logger). */
export function boltLogger(log: Logger): BoltLogger {
  let name = 'slack';
  const write = (level: 'trace' | 'info' | 'warn' | 'error') => (...parts: unknown[]): void => {
    log[level]({ sdk: name, detail: format(...parts) }, 'slack.sdk_logged');
  };
  return {
    debug: write('trace'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    // pino decides what is written; Bolt only asks so it can skip building debug strings.
    setLevel: () => undefined,
    getLevel: () => levelOf(log.level),
    setName: (value: string) => {
      name = value;
    },
  };
}

/** A logger that drops everything (for the token check before the runtime's logger exists). */
export const nullBoltLogger: BoltLogger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

function levelOf(pinoLevel: string): LogLevel {
  switch (pinoLevel) {
    case 'trace':
      return LogLevel.DEBUG;
    case 'debug':
    case 'info':
      return LogLevel.INFO;
    case 'warn':
      return LogLevel.WARN;
    default:
      return LogLevel.ERROR;
  }
}
