/**
 * The user side of {@link FakeSlack}: helpers that act as people in the workspace. Envelope
 * helpers resolve with the app's ack and reject when none arrives in time, so an unhandled
 * event or interaction fails the test loudly. Messages users post are stored in the channel
 * history, so conversations.replies returns them next to the bot's own posts.
 */
import { FakeSlackInspector } from './fake-slack-inspect.ts';
import { applyViewAck, buildClick, buildSubmission } from './interactions.ts';
import type { ClickOptions, SubmitOptions } from './interactions.ts';
import { eventCallback, messageEvent, richTextBlocks } from './payloads.ts';
import type { MessageEventFields } from './payloads.ts';
import { slackId } from './state.ts';
import type { Ack, JsonObject, SlackMessage } from './types.ts';

export type { ClickOptions, SubmitOptions } from './interactions.ts';

/** A user message posted in a channel (or DM / group). */
export interface UserMessageOptions {
  user: string;
  channel: string;
  text: string;
  threadTs?: string;
  /** Stamp the message with this ts instead of a fresh one. */
  ts?: string;
}

/** Options shared by the event helpers. */
export interface EventOptions extends UserMessageOptions {
  /** Reuse an event_id to re-deliver the same event (as Slack retries do). */
  eventId?: string;
  /** `retry_attempt` of the envelope (`retry_reason: timeout` when above 0). */
  retryAttempt?: number;
  /** Ack timeout for this envelope (ms). */
  timeoutMs?: number;
  /** Leave every team field out of the event (`team`, `user_team`, `source_team`), as some events do. */
  withoutTeam?: boolean;
}

/** A `message` event: a channel message, a DM (`channelType: 'im'`) or another bot's post. */
export interface MessageOptions extends EventOptions {
  channelType?: 'channel' | 'im' | 'group' | 'mpim';
  botId?: string;
  subtype?: string;
}

/** What an event helper resolves with. */
export interface SentEvent {
  ts: string;
  eventId: string;
  ack: Ack;
}

/** What clickButton resolves with: the ack, plus the ids the interaction carried. */
export interface ClickResult extends Ack {
  triggerId: string;
  responseUrl: string;
}

/** Helpers that act as workspace users. Use them through {@link FakeSlack}. */
export class FakeSlackActors extends FakeSlackInspector {
  readonly #events = new Map<string, JsonObject>();

  /** Store a user message in history (no event is sent). For thread-history tests. */
  async postAsUser(o: UserMessageOptions): Promise<{ ts: string }> {
    return { ts: this.#store(o).ts };
  }

  /** Mention the bot: an `app_mention` event (`<@BOT>` is prepended to `text` if missing). */
  mention(o: EventOptions): Promise<SentEvent> {
    const tag = `<@${this.state.config.botUserId}>`;
    const text = o.text.includes(tag) ? o.text : `${tag} ${o.text}`;
    return this.#sendEvent({ ...o, text }, { type: 'app_mention' });
  }

  /** Post a message the app receives as a `message` event. */
  message(o: MessageOptions): Promise<SentEvent>;
  /** Read one message as it is now (same as {@link messageAt}). */
  message(channel: string, ts: string): SlackMessage | undefined;
  message(o: MessageOptions | string, ts?: string): Promise<SentEvent> | SlackMessage | undefined {
    if (typeof o === 'string') return this.messageAt(o, ts ?? '');
    return this.#sendEvent(o, {
      type: 'message',
      ...(o.channelType ? { channelType: o.channelType } : {}),
      ...(o.botId ? { botId: o.botId } : {}),
      ...(o.subtype ? { subtype: o.subtype } : {}),
    });
  }

  /** Click a button on a message the bot posted (or an ephemeral shown to this user). */
  async clickButton(o: ClickOptions & { timeoutMs?: number }): Promise<ClickResult> {
    const payload = buildClick(this.state, o);
    const ack = await this.socket.send('interactive', payload, { timeoutMs: o.timeoutMs, describe: `block_actions ${o.actionId}` });
    return { ...ack, triggerId: String(payload.trigger_id), responseUrl: String(payload.response_url) };
  }

  /** Submit a modal the app opened; resolves with the ack (e.g. `response_action: 'errors'`). */
  async submitView(o: SubmitOptions & { timeoutMs?: number }): Promise<Ack> {
    const { payload, entry } = buildSubmission(this.state, o);
    const callbackId = String(entry.view.callback_id);
    const ack = await this.socket.send('interactive', payload, {
      acceptsResponsePayload: true, timeoutMs: o.timeoutMs, describe: `view_submission ${callbackId}`,
    });
    applyViewAck(this.state, entry, ack);
    return ack;
  }

  #store(o: UserMessageOptions, extra: Partial<SlackMessage> = {}): SlackMessage {
    this.state.rememberUser(o.user);
    this.state.rememberChannel(o.channel, o.user);
    const team = this.state.teamOf(o.user);
    const message: SlackMessage = {
      type: 'message',
      ts: o.ts ?? this.state.nextTs(),
      channel: o.channel,
      text: o.text,
      user: o.user,
      team,
      // In a shared channel Slack says whose organisation each message comes from.
      ...(this.state.isShared(o.channel) && !extra.bot_id ? { user_team: team, source_team: team } : {}),
      ...(extra.bot_id ? {} : { blocks: richTextBlocks(o.text) }),
      ...extra,
    };
    if (o.threadTs) message.thread_ts = this.state.threadRoot(o.channel, o.threadTs);
    return this.state.addMessage(message);
  }

  async #sendEvent(o: EventOptions, f: Pick<MessageEventFields, 'type' | 'channelType' | 'botId' | 'subtype'>): Promise<SentEvent> {
    const eventId = o.eventId ?? slackId('Ev');
    let body = this.#events.get(eventId);
    if (!body) {
      const stored = f.subtype?.startsWith('message_')
        ? undefined
        : this.#store(o, { ...(f.botId ? { bot_id: f.botId } : {}), ...(f.subtype ? { subtype: f.subtype } : {}) });
      const ts = stored?.ts ?? o.ts ?? this.state.nextTs();
      const threadTs = stored?.thread_ts ?? o.threadTs;
      const parentUserId = threadTs ? this.state.findMessage(o.channel, threadTs)?.user : undefined;
      this.state.rememberUser(o.user);
      this.state.rememberChannel(o.channel, o.user);
      const event = messageEvent(this.state.config, {
        ...f, user: o.user, text: o.text, ts, channel: o.channel,
        ...(threadTs && threadTs !== ts ? { threadTs } : {}),
        ...(parentUserId ? { parentUserId } : {}),
        userTeam: this.state.teamOf(o.user),
        shared: this.state.isShared(o.channel),
        ...(o.withoutTeam ? { withoutTeam: true } : {}),
      });
      body = eventCallback(this.state.config, event, eventId, Math.floor(Number(ts)), this.state.isExtShared(o.channel));
      this.#events.set(eventId, body);
    }
    const retryAttempt = o.retryAttempt ?? 0;
    const ack = await this.socket.send('events_api', body, {
      retryAttempt, retryReason: retryAttempt > 0 ? 'timeout' : '', timeoutMs: o.timeoutMs, describe: `${f.type} ${eventId}`,
    });
    return { ts: String((body.event as JsonObject).ts), eventId, ack };
  }
}
