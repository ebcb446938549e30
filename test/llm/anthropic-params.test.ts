import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { Message as AnthropicMessage } from '@anthropic-ai/sdk/resources/messages';
import { fromAnthropicMessage, MAX_CACHE_BREAKPOINTS, toAnthropicParams } from '../../src/llm/anthropic-params.ts';
import type { ModelRequest } from '../../src/llm/types.ts';

function sdkMessage(content: unknown[], stop_reason: string | null, usage: Record<string, unknown> = {}): AnthropicMessage {
  return {
    id: 'msg_1',
    type: 'message',
    role: 'assistant',
    model: 'claude-test',
    content,
    stop_reason,
    stop_sequence: null,
    usage: { input_tokens: 10, output_tokens: 5, cache_creation_input_tokens: null, cache_read_input_tokens: null, ...usage },
  } as unknown as AnthropicMessage;
}

describe('toAnthropicParams', () => {
  test('sends no system or tools keys when there are none, and drops empty system parts the API would reject', () => {
    const params = toAnthropicParams({ system: ['', '  '], messages: [{ role: 'user', content: 'hi' }], tools: [], maxTokens: 10 }, 'claude-test');
    assert.equal('system' in params, false);
    assert.equal('tools' in params, false);
    assert.deepEqual(params.messages, [{ role: 'user', content: [{ type: 'text', text: 'hi', cache_control: { type: 'ephemeral' } }] }]);
  });

  test('never puts more than the API limit of cache breakpoints and leaves the caller request untouched', () => {
    const request: ModelRequest = {
      system: ['a', 'b', 'c'],
      tools: ['x', 'y', 'z'].map((name) => ({ name, description: name, input_schema: { type: 'object' } })),
      messages: [
        { role: 'user', content: 'first' },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'x', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'done', is_error: false }] },
      ],
      maxTokens: 10,
    };
    const before = structuredClone(request);
    const params = toAnthropicParams(request, 'claude-test');
    const blocks: unknown[] = [...(params.system ?? []), ...(params.tools ?? []), ...params.messages.flatMap((m) => (typeof m.content === 'string' ? [] : m.content))];
    const marked = blocks.filter((b) => (b as { cache_control?: unknown }).cache_control != null);
    assert.equal(marked.length, 3);
    assert.ok(marked.length <= MAX_CACHE_BREAKPOINTS);
    assert.deepEqual(params.messages[2], {
      role: 'user',
      content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'done', is_error: false, cache_control: { type: 'ephemeral' } }],
    });
    assert.deepEqual(request, before);
  });

  test('puts no breakpoint on an empty trailing text block', () => {
    const params = toAnthropicParams({ system: [], tools: [], messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, { type: 'text', text: '' }] }], maxTokens: 1 }, 'm');
    const content = params.messages[0].content;
    assert.ok(Array.isArray(content));
    assert.ok(content.every((b) => !('cache_control' in b)));
  });
});

describe('fromAnthropicMessage', () => {
  test('keeps text and tool_use blocks and skips thinking and other blocks', () => {
    const response = fromAnthropicMessage(
      sdkMessage(
        [
          { type: 'thinking', thinking: 'hmm', signature: 's' },
          { type: 'text', text: 'Checking.', citations: null },
          { type: 'redacted_thinking', data: 'x' },
          { type: 'tool_use', id: 'toolu_9', name: 'ops__status', input: { host: 'a' } },
        ],
        'tool_use',
      ),
    );
    assert.deepEqual(response.content, [
      { type: 'text', text: 'Checking.' },
      { type: 'tool_use', id: 'toolu_9', name: 'ops__status', input: { host: 'a' } },
    ]);
    assert.equal(response.stopReason, 'tool_use');
  });

  test('maps usage including cache reads and writes, and omits cache numbers the API did not send', () => {
    assert.deepEqual(fromAnthropicMessage(sdkMessage([], 'end_turn', { cache_read_input_tokens: 900, cache_creation_input_tokens: 30 })).usage, {
      inputTokens: 10,
      outputTokens: 5,
      cacheReadTokens: 900,
      cacheWriteTokens: 30,
    });
    assert.deepEqual(fromAnthropicMessage(sdkMessage([], 'end_turn')).usage, { inputTokens: 10, outputTokens: 5 });
  });

  test('treats running out of context window like max_tokens and an unknown stop reason as none', () => {
    assert.equal(fromAnthropicMessage(sdkMessage([], 'model_context_window_exceeded')).stopReason, 'max_tokens');
    assert.equal(fromAnthropicMessage(sdkMessage([], 'something_new')).stopReason, null);
    assert.equal(fromAnthropicMessage(sdkMessage([], 'refusal')).stopReason, 'refusal');
  });
});
