/**
 * Catching up on a thread: when the bot is mentioned inside a thread it has no history for, it
 * reads the thread (conversations.replies, paginated) so the model knows what was said.
 *
 * What it keeps is capped ({@link THREAD_LIMITS}); when the thread is longer, the thread's
 * parent message and the most recent messages before the mention are kept (the whole thread is
 * paged through, up to a page cap, since Slack returns it oldest first). Messages from people outside `allowed_users`, from
 * other bots, and from unknown senders are wrapped as untrusted (with a fresh nonce), and their
 * presence taints the session: they could carry instructions aimed at the model.
 */
import { matchesAllowlist } from '../../security/allowlist.ts';
import { redactThenCut } from '../../security/redact-then-cut.ts';
import { newNonce, wrapUntrusted } from '../../security/untrusted.ts';
import { compareTs, decodeSlackEscapes } from './inbound-filters.ts';
import type { RepliesPage } from './slack-poster.ts';

/** How much of a thread is read and handed to the model. */
export const THREAD_LIMITS = { messages: 200, chars: 20_000, perMessageChars: 4_000, pageSize: 200, maxPages: 25 } as const;

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

/** A thread as read: the messages kept, and how many between the parent and them were dropped. */
export interface ReadThread {
  messages: ThreadMessage[];
  skipped: number;
}

/**
 * Read a thread, following cursors to its end (at most {@link THREAD_LIMITS.maxPages} pages),
 * and keep its parent (the first message) plus the most recent messages, at most
 * {@link THREAD_LIMITS.messages} in all, oldest first.
 * @param fetchPage One conversations.replies call.
 */
export async function readThread(fetchPage: (cursor: string | undefined, limit: number) => Promise<RepliesPage>): Promise<ReadThread> {
  let parent: ThreadMessage | undefined;
  let recent: ThreadMessage[] = [];
  let skipped = 0;
  const keep = THREAD_LIMITS.messages - 1;
  const seen = new Set<string>();
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await fetchPage(cursor, THREAD_LIMITS.pageSize);
    pages += 1;
    for (const message of page.messages) {
      if (message.ts !== undefined) {
        if (seen.has(message.ts)) continue; // a page may repeat the parent
        seen.add(message.ts);
      }
      if (parent === undefined) parent = message;
      else recent.push(message);
    }
    if (recent.length > keep) {
      skipped += recent.length - keep;
      recent = recent.slice(-keep);
    }
    cursor = page.nextCursor;
  } while (cursor !== undefined && pages < THREAD_LIMITS.maxPages);
  return { messages: parent === undefined ? recent : [parent, ...recent], skipped };
}

/**
 * The messages before `beforeTs` as a context block, shown oldest first. Over the character cap,
 * the first message (the thread's parent) is kept, then the newest that still fit; a note says
 * how many in between were left out (`skipped` of them already when the thread was read).
 */
export function formatThread(messages: readonly ThreadMessage[], beforeTs: string, readers: ThreadReaders, skipped = 0): ThreadContext {
  const earlier = messages.filter((m) => m.ts !== undefined && compareTs(m.ts, beforeTs) < 0);
  const nonce = newNonce();
  const [first, ...rest] = earlier;
  const rendered = first === undefined ? undefined : renderMessage(first, readers, nonce);
  const head = rendered !== undefined && rendered.text.length <= THREAD_LIMITS.chars ? rendered : undefined;
  let hasUntrusted = head?.isUntrusted ?? false;
  const lines: string[] = [];
  let chars = head === undefined ? 0 : head.text.length + 1;
  for (const message of (head === undefined ? earlier : rest).slice().reverse()) {
    const entry = renderMessage(message, readers, nonce);
    if (chars + entry.text.length > THREAD_LIMITS.chars) break;
    chars += entry.text.length + 1;
    lines.unshift(entry.text);
    hasUntrusted ||= entry.isUntrusted;
  }
  const omitted = skipped + earlier.length - lines.length - (head === undefined ? 0 : 1);
  const note = omitted > 0 ? [`(${omitted} ${head === undefined ? 'earlier' : 'more'} message${omitted === 1 ? '' : 's'} left out here.)`] : [];
  if (head === undefined && lines.length === 0) return { block: undefined, hasUntrusted: false };
  const body = head === undefined ? [...note, ...lines] : [head.text, ...note, ...lines];
  const header = 'Earlier messages in this Slack thread, oldest first. You were mentioned in it and had not seen it before.';
  return { block: [header, ...body].join('\n'), hasUntrusted };
}

function renderMessage(message: ThreadMessage, readers: ThreadReaders, nonce: string): { text: string; isUntrusted: boolean } {
  const raw = decodeSlackEscapes(message.text ?? '');
  // Redacted before the cut, never after: a cut through a secret would leave its first half.
  const cut = redactThenCut(raw, THREAD_LIMITS.perMessageChars, (t) => readers.redact(t));
  const text = cut.isCut ? `${cut.text}… (cut)` : cut.text;
  // A message with a bot id is that bot, whatever its `user` field says (see inbound-filters.ts).
  const isOwn = message.bot_id !== undefined ? message.bot_id === readers.botId : message.user === readers.botUserId;
  if (isOwn) return { text: `[you]: ${text}`, isUntrusted: false };
  const isBot = message.bot_id !== undefined || message.subtype === 'bot_message';
  const sender = message.bot_id ?? message.user;
  if (!isBot && sender !== undefined && matchesAllowlist(sender, readers.allowedUsers)) {
    return { text: `[<@${sender}>]: ${text}`, isUntrusted: false };
  }
  const source = `slack:${sender ?? 'unknown'}${isBot ? ' (bot)' : ''}`;
  return { text: wrapUntrusted(text, source, nonce), isUntrusted: true };
}
