/**
 * Only a clear answer decides at the terminal. "maybe" is neither yes nor no: guessing "no"
 * would deny a call the person may have wanted, guessing "yes" would run one they did not
 * approve. So it decides nothing and the question is asked again; the end of input then
 * cancels the call (nobody answered), never denies it. Only `y`/`yes` approves.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { reply, toolUse } from '../../fakes/anthropic/script.ts';
import { LineReader } from '../../../src/adapters/terminal/line-reader.ts';
import { TerminalAdapter } from '../../../src/adapters/terminal/terminal-adapter.ts';
import { startEngine } from '../../engine/engine-harness.ts';

async function askedOnce(t: TestContext) {
  const h = await startEngine(t, [reply(toolUse('t__undeclared', {})), reply('done')]);
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
  const turn = { ...h.turn('run it'), conversation: { platform: 'terminal' as const, team: 'local', channel: 'terminal', thread: 'chat-x' } };
  const id = h.runtime.engine.accept(turn)!;
  assert.equal((await h.runtime.engine.run(id)).kind, 'waiting');
  const approvalId = h.runtime.approvals.listByTurn(id)[0]!.id;
  const asks = (): number => screen.match(/Approve\? \[y\/N\]|Nothing was decided: answer "y" to approve or "n" to deny/g)?.length ?? 0;
  const until = async (what: string, check: () => boolean): Promise<void> => {
    const deadline = Date.now() + 10_000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`${what}\n--- screen ---\n${screen}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  await until('no question', () => asks() === 1);
  return { h, input, adapter, approvalId, id, asks, until, screen: () => screen };
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
