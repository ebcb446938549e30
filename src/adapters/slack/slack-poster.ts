/**
 * The one choke point for everything mithai sends to Slack: messages, updates, ephemerals,
 * modals, reactions. Every text and block passes through the runtime's Redactor here, whatever
 * the caller already did, so a secret cannot reach Slack by a path someone forgot to redact.
 *
 * Link and media unfurling is off on every message: an unfurl makes Slack fetch the URL, and a
 * model steered by injected content could put data into a URL for Slack to deliver.
 */
import type { webApi } from '@slack/bolt';

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

/** One page of conversations.replies, reduced to what mithai reads. */
export interface RepliesPage {
  messages: Array<{ ts?: string; user?: string; bot_id?: string; text?: string; subtype?: string }>;
  nextCursor?: string;
}

/** Redacting wrapper over the bot's Web API client. Errors from Slack are thrown as they come. */
export class SlackPoster {
  readonly #client: webApi.WebClient;
  readonly #redactor: SlackRedactor;

  /**
   * @param client The bot-token Web API client.
   * @param redactor The runtime's redactor.
   */
  constructor(client: webApi.WebClient, redactor: SlackRedactor) {
    this.#client = client;
    this.#redactor = redactor;
  }

  /** Post a message (in a thread when `threadTs` is given). @returns the new message's ts. */
  async post(channel: string, threadTs: string | undefined, body: PostBody): Promise<string> {
    const result = await this.#client.chat.postMessage({
      channel,
      ...(threadTs ? { thread_ts: threadTs } : {}),
      ...this.#body(body),
      unfurl_links: false,
      unfurl_media: false,
    });
    return String(result.ts ?? '');
  }

  /** Replace a message's text and blocks. */
  async update(channel: string, ts: string, body: PostBody): Promise<void> {
    // Blocks are always sent, so an update with none removes the old ones (buttons included).
    await this.#client.chat.update({ channel, ts, ...this.#body({ text: body.text, blocks: body.blocks ?? [] }) });
  }

  /** A message only `user` sees, in the thread when `threadTs` is given. */
  async ephemeral(channel: string, user: string, text: string, threadTs?: string): Promise<void> {
    await this.#client.chat.postEphemeral({ channel, user, text: this.#redactor.redact(text), ...(threadTs ? { thread_ts: threadTs } : {}) });
  }

  /** Open a modal with the trigger of the click that asked for it (good once, for 3 s). */
  async openView(triggerId: string, view: object): Promise<void> {
    await this.#client.views.open({ trigger_id: triggerId, view: this.#redactor.redactDeep(view) as Parameters<webApi.WebClient['views']['open']>[0]['view'] });
  }

  /** Add a reaction; an existing one is not an error. */
  async react(channel: string, ts: string, name: string): Promise<void> {
    await this.#tolerate(this.#client.reactions.add({ channel, timestamp: ts, name }), 'already_reacted');
  }

  /** Remove the bot's reaction; a missing one is not an error. */
  async unreact(channel: string, ts: string, name: string): Promise<void> {
    await this.#tolerate(this.#client.reactions.remove({ channel, timestamp: ts, name }), 'no_reaction');
  }

  /** One page of a thread (read only; nothing is sent, so nothing to redact). */
  async replies(channel: string, ts: string, cursor: string | undefined, limit: number): Promise<RepliesPage> {
    const page = await this.#client.conversations.replies({ channel, ts, limit, ...(cursor ? { cursor } : {}) });
    const next = page.response_metadata?.next_cursor;
    return { messages: (page.messages ?? []) as RepliesPage['messages'], ...(page.has_more && next ? { nextCursor: next } : {}) };
  }

  /** Redact any value that is about to go to Slack another way (e.g. a view_submission ack). */
  redactValue<T>(value: T): T {
    return this.#redactor.redactDeep(value);
  }

  #body(body: PostBody): { text: string; blocks?: Array<{ type: string }> } {
    const text = this.#redactor.redact(body.text);
    return body.blocks ? { text, blocks: this.#redactor.redactDeep([...body.blocks]) } : { text };
  }

  async #tolerate(call: Promise<unknown>, code: string): Promise<void> {
    try {
      await call;
    } catch (err) {
      if ((err as { data?: { error?: unknown } }).data?.error !== code) throw err;
    }
  }
}
