/**
 * An audit line verifies as bytes, not as a parse: every line must be exactly the bytes the
 * appender writes for its record (`recordLine`, the canonical JSON of the whole record). Each
 * mutation below keeps the record the same (same parse, same hash) and changes only bytes; the
 * verifier, the start-up check, the flush and the cross-check must all call it damaged.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TestContext } from 'node:test';
import { AuditError } from '../../src/errors.ts';
import { readAuditFile } from '../../src/audit/audit-log.ts';
import { computeRecordHash, lineMismatch, parseRecordLine, recordLine } from '../../src/audit/audit-chain.ts';
import { canonicalJson } from '../../src/audit/canonical-json.ts';
import { crossCheckAudit } from '../../src/audit/cross-check.ts';
import { verifyAuditLog } from '../../src/audit/verify-audit-log.ts';
import { auditEvent, fileLines, openLog, tempDir } from './audit-fixtures.ts';

const N = 5;

/** A flushed log of N records whose fields give every mutation something to work on. */
function validLog(t: TestContext, dir = tempDir(t)) {
  const opened = openLog(t, dir, { now: () => new Date('2026-01-02T03:04:05.000Z') });
  for (let i = 1; i <= N; i++) {
    opened.log.append(
      auditEvent({
        approval_id: `apr-${i}`,
        input: { count: 1, zero: 0, ratio: 0.5, big: 1e21, name: 'café/α', nested: { b: 2, a: [1, { y: 'x', x: 'y' }] } },
        reason: `r\u00e9sum\u00e9 \ufffd ${i}`,
      }),
    );
  }
  opened.log.flush();
  return { ...opened, lines: fileLines(opened.path) };
}

/** Replace the first occurrence of `from` (which must be there). */
function sub(line: string, from: string, to: string): string {
  assert.ok(line.includes(from), `${from} is not in ${line}`);
  return line.replace(from, () => to);
}

/** Top-level keys reversed, values untouched. */
function reversedKeys(line: string): string {
  const record = JSON.parse(line) as Record<string, unknown>;
  return `{${Object.keys(record).reverse().map((k) => `${JSON.stringify(k)}:${canonicalJson(record[k])}`).join(',')}}`;
}

/** A mutation: new text for a line that must parse to the same record. */
interface Mutation {
  name: string;
  apply(line: string): string;
  /** What the verifier's reason must say. */
  reason: RegExp;
}

const NOT_CANONICAL = /not the canonical form/;

const MUTATIONS: Mutation[] = [
  { name: 'duplicate key, same value', apply: (l) => sub(l, '{', '{"tool":"ops__restart",'), reason: NOT_CANONICAL },
  { name: 'duplicate key, different value (the last wins)', apply: (l) => sub(l, '{', '{"decision":"denied",'), reason: NOT_CANONICAL },
  { name: 'duplicate hash key (the last, real one wins)', apply: (l) => sub(l, '{', `{"hash":"${'0'.repeat(64)}",`), reason: NOT_CANONICAL },
  { name: 'duplicate key inside a nested object', apply: (l) => sub(l, '"count":1', '"count":7,"count":1'), reason: NOT_CANONICAL },
  { name: 'top-level keys reordered', apply: reversedKeys, reason: /keys are not in canonical \(sorted\) order/ },
  { name: 'nested keys reordered', apply: (l) => sub(l, '{"x":"y","y":"x"}', '{"y":"x","x":"y"}'), reason: /keys are not in canonical/ },
  { name: 'whitespace after a colon', apply: (l) => sub(l, '"tool":', '"tool": '), reason: NOT_CANONICAL },
  { name: 'whitespace after a comma', apply: (l) => sub(l, ',"tool"', ', "tool"'), reason: NOT_CANONICAL },
  { name: 'newline-free whitespace inside an array', apply: (l) => sub(l, '[1,', '[ 1 ,\t'), reason: NOT_CANONICAL },
  { name: 'a space before the record', apply: (l) => ` ${l}`, reason: /whitespace before or after/ },
  { name: 'a tab before the record', apply: (l) => `\t${l}`, reason: /whitespace before or after/ },
  { name: 'a trailing space', apply: (l) => `${l} `, reason: /whitespace before or after/ },
  { name: 'CRLF line ending', apply: (l) => `${l}\r`, reason: /carriage return/ },
  { name: 'number 1 as 1.0', apply: (l) => sub(l, '"count":1', '"count":1.0'), reason: NOT_CANONICAL },
  { name: 'number 1 as 1e0', apply: (l) => sub(l, '"count":1', '"count":1e0'), reason: NOT_CANONICAL },
  { name: 'number 1 as 10E-1', apply: (l) => sub(l, '"count":1', '"count":10E-1'), reason: NOT_CANONICAL },
  { name: 'number 0 as -0', apply: (l) => sub(l, '"zero":0', '"zero":-0'), reason: NOT_CANONICAL },
  { name: 'number 0.5 as 5e-1', apply: (l) => sub(l, '"ratio":0.5', '"ratio":5e-1'), reason: NOT_CANONICAL },
  { name: 'number 1e21 as 1000000000000000000000', apply: (l) => sub(l, '"big":1e+21', '"big":1000000000000000000000'), reason: NOT_CANONICAL },
  { name: 'seq as 3.0-style float', apply: (l) => l.replace(/"seq":(\d+)/, '"seq":$1.0'), reason: NOT_CANONICAL },
  { name: 'escape \\u0061 for a', apply: (l) => sub(l, '"apr-', '"\\u0061pr-'), reason: NOT_CANONICAL },
  { name: 'escape in a key', apply: (l) => sub(l, '"tool":', '"\\u0074ool":'), reason: NOT_CANONICAL },
  { name: 'escape \\/ for /', apply: (l) => sub(l, 'café/α', 'café\\/α'), reason: NOT_CANONICAL },
  { name: 'escape \\u00e9 for é', apply: (l) => sub(l, 'café', 'caf\\u00e9'), reason: NOT_CANONICAL },
  { name: 'escape \\u00E9 (upper-case hex) for é', apply: (l) => sub(l, 'café', 'caf\\u00E9'), reason: NOT_CANONICAL },
  { name: 'escape \\ufffd for U+FFFD', apply: (l) => sub(l, '\ufffd', '\\ufffd'), reason: NOT_CANONICAL },
];

/** Same record: the mutated line parses (ignoring a BOM) to what the original encodes. */
function assertSameRecord(original: string, mutated: string): void {
  assert.notEqual(mutated, original);
  const parsed = parseRecordLine(mutated);
  assert.ok(parsed.ok, `the mutation must still parse as a record: ${mutated}`);
  assert.equal(canonicalJson(parsed.record), original, 'the mutation must not change the record');
  assert.equal(computeRecordHash(parsed.record), parsed.record.hash, 'the hash alone cannot see the mutation');
}

function write(path: string, lines: readonly string[]): void {
  writeFileSync(path, `${lines.join('\n')}\n`);
}

function refused(code: string, pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof AuditError, `expected an AuditError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  };
}

describe('the canonical line', () => {
  test('the appender writes recordLine of each record, and an untouched log verifies', (t) => {
    const { path, lines, store } = validLog(t);
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: N });
    lines.forEach((line, i) => {
      const parsed = parseRecordLine(line);
      assert.ok(parsed.ok);
      assert.equal(recordLine(parsed.record), line);
      assert.equal(lineMismatch(line, parsed.record), undefined);
      assert.equal(store.record(i + 1)!.line, line, 'the database holds the same bytes');
    });
    assert.equal(lines[0]!.slice(0, 12), '{"approval_i', 'keys sorted, hash included');
  });

  test('recordLine is a fixed point of parse and re-encode', (t) => {
    for (const line of validLog(t).lines) assert.equal(recordLine(JSON.parse(line) as object), line);
  });
});

describe('verifyAuditLog: a line that parses to the same record but has other bytes fails, naming it', () => {
  for (const mutation of MUTATIONS) {
    test(mutation.name, (t) => {
      const { path, lines } = validLog(t);
      // Property: whichever line is mutated (first, middle, last), that line is named and
      // every line before it verified.
      for (let target = 0; target < N; target++) {
        const mutated = [...lines];
        mutated[target] = mutation.apply(lines[target]!);
        assertSameRecord(lines[target]!, mutated[target]!);
        write(path, mutated);
        const result = verifyAuditLog(path);
        assert.ok(!result.ok, `line ${target + 1} mutated by "${mutation.name}" verified`);
        assert.equal(result.line, target + 1);
        assert.equal(result.records, target);
        assert.match(result.reason, mutation.reason);
        assert.doesNotMatch(result.reason, /audit repair/, 'a rewritten line is not a torn write');
      }
      write(path, lines);
      assert.deepEqual(verifyAuditLog(path), { ok: true, records: N });
    });
  }

  test('a BOM at the start of the file names line 1', (t) => {
    const { path, lines } = validLog(t);
    assertSameRecord(lines[0]!, `\ufeff${lines[0]}`);
    writeFileSync(path, `\ufeff${lines.join('\n')}\n`);
    const result = verifyAuditLog(path);
    assert.ok(!result.ok);
    assert.equal(result.line, 1);
    assert.equal(result.records, 0);
    assert.match(result.reason, /byte order mark/);
  });

  test('a BOM on a one-line file is damage, not a torn write', (t) => {
    const { path, lines } = validLog(t);
    writeFileSync(path, `\ufeff${lines[0]}\n`);
    const result = verifyAuditLog(path);
    assert.ok(!result.ok);
    assert.equal(result.line, 1);
    assert.match(result.reason, /byte order mark/);
    assert.doesNotMatch(result.reason, /audit repair/);
  });

  test('CRLF endings on every line name line 1', (t) => {
    const { path, lines } = validLog(t);
    writeFileSync(path, `${lines.join('\r\n')}\r\n`);
    const result = verifyAuditLog(path);
    assert.ok(!result.ok);
    assert.equal(result.line, 1);
    assert.match(result.reason, /carriage return/);
  });

  test('bytes that are not valid UTF-8 (decoding to the same U+FFFD) name the line', (t) => {
    const { path, lines } = validLog(t);
    for (const target of [0, 2, N - 1]) {
      const bytes = lines.map((l) => Buffer.from(`${l}\n`, 'utf8'));
      const fffd = Buffer.from('\ufffd', 'utf8');
      const at = bytes[target]!.indexOf(fffd);
      assert.ok(at > 0);
      bytes[target] = Buffer.concat([bytes[target]!.subarray(0, at), Buffer.from([0xff]), bytes[target]!.subarray(at + fffd.length)]);
      assert.equal(bytes[target]!.toString('utf8'), `${lines[target]}\n`, 'decodes to the very same text');
      writeFileSync(path, Buffer.concat(bytes));
      const result = verifyAuditLog(path);
      assert.ok(!result.ok);
      assert.equal(result.line, target + 1);
      assert.equal(result.records, target);
      assert.match(result.reason, /not valid UTF-8/);
    }
  });

  test('an edit that changes the record is still reported as an edit first', (t) => {
    const { path, lines } = validLog(t);
    lines[2] = sub(lines[2]!, '"decision":"approved"', '"decision": "denied"');
    write(path, lines);
    const result = verifyAuditLog(path);
    assert.ok(!result.ok);
    assert.equal(result.line, 3);
    assert.match(result.reason, /hash does not match/);
  });
});

describe('the start-up check and the cross-check treat a rewritten line as replaced', () => {
  // The middle and the last line: the last is where a torn write would be, and a line that
  // is a complete record in other bytes must not be mistaken for one (and silently cut).
  for (const mutation of MUTATIONS) {
    test(mutation.name, (t) => {
      for (const target of [2, N - 1]) {
        const dir = tempDir(t);
        const { path, lines, store, db } = validLog(t, dir);
        const mutated = [...lines];
        mutated[target] = mutation.apply(lines[target]!);
        write(path, mutated);
        const before = readFileSync(path);

        const check = crossCheckAudit(readAuditFile(path), store, []);
        assert.deepEqual(check.problems.map((p) => [p.code, p.seq]), [['audit_replaced', target + 1]]);

        const reopened = openLog(t, dir);
        assert.throws(() => reopened.log.prepare(), refused('audit_replaced', new RegExp(`line ${target + 1} differs`)));
        assert.ok(readFileSync(path).equals(before), 'a refusal changes nothing');
        let records = N;
        if (target === N - 1) {
          reopened.log.append(auditEvent({ approval_id: 'after' }));
          records++;
          assert.throws(() => reopened.log.flush(), refused('audit_replaced', /last line/), 'nothing is appended after a rewritten last line');
          assert.ok(readFileSync(path).equals(before));
        }
        // The operator accepts: the file is moved aside and rebuilt with the canonical bytes.
        const report = reopened.log.prepare({ acceptGap: true });
        assert.deepEqual(report.findings.map((f) => f.code), ['audit_gap']);
        assert.deepEqual(fileLines(path).slice(0, N), lines);
        assert.deepEqual(verifyAuditLog(path), { ok: true, records: records + 1 });
        db.close();
      }
    });
  }

  test('a BOM at file start, CRLF endings and invalid UTF-8 are replaced lines too', (t) => {
    const variants: Array<[string, (lines: string[]) => Buffer, number]> = [
      ['BOM', (lines) => Buffer.from(`\ufeff${lines.join('\n')}\n`, 'utf8'), 1],
      ['CRLF', (lines) => Buffer.from(`${lines.join('\r\n')}\r\n`, 'utf8'), 1],
      [
        'invalid UTF-8 on the last line',
        (lines) => {
          const text = Buffer.from(`${lines.join('\n')}\n`, 'utf8');
          const at = text.lastIndexOf(Buffer.from('\ufffd', 'utf8'));
          return Buffer.concat([text.subarray(0, at), Buffer.from([0xff]), text.subarray(at + 3)]);
        },
        N,
      ],
    ];
    for (const [name, build, line] of variants) {
      const dir = tempDir(t);
      const { path, lines, store, db } = validLog(t, dir);
      writeFileSync(path, build(lines));
      const check = crossCheckAudit(readAuditFile(path), store, []);
      assert.equal(check.ok, false, name);
      assert.equal(check.problems[0]!.seq, line, name);
      assert.equal(check.problems[0]!.code, name.startsWith('invalid') ? 'audit_tail_missing' : 'audit_replaced', name);
      const reopened = openLog(t, dir);
      let records = N + 1;
      if (name.startsWith('invalid')) {
        // Not any record's bytes, so as the last line it is no record at all: a flushed record
        // missing from the end, refused like any other; accepted, it is cut (saved aside) and
        // the database's canonical line is written back.
        assert.throws(() => reopened.log.prepare(), refused('audit_tail_missing', new RegExp(`records ${line} were cut off`)), name);
        const report = reopened.log.prepare({ acceptGap: true });
        assert.deepEqual(report.findings.map((f) => f.code), ['audit_repaired', 'audit_gap'], name);
        records++;
      } else {
        assert.throws(() => reopened.log.prepare(), refused('audit_replaced', new RegExp(`line ${line} differs`)), name);
        reopened.log.prepare({ acceptGap: true });
      }
      assert.deepEqual(fileLines(path).slice(0, N), lines, name);
      assert.deepEqual(verifyAuditLog(path), { ok: true, records }, name);
      db.close();
    }
  });

  test('a file to import (no chain in the database yet) with a rewritten line is refused, naming it', (t) => {
    const { lines } = validLog(t);
    for (const mutation of MUTATIONS) {
      const fresh = openLog(t, tempDir(t));
      mkdirSync(dirname(fresh.path), { recursive: true });
      const mutated = [...lines];
      mutated[1] = mutation.apply(lines[1]!);
      write(fresh.path, mutated);
      assert.throws(() => fresh.log.prepare({ acceptGap: true }), refused('audit_corrupt', /line 2 is not a valid record/), mutation.name);
      assert.equal(fresh.store.count(), 0, mutation.name);
      fresh.db.close();
    }
  });
});
