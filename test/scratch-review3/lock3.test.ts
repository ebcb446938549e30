import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { acquireProcessLock } from '../../src/state/process-lock.ts';
test('a refused in-process attempt does not drop the process fcntl lock', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rv3-l3-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const l = acquireProcessLock(dir);
  for (let i = 0; i < 3; i++) assert.throws(() => acquireProcessLock(dir));
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'fixtures', 'lock-holder.ts'), dir, 'release']).toString();
  console.log('child after in-process refusals:', out.trim());
  assert.match(out, /"held":false/);
  l.release();
  const out2 = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, '..', 'fixtures', 'lock-holder.ts'), dir, 'release']).toString();
  assert.match(out2, /"held":true/);
});
