/**
 * agent.max_tool_calls_per_turn holds across steps: a call refused for the budget while the same
 * response waits on an approval still stops the turn once the approval is decided (and after a
 * restart), instead of calling the model again.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { startEngine } from './engine-harness.ts';

test('a turn that hit its tool-call limit behind a pending approval stops at the limit once the approval is decided', async (t) => {
  const h = await startEngine(t, [
    reply(toolUse('t__undeclared', {}), toolUse('t__write_note', { text: 'over the budget' })),
    reply(toolUse('t__write_note', { text: 'asked again' })),
    reply('carried on past the limit'),
  ], { yaml: 'agent: { max_tool_calls_per_turn: 1 }' });
  h.adapter.onApproval = (approval) => h.runtime.engine.decide(approval.id, 'U1', 'approve');
  const result = await h.runtime.engine.handleTurn(h.turn('do it'), h.adapter);
  assert.deepEqual(h.effects(), ['undeclared']);
  assert.equal(h.fake.calls.length, 1, `the model was called again (${h.fake.calls.length} calls in all) after the budget of 1 tool call was spent`);
  assert.equal(result.status, 'tool_call_limit', `status ${result.status}: ${result.reply}`);
});
