import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { StateError } from '../../src/errors.ts';
import { DATABASE_FILE, IN_MEMORY, SCHEMA_VERSION, openDatabase } from '../../src/state/database.ts';
import { tempDir } from './open-test-database.ts';

describe('openDatabase', () => {
  test('creates the state directory with mode 0700 and the database file with mode 0600', (t) => {
    const dir = join(tempDir(t), 'nested', 'state');
    const db = openDatabase(dir);
    t.after(() => db.close());
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    assert.ok(existsSync(join(dir, DATABASE_FILE)));
    assert.equal(statSync(join(dir, DATABASE_FILE)).mode & 0o777, 0o600);
  });

  test('turns on WAL, a busy timeout and foreign keys', (t) => {
    const db = openDatabase(tempDir(t));
    t.after(() => db.close());
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.ok((db.pragma('busy_timeout', { simple: true }) as number) >= 1000);
    assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
  });

  test('records the schema version and keeps data across reopening', (t) => {
    const dir = tempDir(t);
    const first = openDatabase(dir);
    first.prepare('INSERT INTO event_dedupe (key, seen_at) VALUES (?, ?)').run('Ev1', 1);
    first.close();
    const second = openDatabase(dir);
    t.after(() => second.close());
    assert.equal(second.prepare('SELECT version FROM schema_version').pluck().get(), SCHEMA_VERSION);
    assert.equal(second.prepare('SELECT COUNT(*) FROM schema_version').pluck().get(), 1);
    assert.equal(second.prepare('SELECT key FROM event_dedupe').pluck().get(), 'Ev1');
  });

  test('opens a private in-memory database for tests', (t) => {
    const a = openDatabase(IN_MEMORY);
    const b = openDatabase(IN_MEMORY);
    t.after(() => { a.close(); b.close(); });
    a.prepare('INSERT INTO event_dedupe (key, seen_at) VALUES (?, ?)').run('only-in-a', 1);
    assert.equal(b.prepare('SELECT COUNT(*) FROM event_dedupe').pluck().get(), 0);
  });

  test('refuses a database written by a newer mithai, naming the version found and what to do', (t) => {
    const dir = tempDir(t);
    openDatabase(dir).close();
    const raw = new BetterSqlite3(join(dir, DATABASE_FILE));
    raw.prepare('UPDATE schema_version SET version = ?').run(SCHEMA_VERSION + 41);
    raw.close();

    assert.throws(
      () => openDatabase(dir),
      (err: unknown) =>
        err instanceof StateError &&
        err.code === 'state_version_unsupported' &&
        err.message.includes(`schema version ${SCHEMA_VERSION + 41}`) &&
        err.message.includes('Upgrade mithai'),
    );
    // Refusing must not have touched the schema.
    const check = new BetterSqlite3(join(dir, DATABASE_FILE));
    t.after(() => check.close());
    assert.equal(check.prepare('SELECT version FROM schema_version').pluck().get(), SCHEMA_VERSION + 41);
  });

  test('reports an unusable state path as a StateError naming the file', (t) => {
    const file = join(tempDir(t), 'plain-file');
    writeFileSync(file, '');
    // A directory cannot be created under a regular file.
    assert.throws(() => openDatabase(join(file, 'state')), (err: unknown) => err instanceof StateError && err.message.includes(DATABASE_FILE));
  });
});
