import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { AuditError, StateError } from '../../src/errors.ts';
import { openDatabase } from '../../src/state/database.ts';
import { FakeClock } from '../fixtures/fake-clock.ts';
import { tempDir } from '../state/open-test-database.ts';
import { assertRecord, makeGate, request } from './gate-fixture.ts';
import { MemoryAuditSink } from './memory-audit-sink.ts';

/*
 * Expiry: with no decision by the deadline the approval is expired, which is its own outcome
 * (never "denied"), is audited as not run, and cannot be revived by a late click, whether the
 * timer fired or not.
 */
describe('ApprovalGate expiry', () => {
  test('the deadline expires the approval, resolves the waiter and audits it; a late decide is refused', async (t) => {
    const { gate, store, audit, clock } = makeGate(t, { timeoutSeconds: 60 });
    const opened = gate.open(request());
    const waited = gate.wait(opened.id);
    clock.advance(59_999);
    assert.equal(store.get(opened.id)?.state, 'pending');
    clock.advance(1);
    assert.equal(await waited, 'expired');
    const expired = store.get(opened.id);
    assert.equal(expired?.state, 'expired');
    assert.equal(expired?.reason, 'no decision within 60 s');
    assert.ok(expired);
    assertRecord(audit.records[1], expired, { event: 'decision', decision: 'expired', status: 'not_run', decider: null, reason: 'no decision within 60 s' });

    const late = gate.decide(opened.id, 'U1', 'approve');
    assert.equal(!late.ok && late.refusal, 'expired');
    assert.match(!late.ok ? late.message : '', /expired .* without a decision; the call was not run/);
    assert.equal(audit.records.length, 2);
  });

  test('a decision at the deadline is refused and expires the approval even if no timer fired', (t) => {
    const { gate, store, audit, clock } = makeGate(t, { timeoutSeconds: 60 });
    const opened = gate.open(request());
    gate.close(); // no timer will fire
    clock.advance(60_000);
    const result = gate.decide(opened.id, 'U9', 'approve');
    assert.equal(!result.ok && result.refusal, 'expired');
    assert.equal(store.get(opened.id)?.state, 'expired');
    assert.deepEqual(audit.records.map((r) => r.decision), [null, 'expired']);
  });

  test('expireDue sweeps every pending approval past its deadline and leaves the rest', (t) => {
    const { gate, store, clock } = makeGate(t, { timeoutSeconds: 60 });
    const old = gate.open(request());
    gate.close();
    clock.advance(30_000);
    const young = gate.open(request());
    gate.close();
    clock.advance(30_000);
    assert.deepEqual(gate.expireDue().map((a) => a.id), [old.id]);
    assert.equal(store.get(young.id)?.state, 'pending');
    assert.deepEqual(gate.expireDue(), []);
  });

  test('when the expiry cannot be audited the waiter still hears expired, the row stays pending and cannot be approved', async (t) => {
    const { gate, store, audit, clock } = makeGate(t, { timeoutSeconds: 60 });
    const opened = gate.open(request());
    const waited = gate.wait(opened.id);
    audit.failing = true;
    clock.advance(60_000);
    assert.equal(await waited, 'expired');
    assert.equal(store.get(opened.id)?.state, 'pending');
    assert.throws(() => gate.decide(opened.id, 'U9', 'approve'), AuditError);
    audit.failing = false;
    const late = gate.decide(opened.id, 'U9', 'approve');
    assert.equal(!late.ok && late.refusal, 'expired');
    assert.equal(store.get(opened.id)?.state, 'expired');
    assert.equal(audit.records.filter((r) => r.decision === 'expired').length, 1);
  });

  test('an expiry that could not be recorded is retried until the audit log takes it', (t) => {
    const { gate, store, audit, clock } = makeGate(t, { timeoutSeconds: 60 });
    const opened = gate.open(request());
    audit.failing = true;
    clock.advance(60_000);
    clock.advance(30_000);
    assert.equal(audit.failures, 2);
    assert.equal(store.get(opened.id)?.state, 'pending');
    audit.failing = false;
    clock.advance(30_000);
    assert.equal(store.get(opened.id)?.state, 'expired');
    assert.deepEqual(audit.records.map((r) => r.decision), [null, 'expired']);
    assert.equal(clock.pendingTimers, 0);
  });
});

describe('ApprovalGate.wait', () => {
  test('resolves with the decision once someone decides', async (t) => {
    const { gate } = makeGate(t);
    const approve = gate.open(request());
    const deny = gate.open(request());
    const waits = [gate.wait(approve.id), gate.wait(approve.id), gate.wait(deny.id)];
    gate.decide(approve.id, 'U9', 'approve');
    gate.decide(deny.id, 'U9', 'deny');
    assert.deepEqual(await Promise.all(waits), ['approved', 'approved', 'denied']);
  });

  test('resolves at once for an approval that is already settled, and rejects for an unknown id', async (t) => {
    const { gate } = makeGate(t);
    const opened = gate.open(request());
    gate.decide(opened.id, 'U1', 'deny');
    assert.equal(await gate.wait(opened.id), 'denied');
    await assert.rejects(gate.wait('apr_nope'), StateError);
  });

  test('an aborted signal cancels the pending approval, audits it and resolves cancelled', async (t) => {
    const { gate, store, audit } = makeGate(t);
    const opened = gate.open(request());
    const controller = new AbortController();
    const waited = gate.wait(opened.id, controller.signal);
    controller.abort();
    assert.equal(await waited, 'cancelled');
    const cancelled = store.get(opened.id);
    assert.equal(cancelled?.state, 'cancelled');
    assert.ok(cancelled);
    assertRecord(audit.records[1], cancelled, { event: 'decision', decision: 'cancelled', status: 'not_run', decider: null, reason: 'the turn was cancelled' });
    assert.equal(gate.decide(opened.id, 'U9', 'approve').ok, false);
  });

  test('a signal aborted before waiting cancels at once', async (t) => {
    const { gate, store } = makeGate(t);
    const opened = gate.open(request());
    assert.equal(await gate.wait(opened.id, AbortSignal.abort()), 'cancelled');
    assert.equal(store.get(opened.id)?.state, 'cancelled');
  });

  test('an abort after the decision changes nothing', async (t) => {
    const { gate, store, audit } = makeGate(t);
    const opened = gate.open(request());
    const controller = new AbortController();
    const waited = gate.wait(opened.id, controller.signal);
    gate.decide(opened.id, 'U9', 'approve');
    controller.abort();
    assert.equal(await waited, 'approved');
    assert.equal(store.get(opened.id)?.state, 'approved');
    assert.equal(audit.records.length, 2);
  });

  test('an abort whose cancellation cannot be audited rejects the wait and leaves the row pending', async (t) => {
    const { gate, store, audit } = makeGate(t);
    const opened = gate.open(request());
    const controller = new AbortController();
    const waited = gate.wait(opened.id, controller.signal);
    audit.failing = true;
    controller.abort();
    await assert.rejects(waited, AuditError);
    assert.equal(store.get(opened.id)?.state, 'pending');
  });

  test('a waiter on another gate learns of a decision made elsewhere by the deadline at the latest', async (t) => {
    const dir = tempDir(t);
    const dbA = openDatabase(dir);
    const dbB = openDatabase(dir);
    t.after(() => { dbA.close(); dbB.close(); });
    const clock = new FakeClock();
    const a = makeGate(t, { db: dbA, clock, timeoutSeconds: 60 });
    const b = makeGate(t, { db: dbB, clock, timeoutSeconds: 60 });
    const opened = a.gate.open(request());
    a.gate.close();
    const waited = a.gate.wait(opened.id);
    b.gate.decide(opened.id, 'U9', 'approve');
    clock.advance(60_000);
    assert.equal(await waited, 'approved');
    assert.equal(a.store.get(opened.id)?.state, 'approved');
  });
});

describe('ApprovalGate.cancel', () => {
  test('cancels a pending approval with an audit record, and nothing else', (t) => {
    const { gate, audit } = makeGate(t);
    const pending = gate.open(request());
    const decided = gate.open(request());
    gate.decide(decided.id, 'U9', 'approve');
    const cancelled = gate.cancel(pending.id, 'shutting down');
    assert.equal(cancelled?.state, 'cancelled');
    assert.equal(cancelled?.reason, 'shutting down');
    assert.equal(gate.cancel(decided.id, 'shutting down'), undefined);
    assert.equal(gate.cancel('apr_nope', 'x'), undefined);
    assert.equal(audit.records.filter((r) => r.decision === 'cancelled').length, 1);
  });

  test('cancelAllPending cancels every pending approval and skips ones it cannot audit', (t) => {
    const { gate, store, audit } = makeGate(t);
    const first = gate.open(request());
    const second = gate.open(request());
    assert.deepEqual(gate.cancelAllPending('shutdown').map((a) => a.id), [first.id, second.id]);
    const third = gate.open(request());
    audit.failing = true;
    assert.deepEqual(gate.cancelAllPending('shutdown'), []);
    assert.equal(store.get(third.id)?.state, 'pending');
  });
});

/*
 * Execution: an approved call starts only through claimExecution, which succeeds once.
 * The executing state is written before the side effect, and the outcome is audited after.
 */
describe('ApprovalGate execution', () => {
  test('an approved call can be claimed exactly once', (t) => {
    const { gate } = makeGate(t);
    const opened = gate.open(request());
    gate.decide(opened.id, 'U9', 'approve');
    const claims = [gate.claimExecution(opened.id), gate.claimExecution(opened.id), gate.claimExecution(opened.id)];
    assert.equal(claims.filter((c) => c !== undefined).length, 1);
    assert.equal(claims[0]?.state, 'executing');
  });

  test('a pending, denied, expired or unknown approval cannot be claimed', (t) => {
    const { gate, clock } = makeGate(t, { timeoutSeconds: 60 });
    const pending = gate.open(request());
    const denied = gate.open(request());
    gate.decide(denied.id, 'U9', 'deny');
    assert.equal(gate.claimExecution(pending.id), undefined);
    assert.equal(gate.claimExecution(denied.id), undefined);
    assert.equal(gate.claimExecution('apr_nope'), undefined);
    clock.advance(60_000);
    assert.equal(gate.claimExecution(pending.id), undefined);
  });

  test('a claim naming a different fingerprint is refused and the approval stays approved', (t) => {
    const { gate, store } = makeGate(t);
    const opened = gate.open(request());
    gate.decide(opened.id, 'U9', 'approve');
    assert.equal(gate.claimExecution(opened.id, 'f'.repeat(64)), undefined);
    assert.equal(store.get(opened.id)?.state, 'approved');
    assert.equal(gate.claimExecution(opened.id, opened.fingerprint)?.state, 'executing');
  });

  test('finish records the outcome and audits it; only an executing call can finish', (t) => {
    const { gate, audit } = makeGate(t);
    const opened = gate.open(request());
    gate.decide(opened.id, 'U9', 'approve');
    assert.equal(gate.finish(opened.id, 'succeeded', 'done'), undefined);
    gate.claimExecution(opened.id);
    const finished = gate.finish(opened.id, 'failed', 'pod not found');
    assert.equal(finished?.state, 'failed');
    assert.equal(finished?.outcome, 'pod not found');
    assert.ok(finished?.finishedAt);
    assertRecord(audit.records.at(-1), finished, { event: 'outcome', decision: 'approved', status: 'failed', decider: 'U9', reason: 'pod not found' });
    assert.equal(gate.finish(opened.id, 'succeeded', 'again'), undefined);
  });

  test('an outcome that cannot be audited leaves the call executing and rethrows', (t) => {
    const { gate, store, audit } = makeGate(t);
    const opened = gate.open(request());
    gate.decide(opened.id, 'U9', 'approve');
    gate.claimExecution(opened.id);
    audit.failing = true;
    assert.throws(() => gate.finish(opened.id, 'succeeded', 'ok'), AuditError);
    assert.equal(store.get(opened.id)?.state, 'executing');
  });
});

/*
 * Boot reconciliation: whatever a previous process left is settled before anything runs.
 * Nothing is ever run or re-run here: a call that was executing becomes `unknown`, an approved
 * call that never started is cancelled, and a pending one is expired or cancelled.
 */
describe('ApprovalGate.reconcileOnBoot', () => {
  test('settles a previous process leftovers and never makes anything runnable', (t) => {
    const dir = tempDir(t);
    const audit = new MemoryAuditSink();
    const clock = new FakeClock();
    const dbOld = openDatabase(dir);
    t.after(() => dbOld.close());
    const before = makeGate(t, { db: dbOld, audit, clock, timeoutSeconds: 60 });
    const overdue = before.gate.open(request());
    clock.advance(30_000);
    const waiting = before.gate.open(request());
    const approved = before.gate.open(request());
    before.gate.decide(approved.id, 'U9', 'approve');
    const executing = before.gate.open(request());
    before.gate.decide(executing.id, 'U9', 'approve');
    before.gate.claimExecution(executing.id);
    const done = before.gate.open(request());
    before.gate.decide(done.id, 'U9', 'approve');
    before.gate.claimExecution(done.id);
    before.gate.finish(done.id, 'succeeded', 'ok');
    before.gate.close(); // the process "dies": its timers are gone
    clock.advance(40_000); // overdue is now past its deadline, waiting is not

    const dbNew = openDatabase(dir);
    t.after(() => dbNew.close());
    const after = makeGate(t, { db: dbNew, audit, clock, timeoutSeconds: 60 });
    const seen = audit.records.length;
    const result = after.gate.reconcileOnBoot();

    assert.deepEqual(result.expired.map((a) => a.id), [overdue.id]);
    assert.deepEqual(result.cancelled.map((a) => a.id).sort(), [waiting.id, approved.id].sort());
    assert.deepEqual(result.unknown.map((a) => a.id), [executing.id]);
    assert.equal(after.store.get(waiting.id)?.reason, 'runtime restarted before a decision');
    assert.equal(after.store.get(done.id)?.state, 'succeeded');

    const unknown = after.store.get(executing.id);
    assert.ok(unknown);
    assert.equal(unknown.state, 'unknown');
    const records = audit.records.slice(seen);
    assert.equal(records.length, 4);
    assertRecord(records.find((r) => r.approval_id === executing.id), unknown, { event: 'outcome', decision: 'approved', status: 'unknown', decider: 'U9', reason: unknown.outcome });
    const cancelledApproved = after.store.get(approved.id);
    assert.ok(cancelledApproved);
    assertRecord(records.find((r) => r.approval_id === approved.id), cancelledApproved, { event: 'decision', decision: 'cancelled', status: 'not_run', decider: null, reason: cancelledApproved.reason });

    // Nothing left can run, or be decided into running.
    for (const id of [overdue.id, waiting.id, approved.id, executing.id]) {
      assert.equal(after.gate.claimExecution(id), undefined);
      assert.equal(after.gate.decide(id, 'U9', 'approve').ok, false);
    }
    assert.equal(after.store.get(executing.id)?.state, 'unknown');
    assert.deepEqual(after.gate.reconcileOnBoot(), { expired: [], cancelled: [], unknown: [] });
  });

  test('leaves approvals opened by this gate alone', (t) => {
    const { gate, store } = makeGate(t);
    const own = gate.open(request());
    assert.deepEqual(gate.reconcileOnBoot(), { expired: [], cancelled: [], unknown: [] });
    assert.equal(store.get(own.id)?.state, 'pending');
  });

  test('stops with the audit error when a change cannot be audited, leaving the row as it was', (t) => {
    const dir = tempDir(t);
    const audit = new MemoryAuditSink();
    const dbOld = openDatabase(dir);
    const dbNew = openDatabase(dir);
    t.after(() => { dbOld.close(); dbNew.close(); });
    const before = makeGate(t, { db: dbOld, audit });
    const executing = before.gate.open(request());
    before.gate.decide(executing.id, 'U9', 'approve');
    before.gate.claimExecution(executing.id);
    const after = makeGate(t, { db: dbNew, audit });
    audit.failing = true;
    assert.throws(() => after.gate.reconcileOnBoot(), AuditError);
    assert.equal(after.store.get(executing.id)?.state, 'executing');
  });
});
