/**
 * Identity and connection methods: auth.test, users.info, conversations.info and
 * apps.connections.open (the only method that takes the app-level token; it hands out a
 * one-use Socket Mode URL).
 *
 * users.info answers with the user's home team (`team_id`), `is_stranger` for a stranger of
 * another organisation (a reduced object, as Slack gives), and `enterprise_user` for a member
 * of an Enterprise org. conversations.info knows listed conversations and those with history
 * (see `SlackState.conversation`), with Slack's sharing flags; any other is `channel_not_found`.
 *
 * Not modelled: users.list, users.profile.*, conversations.members, bots.info, `include_locale`
 * / `include_num_members`, the `*:read` scopes (`missing_scope`).
 */
import { apiError } from './web-api.ts';
import type { MethodContext, MethodHandler } from './web-api.ts';
import { str } from './blocks.ts';
import type { JsonObject } from './types.ts';

function authTest({ state }: MethodContext): JsonObject {
  const { teamDomain, teamId, botUserId, botId } = state.config;
  return {
    ok: true,
    url: `https://${teamDomain}.slack.com/`,
    team: 'Fake Workspace',
    user: 'mithai',
    team_id: teamId,
    user_id: botUserId,
    bot_id: botId,
    ...(state.config.enterpriseId ? { enterprise_id: state.config.enterpriseId } : {}),
    is_enterprise_install: false,
  };
}

function usersInfo({ state, args }: MethodContext): JsonObject {
  const id = str(args.user);
  const user = id ? state.users.get(id) : undefined;
  if (!user) return apiError('user_not_found');
  const teamId = user.teamId ?? state.config.teamId;
  if (user.isStranger) {
    // A stranger's profile is mostly hidden; what is left says where they come from.
    return { ok: true, user: { id: user.id, team_id: teamId, name: user.name, is_stranger: true, is_bot: false, profile: { real_name: user.name, display_name: user.name, team: teamId } } };
  }
  const enterprise = user.enterpriseId ?? (teamId === state.config.teamId ? state.config.enterpriseId : undefined);
  return {
    ok: true,
    user: {
      id: user.id,
      team_id: teamId,
      name: user.name,
      deleted: false,
      real_name: user.name,
      tz: 'Etc/UTC',
      tz_label: 'Coordinated Universal Time',
      tz_offset: 0,
      is_admin: false,
      is_owner: false,
      is_bot: user.isBot ?? false,
      is_app_user: false,
      updated: 1_700_000_000,
      profile: { real_name: user.name, display_name: user.name, team: teamId },
      ...(enterprise ? { enterprise_user: { id: user.id, enterprise_id: enterprise, enterprise_name: `Enterprise ${enterprise}`, is_admin: false, is_owner: false, is_primary_owner: false, teams: [teamId] } } : {}),
    },
  };
}

/** conversations.info: a conversation object shaped like Slack's, by kind (channel, private, DM). */
function conversationsInfo({ state, args }: MethodContext): JsonObject {
  const id = str(args.channel);
  const known = id ? state.conversation(id) : undefined;
  if (!id || !known) return apiError('channel_not_found');
  const { teamId } = state.config;
  const ext = known.extShared === true;
  const sharing = {
    is_shared: ext || known.orgShared === true,
    is_org_shared: known.orgShared === true,
    is_ext_shared: ext,
    is_pending_ext_shared: known.pendingExtShared === true,
  };
  const created = 1_700_000_000;
  if (id.startsWith('D')) {
    return { ok: true, channel: { id, created, is_archived: false, is_im: true, ...sharing, context_team_id: teamId, updated: created * 1000, user: known.user ?? '', is_user_deleted: false, priority: 0 } };
  }
  const isPrivate = id.startsWith('G');
  const name = known.name ?? id.toLowerCase();
  return {
    ok: true,
    channel: {
      id,
      name,
      is_channel: !isPrivate,
      is_group: isPrivate,
      is_im: false,
      is_mpim: false,
      is_private: isPrivate,
      created,
      is_archived: false,
      is_general: false,
      unlinked: 0,
      name_normalized: name,
      ...sharing,
      pending_shared: known.pendingExtShared ? (known.sharedTeamIds ?? []) : [],
      context_team_id: teamId,
      parent_conversation: null,
      creator: 'UCREATOR01',
      shared_team_ids: [teamId, ...(known.pendingExtShared ? [] : (known.sharedTeamIds ?? []))],
      pending_connected_team_ids: known.pendingExtShared ? (known.sharedTeamIds ?? []) : [],
      ...(ext ? { conversation_host_id: teamId } : {}),
      is_member: true,
      topic: { value: '', creator: '', last_set: 0 },
      purpose: { value: '', creator: '', last_set: 0 },
      previous_names: [],
    },
  };
}

/**
 * Identity and connection methods.
 * @param socketUrl issues a fresh `ws://…/link/?ticket=…` URL for apps.connections.open
 */
export function miscMethods(socketUrl: () => string): ReadonlyMap<string, MethodHandler> {
  return new Map<string, MethodHandler>([
    ['auth.test', { token: 'bot', handle: authTest }],
    ['users.info', { token: 'bot', handle: usersInfo }],
    ['conversations.info', { token: 'bot', handle: conversationsInfo }],
    ['apps.connections.open', { token: 'app', handle: () => ({ ok: true, url: socketUrl() }) }],
  ]);
}
