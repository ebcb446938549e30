/**
 * The audit file never holds a record a power loss could take from the database, whichever
 * process committed it: a process writing the file syncs the WAL first when the records it is
 * about to write include one it does not know is on disk (another process's, committed without
 * waiting for the disk). And a held-back outcome whose barrier failed for a passing reason (the
 * WAL could not be opened) is tried again after another delay; one whose fsync failed is not
 * (the disk failed: no later fsync proves anything, see src/state/database.ts).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { readlinkSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { inWriteTransaction } from '../../src/state/database.ts';
import { createTransactor } from '../../src/state/transactor.ts';
import { waitFor } from '../fixtures/wait-for.ts';
import { auditEvent, fileLines, openLog, tempDir, watchFsyncs } from './audit-fixtures.ts';

test("the CLI's write syncs the WAL before it copies a runtime's record that did not wait for the disk", (t) => {
  const dir = tempDir(t);
  const runtime = openLog(t, dir);
  const cli = openLog(t, dir);
  runtime.store.transaction(() => runtime.log.append(auditEvent({ approval_id: 'a0' })));
  runtime.log.flush();
  // The CLI's decision commits (waiting for the disk)...
  cli.store.transaction(() => cli.log.append(auditEvent({ approval_id: 'cli-decision', decider: 'local:op' })));
  // ...then the runtime commits an outcome without waiting, and has not written it yet.
  inWriteTransaction(runtime.db, () => runtime.log.append(auditEvent({ event: 'outcome', approval_id: 'auto-1', decision: 'auto', status: 'succeeded' })), { sync: false });

  const fsyncs = watchFsyncs(t);
  cli.log.write();
  const lines = fileLines(cli.path);
  assert.ok(lines.some((l) => l.includes('"cli-decision"')), 'the decision is in the file');
  if (lines.some((l) => l.includes('"auto-1"'))) {
    assert.ok(fsyncs.some((p) => p.endsWith('mithai.db-wal')), `the runtime's outcome reached the file with no fsync of the WAL since it was committed (fsyncs: ${fsyncs.join(', ') || 'none'})`);
  }
});

test('a process that knows its records are on disk writes them without another WAL fsync', (t) => {
  const dir = tempDir(t);
  const runtime = openLog(t, dir);
  const transact = createTransactor(runtime.db, (synced) => runtime.log.writeAfterCommit(synced));
  transact(() => runtime.log.append(auditEvent({ approval_id: 'a0' })));
  const fsyncs = watchFsyncs(t);
  transact(() => runtime.log.append(auditEvent({ approval_id: 'a1' })));
  assert.ok(fileLines(runtime.path).some((l) => l.includes('"a1"')));
  assert.deepEqual(fsyncs.filter((p) => p.endsWith('mithai.db-wal')), [], 'its own commit waited for the disk: nothing more to sync');
});

test('a barrier that failed for a passing reason is tried again; one whose fsync failed is not', async (t) => {
  const dir = tempDir(t);
  const runtime = openLog(t, dir, { syncDelayMs: 20 });
  const transact = createTransactor(runtime.db, (synced) => runtime.log.writeAfterCommit(synced));
  transact(() => runtime.log.append(auditEvent({ approval_id: 'a0' })));
  runtime.log.flush();

  // The first barrier cannot open the WAL (too many open files); the second can.
  const openSync = fs.openSync;
  let refusedOpens = 0;
  fs.openSync = ((path: fs.PathLike, ...rest: unknown[]) => {
    if (String(path).endsWith('mithai.db-wal') && refusedOpens === 0) {
      refusedOpens += 1;
      throw Object.assign(new Error('EMFILE: too many open files'), { code: 'EMFILE' });
    }
    return (openSync as (...a: unknown[]) => number)(path, ...rest);
  }) as typeof fs.openSync;
  syncBuiltinESMExports();
  t.after(() => {
    fs.openSync = openSync;
    syncBuiltinESMExports();
  });
  transact(() => runtime.log.append(auditEvent({ event: 'outcome', approval_id: 'auto-1', decision: 'auto', status: 'succeeded' })), { sync: false });
  await waitFor('the held-back outcome in the file after a second barrier', () => fileLines(runtime.path).some((l) => l.includes('"auto-1"')));
  assert.equal(refusedOpens, 1);

  // Now the WAL fsync itself fails: final. The next outcome stays in the database.
  const fsyncSync = fs.fsyncSync;
  let failedSyncs = 0;
  fs.fsyncSync = (fd: number): void => {
    let path = '';
    try {
      path = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      // not a path we fail
    }
    if (path.endsWith('mithai.db-wal')) {
      failedSyncs += 1;
      throw Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    }
    fsyncSync(fd);
  };
  syncBuiltinESMExports();
  t.after(() => {
    fs.fsyncSync = fsyncSync;
    syncBuiltinESMExports();
  });
  transact(() => runtime.log.append(auditEvent({ event: 'outcome', approval_id: 'auto-2', decision: 'auto', status: 'succeeded' })), { sync: false });
  await waitFor('the barrier to fail', () => failedSyncs >= 1);
  // Three more sync delays: a retry would have tried the fsync again by now.
  await new Promise((resolve) => setTimeout(resolve, 60));
  assert.equal(failedSyncs, 1, 'a failed fsync is not tried again');
  assert.ok(!fileLines(runtime.path).some((l) => l.includes('"auto-2"')), 'the outcome is not written to the file: the database may not have it on disk');
  assert.throws(() => runtime.log.write(), /restart mithai/, 'and a write before a tool runs refuses');
});
