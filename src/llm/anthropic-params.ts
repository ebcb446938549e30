/**
 * Mapping between mithai's own message types (`llm/types.ts`) and the Anthropic SDK's, both
 * ways, including where the prompt-cache breakpoints go.
 */
import type {
  ContentBlockParam,
  Message as AnthropicMessage,
  MessageCreateParamsBase,
  MessageParam,
  TextBlockParam,
  Tool,
} from '@anthropic-ai/sdk/resources/messages';
import type { ContentBlock, Message, ModelRequest, ModelResponse, StopReason, TextBlock, ToolUseBlock } from './types.ts';

/** The API refuses more than four blocks with `cache_control` in one request. */
export const MAX_CACHE_BREAKPOINTS = 4;

const EPHEMERAL = { type: 'ephemeral' } as const;

/** The request body for one streamed call (the SDK adds `stream: true`). */
export type AnthropicParams = Pick<MessageCreateParamsBase, 'model' | 'max_tokens' | 'messages' | 'system' | 'tools'>;

function toBlockParam(block: ContentBlock): ContentBlockParam {
  switch (block.type) {
    case 'text':
      return { type: 'text', text: block.text };
    case 'tool_use':
      return { type: 'tool_use', id: block.id, name: block.name, input: block.input as Record<string, unknown> };
    case 'tool_result':
      return block.is_error === undefined
        ? { type: 'tool_result', tool_use_id: block.tool_use_id, content: block.content }
        : { type: 'tool_result', tool_use_id: block.tool_use_id, content: block.content, is_error: block.is_error };
  }
}

function toMessageParam(message: Message): MessageParam {
  const content = typeof message.content === 'string' ? message.content : message.content.map(toBlockParam);
  return message.role === 'user' ? { role: 'user', content } : { role: 'assistant', content };
}

/**
 * Put a cache breakpoint on the last block of the last message, so the next call of the same
 * turn (after tool results) reads the whole history so far from the cache. Skipped when that
 * block cannot carry one: the API rejects `cache_control` on an empty text block.
 */
function markConversationEnd(messages: MessageParam[]): void {
  const last = messages.at(-1);
  if (!last) return;
  if (typeof last.content === 'string') {
    if (last.content.trim() === '') return;
    last.content = [{ type: 'text', text: last.content, cache_control: EPHEMERAL }];
    return;
  }
  const block = last.content.at(-1);
  if (!block) return;
  if (block.type === 'text' && block.text.trim() === '') return;
  if (block.type === 'text' || block.type === 'tool_result' || block.type === 'tool_use') block.cache_control = EPHEMERAL;
}

/**
 * Build the SDK request body.
 *
 * Caching: the API caches the prefix tools → system → messages up to each breakpoint. The
 * tools and the system prompt are the stable part of every call, so the last tool and the
 * last system block each get a breakpoint; a third on the end of the conversation lets the
 * next iteration of the same turn reuse the history. Three is under the API's limit of four,
 * and nothing from the caller can add more, because mithai's message types carry none.
 */
export function toAnthropicParams(request: ModelRequest, model: string): AnthropicParams {
  // Empty parts would be rejected ("text content blocks must be non-empty"), so they are dropped.
  const system: TextBlockParam[] = request.system.filter((part) => part.trim() !== '').map((text) => ({ type: 'text', text }));
  if (system.length > 0) system[system.length - 1] = { ...system[system.length - 1], cache_control: EPHEMERAL };

  const tools: Tool[] = request.tools.map((t) => ({
    name: t.name,
    description: t.description,
    input_schema: { ...t.input_schema, type: 'object' },
  }));
  if (tools.length > 0) tools[tools.length - 1] = { ...tools[tools.length - 1], cache_control: EPHEMERAL };

  const messages = request.messages.map(toMessageParam);
  markConversationEnd(messages);

  const params: AnthropicParams = { model, max_tokens: request.maxTokens, messages };
  if (system.length > 0) params.system = system;
  if (tools.length > 0) params.tools = tools;
  return params;
}

const STOP_REASONS: ReadonlySet<string> = new Set<StopReason>(['end_turn', 'tool_use', 'max_tokens', 'stop_sequence', 'pause_turn', 'refusal']);

function toStopReason(reason: string | null): StopReason | null {
  if (reason === null) return null;
  if (STOP_REASONS.has(reason)) return reason as StopReason;
  // Running out of context window cuts the answer just as max_tokens does; the engine handles that case.
  if (reason === 'model_context_window_exceeded') return 'max_tokens';
  return null;
}

/**
 * Map the SDK's final message to a {@link ModelResponse}. Only text and tool_use blocks are
 * kept: mithai neither enables thinking nor server tools, so any other block is dropped rather
 * than stored in a history it could corrupt.
 */
export function fromAnthropicMessage(message: AnthropicMessage): ModelResponse {
  const content: Array<TextBlock | ToolUseBlock> = [];
  for (const block of message.content) {
    if (block.type === 'text') content.push({ type: 'text', text: block.text });
    else if (block.type === 'tool_use') content.push({ type: 'tool_use', id: block.id, name: block.name, input: block.input });
  }
  const { usage } = message;
  const out: ModelResponse['usage'] = { inputTokens: usage.input_tokens, outputTokens: usage.output_tokens };
  if (typeof usage.cache_read_input_tokens === 'number') out.cacheReadTokens = usage.cache_read_input_tokens;
  if (typeof usage.cache_creation_input_tokens === 'number') out.cacheWriteTokens = usage.cache_creation_input_tokens;
  return { content, stopReason: toStopReason(message.stop_reason), usage: out };
}
