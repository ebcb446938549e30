/**
 * What tainted a session is stored with the flag: distinct sources, first seen first, capped;
 * a tainted session without sources reads as "source not recorded", never as untainted. An
 * approval keeps its own snapshot (taint_json), and an unreadable one fails closed. The v3
 * migration upgrades a v2 database in place: sessions tainted before it show "not recorded",
 * and approvals still open in them keep a warning and the second-person rule.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { checkDecider } from '../../src/human/approvers.ts';
import type { TaintSource } from '../../src/human/types.ts';
import { ApprovalStore } from '../../src/state/approval-store.ts';
import { DATABASE_FILE, SCHEMA_VERSION, openDatabase } from '../../src/state/database.ts';
import { MIGRATIONS } from '../../src/state/migrations.ts';
import { MAX_SESSION_TAINTS, SessionStore } from '../../src/state/session-store.ts';
import { approval } from '../fixtures/approval.ts';
import { BACKENDS, openTestDatabase, tempDir } from './open-test-database.ts';

const PAGE: TaintSource = { kind: 'tool_output', source: 'http__http_get' };
const OUTSIDER: TaintSource = { kind: 'thread_message', source: 'U999' };
const BOT: TaintSource = { kind: 'thread_message', source: 'B123 (bot)' };

for (const backend of BACKENDS) {
  describe(`SessionStore taint sources (${backend})`, () => {
    test('an untainted or unknown session has no sources', (t) => {
      const store = new SessionStore(openTestDatabase(t, backend));
      assert.deepEqual(store.taintSources('nobody'), []);
      store.append('s', [{ role: 'user', content: 'hi' }]);
      assert.deepEqual(store.taintSources('s'), []);
    });

    test('sources are recorded with the flag, each once, in the order first seen', (t) => {
      const store = new SessionStore(openTestDatabase(t, backend));
      store.markTainted('s', [PAGE, OUTSIDER]);
      store.markTainted('s', [OUTSIDER, BOT, PAGE]);
      assert.equal(store.isTainted('s'), true);
      assert.deepEqual(store.taintSources('s'), [PAGE, OUTSIDER, BOT]);
      assert.deepEqual(store.taintSources('other'), [], 'per session');
    });

    test('a tainted session without a recorded source reads as "not recorded"', (t) => {
      const store = new SessionStore(openTestDatabase(t, backend));
      store.markTainted('s');
      assert.deepEqual(store.taintSources('s'), [{ kind: 'unrecorded', source: '' }]);
      store.markTainted('s', [PAGE]);
      assert.deepEqual(store.taintSources('s'), [{ kind: 'unrecorded', source: '' }, PAGE], 'the earlier, unrecorded content stays named next to the new source');
    });

    test('at most the first 20 distinct sources are kept', (t) => {
      const store = new SessionStore(openTestDatabase(t, backend));
      const many = Array.from({ length: 30 }, (_, i): TaintSource => ({ kind: 'thread_message', source: `U${String(i).padStart(3, '0')}` }));
      store.markTainted('s', many.slice(0, 15));
      store.markTainted('s', many.slice(10));
      const kept = store.taintSources('s');
      assert.equal(kept.length, MAX_SESSION_TAINTS);
      assert.deepEqual(kept, many.slice(0, 20));
    });

    test('flag and sources commit together: a transaction that rolls back leaves neither', (t) => {
      const db = openTestDatabase(t, backend);
      const store = new SessionStore(db);
      assert.throws(() => db.transaction(() => {
        store.markTainted('s', [PAGE]);
        throw new Error('later write failed');
      })());
      assert.equal(store.isTainted('s'), false);
      assert.deepEqual(db.prepare('SELECT COUNT(*) AS n FROM session_taints').get(), { n: 0 });
    });
  });

  describe(`ApprovalStore taint snapshot (${backend})`, () => {
    test('the snapshot round-trips; an unreadable one reads as untrusted, never as none', (t) => {
      const db = openTestDatabase(t, backend);
      const store = new ApprovalStore(db);
      store.insert(approval({ id: 'apr_a', callId: 'c1', taint: [PAGE, OUTSIDER] }));
      store.insert(approval({ id: 'apr_b', callId: 'c2', taint: [] }));
      assert.deepEqual(store.get('apr_a')?.taint, [PAGE, OUTSIDER]);
      assert.deepEqual(store.get('apr_b')?.taint, []);
      for (const bad of ['not json', '{"kind":"tool_output"}', '[{"kind":"martian","source":"x"}]', '[{"kind":"tool_output"}]']) {
        db.prepare("UPDATE approvals SET taint_json = ? WHERE id = 'apr_b'").run(bad);
        assert.deepEqual(store.get('apr_b')?.taint, [{ kind: 'unrecorded', source: '' }], bad);
      }
    });
  });
}

describe('migration to schema v3', () => {
  /** A database as mithai with schema v2 left it: migrations 1 and 2 only. */
  function v2Database(dir: string): BetterSqlite3.Database {
    const raw = new BetterSqlite3(join(dir, DATABASE_FILE));
    raw.exec('CREATE TABLE schema_version (version INTEGER NOT NULL)');
    for (const migration of MIGRATIONS.filter((m) => m.version <= 2)) raw.exec(migration.sql);
    raw.prepare('INSERT INTO schema_version (version) VALUES (2)').run();
    return raw;
  }

  const row = (id: string, session: string, state: string, levelReason = 'declared'): Record<string, unknown> => ({
    id, version: 1, call_id: `call_${id}`, session_key: session, tool: 'ops__restart', tool_description: 'Restart', level: 'approve',
    level_reason: levelReason, fingerprint: 'f'.repeat(64), input_json: '{}', requester: 'U1', channel: 'C1', thread: '1.0',
    confirm_phrase: null, state, created_at: '2025-01-01T00:00:00.000Z', deadline: '2999-01-01T00:00:00.000Z',
  });

  test('a v2 database with a tainted session upgrades in place: "not recorded" sources, open approvals keep the rule', (t) => {
    const dir = join(tempDir(t), 'state');
    mkdirSync(dir, { recursive: true });
    const raw = v2Database(dir);
    const now = '2025-01-01T00:00:00.000Z';
    raw.prepare('INSERT INTO sessions (key, tainted, created_at, updated_at) VALUES (?, ?, ?, ?)').run('slack:T:C:dirty', 1, now, now);
    raw.prepare('INSERT INTO sessions (key, tainted, created_at, updated_at) VALUES (?, ?, ?, ?)').run('slack:T:C:clean', 0, now, now);
    const insert = raw.prepare(
      'INSERT INTO approvals (id, version, call_id, session_key, tool, tool_description, level, level_reason, fingerprint, input_json, requester, channel, thread, confirm_phrase, state, created_at, deadline) ' +
        'VALUES (@id, @version, @call_id, @session_key, @tool, @tool_description, @level, @level_reason, @fingerprint, @input_json, @requester, @channel, @thread, @confirm_phrase, @state, @created_at, @deadline)',
    );
    insert.run(row('apr_pending', 'slack:T:C:dirty', 'pending'));
    insert.run(row('apr_done', 'slack:T:C:dirty', 'succeeded'));
    insert.run(row('apr_by_taint', 'slack:T:C:clean', 'denied', 'taint'));
    insert.run(row('apr_clean', 'slack:T:C:clean', 'pending'));
    raw.close();

    const db = openDatabase(dir);
    t.after(() => db.close());
    assert.equal(db.prepare('SELECT version FROM schema_version').pluck().get(), SCHEMA_VERSION);
    const sessions = new SessionStore(db);
    assert.deepEqual(sessions.taintSources('slack:T:C:dirty'), [{ kind: 'unrecorded', source: '' }]);
    assert.deepEqual(sessions.taintSources('slack:T:C:clean'), []);

    const approvals = new ApprovalStore(db);
    const unrecorded = [{ kind: 'unrecorded', source: '' }];
    assert.deepEqual(approvals.get('apr_pending')?.taint, unrecorded, 'still open in a tainted session');
    assert.deepEqual(approvals.get('apr_by_taint')?.taint, unrecorded, 'its level was raised by taint');
    assert.deepEqual(approvals.get('apr_done')?.taint, [], 'settled before: history is not rewritten');
    assert.deepEqual(approvals.get('apr_clean')?.taint, []);

    const rules = { approvers: ['U9'], confirmRequiresSecondPerson: false, taintedRequiresSecondPerson: true };
    assert.equal(checkDecider({ ...rules, approval: approvals.get('apr_pending')!, decider: 'U1', decision: 'approve' }).ok, false);
    assert.equal(checkDecider({ ...rules, approval: approvals.get('apr_clean')!, decider: 'U1', decision: 'approve' }).ok, true);

    // New sources are recorded next to the old flag from now on.
    sessions.markTainted('slack:T:C:dirty', [PAGE]);
    assert.deepEqual(sessions.taintSources('slack:T:C:dirty'), [{ kind: 'unrecorded', source: '' }, PAGE], 'the content from before the upgrade stays named');
  });
});

