import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { readAuditFile } from '../../src/audit/audit-log.ts';
import { crossCheckAudit, type AuditCrossCheck } from '../../src/audit/cross-check.ts';
import type { AuditEventInput } from '../../src/audit/types.ts';
import { ApprovalStore } from '../../src/state/approval-store.ts';
import { approval } from '../fixtures/approval.ts';
import { auditEvent, fileLines, openLog, tempDir } from './audit-fixtures.ts';

const requested = (id: string): AuditEventInput => auditEvent({ approval_id: id, event: 'requested', decision: null, decider: null, status: 'pending' });
const decided = (id: string, decision: AuditEventInput['decision'], status: AuditEventInput['status'] = 'not_run'): AuditEventInput => auditEvent({ approval_id: id, event: 'decision', decision, status });
const outcome = (id: string, status: AuditEventInput['status']): AuditEventInput => auditEvent({ approval_id: id, event: 'outcome', decision: 'approved', status });

/** A log holding `events`, flushed. */
function logOf(t: TestContext, events: AuditEventInput[]) {
  const opened = openLog(t, tempDir(t));
  for (const event of events) opened.log.append(event);
  opened.log.flush();
  return opened;
}

function codes(check: AuditCrossCheck): string[] {
  return check.problems.map((p) => p.code);
}

describe('crossCheckAudit: the file against the database copy', () => {
  test('is OK, with counts, when the file is the database\'s chain', (t) => {
    const { path, store, log } = logOf(t, [requested('a'), decided('a', 'approved', 'pending')]);
    log.append(requested('b'));
    const check = crossCheckAudit(readAuditFile(path), store, [{ id: 'a', state: 'approved' }, { id: 'b', state: 'pending' }]);
    assert.deepEqual(check, { ok: true, problems: [], fileRecords: 2, databaseRecords: 3, unflushed: 1, approvals: 2 });
  });

  test('names the records the file lost from its end', (t) => {
    const { path, store } = logOf(t, [requested('a'), requested('b'), requested('c')]);
    writeFileSync(path, `${fileLines(path)[0]}\n`);
    const check = crossCheckAudit(readAuditFile(path), store, []);
    assert.deepEqual(codes(check), ['audit_tail_missing']);
    assert.match(check.problems[0]!.message, /records 2\.\.3 are missing from its end/);
  });

  test('names a deleted file', (t) => {
    const { path, store } = logOf(t, [requested('a')]);
    rmSync(path);
    assert.deepEqual(codes(crossCheckAudit(readAuditFile(path), store, [])), ['audit_file_missing']);
  });

  test('names each line that differs from the database, by seq', (t) => {
    const { path, store } = logOf(t, [requested('a'), decided('a', 'approved', 'pending'), requested('b')]);
    const lines = fileLines(path);
    lines[1] = lines[1]!.replace('"approved"', '"denied"');
    writeFileSync(path, `${lines.join('\n')}\n`);
    const check = crossCheckAudit(readAuditFile(path), store, []);
    assert.deepEqual(check.problems.map((p) => [p.code, p.seq]), [['audit_replaced', 2]]);
  });

  test('names records only the file has', (t) => {
    const { path, store } = logOf(t, [requested('a')]);
    const other = logOf(t, [requested('a'), requested('x'), requested('y')]);
    writeFileSync(path, `${fileLines(path)[0]}\n${fileLines(other.path).slice(1).join('\n')}\n`);
    const check = crossCheckAudit(readAuditFile(path), store, []);
    assert.deepEqual(codes(check), ['audit_ahead']);
    assert.match(check.problems[0]!.message, /records 2\.\.3 that the state database never committed/);
  });
});

describe('crossCheckAudit: approvals against their records', () => {
  test('accepts every state backed by the records the lifecycle writes', (t) => {
    const { path, store } = logOf(t, [
      requested('p'),
      requested('ap'), decided('ap', 'approved', 'pending'),
      requested('ex'), decided('ex', 'approved', 'pending'),
      requested('de'), decided('de', 'denied'),
      requested('xp'), decided('xp', 'expired'),
      requested('ca'), decided('ca', 'approved', 'pending'), decided('ca', 'cancelled'),
      requested('ok'), decided('ok', 'approved', 'pending'), outcome('ok', 'succeeded'),
      requested('ko'), decided('ko', 'approved', 'pending'), outcome('ko', 'failed'),
      requested('un'), decided('un', 'approved', 'pending'), outcome('un', 'unknown'),
      // An auto call: its approval_id is the call id and it has no row.
      auditEvent({ approval_id: 'toolu_auto', event: 'decision', decision: 'auto', status: 'executing' }),
      auditEvent({ approval_id: 'toolu_auto', event: 'outcome', decision: 'auto', status: 'succeeded' }),
    ]);
    const approvals = [
      ['p', 'pending'], ['ap', 'approved'], ['ex', 'executing'], ['de', 'denied'], ['xp', 'expired'],
      ['ca', 'cancelled'], ['ok', 'succeeded'], ['ko', 'failed'], ['un', 'unknown'],
    ].map(([id, state]) => ({ id: id!, state: state! }));
    const check = crossCheckAudit(readAuditFile(path), store, approvals);
    assert.deepEqual(check.problems, []);
    assert.equal(check.approvals, 9);
  });

  test('names a decision the database has and the log does not', (t) => {
    const { path, store } = logOf(t, [requested('apr-9')]);
    const check = crossCheckAudit(readAuditFile(path), store, [{ id: 'apr-9', state: 'approved' }]);
    assert.deepEqual(check.problems.map((p) => [p.code, p.approvalId]), [['approval_not_logged', 'apr-9']]);
    assert.match(check.problems[0]!.message, /approval apr-9 is approved in the state database, but the audit log has no decision approved record/);
  });

  test('names a decision the log has and the database does not', (t) => {
    const { path, store } = logOf(t, [requested('apr-7'), decided('apr-7', 'denied')]);
    const check = crossCheckAudit(readAuditFile(path), store, [{ id: 'apr-7', state: 'pending' }]);
    assert.deepEqual(check.problems.map((p) => [p.code, p.approvalId, p.seq]), [['approval_log_disagrees', 'apr-7', 2]]);
    assert.match(check.problems[0]!.message, /approval apr-7: the audit log records the decision denied \(seq 2\), but the state database says it is pending/);
  });

  test('names a decision the log and the database disagree on, and an outcome the log lacks', (t) => {
    const { path, store } = logOf(t, [requested('a'), decided('a', 'denied'), requested('b'), decided('b', 'approved', 'pending')]);
    const check = crossCheckAudit(readAuditFile(path), store, [{ id: 'a', state: 'approved' }, { id: 'b', state: 'succeeded' }]);
    assert.deepEqual(check.problems.map((p) => [p.code, p.approvalId]), [['approval_log_disagrees', 'a'], ['approval_not_logged', 'b']]);
  });

  test('names a pending approval the log never saw requested', (t) => {
    const { path, store } = logOf(t, [requested('other')]);
    const check = crossCheckAudit(readAuditFile(path), store, [{ id: 'ghost', state: 'pending' }]);
    assert.deepEqual(check.problems.map((p) => [p.code, p.approvalId]), [['approval_not_logged', 'ghost']]);
  });

  test('reads the approvals table through the store when not given a list', (t) => {
    const { path, store, db } = logOf(t, [requested('apr_0123456789ab')]);
    new ApprovalStore(db).insert(approval({ state: 'denied' }));
    const check = crossCheckAudit(readAuditFile(path), store);
    assert.equal(check.approvals, 1);
    assert.deepEqual(check.problems.map((p) => [p.code, p.approvalId]), [['approval_not_logged', 'apr_0123456789ab']]);
  });
});
