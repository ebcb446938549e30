/**
 * Child process for the cross-process append race in audit-race.test.ts. Opens its own
 * connection to the shared state database and its own AuditLog on the shared file, prepares,
 * prints "ready", waits for "go" on stdin, then appends and flushes `count` records (one
 * transaction each, as the gate does) and prints the seqs it got as one JSON line.
 *
 * argv: <project dir> <label> <count>
 */
import { join } from 'node:path';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { Redactor } from '../../src/security/redactor.ts';
import { AuditStore } from '../../src/state/audit-store.ts';
import { openDatabase } from '../../src/state/database.ts';
import { auditEvent } from './audit-fixtures.ts';

const [dir, label, countText] = process.argv.slice(2);
const count = Number(countText);
if (dir === undefined || label === undefined || !Number.isSafeInteger(count)) {
  throw new Error('usage: append-race-child <dir> <label> <count>');
}
const db = openDatabase(join(dir, 'state'));
const log = AuditLog.open(join(dir, 'memory', 'approvals.json'), { redactor: new Redactor(), store: new AuditStore(db) });
log.prepare();
process.stdout.write('ready\n');
process.stdin.once('data', () => {
  const seqs: number[] = [];
  for (let i = 0; i < count; i++) {
    seqs.push(log.append(auditEvent({ approval_id: `${label}-${i}`, call_id: `${label}-call-${i}` })).seq);
    log.flush();
  }
  process.stdout.write(`${JSON.stringify({ seqs })}\n`);
  db.close();
  process.exit(0);
});
