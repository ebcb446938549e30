/**
 * Identity and connection methods: auth.test, users.info and apps.connections.open (the only
 * method that takes the app-level token; it hands out a one-use Socket Mode URL).
 *
 * Not modelled: users.list, users.profile.*, conversations.info/members, bots.info.
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
    is_enterprise_install: false,
  };
}

function usersInfo({ state, args }: MethodContext): JsonObject {
  const id = str(args.user);
  const user = id ? state.users.get(id) : undefined;
  if (!user) return apiError('user_not_found');
  return {
    ok: true,
    user: {
      id: user.id,
      team_id: state.config.teamId,
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
      profile: { real_name: user.name, display_name: user.name, team: state.config.teamId },
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
    ['apps.connections.open', { token: 'app', handle: () => ({ ok: true, url: socketUrl() }) }],
  ]);
}
