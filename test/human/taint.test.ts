/**
 * Untrusted content is visible to the approver, and the requester cannot approve it alone:
 * the taint sources (cleaned, merged, described), `checkDecider` under
 * `human.tainted_requires_second_person`, and the gate carrying a taint snapshot from open
 * through the audit log (old-shape records still verify, and the cross-check agrees).
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { AuditLog, readAuditFile } from '../../src/audit/audit-log.ts';
import { crossCheckAudit } from '../../src/audit/cross-check.ts';
import { verifyAuditLog } from '../../src/audit/verify-audit-log.ts';
import { checkDecider, isSamePerson } from '../../src/human/approvers.ts';
import { MAX_TAINT_SOURCES, MAX_TAINT_SOURCE_CHARS, UNRECORDED_TAINT, describeTaint, mergeTaint, taintSource, threadTaint } from '../../src/human/taint.ts';
import type { Approval, TaintSource } from '../../src/human/types.ts';
import { Redactor } from '../../src/security/redactor.ts';
import { AuditStore } from '../../src/state/audit-store.ts';
import { openDatabase } from '../../src/state/database.ts';
import { approval as approvalFixture } from '../fixtures/approval.ts';
import { tempDir } from '../state/open-test-database.ts';
import { makeGate, request } from './gate-fixture.ts';

const PAGE: TaintSource = { kind: 'tool_output', source: 'http__http_get' };
const OUTSIDER: TaintSource = { kind: 'thread_message', source: 'U999' };

function tainted(overrides: Partial<Approval> = {}): Approval {
  return approvalFixture({ requester: 'U1', taint: [PAGE, OUTSIDER], ...overrides });
}

describe('taint sources', () => {
  test('a source is redacted, stripped of markup, newlines and invisible characters, and clipped', () => {
    const redact = (text: string): string => text.replaceAll('hunter2', '[REDACTED]');
    assert.deepEqual(taintSource('tool_output', 'web__get', redact), { kind: 'tool_output', source: 'web__get' });
    assert.deepEqual(taintSource('thread_message', 'B123 (bot)', redact), { kind: 'thread_message', source: 'B123 (bot)' });
    const nasty = taintSource('thread_message', 'U1 <!channel>\n*bold* `code` \u202eevil hunter2', redact);
    assert.doesNotMatch(nasty.source, /[<>*`\n\u202e]/);
    assert.doesNotMatch(nasty.source, /hunter2/);
    assert.match(nasty.source, /REDACTED/);
    const long = taintSource('tool_output', 'x'.repeat(500), redact);
    assert.equal(long.source.length, MAX_TAINT_SOURCE_CHARS);
    assert.ok(long.source.endsWith('...'));
  });

  test('merging keeps the first of each source, in order, and at most the cap', () => {
    assert.deepEqual(mergeTaint([PAGE], [OUTSIDER, PAGE, OUTSIDER]), [PAGE, OUTSIDER]);
    const many = Array.from({ length: 50 }, (_, i): TaintSource => ({ kind: 'thread_message', source: `U${i}` }));
    const merged = mergeTaint([PAGE], many);
    assert.equal(merged.length, MAX_TAINT_SOURCES);
    assert.deepEqual(merged[0], PAGE);
    assert.deepEqual(merged[1], { kind: 'thread_message', source: 'U0' });
  });

  test('thread senders become thread_message sources; none named is an unknown sender, never no taint', () => {
    assert.deepEqual(threadTaint(['U999', 'B123 (bot)', 'U999'], (t) => t), [OUTSIDER, { kind: 'thread_message', source: 'B123 (bot)' }]);
    assert.deepEqual(threadTaint([], (t) => t), [{ kind: 'thread_message', source: '' }]);
  });

  test('sources read as plain words', () => {
    assert.equal(
      describeTaint([PAGE, { kind: 'tool_error', source: 'x__y' }, OUTSIDER, { kind: 'thread_message', source: 'B123 (bot)' }, { kind: 'thread_message', source: 'unknown sender' }, UNRECORDED_TAINT]),
      'output of http__http_get; an error message from x__y; a message from U999; a message from the bot B123; a message from an unknown sender; untrusted content (source not recorded)',
    );
    assert.equal(describeTaint([]), '');
  });
});

describe('checkDecider with tainted_requires_second_person', () => {
  const rules = { approvers: ['U9', 'UOPS*'], confirmRequiresSecondPerson: false, taintedRequiresSecondPerson: true };

  test('the requester cannot approve a tainted call, even when listed as an approver; the message names the source and the setting', () => {
    for (const approvers of [rules.approvers, ['U1', 'U9']]) {
      const verdict = checkDecider({ ...rules, approvers, approval: tainted(), decider: 'U1', decision: 'approve' });
      assert.equal(verdict.ok, false);
      const message = verdict.ok ? '' : verdict.message;
      assert.match(message, /Untrusted content is in this conversation \(output of http__http_get; a message from U999\)/);
      assert.match(message, /someone other than the requester must approve it \(human\.tainted_requires_second_person\)/);
      assert.match(message, /You can still deny it/);
      assert.match(message, /Set human\.tainted_requires_second_person: false/, 'a solo operator is told how to work alone');
    }
  });

  test('the requester may still deny; another approver may approve', () => {
    assert.deepEqual(checkDecider({ ...rules, approval: tainted(), decider: 'U1', decision: 'deny' }), { ok: true });
    assert.deepEqual(checkDecider({ ...rules, approval: tainted(), decider: 'U9', decision: 'approve' }), { ok: true });
    assert.deepEqual(checkDecider({ ...rules, approval: tainted({ level: 'confirm', confirmPhrase: 'x' }), decider: 'UOPS1', decision: 'approve' }), { ok: true });
  });

  test('an outsider is still refused as before (the rule never widens who may decide)', () => {
    const verdict = checkDecider({ ...rules, approval: tainted(), decider: 'U2', decision: 'deny' });
    assert.deepEqual(verdict, { ok: false, message: 'Only the requester <@U1> or an approver listed in human.approvers can decide this.' });
  });

  test('with nobody else listed, the requester is told nobody can approve it', () => {
    const verdict = checkDecider({ ...rules, approvers: [], approval: tainted(), decider: 'U1', decision: 'approve' });
    assert.match(verdict.ok ? '' : verdict.message, /human\.approvers lists nobody, so nobody else can approve it/);
  });

  test('an untainted call, or the setting off, lets the requester approve', () => {
    assert.deepEqual(checkDecider({ ...rules, approval: tainted({ taint: [] }), decider: 'U1', decision: 'approve' }), { ok: true });
    assert.deepEqual(checkDecider({ ...rules, taintedRequiresSecondPerson: false, approval: tainted(), decider: 'U1', decision: 'approve' }), { ok: true });
  });

  test('a source that was not recorded counts as taint', () => {
    const verdict = checkDecider({ ...rules, approval: tainted({ taint: [UNRECORDED_TAINT] }), decider: 'U1', decision: 'approve' });
    assert.match(verdict.ok ? '' : verdict.message, /untrusted content \(source not recorded\)/);
  });

  test('the local operator is the same person as the chat user of the same name', () => {
    assert.equal(isSamePerson('local:alice', 'alice'), true);
    assert.equal(isSamePerson('alice', 'local:alice'), true);
    assert.equal(isSamePerson('local:bob', 'alice'), false);
    const verdict = checkDecider({ ...rules, approvers: ['local:*'], approval: tainted({ requester: 'alice' }), decider: 'local:alice', decision: 'approve' });
    assert.equal(verdict.ok, false);
    assert.deepEqual(checkDecider({ ...rules, approvers: ['local:*'], approval: tainted({ requester: 'alice' }), decider: 'local:bob', decision: 'approve' }), { ok: true });
  });
});

describe('ApprovalGate with taint', () => {
  test('open stores the cleaned snapshot and audits it on the request only; the requester cannot approve, someone else can', (t) => {
    const { gate, store, audit } = makeGate(t);
    const opened = gate.open(request({ taint: [PAGE, OUTSIDER, PAGE] }));
    assert.deepEqual(opened.taint, [PAGE, OUTSIDER]);
    assert.deepEqual(store.get(opened.id)?.taint, [PAGE, OUTSIDER]);
    assert.deepEqual(audit.records[0]?.taint, [PAGE, OUTSIDER]);

    const refused = gate.decide(opened.id, 'U1', 'approve');
    assert.equal(refused.ok, false);
    assert.equal(refused.ok ? '' : refused.refusal, 'not_permitted');
    assert.equal(store.get(opened.id)?.state, 'pending', 'nothing was decided');
    assert.equal(audit.records.length, 1, 'a refusal writes no record');

    const decided = gate.decide(opened.id, 'U9', 'approve');
    assert.equal(decided.ok, true);
    assert.equal(audit.records[1]?.taint, undefined, 'the decision record has no taint field');
  });

  test('the gate honours the setting off', (t) => {
    const { gate } = makeGate(t, { taintedRequiresSecondPerson: false });
    const opened = gate.open(request({ taint: [PAGE] }));
    assert.equal(gate.decide(opened.id, 'U1', 'approve').ok, true);
  });

  test('with the real audit log, records with and without taint chain and verify, old-shape lines are unchanged, and the cross-check agrees', (t) => {
    const dir = tempDir(t);
    const path = join(dir, 'memory', 'approvals.json');
    const db = openDatabase(join(dir, 'state'));
    t.after(() => db.close());
    const log = AuditLog.open(path, { redactor: new Redactor(['hunter2-secret-value']), store: new AuditStore(db) });
    const { gate } = makeGate(t, { db, realAudit: log });
    const clean = gate.open(request());
    gate.decide(clean.id, 'U1', 'approve');
    const dirty = gate.open(request({ taint: [PAGE, { kind: 'thread_message', source: 'hunter2-secret-value' }] }));
    gate.decide(dirty.id, 'U9', 'deny', { reason: 'injection' });

    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 4 });
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    assert.doesNotMatch(lines[0]!, /taint/, 'a request without taint has exactly the fields it always had');
    const request2 = JSON.parse(lines[2]!) as { event: string; taint?: TaintSource[] };
    assert.equal(request2.event, 'requested');
    assert.deepEqual(request2.taint, [PAGE, { kind: 'thread_message', source: '[REDACTED]' }], 'sources are redacted on the way in');
    const check = crossCheckAudit(readAuditFile(path), new AuditStore(db));
    assert.deepEqual(check.problems, []);
    assert.equal(check.ok, true);
  });
});
