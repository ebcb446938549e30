/**
 * The audit file never holds a record a power loss could take from the database, whichever
 * process committed it: a process writing the file syncs the WAL first when the records it is
 * about to write include one it does not know is on disk (another process's, committed without
 * waiting for the disk). And a held-back outcome whose barrier failed for a passing reason (too
 * many open files) is tried again after another delay; one whose fsync failed is not
 * (the disk failed: no later fsync proves anything, see src/state/database.ts). The same holds
 * for the file's own fsync: after one fails, the database is never told the file is on disk
 * beyond the last good sync.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs, { readlinkSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { Redactor } from '../../src/security/redactor.ts';
import { AuditStore } from '../../src/state/audit-store.ts';
import { inWriteTransaction } from '../../src/state/database.ts';
import { createTransactor } from '../../src/state/transactor.ts';
import { StateError } from '../../src/errors.ts';
import { eio, interceptFsyncs } from '../fixtures/intercept-fs.ts';
import { waitFor } from '../fixtures/wait-for.ts';
import { auditEvent, fileLines, openLog, stateDb, tempDir, watchFsyncs } from './audit-fixtures.ts';

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

  // The first barrier fails for a passing reason (here: too many open files); the second works.
  const syncCommitted = runtime.store.syncCommitted.bind(runtime.store);
  let refusedBarriers = 0;
  runtime.store.syncCommitted = () => {
    if (refusedBarriers++ === 0) throw new StateError('mithai.db-wal: cannot open it to sync the last commits to disk: EMFILE: too many open files');
    syncCommitted();
  };
  transact(() => runtime.log.append(auditEvent({ event: 'outcome', approval_id: 'auto-1', decision: 'auto', status: 'succeeded' })), { sync: false });
  await waitFor('the held-back outcome in the file after a second barrier', () => fileLines(runtime.path).some((l) => l.includes('"auto-1"')));
  assert.equal(refusedBarriers, 2);
  runtime.store.syncCommitted = syncCommitted;

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

test('after a failed fsync of the file, no later fsync is taken as proof: flushed_seq stays where the last good one left it', async (t) => {
  const dir = tempDir(t);
  const db = stateDb(t, dir);
  const store = new AuditStore(db);
  const failures: string[] = [];
  const log = AuditLog.open(join(dir, 'memory', 'approvals.json'), { redactor: new Redactor(), store, syncDelayMs: 0, onSyncError: (err) => failures.push(err.message) });
  t.after(() => log.close());
  log.append(auditEvent({ approval_id: 'a1' }));
  log.flush();
  assert.equal(store.head()!.flushedSeq, 1);

  // The next background fsync of the file fails once.
  let failed = 0;
  interceptFsyncs(t, (path) => path.endsWith('approvals.json'), (finish) => {
    if (failed++ === 0) setImmediate(() => finish(eio()));
    else finish();
  });
  log.append(auditEvent({ approval_id: 'a2' }));
  log.write();
  await waitFor('the failed background fsync reported', () => failures.length === 1);
  assert.equal(failed, 1);
  assert.match(failures[0] ?? '', /could not be synced to disk/);

  // Writes go on (the database's synced copy is the durable one) after a sync that succeeds...
  log.append(auditEvent({ approval_id: 'a3' }));
  log.write();
  log.flush();
  assert.deepEqual(fileLines(log.path).map((l) => (JSON.parse(l) as { approval_id: string }).approval_id), ['a1', 'a2', 'a3']);
  // ...but the database is never told the file is on disk past the last good sync: the pages of
  // the failed one may be gone while a later fsync succeeds.
  assert.equal(store.head()!.flushedSeq, 1);
});
