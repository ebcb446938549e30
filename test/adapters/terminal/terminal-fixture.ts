/**
 * A TerminalAdapter over an engine harness, fed through a PassThrough as piped input, for the
 * terminal tests: `startTerminalTurn` scripts the model, starts one terminal turn and runs it
 * until it waits on its first approval.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import type { TestContext } from 'node:test';
import type { ScriptStep } from '../../fakes/anthropic/script.ts';
import type { EngineHarness } from '../../engine/engine-harness.ts';
import { LineReader } from '../../../src/adapters/terminal/line-reader.ts';
import { TerminalAdapter } from '../../../src/adapters/terminal/terminal-adapter.ts';
import { startEngine } from '../../engine/engine-harness.ts';

export interface TerminalTurn {
  h: EngineHarness;
  adapter: TerminalAdapter;
  /** What the person types. */
  input: PassThrough;
  /** Everything printed so far. */
  screen(): string;
  /** The turn's id, and the id of its first approval. */
  id: string;
  approvalId: string;
  /** Wait (polling, 5 s) until `check` holds; the error shows the screen. */
  until(what: string, check: () => boolean): Promise<void>;
}

export interface TerminalTurnOptions {
  /** Extra config.yaml text for the engine harness. */
  yaml?: string;
  /** Thread name of the terminal conversation. */
  thread?: string;
  /** Pass the engine's decider check to the adapter (the prompt then knows who may not decide). */
  checkDecider?: boolean;
}

export async function startTerminalTurn(t: TestContext, script: ScriptStep[], text: string, options: TerminalTurnOptions = {}): Promise<TerminalTurn> {
  const h = await startEngine(t, script, options.yaml === undefined ? {} : { yaml: options.yaml });
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
      ...(options.checkDecider === true ? { check: (a, decider, decision) => h.runtime.engine.checkDecider(a, decider, decision) } : {}),
    },
  });
  h.runtime.engine.attach(adapter, { platform: 'terminal' });
  const turn = { ...h.turn(text), conversation: { platform: 'terminal' as const, team: 'local', channel: 'terminal', thread: options.thread ?? 'chat-x' } };
  const id = h.runtime.engine.accept(turn)!;
  assert.equal((await h.runtime.engine.run(id)).kind, 'waiting');
  const approvalId = h.runtime.approvals.listByTurn(id)[0]!.id;
  const until = async (what: string, check: () => boolean): Promise<void> => {
    const deadline = Date.now() + 5000;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`${what}\n--- screen ---\n${screen}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  return { h, adapter, input, screen: () => screen, id, approvalId, until };
}
