/**
 * The `mithai` command line. Each command lives in its own file; this one wires them up and
 * turns every failure into one line on stderr and a non-zero exit code.
 */
import { Command, CommanderError } from 'commander';
import { MithaiError, errorMessage } from '../errors.ts';
import { registerInit } from './init.ts';
import { registerChat } from './chat.ts';
import { registerRun } from './run.ts';
import { registerDoctor } from './doctor.ts';
import { registerSkill } from './skill.ts';
import { registerAudit } from './audit.ts';
import { registerApprovals } from './approvals.ts';
import { endQuietlyWhenPipeCloses } from './closed-pipe.ts';
import { EXIT } from './exit-codes.ts';
import { printable } from './printable.ts';

/** Exit code a command sets through this holder (commander actions return nothing). */
export interface ExitCode {
  code: number;
}

/** Build the program. Exported for tests. */
export function buildProgram(exit: ExitCode): Command {
  const program = new Command('mithai')
    .description('Slack-first ops agent runtime with approval gates')
    .version('0.1.0')
    .showHelpAfterError('(run mithai --help for usage)')
    .exitOverride();
  registerInit(program, exit);
  registerChat(program, exit);
  registerRun(program, exit);
  registerDoctor(program, exit);
  registerSkill(program, exit);
  registerAudit(program, exit);
  registerApprovals(program, exit);
  return program;
}

/** Run the CLI with `args` (without node and script). Returns the exit code (./exit-codes.ts). */
export async function main(args: string[]): Promise<number> {
  // Every command prints; `| head` closing the pipe must end it quietly, not with a stack trace.
  endQuietlyWhenPipeCloses();
  const exit: ExitCode = { code: EXIT.ok };
  try {
    await buildProgram(exit).parseAsync(args, { from: 'user' });
    return exit.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" to commander; their text was printed already.
      return err.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    const message = err instanceof MithaiError ? err.message : `unexpected error: ${errorMessage(err)}`;
    process.stderr.write(`mithai: ${printable(message)}\n`);
    return EXIT.failed;
  }
}
