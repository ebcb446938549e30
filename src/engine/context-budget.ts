/**
 * Keeping a long thread within `agent.context_budget_tokens`: whole old turns are left out of
 * the history sent to the model, never a part of one, so every tool_use keeps its tool_result
 * and the history still starts with a person's message. The turn being answered is always kept.
 *
 * Tokens are estimated from the JSON size (3 characters a token, on the high side for English
 * and JSON, so the estimate errs towards trimming). When the history is over the budget it is
 * cut down to at most {@link TRIM_TO_SHARE} of it, in steps of the rest: as the thread grows,
 * the cut stays where it is until the thread has grown by a step, so the requests that follow
 * keep the same prefix (and the prompt cache).
 */
import type { ContentBlock, Message } from '../llm/types.ts';

/** Characters per estimated token. */
const CHARS_PER_TOKEN = 3;

/** A history over its budget is cut to this share of it. */
export const TRIM_TO_SHARE = 0.7;

/** The estimated token count of a value sent to the model (its JSON size / 3, rounded up). */
export function estimateTokens(value: unknown): number {
  return Math.ceil((JSON.stringify(value) ?? '').length / CHARS_PER_TOKEN);
}

/** The note put before the first message kept when older ones were left out. */
export function trimmedNote(left: number, budget: number): string {
  return `[${left} earlier message${left === 1 ? '' : 's'} of this conversation ${left === 1 ? 'was' : 'were'} left out to stay within agent.context_budget_tokens (${budget}); ask the person if you need what was said there.]`;
}

/**
 * The history to send: `history` itself when it fits in `budget` tokens besides `fixedTokens`
 * (system prompt and tools), else its newest whole turns that fit in {@link TRIM_TO_SHARE} of
 * what is left, with a note in front. Expects a history `repairHistory` made valid.
 */
export function fitToBudget(history: readonly Message[], budget: number, fixedTokens: number): { messages: Message[]; left: number } {
  const room = budget - fixedTokens;
  const sizes = history.map(estimateTokens);
  const total = sizes.reduce((a, b) => a + b, 0);
  if (total <= room) return { messages: [...history], left: 0 };
  // Where a turn starts: a person's message, not the tool results that answer a call.
  const starts = history.flatMap((m, i) => (isTurnStart(m) ? [i] : []));
  const last = starts[starts.length - 1] ?? 0;
  // Leave out at least enough to come down to the trim share, rounded up to a whole number of
  // steps of the rest of the room: the amount (and so the cut) changes only when the thread has
  // grown by a step since, not with every message.
  const step = Math.max(1, Math.floor(room * (1 - TRIM_TO_SHARE)));
  const toLeaveOut = Math.ceil((total - Math.floor(room * TRIM_TO_SHARE)) / step) * step;
  let cut = 0;
  let leftOut = 0;
  for (const start of starts) {
    // Never past the turn being answered: its words and its calls are what the model works on.
    if (start >= last) {
      cut = last;
      break;
    }
    while (cut < start) leftOut += sizes[cut++]!;
    if (leftOut >= toLeaveOut) break;
  }
  if (cut === 0) return { messages: [...history], left: 0 };
  const first = history[cut]!;
  const note: ContentBlock = { type: 'text', text: trimmedNote(cut, budget) };
  return { messages: [{ role: 'user', content: [note, ...contentOf(first)] }, ...history.slice(cut + 1)], left: cut };
}

function isTurnStart(message: Message): boolean {
  return message.role === 'user' && !contentOf(message).some((b) => b.type === 'tool_result');
}

function contentOf(message: Message): ContentBlock[] {
  return typeof message.content === 'string' ? [{ type: 'text', text: message.content }] : message.content;
}
