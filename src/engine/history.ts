/**
 * Turning stored messages into a history the Messages API accepts. The store is append-only
 * and a crash can leave it mid-step (an assistant tool_use with no result yet), so every load
 * goes through `repairHistory`, which never drops a user's words and never invents a success.
 */
import type { ContentBlock, Message, ToolResultBlock, ToolUseBlock } from '../llm/types.ts';

/** Result text given to a tool_use that never got an answer (crash, restart, cut-off). */
export const INTERRUPTED_RESULT =
  'Not run, or outcome unknown: the runtime stopped before this call finished. It was not retried. Check the audit log before trying again.';

function blocks(message: Message): ContentBlock[] {
  if (typeof message.content === 'string') return [{ type: 'text', text: message.content }];
  // A damaged stored block (not an object with a type) is dropped rather than sent or crashed on.
  return message.content.filter((b): b is ContentBlock => b !== null && typeof b === 'object' && typeof (b as { type?: unknown }).type === 'string');
}

function toolUses(message: Message): ToolUseBlock[] {
  return blocks(message).filter((b): b is ToolUseBlock => b.type === 'tool_use');
}

/**
 * Make a history valid for the API:
 * - every assistant tool_use is answered by a tool_result at the start of the next user message
 *   (missing ones get {@link INTERRUPTED_RESULT});
 * - tool_results that answer nothing are dropped;
 * - consecutive messages of one role are merged (results first), so the roles alternate;
 * - the history starts with a user message.
 */
export function repairHistory(input: readonly Message[]): Message[] {
  const out: Message[] = [];
  for (let i = 0; i < input.length; i++) {
    const message = input[i]!;
    if (message.role === 'assistant') {
      const content = blocks(message).filter((b) => b.type !== 'text' || b.text.trim() !== '');
      if (content.length === 0) continue;
      pushMerged(out, { role: 'assistant', content });
      const uses = toolUses(message);
      if (uses.length === 0) continue;
      // Collect the results that answer these uses from the following user messages.
      const next = input[i + 1];
      const given = next && next.role === 'user' ? blocks(next).filter((b): b is ToolResultBlock => b.type === 'tool_result') : [];
      const results: ToolResultBlock[] = uses.map(
        (use) => given.find((r) => r.tool_use_id === use.id) ?? { type: 'tool_result', tool_use_id: use.id, content: INTERRUPTED_RESULT, is_error: true },
      );
      const rest = next && next.role === 'user' ? blocks(next).filter((b) => b.type !== 'tool_result') : [];
      out.push({ role: 'user', content: [...results, ...rest] });
      if (next && next.role === 'user') i++;
    } else {
      // A user message not directly after a tool_use: its tool_results answer nothing.
      const content = blocks(message).filter((b) => b.type !== 'tool_result' && !(b.type === 'text' && b.text.trim() === ''));
      if (content.length === 0) continue;
      pushMerged(out, { role: 'user', content });
    }
  }
  while (out.length > 0 && out[0]!.role !== 'user') out.shift();
  // A leading user message made only of tool_results (its assistant was cut off) is invalid.
  while (out.length > 0 && blocks(out[0]!).every((b) => b.type === 'tool_result')) {
    out.shift();
    while (out.length > 0 && out[0]!.role !== 'user') out.shift();
  }
  return out;
}

function pushMerged(out: Message[], message: Message): void {
  const last = out[out.length - 1];
  if (last && last.role === message.role) {
    last.content = [...blocks(last), ...blocks(message)];
    return;
  }
  out.push({ role: message.role, content: blocks(message) });
}
