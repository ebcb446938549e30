/**
 * `mithai audit verify`: check the hash chain of memory/approvals.json and, when the state
 * database exists, cross-check the file against the database's copy of every record and
 * against the approvals.
 *
 * `mithai audit repair`: cut a torn last line (an interrupted write), and only that, saving
 * the bytes next to the log and recording the repair in the chain.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { AuditLog, readAuditFile } from '../audit/audit-log.ts';
import { crossCheckAudit } from '../audit/cross-check.ts';
import { verifyAuditLog } from '../audit/verify-audit-log.ts';
import { Redactor } from '../security/redactor.ts';
import { AuditStore } from '../state/audit-store.ts';
import { DATABASE_FILE, openDatabase } from '../state/database.ts';
import type { ExitCode } from './main.ts';
import { loadFromOptions, withConfigOption } from './options.ts';
import { printable } from './printable.ts';

/** Register `mithai audit verify` and `mithai audit repair`. */
export function registerAudit(program: Command, exit: ExitCode): void {
  const audit = program.command('audit').description('inspect and repair the audit log (memory/approvals.json)');
  withConfigOption(audit.command('verify'))
    .description('verify the hash chain and cross-check it with the state database; names every problem')
    .option('--file <path>', 'verify this file instead of the configured one')
    .action((options: { config: string; file?: string }) => {
      const { config } = loadFromOptions(options);
      const file = options.file ?? join(config.memory.path, 'approvals.json');
      const problems: string[] = [];
      const chain = verifyAuditLog(file);
      if (!chain.ok) problems.push(`${file} line ${chain.line}: ${chain.reason} (${chain.records} records before it verified)`);
      let summary = `${file}: ${chain.records} records, chain ${chain.ok ? 'intact' : 'broken'}`;
      const dbFile = join(config.state.path, DATABASE_FILE);
      if (existsSync(dbFile)) {
        const db = openDatabase(config.state.path);
        try {
          const check = crossCheckAudit(readAuditFile(file), new AuditStore(db));
          problems.push(...check.problems.map((p) => `${file}: ${p.message} [${p.code}]`));
          summary += `; state database ${dbFile}: ${check.databaseRecords} records (${check.unflushed} not yet written to the file), ${check.approvals} approvals checked`;
        } finally {
          db.close();
        }
      } else {
        summary += `; no state database at ${dbFile}, so the file was not cross-checked`;
      }
      if (problems.length === 0) {
        process.stdout.write(`OK: ${summary}\n`);
        exit.code = 0;
      } else {
        for (const problem of problems) process.stderr.write(`mithai: ${printable(problem)}\n`);
        exit.code = 1;
      }
    });

  withConfigOption(audit.command('repair'))
    .description('cut a torn last line (an interrupted write) off the audit log, saving it aside and recording the repair')
    .action((options: { config: string }) => {
      const loaded = loadFromOptions(options);
      const file = join(loaded.config.memory.path, 'approvals.json');
      const db = openDatabase(loaded.config.state.path);
      try {
        const log = AuditLog.open(file, { redactor: new Redactor(loaded.secrets), store: new AuditStore(db) });
        const cut = log.repairTornTail();
        if (cut === null) {
          process.stdout.write(`nothing to repair: ${file} does not end with a torn line\n`);
        } else {
          process.stdout.write(
            `repaired ${file}: removed ${cut.removedBytes} bytes at byte ${cut.offset} (after seq ${cut.afterSeq}); saved them to ${cut.savedTo}; recorded as seq ${cut.seq} (audit_repaired)\n`,
          );
        }
        // Write the repair record (and anything else committed) to the file; a file that also
        // lost records or was replaced is refused here, named, for `mithai audit verify`.
        log.flush();
        exit.code = 0;
      } finally {
        db.close();
      }
    });
}
