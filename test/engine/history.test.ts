import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { repairHistory, INTERRUPTED_RESULT } from '../../src/engine/history.ts';
import type { Message } from '../../src/llm/types.ts';

// The store is append-only and a crash can stop a turn anywhere. Whatever was stored, the
// history sent to the API must be valid: every tool_use answered right after, no orphan
// tool_result, alternating roles, a user message first.
describe('repairHistory', () => {
  test('answers a tool_use that never got a result with an interrupted error result', () => {
    const stored: Message[] = [
      { role: 'user', content: 'restart api' },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'ops__restart', input: {} }] },
      { role: 'user', content: [{ type: 'text', text: 'hello again' }] },
    ];
    const repaired = repairHistory(stored);
    assert.equal(repaired.length, 3);
    const answer = repaired[2]!.content as Array<{ type: string; tool_use_id?: string; content?: string; is_error?: boolean; text?: string }>;
    assert.equal(answer[0]!.type, 'tool_result');
    assert.equal(answer[0]!.tool_use_id, 'toolu_1');
    assert.equal(answer[0]!.content, INTERRUPTED_RESULT);
    assert.equal(answer[0]!.is_error, true);
    assert.equal(answer[1]!.text, 'hello again', 'the user words are kept, after the result');
  });

  test('keeps real results and answers only the missing ones', () => {
    const stored: Message[] = [
      { role: 'user', content: 'two things' },
      {
        role: 'assistant',
        content: [
          { type: 'tool_use', id: 'a', name: 's__x', input: {} },
          { type: 'tool_use', id: 'b', name: 's__y', input: {} },
        ],
      },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'a', content: 'done' }] },
    ];
    const results = repairHistory(stored)[2]!.content as Array<{ tool_use_id: string; content: string }>;
    assert.deepEqual(results.map((r) => [r.tool_use_id, r.content]), [['a', 'done'], ['b', INTERRUPTED_RESULT]]);
  });

  test('drops tool_results that answer nothing and merges consecutive user messages', () => {
    const stored: Message[] = [
      { role: 'user', content: 'first' },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'ghost', content: 'x' }, { type: 'text', text: 'second' }] },
      { role: 'assistant', content: 'ok' },
    ];
    const repaired = repairHistory(stored);
    assert.equal(repaired.length, 2);
    assert.deepEqual(repaired[0], { role: 'user', content: [{ type: 'text', text: 'first' }, { type: 'text', text: 'second' }] });
    assert.equal(repaired[1]!.role, 'assistant');
  });

  test('starts with a user message even when the stored window starts mid-exchange', () => {
    const stored: Message[] = [
      { role: 'assistant', content: [{ type: 'tool_use', id: 'z', name: 's__x', input: {} }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'z', content: 'r' }] },
      { role: 'assistant', content: 'answer' },
      { role: 'user', content: 'next question' },
    ];
    const repaired = repairHistory(stored);
    assert.equal(repaired[0]!.role, 'user');
    assert.deepEqual(repaired[0]!.content, [{ type: 'text', text: 'next question' }]);
  });

  test('leaves a valid history unchanged in meaning', () => {
    const stored: Message[] = [
      { role: 'user', content: 'q' },
      { role: 'assistant', content: [{ type: 'text', text: 'let me look' }, { type: 'tool_use', id: 't', name: 's__x', input: { a: 1 } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 't', content: 'r' }] },
      { role: 'assistant', content: 'done' },
    ];
    const repaired = repairHistory(stored);
    assert.equal(repaired.length, 4);
    assert.deepEqual(repaired.map((m) => m.role), ['user', 'assistant', 'user', 'assistant']);
  });
});
