/**
 * `mithai approvals list`: show approvals from the state database.
 */
import type { Command } from 'commander';
import { openDatabase } from '../state/database.ts';
import { ApprovalStore } from '../state/approval-store.ts';
import { APPROVAL_STATES, type ApprovalState } from '../human/types.ts';
import { ConfigError } from '../errors.ts';
import { Redactor } from '../security/redactor.ts';
import type { ExitCode } from './main.ts';
import { loadFromOptions, withConfigOption } from './options.ts';

const ALL_STATES = APPROVAL_STATES;

export function registerApprovals(program: Command, exit: ExitCode): void {
  const approvals = program.command('approvals').description('inspect approvals');
  withConfigOption(approvals.command('list'))
    .description('list approvals (newest first)')
    .option('--state <state>', `only this state (${ALL_STATES.join(', ')})`)
    .option('--json', 'one JSON object per line')
    .action((options: { config: string; state?: string; json?: boolean }) => {
      if (options.state && !ALL_STATES.includes(options.state as ApprovalState)) {
        throw new ConfigError(`--state "${options.state}" is not one of ${ALL_STATES.join(', ')}`);
      }
      const loaded = loadFromOptions(options);
      const { config } = loaded;
      // Deny reasons and error outcomes are free text from people and tools: redact on the way out.
      const redactor = new Redactor(loaded.secrets);
      const db = openDatabase(config.state.path);
      try {
        const rows = new ApprovalStore(db)
          .listByState(options.state ? [options.state as ApprovalState] : ALL_STATES)
          .sort((a, b) => b.createdAt.localeCompare(a.createdAt));
        for (const a of rows) {
          if (options.json) {
            // inputJson stays out: the input may hold values that should not leave the database.
            const { inputJson: _omit, ...rest } = a;
            process.stdout.write(`${redactor.redact(JSON.stringify(rest))}\n`);
          } else {
            process.stdout.write(`${a.createdAt}  ${a.id}  ${a.state.padEnd(9)}  ${a.level.padEnd(7)}  ${a.tool}  requester=${a.requester}${a.decider ? ` decider=${a.decider}` : ''}\n`);
          }
        }
        if (rows.length === 0 && !options.json) process.stdout.write('no approvals\n');
      } finally {
        db.close();
      }
      exit.code = 0;
    });
}
