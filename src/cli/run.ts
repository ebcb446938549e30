/**
 * `mithai run`: serve Slack in Socket Mode until SIGINT/SIGTERM, then shut down cleanly and
 * exit 0. A second signal during shutdown exits at once (130). Start-up failures (a missing or
 * rejected token, Slack unreachable, a broken skill) are one line on stderr and exit 1.
 *
 * Unhandled promise rejections are logged rather than left to crash the process: the Socket
 * Mode client is known to leave some behind around reconnects (reference/node-ecosystem.md §3e).
 */
import type { Command } from 'commander';
import { startSlackService } from '../adapters/slack/slack-service.ts';
import type { SlackService } from '../adapters/slack/slack-service.ts';
import { errorMessage } from '../errors.ts';
import { Redactor } from '../security/redactor.ts';
import type { ExitCode } from './main.ts';
import { loadFromOptions, withConfigOption } from './options.ts';

interface RunOptions {
  config: string;
}

/** Register `mithai run` on the program; its exit code is set through `exit`. */
export function registerRun(program: Command, exit: ExitCode): void {
  withConfigOption(program.command('run'))
    .description('serve Slack (Socket Mode) until SIGINT/SIGTERM')
    .action(async (options: RunOptions) => {
      exit.code = await run(options);
    });
}

async function run(options: RunOptions): Promise<number> {
  const loaded = loadFromOptions(options);
  const redactor = new Redactor(loaded.secrets);
  let service: SlackService | undefined;
  const onRejection = (reason: unknown): void => {
    const stack = reason instanceof Error ? reason.stack : undefined;
    if (service) service.runtime.logger.error({ err: errorMessage(reason), stack }, 'unhandled promise rejection');
    else process.stderr.write(`mithai: unhandled promise rejection: ${redactor.redact(errorMessage(reason))}\n`);
  };
  process.on('unhandledRejection', onRejection);
  try {
    service = await startSlackService(loaded);
    return await untilStopped(service);
  } finally {
    process.removeListener('unhandledRejection', onRejection);
  }
}

/** Wait for SIGINT/SIGTERM, stop the service, and give the exit code. */
function untilStopped(service: SlackService): Promise<number> {
  return new Promise((resolve) => {
    let signals = 0;
    const onSignal = (signal: NodeJS.Signals): void => {
      signals += 1;
      if (signals > 1) {
        service.runtime.logger.warn({ signal }, 'second signal during shutdown; exiting now');
        process.exit(130);
      }
      service.stop(signal).then(
        () => finish(0),
        (err: unknown) => {
          process.stderr.write(`mithai: shutdown failed: ${service.runtime.redactor.redact(errorMessage(err))}\n`);
          finish(1);
        },
      );
    };
    const finish = (code: number): void => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      resolve(code);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
