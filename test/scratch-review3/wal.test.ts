import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { inWriteTransaction, openDatabase } from '../../src/state/database.ts';

const tick = () => new Promise<void>((r) => setImmediate(r));
const tmp = (t: any) => { const d = mkdtempSync(join(tmpdir(), 'rv3-wal-')); t.after(() => rmSync(d, { recursive: true, force: true })); return join(d, 'state'); };
const walSize = (dir: string) => { try { return statSync(join(dir, 'mithai.db-wal')).size; } catch { return 0; } };
const pad = 'x'.repeat(3000);

test('watchAutocommits keeps statement features', (t) => {
  const db = openDatabase(tmp(t));
  t.after(() => db.close());
  const s = db.prepare('INSERT INTO event_dedupe (key, seen_at) VALUES (?, ?)');
  assert.ok(Object.hasOwn(s, 'run'), 'wrapped');
  const r = s.run('a', 1);
  assert.equal(r.changes, 1); assert.equal(typeof r.lastInsertRowid, 'number');
  const r2 = s.safeIntegers(true).run('b', 2);
  assert.equal(typeof r2.lastInsertRowid, 'bigint');
  s.safeIntegers(false);
  const r3 = s.run.call(undefined, 'c', 3);
  assert.equal(r3.changes, 1);
  const s2 = db.prepare('INSERT INTO event_dedupe (key, seen_at) VALUES (@k, @v)');
  assert.equal(s2.run({ k: 'd', v: 4 }).changes, 1);
  const ret = db.prepare("INSERT INTO event_dedupe (key, seen_at) VALUES ('e', 5) RETURNING key");
  console.log('RETURNING statement wrapped?', Object.hasOwn(ret, 'run'), 'reader', ret.reader, 'readonly', ret.readonly);
});

test('WAL: turn-like commits with event-loop turns stay bounded', async (t) => {
  const dir = tmp(t);
  const db = openDatabase(dir);
  t.after(() => db.close());
  let k = 0; const sizes: number[] = [];
  for (let i = 0; i < 3000; i++) {
    inWriteTransaction(db, () => db.prepare('INSERT INTO event_dedupe (key, seen_at) VALUES (?, 0)').run(`${++k}${pad}`), { sync: false });
    if (i % 15 === 0) await tick();
    if (i % 500 === 0) sizes.push(walSize(dir));
  }
  console.log('inWriteTransaction WAL sizes', sizes, 'final', walSize(dir));
});

test('WAL: autocommits never reach the checkpoint counter', async (t) => {
  const dir = tmp(t);
  const db = openDatabase(dir);
  t.after(() => db.close());
  const sizes: number[] = [];
  for (let i = 0; i < 3000; i++) {
    db.prepare('INSERT INTO event_dedupe (key, seen_at) VALUES (?, 0)').run(`${i}${pad}`);
    if (i % 15 === 0) await tick();
    if (i % 500 === 0) sizes.push(walSize(dir));
  }
  console.log('autocommit WAL sizes', sizes, 'final', walSize(dir));
  // same work with SQLite defaults
  const d2 = tmp(t);
  const raw = new BetterSqlite3(join(d2, 'x.db').replace('/state/', '/'));
  raw.pragma('journal_mode = WAL');
  raw.exec('CREATE TABLE e (key TEXT PRIMARY KEY, seen_at INTEGER)');
  for (let i = 0; i < 3000; i++) raw.prepare('INSERT INTO e VALUES (?, 0)').run(`${i}${pad}`);
  console.log('SQLite default autocheckpoint WAL size', statSync(raw.name + '-wal').size);
  raw.close();
});

test('WAL: a reader on a second connection (CLI) holding a snapshot', async (t) => {
  const dir = tmp(t);
  const db = openDatabase(dir);
  t.after(() => db.close());
  const cli = openDatabase(dir);
  cli.exec('BEGIN'); cli.prepare('SELECT count(*) FROM event_dedupe').get();
  let k = 0;
  for (let i = 0; i < 1500; i++) {
    inWriteTransaction(db, () => db.prepare('INSERT INTO event_dedupe (key, seen_at) VALUES (?, 0)').run(`${++k}${pad}`), { sync: false });
    if (i % 15 === 0) await tick();
  }
  const held = walSize(dir);
  cli.exec('COMMIT'); cli.close();
  for (let i = 0; i < 1500; i++) {
    inWriteTransaction(db, () => db.prepare('INSERT INTO event_dedupe (key, seen_at) VALUES (?, 0)').run(`${++k}${pad}`), { sync: false });
    if (i % 15 === 0) await tick();
  }
  await tick();
  console.log('reader-held WAL', held, 'after release + 1500 more', walSize(dir));
});
