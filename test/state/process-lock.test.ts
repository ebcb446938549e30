import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, rmSync, writeFileSync, existsSync, readFileSync, readdirSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
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

test('the lock file appears whole: it holds the pid before anyone can see it', (t) => {
  const dir = tempDir(t);
  const original = fs.linkSync;
  const seen: string[] = [];
  fs.linkSync = ((from: fs.PathLike, to: fs.PathLike) => {
    seen.push(`${existsSync(to) ? 'exists' : 'absent'} ${readFileSync(from, 'utf8').trim()}`);
    original(from, to);
  }) as typeof fs.linkSync;
  syncBuiltinESMExports();
  t.after(() => {
    fs.linkSync = original;
    syncBuiltinESMExports();
  });
  const lock = acquireProcessLock(dir);
  assert.deepEqual(seen, [`absent ${process.pid}`], 'linked into place, complete, where no lock was');
  assert.deepEqual(readdirSync(dir), [LOCK_FILE], 'no temporary file is left behind');
  lock.release();
});

test('a dead process\'s lock taken over by a live one while we look is put back, and we are refused', async (t) => {
  const dir = tempDir(t);
  const child = spawn(process.execPath, ['-e', '']);
  const deadPid = await new Promise<number>((resolve) => child.on('exit', () => resolve(child.pid!)));
  const path = join(dir, LOCK_FILE);
  writeFileSync(path, `${deadPid}\n`);
  const original = fs.renameSync;
  fs.renameSync = ((from: fs.PathLike, to: fs.PathLike) => {
    // Another live process (our parent, for the test) took the dead lock over just before our move.
    if (String(from) === path && readFileSync(path, 'utf8').trim() === String(deadPid)) writeFileSync(path, `${process.ppid}\n`);
    original(from, to);
  }) as typeof fs.renameSync;
  syncBuiltinESMExports();
  t.after(() => {
    fs.renameSync = original;
    syncBuiltinESMExports();
  });
  assert.throws(() => acquireProcessLock(dir), /another mithai process \(pid \d+\) is already using/);
  assert.equal(readFileSync(path, 'utf8').trim(), String(process.ppid), 'the live process keeps its lock');
  assert.deepEqual(readdirSync(dir), [LOCK_FILE]);
});

test('release leaves alone a lock that is no longer this process\'s', (t) => {
  const dir = tempDir(t);
  const lock = acquireProcessLock(dir);
  writeFileSync(join(dir, LOCK_FILE), `${process.ppid}\n`);
  lock.release();
  assert.equal(readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), String(process.ppid));
});
