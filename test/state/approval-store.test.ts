import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { StateError } from '../../src/errors.ts';
import type { Approval } from '../../src/human/types.ts';
import { ApprovalStore } from '../../src/state/approval-store.ts';
import { openDatabase } from '../../src/state/database.ts';
import { BACKENDS, openTestDatabase, tempDir } from './open-test-database.ts';
import { approval as approvalFixture } from '../fixtures/approval.ts';

function approval(overrides: Partial<Approval> = {}): Approval {
  return approvalFixture({
    id: 'apr_000000000001',
    sessionKey: 'slack:T1:C1:1.0',
    tool: 'k8s__delete_pod',
    toolDescription: 'Delete a pod',
    inputJson: '{"name":"web-1"}',
    requester: 'U1',
    thread: '1.0',
    ...overrides,
  });
}

for (const backend of BACKENDS) {
  describe(`ApprovalStore contract (${backend})`, () => {
    test('an inserted approval reads back field for field', (t) => {
      const store = new ApprovalStore(openTestDatabase(t, backend));
      const a = approval({ level: 'confirm', confirmPhrase: 'web-1', levelReason: 'override', displayRef: null });
      store.insert(a);
      assert.deepEqual(store.get(a.id), a);
      assert.equal(store.get('apr_missing'), undefined);
    });

    test('listRecent gives the newest first, filtered by state and creation time, at most limit rows', (t) => {
      const store = new ApprovalStore(openTestDatabase(t, backend));
      const at = (minute: number): string => `2025-01-01T00:${String(minute).padStart(2, '0')}:00.000Z`;
      store.insert(approval({ id: 'apr_000000000001', callId: 'c1', createdAt: at(1) }));
      store.insert(approval({ id: 'apr_000000000002', callId: 'c2', createdAt: at(2), state: 'denied' }));
      store.insert(approval({ id: 'apr_000000000003', callId: 'c3', createdAt: at(3) }));
      const ids = (rows: Approval[]): string[] => rows.map((a) => a.id);
      assert.deepEqual(ids(store.listRecent({ limit: 10 })), ['apr_000000000003', 'apr_000000000002', 'apr_000000000001']);
      assert.deepEqual(ids(store.listRecent({ limit: 2 })), ['apr_000000000003', 'apr_000000000002']);
      assert.deepEqual(ids(store.listRecent({ states: ['pending'], limit: 10 })), ['apr_000000000003', 'apr_000000000001']);
      assert.deepEqual(ids(store.listRecent({ since: at(2), limit: 10 })), ['apr_000000000003', 'apr_000000000002'], 'since is inclusive');
      assert.deepEqual(store.listRecent({ states: [], limit: 10 }), []);
    });

    test('the same call cannot be gated twice in a session, and ids are unique', (t) => {
      const store = new ApprovalStore(openTestDatabase(t, backend));
      store.insert(approval());
      assert.throws(() => store.insert(approval({ id: 'apr_000000000002' })), (err: unknown) => err instanceof StateError && err.code === 'approval_exists');
      assert.throws(() => store.insert(approval({ callId: 'toolu_2' })), StateError);
      store.insert(approval({ id: 'apr_000000000003', sessionKey: 'other' }));
      assert.equal(store.listByState(['pending']).length, 2);
    });

    test('a transition changes state and only the given fields, and returns the new row', (t) => {
      const store = new ApprovalStore(openTestDatabase(t, backend));
      store.insert(approval({ displayRef: '{"ts":"1"}' }));
      const changed = store.transition('apr_000000000001', ['pending'], 'approved', { decider: 'U2', decidedAt: '2025-01-01T00:01:00.000Z' });
      assert.deepEqual(changed, approval({ state: 'approved', decider: 'U2', decidedAt: '2025-01-01T00:01:00.000Z', displayRef: '{"ts":"1"}' }));
      assert.deepEqual(store.get('apr_000000000001'), changed);
    });

    test('a transition from a state the row is not in changes nothing and returns undefined', (t) => {
      const store = new ApprovalStore(openTestDatabase(t, backend));
      store.insert(approval({ state: 'denied' }));
      assert.equal(store.transition('apr_000000000001', ['pending'], 'approved', { decider: 'U2' }), undefined);
      assert.equal(store.transition('apr_000000000001', [], 'approved'), undefined);
      assert.equal(store.transition('apr_missing', ['pending'], 'approved'), undefined);
      assert.equal(store.get('apr_000000000001')?.state, 'denied');
      assert.equal(store.get('apr_000000000001')?.decider, null);
    });

    test('notAfter refuses a transition at or after the deadline', (t) => {
      const store = new ApprovalStore(openTestDatabase(t, backend));
      store.insert(approval());
      assert.equal(store.transition('apr_000000000001', ['pending'], 'approved', {}, { notAfter: '2025-01-01T00:05:00.000Z' }), undefined);
      assert.equal(store.transition('apr_000000000001', ['pending'], 'approved', {}, { notAfter: '2025-01-01T00:06:00.000Z' }), undefined);
      assert.equal(store.get('apr_000000000001')?.state, 'pending');
      assert.equal(store.transition('apr_000000000001', ['pending'], 'approved', {}, { notAfter: '2025-01-01T00:04:59.999Z' })?.state, 'approved');
    });

    test('listByState returns only the asked states, oldest first', (t) => {
      const store = new ApprovalStore(openTestDatabase(t, backend));
      store.insert(approval({ id: 'apr_b', callId: 'b', createdAt: '2025-01-01T00:00:02.000Z' }));
      store.insert(approval({ id: 'apr_a', callId: 'a', createdAt: '2025-01-01T00:00:01.000Z' }));
      store.insert(approval({ id: 'apr_c', callId: 'c', state: 'executing' }));
      store.insert(approval({ id: 'apr_d', callId: 'd', state: 'succeeded' }));
      assert.deepEqual(store.listByState(['pending']).map((a) => a.id), ['apr_a', 'apr_b']);
      assert.deepEqual(store.listByState(['executing', 'succeeded']).map((a) => a.id).sort(), ['apr_c', 'apr_d']);
      assert.deepEqual(store.listByState([]), []);
    });

    test('setDisplayRef stores where the approval is shown', (t) => {
      const store = new ApprovalStore(openTestDatabase(t, backend));
      store.insert(approval());
      assert.equal(store.setDisplayRef('apr_000000000001', '{"channel":"C1","ts":"2.0"}'), true);
      assert.equal(store.setDisplayRef('apr_missing', '{}'), false);
      assert.equal(store.get('apr_000000000001')?.displayRef, '{"channel":"C1","ts":"2.0"}');
    });

    test('findByCallId returns the latest approval for a call id', (t) => {
      const store = new ApprovalStore(openTestDatabase(t, backend));
      store.insert(approval({ id: 'apr_old', sessionKey: 's1', createdAt: '2025-01-01T00:00:00.000Z' }));
      store.insert(approval({ id: 'apr_new', sessionKey: 's2', createdAt: '2025-01-01T00:01:00.000Z' }));
      assert.equal(store.findByCallId('toolu_1')?.id, 'apr_new');
      assert.equal(store.findByCallId('toolu_none'), undefined);
    });

    test('a row with an unknown record version is refused with a StateError naming it', (t) => {
      const db = openTestDatabase(t, backend);
      const store = new ApprovalStore(db);
      store.insert(approval());
      db.prepare('UPDATE approvals SET version = 7').run();
      const isVersionError = (err: unknown): boolean => err instanceof StateError && err.code === 'state_version_unsupported' && /version 7/.test(err.message);
      assert.throws(() => store.get('apr_000000000001'), isVersionError);
      assert.throws(() => store.listByState(['pending']), isVersionError);
      assert.throws(() => store.findByCallId('toolu_1'), isVersionError);
    });

    test('a row with an unknown state or level is refused rather than guessed at', (t) => {
      const db = openTestDatabase(t, backend);
      const store = new ApprovalStore(db);
      store.insert(approval());
      db.prepare(`UPDATE approvals SET state = 'half_approved'`).run();
      assert.throws(() => store.get('apr_000000000001'), StateError);
      db.prepare(`UPDATE approvals SET state = 'pending', level = 'auto'`).run();
      assert.throws(() => store.get('apr_000000000001'), StateError);
    });

    test('work inside inTransaction is rolled back when it throws', (t) => {
      const store = new ApprovalStore(openTestDatabase(t, backend));
      store.insert(approval());
      assert.throws(() => store.inTransaction(() => {
        store.transition('apr_000000000001', ['pending'], 'approved', { decider: 'U2' });
        throw new Error('audit failed');
      }), /audit failed/);
      assert.equal(store.get('apr_000000000001')?.state, 'pending');
    });
  });
}

/*
 * Races. Two deciders acting on the same pending approval must never both win: the
 * conditional UPDATE is the only arbiter, so whichever runs second must see that the row is
 * no longer pending and change nothing, even through a separate connection to the same file.
 */
describe('ApprovalStore transition races', () => {
  test('of two transitions from pending on one connection, only the first changes the row', (t) => {
    const store = new ApprovalStore(openTestDatabase(t, 'memory'));
    store.insert(approval());
    const results = [
      store.transition('apr_000000000001', ['pending'], 'approved', { decider: 'U2' }),
      store.transition('apr_000000000001', ['pending'], 'denied', { decider: 'U3' }),
    ];
    assert.equal(results.filter((r) => r !== undefined).length, 1);
    assert.equal(store.get('apr_000000000001')?.state, 'approved');
    assert.equal(store.get('apr_000000000001')?.decider, 'U2');
  });

  test('of two connections to the same file transitioning from pending, only one changes the row', async (t) => {
    const dir = tempDir(t);
    const dbA = openDatabase(dir);
    const dbB = openDatabase(dir);
    t.after(() => { dbA.close(); dbB.close(); });
    const a = new ApprovalStore(dbA);
    const b = new ApprovalStore(dbB);
    a.insert(approval());
    // Both stores read the row as pending before either writes.
    assert.equal(a.get('apr_000000000001')?.state, 'pending');
    assert.equal(b.get('apr_000000000001')?.state, 'pending');
    const results = await Promise.all([
      Promise.resolve().then(() => b.transition('apr_000000000001', ['pending'], 'denied', { decider: 'U3' })),
      Promise.resolve().then(() => a.transition('apr_000000000001', ['pending'], 'approved', { decider: 'U2' })),
    ]);
    assert.deepEqual(results.map((r) => r?.state), ['denied', undefined]);
    assert.equal(a.get('apr_000000000001')?.state, 'denied');
  });

  test('an approved call can be claimed for execution only once', (t) => {
    const store = new ApprovalStore(openTestDatabase(t, 'memory'));
    store.insert(approval({ state: 'approved' }));
    assert.equal(store.transition('apr_000000000001', ['approved'], 'executing')?.state, 'executing');
    assert.equal(store.transition('apr_000000000001', ['approved'], 'executing'), undefined);
  });
});

