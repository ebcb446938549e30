/**
 * `mithai … | head`: when the reader closes the pipe, the next write fails with EPIPE. That
 * must end the command quietly with exit code 0 — no stack trace, no "Unhandled 'error' event"
 * — for every command that prints, whether the reader left after the first line or before the
 * first byte.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { approval } from '../fixtures/approval.ts';
import { ApprovalStore } from '../../src/state/approval-store.ts';
import { openDatabase } from '../../src/state/database.ts';
import { BIN, makeProject } from './chat-harness.ts';
import type { Project } from './chat-harness.ts';

interface PipedRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  firstLine: string;
  stderr: string;
}

/**
 * Run `mithai args` with stdout into a reader that closes the pipe after the first line
 * (`| head -n 1`), or at once with `closeAtOnce` (`| true`).
 */
function runIntoClosingReader(project: Project, args: string[], closeAtOnce = false): Promise<PipedRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args, '--config', project.configPath], { cwd: project.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let stderr = '';
    if (closeAtOnce) child.stdout.destroy();
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('\n')) child.stdout.destroy();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, firstLine: out.split('\n')[0]!, stderr }));
  });
}

function projectWithApprovals(t: TestContext, count: number): Project {
  const project = makeProject('http://127.0.0.1:9');
  t.after(() => project.cleanup());
  const db = openDatabase(join(project.dir, '.mithai', 'state'));
  try {
    const store = new ApprovalStore(db);
    db.transaction(() => {
      for (let i = 0; i < count; i++) store.insert(approval({ id: `apr_${String(i).padStart(12, '0')}`, callId: `c${i}`, reason: 'a reason long enough to make each row take some room in the pipe', state: 'denied', decider: 'UBOB000001' }));
    })();
  } finally {
    db.close();
  }
  return project;
}

const assertQuiet = (run: PipedRun, what: string): void => {
  assert.equal(run.signal, null, `${what} was killed by ${run.signal}`);
  assert.equal(run.code, 0, `${what} exited ${run.code}; stderr: ${run.stderr}`);
  assert.doesNotMatch(run.stderr, /EPIPE|Unhandled|Error|\n\s+at /, `${what} printed an error on stderr: ${run.stderr}`);
};

test('approvals list with thousands of rows into `| head -n 1` ends quietly with exit 0 after the header', async (t) => {
  // About 400 kB of rows: far more than a pipe buffers, so writes continue after the reader left.
  const project = projectWithApprovals(t, 3000);
  const run = await runIntoClosingReader(project, ['approvals', 'list', '--limit', '3000']);
  assert.match(run.firstLine, /^CREATED +ID +STATE/);
  assertQuiet(run, 'approvals list');
  const json = await runIntoClosingReader(project, ['approvals', 'list', '--limit', '3000', '--json']);
  assert.match(json.firstLine, /^\{"version":1,"id":"apr_/);
  assertQuiet(json, 'approvals list --json');
});

test('every printing command ends quietly with exit 0 when the reader closed the pipe before it wrote', async (t) => {
  const withApprovals = projectWithApprovals(t, 1);
  for (const args of [['approvals', 'list'], ['approvals', 'show', 'apr_000000000000']]) {
    assertQuiet(await runIntoClosingReader(withApprovals, args, true), `mithai ${args.join(' ')}`);
  }
  // A fresh project, whose audit log verifies (the seeded approvals have no audit records).
  const fresh = makeProject('http://127.0.0.1:9');
  t.after(() => fresh.cleanup());
  for (const args of [['audit', 'verify'], ['skill', 'list'], ['doctor']]) {
    assertQuiet(await runIntoClosingReader(fresh, args, true), `mithai ${args.join(' ')}`);
  }
  // commander's own output (help) goes through the same stream.
  const help = await new Promise<PipedRun>((resolve) => {
    const child = spawn(process.execPath, [BIN, '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code, signal) => resolve({ code, signal, firstLine: '', stderr }));
  });
  assertQuiet(help, 'mithai --help');
});
