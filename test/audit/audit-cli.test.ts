/**
 * `mithai audit verify` and `mithai audit repair` as an operator runs them: the real CLI
 * (bin/mithai.js → main()) in a child process, so its stdout and stderr are captured rather
 * than mixed into the test runner's.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { verifyAuditLog } from '../../src/audit/verify-audit-log.ts';
import { auditEvent, fileLines, openLog, tempDir } from './audit-fixtures.ts';
import { runProcess, type ProcessResult } from '../fixtures/run-process.ts';

const BIN = fileURLToPath(new URL('../../bin/mithai.js', import.meta.url));

function mithai(args: string[]): Promise<ProcessResult> {
  return runProcess(process.execPath, [BIN, ...args]);
}

/** A project (config.yaml, state in ./state, memory in ./memory) with `n` flushed records. */
function project(t: TestContext, n: number) {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'config.yaml'), 'state: { path: ./state }\n');
  const opened = openLog(t, dir);
  for (let i = 1; i <= n; i++) opened.log.append(auditEvent({ approval_id: `toolu_${i}`, event: 'decision', decision: 'auto', status: 'executing' }));
  opened.log.flush();
  return { dir, config: join(dir, 'config.yaml'), ...opened };
}

// Each CLI start costs seconds (tsx compiles the CLI), so the cases run side by side.
describe('mithai audit verify', { concurrency: true }, () => {
  test('prints OK with the file and database counts when everything agrees', async (t) => {
    const { config, path, log } = project(t, 3);
    log.append(auditEvent({ approval_id: 'toolu_4', decision: 'auto' }));
    const run = await mithai(['audit', 'verify', '--config', config]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stderr, '');
    assert.equal(run.stdout, `OK: ${path}: 3 records, chain intact; state database ${join(config, '..', 'state', 'mithai.db')}: 4 records (1 not yet written to the file), 0 approvals checked\n`);
  });

  test('names each problem on its own line and exits 1', async (t) => {
    const { config, path } = project(t, 4);
    writeFileSync(path, `${fileLines(path).slice(0, 2).join('\n')}\n{"v":1,"seq":3,"tr`);
    const run = await mithai(['audit', 'verify', '--config', config]);
    assert.equal(run.code, 1);
    assert.equal(run.stdout, '');
    const lines = run.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, run.stderr);
    assert.match(lines[0]!, /line 3: the last line has no newline.*`mithai audit repair` cuts only the torn bytes/);
    assert.match(lines[1]!, /records 3\.\.4 are missing from its end \[audit_tail_missing\]/);
  });

  test('checks the chain alone when there is no state database yet', async (t) => {
    const source = project(t, 2);
    const dir = tempDir(t);
    writeFileSync(join(dir, 'config.yaml'), '');
    mkdirSync(join(dir, 'memory'));
    writeFileSync(join(dir, 'memory', 'approvals.json'), readFileSync(source.path));
    const run = await mithai(['audit', 'verify', '--config', join(dir, 'config.yaml')]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^OK: .*: 2 records, chain intact; no state database at .*, so the file was not cross-checked\n$/);
    assert.equal(existsSync(join(dir, '.mithai')), false, 'verify does not create a database');
  });
});

describe('mithai audit repair', { concurrency: true }, () => {
  test('cuts the torn bytes, says what it removed and where it saved them, and the chain verifies', async (t) => {
    const { config, path } = project(t, 2);
    const original = fileLines(path);
    appendFileSync(path, '{"v":1,"seq":3,"ti');
    const run = await mithai(['audit', 'repair', '--config', config]);
    assert.equal(run.code, 0, run.stderr);
    const match = /^repaired (.+): removed 18 bytes at byte (\d+) \(after seq 2\); saved them to (.+); recorded as seq 3 \(audit_repaired\)\n$/.exec(run.stdout);
    assert.ok(match, run.stdout);
    assert.equal(match[1], path);
    assert.equal(readFileSync(match[3]!, 'utf8'), '{"v":1,"seq":3,"ti');
    assert.deepEqual(fileLines(path).slice(0, 2), original);
    assert.deepEqual(verifyAuditLog(path), { ok: true, records: 3 });
    const verify = await mithai(['audit', 'verify', '--config', config]);
    assert.equal(verify.code, 0, verify.stderr);
  });

  test('says there is nothing to repair when the last line is intact', async (t) => {
    const { config, path } = project(t, 2);
    const before = readFileSync(path, 'utf8');
    const run = await mithai(['audit', 'repair', '--config', config]);
    assert.equal(run.code, 0, run.stderr);
    assert.equal(run.stdout, `nothing to repair: ${path} does not end with a torn line\n`);
    assert.equal(readFileSync(path, 'utf8'), before);
  });
});
