/**
 * Connecting to Slack without the traps of Bolt's defaults:
 * - the bot token is checked with our own auth.test *before* the App exists, and the App is
 *   given the bot ids, because `new App()` would otherwise call auth.test in its constructor
 *   where a rejection is unhandled and crashes Node;
 * - the Socket Mode receiver is built here, with its own client options object (the Socket
 *   Mode client mutates the object it gets) and an explicit retry policy for each client;
 * - `clientOptions.headers` is never set (it would replace the app token's Authorization);
 * - reconnecting and stopping are guarded in reconnect-guard.ts;
 * - start-up failures become one-line ConfigErrors that name the key and the fix.
 */
import { App, SocketModeReceiver, webApi } from '@slack/bolt';
import type { Logger as BoltLogger } from '@slack/bolt';
import { ConfigError, errorMessage } from '../../errors.ts';
import { nullBoltLogger } from './bolt-logger.ts';

/** A Web API retry policy (p-retry options). */
export type RetryPolicy = webApi.RetryOptions;

/** Who the bot is, from auth.test. */
export interface BotIdentity {
  userId: string;
  botId: string;
  teamId: string;
  /** The Enterprise Grid org the app is installed in, when it is. */
  enterpriseId?: string;
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

/** Every Web API request mithai makes gives up after this long (the client default is never). */
export const REQUEST_TIMEOUT_MS = 10_000;

/**
 * Options of a bot-token Web API client mithai uses: a request timeout, and a 429 rejected at
 * once instead of pausing every call of the client (pitfall 6); callers that need a retry after
 * a 429 do it themselves, honouring Retry-After up to a cap.
 */
export function webClientOptions(apiUrl: string, retry: RetryPolicy): webApi.WebClientOptions {
  return { slackApiUrl: apiUrl, retryConfig: { ...retry }, rejectRateLimitedCalls: true, timeout: REQUEST_TIMEOUT_MS, logger: nullBoltLogger };
}

/**
 * Check the bot token with auth.test and return the bot's identity. Gives up after
 * `deadlineMs` (default 30 s) when Slack cannot be reached, instead of retrying for minutes.
 * @throws ConfigError naming `adapter.slack.bot_token` and the fix (never the token itself).
 */
export async function verifyBotToken(apiUrl: string, botToken: string, retry: RetryPolicy, envFile: string, deadlineMs = 30_000): Promise<BotIdentity> {
  const client = new webApi.WebClient(botToken, webClientOptions(apiUrl, retry));
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${Math.round(deadlineMs / 1000)} s`)), deadlineMs);
    timer.unref();
  });
  try {
    const result = await Promise.race([client.auth.test(), deadline]);
    if (!result.user_id || !result.bot_id || !result.team_id) {
      throw new ConfigError(`adapter.slack.bot_token is not a bot token (auth.test returned no bot id); use the xoxb-… Bot User OAuth Token in SLACK_BOT_TOKEN in ${envFile}`, { code: 'slack_token_invalid' });
    }
    const enterpriseId = typeof result.enterprise_id === 'string' && result.enterprise_id !== '' ? result.enterprise_id : undefined;
    return { userId: result.user_id, botId: result.bot_id, teamId: result.team_id, ...(enterpriseId ? { enterpriseId } : {}), team: result.team ?? result.team_id, name: result.user ?? 'mithai' };
  } catch (err) {
    throw startError(err, 'adapter.slack.bot_token', 'SLACK_BOT_TOKEN', envFile, apiUrl);
  } finally {
    clearTimeout(timer);
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
    clientOptions: { slackApiUrl: s.apiUrl, retryConfig: { retries: 0 }, rejectRateLimitedCalls: true, timeout: REQUEST_TIMEOUT_MS },
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
