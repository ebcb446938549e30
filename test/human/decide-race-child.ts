/**
 * Child process for the cross-process decision race in approval-gate-race.test.ts.
 * Opens the shared state database, prints "ready", waits for "go" on stdin, decides once,
 * then prints the result and the audit records it wrote as one JSON line.
 *
 * argv: <state dir> <approval id> <decider> <approve|deny>
 */
import pino from 'pino';
import { systemClock } from '../../src/clock.ts';
import { ApprovalGate } from '../../src/human/approval-gate.ts';
import { ApprovalStore } from '../../src/state/approval-store.ts';
import { openDatabase } from '../../src/state/database.ts';
import { MemoryAuditSink } from './memory-audit-sink.ts';

const [dir, id, decider, decision] = process.argv.slice(2);
if (dir === undefined || id === undefined || decider === undefined || (decision !== 'approve' && decision !== 'deny')) {
  throw new Error('usage: decide-race-child <dir> <id> <decider> <approve|deny>');
}
const db = openDatabase(dir);
const audit = new MemoryAuditSink();
const gate = new ApprovalGate({
  store: new ApprovalStore(db),
  audit,
  clock: systemClock,
  timeoutSeconds: 300,
  approvers: ['*'],
  confirmRequiresSecondPerson: false,
  taintedRequiresSecondPerson: true,
  logger: pino({ level: 'silent' }),
});
process.stdout.write('ready\n');
process.stdin.once('data', () => {
  const result = gate.decide(id, decider, decision);
  process.stdout.write(`${JSON.stringify({ ok: result.ok, refusal: result.ok ? null : result.refusal, records: audit.records })}\n`);
  db.close();
  process.exit(0);
});
