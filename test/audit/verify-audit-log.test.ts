import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyAuditLog } from '../../src/audit/verify-audit-log.ts';
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
    lines[1] = lines[1]!.replace('"v":1', '"v":2');
    rewrite(path, lines);
    const result = verifyAuditLog(path);
    assert.ok(!result.ok);
    assert.equal(result.line, 2);
    assert.match(result.reason, /unknown record version 2/);
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
