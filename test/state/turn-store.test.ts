/**
 * The TurnStore contract, run against every backend. What the engine relies on: a turn row and
 * its calls are exactly what was written (order kept, results and taint kept), unfinished turns
 * are listed oldest first per platform and per session, a waiting turn whose approval was
 * settled elsewhere is found, and a row of an unknown version or state is refused, never guessed.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StateError } from '../../src/errors.ts';
import { ApprovalStore } from '../../src/state/approval-store.ts';
import { TurnStore } from '../../src/state/turn-store.ts';
import { approval } from '../fixtures/approval.ts';
import { BACKENDS, openTestDatabase } from './open-test-database.ts';

let clock = 0;
const now = (): string => new Date(Date.UTC(2026, 0, 1) + clock++ * 1000).toISOString();

for (const backend of BACKENDS) {
  describe(`TurnStore (${backend})`, () => {
    const make = (t: Parameters<typeof openTestDatabase>[0]) => {
      const db = openTestDatabase(t, backend);
      return { db, turns: new TurnStore(db, now), approvals: new ApprovalStore(db) };
    };
    const turnRow = (id: string, sessionKey = 'slack:T:C:1', platform = 'slack') => ({ id, sessionKey, platform, turnJson: '{"x":1}', nonce: 'n' });

    test('a new turn is accepted with zero counters and reads back as written', (t) => {
      const { turns } = make(t);
      const created = turns.create(turnRow('trn_1'));
      assert.equal(created.state, 'accepted');
      assert.deepEqual([created.iterations, created.toolCalls, created.tokens, created.cutRecoveries], [0, 0, 0, 0]);
      turns.update('trn_1', 'running', { iterations: 2, tokens: 40, reply: 'r', status: 'answered' });
      const read = turns.get('trn_1');
      assert.equal(read?.state, 'running');
      assert.equal(read?.iterations, 2);
      assert.equal(read?.tokens, 40);
      assert.equal(read?.reply, 'r');
      assert.throws(() => turns.create(turnRow('trn_1')), StateError, 'an id is recorded once');
    });

    test('calls keep the model order, their results and their taint', (t) => {
      const { turns } = make(t);
      turns.create(turnRow('trn_1'));
      turns.setCalls('trn_1', [
        { callId: 'a', name: 's__x', inputJson: '{}' },
        { callId: 'b', name: 's__y', inputJson: '{"k":1}', state: 'answered', resultJson: '{"r":1}' },
      ]);
      turns.updateCall('trn_1', 0, 'gated', { approvalId: 'apr_1' });
      turns.updateCall('trn_1', 0, 'answered', { resultJson: '{"r":0}', tainted: true });
      const calls = turns.listCalls('trn_1');
      assert.deepEqual(calls.map((c) => [c.position, c.callId, c.state, c.approvalId, c.resultJson, c.tainted]), [
        [0, 'a', 'answered', 'apr_1', '{"r":0}', true],
        [1, 'b', 'answered', null, '{"r":1}', false],
      ]);
      turns.clearCalls('trn_1');
      assert.deepEqual(turns.listCalls('trn_1'), []);
    });

    test('unfinished turns are listed oldest first, per platform and per session; done turns are not', (t) => {
      const { turns } = make(t);
      turns.create(turnRow('trn_a', 'slack:T:C:1'));
      turns.create(turnRow('trn_b', 'terminal:local:terminal:x', 'terminal'));
      turns.create(turnRow('trn_c', 'slack:T:C:1'));
      turns.update('trn_a', 'done');
      assert.deepEqual(turns.listUnfinished('slack').map((r) => r.id), ['trn_c']);
      assert.deepEqual(turns.listUnfinished().map((r) => r.id), ['trn_b', 'trn_c']);
      assert.deepEqual(turns.listUnfinishedInSession('slack:T:C:1').map((r) => r.id), ['trn_c']);
    });

    test('a waiting turn whose approval was settled elsewhere is found, and one still pending is not', (t) => {
      const { turns, approvals } = make(t);
      turns.create(turnRow('trn_1'));
      turns.create(turnRow('trn_2', 'slack:T:C:2'));
      for (const [turn, id] of [['trn_1', 'apr_1'], ['trn_2', 'apr_2']] as const) {
        approvals.insert(approval({ id, callId: `c_${id}`, sessionKey: `s_${turn}`, turnId: turn }));
        turns.setCalls(turn, [{ callId: `c_${id}`, name: 's__x', inputJson: '{}' }]);
        turns.updateCall(turn, 0, 'gated', { approvalId: id });
        turns.update(turn, 'waiting');
      }
      approvals.transition('apr_1', ['pending'], 'approved', { decider: 'U9' });
      assert.deepEqual(turns.listWaitingWithSettledApprovals('slack'), ['trn_1']);
      assert.equal(turns.findByApproval('apr_2')?.id, 'trn_2');
    });

    test('a row of an unknown version or state is refused with a clear error', (t) => {
      const { db, turns } = make(t);
      turns.create(turnRow('trn_1'));
      db.prepare("UPDATE turns SET version = 9 WHERE id = 'trn_1'").run();
      assert.throws(() => turns.get('trn_1'), /record version 9, but this mithai reads only version 1/);
      db.prepare("UPDATE turns SET version = 1, state = 'dancing' WHERE id = 'trn_1'").run();
      assert.throws(() => turns.get('trn_1'), /unknown state 'dancing'/);
    });
  });
}
