/**
 * The micro figures kept from the first bench (absolute targets, mithai only): an audit append
 * with its fsync, a gate decision (transaction + audit), a decision with 1 000 approvals
 * pending, and redacting 13 KB of text; and, for context, what one commit costs on this disk
 * with and without waiting for it (info rows).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { Redactor } from '../../src/security/redactor.ts';
import { inWriteTransaction, openDatabase } from '../../src/state/database.ts';
import { AuditStore } from '../../src/state/audit-store.ts';
import { ApprovalStore } from '../../src/state/approval-store.ts';
import { ApprovalGate } from '../../src/human/approval-gate.ts';
import { systemClock } from '../../src/clock.ts';
import { infoRow } from '../lib/report.ts';
import type { Row } from '../lib/report.ts';
import { percentile, time } from '../lib/stats.ts';

function absolute(name: string, value: number, target: number): Row {
  return { name, target: `<= ${target} ms`, measured: value, pass: value <= target, baseline: 'n/a', mithai: value, unit: 'ms' };
}

export function microFigures(scale = 1): Row[] {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-bench-micro-'));
  const rows: Row[] = [];
  try {
    const redactor = new Redactor(['sk-ant-bench-secret-0123456789']);
    const db = openDatabase(join(dir, 'state'));
    const audit = AuditLog.open(join(dir, 'approvals.json'), { redactor, store: new AuditStore(db) });
    const input = { event: 'decision', approval_id: 'a', call_id: 'c', session: 's', requester: 'U1', decider: 'U1', tool: 't__x', level: 'approve', level_reason: 'declared', decision: 'approved', fingerprint: 'f', input: { cmd: 'restart api' }, status: 'pending', reason: null } as const;
    const appends = Array.from({ length: Math.round(300 * scale) }, () => time(() => { audit.append(input); audit.flush(); }));
    rows.push(absolute('micro: audit append (fsync) p95', percentile(appends, 95), 50));

    const gate = new ApprovalGate({ store: new ApprovalStore(db), audit, clock: systemClock, timeoutSeconds: 300, approvers: [], confirmRequiresSecondPerson: false, taintedRequiresSecondPerson: true, logger: pino({ level: 'silent' }) });
    const open = (callId: string, sessionKey: string, i: number) => gate.open({ callId, sessionKey, tool: 't__x', toolDescription: 'x', level: 'approve', levelReason: 'declared', input: { i }, requester: 'U1', channel: 'C1', thread: 't', confirmPhrase: null });
    const decides: number[] = [];
    for (let i = 0; i < Math.round(200 * scale); i++) {
      const a = open(`call-${i}`, 's', i);
      decides.push(time(() => gate.decide(a.id, 'U1', 'approve')));
    }
    rows.push(absolute('micro: gate decide (transaction + audit) p95', percentile(decides, 95), 50));

    // Context for the turn figure: what one commit costs on this disk, waiting for it (each
    // decision, before its tool runs) and not (a stored model response, a results message).
    db.exec('CREATE TABLE bench_commit (n INTEGER)');
    const insert = db.prepare('INSERT INTO bench_commit (n) VALUES (?)');
    const commits = (sync: boolean): number[] => Array.from({ length: Math.round(200 * scale) }, (_, i) => time(() => inWriteTransaction(db, () => insert.run(i), { sync })));
    rows.push(infoRow('micro: one-row commit that waits for the disk p50 (info)', undefined, percentile(commits(true), 50), 'ms'));
    rows.push(infoRow('micro: one-row commit that does not wait p50 (info)', undefined, percentile(commits(false), 50), 'ms'));

    // A click must not slow down when many approvals are pending.
    for (let i = 0; i < 1000; i++) open(`pending-${i}`, 's2', i);
    const a = open('last', 's3', 0);
    rows.push(absolute('micro: decide with 1000 approvals pending', time(() => gate.decide(a.id, 'U1', 'approve')), 50));
    db.close();

    const text = 'log line with sk-ant-bench-secret-0123456789 and xoxb-1234-abcd '.repeat(200);
    const redactions = Array.from({ length: Math.round(200 * scale) }, () => time(() => redactor.redact(text)));
    rows.push(absolute('micro: redact 13 KB p95', percentile(redactions, 95), 20));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return rows;
}
