import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditError } from '../../src/errors.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { GENESIS_HASH } from '../../src/audit/audit-chain.ts';
import { verifyAuditLog } from '../../src/audit/verify-audit-log.ts';
import { Redactor } from '../../src/security/redactor.ts';
import { auditEvent, tempDir } from './audit-fixtures.ts';

const fixedNow = (): Date => new Date('2026-01-02T03:04:05.000Z');

function lines(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('appending', () => {
  test('writes one JSON line per record, chained from the genesis hash, and verifies', (t) => {
    const path = join(tempDir(t), 'memory', 'approvals.json');
    const log = AuditLog.open(path, { redactor: new Redactor(), now: fixedNow });
    const records = [1, 2, 3, 4, 5].map((n) => log.append(auditEvent({ approval_id: `apr-${n}` })));
    assert.deepEqual(records.map((r) => r.seq), [1, 2, 3, 4, 5]);
    assert.equal(records[0]!.prev_hash, GENESIS_HASH);
    for (let i = 1; i < records.length; i++) assert.equal(records[i]!.prev_hash, records[i - 1]!.hash);
    assert.equal(records[0]!.time, '2026-01-02T03:04:05.000Z');
    assert.equal(records[0]!.v, 1);
    assert.deepEqual(lines(path), records);
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 5 });
  });

  test('creates the folder with mode 0700 and the file with mode 0600', (t) => {
    const dir = join(tempDir(t), 'memory');
    AuditLog.open(join(dir, 'approvals.json'), { redactor: new Redactor() });
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.equal(statSync(join(dir, 'approvals.json')).mode & 0o777, 0o600);
  });

  test('continues seq and prev_hash across a reopen', (t) => {
    const path = join(tempDir(t), 'approvals.json');
    const first = AuditLog.open(path, { redactor: new Redactor() });
    first.append(auditEvent());
    const last = first.append(auditEvent());
    const reopened = AuditLog.open(path, { redactor: new Redactor() });
    const next = reopened.append(auditEvent());
    assert.equal(next.seq, 3);
    assert.equal(next.prev_hash, last.hash);
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 3 });
  });

  test('continues the chain when another writer appended to the same file', (t) => {
    const path = join(tempDir(t), 'approvals.json');
    const a = AuditLog.open(path, { redactor: new Redactor() });
    const b = AuditLog.open(path, { redactor: new Redactor() });
    a.append(auditEvent());
    b.append(auditEvent());
    a.append(auditEvent());
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 3 });
  });

  test('refuses to append when the file was truncated while the log was open', (t) => {
    const path = join(tempDir(t), 'approvals.json');
    const log = AuditLog.open(path, { redactor: new Redactor() });
    log.append(auditEvent());
    log.append(auditEvent());
    writeFileSync(path, '');
    assert.throws(() => log.append(auditEvent()), (err: unknown) => err instanceof AuditError && /truncated or replaced/.test(err.message));
  });

  test('redacts secrets in input and reason before writing them', (t) => {
    const path = join(tempDir(t), 'approvals.json');
    const log = AuditLog.open(path, { redactor: new Redactor(['db-password-value']) });
    const record = log.append(auditEvent({ input: { dsn: 'postgres://u:db-password-value@db/x', note: 'db-password-value' }, reason: 'denied: saw xoxb-1-2-abc and db-password-value' }));
    const text = readFileSync(path, 'utf8');
    assert.ok(!text.includes('db-password-value'));
    assert.ok(!text.includes('xoxb-1-2-abc'));
    assert.deepEqual(record.input, { dsn: 'postgres://u:[REDACTED]@db/x', note: '[REDACTED]' });
    assert.equal(record.reason, 'denied: saw [REDACTED] and [REDACTED]');
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 1 });
  });

  test('records an input that has no JSON form for a field (undefined) the way the verifier reads it back', (t) => {
    const path = join(tempDir(t), 'approvals.json');
    const log = AuditLog.open(path, { redactor: new Redactor() });
    log.append(auditEvent({ input: { a: undefined, b: [undefined], when: new Date(0) } }));
    log.append(auditEvent({ input: undefined }));
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 2 });
    assert.deepEqual(lines(path).map((r) => r.input), [{ b: [null], when: '1970-01-01T00:00:00.000Z' }, null]);
  });
});

describe('failing closed', () => {
  test('throws AuditError when the log path is a directory', (t) => {
    const path = join(tempDir(t), 'approvals.json');
    mkdirSync(path);
    assert.throws(() => AuditLog.open(path, { redactor: new Redactor() }), AuditError);
  });

  test('throws AuditError from append when the file can no longer be written', (t) => {
    const dir = join(tempDir(t), 'memory');
    const path = join(dir, 'approvals.json');
    const log = AuditLog.open(path, { redactor: new Redactor() });
    log.append(auditEvent());
    // Replacing the file with a directory fails for every user, root included (unlike chmod).
    rmSync(path);
    mkdirSync(path);
    assert.throws(() => log.append(auditEvent()), AuditError);
  });

  test('throws AuditError when the folder cannot be created', (t) => {
    const blocker = join(tempDir(t), 'not-a-folder');
    writeFileSync(blocker, 'x');
    assert.throws(() => AuditLog.open(join(blocker, 'approvals.json'), { redactor: new Redactor() }), AuditError);
  });

  test('throws AuditError when the input cannot be encoded, and writes nothing', (t) => {
    const path = join(tempDir(t), 'approvals.json');
    const log = AuditLog.open(path, { redactor: new Redactor() });
    assert.throws(() => log.append(auditEvent({ input: { n: 1n } })), AuditError);
    assert.equal(readFileSync(path, 'utf8'), '');
  });

  test('refuses to open a log whose last line is not a record, naming the file and line', (t) => {
    const path = join(tempDir(t), 'approvals.json');
    const log = AuditLog.open(path, { redactor: new Redactor() });
    log.append(auditEvent());
    log.append(auditEvent());
    appendFileSync(path, '{"v":1,"seq":3,"trunc\n');
    assert.throws(
      () => AuditLog.open(path, { redactor: new Redactor() }),
      (err: unknown) => err instanceof AuditError && err.message.includes(`audit log ${path} line 3 is not a valid record`) && /will not start a new chain/.test(err.message),
    );
  });

  test('refuses to open a log whose last write was interrupted before its newline', (t) => {
    const path = join(tempDir(t), 'approvals.json');
    AuditLog.open(path, { redactor: new Redactor() }).append(auditEvent());
    const [record] = lines(path);
    appendFileSync(path, JSON.stringify({ ...record, seq: 2 }));
    assert.throws(() => AuditLog.open(path, { redactor: new Redactor() }), (err: unknown) => err instanceof AuditError && /line 2 .*no newline/.test(err.message));
  });

  test('reads the chain head correctly when the last record is longer than one read chunk', (t) => {
    const path = join(tempDir(t), 'approvals.json');
    const log = AuditLog.open(path, { redactor: new Redactor() });
    log.append(auditEvent());
    const big = log.append(auditEvent({ input: { blob: 'x'.repeat(200_000) } }));
    const next = AuditLog.open(path, { redactor: new Redactor() }).append(auditEvent());
    assert.equal(next.seq, 3);
    assert.equal(next.prev_hash, big.hash);
  });
});
