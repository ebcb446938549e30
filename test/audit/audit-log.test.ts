import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditError } from '../../src/errors.ts';
import { AuditLog, OUTCOME_FLUSH_DELAY_MS } from '../../src/audit/audit-log.ts';
import { AuditStore } from '../../src/state/audit-store.ts';
import { GENESIS_HASH } from '../../src/audit/audit-chain.ts';
import { verifyAuditLog } from '../../src/audit/verify-audit-log.ts';
import type { AuditEventInput } from '../../src/audit/types.ts';
import { Redactor } from '../../src/security/redactor.ts';
import { auditEvent, fileLines, openLog, stateDb, tempDir } from './audit-fixtures.ts';

const fixedNow = (): Date => new Date('2026-01-02T03:04:05.000Z');

function records(path: string): Array<Record<string, unknown>> {
  return fileLines(path).map((l) => JSON.parse(l) as Record<string, unknown>);
}

const hasCode = (code: string) => (err: unknown): boolean => err instanceof AuditError && err.code === code;

describe('appending', () => {
  test('records go to the database at once and reach the file, chained from the genesis hash, on flush', (t) => {
    const { log, store, path } = openLog(t, tempDir(t), { now: fixedNow });
    const appended = [1, 2, 3, 4, 5].map((n) => log.append(auditEvent({ approval_id: `apr-${n}` })));
    assert.deepEqual(appended.map((r) => r.seq), [1, 2, 3, 4, 5]);
    assert.equal(appended[0]!.prev_hash, GENESIS_HASH);
    for (let i = 1; i < appended.length; i++) assert.equal(appended[i]!.prev_hash, appended[i - 1]!.hash);
    assert.equal(appended[0]!.time, '2026-01-02T03:04:05.000Z');
    assert.equal(appended[0]!.v, 2);
    assert.deepEqual(store.head(), { seq: 5, hash: appended[4]!.hash, flushedSeq: 0 });
    assert.equal(statSafe(path), undefined, 'append does not touch the file');

    log.flush();
    assert.deepEqual(records(path), appended);
    assert.deepEqual(fileLines(path), [1, 2, 3, 4, 5].map((seq) => store.record(seq)!.line), 'the file holds the exact lines the database stored');
    assert.equal(store.head()!.flushedSeq, 5);
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 5 });
  });

  test('the first flush creates the folder with mode 0700 and the file with mode 0600', (t) => {
    const dir = tempDir(t);
    const { log, path } = openLog(t, dir);
    assert.equal(statSync(join(dir, 'memory')).mode & 0o777, 0o700);
    log.append(auditEvent());
    log.flush();
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test('a second flush with nothing new leaves the file exactly as it was', (t) => {
    const { log, path } = openLog(t, tempDir(t));
    log.append(auditEvent());
    log.flush();
    const before = readFileSync(path, 'utf8');
    log.flush();
    log.flush();
    assert.equal(readFileSync(path, 'utf8'), before);
  });

  test('continues seq and prev_hash from the database across a reopen on a new connection', (t) => {
    const dir = tempDir(t);
    const first = openLog(t, dir);
    first.log.append(auditEvent());
    const last = first.log.append(auditEvent());
    first.log.flush();
    first.db.close();
    const reopened = openLog(t, dir);
    const next = reopened.log.append(auditEvent());
    reopened.log.flush();
    assert.equal(next.seq, 3);
    assert.equal(next.prev_hash, last.hash);
    assert.deepEqual(verifyAuditLog(reopened.path), { ok: true, records: 3 });
  });

  test('two connections appending in turn continue one chain, whoever flushes', (t) => {
    const dir = tempDir(t);
    const a = openLog(t, dir);
    const b = openLog(t, dir);
    a.log.append(auditEvent());
    b.log.append(auditEvent());
    a.log.flush();
    a.log.append(auditEvent());
    b.log.flush();
    a.log.flush();
    assert.deepEqual(records(a.path).map((r) => r.seq), [1, 2, 3]);
    assert.deepEqual(verifyAuditLog(a.path), { ok: true, records: 3 });
  });

  test('an append inside a transaction that rolls back leaves no record in the database or the file', (t) => {
    const { log, db, store, path } = openLog(t, tempDir(t));
    log.append(auditEvent({ approval_id: 'kept' }));
    log.flush();
    const before = readFileSync(path, 'utf8');
    assert.throws(() =>
      db.transaction(() => {
        log.append(auditEvent({ approval_id: 'rolled-back' }));
        throw new Error('the state change failed after its audit record');
      }).immediate(),
    /state change failed/);
    log.flush();
    assert.equal(store.count(), 1);
    assert.equal(store.head()!.seq, 1);
    assert.equal(readFileSync(path, 'utf8'), before);
    const next = log.append(auditEvent());
    assert.equal(next.seq, 2, 'the rolled-back seq is reused: it never existed');
  });

  test('an append inside the caller\'s transaction commits with it', (t) => {
    const { log, db, store, path } = openLog(t, tempDir(t));
    const record = db.transaction(() => log.append(auditEvent())).immediate();
    assert.equal(store.record(1)?.hash, record.hash);
    log.flush();
    assert.deepEqual(records(path), [record]);
  });

  test('redacts secrets in input and reason before recording them', (t) => {
    const { log, store, path } = openLog(t, tempDir(t), { redactor: new Redactor(['db-password-value']) });
    const record = log.append(auditEvent({ input: { dsn: 'postgres://u:db-password-value@db/x', note: 'db-password-value' }, reason: 'denied: saw xoxb-1-2-abc and db-password-value' }));
    log.flush();
    for (const text of [readFileSync(path, 'utf8'), store.record(1)!.line]) {
      assert.ok(!text.includes('db-password-value'));
      assert.ok(!text.includes('xoxb-1-2-abc'));
    }
    assert.deepEqual(record.input, { dsn: 'postgres://u:[REDACTED]@db/x', note: '[REDACTED]' });
    assert.equal(record.reason, 'denied: saw [REDACTED] and [REDACTED]');
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 1 });
  });

  test('records an input that has no JSON form for a field (undefined) the way the verifier reads it back', (t) => {
    const { log, path } = openLog(t, tempDir(t));
    log.append(auditEvent({ input: { a: undefined, b: [undefined], when: new Date(0) } }));
    log.append(auditEvent({ input: undefined }));
    log.flush();
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 2 });
    assert.deepEqual(records(path).map((r) => r.input), [{ b: [null], when: '1970-01-01T00:00:00.000Z' }, null]);
  });
});

describe('failing closed', () => {
  test('throws AuditError when the log path is a directory', (t) => {
    const dir = tempDir(t);
    mkdirSync(join(dir, 'memory', 'approvals.json'), { recursive: true });
    assert.throws(() => openLog(t, dir), AuditError);
  });

  test('throws AuditError when the folder cannot be created', (t) => {
    const dir = tempDir(t);
    writeFileSync(join(dir, 'memory'), 'x');
    assert.throws(() => openLog(t, dir), AuditError);
  });

  test('throws AuditError when the input cannot be encoded, and records nothing', (t) => {
    const { log, store } = openLog(t, tempDir(t));
    assert.throws(() => log.append(auditEvent({ input: { n: 1n } })), hasCode('audit_encode_failed'));
    assert.equal(store.count(), 0);
    assert.equal(store.head(), undefined);
  });

  test('refuses a system event from a caller', (t) => {
    const { log, store } = openLog(t, tempDir(t));
    const input: AuditEventInput = auditEvent({ event: 'audit_gap' });
    assert.throws(() => log.append(input), hasCode('audit_event_reserved'));
    assert.equal(store.count(), 0);
  });

  test('refuses to flush inside an open transaction, whose records could still roll back', (t) => {
    const { log, db, path } = openLog(t, tempDir(t));
    assert.throws(() => db.transaction(() => {
      log.append(auditEvent());
      log.flush();
    }).immediate(), hasCode('audit_flush_in_transaction'));
    assert.equal(statSafe(path), undefined);
  });

  test('throws AuditError from flush when the file can no longer be written, and keeps the record for later', (t) => {
    const { log, store, path } = openLog(t, tempDir(t));
    log.append(auditEvent());
    log.flush();
    log.append(auditEvent());
    // Replacing the file with a directory fails for every user, root included (unlike chmod).
    rmSync(path);
    mkdirSync(path);
    assert.throws(() => log.flush(), AuditError);
    assert.equal(store.head()!.flushedSeq, 1);
    assert.equal(store.count(), 2);
  });

  test('flush refuses a file that lost records at its end while mithai was running', (t) => {
    const { log, path } = openLog(t, tempDir(t));
    log.append(auditEvent());
    log.append(auditEvent());
    log.flush();
    writeFileSync(path, `${fileLines(path)[0]}\n`);
    log.append(auditEvent());
    assert.throws(() => log.flush(), (err: unknown) => hasCode('audit_tail_missing')(err) && /records 2 were cut off/.test((err as Error).message));
    assert.equal(fileLines(path).length, 1, 'nothing was appended after the cut');
  });

  test('flush refuses a file that was deleted while the database says records were written to it', (t) => {
    const { log, path } = openLog(t, tempDir(t));
    log.append(auditEvent());
    log.flush();
    rmSync(path);
    log.append(auditEvent());
    assert.throws(() => log.flush(), hasCode('audit_file_missing'));
    assert.equal(statSafe(path), undefined, 'the file is not silently recreated');
  });

  test('flush refuses a file whose last line is not the database\'s record at that seq', (t) => {
    const dir = tempDir(t);
    const { log, path } = openLog(t, dir);
    log.append(auditEvent());
    log.flush();
    const other = openLog(t, tempDir(t));
    other.log.append(auditEvent({ approval_id: 'someone-else' }));
    other.log.flush();
    writeFileSync(path, readFileSync(other.path));
    log.append(auditEvent());
    assert.throws(() => log.flush(), hasCode('audit_replaced'));
  });

  test('flush refuses to append after a torn last line and names `mithai audit repair`', (t) => {
    const { log, path } = openLog(t, tempDir(t));
    log.append(auditEvent());
    log.flush();
    writeFileSync(path, `${readFileSync(path, 'utf8')}{"v":1,"seq":2,"tr`);
    log.append(auditEvent());
    assert.throws(() => log.flush(), (err: unknown) => hasCode('audit_torn')(err) && /mithai audit repair/.test((err as Error).message));
  });

  test('flush checks the tail correctly when the last record is longer than one read chunk', (t) => {
    const dir = tempDir(t);
    const { log } = openLog(t, dir);
    log.append(auditEvent());
    const big = log.append(auditEvent({ input: { blob: 'x'.repeat(200_000) } }));
    log.flush();
    const again = openLog(t, dir);
    const next = again.log.append(auditEvent());
    again.log.flush();
    assert.equal(next.seq, 3);
    assert.equal(next.prev_hash, big.hash);
    assert.deepEqual(verifyAuditLog(again.path), { ok: true, records: 3 });
  });

  test('a log opened on an upgraded project but never prepared refuses to flush over the old file', (t) => {
    const dir = tempDir(t);
    const old = openLog(t, tempDir(t));
    old.log.append(auditEvent());
    old.log.append(auditEvent());
    old.log.flush();
    const { log, path } = openLog(t, dir);
    mkdirSync(join(dir, 'memory'), { recursive: true });
    writeFileSync(path, readFileSync(old.path));
    log.append(auditEvent());
    assert.throws(() => log.flush(), hasCode('audit_ahead'));
  });
});

function statSafe(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

describe('flushing after a commit', () => {
  const outcome = (n: number): AuditEventInput => auditEvent({ event: 'outcome', approval_id: `apr-${n}`, status: 'succeeded' });

  test('a decision reaches the file as the commit returns; an outcome waits at most OUTCOME_FLUSH_DELAY_MS', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { log, store, path } = openLog(t, tempDir(t));
    log.append(auditEvent({ approval_id: 'apr-1' }));
    log.flushAfterCommit();
    assert.equal(fileLines(path).length, 1, 'the decision is in the file before anything can act on it');

    log.append(outcome(1));
    log.flushAfterCommit();
    assert.equal(fileLines(path).length, 1, 'the outcome waits, committed in the database');
    assert.deepEqual(store.head()!.seq, 2);
    t.mock.timers.tick(OUTCOME_FLUSH_DELAY_MS - 1);
    assert.equal(fileLines(path).length, 1);
    t.mock.timers.tick(1);
    assert.deepEqual(records(path).map((r) => r.event), ['decision', 'outcome']);
    assert.equal(store.head()!.flushedSeq, 2);
  });

  test('the next decision takes the waiting outcome with it, in seq order, and the delayed flush then has nothing to do', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { log, path } = openLog(t, tempDir(t));
    log.append(outcome(1));
    log.flushAfterCommit();
    assert.equal(statSafe(path), undefined);
    log.append(auditEvent({ approval_id: 'apr-2' }));
    log.flushAfterCommit();
    assert.deepEqual(records(path).map((r) => [r.seq, r.event]), [[1, 'outcome'], [2, 'decision']]);
    const before = readFileSync(path, 'utf8');
    t.mock.timers.tick(OUTCOME_FLUSH_DELAY_MS * 2);
    assert.equal(readFileSync(path, 'utf8'), before);
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 2 });
  });

  test('a commit with no new record flushes nothing and schedules nothing', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { log, path } = openLog(t, tempDir(t));
    log.flushAfterCommit();
    t.mock.timers.tick(OUTCOME_FLUSH_DELAY_MS);
    assert.equal(statSafe(path), undefined);
  });

  test('close() after a flush leaves nothing behind; close() alone leaves the outcome in the database for the start-up check', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const dir = tempDir(t);
    const { log, store, path } = openLog(t, dir);
    log.append(auditEvent({ approval_id: 'apr-1' }));
    log.flushAfterCommit();
    log.append(outcome(1));
    log.flushAfterCommit();
    log.close();
    t.mock.timers.tick(OUTCOME_FLUSH_DELAY_MS * 2);
    assert.equal(fileLines(path).length, 1, 'a closed log runs no delayed flush');
    assert.equal(store.head()!.seq, 2, 'the outcome is committed');
    const reopened = openLog(t, dir);
    reopened.log.prepare();
    assert.deepEqual(records(path).map((r) => r.event), ['decision', 'outcome'], 'the start-up check writes it');
  });

  test('a delayed flush that fails is reported, and the record is written by the next flush', (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const dir = tempDir(t);
    const errors: AuditError[] = [];
    const db = stateDb(t, dir);
    const path = join(dir, 'memory', 'approvals.json');
    const log = AuditLog.open(path, { redactor: new Redactor(), store: new AuditStore(db), onDelayedFlushError: (err) => errors.push(err) });
    log.append(auditEvent({ approval_id: 'apr-1' }));
    log.flush();
    log.append(outcome(1));
    log.flushAfterCommit();
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, `${good}{"torn`); // a torn tail: flushes refuse to continue it
    t.mock.timers.tick(OUTCOME_FLUSH_DELAY_MS);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof AuditError && errors[0].code === 'audit_torn');
    writeFileSync(path, good);
    log.flushAfterCommit();
    t.mock.timers.tick(OUTCOME_FLUSH_DELAY_MS);
    assert.equal(errors.length, 1);
    assert.deepEqual(records(path).map((r) => r.event), ['decision', 'outcome']);
  });
});
