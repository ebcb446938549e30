/**
 * The terminal asks one approval question at a time: with two gated calls in one response, the
 * next line typed must answer the question on screen, never another one queued before it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { reply, toolUse } from '../../fakes/anthropic/script.ts';
import { LineReader } from '../../../src/adapters/terminal/line-reader.ts';
import { TerminalAdapter } from '../../../src/adapters/terminal/terminal-adapter.ts';
import { startEngine } from '../../engine/engine-harness.ts';

test('the terminal never has two approval questions open at once (an answer must go to the question on screen)', async (t) => {
  const h = await startEngine(t, [
    reply(toolUse('t__dyn', { mode: 'first' }), toolUse('t__dyn', { mode: 'second' })),
    reply('done'),
  ]);
  const input = new PassThrough();
  const output = new PassThrough();
  let screen = '';
  output.on('data', (d: Buffer) => (screen += d.toString()));
  const lines = new LineReader(input);
  t.after(() => lines.close());
  const adapter = new TerminalAdapter({
    lines,
    output,
    user: 'U1',
    botName: 'bot',
    interactive: false,
    redact: (s) => s,
    decisions: {
      decide: (id, decider, decision, o) => h.runtime.engine.decide(id, decider, decision, { ...o, via: 'terminal' }),
      wait: (id, signal) => h.runtime.waiters.wait(id, signal),
      cancel: (id, reason) => h.runtime.engine.cancelPending(id, reason),
    },
  });
  h.runtime.engine.attach(adapter, { platform: 'terminal' });
  const turn = { ...h.turn('do both'), conversation: { platform: 'terminal' as const, team: 'local', channel: 'terminal', thread: 'chat-x' } };
  const id = h.runtime.engine.accept(turn)!;
  assert.equal((await h.runtime.engine.run(id)).kind, 'waiting');

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
