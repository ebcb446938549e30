/**
 * Builds an ApprovalGate for tests over a real SQLite store, an in-memory audit sink and a
 * FakeClock, plus a request factory and a check for audit records.
 */
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import pino from 'pino';
import type { AuditDecision, AuditEvent, AuditRecord, AuditSink, AuditStatus } from '../../src/audit/types.ts';
import { ApprovalGate } from '../../src/human/approval-gate.ts';
import type { ApprovalGateOptions, ApprovalRequest } from '../../src/human/approval-gate.ts';
import { ApprovalExpiry } from '../../src/human/approval-expiry.ts';
import { ApprovalWaiters } from '../../src/human/approval-waiters.ts';
import type { Approval } from '../../src/human/types.ts';
import { ApprovalStore } from '../../src/state/approval-store.ts';
import type { Database } from '../../src/state/database.ts';
import { FakeClock } from '../fixtures/fake-clock.ts';
import { openTestDatabase } from '../state/open-test-database.ts';
import { MemoryAuditSink } from './memory-audit-sink.ts';

/** Everything a gate test touches. */
export interface GateFixture {
  db: Database;
  store: ApprovalStore;
  audit: MemoryAuditSink;
  clock: FakeClock;
  gate: ApprovalGate;
  /** Deadline timers (not started: call `expiry.start()` to arm them). */
  expiry: ApprovalExpiry;
  waiters: ApprovalWaiters;
}

/** Default settings: 300 s timeout; approvers U9 and anyone matching UOPS*. */
export const DEFAULTS = { timeoutSeconds: 300, approvers: ['U9', 'UOPS*'], confirmRequiresSecondPerson: false, taintedRequiresSecondPerson: true } as const;

/**
 * A gate over `db` (a fresh in-memory database when omitted), closed after the test.
 * `realAudit` swaps the in-memory audit sink for a real one.
 */
export function makeGate(
  t: TestContext,
  options: Partial<Pick<ApprovalGateOptions, 'timeoutSeconds' | 'approvers' | 'confirmRequiresSecondPerson' | 'taintedRequiresSecondPerson'>> & { db?: Database; clock?: FakeClock; audit?: MemoryAuditSink; realAudit?: AuditSink } = {},
): GateFixture {
  const db = options.db ?? openTestDatabase(t, 'memory');
  const store = new ApprovalStore(db);
  const audit = options.audit ?? new MemoryAuditSink();
  const clock = options.clock ?? new FakeClock();
  const gate = new ApprovalGate({
    store,
    // realAudit (e.g. the file-backed AuditLog) replaces the memory sink, which then stays empty.
    audit: options.realAudit ?? audit,
    clock,
    timeoutSeconds: options.timeoutSeconds ?? DEFAULTS.timeoutSeconds,
    approvers: options.approvers ?? DEFAULTS.approvers,
    confirmRequiresSecondPerson: options.confirmRequiresSecondPerson ?? DEFAULTS.confirmRequiresSecondPerson,
    taintedRequiresSecondPerson: options.taintedRequiresSecondPerson ?? DEFAULTS.taintedRequiresSecondPerson,
    logger: pino({ level: 'silent' }),
  });
  const expiry = new ApprovalExpiry({ gate, store, logger: pino({ level: 'silent' }) });
  const waiters = new ApprovalWaiters(gate);
  t.after(() => expiry.stop());
  return { db, store, audit, clock, gate, expiry, waiters };
}

let calls = 0;

/** A request from U1 to delete a pod; pass `level: 'confirm'` and a phrase for confirm. */
export function request(overrides: Partial<ApprovalRequest> = {}): ApprovalRequest {
  calls++;
  return {
    callId: `toolu_${calls}`,
    sessionKey: 'slack:T1:C1:1.0',
    tool: 'k8s__delete_pod',
    toolDescription: 'Delete a pod',
    level: 'approve',
    levelReason: 'declared',
    input: { namespace: 'prod', name: 'web-1' },
    requester: 'U1',
    channel: 'C1',
    thread: '1.0',
    confirmPhrase: null,
    ...overrides,
  };
}

/** Assert that an audit record describes `approval` at the given step. */
export function assertRecord(
  record: AuditRecord | undefined,
  approval: Approval,
  step: { event: AuditEvent; decision: AuditDecision | null; status: AuditStatus; decider: string | null; reason: string | null },
): void {
  assert.ok(record, 'expected an audit record');
  assert.deepEqual(
    {
      event: record.event, approval_id: record.approval_id, call_id: record.call_id, session: record.session,
      requester: record.requester, decider: record.decider, tool: record.tool, level: record.level,
      level_reason: record.level_reason, decision: record.decision, fingerprint: record.fingerprint,
      input: record.input, status: record.status, reason: record.reason,
    },
    {
      event: step.event, approval_id: approval.id, call_id: approval.callId, session: approval.sessionKey,
      requester: approval.requester, decider: step.decider, tool: approval.tool, level: approval.level,
      level_reason: approval.levelReason, decision: step.decision, fingerprint: approval.fingerprint,
      input: JSON.parse(approval.inputJson), status: step.status, reason: step.reason,
    },
  );
}
