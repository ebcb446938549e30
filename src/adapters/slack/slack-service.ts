/**
 * `mithai run` in one call: check the tokens, build the runtime, wire Bolt in Socket Mode to the
 * engine and the approval gate, settle what a previous process left behind, connect, and serve
 * until `stop()`. The CLI calls {@link startSlackService}; the end-to-end tests call the same
 * function in-process against the local Slack and Anthropic fakes.
 *
 * @example
 * const service = await startSlackService(loadConfig('config.yaml'));
 * process.once('SIGTERM', () => void service.stop('SIGTERM'));
 *
 * Start order: settle what a previous process left (approvals expired while down, calls cut off
 * mid-run) and carry on every unfinished turn from its rows, redraw cards that are behind their
 * approval, then connect. Pending approvals are not touched: their cards keep working.
 *
 * Shutdown order (each step for a reason):
 * 1. stop starting new turns: a message that arrives now is recorded (so acknowledged) and runs at the next start;
 * 2. stop starting model calls and tool calls; let tool calls already running finish within
 *    `adapter.slack.shutdown_grace_seconds`, then abort them (recorded `unknown`). Pending
 *    approvals stay pending: their cards say nothing wrong and work again after the next start.
 *    Then cancel the 👀 not yet due (a turn still running after the grace gets none);
 * 3. disconnect the Socket Mode client and wait for it (Bolt's stop does not wait), including a
 *    reconnect that was in flight (reconnect-guard.ts), so no connection outlives the service;
 * 4. wait a bounded time for card updates, progress updates and reactions still in flight;
 * 5. close the database last, once no task can touch it.
 */
import { setMaxListeners } from 'node:events';
import { join } from 'node:path';
import { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { SocketModeReceiver } from '@slack/bolt';
import type { Clock } from '../../clock.ts';
import { systemClock } from '../../clock.ts';
import { displayPath } from '../../config/display-path.ts';
import type { LoadedConfig } from '../../config/load-config.ts';
import { requireSecret } from '../../config/require-secret.ts';
import { createRuntime } from '../../engine/create-runtime.ts';
import type { Runtime } from '../../engine/create-runtime.ts';
import { ConfigError, errorMessage } from '../../errors.ts';
import { registerApprovalActions } from './approval-actions.ts';
import { boltLogger } from './bolt-logger.ts';
import { recordBeforeAck } from './inbound-listeners.ts';
import { SlackAdapter } from './slack-adapter.ts';
import type { Adapter, ToolActivity, Turn } from '../../engine/types.ts';
import { buildBoltApp, connectSocket, normaliseApiUrl, verifyBotToken, webClientOptions } from './slack-connection.ts';
import type { BotIdentity, RetryPolicy } from './slack-connection.ts';
import { keepReconnecting } from './reconnect-guard.ts';
import { Organisation, webLookups } from './organisation.ts';
import { SlackPoster } from './slack-poster.ts';
import { ProgressDisplay } from './progress-display.ts';
import type { ChannelGuard } from './slack-poster.ts';
import { TaskTracker } from './task-tracker.ts';
import { TurnDispatcher } from './turn-dispatcher.ts';

/** Knobs for {@link startSlackService}; production uses the defaults, tests shrink the timings. */
export interface SlackServiceOptions {
  /** Where pino logs go (default stdout). */
  logDestination?: NodeJS.WritableStream;
  clock?: Clock;
  /** Socket Mode reconnect delay base and pong timeout (default 5000 ms). */
  clientPingTimeoutMs?: number;
  serverPingTimeoutMs?: number;
  /**
   * Retries of mithai's idempotent Web API calls (auth.test, reactions, thread reads; default
   * three within about 10 s). Posts are never retried automatically; card updates retry on their own.
   */
  webRetry?: RetryPolicy;
  /** Delays between chat.update attempts of a card (default 1 s, 3 s). */
  cardUpdateRetryMs?: readonly number[];
  /** How long start-up waits for auth.test before reporting Slack unreachable (default 30 s). */
  authTimeoutMs?: number;
  /** Retries of apps.connections.open while (re)connecting (default: 100, backing off to 30 s). */
  socketRetry?: RetryPolicy;
  /** How long shutdown waits for running tool calls before aborting them (default: adapter.slack.shutdown_grace_seconds). */
  shutdownGraceMs?: number;
  /** How often pending approvals past their deadline are swept (default 30 s). */
  expirySweepMs?: number;
  /** How often decisions made by other processes are picked up (default 1 s). */
  decisionPollMs?: number;
  /** How often cards behind their approval are redrawn (default 10 s). */
  cardReconcileMs?: number;
  /** Turns per user per minute (default 10). */
  turnsPerMinute?: number;
  /** `--accept-audit-gap` (see createRuntime). */
  acceptAuditGap?: boolean;
  /** How long users.info / conversations.info answers are kept (defaults: 1 h / 10 min; see organisation.ts). */
  userInfoTtlMs?: number;
  channelInfoTtlMs?: number;
  /** Least time between two progress writes of one turn (default 1 s; see progress-display.ts). */
  progressIntervalMs?: number;
  /** How long a turn works before it shows 👀 and its progress (default 500 ms; see turn-dispatcher.ts). */
  workingSignalDelayMs?: number;
}

/** A running Slack service. */
export interface SlackService {
  readonly identity: BotIdentity;
  readonly runtime: Runtime;
  /** The Socket Mode receiver (its `client` emits connected / reconnecting). */
  readonly receiver: SocketModeReceiver;
  /** Shut down cleanly (see the module comment). Idempotent; resolves when done. */
  stop(reason?: string): Promise<void>;
}

const WEB_RETRY: RetryPolicy = { retries: 3, factor: 2, minTimeout: 1000, maxTimeout: 4000, randomize: true };
const SOCKET_RETRY: RetryPolicy = { retries: 100, factor: 1.3, minTimeout: 1000, maxTimeout: 30_000, randomize: true };

/**
 * Start serving Slack. Resolves once connected.
 * @throws ConfigError for a missing, malformed or rejected token, an unreachable Slack, or any
 *   runtime start-up failure (skills, overrides, the Anthropic key); nothing is left running.
 */
export async function startSlackService(loaded: LoadedConfig, options: SlackServiceOptions = {}): Promise<SlackService> {
  const envFile = displayPath(join(loaded.dir, '.env'));
  const botToken = requireSecret(loaded, 'adapter.slack.bot_token', 'SLACK_BOT_TOKEN');
  const appToken = requireSecret(loaded, 'adapter.slack.app_token', 'SLACK_APP_TOKEN');
  checkTokenShape(botToken, 'xoxb-', 'adapter.slack.bot_token', 'the Bot User OAuth Token (xoxb-…)', 'SLACK_BOT_TOKEN', envFile);
  checkTokenShape(appToken, 'xapp-', 'adapter.slack.app_token', 'an app-level token (xapp-…) with connections:write', 'SLACK_APP_TOKEN', envFile);
  const apiUrl = normaliseApiUrl(loaded.config.adapter.slack.api_url);
  const webRetry = options.webRetry ?? WEB_RETRY;
  const identity = await verifyBotToken(apiUrl, botToken, webRetry, envFile, options.authTimeoutMs);
  const runtime = await createRuntime(loaded, { logDestination: options.logDestination, clock: options.clock, acceptAuditGap: options.acceptAuditGap === true, releaseIdleMemory: true });
  try {
    return await serve({ loaded, options, runtime, identity, apiUrl, botToken, appToken, envFile, webRetry });
  } catch (err) {
    runtime.logger.error({ err: errorMessage(err) }, 'slack.start_failed');
    runtime.close();
    throw err;
  }
}

interface ServeInput {
  loaded: LoadedConfig;
  options: SlackServiceOptions;
  runtime: Runtime;
  identity: BotIdentity;
  apiUrl: string;
  botToken: string;
  appToken: string;
  envFile: string;
  webRetry: RetryPolicy;
}

async function serve(input: ServeInput): Promise<SlackService> {
  const { loaded, options, runtime, identity, apiUrl } = input;
  const { config } = loaded;
  const slack = config.adapter.slack;
  const clock = options.clock ?? systemClock;
  const log = runtime.logger.child({ component: 'slack' });
  const redact = (text: string): string => runtime.redactor.redact(text);
  const pingMs = options.clientPingTimeoutMs ?? 5000;

  const { app, receiver } = buildBoltApp({
    apiUrl,
    botToken: input.botToken,
    appToken: input.appToken,
    identity,
    logger: boltLogger(runtime.logger.child({ component: 'bolt' })),
    socketRetry: options.socketRetry ?? SOCKET_RETRY,
    clientPingTimeoutMs: pingMs,
    ...(options.serverPingTimeoutMs !== undefined ? { serverPingTimeoutMs: options.serverPingTimeoutMs } : {}),
  });
  // Slack Connect: who is from another organisation, which channels are shared with one. Its
  // lookups are not retried by the client: a question is answered within a bounded time anyway.
  const organisation = new Organisation({
    teamId: identity.teamId,
    ...(identity.enterpriseId ? { enterpriseId: identity.enterpriseId } : {}),
    lookups: webLookups(new webApi.WebClient(input.botToken, webClientOptions(apiUrl, { retries: 0 }))),
    clock,
    logger: log,
    ...(options.userInfoTtlMs !== undefined ? { userTtlMs: options.userInfoTtlMs } : {}),
    ...(options.channelInfoTtlMs !== undefined ? { channelTtlMs: options.channelInfoTtlMs } : {}),
  });
  // Nothing is written into a channel shared with another organisation unless allowed.
  const channelGuard: ChannelGuard | undefined = slack.allow_external_channels ? undefined : async (channel) => {
    const answer = await organisation.channel(channel);
    return answer.isOutside ? answer.reason : undefined;
  };
  const poster = new SlackPoster({
    send: new webApi.WebClient(input.botToken, webClientOptions(apiUrl, { retries: 0 })),
    retrying: new webApi.WebClient(input.botToken, webClientOptions(apiUrl, input.webRetry)),
  }, runtime.redactor, log, channelGuard);
  const tracker = new TaskTracker(log);
  const adapter = new SlackAdapter({
    poster, approvals: runtime.approvals, redact, logger: log,
    ...(options.cardUpdateRetryMs ? { updateRetryMs: options.cardUpdateRetryMs } : {}),
  });
  // What a turn is doing, in its thread (adapter.slack.progress): through the poster like every write.
  const progress = slack.progress === 'off' ? undefined : new ProgressDisplay({
    mode: slack.progress, poster, logger: log, clock,
    ...(options.progressIntervalMs !== undefined ? { intervalMs: options.progressIntervalMs } : {}),
    ...(options.workingSignalDelayMs !== undefined ? { firstWriteDelayMs: options.workingSignalDelayMs } : {}),
  });
  const abort = new AbortController();
  // Every running turn listens on this one signal (model calls, tools): with many turns at
  // once that is legitimately more than Node's default of 10 listeners.
  setMaxListeners(0, abort.signal);
  const dispatcher = new TurnDispatcher({
    settings: {
      botUserId: identity.userId,
      botId: identity.botId,
      respond: slack.respond,
      allowedUsers: slack.allowed_users,
      allowedChannels: slack.allowed_channels,
      turnsPerMinute: options.turnsPerMinute ?? 10,
      allowExternalUsers: slack.allow_external_users,
      allowExternalChannels: slack.allow_external_channels,
    },
    engine: runtime.engine,
    adapter,
    poster,
    tracker,
    organisation,
    clock,
    logger: log,
    redact,
    ...(options.workingSignalDelayMs !== undefined ? { workingSignalDelayMs: options.workingSignalDelayMs } : {}),
  });
  recordBeforeAck(receiver, app, dispatcher, identity.teamId, log, organisation);
  registerApprovalActions(app, {
    engine: runtime.engine,
    adapter,
    poster,
    tracker,
    teamId: identity.teamId,
    ...(identity.enterpriseId ? { enterpriseId: identity.enterpriseId } : {}),
    allowedUsers: slack.allowed_users,
    organisation,
    allowExternalUsers: slack.allow_external_users,
    logger: log,
    redact,
  });
  app.error(async (err) => {
    log.error({ err: errorMessage(err) }, 'slack.listener_failed');
  });

  // What the engine sees of Slack: the adapter, plus the dispatcher's hooks (thread catch-up
  // and status reactions) and the progress display, which also run for turns resumed after a restart.
  const engineAdapter: Adapter = {
    name: 'slack',
    start: () => adapter.start(),
    stop: () => adapter.stop(),
    reply: (turn, text) => adapter.reply(turn, text),
    requestApproval: (approval, turn) => {
      progress?.approvalRequested(turn);
      return adapter.requestApproval(approval);
    },
    showDecision: (approval) => adapter.showDecision(approval),
    notice: (place, text) => adapter.notice(place, text),
    prepareTurn: (turn) => dispatcher.prepareTurn(turn),
    ...(progress ? { showActivity: (turn: Turn, activity: ToolActivity) => progress.showActivity(turn, activity) } : {}),
    turnFinished: (turn, status) => {
      progress?.turnFinished(turn);
      dispatcher.turnFinished(turn, status);
    },
  };
  runtime.engine.attach(engineAdapter, { signal: abort.signal, platform: 'slack' });
  runtime.expiry.start();
  // Settle and resume what the previous process left, before any click can arrive; cards that
  // are behind their approval (an update lost to a crash) are redrawn in the background.
  await runtime.engine.resumeAll();
  tracker.run('reconcile cards', () => adapter.reconcileCards());

  const guard = keepReconnecting(receiver, log, pingMs);
  try {
    await connectSocket(app, apiUrl, input.envFile);
  } catch (err) {
    await guard.stop().catch(() => undefined);
    await runtime.engine.drain(5_000, () => abort.abort());
    await tracker.idle(5_000);
    throw err;
  }
  log.info({ bot_name: identity.name, bot_user_id: identity.userId, bot_id: identity.botId, team_id: identity.teamId, team: identity.team }, 'slack.connected');

  const timers = [
    // A safety net for expiry timers that could not fire (e.g. an expiry that failed to record).
    setInterval(() => guarded(log, 'expiry sweep', () => runtime.expiry.sweep()), options.expirySweepMs ?? 30_000),
    // Decisions made by another process (`mithai approvals approve`) reach their turn here.
    setInterval(() => guarded(log, 'decision poll', () => runtime.engine.pollDecisions()), options.decisionPollMs ?? 1_000),
    setInterval(() => tracker.run('reconcile cards', () => adapter.reconcileCards()), options.cardReconcileMs ?? 10_000),
  ];
  for (const timer of timers) timer.unref();

  let stopping: Promise<void> | undefined;
  const stop = async (reason: string): Promise<void> => {
    log.info({ reason }, 'slack.shutdown_started');
    dispatcher.stopAccepting();
    for (const timer of timers) clearInterval(timer);
    const graceMs = options.shutdownGraceMs ?? slack.shutdown_grace_seconds * 1000;
    if (!(await runtime.engine.drain(graceMs, () => abort.abort()))) {
      log.warn({ running: runtime.engine.running }, 'slack.tool_calls_abandoned');
    }
    dispatcher.stop();
    runtime.expiry.stop();
    await guard.stop().catch((err: unknown) => log.warn({ err: errorMessage(err) }, 'slack.disconnect_failed'));
    await tracker.idle(5_000);
    await adapter.stop(5_000);
    await progress?.stop(2_000);
    await poster.settle(2_000);
    runtime.close();
    log.info('slack.stopped');
  };
  return {
    identity,
    runtime,
    receiver,
    stop: (reason = 'stop requested') => (stopping ??= stop(reason)),
  };
}

/** Run a periodic job; a failure is logged, never thrown out of a timer. */
function guarded(log: Logger, what: string, job: () => unknown): void {
  try {
    job();
  } catch (err) {
    log.error({ err: errorMessage(err), job: what }, 'slack.job_failed');
  }
}

/** A token of the wrong kind in the right place fails here, with the fix, before Slack is asked. */
function checkTokenShape(token: string, prefix: string, key: string, what: string, envName: string, envFile: string): void {
  if (token.startsWith(prefix)) return;
  throw new ConfigError(`${key} does not look like ${what}; check ${envName} in ${envFile}`, { code: 'slack_token_invalid' });
}
