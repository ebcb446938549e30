/**
 * `mithai approvals list|show|approve|deny`: approvals from the state database, and decisions
 * from the command line (./approval-decision.ts).
 */
import type { Command } from 'commander';
import { APPROVAL_STATES, type ApprovalState } from '../human/types.ts';
import { ConfigError } from '../errors.ts';
import type { ExitCode } from './main.ts';
import { loadFromOptions, withConfigOption } from './options.ts';
import { DEFAULT_LIST_LIMIT, parseLimit, parseSince, printApprovalList } from './approvals-list.ts';
import { decideFromCli, requireId, showApproval, type CliOutcome } from './approval-decision.ts';

const ALL_STATES = APPROVAL_STATES;

export function registerApprovals(program: Command, exit: ExitCode): void {
  const approvals = program.command('approvals').description('inspect approvals');
  withConfigOption(approvals.command('list'))
    .description('list approvals, newest first: when, id, state, level, tool, requester, decider, untrusted content, reason')
    .option('--state <state>', `only this state (${ALL_STATES.join(', ')})`)
    .option('--limit <n>', 'at most this many', parseLimit, DEFAULT_LIST_LIMIT)
    .option('--since <when>', 'only those created since: a duration (30m, 24h, 7d, 2w) or an ISO date or time', (value: string) => parseSince(value))
    .option('--json', 'one JSON object per line')
    .action((options: { config: string; state?: string; limit: number; since?: string; json?: boolean }) => {
      if (options.state && !ALL_STATES.includes(options.state as ApprovalState)) {
        throw new ConfigError(`--state "${options.state}" is not one of ${ALL_STATES.join(', ')}`);
      }
      printApprovalList(loadFromOptions(options), {
        ...(options.state ? { states: [options.state as ApprovalState] } : {}),
        ...(options.since === undefined ? {} : { since: options.since }),
        limit: options.limit,
        json: options.json === true,
      });
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
