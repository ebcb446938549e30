/**
 * Only a clear answer decides at the terminal. "maybe" is neither yes nor no: guessing "no"
 * would deny a call the person may have wanted, guessing "yes" would run one they did not
 * approve. So it decides nothing and the question is asked again; the end of input then
 * cancels the call (nobody answered), never denies it. Only `y`/`yes` approves.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../../fakes/anthropic/script.ts';
import { startTerminalTurn } from './terminal-fixture.ts';

async function askedOnce(t: TestContext) {
  const turn = await startTerminalTurn(t, [reply(toolUse('t__undeclared', {})), reply('done')], 'run it');
  const asks = (): number => turn.screen().match(/Approve\? \[y\/N\]|Nothing was decided: answer "y" to approve or "n" to deny/g)?.length ?? 0;
  await turn.until('no question', () => asks() === 1);
  return { ...turn, asks };
}

test('"maybe" and "yes please" decide nothing and ask again; then "y" approves and the call runs once', async (t) => {
  const { h, input, approvalId, id, asks, until } = await askedOnce(t);
  input.write('maybe\n');
  await until('"maybe" was not asked again', () => asks() === 2);
  input.write('yes please\n');
  await until('"yes please" was not asked again', () => asks() === 3);
  assert.equal(h.runtime.approvals.get(approvalId)?.state, 'pending', 'nothing was decided');
  assert.deepEqual(h.audit().filter((r) => r.event === 'decision'), []);
  const finished = h.runtime.engine.whenFinished(id);
  input.write('y\n');
  await finished;
  assert.equal(h.runtime.approvals.get(approvalId)?.state, 'succeeded');
  assert.deepEqual(h.effects(), ['undeclared']);
  assert.deepEqual(h.audit().filter((r) => r.event === 'decision').map((r) => r.decision), ['approved']);
});

test('"maybe" then the end of input cancels the call as unanswered, never denies it', async (t) => {
  const { h, input, adapter, approvalId, id, asks, until } = await askedOnce(t);
  input.write('maybe\n');
  await until('"maybe" was not asked again', () => asks() === 2);
  const finished = h.runtime.engine.whenFinished(id);
  input.end();
  await finished;
  const approval = h.runtime.approvals.get(approvalId);
  assert.equal(approval?.state, 'cancelled');
  assert.equal(approval?.reason, 'input ended before an answer');
  assert.deepEqual(h.effects(), []);
  assert.equal(adapter.cancelledForNoAnswer, 1, 'the adapter counts it, for the piped exit code');
});

test('an empty line is the [y/N] default: denied, nothing runs', async (t) => {
  const { h, input, approvalId, id } = await askedOnce(t);
  const finished = h.runtime.engine.whenFinished(id);
  input.write('\n');
  await finished;
  assert.equal(h.runtime.approvals.get(approvalId)?.state, 'denied');
  assert.deepEqual(h.effects(), []);
});
