/**
 * Taint survives a failed write. When the commit that records an untrusted call's result fails,
 * the result still reaches the model (from memory), and the transaction that puts it into the
 * session history marks the session tainted too, so a later non-read-only auto call still needs
 * approval.
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
