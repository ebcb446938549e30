/**
 * AuditLog.prepare, the start-up check: each case damages the file (or the database) the way
 * a crash, a power loss, an operator or a restore would, and expects it repaired and reported,
 * or refused with a named code and nothing changed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { TestContext } from 'node:test';
import { AuditError } from '../../src/errors.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { verifyAuditLog } from '../../src/audit/verify-audit-log.ts';
import { Redactor } from '../../src/security/redactor.ts';
import { AuditStore } from '../../src/state/audit-store.ts';
import { openDatabase } from '../../src/state/database.ts';
import { auditEvent, fileLines, openLog, tempDir } from './audit-fixtures.ts';

const fixedNow = (): Date => new Date('2026-01-02T03:04:05.000Z');

/** A project whose log has `n` records, all flushed. */
function projectWith(t: TestContext, n: number) {
  const dir = tempDir(t);
  const opened = openLog(t, dir, { now: fixedNow });
  for (let i = 1; i <= n; i++) opened.log.append(auditEvent({ approval_id: `apr-${i}`, input: { step: i } }));
  opened.log.flush();
  return { dir, ...opened, original: fileLines(opened.path) };
}

function parsed(line: string): Record<string, unknown> {
  return JSON.parse(line) as Record<string, unknown>;
}

function asideFiles(path: string, kind: string): string[] {
  return readdirSync(dirname(path)).filter((f) => f.startsWith(`${basename(path)}.${kind}-`)).map((f) => join(dirname(path), f));
}

function refusal(code: string, pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof AuditError, `expected an AuditError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    assert.doesNotMatch(err.message, /move the (damaged|whole) file aside/);
    return true;
  };
}

describe('AuditLog.prepare', () => {
  test('reports nothing when the file and the database agree', (t) => {
    const { log, path } = projectWith(t, 3);
    assert.deepEqual(log.prepare(), { findings: [], seq: 3 });
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 3 });
  });

  test('catches the file up after a crash between a commit and its flush', (t) => {
    const { dir, log, db, path, original } = projectWith(t, 2);
    log.append(auditEvent({ approval_id: 'committed-not-flushed' }));
    db.close(); // the process dies before flushing
    const restarted = openLog(t, dir);
    const report = restarted.log.prepare();
    assert.equal(report.findings.length, 1);
    assert.equal(report.findings[0]!.code, 'audit_caught_up');
    assert.match(report.findings[0]!.message, /records 3 were committed/);
    assert.deepEqual(fileLines(path).slice(0, 2), original);
    assert.equal(parsed(fileLines(path)[2]!).approval_id, 'committed-not-flushed');
    assert.equal(restarted.store.head()!.flushedSeq, 3);
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 3 });
  });

  test('cuts a torn last line, saves it aside, records the repair and keeps every earlier record', (t) => {
    const { dir, log, db, store, path, original } = projectWith(t, 3);
    // Power loss half way through flushing seq 4: half its line reached the disk.
    log.append(auditEvent({ approval_id: 'apr-4' }));
    const torn = store.record(4)!.line.slice(0, 50);
    appendFileSync(path, torn);
    db.close();

    const restarted = openLog(t, dir, { now: fixedNow });
    const { findings } = restarted.log.prepare();
    const repaired = findings.find((f) => f.code === 'audit_repaired');
    assert.ok(repaired, 'the cut is reported');
    assert.match(repaired.message, /50 bytes/);
    const [saved] = asideFiles(path, 'torn');
    assert.ok(saved !== undefined && repaired.message.includes(saved), 'the message names the saved file');
    assert.equal(readFileSync(saved, 'utf8'), torn, 'exactly the torn bytes were saved');

    const lines = fileLines(path);
    assert.deepEqual(lines.slice(0, 3), original, 'earlier records untouched');
    assert.equal(parsed(lines[3]!).approval_id, 'apr-4', 'the torn record is written again from the database');
    const repair = parsed(lines[4]!);
    assert.equal(repair.event, 'audit_repaired');
    assert.equal(repair.seq, 5);
    assert.equal(repair.removed_bytes, 50);
    assert.equal(repair.after_seq, 3);
    assert.equal(repair.saved_to, basename(saved));
    assert.equal(repaired.seq, 5);
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 5 });
  });

  test('cuts a complete last line that is not a record (zeros left by a power loss)', (t) => {
    const { log, path, original } = projectWith(t, 2);
    appendFileSync(path, `${'\u0000'.repeat(40)}\n`);
    const { findings } = log.prepare();
    assert.deepEqual(findings.map((f) => f.code), ['audit_repaired']);
    assert.deepEqual(fileLines(path).slice(0, 2), original);
    assert.equal(parsed(fileLines(path)[2]!).event, 'audit_repaired');
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 3 });
  });

  test('names the records cut off the end, changes nothing, and with acceptGap restores them byte for byte', (t) => {
    const { log, store, path, original } = projectWith(t, 5);
    writeFileSync(path, `${original.slice(0, 3).join('\n')}\n`);
    assert.throws(() => log.prepare(), refusal('audit_tail_missing', /ends at seq 3.*records 4\.\.5 were cut off.*--accept-audit-gap/));
    assert.equal(fileLines(path).length, 3, 'a refusal changes nothing');
    assert.equal(store.head()!.seq, 5);

    const { findings } = log.prepare({ acceptGap: true });
    assert.deepEqual(findings.map((f) => f.code), ['audit_gap']);
    const lines = fileLines(path);
    assert.deepEqual(lines.slice(0, 5), original, 'restored lines are byte-identical');
    const gap = parsed(lines[5]!);
    assert.equal(gap.event, 'audit_gap');
    assert.equal(gap.problem, 'audit_tail_missing');
    assert.equal(gap.from_seq, 4);
    assert.equal(gap.to_seq, 5);
    assert.equal(gap.accepted_by_operator, true);
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 6 });
  });

  test('names a deleted file and with acceptGap rewrites it from the database', (t) => {
    const { log, path, original } = projectWith(t, 3);
    rmSync(path);
    assert.throws(() => log.prepare(), refusal('audit_file_missing', /is missing.*records 1\.\.3 were already written/));
    assert.equal(existsSync(path), false);
    log.prepare({ acceptGap: true });
    const lines = fileLines(path);
    assert.deepEqual(lines.slice(0, 3), original);
    assert.equal(parsed(lines[3]!).problem, 'audit_file_missing');
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 4 });
  });

  test('names a replaced file and with acceptGap moves it aside and rebuilds the log from the database', (t) => {
    const { log, path, original } = projectWith(t, 3);
    const other = openLog(t, tempDir(t)); // a valid chain, but not this project's
    for (let i = 1; i <= 3; i++) other.log.append(auditEvent({ approval_id: `other-${i}` }));
    other.log.flush();
    writeFileSync(path, readFileSync(other.path));
    assert.throws(() => log.prepare(), refusal('audit_replaced', /line 1 differs from the record the state database committed at seq 1/));

    const { findings } = log.prepare({ acceptGap: true });
    const [aside] = asideFiles(path, 'replaced');
    assert.ok(aside !== undefined);
    assert.equal(readFileSync(aside, 'utf8'), readFileSync(other.path, 'utf8'), 'the replaced file is kept, whole');
    assert.ok(findings[0]!.message.includes(aside));
    const lines = fileLines(path);
    assert.deepEqual(lines.slice(0, 3), original);
    const gap = parsed(lines[3]!);
    assert.equal(gap.problem, 'audit_replaced');
    assert.equal(gap.moved_aside_to, basename(aside));
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 4 });
  });

  test('names a file ahead of a database restored from an older backup', (t) => {
    const { dir, log, db, path } = projectWith(t, 3);
    const backupDir = join(dir, 'old-state');
    mkdirSync(backupDir);
    db.exec(`VACUUM INTO '${join(backupDir, 'mithai.db')}'`);
    log.append(auditEvent());
    log.append(auditEvent());
    log.flush();
    const fileBefore = readFileSync(path, 'utf8');

    const restored = openDatabase(backupDir);
    t.after(() => restored.close());
    const stale = AuditLog.open(path, { redactor: new Redactor(), store: new AuditStore(restored), now: fixedNow });
    assert.throws(() => stale.prepare(), refusal('audit_ahead', /records up to seq 5.*only knows records up to seq 3: records 4\.\.5 were never committed/));
    assert.equal(readFileSync(path, 'utf8'), fileBefore);

    stale.prepare({ acceptGap: true });
    const [aside] = asideFiles(path, 'ahead');
    assert.equal(readFileSync(aside!, 'utf8'), fileBefore);
    const gap = parsed(fileLines(path)[3]!);
    assert.equal(gap.problem, 'audit_ahead');
    assert.equal(gap.from_seq, 4);
    assert.equal(gap.to_seq, 5);
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 4 });
  });

  test('imports a file written before the database kept the chain, and continues it', (t) => {
    const old = projectWith(t, 4);
    const dir = tempDir(t);
    const fresh = openLog(t, dir);
    mkdirSync(dirname(fresh.path), { recursive: true });
    writeFileSync(fresh.path, readFileSync(old.path));
    const { findings } = fresh.log.prepare();
    assert.deepEqual(findings.map((f) => f.code), ['audit_imported']);
    assert.deepEqual(fresh.store.head(), { seq: 4, hash: parsed(old.original[3]!).hash, flushedSeq: 4 });
    assert.equal(fresh.store.record(2)!.line, old.original[1]);
    const next = fresh.log.append(auditEvent());
    fresh.log.flush();
    assert.equal(next.seq, 5);
    assert.equal(next.prev_hash, parsed(old.original[3]!).hash);
    assert.deepEqual(verifyAuditLog(fresh.path), { ok: true, records: 5 });
  });

  test('imports an old file with a torn tail after cutting only the torn bytes', (t) => {
    const old = projectWith(t, 2);
    const fresh = openLog(t, tempDir(t));
    mkdirSync(dirname(fresh.path), { recursive: true });
    writeFileSync(fresh.path, `${readFileSync(old.path, 'utf8')}{"v":1,"seq":3,"ti`);
    const { findings } = fresh.log.prepare();
    assert.deepEqual(findings.map((f) => f.code), ['audit_imported', 'audit_repaired']);
    assert.deepEqual(fileLines(fresh.path).slice(0, 2), old.original);
    assert.deepEqual(verifyAuditLog(fresh.path), { ok: true, records: 3 });
  });

  test('refuses to import an old file whose chain is broken, naming the line', (t) => {
    const old = projectWith(t, 3);
    const fresh = openLog(t, tempDir(t));
    mkdirSync(dirname(fresh.path), { recursive: true });
    const lines = [...old.original];
    lines[1] = lines[1]!.replace('"decision":"approved"', '"decision":"denied"');
    writeFileSync(fresh.path, `${lines.join('\n')}\n`);
    assert.throws(() => fresh.log.prepare({ acceptGap: true }), refusal('audit_corrupt', /line 2 is not a valid record.*will not adopt/));
    assert.equal(fresh.store.count(), 0);
  });
});

describe('AuditLog.repairTornTail', () => {
  test('cuts only the torn bytes and records the repair; flush then writes it', (t) => {
    const { log, path, original } = projectWith(t, 2);
    appendFileSync(path, '{"v":1,"se');
    const cut = log.repairTornTail();
    assert.ok(cut);
    assert.equal(cut.removedBytes, 10);
    assert.equal(cut.afterSeq, 2);
    assert.equal(readFileSync(cut.savedTo, 'utf8'), '{"v":1,"se');
    log.flush();
    assert.deepEqual(fileLines(path).slice(0, 2), original);
    assert.equal(parsed(fileLines(path)[2]!).event, 'audit_repaired');
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 3 });
  });

  test('returns null and changes nothing when the last line is intact', (t) => {
    const { log, store, path } = projectWith(t, 2);
    const before = readFileSync(path, 'utf8');
    assert.equal(log.repairTornTail(), null);
    assert.equal(readFileSync(path, 'utf8'), before);
    assert.equal(store.count(), 2);
  });
});
