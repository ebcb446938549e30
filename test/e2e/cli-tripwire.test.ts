/**
 * Every decision entry point applies the same tripwire: a row whose stored input no longer
 * matches its fingerprint (edited under us) cannot be decided, from the command line either.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { decideFromCli } from '../../src/cli/approval-decision.ts';
import { startEngine } from '../engine/engine-harness.ts';

test('the command line refuses a row whose input does not match its fingerprint, like every other entry point', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__dyn', { mode: 'rm -rf /srv' })), reply('ok')], { yaml: 'human: { approvers: ["local:*", "U1"] }' });
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const id = h.runtime.engine.accept(h.turn('go'))!;
  assert.equal((await h.runtime.engine.run(id)).kind, 'waiting');
  const approval = h.adapter.requested[0]!;
  h.runtime.db.prepare('UPDATE approvals SET input_json = ? WHERE id = ?').run('{"mode":"harmless"}', approval.id);
  assert.equal(h.runtime.engine.decide(approval.id, 'U1', 'approve').ok, false, 'the engine refuses the edited row');
  const cli = decideFromCli(h.runtime.loaded, approval.id, 'approve', {});
  assert.notEqual(cli.code, 0, `the CLI approved the edited row: ${cli.stdout}`);
});
