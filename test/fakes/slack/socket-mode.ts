/**
 * The Socket Mode side of the fake: WebSocket upgrades on `/link/?ticket=…` (tickets come from
 * apps.connections.open and are good once), the `hello` greeting, envelopes out, acks in,
 * Slack's `disconnect` message, and server pings.
 *
 * Readiness: after `hello` the server sends a WebSocket ping. The client's parser handles
 * frames in order and emits `connected` synchronously while handling `hello`, so the pong
 * proves the client has processed `hello`. `waitForConnections` and envelope delivery wait for
 * that, which avoids tearing a client down in the middle of its `start()`.
 *
 * Not modelled: Slack's re-delivery of un-acked events (`retry_attempt` is whatever the test
 * says), `num_connections` limits, `debug_info` contents, the 10 s grace of a `warning`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { Ack, JsonObject } from './types.ts';

/** How an envelope is sent. */
export interface EnvelopeOptions {
  acceptsResponsePayload?: boolean;
  retryAttempt?: number;
  retryReason?: string;
  /** Reject if no ack arrives within this many ms (defaults to the fake's ackTimeoutMs). */
  timeoutMs?: number;
  /** Words for the timeout error, e.g. `block_actions approve`. */
  describe?: string;
}

interface Pending {
  resolve: (ack: Ack) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

/** Server pings keep the client's server-ping watchdog (default 30 s) happy. */
const SERVER_PING_MS = 10_000;

/** Socket Mode endpoint of one fake workspace. */
export class SocketModeServer {
  /** Every ack received, in order. */
  readonly acks: Ack[] = [];
  /** WebSocket connections accepted so far. */
  connectionsOpened = 0;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #ready: WebSocket[] = [];
  readonly #tickets = new Set<string>();
  readonly #pending = new Map<string, Pending>();
  readonly #waiters = new Set<() => void>();
  readonly #pinger: NodeJS.Timeout;
  #readyCount = 0;

  constructor(
    private readonly wsBase: () => string,
    private readonly appId: string,
    private readonly ackTimeoutMs: number,
  ) {
    this.#pinger = setInterval(() => this.#ready.forEach((ws) => ws.ping()), SERVER_PING_MS).unref();
  }

  /** A fresh one-use Socket Mode URL, as apps.connections.open returns. */
  issueUrl(): string {
    const ticket = randomBytes(16).toString('hex');
    this.#tickets.add(ticket);
    return `${this.wsBase()}/link/?ticket=${ticket}&app_id=${this.appId}`;
  }

  /** Handle an HTTP upgrade; refuses unknown paths and unknown or used tickets. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = url.searchParams.get('ticket') ?? '';
    if (!/^\/link\/?$/.test(url.pathname) || !this.#tickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#accept(ws));
  }

  #accept(ws: WebSocket): void {
    this.connectionsOpened += 1;
    ws.on('message', (data) => this.#onMessage(String(data)));
    ws.on('close', () => {
      const i = this.#ready.indexOf(ws);
      if (i >= 0) this.#ready.splice(i, 1);
    });
    ws.on('error', () => undefined);
    ws.once('pong', () => {
      if (ws.readyState !== ws.OPEN) return;
      this.#ready.push(ws);
      this.#readyCount += 1;
      for (const wake of [...this.#waiters]) wake();
    });
    ws.send(JSON.stringify({
      type: 'hello',
      num_connections: this.#ready.length + 1,
      debug_info: { host: 'applink-fake-slack', build_number: 1, approximate_connection_time: 18060 },
      connection_info: { app_id: this.appId },
    }));
    ws.ping();
  }

  #onMessage(text: string): void {
    let message: { envelope_id?: unknown; payload?: unknown };
    try {
      message = JSON.parse(text) as typeof message;
    } catch {
      return;
    }
    if (typeof message.envelope_id !== 'string') return;
    const ack: Ack = { envelope_id: message.envelope_id, payload: (message.payload as JsonObject | undefined) ?? {} };
    this.acks.push(ack);
    const pending = this.#pending.get(ack.envelope_id);
    if (!pending) return;
    this.#pending.delete(ack.envelope_id);
    clearTimeout(pending.timer);
    pending.resolve(ack);
  }

  /** Open connections whose client has processed `hello`. */
  get openConnections(): number {
    return this.#ready.length;
  }

  /** Resolve once `n` connections in total have been accepted and greeted (reconnects count). */
  waitForConnections(n: number, timeoutMs = 5000): Promise<void> {
    return this.#waitUntil(() => this.#readyCount >= n, timeoutMs, () => `${n} Socket Mode connection(s) (have ${this.#readyCount})`);
  }

  #waitUntil(done: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const wake = (): void => {
        if (!done()) return;
        this.#waiters.delete(wake);
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(wake);
        reject(new Error(`fake-slack: timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      this.#waiters.add(wake);
    });
  }

  /**
   * Send an envelope on the newest ready connection (waiting for one if needed) and resolve
   * with the app's ack; reject when no ack arrives in time.
   */
  async send(type: 'events_api' | 'interactive' | 'slash_commands', payload: JsonObject, options: EnvelopeOptions = {}): Promise<Ack> {
    const timeoutMs = options.timeoutMs ?? this.ackTimeoutMs;
    const started = Date.now();
    await this.#waitUntil(() => this.#ready.length > 0, timeoutMs, () => 'an open Socket Mode connection');
    const envelopeId = randomUUID();
    const envelope = {
      envelope_id: envelopeId,
      type,
      payload,
      accepts_response_payload: options.acceptsResponsePayload ?? false,
      retry_attempt: options.retryAttempt ?? 0,
      retry_reason: options.retryReason ?? '',
    };
    const acked = new Promise<Ack>((resolve, reject) => {
      const remaining = Math.max(timeoutMs - (Date.now() - started), 1);
      const timer = setTimeout(() => {
        this.#pending.delete(envelopeId);
        reject(new Error(`fake-slack: no ack for ${type} envelope (${options.describe ?? envelopeId}) within ${timeoutMs} ms; `
          + 'does a listener handle it and call ack()?'));
      }, remaining);
      this.#pending.set(envelopeId, { resolve, reject, timer });
    });
    this.#ready.at(-1)?.send(JSON.stringify(envelope));
    return acked;
  }

  /** Send Slack's `disconnect` message to every connection (the client then reconnects). */
  disconnect(reason: 'refresh_requested' | 'warning' | 'link_disabled' = 'refresh_requested'): void {
    const message = JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'applink-fake-slack' } });
    for (const ws of this.#wss.clients) ws.send(message);
  }

  /** Drop every connection without a close handshake, as a network failure would. */
  dropConnections(): void {
    for (const ws of this.#wss.clients) ws.terminate();
  }

  /** Terminate connections, fail pending envelopes, stop pinging. */
  close(): void {
    clearInterval(this.#pinger);
    for (const ws of this.#wss.clients) ws.terminate();
    for (const [id, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`fake-slack: stopped before envelope ${id} was acked`));
    }
    this.#pending.clear();
    this.#wss.close();
  }
}
