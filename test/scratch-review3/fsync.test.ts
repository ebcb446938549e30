import { test } from 'node:test';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
const work = mkdtempSync(join(tmpdir(), 'rv3-shim-'));
const shim = join(work, 'f.so');
test.after(() => rmSync(work, { recursive: true, force: true }));
test('build', () => { execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', shim, join(import.meta.dirname, 'failsuffix.c'), '-ldl']); });
for (const [mode, suffix] of [['dbfile-checkpoint', 'mithai.db'], ['returning-autocommit', '-wal'], ['returning-after-failure', '-wal']]) {
  test(mode, () => {
    const out = execFileSync(process.execPath, ['--import', 'tsx', join(import.meta.dirname, 'child.ts'), mode], {
      env: { ...process.env, LD_PRELOAD: shim, FAIL_SUFFIX: suffix, FAILWAL_TRIGGER: join(work, `t-${mode}`) },
    }).toString();
    console.log('RESULT', out.trim());
  });
}
