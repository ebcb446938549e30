/**
 * How many pages the commits of a turn put in the WAL. Every page a commit changes is written
 * to the WAL and then synced by the next commit that waits for the disk, so a page a commit
 * did not need is time on every tool call. What is pinned here:
 * - a turn update that keeps the state leaves the state's index alone;
 * - a call update that names no approval leaves the approval index alone;
 * - storing a message in a session touched less than a minute ago rewrites no session row and
 *   no AUTOINCREMENT counter (schema 4), and `updated_at` still moves on after a minute;
 * - a database from before schema 4 keeps every message, its id and its order.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { systemClock } from '../../src/clock.ts';
import { inWriteTransaction, openDatabase } from '../../src/state/database.ts';
import type { Database } from '../../src/state/database.ts';
import { MIGRATIONS } from '../../src/state/migrations.ts';
import { SessionStore, TOUCH_GRANULARITY_MS } from '../../src/state/session-store.ts';
import { TurnStore } from '../../src/state/turn-store.ts';
import type { Message } from '../../src/llm/types.ts';
import { tempDir } from './open-test-database.ts';

/** WAL frames (pages) the one commit `fn` makes: the WAL is emptied first, then counted. */
function pagesWritten(db: Database, fn: () => void): number {
  db.pragma('wal_checkpoint(TRUNCATE)');
  inWriteTransaction(db, fn, { sync: false });
  const [row] = db.pragma('wal_checkpoint(PASSIVE)') as Array<{ log: number }>;
  return row!.log;
}

/** Commits `fn` makes, counted from the WAL's commit frames (the WAL is emptied first). */
function commitsMade(db: Database, fn: () => void): number {
  db.pragma('wal_checkpoint(TRUNCATE)');
  fn();
  const wal = readFileSync(`${db.name}-wal`);
  const pageSize = wal.readUInt32BE(8);
  let commits = 0;
  // Each frame: a 24-byte header (page number, then the database size for a commit frame, else 0) and the page.
  for (let at = 32; at + 24 <= wal.length; at += 24 + pageSize) if (wal.readUInt32BE(at + 4) !== 0) commits += 1;
  return commits;
}

function openFileDatabase(t: Parameters<typeof tempDir>[0]): Database {
  const db = openDatabase(join(tempDir(t), 'state'));
  t.after(() => db.close());
  return db;
}

/** A state database as schema 3 left it, open on a raw connection (foreign keys on, as better-sqlite3 opens it). */
function schema3Database(t: Parameters<typeof tempDir>[0]): { dir: string; raw: BetterSqlite3.Database } {
  const dir = join(tempDir(t), 'state');
  mkdirSync(dir, { recursive: true });
  const raw = new BetterSqlite3(join(dir, 'mithai.db'));
  raw.pragma('journal_mode = WAL');
  raw.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
  for (const migration of MIGRATIONS.filter((m) => m.version <= 3)) raw.exec(migration.sql);
  raw.prepare('INSERT INTO schema_version (version) VALUES (3)').run();
  return { dir, raw };
}

const text = (s: string): Message => ({ role: 'user', content: [{ type: 'text', text: s }] });

describe('pages written per commit', () => {
  test('a turn update that keeps the state writes the row only; a change of state also writes its index', (t) => {
    const db = openFileDatabase(t);
    const turns = new TurnStore(db);
    turns.create({ id: 'trn_1', sessionKey: 'slack:T:C:1', platform: 'slack', turnJson: '{}', nonce: 'n' });
    assert.equal(pagesWritten(db, () => turns.update('trn_1', 'running')), 2, 'accepted -> running: the row and the state index');
    assert.equal(pagesWritten(db, () => turns.update('trn_1', 'running', { iterations: 1, tokens: 10 })), 1, 'running -> running: the row only');
    const read = turns.get('trn_1')!;
    assert.deepEqual([read.state, read.iterations, read.tokens], ['running', 1, 10]);
    assert.equal(pagesWritten(db, () => turns.update('trn_1', 'replying', { status: 'answered', reply: 'ok' })), 2);
    assert.equal(turns.get('trn_1')!.state, 'replying');
    assert.deepEqual(turns.listUnfinishedIds(), ['trn_1'], 'the state index still finds the turn');
    turns.update('trn_1', 'done');
    assert.deepEqual(turns.listUnfinishedIds(), [], 'and no longer once it is done');
  });

  test('a turn update outside a transaction is one commit, not one per statement', (t) => {
    const db = openFileDatabase(t);
    const turns = new TurnStore(db);
    turns.create({ id: 'trn_1', sessionKey: 'slack:T:C:1', platform: 'slack', turnJson: '{}', nonce: 'n' });
    assert.equal(commitsMade(db, () => turns.update('trn_1', 'waiting', { toolCalls: 1 })), 1);
    assert.deepEqual([turns.get('trn_1')!.state, turns.get('trn_1')!.toolCalls], ['waiting', 1]);
  });

  test('marking a session tainted again with a source it has writes nothing', (t) => {
    const db = openFileDatabase(t);
    const sessions = new SessionStore(db);
    sessions.markTainted('s', [{ kind: 'tool_output', source: 't__fetch' }]);
    assert.equal(pagesWritten(db, () => sessions.markTainted('s', [{ kind: 'tool_output', source: 't__fetch' }])), 0);
    assert.deepEqual(sessions.taintSources('s'), [{ kind: 'tool_output', source: 't__fetch' }]);
  });

  test('a call update that names no approval leaves the approval index alone, and keeps the approval it has', (t) => {
    const db = openFileDatabase(t);
    const turns = new TurnStore(db);
    turns.create({ id: 'trn_1', sessionKey: 'slack:T:C:1', platform: 'slack', turnJson: '{}', nonce: 'n' });
    turns.setCalls('trn_1', [{ callId: 'toolu_1', name: 'ops__status', inputJson: '{}' }, { callId: 'toolu_2', name: 'ops__restart', inputJson: '{}' }]);
    assert.equal(pagesWritten(db, () => turns.updateCall('trn_1', 0, 'executing')), 1);
    assert.equal(pagesWritten(db, () => turns.updateCall('trn_1', 1, 'gated', { approvalId: 'apr_1' })), 2, 'naming an approval writes its index entry');
    assert.equal(pagesWritten(db, () => turns.updateCall('trn_1', 1, 'answered', { resultJson: '{"type":"tool_result"}', tainted: true })), 1);
    const [first, second] = turns.listCalls('trn_1');
    assert.deepEqual([first!.state, first!.approvalId], ['executing', null]);
    assert.deepEqual([second!.state, second!.approvalId, second!.resultJson, second!.tainted], ['answered', 'apr_1', '{"type":"tool_result"}', true]);
  });

  test('a message stored in a session touched within the minute writes the message and its index only', (t) => {
    const db = openFileDatabase(t);
    let now = Date.UTC(2026, 0, 1);
    // A clock that can step back, which FakeClock does not model.
    const sessions = new SessionStore(db, { ...systemClock, now: () => now });
    const updatedAt = (): string => db.prepare<[], { updated_at: string }>("SELECT updated_at FROM sessions WHERE key = 's'").get()!.updated_at;
    sessions.append('s', [text('first')]);
    const created = updatedAt();
    now += TOUCH_GRANULARITY_MS - 1;
    assert.equal(pagesWritten(db, () => sessions.append('s', [text('second')])), 2, 'the message table and its session index');
    assert.equal(updatedAt(), created, 'within the minute updated_at stays');
    now += 2;
    sessions.append('s', [text('third')]);
    assert.equal(updatedAt(), new Date(now).toISOString(), 'a minute on it moves');
    now -= 10 * TOUCH_GRANULARITY_MS;
    sessions.append('s', [text('fourth')]);
    assert.equal(updatedAt(), new Date(now).toISOString(), 'a clock stepped back moves it back rather than freeze it');
    assert.deepEqual(sessions.load('s').messages.map((m) => (m.content as Array<{ text: string }>)[0]!.text), ['first', 'second', 'third', 'fourth']);
    assert.equal(db.prepare("SELECT COUNT(*) AS n FROM sqlite_sequence WHERE name = 'session_messages'").pluck().get(), 0, 'no AUTOINCREMENT counter');
  });

  test('a schema 3 database keeps every message, its id, its order and its exclusion through schema 4', (t) => {
    const { dir, raw } = schema3Database(t);
    const at = '2026-01-01T00:00:00.000Z';
    for (const key of ['a', 'b']) raw.prepare('INSERT INTO sessions (key, tainted, created_at, updated_at) VALUES (?, 0, ?, ?)').run(key, at, at);
    const insert = raw.prepare('INSERT INTO session_messages (session_key, version, message_json, created_at, turn_id, excluded) VALUES (?, 1, ?, ?, ?, ?)');
    const stored: Array<[string, string, string | null, number]> = [['a', 'a1', 'trn_1', 0], ['b', 'b1', null, 0], ['a', 'a2', 'trn_2', 1], ['a', 'a3', 'trn_3', 0], ['b', 'b2', null, 0]];
    for (const [key, body, turn, excluded] of stored) insert.run(key, JSON.stringify(text(body)), at, turn, excluded);
    // A gap from deleted rows, as AUTOINCREMENT leaves: the ids must survive as they are.
    raw.prepare("DELETE FROM session_messages WHERE message_json LIKE '%b2%'").run();
    insert.run('b', JSON.stringify(text('b3')), at, null, 0);
    const before = raw.prepare('SELECT id, session_key, message_json, turn_id, excluded FROM session_messages ORDER BY id').all();
    raw.close();

    const db = openDatabase(dir);
    t.after(() => db.close());
    assert.equal(statSync(join(dir, 'mithai.db-wal')).size, 0, 'the copied table was checkpointed out of the WAL at the open');
    assert.equal(db.prepare('SELECT version FROM schema_version').pluck().get(), 4);
    assert.deepEqual(db.prepare('SELECT id, session_key, message_json, turn_id, excluded FROM session_messages ORDER BY id').all(), before);
    assert.match(String(db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'session_messages'").pluck().get()), /id\s+INTEGER PRIMARY KEY,/);
    assert.doesNotMatch(String(db.prepare("SELECT sql FROM sqlite_schema WHERE name = 'session_messages'").pluck().get()), /AUTOINCREMENT/);
    assert.equal(db.prepare("SELECT COUNT(*) FROM sqlite_schema WHERE name = 'session_messages_by_session'").pluck().get(), 1, 'the session index is back');
    const sessions = new SessionStore(db);
    sessions.append('a', [text('a4')]);
    const maxBefore = Math.max(...before.map((r) => (r as { id: number }).id));
    assert.equal(db.prepare("SELECT id FROM session_messages WHERE message_json LIKE '%a4%'").pluck().get(), maxBefore + 1);
    const texts = (key: string): string[] => sessions.load(key).messages.map((m) => (m.content as Array<{ text: string }>)[0]!.text);
    assert.deepEqual(texts('a'), ['a1', 'a3', 'a4'], 'excluded messages stay excluded, order kept');
    assert.deepEqual(texts('b'), ['b1', 'b3']);
    assert.deepEqual(db.pragma('foreign_key_check'), []);
  });

  test('a schema 3 message whose session row is missing (a hand edit) does not stop the upgrade: its session comes back tainted', (t) => {
    const { dir, raw } = schema3Database(t);
    // With foreign keys off, as in the sqlite3 shell (better-sqlite3 turns them on).
    raw.pragma('foreign_keys = OFF');
    raw.prepare("INSERT INTO session_messages (session_key, version, message_json, created_at) VALUES ('lost', 1, ?, '2026-01-01T00:00:00.000Z')").run(JSON.stringify(text('orphan')));
    raw.close();

    const db = openDatabase(dir);
    t.after(() => db.close());
    const sessions = new SessionStore(db);
    assert.deepEqual(sessions.load('lost').messages, [text('orphan')]);
    assert.equal(sessions.isTainted('lost'), true);
    assert.deepEqual(sessions.taintSources('lost'), [{ kind: 'unrecorded', source: '' }]);
  });
});
