import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { acquireProcessLock, LOCK_DB_FILE, LOCK_FILE } from '../../src/state/process-lock.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The pid of a process that has just exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  return new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
}

test('a second runtime on the same state directory is refused while the first holds it', (t) => {
  const dir = tempDir(t);
  const first = acquireProcessLock(dir);
  assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.pid));
  // Simulate another live process holding the lock: the parent of this process is alive.
  writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
  assert.throws(() => acquireProcessLock(dir), /another mithai process \(pid \d+\) is already using/);
  first.release();
});

test('a lock left by a dead process is taken over', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, LOCK_FILE), `${await deadPid()}\n`);
  const lock = acquireProcessLock(dir);
  assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.pid));
  lock.release();
  assert.equal(existsSync(join(dir, LOCK_FILE)), false, 'release removes the lock file');
});

/** A child process trying for the lock (test/fixtures/lock-holder.ts); `held` resolves with its first answer. */
function holder(dir: string, then: 'hold' | 'release'): { child: ChildProcess; answer: Promise<{ held: boolean; error?: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'fixtures', 'lock-holder.ts'), dir, then], { stdio: ['pipe', 'pipe', 'inherit'] });
  const answer = new Promise<{ held: boolean; error?: string }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!) as { held: boolean; error?: string });
    });
    child.on('exit', (code) => reject(new Error(`lock holder exited (${code}) without answering: ${out}`)));
  });
  return { child, answer };
}

/** A child process that has taken the lock and keeps it (killed after the test). */
async function heldByChild(t: TestContext, dir: string): Promise<ReturnType<typeof holder>> {
  const held = holder(dir, 'hold');
  t.after(() => held.child.kill('SIGKILL'));
  assert.deepEqual(await held.answer, { held: true });
  return held;
}

test('pid files left aside by processes that died before renaming them are removed by the next holder; other files stay', async (t) => {
  const dir = tempDir(t);
  const dead = await deadPid();
  writeFileSync(join(dir, `${LOCK_FILE}.${dead}`), `${dead}\n`);
  writeFileSync(join(dir, `${LOCK_FILE}.${process.pid}`), 'half');
  writeFileSync(join(dir, `${LOCK_FILE}.notes`), 'keep');
  const lock = acquireProcessLock(dir);
  t.after(() => lock.release());
  assert.deepEqual(readdirSync(dir).filter((name) => name.startsWith(`${LOCK_FILE}.`)).sort(), [`${LOCK_FILE}.db`, `${LOCK_FILE}.notes`]);
  assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.pid));
});

test('a process that is refused the lock removes nobody\'s pid file written aside', async (t) => {
  const dir = tempDir(t);
  await heldByChild(t, dir);
  writeFileSync(join(dir, `${LOCK_FILE}.12345`), '12345\n');
  assert.throws(() => acquireProcessLock(dir), { code: 'state_locked' });
  assert.equal(existsSync(join(dir, `${LOCK_FILE}.12345`)), true);
});

test('a holder in another process keeps others out until it is killed with SIGKILL; then the lock is free at once', async (t) => {
  const dir = tempDir(t);
  const first = await heldByChild(t, dir);
  assert.throws(() => acquireProcessLock(dir), new RegExp(`another mithai process \\(pid ${first.child.pid}\\) is already using`));
  first.child.kill('SIGKILL');
  await new Promise((resolve) => first.child.on('exit', resolve));
  // No stale lock to detect: the kernel let go of it with the process.
  const lock = acquireProcessLock(dir);
  assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.pid));
  lock.release();
});

test('processes starting together on a lock left behind: exactly one gets it', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, LOCK_FILE), `${await deadPid()}\n`);
  const contenders = Array.from({ length: 4 }, () => holder(dir, 'hold'));
  t.after(() => contenders.forEach((c) => c.child.kill('SIGKILL')));
  const answers = await Promise.all(contenders.map((c) => c.answer));
  assert.equal(answers.filter((a) => a.held).length, 1, JSON.stringify(answers));
  // Refused as busy: named when the winner's pid file is already written, else as a lock nobody named yet.
  for (const refused of answers.filter((a) => !a.held)) assert.match(refused.error ?? '', /another mithai process \(pid \d+\) is already using|is locked by a process that/);
  assert.deepEqual(readdirSync(dir).sort(), [LOCK_FILE, LOCK_DB_FILE].sort(), 'nothing else left behind');
});

test('release leaves alone a pid file that is no longer this process\'s, and frees the lock', (t) => {
  const dir = tempDir(t);
  const lock = acquireProcessLock(dir);
  writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
  lock.release();
  assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.ppid));
  // The lock itself is free; the pid file naming a running process still refuses (see below).
  assert.throws(() => acquireProcessLock(dir), /names pid \d+, which is running/);
  rmSync(join(dir, LOCK_FILE));
  acquireProcessLock(dir).release();
});

test('a lock file deleted while its holder runs does not let a second process in: the pid file names a running holder', async (t) => {
  const dir = tempDir(t);
  const first = await heldByChild(t, dir);
  rmSync(join(dir, LOCK_DB_FILE));
  assert.throws(() => acquireProcessLock(dir), new RegExp(`names pid ${first.child.pid}, which is running, but .* was not locked: .*never delete it while mithai runs`));
  assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(first.child.pid), 'the holder\'s pid file is left as it was');
});

test('a busy lock whose pid file names no running process says the holder is unknown (or the filesystem has no locks); one held in this process says so', async (t) => {
  const dir = tempDir(t);
  const first = await heldByChild(t, dir);
  rmSync(join(dir, LOCK_FILE));
  assert.throws(() => acquireProcessLock(dir), /is locked by a process that .* does not name \(it names none\).*does not support file locks/);
  first.child.kill('SIGKILL');
  await new Promise((resolve) => first.child.on('exit', resolve));
  const second = acquireProcessLock(dir);
  t.after(() => second.release());
  assert.throws(() => acquireProcessLock(dir), /another runtime in this process already holds the lock/);
});

test('a held lock knows when its file was deleted or replaced', (t) => {
  const dir = tempDir(t);
  const lock = acquireProcessLock(dir);
  t.after(() => lock.release());
  assert.equal(lock.isIntact(), true);
  rmSync(join(dir, LOCK_DB_FILE));
  assert.equal(lock.isIntact(), false, 'deleted');
  writeFileSync(join(dir, LOCK_DB_FILE), '');
  assert.equal(lock.isIntact(), false, 'replaced by another file');
});
