import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { acquireProcessLock, LOCK_FILE } from '../../src/state/process-lock.ts';

function tempDir(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
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
  const child = spawn(process.execPath, ['-e', '']);
  const deadPid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
  writeFileSync(join(dir, LOCK_FILE), `${deadPid}\n`);
  const lock = acquireProcessLock(dir);
  assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.pid));
  lock.release();
  assert.equal(existsSync(join(dir, LOCK_FILE)), false, 'release removes the lock file');
});
