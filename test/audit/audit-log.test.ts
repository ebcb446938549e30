import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditError } from '../../src/errors.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { AuditStore } from '../../src/state/audit-store.ts';
import { GENESIS_HASH } from '../../src/audit/audit-chain.ts';
import { verifyAuditLog } from '../../src/audit/verify-audit-log.ts';
import type { AuditEventInput } from '../../src/audit/types.ts';
import { Redactor } from '../../src/security/redactor.ts';
import { createTransactor } from '../../src/state/transactor.ts';
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

describe('writing after a commit', () => {
  const outcome = (n: number): AuditEventInput => auditEvent({ event: 'outcome', approval_id: `apr-${n}`, status: 'succeeded' });

  test('every record, decision or outcome, is in the file as the write after its commit returns', (t) => {
    const { log, store, path } = openLog(t, tempDir(t));
    log.append(auditEvent({ approval_id: 'apr-1' }));
    log.writeAfterCommit();
    assert.equal(fileLines(path).length, 1, 'the decision is in the file before anything can act on it');
    log.append(outcome(1));
    log.writeAfterCommit();
    assert.deepEqual(records(path).map((r) => r.event), ['decision', 'outcome']);
    assert.equal(store.head()!.seq, 2);
  });

  test('the background fsync is noted in the database with the next record, and flush notes it at once', async (t) => {
    const { log, store } = openLog(t, tempDir(t), { syncDelayMs: 0 });
    log.append(auditEvent({ approval_id: 'apr-1' }));
    log.write();
    assert.equal(store.head()!.flushedSeq, 0, 'written, but not yet known to be on disk');
    await log.whenSynced();
    log.append(auditEvent({ approval_id: 'apr-2' }));
    assert.equal(store.head()!.flushedSeq, 1, 'the next record carries how far the file is on disk, in its own commit');
    log.flush();
    assert.deepEqual(store.head(), { seq: 2, hash: store.head()!.hash, flushedSeq: 2 });
  });

  test('the background fsync waits for the sync delay and covers every write of it with one fsync', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { log, store } = openLog(t, tempDir(t), { syncDelayMs: 1000 });
    log.append(auditEvent({ approval_id: 'apr-1' }));
    log.write();
    log.append(auditEvent({ approval_id: 'apr-2' }));
    log.write();
    let synced = false;
    void log.whenSynced().then(() => (synced = true));
    t.mock.timers.tick(999);
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(synced, false, 'no fsync before the delay');
    t.mock.timers.tick(1);
    await log.whenSynced();
    log.append(auditEvent({ approval_id: 'apr-3' }));
    assert.equal(store.head()!.flushedSeq, 2, 'one fsync covered both writes');
  });

  test('a record committed without waiting for the disk stays out of the file until a commit that waits covers it', (t) => {
    const { log, db, path } = openLog(t, tempDir(t));
    const transact = createTransactor(db, (synced) => log.writeAfterCommit(synced));
    transact(() => log.append(auditEvent({ approval_id: 'apr-1' })));
    transact(() => log.append(outcome(1)), { sync: false });
    log.catchUp();
    assert.deepEqual(records(path).map((r) => r.event), ['decision'], 'a power loss could still take the outcome from the database: not in the file yet');
    transact(() => log.append(auditEvent({ approval_id: 'apr-2' })));
    assert.deepEqual(records(path).map((r) => [r.seq, r.event]), [[1, 'decision'], [2, 'outcome'], [3, 'decision']], 'the commit that waited covers it: written in seq order');
  });

  test('write() before acting brings held-back records to disk first and leaves the file complete', (t) => {
    const { log, db, path } = openLog(t, tempDir(t));
    const transact = createTransactor(db, (synced) => log.writeAfterCommit(synced));
    transact(() => log.append(outcome(1)), { sync: false });
    // Another process's decision (committed, synced) comes after the held-back record.
    const other = openLog(t, join(path, '..', '..'));
    other.log.append(auditEvent({ approval_id: 'apr-cli' }));
    log.write();
    assert.deepEqual(records(path).map((r) => [r.seq, r.event]), [[1, 'outcome'], [2, 'decision']]);
  });

  test('a held-back record is brought to disk and written within the sync delay, and by flush at once', async (t) => {
    t.mock.timers.enable({ apis: ['setTimeout'] });
    const { log, db, store, path } = openLog(t, tempDir(t), { syncDelayMs: 1000 });
    const transact = createTransactor(db, (synced) => log.writeAfterCommit(synced));
    transact(() => log.append(outcome(1)), { sync: false });
    assert.equal(statSafe(path), undefined);
    t.mock.timers.tick(999);
    assert.equal(statSafe(path), undefined);
    t.mock.timers.tick(1);
    assert.deepEqual(records(path).map((r) => r.event), ['outcome'], 'written after a small commit that waited for the disk');
    transact(() => log.append(outcome(2)), { sync: false });
    log.flush();
    assert.deepEqual(records(path).map((r) => r.seq), [1, 2]);
    assert.equal(store.head()!.flushedSeq, 2);
  });

  test('a commit with no new record writes nothing', (t) => {
    const { log, path } = openLog(t, tempDir(t));
    log.writeAfterCommit();
    assert.equal(statSafe(path), undefined);
  });

  test('close() after a flush leaves nothing behind; a record committed but never written is written by the start-up check', (t) => {
    const dir = tempDir(t);
    const { log, store, path } = openLog(t, dir);
    log.append(auditEvent({ approval_id: 'apr-1' }));
    log.writeAfterCommit();
    log.append(outcome(1)); // the process dies between this commit and its write
    log.close();
    assert.equal(fileLines(path).length, 1);
    assert.equal(store.head()!.seq, 2, 'the outcome is committed');
    const reopened = openLog(t, dir);
    reopened.log.prepare();
    assert.deepEqual(records(path).map((r) => r.event), ['decision', 'outcome'], 'the start-up check writes it');
  });

  test('the last line edited in place to the same length is still caught by the next write', (t) => {
    const { log, path } = openLog(t, tempDir(t));
    log.append(auditEvent({ approval_id: 'apr-1' }));
    log.write();
    const good = readFileSync(path, 'utf8');
    // Same size, one character of the record changed: nothing but its bytes tells it apart.
    writeFileSync(path, good.replace('"apr-1"', '"apr-X"'));
    assert.equal(readFileSync(path).length, Buffer.byteLength(good));
    log.append(auditEvent({ approval_id: 'apr-2' }));
    assert.throws(() => log.write(), hasCode('audit_replaced'));
  });

  test('a file renamed away after a write is not written to again; the next write refuses it as missing', (t) => {
    const { log, path } = openLog(t, tempDir(t));
    log.append(auditEvent({ approval_id: 'apr-1' }));
    log.write();
    renameSync(path, `${path}.moved`);
    log.append(auditEvent({ approval_id: 'apr-2' }));
    assert.throws(() => log.write(), hasCode('audit_file_missing'));
    assert.equal(fileLines(`${path}.moved`).length, 1, 'the moved file got nothing more');
  });

  test('a file replaced by another after a write is checked as a new file, not continued blindly', (t) => {
    const dir = tempDir(t);
    const { log, path } = openLog(t, dir);
    log.append(auditEvent({ approval_id: 'apr-1' }));
    log.write();
    const copy = readFileSync(path);
    writeFileSync(`${path}.new`, copy.subarray(0, 0));
    renameSync(`${path}.new`, path); // an empty file under the same name
    log.append(auditEvent({ approval_id: 'apr-2' }));
    assert.throws(() => log.write(), hasCode('audit_tail_missing'));
  });

  test('a write that fails is reported, and the record is written by the next write', (t) => {
    const dir = tempDir(t);
    const { log, path } = openLog(t, dir);
    log.append(auditEvent({ approval_id: 'apr-1' }));
    log.flush();
    log.append(outcome(1));
    const good = readFileSync(path, 'utf8');
    writeFileSync(path, `${good}{"torn`); // a torn tail: writes refuse to continue it
    assert.throws(() => log.writeAfterCommit(), hasCode('audit_torn'));
    writeFileSync(path, good);
    log.write();
    assert.deepEqual(records(path).map((r) => r.event), ['decision', 'outcome']);
  });
});
