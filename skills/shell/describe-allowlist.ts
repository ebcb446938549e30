/**
 * The allowlist in words, for `shell__list_commands`: what the model may run, what may follow
 * each command, and which commands run without asking.
 */
import { isCommandRunner, programName } from 'mithai';
import { show } from './config.ts';
import type { AllowedCommand, ShellConfig } from './config.ts';

/** One line per allowed command, then the read-only ones. */
export function describeAllowlist(config: ShellConfig): string {
  if (config.allowed.length === 0) {
    return 'No command is allowed on this installation. An operator lists commands in config.yaml under skills.config.shell.allowed_commands.';
  }
  const lines = ['Allowed commands (argv prefixes; "*" stands for one argument that is not an option):'];
  for (const entry of config.allowed) lines.push(`- ${show(entry.prefix)}: ${whatMayFollow(entry)}`);
  lines.push(
    config.readOnly.length === 0
      ? 'No command is read-only: each one waits for a typed confirmation.'
      : `Read-only (run at once): ${config.readOnly.map((r) => show(r.prefix)).join(', ')}. Every other command waits for a typed confirmation.`,
  );
  return lines.join('\n');
}

function whatMayFollow(entry: AllowedCommand): string {
  if (entry.exact || isCommandRunner(programName(entry.prefix[0]!))) return 'exactly as listed, nothing after it';
  if (entry.options.size === 0) return 'more arguments may follow, but no options';
  return `more arguments may follow; of the options only ${[...entry.options].join(', ')}`;
}
