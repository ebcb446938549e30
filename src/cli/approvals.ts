/**
 * `mithai approvals list|show|approve|deny`: approvals from the state database, and decisions
 * from the command line (./approval-decision.ts).
 */
import type { Command } from 'commander';
import { openDatabase } from '../state/database.ts';
import { ApprovalStore } from '../state/approval-store.ts';
import { APPROVAL_STATES, type ApprovalState } from '../human/types.ts';
import { ConfigError } from '../errors.ts';
import { Redactor } from '../security/redactor.ts';
import type { ExitCode } from './main.ts';
import { loadFromOptions, withConfigOption } from './options.ts';
import { decideFromCli, requireId, showApproval, type CliOutcome } from './approval-decision.ts';

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
            process.stdout.write(`${a.createdAt}  ${a.id}  ${a.state.padEnd(9)}  ${a.level.padEnd(7)}  ${a.tool}  requester=${a.requester}${a.decider ? ` decider=${a.decider}` : ''}${a.taint.length > 0 ? '  (untrusted content in the conversation)' : ''}\n`);
          }
        }
        if (rows.length === 0 && !options.json) process.stdout.write('no approvals\n');
      } finally {
        db.close();
      }
      exit.code = 0;
    });

  const print = (outcome: CliOutcome): void => {
    process.stdout.write(outcome.stdout);
    process.stderr.write(outcome.stderr);
    exit.code = outcome.code;
  };
  withConfigOption(approvals.command('show').argument('<id>', 'approval id'))
    .description('show one approval: the call, its input (redacted), who asked, its state and history')
    .action((id: string, options: { config: string }) => print(showApproval(loadFromOptions(options), requireId(id))));
  withConfigOption(approvals.command('approve').argument('<id>', 'approval id'))
    .description('approve as the local operator (local:<os user>; list it in human.approvers)')
    .option('--phrase <text>', 'the confirmation phrase, for a confirm call')
    .action((id: string, options: { config: string; phrase?: string }) =>
      print(decideFromCli(loadFromOptions(options), requireId(id), 'approve', options.phrase === undefined ? {} : { phrase: options.phrase })));
  withConfigOption(approvals.command('deny').argument('<id>', 'approval id'))
    .description('deny as the local operator (local:<os user>)')
    .option('--reason <text>', 'why (the model reads it)')
    .action((id: string, options: { config: string; reason?: string }) =>
      print(decideFromCli(loadFromOptions(options), requireId(id), 'deny', options.reason === undefined ? {} : { reason: options.reason })));
}
