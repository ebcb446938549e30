/**
 * A local, protocol-faithful fake of Slack for end-to-end tests of a real Bolt app in Socket
 * Mode: one `node:http` server on 127.0.0.1 serving the Web API (`/api/<method>`), the
 * response_url sink (`/actions/…`) and the Socket Mode WebSocket (`/link`).
 *
 * Models: token auth (bot vs app-level), Slack-style validation of text/blocks/views, message
 * history with threads, updates, ephemerals, reactions, modals opened with one-use trigger_ids,
 * message metadata, assistant thread status (assistant.threads.setStatus in threads marked as
 * assistant threads), armed 429 rate limits and other armed faults (platform errors, 5xx, reset
 * connections, hangs, answers lost after the call was carried out), Socket Mode
 * hello/envelopes/acks/disconnect, and Slack Connect: users of other teams (`user_team` on
 * their events, `user.team_id` on their clicks, users.info with `team_id` / `is_stranger` /
 * `enterprise_user`), channels shared with other organisations (conversations.info,
 * `is_ext_shared_channel` on envelopes) and an optional Enterprise Grid org. Test helpers play users:
 * mention the bot, post messages, click posted buttons, submit opened modals.
 * Leaves out: HTTP (Events API request URL) mode, signing secrets, OAuth, files, scopes,
 * channel membership, Home tabs, slash commands and shortcuts (send them with `sendEnvelope`).
 *
 * Start it before constructing the Bolt App (the App calls auth.test in its constructor), and
 * disconnect the Socket Mode client (`await receiver.client.disconnect()`) before `stop()`.
 */
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleApiRequest } from './web-api.ts';
import type { MethodHandler } from './web-api.ts';
import { chatMethods } from './web-api-chat.ts';
import { miscMethods } from './web-api-misc.ts';
import { viewMethods } from './web-api-views.ts';
import { assistantMethods } from './web-api-assistant.ts';
import { handleResponseUrl } from './response-url.ts';
import { SocketModeServer } from './socket-mode.ts';
import type { EnvelopeOptions } from './socket-mode.ts';
import { SlackState } from './state.ts';
import { FakeSlackActors } from './fake-slack-actors.ts';
import { eventCallback } from './payloads.ts';
import type { Ack, FakeChannel, FakeSlackConfig, FakeSlackOptions, FakeUser, Fault, JsonObject } from './types.ts';

export type { Ack, FakeChannel, FakeSlackOptions, FakeUser, Fault, FaultAnswer, RecordedCall, SlackMessage, OpenedView } from './types.ts';
export type { ClickOptions, ClickResult, EventOptions, MessageOptions, SentEvent, SubmitOptions, UserMessageOptions } from './fake-slack-actors.ts';

function configFrom(o: FakeSlackOptions): FakeSlackConfig {
  return {
    botToken: o.botToken ?? 'xoxb-fake-bot-token',
    appToken: o.appToken ?? 'xapp-1-fake-app-token',
    botUserId: o.botUserId ?? 'UBOT000001',
    botId: o.botId ?? 'BBOT000001',
    teamId: o.teamId ?? 'T0FAKE0001',
    teamDomain: o.teamDomain ?? 'fake-workspace',
    appId: o.appId ?? 'A0FAKEAPP1',
    ...(o.enterpriseId ? { enterpriseId: o.enterpriseId } : {}),
    ackTimeoutMs: o.ackTimeoutMs ?? 2000,
    triggerTtlMs: o.triggerTtlMs ?? 3000,
  };
}

/** A running fake Slack workspace; see the module comment. */
export class FakeSlack extends FakeSlackActors {
  /** Web API base URL for `clientOptions.slackApiUrl` (ends with `/api/`). */
  readonly apiUrl: string;
  readonly #server: Server;

  private constructor(state: SlackState, socket: SocketModeServer, server: Server, port: number) {
    super(state, socket);
    this.#server = server;
    this.apiUrl = `http://127.0.0.1:${port}/api/`;
  }

  /** Start a fake workspace on a free port of 127.0.0.1. */
  static async start(options: FakeSlackOptions = {}): Promise<FakeSlack> {
    const config = configFrom(options);
    const state = new SlackState(config, options.users ?? [], options.channels ?? []);
    let port = 0;
    const socket = new SocketModeServer(() => `ws://127.0.0.1:${port}`, config.appId, config.ackTimeoutMs);
    const methods = new Map<string, MethodHandler>([...chatMethods, ...viewMethods, ...assistantMethods, ...miscMethods(() => socket.issueUrl())]);
    const server = createServer((req, res) => {
      const path = req.url ?? '/';
      const route = path.startsWith('/api/')
        ? handleApiRequest(state, methods, req, res)
        : req.method === 'POST' && path.startsWith('/actions/')
          ? handleResponseUrl(state, req, res)
          : Promise.resolve(void res.writeHead(404).end('not_found'));
      route.catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`fake-slack: ${error instanceof Error ? error.message : String(error)}`);
      });
    });
    server.on('upgrade', (req, sock, head) => socket.handleUpgrade(req, sock, head));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    port = (server.address() as AddressInfo).port;
    state.baseUrl = `http://127.0.0.1:${port}`;
    return new FakeSlack(state, socket, server, port);
  }

  /** Close every WebSocket and HTTP connection and the server. Disconnect Bolt's client first. */
  async stop(): Promise<void> {
    this.socket.close();
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  /** The resolved tokens and ids (bot token, app token, bot user id, team id, …). */
  get config(): FakeSlackConfig {
    return this.state.config;
  }

  /** Add (or replace) a workspace member, e.g. a Slack Connect user of another team. */
  addUser(user: FakeUser): void {
    this.state.users.set(user.id, { ...user });
  }

  /** Add a conversation, or change one (share a channel with another organisation mid-test). */
  setChannel(channel: FakeChannel): void {
    this.state.channels.set(channel.id, { ...channel });
  }

  /**
   * Share a channel with another organisation (Slack Connect) as Slack does: the channel
   * becomes `is_ext_shared`, and a `channel_shared` event is sent to the app. Resolves with
   * the event's ack.
   */
  shareChannel(channel: string, connectedTeamId: string): Promise<Ack> {
    const current = this.state.channels.get(channel) ?? { id: channel };
    this.setChannel({ ...current, extShared: true, sharedTeamIds: [...(current.sharedTeamIds ?? []), connectedTeamId] });
    return this.#channelEvent({ type: 'channel_shared', connected_team_id: connectedTeamId, channel, event_ts: this.state.nextTs() }, true);
  }

  /** Stop sharing a channel with `teamId`; `channel_unshared` tells the app. */
  unshareChannel(channel: string, teamId: string): Promise<Ack> {
    const current = this.state.channels.get(channel) ?? { id: channel };
    const left = (current.sharedTeamIds ?? []).filter((t) => t !== teamId);
    this.setChannel({ ...current, extShared: left.length > 0, sharedTeamIds: left });
    return this.#channelEvent({ type: 'channel_unshared', previously_connected_team_id: teamId, channel, is_ext_shared: left.length > 0, event_ts: this.state.nextTs() }, left.length > 0);
  }

  #channelEvent(event: JsonObject, isExtShared: boolean): Promise<Ack> {
    const eventId = `Ev${Math.random().toString(36).slice(2, 12).toUpperCase()}`;
    return this.socket.send('events_api', eventCallback(this.state.config, event, eventId, Math.floor(Date.now() / 1000), isExtShared), { describe: `${String(event.type)} ${eventId}` });
  }

  /**
   * Make a thread an assistant thread, as if its user had opened it in the app's assistant view:
   * assistant.threads.setStatus works there (and fails with `invalid_thread_ts` elsewhere).
   */
  markAssistantThread(channel: string, threadTs: string): void {
    this.state.markAssistantThread(channel, threadTs);
  }

  /** Make the next `times` calls to `method` answer HTTP 429 with `Retry-After: retryAfterSeconds`. */
  rateLimit(method: string, { times = 1, retryAfterSeconds = 1 }: { times?: number; retryAfterSeconds?: number } = {}): void {
    this.state.armRateLimit(method, times, retryAfterSeconds);
  }

  /**
   * Make the next `times` calls to `method` fail with `fault` instead of being answered, e.g.
   * `fail('chat.update', { error: 'internal_error' }, { times: 2 })`, `fail('chat.update', { status: 503 })`,
   * or a lost answer: `fail('chat.postMessage', { reset: true, carriedOut: true })`. Faults armed
   * for one method play in the order they were armed; a fault comes before an armed rate limit.
   */
  fail(method: string, fault: Fault, { times = 1 }: { times?: number } = {}): void {
    this.state.armFault(method, fault, times);
  }

  /** Socket Mode connections accepted so far (reconnects count). */
  get connectionsOpened(): number {
    return this.socket.connectionsOpened;
  }

  /** Currently open, greeted Socket Mode connections. */
  get openConnections(): number {
    return this.socket.openConnections;
  }

  /** Resolve once `n` connections in total have been accepted and their client processed `hello`. */
  waitForConnections(n: number, timeoutMs?: number): Promise<void> {
    return this.socket.waitForConnections(n, timeoutMs);
  }

  /** Send Slack's `disconnect` message to every connection; the client reconnects. */
  disconnect(reason: 'refresh_requested' | 'warning' | 'link_disabled' = 'refresh_requested'): void {
    this.socket.disconnect(reason);
  }

  /** Drop every connection abruptly (no close handshake), like a network failure. */
  dropConnections(): void {
    this.socket.dropConnections();
  }

  /** Every ack the app sent, in order. */
  get acks(): readonly Ack[] {
    return this.socket.acks;
  }

  /** Send any envelope (e.g. `slash_commands`, `interactive` shortcuts) and resolve with its ack. */
  sendEnvelope(type: 'events_api' | 'interactive' | 'slash_commands', payload: JsonObject, options?: EnvelopeOptions): Promise<Ack> {
    return this.socket.send(type, payload, options);
  }
}
