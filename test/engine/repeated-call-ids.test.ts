/**
 * Tool-use ids are the model's text. A response that repeats an id the thread's history already
 * has (a scripted or misbehaving model; the API's own ids never repeat) gets a fresh id for that
 * call: the history stays valid (one result per id) and the call's approval does not collide
 * with the earlier call's (approvals are unique per session and call id).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import type { Message } from '../../src/llm/types.ts';
import { startEngine } from './engine-harness.ts';

function toolUseIds(messages: readonly Message[]): string[] {
  return messages.flatMap((m) => (m.role === 'assistant' && Array.isArray(m.content) ? m.content.filter((b) => b.type === 'tool_use').map((b) => (b as { id: string }).id) : []));
}

test('a gated call that repeats an earlier call id of the thread gets a fresh id: it is asked about and runs again', async (t) => {
  const call = reply(toolUse('t__undeclared', {}, 'toolu_same'));
  const h = await startEngine(t, [call, reply('First done.'), call, reply('Second done.'), reply(toolUse('t__write_note', { text: 'a' }, 'toolu_twice'), toolUse('t__write_note', { text: 'b' }, 'toolu_twice')), reply('Both noted.')]);
  h.adapter.onApproval = (a) => h.runtime.gate.decide(a.id, 'U1', 'approve');
  await h.runtime.engine.handleTurn(h.turn('run it'), h.adapter);
  await h.runtime.engine.handleTurn(h.turn('run it again'), h.adapter);
  assert.equal(h.adapter.requested.length, 2, 'both calls were asked about');
  assert.notEqual(h.adapter.requested[0]!.callId, h.adapter.requested[1]!.callId);
  assert.deepEqual(h.effects(), ['undeclared', 'undeclared']);
  // Two calls with one id in the same response: each keeps a result of its own.
  await h.runtime.engine.handleTurn(h.turn('note both'), h.adapter);
  assert.deepEqual(h.effects(), ['undeclared', 'undeclared', 'note a', 'note b']);
  const ids = toolUseIds(h.fake.calls.at(-1)!.messages as Message[]);
  assert.equal(ids.length, 4);
  assert.equal(new Set(ids).size, 4, 'every call in the history has an id of its own');
  assert.deepEqual(h.adapter.replies.map((r) => r.text), ['First done.', 'Second done.', 'Both noted.']);
});
