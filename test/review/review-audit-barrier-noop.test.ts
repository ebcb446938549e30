/**
 * Review finding (src/audit/audit-log.ts #syncBarrier, ab621fa): a record committed without
 * waiting for the disk (an auto call's outcome, committed with its turn's results under
 * `synchronous = NORMAL`) is held back from approvals.json "until a commit that waits covers
 * it, or, at the latest, until the sync delay has passed, when a small commit that waits is
 * made for them: the file never holds a record a power loss could take from the database".
 *
 * The small commit is `UPDATE audit_head SET flushed_seq = MAX(flushed_seq, syncedSeq)`. When
 * flushed_seq already equals syncedSeq (the common case of a tool that ran longer than the
 * sync delay: the decision's background fsync was noted with the outcome record itself), the
 * UPDATE changes no byte, SQLite dirties no page, and the COMMIT writes no WAL frame — so
 * nothing is synced (strace: no fsync of the -wal between BEGIN and COMMIT). The barrier then
 * writes the held-back outcome to the file, whose fsync follows within the delay, while the
 * database's copy is still in unsynced WAL frames. A power loss then leaves a file with a
 * record the database lost (start-up: audit_ahead), and the database answers that call
 * `unknown` under the same seq: two different records for one seq.
 *
 * What must hold: by the time a held-back record is in the file, the database's WAL has been
 * synced. (Fixed: the barrier is now an fsync of the -wal file itself, `syncCommitted`; this
 * test watches for that fsync, by path, before the record shows up in the file.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTransactor } from '../../src/state/transactor.ts';
import { auditEvent, fileLines, openLog, tempDir, walSyncedFirst, watchFsyncs } from '../audit/audit-fixtures.ts';
import { waitFor } from '../fixtures/wait-for.ts';

test('a held-back record reaches the file only after a commit that really waited for the disk', async (t) => {
  const dir = tempDir(t);
  const { log, db, store, path } = openLog(t, dir, { syncDelayMs: 20 });
  const transact = createTransactor(db, (synced) => log.writeAfterCommit(synced));
  // The log's timers never hold the process open; this test's own does, while it waits for them.
  const keepAlive = setInterval(() => {}, 1_000);
  t.after(() => clearInterval(keepAlive));

  // An auto call's decision: committed (synced), written, and fsync'd in the background.
  transact(() => log.append(auditEvent({ approval_id: 'auto-1', decision: 'auto', status: 'executing' })));
  await log.whenSynced();
  // The tool ran longer than the sync delay; its outcome commits with the turn's results, not waiting for the disk.
  transact(() => log.append(auditEvent({ event: 'outcome', approval_id: 'auto-1', decision: 'auto', status: 'succeeded' })), { sync: false });
  assert.equal(fileLines(path).length, 1, 'held back from the file, as designed');
  assert.equal(store.head()!.flushedSeq, 1, 'the outcome record carried how far the file is on disk');

  const fsyncs = watchFsyncs(t);
  await waitFor('the barrier to write the held-back outcome', () => fileLines(path).length === 2, 3_000);
  assert.ok(
    walSyncedFirst(fsyncs),
    `the outcome is in the audit file, but the database's WAL was not synced first (fsyncs seen: ${fsyncs.join(', ') || 'none'}): ` +
      'the database\'s copy of the outcome could still be only in unsynced WAL frames a power loss can take',
  );
});
