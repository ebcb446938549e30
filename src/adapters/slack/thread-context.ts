/**
 * Catching up on a thread: when the bot is mentioned inside a thread it has no history for, it
 * reads the thread (conversations.replies, paginated) so the model knows what was said.
 *
 * What it reads is capped ({@link THREAD_LIMITS}); when the thread is longer, the most recent
 * messages before the mention are kept. Messages from people outside `allowed_users`, from
 * other bots, and from unknown senders are wrapped as untrusted (with a fresh nonce), and their
 * presence taints the session: they could carry instructions aimed at the model.
 */
import { matchesAllowlist } from '../../security/allowlist.ts';
import { newNonce, wrapUntrusted } from '../../security/untrusted.ts';
import { compareTs, decodeSlackEscapes } from './inbound-filters.ts';
import type { RepliesPage } from './slack-poster.ts';

/** How much of a thread is read and handed to the model. */
export const THREAD_LIMITS = { messages: 200, chars: 20_000, perMessageChars: 4_000, pageSize: 100 } as const;

/** A thread message as conversations.replies returns it (the fields we read). */
export type ThreadMessage = RepliesPage['messages'][number];

/** Who is who in a thread. */
export interface ThreadReaders {
  botUserId: string;
  botId: string;
  allowedUsers: readonly string[];
  redact(text: string): string;
}

/** The thread as one context block for the model, and whether any of it is untrusted. */
export interface ThreadContext {
  block: string | undefined;
  hasUntrusted: boolean;
}

/**
 * Read up to {@link THREAD_LIMITS.messages} messages of a thread, following cursors.
 * @param fetchPage One conversations.replies call.
 */
export async function readThread(
  fetchPage: (cursor: string | undefined, limit: number) => Promise<RepliesPage>,
): Promise<ThreadMessage[]> {
  const messages: ThreadMessage[] = [];
  let cursor: string | undefined;
  do {
    const page = await fetchPage(cursor, THREAD_LIMITS.pageSize);
    messages.push(...page.messages);
    cursor = page.nextCursor;
  } while (cursor !== undefined && messages.length < THREAD_LIMITS.messages);
  return messages.slice(0, THREAD_LIMITS.messages);
}

/**
 * The messages before `beforeTs` as a context block: newest kept first when over the character
 * cap, then shown oldest first.
 */
export function formatThread(messages: readonly ThreadMessage[], beforeTs: string, readers: ThreadReaders): ThreadContext {
  const earlier = messages.filter((m) => m.ts !== undefined && compareTs(m.ts, beforeTs) < 0);
  const nonce = newNonce();
  let hasUntrusted = false;
  const lines: string[] = [];
  let chars = 0;
  for (const message of [...earlier].reverse()) {
    const entry = renderMessage(message, readers, nonce);
    if (chars + entry.text.length > THREAD_LIMITS.chars) break;
    chars += entry.text.length + 1;
    lines.unshift(entry.text);
    hasUntrusted ||= entry.isUntrusted;
  }
  if (lines.length === 0) return { block: undefined, hasUntrusted: false };
  const omitted = earlier.length - lines.length;
  const header = [
    'Earlier messages in this Slack thread, oldest first. You were mentioned in it and had not seen it before.',
    ...(omitted > 0 ? [`(${omitted} earlier message${omitted === 1 ? '' : 's'} left out.)`] : []),
  ];
  return { block: [...header, ...lines].join('\n'), hasUntrusted };
}

function renderMessage(message: ThreadMessage, readers: ThreadReaders, nonce: string): { text: string; isUntrusted: boolean } {
  const raw = decodeSlackEscapes(message.text ?? '');
  const text = readers.redact(raw.length > THREAD_LIMITS.perMessageChars ? `${raw.slice(0, THREAD_LIMITS.perMessageChars)}… (cut)` : raw);
  const isOwn = message.user === readers.botUserId || (message.bot_id !== undefined && message.bot_id === readers.botId);
  if (isOwn) return { text: `[you]: ${text}`, isUntrusted: false };
  const isBot = message.bot_id !== undefined || message.subtype === 'bot_message';
  const sender = message.user ?? message.bot_id;
  if (!isBot && sender !== undefined && matchesAllowlist(sender, readers.allowedUsers)) {
    return { text: `[<@${sender}>]: ${text}`, isUntrusted: false };
  }
  const source = `slack:${sender ?? 'unknown'}${isBot ? ' (bot)' : ''}`;
  return { text: wrapUntrusted(text, source, nonce), isUntrusted: true };
}
