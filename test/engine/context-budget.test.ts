/**
 * A long thread stays within agent.context_budget_tokens: whole old turns are left out, never a
 * part of one (every tool_use keeps its tool_result), the turn being answered is always kept,
 * the history still starts with a person's message, and the cut stays put while the thread
 * grows a little (so the requests that follow keep their prefix for the prompt cache).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { estimateTokens, fitToBudget, TRIM_TO_SHARE } from '../../src/engine/context-budget.ts';
import { repairHistory } from '../../src/engine/history.ts';
import type { Message } from '../../src/llm/types.ts';

/** One turn: a person asks, the model calls a tool, gets its result, answers. */
function turn(n: number, size = 600): Message[] {
  return [
    { role: 'user', content: [{ type: 'text', text: `Message from U1:\nquestion ${n} ${'x'.repeat(size)}` }] },
    { role: 'assistant', content: [{ type: 'tool_use', id: `toolu_${n}`, name: 'ops__status', input: { service: `svc-${n}` } }] },
    { role: 'user', content: [{ type: 'tool_result', tool_use_id: `toolu_${n}`, content: `ok ${'y'.repeat(size)}` }] },
    { role: 'assistant', content: [{ type: 'text', text: `answer ${n}` }] },
  ];
}

function thread(turns: number): Message[] {
  return Array.from({ length: turns }, (_, i) => turn(i)).flat();
}

/** Every tool_result answers a tool_use of the message just before it, and the first message is a person's. */
function assertValid(messages: Message[]): void {
  assert.equal(messages[0]!.role, 'user');
  const firstBlocks = messages[0]!.content as Array<{ type: string }>;
  assert.ok(!firstBlocks.some((b) => b.type === 'tool_result'), 'the history does not start with tool results');
  messages.forEach((m, i) => {
    if (typeof m.content === 'string') return;
    for (const b of m.content) {
      if (b.type !== 'tool_result') continue;
      const before = messages[i - 1];
      assert.ok(before && before.role === 'assistant' && typeof before.content !== 'string' && before.content.some((u) => u.type === 'tool_use' && u.id === b.tool_use_id), `tool_result ${b.tool_use_id} at ${i} has its tool_use`);
    }
  });
  assert.deepEqual(repairHistory(messages), messages, 'nothing a repair would change');
}

test('a history within the budget is sent as it is', () => {
  const history = thread(3);
  const fitted = fitToBudget(history, 100_000, 500);
  assert.deepEqual(fitted, { messages: history, left: 0 });
});

test('over the budget, whole old turns are left out down to the trim share, with a note, and the pairs stay intact', () => {
  const history = thread(40);
  const budget = 5_000;
  const fixed = 400;
  assert.ok(history.reduce((a, m) => a + estimateTokens(m), 0) > budget - fixed);
  const { messages, left } = fitToBudget(history, budget, fixed);
  assert.ok(left > 0 && left % 4 === 0, `whole turns left out (${left} messages)`);
  assertValid(messages);
  const kept = messages.reduce((a, m) => a + estimateTokens(m), 0);
  assert.ok(kept <= (budget - fixed) * TRIM_TO_SHARE + 200, `kept ${kept} estimated tokens`);
  const first = (messages[0]!.content as Array<{ type: string; text?: string }>);
  assert.match(first[0]!.text ?? '', new RegExp(`^\\[${left} earlier messages of this conversation were left out to stay within agent\\.context_budget_tokens \\(${budget}\\)`));
  assert.match(first[1]!.text ?? '', /^Message from U1:\nquestion \d+/, 'the first kept message is a person\'s, whole');
  assert.deepEqual(messages.slice(-4), history.slice(-4), 'the newest turn is kept exactly');
});

test('the turn being answered is kept whole even when it alone is over the budget', () => {
  const history = [...thread(3), ...turn(99, 20_000)];
  const { messages, left } = fitToBudget(history, 2_000, 100);
  assert.equal(left, 12);
  assertValid(messages);
  assert.equal(messages.length, 4);
});

test('while the thread grows a little the cut stays where it is (the prefix the cache holds)', () => {
  const history = thread(40);
  const first = fitToBudget(history, 5_000, 400);
  const grown = fitToBudget([...history, ...turn(40, 50)], 5_000, 400);
  assert.equal(grown.left, first.left, 'the same messages are left out');
  assert.deepEqual(grown.messages.slice(0, first.messages.length), first.messages, 'the same prefix');
});

test('a tool call in the middle of the turn being answered is never separated from its result', () => {
  // The newest turn is still running: user, tool_use, tool_result (no answer yet).
  const running = turn(50).slice(0, 3);
  const { messages } = fitToBudget([...thread(40), ...running], 5_000, 400);
  assertValid(messages);
  assert.deepEqual(messages.slice(-3), running);
});

test('end to end: a long stored thread is cut to agent.context_budget_tokens in the request the model gets, which the API accepts', async (t) => {
  const { startEngine } = await import('./engine-harness.ts');
  const { reply: answer, toolUse } = await import('../fakes/anthropic/script.ts');
  const { SessionStore } = await import('../../src/state/session-store.ts');
  const { sessionKey } = await import('../../src/engine/session-key.ts');
  const h = await startEngine(t, [answer(toolUse('t__write_note', { text: 'a' })), answer('Done.')], { yaml: 'agent: { context_budget_tokens: 6000, max_history_messages: 1000 }' });
  const key = sessionKey(h.turn('x').conversation);
  new SessionStore(h.runtime.db).append(key, thread(60));
  const result = await h.runtime.engine.handleTurn(h.turn('and now?'), h.adapter);
  assert.equal(result.status, 'answered');
  assert.equal(h.fake.calls.length, 2, 'both requests were valid: the fake refuses broken tool_use/tool_result pairs');
  const sentMessages = (i: number): Message[] => h.fake.calls[i]!.body!.messages as Message[];
  for (const call of h.fake.calls) {
    const body = call.body!;
    const messages = body.messages as Message[];
    assert.ok(estimateTokens(messages) + estimateTokens(body.system) + estimateTokens(body.tools) <= 6000, 'within the budget');
    const first = messages[0]!.content as Array<{ type: string; text?: string }>;
    assert.match(first[0]!.text ?? '', /earlier messages of this conversation were left out to stay within agent\.context_budget_tokens \(6000\)/);
    assert.match(JSON.stringify(messages.at(-1)), /tool_result|and now\?/, 'the turn being answered is there');
  }
  // Cache breakpoints move to the newest message of each request; the messages themselves must not.
  const plain = (messages: unknown): unknown => JSON.parse(JSON.stringify(messages, (k, v: unknown) => (k === 'cache_control' ? undefined : v)));
  const [firstSent, secondSent] = [sentMessages(0), sentMessages(1)];
  assert.deepEqual(plain(secondSent.slice(0, firstSent.length)), plain(firstSent), 'the second request of the turn keeps the first one\'s prefix');
});
