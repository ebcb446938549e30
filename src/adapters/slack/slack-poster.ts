/**
 * The one choke point for everything mithai sends to Slack: messages, updates, ephemerals,
 * modals, reactions. Every text and block passes through the runtime's Redactor here, whatever
 * the caller already did, so a secret cannot reach Slack by a path someone forgot to redact.
 *
 * Link and media unfurling is off on every message: an unfurl makes Slack fetch the URL, and a
 * model steered by injected content could put data into a URL for Slack to deliver.
 *
 * Two clients, because a retried call is only harmless when it is idempotent:
 * - `send` (no automatic retries): chat.postMessage, chat.postEphemeral and views.open create
 *   something each time, so a post whose answer was lost (a 502 after Slack stored it) must not
 *   be sent again by the client (duplicate cards, duplicate reply chunks). chat.update goes here
 *   too: the adapter retries it itself, with a bounded backoff that honours Retry-After. So does
 *   assistant.threads.setStatus: a progress line is never worth a retry (the next one replaces it).
 * - `retrying`: reactions, conversations.replies and conversations.history, which may safely be
 *   sent again.
 *
 * Approval cards carry Slack message metadata naming their approval (see `MessageMetadata`), so
 * a card whose post answer was lost can be found again by reading its thread.
 * Both reject a 429 at once and time out (see `webClientOptions`), so one rate-limited call
 * never pauses the others. Reactions are cosmetic: fire-and-forget, errors logged.
 *
 * Shared channels: with a {@link ChannelGuard} (the service sets one while
 * `adapter.slack.allow_external_channels` is false), every write into a channel (post, update,
 * ephemeral, reaction, thread status) first asks it, and a refused write throws {@link SharedChannelRefusal}
 * without reaching Slack, logged as `slack.external_refused`. Checked at the moment of writing,
 * so a channel that became shared after a turn began gets nothing more either. Modals are not
 * in a channel (they go to the clicker, who is checked before one opens); reads are not writes.
 */
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import { errorMessage, MithaiError } from '../../errors.ts';
import { within } from './timing.ts';

/**
 * Whether mithai may write into `channel`.
 * @returns why not (ids only, for the log), or undefined when it may.
 */
export type ChannelGuard = (channel: string) => Promise<string | undefined>;

/** A write into a channel the {@link ChannelGuard} refused (a channel shared with another organisation). Nothing was sent. */
export class SharedChannelRefusal extends MithaiError {
  constructor(channel: string, method: string) {
    super('shared_channel_refused', `${method} into ${channel} refused: the channel is shared with another organisation (adapter.slack.allow_external_channels is false)`);
  }
}

/** The part of the Redactor the poster needs. */
export interface SlackRedactor {
  redact(text: string): string;
  redactDeep<T>(value: T): T;
}

/** A message body: text plus optional blocks. */
export interface PostBody {
  text: string;
  blocks?: ReadonlyArray<{ type: string }>;
}

/**
 * Slack message metadata: an event type and a small JSON payload stored with a message, which
 * reads return only when asked (`include_all_metadata`). Only apps can set it, not people.
 */
export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, string>;
}

/** A message as mithai reads it from a thread or a channel's history. */
export interface ReadMessage {
  ts?: string;
  user?: string;
  bot_id?: string;
  /** The author's team (and, in shared channels, their home team): who is from another organisation. */
  team?: string;
  user_team?: string;
  text?: string;
  subtype?: string;
  /** Present only when the read asked for metadata. */
  metadata?: { event_type?: string; event_payload?: Record<string, unknown> };
}

/** One page of conversations.replies or conversations.history, reduced to what mithai reads. */
export interface RepliesPage {
  messages: ReadMessage[];
  nextCursor?: string;
}

/** Options of a read ({@link SlackPoster.replies}, {@link SlackPoster.history}). */
export interface ReadOptions {
  /** Ask Slack for each message's metadata (`include_all_metadata`). */
  includeMetadata?: boolean;
}

/** The Web API clients of a {@link SlackPoster} (see the module comment). */
export interface PosterClients {
  /** No automatic retries: posts, ephemerals, modals, updates. */
  send: webApi.WebClient;
  /** May retry: reactions, thread reads. */
  retrying: webApi.WebClient;
}

/** Redacting wrapper over the bot's Web API clients. Errors from Slack are thrown as they come. */
export class SlackPoster {
  readonly #send: webApi.WebClient;
  readonly #retrying: webApi.WebClient;
  readonly #redactor: SlackRedactor;
  readonly #logger: Logger;
  readonly #background = new Set<Promise<void>>();
  readonly #chains = new Map<string, Promise<void>>();
  readonly #guard: ChannelGuard | undefined;

  /**
   * @param clients The bot-token Web API clients.
   * @param redactor The runtime's redactor.
   * @param logger Where failed fire-and-forget calls (reactions) and refused writes are logged.
   * @param guard Asked before every write into a channel (see the module comment); none lets every write through.
   */
  constructor(clients: PosterClients, redactor: SlackRedactor, logger: Logger, guard?: ChannelGuard) {
    this.#send = clients.send;
    this.#retrying = clients.retrying;
    this.#redactor = redactor;
    this.#logger = logger;
    this.#guard = guard;
  }

  /**
   * Post a message (in a thread when `threadTs` is given), with `metadata` stored on it when given.
   * @returns the new message's ts.
   */
  async post(channel: string, threadTs: string | undefined, body: PostBody, metadata?: MessageMetadata): Promise<string> {
    await this.#admit(channel, 'chat.postMessage');
    const result = await this.#send.chat.postMessage({
      channel,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      ...this.#body(body),
      ...(metadata ? { metadata: this.#redactor.redactDeep(metadata) } : {}),
      unfurl_links: false,
      unfurl_media: false,
    });
    return String(result.ts ?? '');
  }

  /** Replace a message's text and blocks (and its metadata, when given: sent again so it is kept). */
  async update(channel: string, ts: string, body: PostBody, metadata?: MessageMetadata): Promise<void> {
    await this.#admit(channel, 'chat.update');
    // Blocks are always sent, so an update with none removes the old ones (buttons included).
    await this.#send.chat.update({
      channel,
      ts,
      ...this.#body({ text: body.text, blocks: body.blocks ?? [] }),
      ...(metadata ? { metadata: this.#redactor.redactDeep(metadata) } : {}),
    });
  }

  /** A message only `user` sees, in the thread when `threadTs` is given. */
  async ephemeral(channel: string, user: string, text: string, threadTs?: string): Promise<void> {
    await this.#admit(channel, 'chat.postEphemeral');
    await this.#send.chat.postEphemeral({ channel, user, text: this.#redactor.redact(text), ...(threadTs ? { thread_ts: threadTs } : {}) });
  }

  /**
   * Set the assistant status Slack shows under a thread ("<app> is running …"); an empty status
   * clears it. Slack accepts it only in assistant threads: elsewhere it is a platform error (the
   * caller falls back or gives up). A write into the channel like any other: the guard is asked.
   */
  async setThreadStatus(channel: string, threadTs: string, status: string): Promise<void> {
    await this.#admit(channel, 'assistant.threads.setStatus');
    await this.#send.assistant.threads.setStatus({ channel_id: channel, thread_ts: threadTs, status: this.#redactor.redact(status) });
  }

  /** Open a modal with the trigger of the click that asked for it (good once, for 3 s). */
  /** @returns the id Slack gave the view (empty when it gave none). */
  async openView(triggerId: string, view: object): Promise<string> {
    const result = await this.#send.views.open({ trigger_id: triggerId, view: this.#redactor.redactDeep(view) as Parameters<webApi.WebClient['views']['open']>[0]['view'] });
    return String(result.view?.id ?? '');
  }

  /**
   * Add a reaction in the background (never awaited on a turn's path); an existing one is fine.
   * Reaction calls on one message run in the order they were made.
   */
  react(channel: string, ts: string, name: string): void {
    this.#cosmetic(`${channel}:${ts}`, async () => {
      await this.#admit(channel, 'reactions.add');
      await this.#tolerate(this.#retrying.reactions.add({ channel, timestamp: ts, name }), 'already_reacted');
    }, `add the ${name} reaction`);
  }

  /** Remove the bot's reaction, in the background and in order; a missing one is fine. */
  unreact(channel: string, ts: string, name: string): void {
    this.#cosmetic(`${channel}:${ts}`, async () => {
      await this.#admit(channel, 'reactions.remove');
      await this.#tolerate(this.#retrying.reactions.remove({ channel, timestamp: ts, name }), 'no_reaction');
    }, `remove the ${name} reaction`);
  }

  /** Wait (at most `ms`) for background calls still in flight (shutdown). */
  async settle(ms: number): Promise<void> {
    await within(Promise.allSettled([...this.#background]), ms);
  }

  /** One page of a thread, oldest first (read only; nothing is sent, so nothing to redact). */
  async replies(channel: string, ts: string, cursor: string | undefined, limit: number, options: ReadOptions = {}): Promise<RepliesPage> {
    const page = await this.#retrying.conversations.replies({
      channel, ts, limit, ...(cursor ? { cursor } : {}), ...(options.includeMetadata ? { include_all_metadata: true } : {}),
    });
    const next = page.response_metadata?.next_cursor;
    return { messages: (page.messages ?? []) as ReadMessage[], ...(page.has_more && next ? { nextCursor: next } : {}) };
  }

  /** One page of a channel's top-level messages, newest first (read only). */
  async history(channel: string, cursor: string | undefined, limit: number, options: ReadOptions = {}): Promise<RepliesPage> {
    const page = await this.#retrying.conversations.history({
      channel, limit, ...(cursor ? { cursor } : {}), ...(options.includeMetadata ? { include_all_metadata: true } : {}),
    });
    const next = page.response_metadata?.next_cursor;
    return { messages: (page.messages ?? []) as ReadMessage[], ...(page.has_more && next ? { nextCursor: next } : {}) };
  }

  /** Redact any value that is about to go to Slack another way (e.g. a view_submission ack). */
  redactValue<T>(value: T): T {
    return this.#redactor.redactDeep(value);
  }

  /** Ask the guard before a write into `channel`. @throws SharedChannelRefusal when it refuses. */
  async #admit(channel: string, method: string): Promise<void> {
    if (this.#guard === undefined) return;
    const refusal = await this.#guard(channel);
    if (refusal === undefined) return;
    this.#logger.warn({ channel, method, reason: 'shared channel', detail: refusal }, 'slack.external_refused');
    throw new SharedChannelRefusal(channel, method);
  }

  #body(body: PostBody): { text: string; blocks?: Array<{ type: string }> } {
    const text = this.#redactor.redact(body.text);
    return body.blocks ? { text, blocks: this.#redactor.redactDeep([...body.blocks]) } : { text };
  }

  #cosmetic(key: string, call: () => Promise<void>, what: string): void {
    const previous = this.#chains.get(key) ?? Promise.resolve();
    const task = previous.then(call).catch((err: unknown) => this.#logger.warn({ action: what, err: errorMessage(err) }, 'slack.background_call_failed'));
    this.#chains.set(key, task);
    this.#background.add(task);
    void task.finally(() => {
      this.#background.delete(task);
      if (this.#chains.get(key) === task) this.#chains.delete(key);
    });
  }

  async #tolerate(call: Promise<unknown>, code: string): Promise<void> {
    try {
      await call;
    } catch (err) {
      if ((err as { data?: { error?: unknown } }).data?.error !== code) throw err;
    }
  }
}

/** The Retry-After (in ms) of a rate-limited Web API error, or undefined for any other error. */
export function retryAfterMs(err: unknown): number | undefined {
  const e = err as { code?: unknown; retryAfter?: unknown } | undefined;
  if (e?.code !== 'slack_webapi_rate_limited_error' || typeof e.retryAfter !== 'number') return undefined;
  return Math.max(0, e.retryAfter * 1000);
}
