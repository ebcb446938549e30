import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { AuditStore } from '../../src/state/audit-store.ts';
import { ApprovalStore } from '../../src/state/approval-store.ts';
import { approval } from '../fixtures/approval.ts';
import { BACKENDS, openTestDatabase } from './open-test-database.ts';

const hash = (c: string): string => c.repeat(64);

for (const backend of BACKENDS) {
  describe(`AuditStore (${backend})`, () => {
    test('has no head until the first record, then moves it with each record', (t) => {
      const store = new AuditStore(openTestDatabase(t, backend));
      assert.equal(store.head(), undefined);
      store.appendRecord({ seq: 1, hash: hash('a'), line: '{"seq":1}' });
      assert.deepEqual(store.head(), { seq: 1, hash: hash('a'), flushedSeq: 0 });
      store.appendRecord({ seq: 2, hash: hash('b'), line: '{"seq":2}' });
      store.setFlushedSeq(1);
      assert.deepEqual(store.head(), { seq: 2, hash: hash('b'), flushedSeq: 1 });
      assert.equal(store.count(), 2);
    });

    test('returns records by seq, in order, from a seq and up to a limit', (t) => {
      const store = new AuditStore(openTestDatabase(t, backend));
      for (let seq = 1; seq <= 5; seq++) store.appendRecord({ seq, hash: hash(String(seq)), line: `line ${seq}` });
      assert.deepEqual(store.record(3), { seq: 3, hash: hash('3'), line: 'line 3' });
      assert.equal(store.record(9), undefined);
      assert.deepEqual(store.recordsFrom(2, 3).map((r) => r.seq), [2, 3, 4]);
      assert.deepEqual(store.recordsFrom(5, 10).map((r) => r.line), ['line 5']);
    });

    test('refuses a record that does not directly follow the head, so the chain cannot fork', (t) => {
      const store = new AuditStore(openTestDatabase(t, backend));
      store.appendRecord({ seq: 1, hash: hash('a'), line: 'one' });
      assert.throws(() => store.appendRecord({ seq: 1, hash: hash('b'), line: 'other one' }), /does not follow the head/);
      assert.throws(() => store.appendRecord({ seq: 3, hash: hash('c'), line: 'three' }), /does not follow the head/);
      assert.deepEqual(store.head(), { seq: 1, hash: hash('a'), flushedSeq: 0 });
    });

    test('a transaction inside an open one is a savepoint: a throw undoes only it', (t) => {
      const db = openTestDatabase(t, backend);
      const store = new AuditStore(db);
      db.transaction(() => {
        store.appendRecord({ seq: 1, hash: hash('a'), line: 'kept' });
        assert.throws(() => store.transaction(() => {
          store.appendRecord({ seq: 2, hash: hash('b'), line: 'undone' });
          throw new Error('inner failure');
        }), /inner failure/);
        assert.equal(store.inTransaction, true);
      }).immediate();
      assert.equal(store.inTransaction, false);
      assert.deepEqual(store.head(), { seq: 1, hash: hash('a'), flushedSeq: 0 });
      assert.equal(store.count(), 1);
    });

    test('lists every approval\'s id and state', (t) => {
      const db = openTestDatabase(t, backend);
      const approvals = new ApprovalStore(db);
      approvals.insert(approval({ id: 'apr_1', callId: 'c1', state: 'pending' }));
      approvals.insert(approval({ id: 'apr_2', callId: 'c2', state: 'denied', createdAt: '2025-01-01T00:00:01.000Z' }));
      assert.deepEqual(new AuditStore(db).approvalStates(), [{ id: 'apr_1', state: 'pending' }, { id: 'apr_2', state: 'denied' }]);
    });
  });
}
