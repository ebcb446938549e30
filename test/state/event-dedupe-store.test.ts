import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { EventDedupeStore } from '../../src/state/event-dedupe-store.ts';
import { openDatabase } from '../../src/state/database.ts';
import { BACKENDS, openTestDatabase, tempDir } from './open-test-database.ts';

const TTL = 60_000;

for (const backend of BACKENDS) {
  describe(`EventDedupeStore contract (${backend})`, () => {
    test('the first claim of a key wins and a retry within the ttl is refused', (t) => {
      const dedupe = new EventDedupeStore(openTestDatabase(t, backend));
      assert.equal(dedupe.claim('Ev1', 1_000, TTL), true);
      assert.equal(dedupe.claim('Ev1', 2_000, TTL), false);
      assert.equal(dedupe.claim('Ev1', 1_000 + TTL - 1, TTL), false);
      assert.equal(dedupe.claim('Ev2', 2_000, TTL), true);
    });

    test('a key can be claimed again once its ttl has passed', (t) => {
      const dedupe = new EventDedupeStore(openTestDatabase(t, backend));
      assert.equal(dedupe.claim('Ev1', 1_000, TTL), true);
      assert.equal(dedupe.claim('Ev1', 1_000 + TTL, TTL), true);
      assert.equal(dedupe.claim('Ev1', 1_000 + TTL + 1, TTL), false);
    });

    test('old keys are removed so the table does not grow without bound', (t) => {
      const db = openTestDatabase(t, backend);
      const dedupe = new EventDedupeStore(db);
      for (let i = 0; i < 50; i++) dedupe.claim(`old-${i}`, i, TTL);
      dedupe.claim('new', 10 * TTL, TTL);
      assert.deepEqual(db.prepare('SELECT key FROM event_dedupe').pluck().all(), ['new']);
    });
  });
}

describe('EventDedupeStore across connections', () => {
  test('a key claimed through one connection is refused through another (same event, two deliveries)', (t) => {
    const dir = tempDir(t);
    const a = openDatabase(dir);
    const b = openDatabase(dir);
    t.after(() => { a.close(); b.close(); });
    assert.equal(new EventDedupeStore(a).claim('Ev1', 1_000, TTL), true);
    assert.equal(new EventDedupeStore(b).claim('Ev1', 1_001, TTL), false);
  });

  test('claims survive reopening the database', (t) => {
    const dir = tempDir(t);
    const first = openDatabase(dir);
    new EventDedupeStore(first).claim('Ev1', 1_000, TTL);
    first.close();
    const second = openDatabase(dir);
    t.after(() => second.close());
    assert.equal(new EventDedupeStore(second).claim('Ev1', 2_000, TTL), false);
  });
});
