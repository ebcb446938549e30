/**
 * Connecting to Slack without the traps of Bolt's defaults (reference/node-ecosystem.md §3e):
 * - the bot token is checked with our own auth.test *before* the App exists, and the App is
 *   given the bot ids, because `new App()` would otherwise call auth.test in its constructor
 *   where a rejection is unhandled and crashes Node;
 * - the Socket Mode receiver is built here, with its own client options object (the Socket
 *   Mode client mutates the object it gets) and an explicit retry policy for each client;
 * - `clientOptions.headers` is never set (it would replace the app token's Authorization);
 * - a reconnect that fails "unrecoverably" no longer ends reconnecting for good (see
 *   {@link keepReconnecting});
 * - start-up failures become one-line ConfigErrors that name the key and the fix.
 */
import { App, SocketModeReceiver, webApi } from '@slack/bolt';
import type { Logger as BoltLogger } from '@slack/bolt';
import type { Logger } from 'pino';
import { ConfigError, errorMessage } from '../../errors.ts';
import { nullBoltLogger } from './bolt-logger.ts';

/** A Web API retry policy (p-retry options). */
export type RetryPolicy = webApi.RetryOptions;

/** Who the bot is, from auth.test. */
export interface BotIdentity {
  userId: string;
  botId: string;
  teamId: string;
  team: string;
  name: string;
}

/** Settings for {@link buildBoltApp}. */
export interface BoltAppSettings {
  apiUrl: string;
  botToken: string;
  appToken: string;
  identity: BotIdentity;
  logger: BoltLogger;
  /** Web API calls made by mithai (replies, cards, reactions). */
  webRetry: RetryPolicy;
  /** apps.connections.open during (re)connects; generous by default so reconnects survive outages. */
  socketRetry: RetryPolicy;
  /** Base of the reconnect delay and the pong timeout (Socket Mode client default 5000 ms). */
  clientPingTimeoutMs?: number;
  serverPingTimeoutMs?: number;
}

/** The Web API base URL with the trailing slash the Slack clients expect. */
export function normaliseApiUrl(url: string): string {
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * Check the bot token with auth.test and return the bot's identity.
 * @throws ConfigError naming `adapter.slack.bot_token` and the fix (never the token itself).
 */
export async function verifyBotToken(apiUrl: string, botToken: string, retry: RetryPolicy, envFile: string): Promise<BotIdentity> {
  const client = new webApi.WebClient(botToken, { slackApiUrl: apiUrl, retryConfig: retry, logger: nullBoltLogger });
  try {
    const result = await client.auth.test();
    if (!result.user_id || !result.bot_id || !result.team_id) {
      throw new ConfigError(`adapter.slack.bot_token is not a bot token (auth.test returned no bot id); use the xoxb-… Bot User OAuth Token in SLACK_BOT_TOKEN in ${envFile}`, { code: 'slack_token_invalid' });
    }
    return { userId: result.user_id, botId: result.bot_id, teamId: result.team_id, team: result.team ?? result.team_id, name: result.user ?? 'mithai' };
  } catch (err) {
    throw startError(err, 'adapter.slack.bot_token', 'SLACK_BOT_TOKEN', envFile, apiUrl);
  }
}

/** Build the receiver and the App (listeners are registered by the caller; nothing connects yet). */
export function buildBoltApp(s: BoltAppSettings): { app: App; receiver: SocketModeReceiver } {
  const receiver = new SocketModeReceiver({
    appToken: s.appToken,
    logger: s.logger,
    autoReconnectEnabled: true,
    ...(s.clientPingTimeoutMs !== undefined ? { clientPingTimeout: s.clientPingTimeoutMs } : {}),
    ...(s.serverPingTimeoutMs !== undefined ? { serverPingTimeout: s.serverPingTimeoutMs } : {}),
    // Its own object: the Socket Mode client writes into it (pitfall 5).
    installerOptions: { clientOptions: { slackApiUrl: s.apiUrl, retryConfig: { ...s.socketRetry } } },
  });
  const app = new App({
    token: s.botToken,
    botId: s.identity.botId,
    botUserId: s.identity.userId,
    receiver,
    logger: s.logger,
    clientOptions: { slackApiUrl: s.apiUrl, retryConfig: { ...s.webRetry } },
  });
  return { app, receiver };
}

/**
 * Connect (apps.connections.open, then the WebSocket).
 * @throws ConfigError naming `adapter.slack.app_token` when Slack refuses it.
 */
export async function connectSocket(app: App, apiUrl: string, envFile: string): Promise<void> {
  try {
    await app.start();
  } catch (err) {
    throw startError(err, 'adapter.slack.app_token', 'SLACK_APP_TOKEN', envFile, apiUrl);
  }
}

/** What {@link keepReconnecting} returns: call `stop()` before disconnecting on shutdown. */
export interface ReconnectGuard {
  stop(): void;
}

/**
 * The Socket Mode client gives up for good when apps.connections.open fails during a reconnect
 * with a network, HTTP or auth error, and the rejection goes unhandled (pitfalls 9, 10). This
 * wraps the client's `start` (which its reconnect path looks up on the instance) so that, once
 * it has been connected, a failed start is logged and tried again with a growing delay, never
 * left unhandled. The first start still fails normally, so a bad token is reported at start-up.
 */
export function keepReconnecting(receiver: SocketModeReceiver, log: Logger, baseDelayMs: number, maxDelayMs = 60_000): ReconnectGuard {
  const client = receiver.client;
  const start = client.start.bind(client);
  let hasConnected = false;
  let isStopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  client.on('connected', () => {
    if (hasConnected) log.info('Socket Mode reconnected');
    hasConnected = true;
    failures = 0;
  });
  client.on('reconnecting', () => log.warn('Socket Mode connection lost; reconnecting'));
  client.start = async () => {
    try {
      return await start();
    } catch (err) {
      if (!hasConnected) throw err;
      if (isStopped) return {} as Awaited<ReturnType<typeof start>>;
      failures += 1;
      const delay = Math.min(baseDelayMs * 2 ** Math.min(failures - 1, 10), maxDelayMs);
      log.error({ err: describeSlackError(err), attempt: failures, retry_in_ms: delay }, 'Socket Mode reconnect failed; trying again');
      return new Promise((resolve) => {
        timer = setTimeout(() => {
          timer = undefined;
          if (isStopped) return resolve({} as Awaited<ReturnType<typeof start>>);
          void client.start().then(resolve, () => resolve({} as Awaited<ReturnType<typeof start>>));
        }, delay);
      });
    }
  };
  return {
    stop() {
      isStopped = true;
      clearTimeout(timer);
    },
  };
}

/** A Slack client error in words (the platform error code when there is one). */
export function describeSlackError(err: unknown): string {
  const code = (err as { data?: { error?: unknown } } | undefined)?.data?.error;
  if (typeof code === 'string') return code;
  return err === undefined ? 'connection closed' : errorMessage(err);
}

function startError(err: unknown, key: string, envName: string, envFile: string, apiUrl: string): ConfigError {
  if (err instanceof ConfigError) return err;
  const slackCode = (err as { code?: unknown } | undefined)?.code;
  if (slackCode === webApi.ErrorCode.PlatformError) {
    return new ConfigError(`Slack rejected ${key} (${describeSlackError(err)}); check ${envName} in ${envFile}`, { code: 'slack_token_rejected', cause: err });
  }
  return new ConfigError(`could not reach Slack at ${apiUrl} (${describeSlackError(err)}); check adapter.slack.api_url and the network`, { code: 'slack_unreachable', cause: err });
}
