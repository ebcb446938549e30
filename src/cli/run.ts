/**
 * `mithai run`: serve Slack in Socket Mode. The Slack adapter is built in the next step of the
 * roadmap; until then this command fails with a clear message instead of pretending to work.
 */
import type { Command } from 'commander';
import { ConfigError } from '../errors.ts';
import type { ExitCode } from './main.ts';
import { withConfigOption } from './options.ts';

export function registerRun(program: Command, _exit: ExitCode): void {
  withConfigOption(program.command('run'))
    .description('serve Slack (Socket Mode) until SIGINT/SIGTERM')
    .action(() => {
      throw new ConfigError('the Slack adapter is not available in this build yet; use `mithai chat`', { code: 'not_available' });
    });
}
