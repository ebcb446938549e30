/**
 * One decision, one audit record: an unattended turn's denial is audited in the same transaction
 * as the call's answer, so a crash between them (simulated by closing the database at the answer
 * write, as kill -9 there would) cannot audit the same denial again at the next start.
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
  // The model response is stored by the call's first commit, the one the "kill" undoes: the
  // restarted process asks the model again, and gets the same call.
  const call = reply(toolUse('t__undeclared', {}, 'toolu_unattended'));
  const h = await startEngine(t, [call, call, reply('It was denied.')]);
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
