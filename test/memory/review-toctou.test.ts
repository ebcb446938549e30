/**
 * Review: MemoryFiles checks every folder on the way with lstat, then opens the file by path,
 * then checks the real path of the NAME (realpath) — three separate looks at the file system.
 * A folder swapped for a link to an outside folder between the lstat walk and the open, and
 * back before the realpath, makes readFile return an outside file, and a write leave its temp
 * file (with the content) outside. A worker thread swaps in a tight loop; the main thread
 * reads and writes as fast as it can. Also: a FIFO in the memory folder (a local user can make
 * one; git cannot) blocked the whole process forever in open(2).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { MemoryFiles } from '../../src/memory/memory-files.ts';

const SWAPPER = `
const { renameSync } = require('node:fs');
const { workerData, parentPort } = require('node:worker_threads');
const { sub, real, link, stop } = workerData;
const flag = new Int32Array(stop);
const tryRename = (a, b) => { try { renameSync(a, b); } catch {} };
while (Atomics.load(flag, 0) === 0) {
  tryRename(sub, real);   // sub -> memory/sub-real
  tryRename(link, sub);   // the link (to outside/) takes its name
  tryRename(sub, link);   // and gives it back
  tryRename(real, sub);
}
parentPort.postMessage('stopped');
`;

test('a folder swapped for a link mid-call never lets readFile return, or writeFile put, a file outside the memory folder', async (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mithai-review-toctou-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'memory');
  const outside = join(root, 'outside');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(join(dir, 'sub', 'notes.md'), 'inside');
  writeFileSync(join(outside, 'notes.md'), 'OUTSIDE SECRET');
  symlinkSync(outside, join(dir, 'sub-link'));
  const memory = new MemoryFiles(dir, { redact: (s) => s });

  const stop = new SharedArrayBuffer(4);
  const worker = new Worker(SWAPPER, { eval: true, workerData: { sub: join(dir, 'sub'), real: join(dir, 'sub-real'), link: join(dir, 'sub-link'), stop } });
  const stopped = new Promise((r) => worker.once('message', r));
  let leakedRead = 0;
  let reads = 0;
  const deadline = Date.now() + Number(process.env.RV_RACE_MS ?? 3_000);
  try {
    while (Date.now() < deadline && leakedRead === 0) {
      for (let i = 0; i < 200; i++) {
        try {
          const text = await memory.readFile('sub/notes.md');
          reads++;
          if (text.includes('OUTSIDE')) leakedRead++;
        } catch {
          // refused or missing mid-swap: fine
        }
        try {
          await memory.writeFile('sub/written.md', 'model text');
        } catch {
          // refused or missing mid-swap: fine
        }
      }
      await new Promise((r) => setImmediate(r));
    }
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await stopped;
    await worker.terminate();
  }
  const outsideFiles = readdirSync(outside).filter((f) => f !== 'notes.md');
  assert.equal(leakedRead, 0, `readFile returned the outside file ${leakedRead} times (of ${reads} reads)`);
  assert.deepEqual(outsideFiles, [], 'writeFile left files in the outside folder');
});

test('a FIFO in the memory folder is refused at once, not waited on forever', { skip: spawnSync('mkfifo', ['--version']).error ? 'no mkfifo' : false }, (t) => {
  const root = mkdtempSync(join(tmpdir(), 'mithai-review-fifo-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'memory');
  mkdirSync(dir);
  execFileSync('mkfifo', [join(dir, 'pipe.md')]);
  execFileSync('mkfifo', [join(dir, 'MEMORY.md')]);
  // In a child process: a blocked open(2) would hang this test runner too.
  const script = `
    import { MemoryFiles } from ${JSON.stringify(new URL('../../src/memory/memory-files.ts', import.meta.url).href)};
    const m = new MemoryFiles(${JSON.stringify(dir)}, { redact: (s) => s });
    const out = [];
    try { await m.readFile('pipe.md'); out.push('read'); } catch (e) { out.push(e.code); }
    try { m.readMemorySync(); out.push('read'); } catch (e) { out.push(e.code); }
    console.log(JSON.stringify(out));
  `;
  const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { timeout: 10_000, encoding: 'utf8' });
  assert.equal(child.signal, null, `the read blocked until killed (${child.signal})`);
  assert.deepEqual(JSON.parse(child.stdout.trim()), ['memory_refused', 'memory_refused'], child.stderr);
});
