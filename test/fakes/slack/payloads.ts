/**
 * Builders for the payloads Slack pushes over Socket Mode, shaped like real ones: the Events
 * API `event_callback` body (for app_mention and message events) and the interactive
 * `block_actions` and `view_submission` payloads. Pure functions of the workspace config and
 * the data given; the FakeSlack helpers fill in state-derived parts (messages, views, ids).
 *
 * Left out: enterprise grid fields beyond nulls, `event_context`, file shares, `blocks` of
 * messages with formatting other than user mentions.
 */
import { randomUUID } from 'node:crypto';
import type { FakeSlackConfig, JsonObject } from './types.ts';

/** The `user` object interactive payloads carry. */
export function userRef(config: FakeSlackConfig, id: string, name: string): JsonObject {
  return { id, username: name, name, team_id: config.teamId };
}

/** The `team` object interactive payloads carry. */
export function teamRef(config: FakeSlackConfig): JsonObject {
  return { id: config.teamId, domain: config.teamDomain };
}

/**
 * A rich_text block for plain text, as Slack attaches to user messages: `<@U…>` becomes a
 * `user` element, everything else `text` elements.
 */
export function richTextBlocks(text: string): JsonObject[] {
  const elements: JsonObject[] = [];
  for (const part of text.split(/(<@[A-Z0-9]+>)/)) {
    if (part === '') continue;
    const mention = /^<@([A-Z0-9]+)>$/.exec(part);
    elements.push(mention ? { type: 'user', user_id: mention[1] } : { type: 'text', text: part });
  }
  return [{ type: 'rich_text', block_id: 'rt0', elements: [{ type: 'rich_text_section', elements }] }];
}

/** Fields of a user-authored message event. */
export interface MessageEventFields {
  type: 'app_mention' | 'message';
  user?: string;
  text: string;
  ts: string;
  channel: string;
  threadTs?: string;
  /** Author of the thread's parent (message events in a thread carry it). */
  parentUserId?: string;
  channelType?: 'channel' | 'im' | 'group' | 'mpim';
  botId?: string;
  subtype?: string;
}

/** An `event` object for app_mention or message. */
export function messageEvent(config: FakeSlackConfig, f: MessageEventFields): JsonObject {
  return {
    ...(f.subtype ? { subtype: f.subtype } : {}),
    ...(f.botId ? {} : { client_msg_id: randomUUID() }),
    type: f.type,
    text: f.text,
    ...(f.user ? { user: f.user } : {}),
    ...(f.botId ? { bot_id: f.botId, app_id: `A${f.botId.slice(1)}` } : {}),
    ts: f.ts,
    ...(f.botId ? {} : { blocks: richTextBlocks(f.text) }),
    team: config.teamId,
    ...(f.threadTs ? { thread_ts: f.threadTs } : {}),
    ...(f.threadTs && f.parentUserId ? { parent_user_id: f.parentUserId } : {}),
    channel: f.channel,
    event_ts: f.ts,
    ...(f.type === 'message' ? { channel_type: f.channelType ?? 'channel' } : {}),
  };
}

/** The Events API body (`type: event_callback`) wrapping an event, as the envelope payload. */
export function eventCallback(config: FakeSlackConfig, event: JsonObject, eventId: string, eventTime: number): JsonObject {
  return {
    token: 'fake-verification-token',
    team_id: config.teamId,
    context_team_id: config.teamId,
    context_enterprise_id: null,
    api_app_id: config.appId,
    event,
    type: 'event_callback',
    event_id: eventId,
    event_time: eventTime,
    authorizations: [
      { enterprise_id: null, team_id: config.teamId, user_id: config.botUserId, is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: false,
  };
}

/** What a block_actions payload needs besides the config. */
export interface BlockActionsFields {
  user: JsonObject;
  channel: string;
  messageTs: string;
  threadTs?: string;
  /** The clicked message (absent for an ephemeral message, as on Slack). */
  message?: JsonObject;
  isEphemeral: boolean;
  triggerId: string;
  responseUrl: string;
  action: JsonObject;
}

/** A `block_actions` interactive payload for one button click. */
export function blockActions(config: FakeSlackConfig, f: BlockActionsFields): JsonObject {
  return {
    type: 'block_actions',
    user: f.user,
    api_app_id: config.appId,
    token: 'fake-verification-token',
    container: {
      type: 'message',
      message_ts: f.messageTs,
      channel_id: f.channel,
      is_ephemeral: f.isEphemeral,
      ...(f.threadTs ? { thread_ts: f.threadTs } : {}),
    },
    trigger_id: f.triggerId,
    team: teamRef(config),
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: f.channel, name: f.channel.toLowerCase() },
    ...(f.message ? { message: f.message } : {}),
    state: { values: {} },
    response_url: f.responseUrl,
    actions: [f.action],
  };
}

/** A `view_submission` interactive payload for a view whose `state.values` are filled in. */
export function viewSubmission(config: FakeSlackConfig, user: JsonObject, view: JsonObject, triggerId: string): JsonObject {
  return {
    type: 'view_submission',
    team: teamRef(config),
    user,
    api_app_id: config.appId,
    token: 'fake-verification-token',
    trigger_id: triggerId,
    view,
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  };
}
