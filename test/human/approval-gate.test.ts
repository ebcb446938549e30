import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { verifyAuditLog } from '../../src/audit/verify-audit-log.ts';
import { AuditStore } from '../../src/state/audit-store.ts';
import { AuditError, InternalError, StateError } from '../../src/errors.ts';
import { Redactor } from '../../src/security/redactor.ts';
import { fingerprint } from '../../src/human/fingerprint.ts';
import { openDatabase } from '../../src/state/database.ts';
import { FakeClock } from '../fixtures/fake-clock.ts';
import { tempDir } from '../state/open-test-database.ts';
import { assertRecord, makeGate, request } from './gate-fixture.ts';
import { MemoryAuditSink } from './memory-audit-sink.ts';

describe('ApprovalGate.open', () => {
  test('records a pending approval bound to the exact call, and audits the request', (t) => {
    const { gate, store, audit, clock } = makeGate(t);
    const approval = gate.open(request({ input: { name: 'web-1', namespace: 'prod' }, levelReason: 'taint' }));

    assert.match(approval.id, /^apr_[0-9a-f]{12}$/);
    assert.equal(approval.state, 'pending');
    assert.equal(approval.fingerprint, fingerprint('k8s__delete_pod', { namespace: 'prod', name: 'web-1' }));
    assert.equal(approval.inputJson, '{"name":"web-1","namespace":"prod"}');
    assert.equal(approval.createdAt, new Date(clock.now()).toISOString());
    assert.equal(approval.deadline, new Date(clock.now() + 300_000).toISOString());
    assert.equal(approval.levelReason, 'taint');
    assert.deepEqual(store.get(approval.id), approval);
    assert.equal(audit.records.length, 1);
    assertRecord(audit.records[0], approval, { event: 'requested', decision: null, status: 'pending', decider: null, reason: null });
  });

  test('leaves no row behind and propagates the error when the audit append fails', (t) => {
    const { gate, store, audit, clock } = makeGate(t);
    audit.failing = true;
    assert.throws(() => gate.open(request()), AuditError);
    assert.deepEqual(store.listByState(['pending']), []);
    assert.equal(clock.pendingTimers, 0);
  });

  test('refuses a confirm request without a non-blank phrase, before writing anything', (t) => {
    const { gate, store, audit } = makeGate(t);
    assert.throws(() => gate.open(request({ level: 'confirm', confirmPhrase: null })), InternalError);
    assert.throws(() => gate.open(request({ level: 'confirm', confirmPhrase: '  ' })), InternalError);
    assert.deepEqual(store.listByState(['pending']), []);
    assert.equal(audit.records.length, 0);
  });

  test('refuses an input with no JSON form before writing anything', (t) => {
    const { gate, store, audit } = makeGate(t);
    assert.throws(() => gate.open(request({ input: { replicas: 3n } })), InternalError);
    assert.deepEqual(store.listByState(['pending']), []);
    assert.equal(audit.records.length, 0);
  });

  test('never gates the same call of a session twice', (t) => {
    const { gate, audit } = makeGate(t);
    const first = request();
    gate.open(first);
    assert.throws(() => gate.open({ ...first }), StateError);
    assert.equal(audit.records.length, 1);
  });
});

describe('ApprovalGate.decide: who may decide', () => {
  test('the requester can approve their own call, and the decision is audited', (t) => {
    const { gate, audit, clock } = makeGate(t);
    const opened = gate.open(request());
    clock.advance(1_000);
    const result = gate.decide(opened.id, 'U1', 'approve');
    assert.ok(result.ok);
    assert.equal(result.approval.state, 'approved');
    assert.equal(result.approval.decider, 'U1');
    assert.equal(result.approval.decidedAt, new Date(clock.now()).toISOString());
    assert.equal(audit.records.length, 2);
    assertRecord(audit.records[1], result.approval, { event: 'decision', decision: 'approved', status: 'pending', decider: 'U1', reason: null });
  });

  test('someone matching an approver pattern can decide', (t) => {
    const { gate } = makeGate(t);
    const result = gate.decide(gate.open(request()).id, 'UOPS7', 'approve');
    assert.equal(result.ok && result.approval.decider, 'UOPS7');
  });

  test('a deny records the reason and audits the call as not run', (t) => {
    const { gate, audit } = makeGate(t);
    const result = gate.decide(gate.open(request()).id, 'U9', 'deny', { reason: 'wrong cluster' });
    assert.ok(result.ok);
    assert.equal(result.approval.state, 'denied');
    assert.equal(result.approval.reason, 'wrong cluster');
    assertRecord(audit.records[1], result.approval, { event: 'decision', decision: 'denied', status: 'not_run', decider: 'U9', reason: 'wrong cluster' });
  });

  test('a click from anyone else is refused with the reason, and nothing changes', (t) => {
    const { gate, store, audit } = makeGate(t);
    const opened = gate.open(request());
    const result = gate.decide(opened.id, 'U2', 'approve');
    assert.deepEqual(result, {
      ok: false,
      refusal: 'not_permitted',
      message: 'Only the requester <@U1> or an approver listed in human.approvers can decide this.',
      approval: opened,
    });
    assert.deepEqual(store.get(opened.id), opened);
    assert.equal(audit.records.length, 1);
  });

  test('an unknown id is not_found', (t) => {
    const { gate } = makeGate(t);
    const result = gate.decide('apr_nope', 'U1', 'approve');
    assert.equal(!result.ok && result.refusal, 'not_found');
  });

  test('a decision bound to a different fingerprint is refused: the call changed', (t) => {
    const { gate, store } = makeGate(t);
    const opened = gate.open(request());
    const stale = fingerprint('k8s__delete_pod', { namespace: 'prod', name: 'web-2' });
    const refused = gate.decide(opened.id, 'U1', 'approve', { fingerprint: stale });
    assert.equal(!refused.ok && refused.refusal, 'not_found');
    assert.match(!refused.ok ? refused.message : '', /different call/);
    assert.equal(store.get(opened.id)?.state, 'pending');
    assert.ok(gate.decide(opened.id, 'U1', 'approve', { fingerprint: opened.fingerprint }).ok);
  });
});

/*
 * Confirm: approving needs the exact phrase (only surrounding whitespace is forgiven). A wrong
 * or missing phrase changes nothing, so the approver can try again. Denying needs no phrase.
 * With confirm_requires_second_person, the requester may deny but not approve their own call.
 */
describe('ApprovalGate.decide: confirm', () => {
  const confirm = () => request({ level: 'confirm', confirmPhrase: 'prod-db', tool: 'db__drop', input: { db: 'prod-db' } });

  test('a wrong or missing phrase is refused and the approval stays pending', (t) => {
    const { gate, store, audit } = makeGate(t);
    const opened = gate.open(confirm());
    for (const typedPhrase of [undefined, '', 'prod', 'PROD-DB', 'prod-db!', 'prod - db']) {
      const result = gate.decide(opened.id, 'U9', 'approve', typedPhrase === undefined ? {} : { typedPhrase });
      assert.equal(!result.ok && result.refusal, 'wrong_phrase', `typed ${String(typedPhrase)}`);
    }
    assert.equal(store.get(opened.id)?.state, 'pending');
    assert.equal(audit.records.length, 1);
  });

  test('the right phrase, with surrounding whitespace, approves', (t) => {
    const { gate } = makeGate(t);
    const result = gate.decide(gate.open(confirm()).id, 'U9', 'approve', { typedPhrase: '  prod-db\n' });
    assert.equal(result.ok && result.approval.state, 'approved');
  });

  test('a deny needs no phrase', (t) => {
    const { gate } = makeGate(t);
    assert.equal(gate.decide(gate.open(confirm()).id, 'U9', 'deny').ok, true);
  });

  test('requiring a second person blocks self-approval but allows self-denial and another approver', (t) => {
    const { gate, store } = makeGate(t, { confirmRequiresSecondPerson: true, approvers: ['U1', 'U9'] });
    const first = gate.open(confirm());
    const self = gate.decide(first.id, 'U1', 'approve', { typedPhrase: 'prod-db' });
    assert.equal(!self.ok && self.refusal, 'not_permitted');
    assert.equal(store.get(first.id)?.state, 'pending');
    assert.equal(gate.decide(first.id, 'U9', 'approve', { typedPhrase: 'prod-db' }).ok, true);

    const second = gate.open(confirm());
    assert.equal(gate.decide(second.id, 'U1', 'deny').ok, true);
  });
});

/*
 * First valid decision wins. Double clicks, two people clicking at once, and two gates over
 * the same database must end with exactly one decision in the row and in the audit log; every
 * other attempt is told it was already decided, and nothing about the winner changes.
 */
describe('ApprovalGate.decide: races', () => {
  test('approve then deny: the deny is refused and the approval stands', (t) => {
    const { gate, store, audit } = makeGate(t);
    const opened = gate.open(request());
    const approved = gate.decide(opened.id, 'U9', 'approve');
    const denied = gate.decide(opened.id, 'U1', 'deny');
    assert.ok(approved.ok);
    assert.deepEqual(denied, { ok: false, refusal: 'already_decided', message: `Already approved by <@U9> at ${approved.approval.decidedAt}.`, approval: approved.approval });
    assert.equal(store.get(opened.id)?.state, 'approved');
    assert.equal(audit.records.filter((r) => r.event === 'decision').length, 1);
  });

  test('concurrent decisions in one process: exactly one wins', async (t) => {
    const { gate, audit } = makeGate(t);
    const opened = gate.open(request());
    const results = await Promise.all(
      ['U1', 'U9', 'UOPS1', 'UOPS2'].map((decider, i) => Promise.resolve().then(() => gate.decide(opened.id, decider, i % 2 === 0 ? 'approve' : 'deny'))),
    );
    assert.equal(results.filter((r) => r.ok).length, 1);
    assert.deepEqual(results.filter((r) => !r.ok).map((r) => !r.ok && r.refusal), ['already_decided', 'already_decided', 'already_decided']);
    assert.equal(audit.records.filter((r) => r.event === 'decision').length, 1);
  });

  test('two gates over the same database file: exactly one decision wins', async (t) => {
    const dir = tempDir(t);
    const dbA = openDatabase(dir);
    const dbB = openDatabase(dir);
    t.after(() => { dbA.close(); dbB.close(); });
    const audit = new MemoryAuditSink();
    const clock = new FakeClock();
    const a = makeGate(t, { db: dbA, audit, clock });
    const b = makeGate(t, { db: dbB, audit, clock });
    const opened = a.gate.open(request());
    const results = await Promise.all([
      Promise.resolve().then(() => b.gate.decide(opened.id, 'U9', 'deny')),
      Promise.resolve().then(() => a.gate.decide(opened.id, 'U1', 'approve')),
    ]);
    assert.deepEqual(results.map((r) => r.ok), [true, false]);
    assert.equal(!results[1].ok && results[1].refusal, 'already_decided');
    assert.equal(a.gate.get(opened.id)?.state, 'denied');
    assert.equal(audit.records.filter((r) => r.event === 'decision').length, 1);
  });

  test('a decider who read the row as pending still loses to a decision committed before its write', (t) => {
    const dir = tempDir(t);
    const dbA = openDatabase(dir);
    const dbB = openDatabase(dir);
    t.after(() => { dbA.close(); dbB.close(); });
    const audit = new MemoryAuditSink();
    const a = makeGate(t, { db: dbA, audit });
    const b = makeGate(t, { db: dbB, audit });
    const opened = a.gate.open(request());
    // Interleave by hand: gate A reads the pending row, then gate B decides, then A writes.
    const read = a.store.get.bind(a.store);
    let interleaved = false;
    a.store.get = (id) => {
      const row = read(id);
      if (!interleaved) {
        interleaved = true;
        assert.equal(b.gate.decide(opened.id, 'U9', 'deny', { reason: 'no' }).ok, true);
      }
      return row;
    };
    const late = a.gate.decide(opened.id, 'U1', 'approve');
    assert.equal(!late.ok && late.refusal, 'already_decided');
    assert.match(!late.ok ? late.message : '', /Already denied by <@U9>/);
    assert.equal(b.store.get(opened.id)?.state, 'denied');
    assert.equal(audit.records.filter((r) => r.event === 'decision').length, 1);
  });
});

/*
 * A decision that cannot be audited is not taken: the state change and the audit append
 * commit together, so a failing append leaves the approval pending and undecided.
 */
describe('ApprovalGate.decide: audit failure', () => {
  test('an audit failure during decide records no decision and rethrows', (t) => {
    const { gate, store, audit } = makeGate(t);
    const opened = gate.open(request());
    audit.failing = true;
    assert.throws(() => gate.decide(opened.id, 'U9', 'approve'), AuditError);
    assert.deepEqual(store.get(opened.id), opened);
    audit.failing = false;
    const retried = gate.decide(opened.id, 'U9', 'approve');
    assert.equal(retried.ok, true);
    assert.equal(audit.records.filter((r) => r.event === 'decision').length, 1);
  });
});

/*
 * The same lifecycle against the real audit log: every step lands in one verifiable hash
 * chain, secrets in the input are redacted on the way in, and a log that cannot be written
 * stops the decision.
 */
describe('ApprovalGate with the real audit log', () => {
  test('a full approve-run-finish lifecycle writes a verifiable chain with the input redacted', (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'memory', 'approvals.json');
    const db = openDatabase(join(dir, 'state'));
    t.after(() => db.close());
    const log = AuditLog.open(path, { redactor: new Redactor(['hunter2-secret-value']), store: new AuditStore(db) });
    const { gate } = makeGate(t, { db, realAudit: log });
    const opened = gate.open(request({ input: { name: 'web-1', password: 'hunter2-secret-value' } }));
    gate.decide(opened.id, 'U9', 'approve');
    gate.claimExecution(opened.id);
    gate.finish(opened.id, 'succeeded', 'deleted');

    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 3 });
    const text = readFileSync(path, 'utf8');
    assert.doesNotMatch(text, /hunter2-secret-value/);
    const records = text.trim().split('\n').map((line) => JSON.parse(line) as { event: string; decision: string | null; status: string; approval_id: string });
    assert.deepEqual(records.map((r) => [r.event, r.decision, r.status]), [['requested', null, 'pending'], ['decision', 'approved', 'pending'], ['outcome', 'approved', 'succeeded']]);
    assert.ok(records.every((r) => r.approval_id === opened.id));
  });

  test('when the audit file cannot be written, the decision stays in the database chain and the file cannot be caught up silently', (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'approvals.json');
    const db = openDatabase(join(dir, 'state'));
    t.after(() => db.close());
    const log = AuditLog.open(path, { redactor: new Redactor(), store: new AuditStore(db) });
    const { gate, store } = makeGate(t, { db, realAudit: log });
    const opened = gate.open(request());
    // Replace the file with a directory: the next flush cannot open it.
    rmSync(path);
    mkdirSync(path);
    const decided = gate.decide(opened.id, 'U9', 'approve');
    assert.equal(decided.ok, true, 'the decision and its record commit together in the database');
    assert.equal(store.get(opened.id)?.state, 'approved');
    assert.throws(() => log.flush(), AuditError, 'the file is not written: whoever runs the tool must see that');
  });
});
