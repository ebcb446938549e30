/**
 * What a connection knows about its commits reaching the disk (src/state/database.ts): a
 * background sync is needed only after a commit that did not wait, callers share one fsync in
 * flight and one queued behind it (a flood of acks costs a few fsyncs, not one each), and a
 * failed fsync of the WAL is final: Linux may have dropped the pages it could not write and a
 * later fsync can succeed without them, so every later sync rejects and no commit that must wait
 * for the disk is made until a restart. Async fsyncs of the WAL are intercepted here.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import fs, { existsSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { CHECKPOINT_EVERY_COMMITS, CHECKPOINT_FORCED_AFTER_COMMITS, CHECKPOINT_QUIET_MS, inWriteTransaction, openDatabase, syncCommitted, syncCommittedInBackground } from '../../src/state/database.ts';
import type { Database } from '../../src/state/database.ts';
import { eio, interceptFsyncs, refuseOpensOnce } from '../fixtures/intercept-fs.ts';
import type { FinishFsync } from '../fixtures/intercept-fs.ts';
import { waitFor } from '../fixtures/wait-for.ts';
import { tempDir } from './open-test-database.ts';

/** Holds each async fsync of a -wal file until `finish(error?)` ends the oldest held one. */
function interceptWalFsyncs(t: TestContext): { started: () => number; held: () => number; finish: FinishFsync } {
  const waiting: FinishFsync[] = [];
  let started = 0;
  interceptFsyncs(t, (path) => path.endsWith('.db-wal'), (finish) => {
    started += 1;
    waiting.push(finish);
  });
  return { started: () => started, held: () => waiting.length, finish: (error) => waiting.shift()?.(error) };
}

function fileDb(t: TestContext): Database {
  const db = openDatabase(join(tempDir(t), 'state'));
  t.after(() => db.close());
  return db;
}

let keys = 0;
function insert(db: Database, sync: boolean): void {
  inWriteTransaction(db, () => db.prepare('INSERT INTO event_dedupe (key, seen_at) VALUES (?, 0)').run(`k${++keys}`), { sync });
}

async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

test('no fsync when every commit waited for the disk, or changed nothing', async (t) => {
  const fsyncs = interceptWalFsyncs(t);
  const db = fileDb(t);
  insert(db, true);
  // A commit that does not wait but changes no row wrote nothing.
  inWriteTransaction(db, () => db.prepare("INSERT OR IGNORE INTO event_dedupe (key, seen_at) VALUES ('k1', 0)").run(), { sync: false });
  await syncCommittedInBackground(db);
  assert.equal(fsyncs.started(), 0);
});

test('a commit that did not wait is synced once; a later commit that waited covers it', async (t) => {
  const fsyncs = interceptWalFsyncs(t);
  const db = fileDb(t);
  insert(db, false);
  const synced = syncCommittedInBackground(db);
  await settle();
  assert.equal(fsyncs.held(), 1);
  fsyncs.finish();
  await synced;
  await syncCommittedInBackground(db);
  assert.equal(fsyncs.started(), 1, 'already on disk: no second fsync');

  insert(db, false);
  insert(db, true);
  await syncCommittedInBackground(db);
  assert.equal(fsyncs.started(), 1, 'the commit that waited (SQLite synced the WAL) covered the one before it');
});

test('a commit that waited but changed nothing (a write matching no row, a RETURNING that returned none) covers nothing: the earlier commit is still synced', async (t) => {
  const fsyncs = interceptWalFsyncs(t);
  const db = fileDb(t);
  insert(db, false);
  inWriteTransaction(db, () => db.prepare("UPDATE event_dedupe SET seen_at = 1 WHERE key = 'no such key'").run());
  inWriteTransaction(db, () => db.prepare("UPDATE event_dedupe SET seen_at = 1 WHERE key = 'no such key' RETURNING key").get());
  inWriteTransaction(db, () => db.prepare("DELETE FROM event_dedupe WHERE key = 'no such key' RETURNING key").all());
  const synced = syncCommittedInBackground(db);
  await settle();
  assert.equal(fsyncs.held(), 1, 'SQLite synced nothing for the commits that changed nothing: the one that did not wait still needs its fsync');
  fsyncs.finish();
  await synced;

  // A RETURNING that changed a row is a change: that commit waited, and covers the one before it.
  insert(db, false);
  inWriteTransaction(db, () => db.prepare("UPDATE event_dedupe SET seen_at = 2 WHERE key = 'k' || ? RETURNING key").get(String(keys)));
  const second = syncCommittedInBackground(db);
  await settle();
  const started = fsyncs.started();
  fsyncs.finish();
  await second;
  assert.equal(started, 1, 'covered by the commit whose RETURNING changed a row');
});

test('callers share the fsync in flight, and one queued behind it covers every later commit', async (t) => {
  const fsyncs = interceptWalFsyncs(t);
  const db = fileDb(t);
  insert(db, false);
  const first = [syncCommittedInBackground(db), syncCommittedInBackground(db)];
  await settle();
  assert.equal(fsyncs.held(), 1, 'two callers, one fsync');
  insert(db, false);
  let laterDone = 0;
  const later = [syncCommittedInBackground(db), syncCommittedInBackground(db), syncCommittedInBackground(db)].map((p) => p.then(() => void (laterDone += 1)));
  await settle();
  assert.equal(fsyncs.started(), 1, 'the running fsync does not cover the new commit; one is queued, not started beside it');
  fsyncs.finish();
  await Promise.all(first);
  await settle();
  assert.equal(laterDone, 0, 'the later callers wait for the queued fsync, which started after the first ended');
  assert.equal(fsyncs.held(), 1);
  fsyncs.finish();
  await Promise.all(later);
  assert.equal(fsyncs.started(), 2, 'five callers, two fsyncs');
});

test('a failed fsync is final: later syncs reject without trying, and commits that must wait are refused', async (t) => {
  const fsyncs = interceptWalFsyncs(t);
  const db = fileDb(t);
  insert(db, false);
  const failing = syncCommittedInBackground(db);
  insert(db, false);
  const queued = syncCommittedInBackground(db);
  await settle();
  fsyncs.finish(eio());
  await assert.rejects(failing, (err: Error & { code?: string }) => err.code === 'state_sync_failed' && /EIO/.test(err.message));
  await assert.rejects(queued, (err: Error & { code?: string }) => err.code === 'state_sync_failed', 'the fsync queued behind it is never trusted either');
  await assert.rejects(syncCommittedInBackground(db), (err: Error & { code?: string }) => err.code === 'state_sync_failed' && /restart mithai/.test(err.message));
  assert.throws(() => syncCommitted(db), (err: Error & { code?: string }) => err.code === 'state_sync_failed');
  assert.throws(() => insert(db, true), (err: Error & { code?: string }) => err.code === 'state_sync_failed', 'a commit that waits cannot be durable any more');
  assert.equal(fsyncs.started(), 1, 'nothing was tried again');
  // Commits that do not claim the disk still work (a turn can still say it failed).
  insert(db, false);
});

/** How many of this process's descriptors are open on `path`. */
function descriptorsOn(path: string): number {
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === path;
    } catch {
      return false;
    }
  }).length;
}

test('our fsyncs use one descriptor of the WAL, opened with the connection (so it sees write-back errors from then on) and closed with it', { skip: existsSync('/proc/self/fd') ? false : 'needs /proc/self/fd' }, async (t) => {
  const dir = join(tempDir(t), 'state');
  const db = openDatabase(dir);
  const wal = realpathSync(join(dir, 'mithai.db-wal'));
  // SQLite's own and ours.
  const open = descriptorsOn(wal);
  assert.ok(open >= 2, `descriptors on the WAL after open: ${open}`);
  const opensDuringSyncs = refuseOpensOnce(t, (path) => path.endsWith('-wal'));
  for (let i = 0; i < 3; i++) {
    insert(db, false);
    syncCommitted(db);
    insert(db, false);
    await syncCommittedInBackground(db);
  }
  assert.equal(opensDuringSyncs(), 0, 'no sync opened the WAL again');
  assert.equal(descriptorsOn(wal), open);
  db.close();
  assert.equal(descriptorsOn(wal), 0, 'closing the connection closes ours too');
});

test('closed while a background fsync runs: the close syncs what is left, the descriptor stays until that fsync returns, and nothing reopens the WAL after', async (t) => {
  const fsyncs = interceptWalFsyncs(t);
  const dir = join(tempDir(t), 'state');
  const db = openDatabase(dir);
  const wal = realpathSync(join(dir, 'mithai.db-wal'));
  insert(db, false);
  const first = syncCommittedInBackground(db);
  await settle();
  assert.equal(fsyncs.held(), 1);
  insert(db, false);
  const queued = syncCommittedInBackground(db);
  // A second connection keeps the WAL (the last one to close removes it).
  const other = openDatabase(dir);
  t.after(() => other.close());
  const before = descriptorsOn(wal);
  const opens = refuseOpensOnce(t, (path) => path.endsWith('-wal'));
  db.close();
  assert.equal(descriptorsOn(wal), before - 1, 'SQLite closed its own; ours is still in use');
  fsyncs.finish();
  await first;
  await queued;
  assert.equal(fsyncs.started(), 1, 'the queued sync was covered by the close (no fsync after it)');
  assert.equal(descriptorsOn(wal), before - 2);
  await syncCommittedInBackground(db);
  syncCommitted(db);
  assert.equal(opens(), 0, 'nothing opened the WAL after the close');
});

test('a close whose last sync fails leaves every later sync of that connection rejected, never one on a new descriptor', (t) => {
  const db = openDatabase(join(tempDir(t), 'state'));
  insert(db, false);
  const original = fs.fsyncSync;
  fs.fsyncSync = () => {
    throw eio();
  };
  syncBuiltinESMExports();
  try {
    db.close();
  } finally {
    fs.fsyncSync = original;
    syncBuiltinESMExports();
  }
  assert.throws(() => syncCommitted(db), (err: Error & { code?: string }) => err.code === 'state_sync_failed');
});

test('a WAL that cannot be opened when the connection opens fails the open with an error that names it', (t) => {
  const dir = join(tempDir(t), 'state');
  openDatabase(dir).close();
  refuseOpensOnce(t, (path) => path.endsWith('-wal'));
  assert.throws(() => openDatabase(dir), (err: Error) => err.name === 'StateError' && /mithai\.db-wal: cannot open it to sync the last commits to disk: EMFILE/.test(err.message));
});

test('a statement that writes and returns rows is refused outside a transaction (its commit\'s errors would be lost)', (t) => {
  const db = fileDb(t);
  const returning = "INSERT INTO event_dedupe (key, seen_at) VALUES ('r', 0) RETURNING key";
  assert.throws(() => db.prepare(returning).get(), (err: Error) => err.name === 'InternalError' && /inside a write transaction/.test(err.message));
  assert.equal(inWriteTransaction(db, () => db.prepare<[], { key: string }>(returning).get())?.key, 'r');
});

test('statements committed on their own count towards checkpoints: the WAL stays small', async (t) => {
  const dir = join(tempDir(t), 'state');
  const db = openDatabase(dir);
  t.after(() => db.close());
  const big = 'x'.repeat(3000);
  for (let i = 0; i < 1500; i++) {
    db.prepare('INSERT INTO event_dedupe (key, seen_at) VALUES (?, 0)').run(`auto${i}${big}`);
    // Never quiet (see CHECKPOINT_QUIET_MS): the checkpoints this needs are the forced ones.
    if (i % 15 === 0) await new Promise<void>((resolve) => setImmediate(resolve));
  }
  const walBytes = statSync(join(dir, 'mithai.db-wal')).size;
  assert.ok(walBytes < 12 * 1024 * 1024, `the WAL grew to ${walBytes} bytes over 1500 commits of 3 KB (about 50 MB without checkpoints, about 10 MB with one every ${CHECKPOINT_FORCED_AFTER_COMMITS} commits)`);
});

/** The WAL-index header's last frame and how far the last checkpoint copied (the -shm file, native byte order). */
function walProgress(dir: string): { mxFrame: number; backfilled: number } {
  const shm = fs.readFileSync(join(dir, 'mithai.db-shm'));
  return { mxFrame: shm.readUInt32LE(16), backfilled: shm.readUInt32LE(96) };
}

test('a due checkpoint waits for the database to be quiet, not for the next turn of the event loop', async (t) => {
  const dir = join(tempDir(t), 'state');
  const db = openDatabase(dir);
  t.after(() => db.close());
  for (let i = 0; i < CHECKPOINT_EVERY_COMMITS - 1; i++) insert(db, false);
  const dueAt = performance.now();
  insert(db, false);
  await new Promise<void>((resolve) => setImmediate(resolve));
  const due = walProgress(dir);
  // Only meaningful when the quiet time has not passed yet (a loaded machine can stall longer).
  if (performance.now() - dueAt < CHECKPOINT_QUIET_MS) {
    assert.ok(due.mxFrame >= CHECKPOINT_EVERY_COMMITS && due.backfilled === 0, `no checkpoint yet right after the commits that made it due (${JSON.stringify(due)})`);
  } else {
    t.diagnostic('the event loop stalled past the quiet time: the "not yet" check was skipped');
  }
  const done = await waitFor('the checkpoint once the database is quiet', () => {
    const now = walProgress(dir);
    return now.backfilled === now.mxFrame && now;
  }, 5000, CHECKPOINT_QUIET_MS);
  assert.ok(done.mxFrame >= CHECKPOINT_EVERY_COMMITS, 'every frame was copied');
  insert(db, false);
  assert.ok(walProgress(dir).mxFrame < due.mxFrame, 'the next commit writes the WAL from its start again');
});
