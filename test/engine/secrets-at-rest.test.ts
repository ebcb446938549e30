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
import { lastToolResults, reply, toolResultText, toolUse } from '../fakes/anthropic/script.ts';
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

test('an auto call runs with its exact input, which never reaches the disk: its row is kept redacted from the commit that stores it', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__write_note', { text: `remember ${SECRET}` }, 'toolu_exact')), reply('Noted.')]);
  const turns = h.runtime.turns;
  const seen: string[] = [];
  const original = turns.updateCall.bind(turns);
  turns.updateCall = ((turnId, position, state, fields) => {
    original(turnId, position, state, fields);
    // Right after the executing mark, inside its commit: what the row holds when the tool starts.
    if (state === 'executing') seen.push(turns.listCalls(turnId)[position]!.inputJson);
  }) as typeof turns.updateCall;
  await h.runtime.engine.handleTurn(h.turn('note it'), h.adapter);
  assert.deepEqual(h.effects(), [`note remember ${SECRET}`], 'the tool got the input exactly as the model wrote it');
  assert.equal(seen.length, 1);
  assert.ok(!seen[0]!.includes(SECRET), 'the stored input is redacted while the tool runs');
  assert.deepEqual(filesHolding(h.dir, SECRET), [], 'no file of the project holds the secret');
});
