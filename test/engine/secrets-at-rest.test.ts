/**
 * What the model writes is untrusted text, tool names included: a secret in it must not reach
 * any byte the runtime writes (the state database, its WAL and shared memory, the audit file,
 * memory files) nor go back to the model. Each test scans every file of the project while the
 * runtime is still open, as kill -9 would leave them, before any checkpoint or clean close.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { lastToolResults, maxTokensCut, reply, text, toolResultText, toolUse } from '../fakes/anthropic/script.ts';
import { REDACTED_TOOL_NAME } from '../../src/engine/turn-runner.ts';
import { SECRET, startEngine } from './engine-harness.ts';

/** Files under `dir` (recursively) whose bytes contain `secret`, except the test tools' own effects log. */
function filesHolding(dir: string, secret: string): string[] {
  const needle = Buffer.from(secret, 'utf8');
  const found: string[] = [];
  const walk = (folder: string): void => {
    for (const name of readdirSync(folder)) {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (name !== 'effects.log' && readFileSync(path).includes(needle)) found.push(relative(dir, path));
    }
  };
  walk(dir);
  return found;
}

test('a tool name from the model that is a secret is replaced before it is stored or sent back: the call is answered as unknown', async (t) => {
  const h = await startEngine(t, [reply(toolUse(SECRET, { a: 1 }, 'toolu_named')), reply('done')]);
  await h.runtime.engine.handleTurn(h.turn('go'), h.adapter);
  const [result] = lastToolResults(h.fake.calls[1]!);
  assert.match(toolResultText(result!), new RegExp(`Unknown tool "${REDACTED_TOOL_NAME}"`));
  assert.equal(h.adapter.replies.length, 1);
  assert.deepEqual(filesHolding(h.dir, SECRET), [], 'no file of the project holds the secret');
  const second = h.fake.calls[1]!;
  assert.ok(!JSON.stringify(second.messages).includes(SECRET), 'the next request does not send it back');
  assert.ok(JSON.stringify(second.messages).includes(REDACTED_TOOL_NAME), 'the call is in the history under the stand-in name');
  assert.ok(!h.logs().includes(SECRET));
});

for (const [kind, call] of [
  ['an auto call', toolUse('t__write_note', { text: `remember ${SECRET}` }, 'toolu_auto')],
  // resolveHuman answers no level for this mode: t__dyn fails closed to approve.
  ['a gated call', toolUse('t__dyn', { mode: `deploy with ${SECRET}` }, 'toolu_gated')],
] as const) {
  test(`${kind} whose input carries a secret is answered at once and stored redacted: nobody is asked, nothing runs, no file holds it`, async (t) => {
    const h = await startEngine(t, [reply(call), reply('Understood.')]);
    h.adapter.onApproval = (a) => h.runtime.gate.decide(a.id, 'U1', 'approve');
    await h.runtime.engine.handleTurn(h.turn('go'), h.adapter);
    assert.deepEqual(h.adapter.requested, [], 'no approval was opened');
    assert.deepEqual(h.effects(), [], 'nothing ran');
    const [result] = lastToolResults(h.fake.calls[1]!);
    assert.match(toolResultText(result!), new RegExp(`Not run: the input of ${call.name} carries a secret value`));
    assert.equal(h.adapter.replies.length, 1);
    assert.deepEqual(filesHolding(h.dir, SECRET), [], 'no file of the project holds the secret');
    assert.ok(!JSON.stringify(h.fake.calls[1]!.messages).includes(SECRET), 'nor does the next request');
  });
}

test('a call cut at max_tokens whose input carries a secret is stored redacted too', async (t) => {
  const h = await startEngine(t, [maxTokensCut(text('Writing it down'), toolUse('t__write_note', { text: `remember ${SECRET}` }, 'toolu_cut')), reply('Too long, sorry.')]);
  await h.runtime.engine.handleTurn(h.turn('note it'), h.adapter);
  assert.deepEqual(h.effects(), []);
  assert.match(toolResultText(lastToolResults(h.fake.calls[1]!)[0]!), /hit max_tokens/);
  assert.deepEqual(filesHolding(h.dir, SECRET), [], 'no file of the project holds the secret');
});
