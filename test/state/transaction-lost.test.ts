/**
 * SQLite rolls a whole transaction back on its own after some errors (SQLITE_FULL, IOERR,
 * NOMEM), also from inside a savepoint whose caller catches the error and carries on (the
 * engine does that for each call's commit). Nothing of such a transaction may then commit:
 * not the statements after the error (each would be its own commit), not a nested call (it
 * would begin a fresh transaction). The disk filling up is simulated with
 * `PRAGMA max_page_count`, which fails a write with SQLITE_FULL exactly as a full disk does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StateError } from '../../src/errors.ts';
import { inWriteTransaction } from '../../src/state/database.ts';
import type { Database } from '../../src/state/database.ts';
import { createTransactor } from '../../src/state/transactor.ts';
import { BACKENDS, openTestDatabase } from './open-test-database.ts';

const insertKey = (db: Database, key: string): void => {
  db.prepare('INSERT INTO event_dedupe (key, seen_at) VALUES (?, 0)').run(key);
};
const keys = (db: Database): string[] => db.prepare<[], { key: string }>('SELECT key FROM event_dedupe ORDER BY key').all().map((r) => r.key);

/** Let the database grow by at most `pages` pages: a write past that fails with SQLITE_FULL. */
function fillUpAfter(db: Database, pages: number): void {
  const count = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${count + pages}`);
}

/** A write far larger than what is left: SQLITE_FULL. */
const overflow = (db: Database): void => {
  db.prepare('INSERT INTO skill_state (skill, key, version, value_json, updated_at) VALUES (?, ?, 1, ?, ?)').run('s', 'k', JSON.stringify('x'.repeat(200_000)), 't');
};

function isLost(err: unknown): boolean {
  return err instanceof StateError && err.code === 'state_transaction_lost' && /SQLITE_FULL|full/i.test(err.message);
}

for (const backend of BACKENDS) {
  test(`${backend}: a write after SQLite dropped the transaction in a caught savepoint is refused, and nothing commits`, (t) => {
    const db = openTestDatabase(t, backend);
    insertKey(db, 'before');
    fillUpAfter(db, 2);
    let caught: unknown;
    let afterWrite: unknown;
    assert.throws(() => inWriteTransaction(db, () => {
      insertKey(db, 'first');
      try {
        inWriteTransaction(db, () => overflow(db));
      } catch (err) {
        caught = err; // as the engine does for one call's commit: logged, and the rest goes on
      }
      try {
        insertKey(db, 'after');
      } catch (err) {
        afterWrite = err;
        throw err;
      }
    }), isLost);
    assert.equal((caught as { code?: string }).code, 'SQLITE_FULL');
    assert.ok(isLost(afterWrite), `the write after the loss was refused with state_transaction_lost, got ${String(afterWrite)}`);
    db.pragma('max_page_count = 1073741823');
    // Neither the write before the failure (rolled back by SQLite) nor the one after it committed.
    assert.deepEqual(keys(db), ['before']);
  });

  test(`${backend}: a nested transaction after the loss does not begin a fresh one of its own`, (t) => {
    const db = openTestDatabase(t, backend);
    fillUpAfter(db, 2);
    const seen: unknown[] = [];
    const attempt = (fn: () => void): void => {
      try {
        inWriteTransaction(db, fn);
      } catch (err) {
        seen.push(err);
      }
    };
    assert.throws(() => inWriteTransaction(db, () => {
      attempt(() => overflow(db));
      attempt(() => insertKey(db, 'nested'));
      // Every failure swallowed: the outer body returns normally, and still nothing commits.
    }), isLost);
    assert.equal(seen.length, 2);
    assert.ok(isLost(seen[1]), `the nested call after the loss was refused, got ${String(seen[1])}`);
    db.pragma('max_page_count = 1073741823');
    assert.deepEqual(keys(db), []);
    // The connection is usable again afterwards: the next transaction commits as usual.
    inWriteTransaction(db, () => insertKey(db, 'later'));
    assert.deepEqual(keys(db), ['later']);
  });

  test(`${backend}: the transactor reports the loss to its caller and runs no after-commit work`, (t) => {
    const db = openTestDatabase(t, backend);
    const commits: boolean[] = [];
    const transact = createTransactor(db, (synced) => commits.push(synced));
    fillUpAfter(db, 2);
    assert.throws(() => transact(() => {
      try {
        transact(() => overflow(db));
      } catch {
        // swallowed, as a per-call commit failure is
      }
      insertKey(db, 'x');
    }, { sync: false }), isLost);
    assert.deepEqual(commits, []);
  });

  test(`${backend}: after the loss, db.exec and a RETURNING statement run as run() are refused too`, (t) => {
    const db = openTestDatabase(t, backend);
    fillUpAfter(db, 2);
    const refused: unknown[] = [];
    const tryWrite = (fn: () => unknown): void => {
      try {
        fn();
      } catch (err) {
        refused.push(err);
      }
    };
    assert.throws(() => inWriteTransaction(db, () => {
      tryWrite(() => inWriteTransaction(db, () => overflow(db)));
      tryWrite(() => db.exec("INSERT INTO event_dedupe (key, seen_at) VALUES ('exec', 0)"));
      tryWrite(() => db.prepare("INSERT INTO event_dedupe (key, seen_at) VALUES ('returning', 0) RETURNING key").run());
    }), isLost);
    assert.equal(refused.length, 3);
    assert.ok(refused.slice(1).every(isLost), `both later writes were refused: ${refused.map(String).join(' | ')}`);
    db.pragma('max_page_count = 1073741823');
    assert.deepEqual(keys(db), []);
  });

  test(`${backend}: an error that leaves the transaction open is only that savepoint's, as before`, (t) => {
    const db = openTestDatabase(t, backend);
    inWriteTransaction(db, () => {
      insertKey(db, 'a');
      try {
        inWriteTransaction(db, () => insertKey(db, 'a')); // a duplicate key: SQLITE_CONSTRAINT
      } catch (err) {
        assert.match((err as { code?: string }).code ?? '', /^SQLITE_CONSTRAINT/);
      }
      insertKey(db, 'b');
    });
    assert.deepEqual(keys(db), ['a', 'b']);
  });
}
