/**
 * Benchmarks (`npm run bench`). Timing targets live here, not in tests: each line prints a
 * measurement and the target it is compared with, and the run exits non-zero if a target is missed.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { AuditLog } from '../src/audit/audit-log.ts';
import { Redactor } from '../src/security/redactor.ts';
import { openDatabase } from '../src/state/database.ts';
import { AuditStore } from '../src/state/audit-store.ts';
import { ApprovalStore } from '../src/state/approval-store.ts';
import { ApprovalGate } from '../src/human/approval-gate.ts';
import { systemClock } from '../src/clock.ts';
import { benchSlackClick } from './slack-click.ts';

interface Result {
  name: string;
  value: number;
  unit: string;
  target: number;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function time(fn: () => void): number {
  const start = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

const dir = mkdtempSync(join(tmpdir(), 'mithai-bench-'));
const results: Result[] = [];
try {
  const redactor = new Redactor(['sk-ant-bench-secret-0123456789']);
  const db = openDatabase(join(dir, 'state'));
  const audit = AuditLog.open(join(dir, 'approvals.json'), { redactor, store: new AuditStore(db) });
  const input = { event: 'decision', approval_id: 'a', call_id: 'c', session: 's', requester: 'U1', decider: 'U1', tool: 't__x', level: 'approve', level_reason: 'declared', decision: 'approved', fingerprint: 'f', input: { cmd: 'restart api' }, status: 'pending', reason: null } as const;
  const appends = Array.from({ length: 300 }, () => time(() => { audit.append(input); audit.flush(); }));
  results.push({ name: 'audit append (fsync) p95', value: percentile(appends, 95), unit: 'ms', target: 50 });

  const gate = new ApprovalGate({ store: new ApprovalStore(db), audit, clock: systemClock, timeoutSeconds: 300, approvers: [], confirmRequiresSecondPerson: false, taintedRequiresSecondPerson: true, logger: pino({ level: 'silent' }) });
  const decides: number[] = [];
  for (let i = 0; i < 200; i++) {
    const a = gate.open({ callId: `call-${i}`, sessionKey: 's', tool: 't__x', toolDescription: 'x', level: 'approve', levelReason: 'declared', input: { i }, requester: 'U1', channel: 'C1', thread: 't', confirmPhrase: null });
    decides.push(time(() => gate.decide(a.id, 'U1', 'approve')));
  }
  results.push({ name: 'gate decide (transaction + audit) p95', value: percentile(decides, 95), unit: 'ms', target: 50 });

  // A click must not slow down when many approvals are pending.
  for (let i = 0; i < 1000; i++) {
    gate.open({ callId: `pending-${i}`, sessionKey: 's2', tool: 't__x', toolDescription: 'x', level: 'approve', levelReason: 'declared', input: { i }, requester: 'U1', channel: 'C1', thread: 't', confirmPhrase: null });
  }
  const a = gate.open({ callId: 'last', sessionKey: 's3', tool: 't__x', toolDescription: 'x', level: 'approve', levelReason: 'declared', input: {}, requester: 'U1', channel: 'C1', thread: 't', confirmPhrase: null });
  results.push({ name: 'decide with 1000 approvals pending', value: time(() => gate.decide(a.id, 'U1', 'approve')), unit: 'ms', target: 50 });

  db.close();

  const text = `${'log line with sk-ant-bench-secret-0123456789 and xoxb-1234-abcd '.repeat(200)}`;
  const redactions = Array.from({ length: 200 }, () => time(() => redactor.redact(text)));
  results.push({ name: 'redact 13 KB p95', value: percentile(redactions, 95), unit: 'ms', target: 20 });
  results.push(...(await benchSlackClick()));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

let failed = false;
for (const r of results) {
  const ok = r.value <= r.target;
  failed ||= !ok;
  process.stdout.write(`${ok ? 'ok  ' : 'MISS'}  ${r.name}: ${r.value.toFixed(2)} ${r.unit} (target <= ${r.target} ${r.unit})\n`);
}
process.exitCode = failed ? 1 : 0;
