import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyAuditLog } from '../../src/audit/verify-audit-log.ts';
import { computeRecordHash, GENESIS_HASH } from '../../src/audit/audit-chain.ts';
import { auditEvent, openLog, tempDir } from './audit-fixtures.ts';
import type { TestContext } from 'node:test';

/** A log of `n` records; returns its path and its lines (without trailing newline). */
function logWith(t: TestContext, n: number): { path: string; lines: string[] } {
  const { log, path } = openLog(t, tempDir(t));
  for (let i = 1; i <= n; i++) log.append(auditEvent({ approval_id: `apr-${i}`, input: { step: i } }));
  log.flush();
  return { path, lines: readFileSync(path, 'utf8').trimEnd().split('\n') };
}

function rewrite(path: string, lines: string[]): void {
  writeFileSync(path, `${lines.join('\n')}\n`);
}

// The chain's job is to make tampering visible and to point at where it starts: each case
// below damages a valid 5-record log one way and expects the first bad line to be named.
describe('verifyAuditLog', () => {
  test('accepts a missing file as an empty log', (t) => {
    assert.deepEqual(verifyAuditLog(join(tempDir(t), 'nope.json')), { ok: true, records: 0 });
  });

  test('accepts an empty file as an empty log', (t) => {
    const path = join(tempDir(t), 'approvals.json');
    writeFileSync(path, '');
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 0 });
  });

  test('accepts an untouched log and counts its records', (t) => {
    const { path } = logWith(t, 5);
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 5 });
  });

  test('names an edited line (hash mismatch)', (t) => {
    const { path, lines } = logWith(t, 5);
    lines[2] = lines[2]!.replace('"decision":"approved"', '"decision":"denied"');
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.equal(result.ok, false);
    assert.ok(!result.ok);
    assert.equal(result.line, 3);
    assert.equal(result.records, 2);
    assert.match(result.reason, /hash does not match.*edited/);
  });

  test('names the line after an edited record whose hash was recomputed (prev_hash mismatch)', (t) => {
    const { path, lines } = logWith(t, 5);
    const record = JSON.parse(lines[1]!) as Record<string, unknown>;
    record.hash = 'a'.repeat(64);
    lines[1] = JSON.stringify(record);
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.ok(!result.ok);
    assert.equal(result.line, 2, 'the forged hash itself does not match the contents');
  });

  test('names the line where a removed record is missing', (t) => {
    const { path, lines } = logWith(t, 5);
    lines.splice(2, 1);
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.ok(!result.ok);
    assert.equal(result.line, 3);
    assert.match(result.reason, /seq 4 where 3 was expected: a record before this line was removed/);
  });

  test('names line 1 when the first record was removed', (t) => {
    const { path, lines } = logWith(t, 5);
    rewrite(path, lines.slice(1));
    const result = verifyAuditLog(path);
    assert.ok(!result.ok);
    assert.equal(result.line, 1);
    assert.equal(result.records, 0);
  });

  test('names the first of two reordered lines', (t) => {
    const { path, lines } = logWith(t, 5);
    [lines[3], lines[4]] = [lines[4]!, lines[3]!];
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.ok(!result.ok);
    assert.equal(result.line, 4);
    assert.match(result.reason, /seq 5 where 4 was expected/);
  });

  test('names a duplicated line', (t) => {
    const { path, lines } = logWith(t, 3);
    lines.splice(2, 0, lines[1]!);
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.ok(!result.ok);
    assert.equal(result.line, 3);
    assert.match(result.reason, /reordered or duplicated/);
  });

  test('names an unparsable line', (t) => {
    const { path, lines } = logWith(t, 5);
    lines[3] = lines[3]!.slice(0, 40);
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.ok(!result.ok);
    assert.equal(result.line, 4);
    assert.match(result.reason, /not valid JSON/);
  });

  test('names an empty line in the middle', (t) => {
    const { path, lines } = logWith(t, 3);
    lines.splice(1, 0, '');
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.ok(!result.ok);
    assert.equal(result.line, 2);
  });

  test('names a record of an unknown version', (t) => {
    const { path, lines } = logWith(t, 2);
    lines[1] = lines[1]!.replace('"v":2', '"v":3');
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.ok(!result.ok);
    assert.equal(result.line, 2);
    assert.match(result.reason, /unknown record version 3/);
  });

  test('names a last line written without its newline', (t) => {
    const { path, lines } = logWith(t, 2);
    writeFileSync(path, lines.join('\n'));
    const result = verifyAuditLog(path);
    assert.ok(!result.ok);
    assert.equal(result.line, 2);
    assert.equal(result.records, 1);
    assert.match(result.reason, /no newline/);
  });

  test('tells how to cut a torn last line without giving up the rest of the file', (t) => {
    const { path, lines } = logWith(t, 2);
    for (const text of [lines.join('\n'), `${lines[0]}\n{"v":1,"seq":2,"tr\n`]) {
      writeFileSync(path, text);
      const result = verifyAuditLog(path);
      assert.ok(!result.ok);
      assert.equal(result.line, 2);
      assert.match(result.reason, /`mithai audit repair` cuts only the torn bytes/);
      assert.doesNotMatch(result.reason, /aside/);
    }
  });

  test('does not call an unparsable line in the middle torn', (t) => {
    const { path, lines } = logWith(t, 3);
    lines[1] = '{"v":1,"seq":2,"tr';
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.ok(!result.ok);
    assert.equal(result.line, 2);
    assert.doesNotMatch(result.reason, /audit repair/);
  });
});

/*
 * Logs written before lines were canonical JSON (record version 1) keep verifying: their one
 * byte form is JSON.stringify in the writer's key order, so a rewritten old line still fails.
 */
describe('verifyAuditLog on version 1 (pre-canonical) lines', () => {
  const legacyLog = (count: number): string[] => {
    const out: string[] = [];
    let prev = GENESIS_HASH;
    for (let seq = 1; seq <= count; seq++) {
      const unsigned = { v: 1, seq, time: '2026-01-01T00:00:00.000Z', event: 'decision', approval_id: `a${seq}`, call_id: `c${seq}`, session: 's', requester: 'U1', decider: 'U1', tool: 't__x', level: 'approve', level_reason: 'declared', decision: 'approved', fingerprint: 'f', input: { z: 1, a: { y: 2, b: 3 } }, status: 'pending', reason: null, prev_hash: prev };
      const record = { ...unsigned, hash: computeRecordHash(unsigned) };
      out.push(JSON.stringify(record));
      prev = record.hash;
    }
    return out;
  };

  test('an untouched old log verifies', (t) => {
    const path = join(tempDir(t), 'approvals.json');
    writeFileSync(path, `${legacyLog(3).join('\n')}\n`);
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 3 });
  });

  test('an old line rewritten without changing its record (whitespace, escapes, duplicate keys) fails', (t) => {
    const path = join(tempDir(t), 'approvals.json');
    for (const mutate of [(l: string) => l.replace('"seq":2', '"seq": 2'), (l: string) => l.replace('"t__x"', '"t\\u005f_x"'), (l: string) => l.replace('{"v":1,', '{"v":1,"v":1,')]) {
      const lines = legacyLog(3);
      lines[1] = mutate(lines[1]!);
      writeFileSync(path, `${lines.join('\n')}\n`);
      const result = verifyAuditLog(path);
      assert.ok(!result.ok, `mutation ${mutate.toString()} was caught`);
      assert.equal(result.line, 2);
    }
  });
});
