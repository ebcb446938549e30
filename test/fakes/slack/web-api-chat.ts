/**
 * Message methods: chat.postMessage, chat.update, chat.postEphemeral, reactions.add,
 * reactions.remove, conversations.replies and conversations.history, with Slack's error codes
 * for each.
 *
 * Message metadata (`metadata: { event_type, event_payload }`) is stored with a message and, as
 * on Slack, read back only by a conversations.replies / conversations.history call that asks
 * for it with `include_all_metadata=true`; chat.update without `metadata` keeps the old one.
 *
 * Not modelled: channel membership (`not_in_channel`), archived channels, attachments
 * rendering, `reply_broadcast`, `unfurl_*`, `as_user`/`username`/`icon_*` overrides,
 * conversations.replies / history `oldest`/`latest`/`inclusive`, chat.delete, chat.scheduleMessage.
 */
import { apiError } from './web-api.ts';
import type { MethodContext, MethodHandler } from './web-api.ts';
import { bool, str, wireMessage, withGeneratedIds } from './blocks.ts';
import { validateMessage } from './validation.ts';
import type { JsonObject, SlackMessage } from './types.ts';

const MAX_REPLIES_LIMIT = 1000;
/** conversations.history: Slack's default page size and its maximum. */
const HISTORY_DEFAULT_LIMIT = 100;
const MAX_HISTORY_LIMIT = 999;

/** Slack's check of message metadata: an object with a string `event_type` and an object `event_payload`. */
function metadataError(metadata: unknown): string | undefined {
  if (metadata === undefined) return undefined;
  const m = metadata as { event_type?: unknown; event_payload?: unknown } | null;
  const isObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(m) || typeof m?.event_type !== 'string' || m.event_type === '' || !isObject(m.event_payload)) return 'invalid_metadata_format';
  return undefined;
}

/** A message as a read method returns it: metadata only when the caller asked for it. */
function readMessage(message: SlackMessage, withMetadata: boolean): JsonObject {
  const wire = wireMessage(message);
  if (!withMetadata) delete wire.metadata;
  return wire;
}

/** Slack opens a DM when chat.postMessage is given a user id as `channel`. */
function resolveChannel(channel: string): string {
  return /^[UW]/.test(channel) ? `D${channel.slice(1)}` : channel;
}

function postMessage({ state, args }: MethodContext): JsonObject {
  const raw = str(args.channel);
  if (!raw) return apiError('channel_not_found');
  const invalid = validateMessage(args);
  if (invalid) return apiError(invalid.error, invalid.messages);
  const badMetadata = metadataError(args.metadata);
  if (badMetadata) return apiError(badMetadata);
  const channel = resolveChannel(raw);
  const { botUserId, botId, appId, teamId } = state.config;
  const threadTs = str(args.thread_ts);
  const message: SlackMessage = {
    type: 'message',
    ts: state.nextTs(),
    channel,
    text: str(args.text) ?? '',
    user: botUserId,
    bot_id: botId,
    app_id: appId,
    team: teamId,
    bot_profile: { id: botId, app_id: appId, name: 'mithai', team_id: teamId, deleted: false },
  };
  const blocks = withGeneratedIds(args.blocks);
  if (blocks) message.blocks = blocks;
  if (threadTs) message.thread_ts = state.threadRoot(channel, threadTs);
  if (args.metadata !== undefined) message.metadata = args.metadata;
  state.addMessage(message);
  // As on Slack, the app's message in a thread clears the thread's assistant status.
  if (message.thread_ts) state.setThreadStatus(channel, message.thread_ts, '');
  return { ok: true, channel, ts: message.ts, message: wireMessage(message) };
}

function update({ state, args }: MethodContext): JsonObject {
  const channel = str(args.channel);
  const ts = str(args.ts);
  if (!channel) return apiError('channel_not_found');
  const message = ts ? state.findMessage(channel, ts) : undefined;
  if (!message) return apiError('message_not_found');
  if (message.bot_id !== state.config.botId) return apiError('cant_update_message');
  if (args.text === undefined && args.blocks === undefined && args.attachments === undefined) return apiError('no_text');
  const text = args.text === undefined ? message.text : (str(args.text) ?? '');
  const blocks = args.blocks === undefined ? message.blocks : args.blocks;
  const invalid = validateMessage({ text, blocks, attachments: args.attachments });
  if (invalid) return apiError(invalid.error, invalid.messages);
  const badMetadata = metadataError(args.metadata);
  if (badMetadata) return apiError(badMetadata);
  message.text = text;
  const withIds = withGeneratedIds(blocks);
  if (withIds && withIds.length > 0) message.blocks = withIds;
  else delete message.blocks;
  if (args.metadata !== undefined) message.metadata = args.metadata;
  message.edited = { user: state.config.botUserId, ts: state.nextTs() };
  return { ok: true, channel, ts: message.ts, text: message.text, message: wireMessage(message) };
}

function postEphemeral({ state, args }: MethodContext): JsonObject {
  const channel = str(args.channel);
  const user = str(args.user);
  if (!channel) return apiError('channel_not_found');
  if (!user || !state.users.has(user)) return apiError('user_not_found');
  const invalid = validateMessage(args);
  if (invalid) return apiError(invalid.error, invalid.messages);
  const ts = state.nextTs();
  const threadTs = str(args.thread_ts);
  const blocks = withGeneratedIds(args.blocks);
  state.ephemerals.push({
    channel: resolveChannel(channel),
    user,
    text: str(args.text) ?? '',
    ...(blocks ? { blocks } : {}),
    ...(threadTs ? { thread_ts: threadTs } : {}),
    ts,
    via: 'chat.postEphemeral',
  });
  return { ok: true, message_ts: ts };
}

/** reactions.add / reactions.remove share argument checks. */
function reaction(kind: 'add' | 'remove') {
  return ({ state, args }: MethodContext): JsonObject => {
    const channel = str(args.channel);
    const ts = str(args.timestamp);
    const name = str(args.name)?.replace(/^:|:$/g, '');
    if (!name) return apiError('invalid_name');
    if (!channel) return apiError('channel_not_found');
    if (!ts || !state.findMessage(channel, ts)) return apiError('message_not_found');
    const user = state.config.botUserId;
    if (kind === 'add') return state.addReaction(channel, ts, name, user) ? { ok: true } : apiError('already_reacted');
    return state.removeReaction(channel, ts, name, user) ? { ok: true } : apiError('no_reaction');
  };
}

/** Cursors look like Slack's: base64 of `next_ts:<ts>`. */
function encodeCursor(ts: string): string {
  return Buffer.from(`next_ts:${ts}`).toString('base64');
}

function decodeCursor(cursor: string): string | undefined {
  const decoded = Buffer.from(cursor, 'base64').toString('utf8');
  return /^next_ts:\d+\.\d+$/.test(decoded) ? decoded.slice('next_ts:'.length) : undefined;
}

function replies({ state, args }: MethodContext): JsonObject {
  const channel = str(args.channel);
  const ts = str(args.ts);
  if (!channel || state.channel(channel).length === 0) return apiError('channel_not_found');
  if (!ts || !state.findMessage(channel, ts)) return apiError('thread_not_found');
  const limit = Math.min(Math.max(Number(args.limit ?? MAX_REPLIES_LIMIT) || MAX_REPLIES_LIMIT, 1), MAX_REPLIES_LIMIT);
  const thread = state.thread(channel, ts);
  let start = 0;
  const cursor = str(args.cursor);
  if (cursor) {
    const from = decodeCursor(cursor);
    if (!from) return apiError('invalid_cursor');
    start = thread.findIndex((m) => m.ts === from);
    if (start < 0) return apiError('invalid_cursor');
  }
  const page = thread.slice(start, start + limit);
  const next = thread[start + limit];
  const withMetadata = bool(args.include_all_metadata);
  return {
    ok: true,
    messages: page.map((m) => readMessage(m, withMetadata)),
    has_more: next !== undefined,
    response_metadata: { next_cursor: next ? encodeCursor(next.ts) : '' },
  };
}

/** A channel's top-level messages (thread replies left out), newest first, like Slack. */
function history({ state, args }: MethodContext): JsonObject {
  const channel = str(args.channel);
  if (!channel || state.channel(channel).length === 0) return apiError('channel_not_found');
  const limit = Math.min(Math.max(Number(args.limit ?? HISTORY_DEFAULT_LIMIT) || HISTORY_DEFAULT_LIMIT, 1), MAX_HISTORY_LIMIT);
  const topLevel = state.channel(channel).filter((m) => m.thread_ts === undefined || m.thread_ts === m.ts).reverse();
  let start = 0;
  const cursor = str(args.cursor);
  if (cursor) {
    const from = decodeCursor(cursor);
    if (!from) return apiError('invalid_cursor');
    start = topLevel.findIndex((m) => m.ts === from);
    if (start < 0) return apiError('invalid_cursor');
  }
  const page = topLevel.slice(start, start + limit);
  const next = topLevel[start + limit];
  const withMetadata = bool(args.include_all_metadata);
  return {
    ok: true,
    messages: page.map((m) => readMessage(m, withMetadata)),
    has_more: next !== undefined,
    pin_count: 0,
    response_metadata: { next_cursor: next ? encodeCursor(next.ts) : '' },
  };
}

/** The message-related Web API methods. */
export const chatMethods: ReadonlyMap<string, MethodHandler> = new Map<string, MethodHandler>([
  ['chat.postMessage', { token: 'bot', handle: postMessage }],
  ['chat.update', { token: 'bot', handle: update }],
  ['chat.postEphemeral', { token: 'bot', handle: postEphemeral }],
  ['reactions.add', { token: 'bot', handle: reaction('add') }],
  ['reactions.remove', { token: 'bot', handle: reaction('remove') }],
  ['conversations.replies', { token: 'bot', handle: replies }],
  ['conversations.history', { token: 'bot', handle: history }],
]);
