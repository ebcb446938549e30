/**
 * `mithai audit verify`: check the hash chain of memory/approvals.json.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { verifyAuditLog } from '../audit/verify-audit-log.ts';
import type { ExitCode } from './main.ts';
import { loadFromOptions, withConfigOption } from './options.ts';

export function registerAudit(program: Command, exit: ExitCode): void {
  const audit = program.command('audit').description('inspect the audit log (memory/approvals.json)');
  withConfigOption(audit.command('verify'))
    .description('verify the hash chain; names the first bad line')
    .option('--file <path>', 'verify this file instead of the configured one')
    .action((options: { config: string; file?: string }) => {
      const file = options.file ?? join(loadFromOptions(options).config.memory.path, 'approvals.json');
      const result = verifyAuditLog(file);
      if (result.ok) {
        process.stdout.write(`OK: ${file}: ${result.records} records, chain intact\n`);
        exit.code = 0;
      } else {
        process.stderr.write(`mithai: ${file} line ${result.line}: ${result.reason} (${result.records} records before it verified)\n`);
        exit.code = 1;
      }
    });
}
