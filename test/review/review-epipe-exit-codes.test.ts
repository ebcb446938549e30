/**
 * Review finding: src/cli/closed-pipe.ts turns EPIPE on stdout or stderr into `process.exit(0)`,
 * whatever the command had found or done so far. A command that failed therefore reports
 * success when its reader has gone away, and a command that was half way through a gated call
 * ends without the clean-up it does on every other exit:
 * - `mithai doctor` (the documented deploy gate) with a broken audit chain exits 0;
 * - `mithai approvals approve` of an approval that does not exist exits 0;
 * - `mithai skill run` of a gated tool exits 0 (documented as "the tool ran and succeeded")
 *   although nothing ran, and leaves its approval pending in the state database (abandonRun,
 *   which cancels it on every other way out, never runs), so a later `mithai approvals
 *   approve` can still approve a call that belongs to no running process.
 *
 * What must hold: a closed pipe ends output quietly, but the exit code is the command's own
 * (non-zero for a failure), and the command's own clean-up still runs.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ApprovalStore } from '../../src/state/approval-store.ts';
import { openDatabase } from '../../src/state/database.ts';
import { BIN, makeProject } from '../e2e/chat-harness.ts';
import type { Project } from '../e2e/chat-harness.ts';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Run `mithai args`; `close` names the pipes whose reader is gone before the first byte. */
function run(project: Project, args: string[], close: Array<'stdout' | 'stderr'>, stdin = ''): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, MITHAI_TEST_EFFECTS_DIR: project.dir };
    delete env.ANTHROPIC_API_KEY;
    delete env.ANTHROPIC_BASE_URL;
    const child = spawn(process.execPath, [BIN, ...args, '--config', project.configPath], { cwd: project.dir, env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    if (close.includes('stdout')) child.stdout.destroy();
    else child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    if (close.includes('stderr')) child.stderr.destroy();
    else child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

function project(t: TestContext): Project {
  const p = makeProject('http://127.0.0.1:9');
  t.after(() => p.cleanup());
  return p;
}

test('mithai doctor that finds a broken audit chain exits 1 even when its reader closed the pipe', async (t) => {
  const p = project(t);
  mkdirSync(join(p.dir, 'memory'), { recursive: true });
  appendFileSync(join(p.dir, 'memory', 'approvals.json'), '{"v":1,"seq":1,"not":"a record"}\n');
  const open = await run(p, ['doctor'], []);
  assert.equal(open.code, 1, `baseline: doctor fails this project (stdout: ${open.stdout})`);
  assert.match(open.stdout, /FAIL +audit log/);
  const closed = await run(p, ['doctor'], ['stdout']);
  assert.equal(closed.code, 1, 'a FAIL check must not become exit 0 because `mithai doctor | head` closed the pipe');
});

test('mithai approvals approve of a missing approval exits 1 even when both output pipes are closed', async (t) => {
  const p = project(t);
  // The state database must exist for a decision to be attempted.
  openDatabase(join(p.dir, '.mithai', 'state')).close();
  const open = await run(p, ['approvals', 'approve', 'apr_000000000000'], []);
  assert.equal(open.code, 1, `baseline: stderr ${open.stderr}`);
  const closed = await run(p, ['approvals', 'approve', 'apr_000000000000'], ['stdout', 'stderr']);
  assert.equal(closed.code, 1, 'a refused decision must not exit 0');
});

test('mithai skill run of a gated tool into a closed pipe neither reports success nor leaves its approval pending', async (t) => {
  const p = project(t);
  const closed = await run(p, ['skill', 'run', 'ops__restart', '--input', '{"service":"api"}'], ['stdout']);
  assert.deepEqual(p.effects(), [], 'the tool did not run');
  const db = openDatabase(join(p.dir, '.mithai', 'state'));
  let pending: string[];
  try {
    pending = new ApprovalStore(db).listByState(['pending']).map((a) => a.id);
  } finally {
    db.close();
  }
  const problems: string[] = [];
  if (closed.code === 0) problems.push('exit 0, which means "the tool ran and succeeded" (src/cli/skill-run.ts), though it did not run');
  if (pending.length > 0) problems.push(`approval(s) ${pending.join(', ')} left pending (abandonRun cancels them on every other way out)`);
  assert.deepEqual(problems, []);
});
