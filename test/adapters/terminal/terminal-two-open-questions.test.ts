/**
 * The terminal asks one approval question at a time: with two gated calls in one response, the
 * next line typed must answer the question on screen, never another one queued before it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../../fakes/anthropic/script.ts';
import { startTerminalTurn } from './terminal-fixture.ts';

test('the terminal never has two approval questions open at once (an answer must go to the question on screen)', async (t) => {
  const { h, input, id, screen: shown } = await startTerminalTurn(t, [
    reply(toolUse('t__dyn', { mode: 'first' }), toolUse('t__dyn', { mode: 'second' })),
    reply('done'),
  ], 'do both');
  const screen = shown();

  const questionsOpen = screen.match(/Approve\? \[y\/N\]/g)?.length ?? 0;
  const lastShown = [...screen.matchAll(/"mode": "(\w+)"/g)].at(-1)?.[1];
  // The operator answers the question that is on screen (the last one printed).
  input.write('y\n');
  const deadline = Date.now() + 5000;
  while (h.runtime.approvals.listByTurn(id).every((a) => a.state === 'pending')) {
    if (Date.now() > deadline) throw new Error('the answer decided nothing');
    await new Promise((r) => setTimeout(r, 5));
  }
  const approved = h.runtime.approvals.listByTurn(id).filter((a) => a.state !== 'pending').map((a) => JSON.parse(a.inputJson).mode as string);
  assert.equal(questionsOpen, 1, `${questionsOpen} approval questions were open at once; the last one on screen was for mode "${lastShown}", and the "y" typed for it decided mode ${JSON.stringify(approved)}.\n--- screen ---\n${screen}`);
});
