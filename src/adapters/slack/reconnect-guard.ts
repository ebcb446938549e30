/**
 * Reconnecting the Socket Mode client safely, and stopping it for good.
 *
 * The client gives up for good when apps.connections.open fails during a reconnect with a
 * network, HTTP or auth error, and the rejection goes unhandled.
 * {@link keepReconnecting} wraps the client's `start` (which its reconnect path
 * looks up on the instance) so that, once it has been connected, a failed start is logged and
 * tried again with a growing delay, never left unhandled. The first start still fails normally,
 * so a bad token is reported at start-up.
 *
 * Stopping is the other half. The client's own `start()` clears its "shutting down" flag when it
 * begins, so a reconnect whose apps.connections.open is in flight (slow, or waiting out a 429)
 * when shutdown starts would otherwise open a fresh connection *after* the service stopped, and
 * that connection would ack and drop every event. So, once {@link ReconnectGuard.stop} began:
 * - no start (ours or the client's) begins any more;
 * - a WebSocket URL that arrives is refused before a socket is made for it;
 * - a connection that still completes is disconnected at once (messages on a closing socket are
 *   not delivered);
 * - `stop()` disconnects, waits (bounded) for any in-flight start, and disconnects again.
 */
import type { SocketModeReceiver } from '@slack/bolt';
import type { Logger } from 'pino';
import { describeSlackError } from './slack-connection.ts';
import { within } from './timing.ts';

/** What {@link keepReconnecting} returns. */
export interface ReconnectGuard {
  /**
   * Stop reconnecting and disconnect; resolves once no connection is open and no start is in
   * flight (or after `waitMs` of waiting for one, which is then refused when it returns).
   */
  stop(waitMs?: number): Promise<void>;
}

/** The client's private URL step, which `start()` looks up on the instance. */
interface UrlStep {
  retrieveWSSURL?: () => Promise<string>;
}

/** Wrap the receiver's client (see the module comment). Call once, before the first start. */
export function keepReconnecting(receiver: SocketModeReceiver, log: Logger, baseDelayMs: number, maxDelayMs = 60_000): ReconnectGuard {
  const client = receiver.client;
  const start = client.start.bind(client);
  type Started = Awaited<ReturnType<typeof start>>;
  const none = {} as Started;
  let hasConnected = false;
  let isStopped = false;
  let failures = 0;
  let timer: NodeJS.Timeout | undefined;
  let wake: (() => void) | undefined;
  const inflight = new Set<Promise<unknown>>();

  const urlStep = client as unknown as UrlStep;
  const retrieve = urlStep.retrieveWSSURL?.bind(client);
  if (retrieve) {
    urlStep.retrieveWSSURL = async () => {
      const url = await retrieve();
      if (isStopped) throw new Error('shutting down; not connecting');
      return url;
    };
  }
  client.on('connected', () => {
    if (isStopped) {
      log.warn({ reason: 'connected during shutdown; disconnecting' }, 'slack.late_socket_disconnected');
      void client.disconnect();
      return;
    }
    if (hasConnected) log.info('slack.socket_reconnected');
    hasConnected = true;
    failures = 0;
  });
  client.on('reconnecting', () => {
    if (!isStopped) log.warn({ reason: 'connection lost; reconnecting' }, 'slack.socket_lost');
  });

  const attempt = (): Promise<Started> => {
    const running = start();
    inflight.add(running);
    const done = (): void => void inflight.delete(running);
    running.then(done, done);
    return running;
  };
  const guarded = async (): Promise<Started> => {
    if (isStopped) return none;
    try {
      return await attempt();
    } catch (err) {
      if (!hasConnected) throw err;
      if (isStopped) return none;
      failures += 1;
      const delay = Math.min(baseDelayMs * 2 ** Math.min(failures - 1, 10), maxDelayMs);
      log.error({ err: describeSlackError(err), attempt: failures, retry_in_ms: delay }, 'slack.socket_reconnect_failed');
      await new Promise<void>((resolve) => {
        wake = resolve;
        timer = setTimeout(resolve, delay);
      });
      wake = undefined;
      timer = undefined;
      return guarded();
    }
  };
  client.start = guarded;

  return {
    async stop(waitMs = 3_000) {
      isStopped = true;
      clearTimeout(timer);
      wake?.();
      await within(client.disconnect(), waitMs);
      if (inflight.size === 0) return;
      await within(Promise.allSettled([...inflight]), waitMs);
      await within(client.disconnect(), waitMs);
    },
  };
}
