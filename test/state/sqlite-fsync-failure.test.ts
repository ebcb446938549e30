/**
 * An fsync of the WAL that SQLite itself makes and that fails is final too, wherever SQLite
 * makes it: in a commit that waits, in a statement committed on its own (outside any
 * transaction), in a checkpoint (run by mithai: SQLite's automatic one ignores the failure), or
 * in the middle of a transaction (a page-cache spill), even when the caller caught the error.
 * Linux may drop the pages it could not write and report the next fsync as good, so afterwards
 * no background sync resolves (no Slack ack) and no commit that must wait for the disk is made.
 * The failure comes from an LD_PRELOAD shim (test/fixtures/fail-wal-fsync/) in a child process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const fixtures = join(import.meta.dirname, '..', 'fixtures', 'fail-wal-fsync');
const work = mkdtempSync(join(tmpdir(), 'mithai-fail-wal-'));
const shim = join(work, 'fail-wal-fsync.so');
test.after(() => rmSync(work, { recursive: true, force: true }));

function runChild(mode: string): Record<string, string | boolean> {
  const out = execFileSync(process.execPath, ['--import', 'tsx', join(fixtures, 'sqlite-sync-child.ts'), mode], {
    env: { ...process.env, LD_PRELOAD: shim, FAILWAL_TRIGGER: join(work, `trigger-${mode}`) },
  }).toString();
  return JSON.parse(out.trim().split('\n').pop() ?? '{}') as Record<string, string | boolean>;
}

test('the shim builds (gcc, as for better-sqlite3 itself)', () => {
  execFileSync('gcc', ['-shared', '-fPIC', '-O2', '-o', shim, join(fixtures, 'fail-wal-fsync.c'), '-ldl']);
});

for (const [mode, what] of [
  ['commit', 'a commit that waits'],
  ['autocommit', 'a statement committed on its own'],
  ['checkpoint', 'a checkpoint'],
  ['spill', 'a page-cache spill inside a transaction whose savepoint error was caught'],
  ['spill-unsynced', 'a page-cache spill inside a commit that does not wait'],
] as const) {
  test(`a failed fsync of the WAL in ${what} is final`, () => {
    const r = runChild(mode);
    assert.equal(r.shimFired, true, `the fsync failed (${JSON.stringify(r)})`);
    if (mode === 'checkpoint') assert.equal(r.failing, 'checkpoint');
    else if (mode === 'spill') assert.equal(r.failing, 'threw state_transaction_lost');
    else if (mode === 'spill-unsynced') assert.match(String(r.failing), /^threw (state_transaction_lost|SQLITE_IOERR_FSYNC)$/);
    else assert.equal(r.failing, 'threw SQLITE_IOERR_FSYNC');
    assert.equal(r.backgroundSync, 'rejected state_sync_failed', 'the ack of the turn committed before must not go out');
    assert.equal(r.syncedCommit, 'threw state_sync_failed');
    assert.equal(r.autocommitAfter, 'threw state_sync_failed');
    assert.equal(r.unsyncedCommit, 'ok', 'a commit that claims nothing still works (a turn can say it failed)');
  });
}
