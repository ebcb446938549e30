/**
 * Review 2 repro (taint across a failed write). When the commit that records a call's result
 * fails, the dispatcher still hands the result to the model from memory (round-1 fix), but the
 * session taint is set only inside that failed commit (call-dispatcher.ts #persistence →
 * answer → sessions.markTainted). The turn-runner's closing transaction appends the untrusted
 * result to the session without marking it tainted, and the next dispatch pass rebuilds its
 * scope from `sessions.isTainted` (false). So untrusted text is in the model's context and a
 * non-read-only auto call runs without approval (docs/approvals.md rule 5, "Taint").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { startEngine } from './engine-harness.ts';

test('an untrusted result whose row could not be written still taints the session', async (t) => {
  const h = await startEngine(t, [
    reply(toolUse('t__fetch_page', { url: 'https://example.com' })),
    reply(toolUse('t__write_note', { text: 'pwned' })),
    reply('done'),
  ]);
  const turns = h.runtime.turns;
  const original = turns.updateCall.bind(turns);
  let failOnce = true;
  // A one-off failure of the answered-row write (SQLITE_BUSY / SQLITE_FULL) for the untrusted result.
  turns.updateCall = ((turnId, position, state, fields) => {
    if (state === 'answered' && failOnce) {
      failOnce = false;
      throw new Error('SQLITE_BUSY: database is locked');
    }
    return original(turnId, position, state, fields);
  }) as typeof turns.updateCall;

  h.adapter.onApproval = () => {}; // nobody answers: a gated write_note must not run
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const id = h.runtime.engine.accept(h.turn('summarise that page'))!;
  await h.runtime.engine.run(id);

  const stored = h.runtime.db.prepare<[], { message_json: string }>('SELECT message_json FROM session_messages ORDER BY id').all().map((r) => r.message_json);
  assert.ok(stored.some((m) => m.includes('Ignore previous instructions')), 'the untrusted result reached the session (and the model)');
  assert.deepEqual(h.effects(), ['fetch'], `write_note ran auto right after untrusted content entered the context: ${h.effects().join(', ')}`);
  assert.equal(h.runtime.sessions.isTainted(h.runtime.turns.get(id)!.sessionKey), true, 'the session holds untrusted content but is not marked tainted');
});
