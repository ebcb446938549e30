import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, renameSync, readdirSync, statSync, writeFileSync, readFileSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { acquireProcessLock, LOCK_DB_FILE, LOCK_FILE } from '../../src/state/process-lock.ts';

const fixture = join(import.meta.dirname, '..', 'fixtures', 'lock-holder.ts');
function holder(dir: string, env: NodeJS.ProcessEnv = process.env): { child: ChildProcess; answer: Promise<{ held: boolean; error?: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fixture, dir, 'hold'], { stdio: ['pipe', 'pipe', 'inherit'], env });
  const answer = new Promise<{ held: boolean; error?: string }>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => { out += c; if (out.includes('\n')) resolve(JSON.parse(out.split('\n')[0]!)); });
    child.on('exit', (code) => reject(new Error(`exit ${code}: ${out}`)));
  });
  return { child, answer };
}
const tmp = (t: any) => { const d = mkdtempSync(join(tmpdir(), 'rv3-lock-')); t.after(() => rmSync(d, { recursive: true, force: true })); return d; };

test('deleting mithai.lock.db while held lets a second process in', async (t) => {
  const dir = tmp(t);
  const a = holder(dir);
  t.after(() => a.child.kill('SIGKILL'));
  assert.deepEqual(await a.answer, { held: true });
  unlinkSync(join(dir, LOCK_DB_FILE));
  const b = holder(dir);
  t.after(() => b.child.kill('SIGKILL'));
  const r = await b.answer;
  console.log('second process after unlink:', JSON.stringify(r), 'pidfile now', readFileSync(join(dir, LOCK_FILE), 'utf8').trim(), 'A', a.child.pid, 'B', b.child.pid);
  assert.equal(r.held, false, 'second process must be refused');
});

test('replacing mithai.lock.db by rename while held lets a second process in', async (t) => {
  const dir = tmp(t);
  const a = holder(dir);
  t.after(() => a.child.kill('SIGKILL'));
  assert.deepEqual(await a.answer, { held: true });
  writeFileSync(join(dir, 'x'), '');
  renameSync(join(dir, 'x'), join(dir, LOCK_DB_FILE));
  const b = holder(dir);
  t.after(() => b.child.kill('SIGKILL'));
  const r = await b.answer;
  console.log('second process after replace:', JSON.stringify(r));
  assert.equal(r.held, false, 'second process must be refused');
});

test('rm of the whole state dir contents (operator "cleaning stale lock")', async (t) => {
  const dir = tmp(t);
  const a = holder(dir);
  t.after(() => a.child.kill('SIGKILL'));
  assert.deepEqual(await a.answer, { held: true });
  console.log('files while held:', readdirSync(dir), statSync(join(dir, LOCK_DB_FILE)).size);
});

test('fcntl locking unavailable (ENOLCK): message', async (t) => {
  const dir = tmp(t);
  const so = join(dir, '..', `nolck-${process.pid}.so`);
  t.after(() => rmSync(so, { force: true }));
  execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', so, join(import.meta.dirname, 'nolck.c'), '-ldl']);
  // a dead holder's pid file left behind
  writeFileSync(join(dir, LOCK_FILE), '999999\n');
  const b = holder(dir, { ...process.env, LD_PRELOAD: so });
  t.after(() => b.child.kill('SIGKILL'));
  const r = await b.answer;
  console.log('with ENOLCK:', JSON.stringify(r));
});
