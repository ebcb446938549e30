/**
 * Builders for the payloads Slack pushes over Socket Mode, shaped like real ones: the Events
 * API `event_callback` body (for app_mention and message events) and the interactive
 * `block_actions` and `view_submission` payloads. Pure functions of the workspace config and
 * the data given; the FakeSlack helpers fill in state-derived parts (messages, views, ids).
 *
 * Slack Connect: a message event from a user of another team names their team in `team`; in a
 * shared channel every user message carries `user_team` and `source_team` too, and the
 * envelope says `is_ext_shared_channel` for a channel shared with another organisation. A
 * click names the app's workspace in `team` and the clicker's in `user.team_id`; a submission
 * of a modal opened from such a click names the submitter's workspace in `team` (the app's is
 * `view.app_installed_team_id`), as Slack does. With an Enterprise org configured, envelopes
 * and payloads carry its id.
 *
 * Left out: `event_context`, `user_profile` on Slack Connect messages, file shares, `blocks` of
 * messages with formatting other than user mentions.
 */
import { randomUUID } from 'node:crypto';
import type { FakeSlackConfig, JsonObject } from './types.ts';

/** The `user` object interactive payloads carry (`team_id`: the user's home team, default the fake's). */
export function userRef(config: FakeSlackConfig, id: string, name: string, teamId: string = config.teamId): JsonObject {
  return { id, username: name, name, team_id: teamId };
}

/** The `team` object interactive payloads carry: the fake's own workspace, or another (`teamId`). */
export function teamRef(config: FakeSlackConfig, teamId: string = config.teamId): JsonObject {
  if (teamId !== config.teamId) return { id: teamId, domain: teamId.toLowerCase() };
  return { id: config.teamId, domain: config.teamDomain, ...(config.enterpriseId ? { enterprise_id: config.enterpriseId, enterprise_name: `Enterprise ${config.enterpriseId}` } : {}) };
}

/** The `enterprise` object interactive payloads carry (null outside Enterprise Grid). */
export function enterpriseRef(enterpriseId: string | undefined): JsonObject | null {
  return enterpriseId ? { id: enterpriseId, name: `Enterprise ${enterpriseId}` } : null;
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
  /** The author's home team (default: the fake's own). */
  userTeam?: string;
  /** The channel is shared (Slack Connect or across an Enterprise org): `user_team` / `source_team` are added. */
  shared?: boolean;
  /** Leave out every team field of the event (`team`, `user_team`, `source_team`). */
  withoutTeam?: boolean;
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
    ...(f.withoutTeam ? {} : { team: f.userTeam ?? config.teamId }),
    ...(f.withoutTeam || !f.shared || f.botId ? {} : { user_team: f.userTeam ?? config.teamId, source_team: f.userTeam ?? config.teamId }),
    ...(f.threadTs ? { thread_ts: f.threadTs } : {}),
    ...(f.threadTs && f.parentUserId ? { parent_user_id: f.parentUserId } : {}),
    channel: f.channel,
    event_ts: f.ts,
    ...(f.type === 'message' ? { channel_type: f.channelType ?? 'channel' } : {}),
  };
}

/**
 * The Events API body (`type: event_callback`) wrapping an event, as the envelope payload.
 * @param isExtSharedChannel the event happened in a channel shared with another organisation.
 */
export function eventCallback(config: FakeSlackConfig, event: JsonObject, eventId: string, eventTime: number, isExtSharedChannel = false): JsonObject {
  const enterprise = config.enterpriseId ?? null;
  return {
    token: 'fake-verification-token',
    team_id: config.teamId,
    ...(enterprise ? { enterprise_id: enterprise } : {}),
    context_team_id: config.teamId,
    context_enterprise_id: enterprise,
    api_app_id: config.appId,
    event,
    type: 'event_callback',
    event_id: eventId,
    event_time: eventTime,
    authorizations: [
      { enterprise_id: enterprise, team_id: config.teamId, user_id: config.botUserId, is_bot: true, is_enterprise_install: false },
    ],
    is_ext_shared_channel: isExtSharedChannel,
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
    enterprise: enterpriseRef(config.enterpriseId),
    is_enterprise_install: false,
    channel: { id: f.channel, name: f.channel.toLowerCase() },
    ...(f.message ? { message: f.message } : {}),
    state: { values: {} },
    response_url: f.responseUrl,
    actions: [f.action],
  };
}

/**
 * A `view_submission` interactive payload for a view whose `state.values` are filled in.
 * @param submitter the submitter's workspace and org, when not the fake's own (Slack Connect).
 */
export function viewSubmission(config: FakeSlackConfig, user: JsonObject, view: JsonObject, triggerId: string, submitter?: { teamId: string; enterpriseId?: string }): JsonObject {
  const isOwn = submitter === undefined || submitter.teamId === config.teamId;
  return {
    type: 'view_submission',
    team: teamRef(config, submitter?.teamId),
    user,
    api_app_id: config.appId,
    token: 'fake-verification-token',
    trigger_id: triggerId,
    view,
    response_urls: [],
    is_enterprise_install: false,
    enterprise: enterpriseRef(isOwn ? config.enterpriseId : submitter.enterpriseId),
  };
}
