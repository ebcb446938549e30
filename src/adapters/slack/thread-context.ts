/**
 * Catching up on a thread: when the bot is mentioned inside a thread it has no history for, it
 * reads the thread (conversations.replies, paginated) so the model knows what was said.
 *
 * What it keeps is capped ({@link THREAD_LIMITS}); when the thread is longer, the thread's
 * parent message and the most recent messages before the mention are kept (the whole thread is
 * paged through, up to a page cap, since Slack returns it oldest first). Messages from people outside `allowed_users`, from
 * other bots, and from unknown senders are wrapped as untrusted (with a fresh nonce), and their
 * presence taints the session: they could carry instructions aimed at the model. So are messages
 * from people of another organisation (Slack Connect: the message's `user_team` / `team` is not
 * the app's), even when a wildcard in `allowed_users` matches them, unless
 * `allow_external_users` is set; told from the team the message carries, without a lookup per message
 * (a message that names no team is untrusted unless a recent users.info placed its author inside).
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
  /**
   * Whether the author of a message with this team (`user_team`, else `team`; undefined when
   * the message names neither) is an outsider (another organisation): their message is
   * untrusted whatever `allowedUsers` says. Absent: no one is (`allow_external_users`).
   */
  isOutsider?(user: string | undefined, team: string | undefined): boolean;
}

/** The thread as one context block for the model, and whether any of it is untrusted. */
export interface ThreadContext {
  block: string | undefined;
  hasUntrusted: boolean;
  /**
   * Who sent the untrusted messages kept in `block`, first seen first, at most
   * {@link MAX_UNTRUSTED_SOURCES}: a user id (`U999`), a bot id (`B123 (bot)`) or
   * `unknown sender`. Ids only, never message text. Absent when there is no block.
   */
  untrustedSources?: string[];
}

/** At most this many distinct untrusted senders are named (they end up on approval cards). */
export const MAX_UNTRUSTED_SOURCES = 20;

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
  const kept: Array<string | undefined> = [];
  const lines: string[] = [];
  let chars = head === undefined ? 0 : head.text.length + 1;
  for (const message of (head === undefined ? earlier : rest).slice().reverse()) {
    const entry = renderMessage(message, readers, nonce);
    if (chars + entry.text.length > THREAD_LIMITS.chars) break;
    chars += entry.text.length + 1;
    lines.unshift(entry.text);
    kept.unshift(entry.source);
    hasUntrusted ||= entry.isUntrusted;
  }
  // The senders of the untrusted messages the model will read, in thread order, each once.
  const sources: string[] = [];
  for (const source of [head?.source, ...kept]) {
    if (source !== undefined && !sources.includes(source) && sources.length < MAX_UNTRUSTED_SOURCES) sources.push(source);
  }
  const omitted = skipped + earlier.length - lines.length - (head === undefined ? 0 : 1);
  const note = omitted > 0 ? [`(${omitted} ${head === undefined ? 'earlier' : 'more'} message${omitted === 1 ? '' : 's'} left out here.)`] : [];
  if (head === undefined && lines.length === 0) return { block: undefined, hasUntrusted: false };
  const body = head === undefined ? [...note, ...lines] : [head.text, ...note, ...lines];
  const header = 'Earlier messages in this Slack thread, oldest first. You were mentioned in it and had not seen it before.';
  return { block: [header, ...body].join('\n'), hasUntrusted, untrustedSources: sources };
}

/** A message as the model reads it; `source` names the sender of an untrusted one. */
function renderMessage(message: ThreadMessage, readers: ThreadReaders, nonce: string): { text: string; isUntrusted: boolean; source?: string } {
  const raw = decodeSlackEscapes(message.text ?? '');
  // Redacted before the cut, never after: a cut through a secret would leave its first half.
  const cut = redactThenCut(raw, THREAD_LIMITS.perMessageChars, (t) => readers.redact(t));
  const text = cut.isCut ? `${cut.text}… (cut)` : cut.text;
  // A message with a bot id is that bot, whatever its `user` field says (see inbound-filters.ts).
  const isOwn = message.bot_id !== undefined ? message.bot_id === readers.botId : message.user === readers.botUserId;
  if (isOwn) return { text: `[you]: ${text}`, isUntrusted: false };
  const isBot = message.bot_id !== undefined || message.subtype === 'bot_message';
  const sender = message.bot_id ?? message.user;
  const team = message.user_team ?? message.team;
  // A message that names no team is asked about too: when it cannot be told, it is untrusted.
  const isOutsider = readers.isOutsider?.(message.user, team) === true;
  if (!isBot && !isOutsider && sender !== undefined && matchesAllowlist(sender, readers.allowedUsers)) {
    return { text: `[<@${sender}>]: ${text}`, isUntrusted: false };
  }
  const source = `slack:${sender ?? 'unknown'}${isBot ? ' (bot)' : isOutsider ? ' (other organisation)' : ''}`;
  const who = sender === undefined ? 'unknown sender' : `${sender}${isBot ? ' (bot)' : ''}`;
  return { text: wrapUntrusted(text, source, nonce), isUntrusted: true, source: who };
}
