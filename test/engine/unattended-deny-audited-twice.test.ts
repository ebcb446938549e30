/**
 * Review 2 repro (one decision, two audit records). An unattended turn denies a gated call at
 * once: ToolCallRouter.prepare commits the `decision · denied · not_run` audit record in its own
 * transaction, and the dispatcher commits the call's answer in a second one
 * (call-dispatcher.ts `this.#commit(() => persist.answer(prepared.routed))`). A crash between
 * the two leaves the call `open`; the next start prepares it again and audits a second denial
 * of the same call. Every other decision commits its audit record with the state it records.
 * The crash is simulated by closing the database at the answer write (like kill -9 there).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { createRuntime } from '../../src/engine/create-runtime.ts';
import { RecordingAdapter } from '../fixtures/recording-adapter.ts';
import { startEngine } from './engine-harness.ts';

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 10));
  }
  return true;
}

test('an unattended denial is audited once, even when the process dies before the call is answered', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__undeclared', {}, 'toolu_unattended')), reply('It was denied.')]);
  const turns = h.runtime.turns;
  const original = turns.updateCall.bind(turns);
  turns.updateCall = ((turnId, position, state, fields) => {
    if (state === 'answered') {
      h.runtime.close(); // the process dies here, after the denial's audit commit
      throw new Error('killed');
    }
    return original(turnId, position, state, fields);
  }) as typeof turns.updateCall;
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const id = h.runtime.engine.accept(h.turn('restart it', { canAskHuman: false }))!;
  await h.runtime.engine.run(id);

  const loaded = loadConfig(join(h.dir, 'config.yaml'), { env: { ANTHROPIC_API_KEY: FAKE_API_KEY } });
  const runtime = await createRuntime(loaded, { logDestination: new PassThrough().resume() });
  t.after(() => runtime.close());
  const adapter = new RecordingAdapter();
  runtime.engine.attach(adapter, { platform: 'slack' });
  await runtime.engine.resumeAll();
  assert.ok(await waitUntil(() => adapter.replies.length === 1), 'the turn answered after the restart');

  const decisions = h.audit().filter((r) => r.call_id === 'toolu_unattended' && r.event === 'decision');
  assert.equal(decisions.length, 1, `one unattended call, ${decisions.length} denial records: ${JSON.stringify(decisions.map((r) => ({ seq: r.seq, decision: r.decision, reason: r.reason })))}`);
});
