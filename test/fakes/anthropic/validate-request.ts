/**
 * The checks the real Messages API makes before it runs a model, with messages worded like
 * the real ones. They exist so a broken history (an unanswered tool_use, an orphaned
 * tool_result, a fifth cache breakpoint) fails a test exactly as it would fail in production.
 *
 * Covered: required fields, message roles and emptiness, tool_use/tool_result pairing and
 * placement, unique tool_use ids, tool definitions, cache_control count and type, empty text.
 * Not covered: token limits, images and documents, thinking blocks, tool_choice.
 */
import type { WireBlock, WireMessage, WireRequest, WireTool } from './wire.ts';
import { countCacheControl } from './wire.ts';

const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const TOOL_USE_ID = /^[a-zA-Z0-9_-]+$/;
const MAX_CACHE_BREAKPOINTS = 4;

/**
 * Validate a `POST /v1/messages` body.
 * @returns the `invalid_request_error` message the real API would send, or undefined if valid.
 */
export function validateRequest(body: WireRequest): string | undefined {
  if (body.model === undefined) return 'model: Field required';
  if (typeof body.model !== 'string' || body.model === '') return 'model: Input should be a valid string';
  if (body.max_tokens === undefined) return 'max_tokens: Field required';
  if (typeof body.max_tokens !== 'number' || !Number.isInteger(body.max_tokens)) return 'max_tokens: Input should be a valid integer';
  if (body.max_tokens < 1) return 'max_tokens: Input should be greater than or equal to 1';
  if (body.messages === undefined) return 'messages: Field required';
  if (!Array.isArray(body.messages)) return 'messages: Input should be a valid list';
  if (body.stream !== undefined && typeof body.stream !== 'boolean') return 'stream: Input should be a valid boolean';

  const system = validateSystem(body.system);
  if (typeof system === 'string') return system;
  const tools = validateTools(body.tools);
  if (typeof tools === 'string') return tools;
  const messages = body.messages as WireMessage[];
  const messageError = validateMessages(messages);
  if (messageError) return messageError;

  const breakpoints = countCacheControl(system, tools, messages);
  if (breakpoints > MAX_CACHE_BREAKPOINTS) {
    return `A maximum of ${MAX_CACHE_BREAKPOINTS} blocks with cache_control may be provided. Found ${breakpoints}.`;
  }
  return undefined;
}

function cacheControlError(where: string, block: { cache_control?: unknown }): string | undefined {
  const cc = block.cache_control;
  if (cc == null) return undefined;
  if (typeof cc !== 'object' || (cc as { type?: unknown }).type !== 'ephemeral') return `${where}.cache_control.type: Input should be 'ephemeral'`;
  return undefined;
}

function textError(where: string, scope: string, block: WireBlock): string | undefined {
  if (typeof block.text !== 'string') return `${where}.text: Field required`;
  if (block.text === '') return block.cache_control != null ? `${where}.text: cache_control cannot be set for empty text blocks` : `${scope}: text content blocks must be non-empty`;
  if (block.text.trim() === '') return `${scope}: text content blocks must contain non-whitespace text`;
  return cacheControlError(where, block);
}

function validateSystem(system: unknown): WireBlock[] | string {
  if (system === undefined) return [];
  if (typeof system === 'string') return [{ type: 'text', text: system }];
  if (!Array.isArray(system)) return 'system: Input should be a valid string or list';
  for (const [i, block] of (system as WireBlock[]).entries()) {
    if (!block || block.type !== 'text') return `system.${i}.type: Input should be 'text'`;
    const err = textError(`system.${i}`, 'system', block);
    if (err) return err;
  }
  return system as WireBlock[];
}

function validateTools(tools: unknown): WireTool[] | string {
  if (tools === undefined) return [];
  if (!Array.isArray(tools)) return 'tools: Input should be a valid list';
  const names = new Set<string>();
  for (const [i, tool] of (tools as WireTool[]).entries()) {
    if (typeof tool?.name !== 'string') return `tools.${i}.custom.name: Field required`;
    if (!TOOL_NAME.test(tool.name)) return `tools.${i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,64}$'`;
    if (tool.input_schema === undefined) return `tools.${i}.custom.input_schema: Field required`;
    if (tool.input_schema?.type !== 'object') return `tools.${i}.custom.input_schema.type: Input should be 'object'`;
    const err = cacheControlError(`tools.${i}.custom`, tool);
    if (err) return err;
    if (names.has(tool.name)) return 'tools: Tool names must be unique.';
    names.add(tool.name);
  }
  return tools as WireTool[];
}

function blocksOf(message: WireMessage): WireBlock[] {
  return typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
}

function validateMessages(messages: WireMessage[]): string | undefined {
  if (messages.length === 0) return 'messages: at least one message is required';
  for (const [i, m] of messages.entries()) {
    if (!m || (m.role !== 'user' && m.role !== 'assistant')) return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (typeof m.content !== 'string' && !Array.isArray(m.content)) return `messages.${i}.content: Input should be a valid string or list`;
    const isFinalAssistant = i === messages.length - 1 && m.role === 'assistant';
    if (!isFinalAssistant && (m.content === '' || m.content.length === 0)) {
      return `messages.${i}: all messages must have non-empty content except for the optional final assistant message`;
    }
  }
  if (messages[0].role !== 'user') return 'messages: first message must use the "user" role';

  const seenToolUseIds = new Set<string>();
  for (const [i, m] of messages.entries()) {
    const blocks = blocksOf(m);
    for (const [j, block] of blocks.entries()) {
      const where = `messages.${i}.content.${j}`;
      if (!block || typeof block.type !== 'string') return `${where}.type: Field required`;
      if (block.type === 'text') {
        // A plain-string message that is empty was reported above; only blocks reach here.
        const err = textError(where, 'messages', block);
        if (err) return err;
      } else if (block.type === 'tool_use') {
        if (m.role !== 'assistant') return `${where}: \`tool_use\` blocks can only be in \`assistant\` messages`;
        if (typeof block.id !== 'string' || !TOOL_USE_ID.test(block.id)) return `${where}.tool_use.id: String should match pattern '^[a-zA-Z0-9_-]+$'`;
        if (typeof block.name !== 'string' || block.name === '') return `${where}.tool_use.name: Field required`;
        if (!block.input || typeof block.input !== 'object' || Array.isArray(block.input)) return `${where}.tool_use.input: Input should be a valid dictionary`;
        if (seenToolUseIds.has(block.id)) return `${where}: \`tool_use\` ids must be unique`;
        seenToolUseIds.add(block.id);
        const err = cacheControlError(where, block);
        if (err) return err;
      } else if (block.type === 'tool_result') {
        if (m.role !== 'user') return `${where}: \`tool_result\` blocks can only be in \`user\` messages`;
        if (typeof block.tool_use_id !== 'string') return `${where}.tool_result.tool_use_id: Field required`;
        if (typeof block.content === 'string' && block.content === '' && block.is_error) {
          return `${where}.tool_result: content cannot be empty if \`is_error\` is true`;
        }
        const err = cacheControlError(where, block);
        if (err) return err;
      }
    }
  }
  return validatePairing(messages);
}

/**
 * Every tool_use in an assistant message must be answered by a tool_result at the very start
 * of the next user message; every tool_result must answer a tool_use of the message before.
 */
function validatePairing(messages: WireMessage[]): string | undefined {
  for (const [i, m] of messages.entries()) {
    if (m.role !== 'user') continue;
    const blocks = blocksOf(m);
    const previous = i > 0 && messages[i - 1].role === 'assistant' ? blocksOf(messages[i - 1]) : [];
    const asked = new Set(previous.filter((b) => b.type === 'tool_use').map((b) => b.id as string));
    const answered = new Set<string>();
    for (const [j, block] of blocks.entries()) {
      if (block.type !== 'tool_result') continue;
      const id = block.tool_use_id as string;
      if (!asked.has(id)) {
        return `messages.${i}.content.${j}: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
      if (answered.has(id)) {
        return `messages.${i}.content.${j}: each tool_use must have a single result. Found multiple \`tool_result\` blocks with id: ${id}`;
      }
      answered.add(id);
    }
  }
  for (const [i, m] of messages.entries()) {
    if (m.role !== 'assistant') continue;
    const ids = blocksOf(m).filter((b) => b.type === 'tool_use').map((b) => b.id as string);
    if (ids.length === 0) continue;
    const next = messages[i + 1];
    const leading = new Set<string>();
    if (next?.role === 'user') {
      for (const b of blocksOf(next)) {
        if (b.type !== 'tool_result') break;
        leading.add(b.tool_use_id as string);
      }
    }
    const missing = ids.filter((id) => !leading.has(id));
    if (missing.length > 0) {
      return `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`;
    }
  }
  return undefined;
}
