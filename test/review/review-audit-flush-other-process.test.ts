/**
 * Review finding (helper-27, the note on `mithai audit repair`): `flush()` in one process
 * (the CLI) wrote and fsync'd records another process (the engine) had committed without
 * waiting for the disk and was still holding back, before anything had synced them: a power
 * loss could then leave the file ahead of the database. flush() now fsyncs the WAL first.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { createTransactor } from '../../src/state/transactor.ts';
import { auditEvent, fileLines, openLog, tempDir, walSyncedFirst, watchFsyncs } from '../audit/audit-fixtures.ts';

test("flush in another process brings the engine's held-back records to disk before writing them", (t) => {
  const dir = tempDir(t);
  const engine = openLog(t, dir);
  const transact = createTransactor(engine.db, (synced) => engine.log.writeAfterCommit(synced));
  transact(() => engine.log.append(auditEvent({ event: 'outcome', approval_id: 'auto-1', decision: 'auto', status: 'succeeded' })), { sync: false });
  assert.equal(existsSync(engine.path), false, 'held back in the engine');

  const fsyncs = watchFsyncs(t);
  const cli = openLog(t, dir);
  cli.log.flush();
  assert.equal(fileLines(cli.path).length, 1, 'the CLI wrote the record');
  assert.ok(walSyncedFirst(fsyncs), `the WAL was not synced before the audit file (fsyncs: ${fsyncs.join(', ')})`);
});
