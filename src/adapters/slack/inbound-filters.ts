/**
 * The inbound filter chain, as small named steps (pure functions): which Slack messages become
 * turns, and what a turn's text, thread and time are. The dispatcher runs them in order:
 * subtype → bots and self → respond mode → de-duplication keys → allowlists; then (async, in
 * the dispatcher) the organisation step of ./organisation.ts: Slack Connect outsiders and shared channels.
 *
 * Fail closed: a message whose sender cannot be identified is dropped, and a bot is let through
 * only when its id is listed in allowed_users exactly (a wildcard that happens to match a bot id
 * does not count) *and* the list as a whole lets that id through (a later `!B…` still excludes it).
 */
import { matchesAllowlist } from '../../security/allowlist.ts';

/** A user or bot message from an `app_mention` or `message` event, normalised. */
export interface InboundMessage {
  kind: 'app_mention' | 'message';
  team: string;
  channel: string;
  /** `im`, `channel`, `group`, `mpim` (message events only). */
  channelType?: string;
  user?: string;
  botId?: string;
  subtype?: string;
  text: string;
  ts: string;
  threadTs?: string;
  eventId?: string;
  /** The sender's home team as the event names it (`user_team`, else `team` outside shared channels): who is from another organisation. */
  userTeam?: string;
  /** The envelope's `is_ext_shared_channel`: true when Slack says the channel is shared with another organisation. */
  isExtSharedChannel?: boolean;
}

/** What a filter decided. `drop` carries a reason for the log (ids only, never text). */
export type Verdict = { ok: true } | { ok: false; reason: string };

const PASS: Verdict = { ok: true };
const drop = (reason: string): Verdict => ({ ok: false, reason });

/** Message subtypes that are people (or bots) saying something; edits, joins, deletes are not. */
const CONVERSATIONAL_SUBTYPES = new Set(['thread_broadcast', 'file_share', 'bot_message', 'me_message']);

/** Drop edits, deletions, joins and other housekeeping messages (and anything without a place). */
export function isConversational(msg: InboundMessage): Verdict {
  if (msg.channel === '' || msg.ts === '') return drop('no channel or ts');
  if (msg.subtype === undefined || CONVERSATIONAL_SUBTYPES.has(msg.subtype)) return PASS;
  return drop(`subtype ${msg.subtype}`);
}

/**
 * Drop the bot's own messages always, and other bots unless allowed_users lists them exactly.
 * A message with a bot id is judged only as that bot: the `user` field some bot messages carry
 * (the person who installed or drives the bot) never makes it count as that person.
 */
export function isFromPersonOrAllowedBot(msg: InboundMessage, botUserId: string, botId: string, allowedUsers: readonly string[]): Verdict {
  if (msg.botId !== undefined ? msg.botId === botId : msg.user === botUserId) return drop('own message');
  if (isBotMessage(msg)) return isListedBot(msg, allowedUsers) ? PASS : drop('message from a bot');
  return msg.user ? PASS : drop('no sender');
}

function isBotMessage(msg: InboundMessage): boolean {
  return msg.botId !== undefined || msg.subtype === 'bot_message';
}

/**
 * A bot is let in only by an exact entry for its bot id that no later rule (e.g. `!B…`)
 * overrides. A bot message without a bot id cannot be identified as any bot: refused.
 */
function isListedBot(msg: InboundMessage, allowedUsers: readonly string[]): boolean {
  const id = msg.botId;
  return id !== undefined && allowedUsers.includes(id) && matchesAllowlist(id, allowedUsers);
}

/** Who a message is from, as the allowlists, the rate limit and the turn see it: a bot by its bot id. */
export function senderOf(msg: Pick<InboundMessage, 'user' | 'botId' | 'subtype'>): string | undefined {
  return msg.botId ?? (msg.subtype === 'bot_message' ? undefined : msg.user);
}

/**
 * `app_mention` always counts; DMs always count; other channel messages only with
 * `respond: all`. A channel message that mentions the bot is left to its `app_mention` event,
 * so one message never starts two turns.
 */
export function matchesRespondMode(msg: InboundMessage, respond: 'mentions' | 'all', botUserId: string): Verdict {
  if (msg.kind === 'app_mention') return PASS;
  if (msg.channelType === 'im') return PASS;
  if (respond !== 'all') return drop('not a mention (respond: mentions)');
  if (mentionsBot(msg.text, botUserId)) return drop('handled as app_mention');
  return PASS;
}

/** Whether the sender and the channel pass `allowed_users` / `allowed_channels` (DMs: users only). */
export function isAllowed(msg: InboundMessage, allowedUsers: readonly string[], allowedChannels: readonly string[]): Verdict {
  const sender = senderOf(msg);
  if (sender === undefined) return drop('no sender');
  const isSenderAllowed = isBotMessage(msg) ? isListedBot(msg, allowedUsers) : matchesAllowlist(sender, allowedUsers);
  if (!isSenderAllowed) return drop('user not in allowed_users');
  if (msg.channelType !== 'im' && !matchesAllowlist(msg.channel, allowedChannels)) return drop('channel not in allowed_channels');
  return PASS;
}

/**
 * Keys that identify a delivery: the event id (Slack retries reuse it), and the message itself
 * (team + channel + ts), which also catches one message arriving as two different events.
 */
export function dedupeKeys(msg: InboundMessage): string[] {
  const keys = [`msg:${msg.team}:${msg.channel}:${msg.ts}`];
  if (msg.eventId) keys.unshift(`event:${msg.eventId}`);
  return keys;
}

/** The thread a reply belongs in: the parent's ts inside a thread, else the message itself. */
export function threadTsOf(msg: Pick<InboundMessage, 'ts' | 'threadTs'>): string {
  return msg.threadTs ?? msg.ts;
}

/** Whether the text mentions the bot (`<@UBOT>` or `<@UBOT|name>`). */
export function mentionsBot(text: string, botUserId: string): boolean {
  return text.includes(`<@${botUserId}>`) || text.includes(`<@${botUserId}|`);
}

/** The text for the model: the bot's own mention removed, Slack's escapes decoded, trimmed. */
export function turnText(text: string, botUserId: string): string {
  const labelled = new RegExp(`<@${botUserId.replace(/[^A-Za-z0-9]/g, '')}\\|[^>]*>`, 'g');
  const withoutBot = text.split(`<@${botUserId}>`).join(' ').replace(labelled, ' ');
  return decodeSlackEscapes(withoutBot).replace(/[ \t]{2,}/g, ' ').trim();
}

/** Slack sends `&`, `<`, `>` as `&amp;`, `&lt;`, `&gt;` in message text. */
export function decodeSlackEscapes(text: string): string {
  return text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
}

/** Order two Slack timestamps (`seconds.micros`) exactly; a float compare can lose the last digit. */
export function compareTs(a: string, b: string): number {
  const [as = '0', am = ''] = a.split('.');
  const [bs = '0', bm = ''] = b.split('.');
  return Number(as) - Number(bs) || Number(am.padEnd(6, '0')) - Number(bm.padEnd(6, '0'));
}

/** The time a Slack ts stands for (`1700000000.000100` → a Date). */
export function dateOfTs(ts: string): Date | undefined {
  const seconds = Number(ts);
  return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : undefined;
}
