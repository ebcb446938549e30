import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { AuditError } from '../../src/errors.ts';
import { reconcileApprovals, RESTARTED_NO_TURN } from '../../src/human/approval-reconciler.ts';
import { openDatabase } from '../../src/state/database.ts';
import { FakeClock } from '../fixtures/fake-clock.ts';
import { tempDir } from '../state/open-test-database.ts';
import { assertRecord, makeGate, request } from './gate-fixture.ts';
import { MemoryAuditSink } from './memory-audit-sink.ts';

/*
 * Expiry: with no decision by the deadline the approval is expired, which is its own outcome
 * (never "denied"), is audited as not run, and cannot be revived by a late click, whether a
 * timer fired or not. Timers (ApprovalExpiry) only notice the persisted deadline sooner.
 */
describe('ApprovalExpiry', () => {
  test('the deadline expires the approval, resolves the waiter and audits it; a late decide is refused', async (t) => {
    const { gate, store, audit, clock, expiry, waiters } = makeGate(t, { timeoutSeconds: 60 });
    expiry.start();
    const opened = gate.open(request());
    const waited = waiters.wait(opened.id);
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
    clock.advance(60_000);
    const result = gate.decide(opened.id, 'U9', 'approve');
    assert.equal(!result.ok && result.refusal, 'expired');
    assert.equal(store.get(opened.id)?.state, 'expired');
    assert.deepEqual(audit.records.map((r) => r.decision), [null, 'expired']);
  });

  test('the sweep expires every pending approval past its deadline and leaves the rest', (t) => {
    const { gate, store, clock, expiry } = makeGate(t, { timeoutSeconds: 60 });
    const old = gate.open(request());
    clock.advance(30_000);
    const young = gate.open(request());
    clock.advance(30_000);
    assert.equal(expiry.sweep(), 1);
    assert.equal(store.get(old.id)?.state, 'expired');
    assert.equal(store.get(young.id)?.state, 'pending');
    assert.equal(expiry.sweep(), 0);
  });

  test('an expiry that cannot be audited leaves the row pending, cannot be approved, and is retried until the audit takes it', (t) => {
    const { gate, store, audit, clock, expiry } = makeGate(t, { timeoutSeconds: 60 });
    expiry.start();
    const opened = gate.open(request());
    audit.failing = true;
    clock.advance(60_000);
    assert.equal(store.get(opened.id)?.state, 'pending');
    assert.throws(() => gate.decide(opened.id, 'U9', 'approve'), AuditError, 'a late decision expires it instead, and that cannot be recorded either');
    clock.advance(30_000);
    assert.ok(audit.failures >= 2);
    audit.failing = false;
    clock.advance(30_000);
    assert.equal(store.get(opened.id)?.state, 'expired');
    assert.deepEqual(audit.records.map((r) => r.decision), [null, 'expired']);
    assert.equal(clock.pendingTimers, 0);
  });

  test('timers are armed at start for approvals a previous process opened', (t) => {
    const { gate, store, clock, expiry } = makeGate(t, { timeoutSeconds: 60 });
    const opened = gate.open(request());
    expiry.start();
    clock.advance(60_000);
    assert.equal(store.get(opened.id)?.state, 'expired');
  });
});

describe('ApprovalWaiters', () => {
  test('resolve with the decision once someone decides', async (t) => {
    const { gate, waiters } = makeGate(t);
    const approve = gate.open(request());
    const deny = gate.open(request());
    const waits = [waiters.wait(approve.id), waiters.wait(approve.id), waiters.wait(deny.id)];
    gate.decide(approve.id, 'U9', 'approve');
    gate.decide(deny.id, 'U9', 'deny');
    assert.deepEqual(await Promise.all(waits), ['approved', 'approved', 'denied']);
  });

  test('resolve at once for an approval that is already settled, and say cancelled for an unknown id', async (t) => {
    const { gate, waiters } = makeGate(t);
    const opened = gate.open(request());
    gate.decide(opened.id, 'U1', 'deny');
    assert.equal(await waiters.wait(opened.id), 'denied');
    assert.equal(await waiters.wait('apr_nope'), 'cancelled');
  });

  test('an aborted wait stops waiting and leaves the approval pending (the row is the truth, not the waiter)', async (t) => {
    const { gate, store, audit, waiters } = makeGate(t);
    const opened = gate.open(request());
    const controller = new AbortController();
    const waited = waiters.wait(opened.id, controller.signal);
    controller.abort();
    assert.equal(await waited, 'cancelled');
    assert.equal(store.get(opened.id)?.state, 'pending');
    assert.equal(audit.records.length, 1);
    assert.equal(gate.decide(opened.id, 'U9', 'approve').ok, true, 'it can still be decided');
  });

  test('a waiter on another gate learns of a decision made elsewhere once it is announced', async (t) => {
    const dir = tempDir(t);
    const dbA = openDatabase(dir);
    const dbB = openDatabase(dir);
    t.after(() => { dbA.close(); dbB.close(); });
    const clock = new FakeClock();
    const a = makeGate(t, { db: dbA, clock, timeoutSeconds: 60 });
    const b = makeGate(t, { db: dbB, clock, timeoutSeconds: 60 });
    const opened = a.gate.open(request());
    const waited = a.waiters.wait(opened.id);
    b.gate.decide(opened.id, 'U9', 'approve');
    a.gate.announce(opened.id);
    assert.equal(await waited, 'approved');
  });
});

describe('ApprovalGate.cancel and cancelApproved', () => {
  test('cancel cancels a pending approval with an audit record, and nothing else', (t) => {
    const { gate, audit } = makeGate(t);
    const pending = gate.open(request());
    const decided = gate.open(request());
    gate.decide(decided.id, 'U9', 'approve');
    const cancelled = gate.cancel(pending.id, 'the card could not be shown');
    assert.equal(cancelled?.state, 'cancelled');
    assert.equal(cancelled?.reason, 'the card could not be shown');
    assert.equal(gate.cancel(decided.id, 'x'), undefined);
    assert.equal(gate.cancel('apr_nope', 'x'), undefined);
    assert.equal(audit.records.filter((r) => r.decision === 'cancelled').length, 1);
  });

  test('cancelApproved stops an approved call from ever starting, keeps the decider, and audits why', (t) => {
    const { gate, audit, store } = makeGate(t);
    const opened = gate.open(request());
    gate.decide(opened.id, 'U9', 'approve');
    const cancelled = gate.cancelApproved(opened.id, 'its input no longer validates');
    assert.equal(cancelled?.state, 'cancelled');
    assert.equal(cancelled?.decider, 'U9');
    assert.equal(gate.claimExecution(opened.id), undefined);
    assert.equal(store.get(opened.id)?.state, 'cancelled');
    assert.deepEqual(audit.records.map((r) => [r.decision, r.status]), [[null, 'pending'], ['approved', 'pending'], ['cancelled', 'not_run']]);
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

  test('an approved call cannot start once its validity window has passed', (t) => {
    const { gate, clock } = makeGate(t, { timeoutSeconds: 60 });
    const opened = gate.open(request());
    gate.decide(opened.id, 'U9', 'approve');
    clock.advance(900_000);
    assert.equal(gate.claimExecution(opened.id), undefined);
    assert.equal(gate.get(opened.id)?.state, 'approved');
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
 * Start-up reconciliation: whatever a previous process left is settled before anything runs.
 * Nothing is re-run here: a call that was executing becomes `unknown`; a pending approval of a
 * durable turn stays pending (its card keeps working); one past its deadline expires; an
 * approved call stays approved only inside its validity window and with a turn to carry it.
 */
describe('reconcileApprovals', () => {
  test('settles a previous process leftovers, keeps live approvals live, and never makes anything runnable twice', (t) => {
    const dir = tempDir(t);
    const audit = new MemoryAuditSink();
    const clock = new FakeClock();
    const dbOld = openDatabase(dir);
    t.after(() => dbOld.close());
    const before = makeGate(t, { db: dbOld, audit, clock, timeoutSeconds: 60 });
    const overdue = before.gate.open(request({ turnId: 'trn_1' }));
    clock.advance(30_000);
    const waiting = before.gate.open(request({ turnId: 'trn_2' }));
    const orphan = before.gate.open(request());
    const approved = before.gate.open(request({ turnId: 'trn_3' }));
    before.gate.decide(approved.id, 'U9', 'approve');
    const executing = before.gate.open(request({ turnId: 'trn_4' }));
    before.gate.decide(executing.id, 'U9', 'approve');
    before.gate.claimExecution(executing.id);
    const done = before.gate.open(request({ turnId: 'trn_5' }));
    before.gate.decide(done.id, 'U9', 'approve');
    before.gate.claimExecution(done.id);
    before.gate.finish(done.id, 'succeeded', 'ok');
    clock.advance(40_000); // overdue is now past its deadline, waiting is not

    const dbNew = openDatabase(dir);
    t.after(() => dbNew.close());
    const after = makeGate(t, { db: dbNew, audit, clock, timeoutSeconds: 60 });
    const seen = audit.records.length;
    const result = reconcileApprovals(after.gate, after.store);

    assert.deepEqual(result.expired.map((a) => a.id), [overdue.id]);
    assert.deepEqual(result.cancelled.map((a) => a.id), [orphan.id]);
    assert.equal(after.store.get(orphan.id)?.reason, RESTARTED_NO_TURN);
    assert.deepEqual(result.unknown.map((a) => a.id), [executing.id]);
    assert.equal(after.store.get(waiting.id)?.state, 'pending', 'a live approval survives the restart');
    assert.equal(after.store.get(approved.id)?.state, 'approved', 'inside its validity window: the engine re-checks and runs it once');
    assert.equal(after.store.get(done.id)?.state, 'succeeded');

    const unknown = after.store.get(executing.id);
    assert.ok(unknown);
    assert.equal(unknown.state, 'unknown');
    const records = audit.records.slice(seen);
    assert.equal(records.length, 3);
    assertRecord(records.find((r) => r.approval_id === executing.id), unknown, { event: 'outcome', decision: 'approved', status: 'unknown', decider: 'U9', reason: unknown.outcome });

    for (const id of [overdue.id, orphan.id, executing.id]) {
      assert.equal(after.gate.claimExecution(id), undefined);
      assert.equal(after.gate.decide(id, 'U9', 'approve').ok, false);
    }
    assert.equal(after.gate.decide(waiting.id, 'U9', 'approve').ok, true, 'the card of a live approval still works');
    assert.deepEqual(reconcileApprovals(after.gate, after.store), { expired: [], cancelled: [], unknown: [] });
  });

  test('an approved call past its validity window is cancelled at start, never run', (t) => {
    const { gate, store, clock } = makeGate(t, { timeoutSeconds: 60 });
    const opened = gate.open(request({ turnId: 'trn_1' }));
    gate.decide(opened.id, 'U9', 'approve');
    clock.advance(900_000);
    const result = reconcileApprovals(gate, store);
    assert.deepEqual(result.cancelled.map((a) => a.id), [opened.id]);
    assert.match(store.get(opened.id)?.reason ?? '', /validity window/);
  });

  test('stops with the audit error when a change cannot be audited, leaving the row as it was', (t) => {
    const dir = tempDir(t);
    const audit = new MemoryAuditSink();
    const dbOld = openDatabase(dir);
    const dbNew = openDatabase(dir);
    t.after(() => { dbOld.close(); dbNew.close(); });
    const before = makeGate(t, { db: dbOld, audit });
    const executing = before.gate.open(request({ turnId: 'trn_1' }));
    before.gate.decide(executing.id, 'U9', 'approve');
    before.gate.claimExecution(executing.id);
    const after = makeGate(t, { db: dbNew, audit });
    audit.failing = true;
    assert.throws(() => reconcileApprovals(after.gate, after.store), AuditError);
    assert.equal(after.store.get(executing.id)?.state, 'executing');
  });
});
