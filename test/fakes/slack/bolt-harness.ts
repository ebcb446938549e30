/**
 * Runs a real, unmodified `@slack/bolt` App in Socket Mode against a {@link FakeSlack}, wired
 * the way a test must wire it: the receiver built by hand (small
 * `clientPingTimeout` so reconnects take ~200 ms), its own `clientOptions` object, retries off,
 * a silent logger, listener errors collected instead of logged, and `stop()` disconnecting the
 * Socket Mode client and waiting for it before the fake may be stopped.
 */
import { App, LogLevel, SocketModeReceiver } from '@slack/bolt';
import type { AppOptions, Logger } from '@slack/bolt';
import type { FakeSlack } from './fake-slack.ts';

/** A Bolt logger that prints nothing (tests must not write to stdout/stderr). */
export const silentLogger: Logger = {
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  setLevel: () => undefined,
  getLevel: () => LogLevel.ERROR,
  setName: () => undefined,
};

/** Options for {@link startBoltApp}. */
export interface BoltHarnessOptions {
  /** Bot token the App presents (default: the fake's). */
  token?: string;
  /** App-level token the receiver presents (default: the fake's). */
  appToken?: string;
  /** Register listeners before the App starts. */
  register?: (app: App) => void;
  /** Extra Web API client options for listeners' `client` (e.g. `rejectRateLimitedCalls`). */
  clientOptions?: NonNullable<AppOptions['clientOptions']>;
  /** Reconnect delay base of the Socket Mode client (default 200 ms). */
  clientPingTimeout?: number;
}

/** A started Bolt app. */
export interface BoltHarness {
  app: App;
  receiver: SocketModeReceiver;
  /** Errors thrown by listeners (delivered to `app.error`), in order. */
  errors: unknown[];
  /** Resolve when the Socket Mode client next emits `connected` (e.g. after a reconnect). */
  nextConnected(): Promise<void>;
  /** Disconnect the Socket Mode client and wait for it. Call before `fake.stop()`. */
  stop(): Promise<void>;
}

/** Construct and start a Bolt App in Socket Mode against `fake`; resolves once connected. */
export async function startBoltApp(fake: FakeSlack, o: BoltHarnessOptions = {}): Promise<BoltHarness> {
  const receiver = new SocketModeReceiver({
    appToken: o.appToken ?? fake.config.appToken,
    logger: silentLogger,
    logLevel: LogLevel.ERROR,
    clientPingTimeout: o.clientPingTimeout ?? 200,
    installerOptions: { clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } } },
  });
  const app = new App({
    token: o.token ?? fake.config.botToken,
    receiver,
    logger: silentLogger,
    logLevel: LogLevel.ERROR,
    clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, ...o.clientOptions },
  });
  const errors: unknown[] = [];
  app.error(async (error) => {
    errors.push(error);
  });
  o.register?.(app);
  await app.start();
  return {
    app,
    receiver,
    errors,
    nextConnected: () => new Promise<void>((resolve) => receiver.client.once('connected', () => resolve())),
    stop: async () => {
      await receiver.client.disconnect();
    },
  };
}
