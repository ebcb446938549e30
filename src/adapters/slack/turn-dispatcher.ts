/**
 * From an inbound Slack message to a finished turn: the filter chain, de-duplication, the
 * allowlist and rate limit, thread catch-up, status reactions, and the engine call.
 *
 * Ack ordering: Bolt has already acked the event envelope before our listener runs, and
 * `accept()` returns without awaiting the turn. The turn runs in the background (tracked for
 * shutdown), so a turn waiting on an approval never holds up other events or the click that
 * approves it. One turn at a time per thread is the engine's job (a lock per session key).
 *
 * Fail closed: a message that cannot be claimed as new (the dedupe store failed) is not handled;
 * a sender outside the allowlists never reaches the model.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../clock.ts';
import type { Engine } from '../../engine/engine.ts';
import { sessionKey } from '../../engine/session-key.ts';
import type { ConversationRef, Turn } from '../../engine/types.ts';
import { errorMessage } from '../../errors.ts';
import type { EventDedupeStore } from '../../state/event-dedupe-store.ts';
import type { SessionStore } from '../../state/session-store.ts';
import type { InboundMessage, Verdict } from './inbound-filters.ts';
import { dateOfTs, dedupeKeys, isAllowed, isConversational, isFromPersonOrAllowedBot, matchesRespondMode, threadTsOf, turnText } from './inbound-filters.ts';
import { RateLimiter } from './rate-limiter.ts';
import type { SlackAdapter } from './slack-adapter.ts';
import type { SlackPoster } from './slack-poster.ts';
import type { TaskTracker } from './task-tracker.ts';
import { formatThread, readThread } from './thread-context.ts';

/** How long an event key stays claimed (Slack retries come within minutes; reconnects replay). */
const DEDUPE_TTL_MS = 24 * 60 * 60 * 1000;
const NOTICE_EVERY_MS = 60 * 60 * 1000;

/** The adapter.slack settings and bot identity the dispatcher applies. */
export interface DispatchSettings {
  botUserId: string;
  botId: string;
  respond: 'mentions' | 'all';
  allowedUsers: readonly string[];
  allowedChannels: readonly string[];
  /** Turns per user per minute. */
  turnsPerMinute: number;
}

/** What a {@link TurnDispatcher} works with. */
export interface TurnDispatcherOptions {
  settings: DispatchSettings;
  engine: Engine;
  adapter: SlackAdapter;
  poster: SlackPoster;
  dedupe: EventDedupeStore;
  sessions: SessionStore;
  tracker: TaskTracker;
  clock: Clock;
  logger: Logger;
  redact(text: string): string;
  /** Aborted when shutdown gives up waiting for running turns. */
  signal: AbortSignal;
}

/** Turns inbound messages into engine turns. */
export class TurnDispatcher {
  readonly #o: TurnDispatcherOptions;
  readonly #turns: RateLimiter;
  readonly #allowlistNotices: RateLimiter;
  readonly #slowDownNotices: RateLimiter;
  #isAccepting = true;

  constructor(options: TurnDispatcherOptions) {
    this.#o = options;
    const { clock, settings } = options;
    this.#turns = new RateLimiter({ limit: settings.turnsPerMinute, windowMs: 60_000, clock });
    this.#allowlistNotices = new RateLimiter({ limit: 1, windowMs: NOTICE_EVERY_MS, clock });
    this.#slowDownNotices = new RateLimiter({ limit: 1, windowMs: 60_000, clock });
  }

  /** Stop starting turns (shutdown); later messages get a "send it again" notice. */
  stopAccepting(): void {
    this.#isAccepting = false;
  }

  /** Handle one inbound message. Returns at once; the turn (if any) runs in the background. */
  accept(msg: InboundMessage): void {
    const { settings, logger } = this.#o;
    const ids = { channel: msg.channel, user: msg.user ?? msg.botId, ts: msg.ts, event_id: msg.eventId };
    const verdict = firstDrop([
      () => isConversational(msg),
      () => isFromPersonOrAllowedBot(msg, settings.botUserId, settings.botId, settings.allowedUsers),
      () => matchesRespondMode(msg, settings.respond, settings.botUserId),
    ]);
    if (!verdict.ok) {
      logger.debug({ ...ids, reason: verdict.reason }, 'slack message ignored');
      return;
    }
    if (!this.#claim(msg)) return;
    if (!this.#isAccepting) {
      logger.warn(ids, 'slack message arrived during shutdown; not handled');
      this.#notice(msg, 'I am restarting and did not take this message. Send it again in a minute.');
      return;
    }
    const allowed = isAllowed(msg, settings.allowedUsers, settings.allowedChannels);
    if (!allowed.ok) {
      // Ids only: the text of someone we do not serve is never logged or shown to the model.
      logger.warn({ ...ids, reason: allowed.reason }, 'slack message dropped by the allowlist');
      if (msg.botId === undefined && msg.user && this.#allowlistNotices.take(msg.user)) {
        this.#notice(msg, 'Sorry, I only answer people and channels on my allowlist (adapter.slack.allowed_users / allowed_channels). Ask an operator to add you.');
      }
      return;
    }
    const sender = msg.user ?? msg.botId ?? '';
    if (!this.#turns.take(sender)) {
      logger.warn(ids, 'slack message dropped by the per-user rate limit');
      if (this.#slowDownNotices.take(sender)) {
        this.#notice(msg, `You are sending me messages faster than I can take them (at most ${settings.turnsPerMinute} a minute), so I skipped this one. Wait a moment and send it again.`);
      }
      return;
    }
    this.#o.tracker.run('turn', () => this.#runTurn(msg, sender));
  }

  /** Claim every identity of the message; false (do not handle) when any was seen before. */
  #claim(msg: InboundMessage): boolean {
    try {
      const now = this.#o.clock.now();
      for (const key of dedupeKeys(msg)) {
        if (!this.#o.dedupe.claim(key, now, DEDUPE_TTL_MS)) {
          this.#o.logger.info({ channel: msg.channel, ts: msg.ts, event_id: msg.eventId, key }, 'duplicate slack delivery ignored');
          return false;
        }
      }
      return true;
    } catch (err) {
      this.#o.logger.error({ channel: msg.channel, ts: msg.ts, err: errorMessage(err) }, 'could not record the slack event; not handled');
      return false;
    }
  }

  async #runTurn(msg: InboundMessage, sender: string): Promise<void> {
    const { poster, engine, adapter, logger } = this.#o;
    const conversation: ConversationRef = { platform: 'slack', team: msg.team, channel: msg.channel, thread: threadTsOf(msg) };
    const turn: Turn = {
      conversation,
      user: sender,
      text: turnText(msg.text, this.#o.settings.botUserId),
      canAskHuman: true,
      sentAt: dateOfTs(msg.ts),
      ...(await this.#threadContext(msg, conversation)),
    };
    // Reactions are cosmetic and fire-and-forget: a slow or rate-limited one never holds up the turn.
    poster.react(msg.channel, msg.ts, 'eyes');
    let isAnswered = false;
    try {
      const result = await engine.handleTurn(turn, adapter, this.#o.signal);
      isAnswered = result.status === 'answered';
    } catch (err) {
      // handleTurn does not throw; if it ever does, the thread still hears about it.
      logger.error({ channel: msg.channel, ts: msg.ts, err: errorMessage(err) }, 'turn failed outside the engine');
      await poster.post(msg.channel, conversation.thread, { text: 'Sorry, something went wrong inside mithai while handling this; the error is in the logs.' });
    } finally {
      poster.unreact(msg.channel, msg.ts, 'eyes');
      poster.react(msg.channel, msg.ts, isAnswered ? 'white_check_mark' : 'x');
    }
  }

  /**
   * Mentioned inside a thread this session has never seen: read the thread so the model can
   * catch up. A failure to read it is logged and the turn goes ahead without it.
   */
  async #threadContext(msg: InboundMessage, conversation: ConversationRef): Promise<Pick<Turn, 'context' | 'hasUntrustedContext'>> {
    if (msg.threadTs === undefined || msg.threadTs === msg.ts) return {};
    const { sessions, settings, poster, logger, redact } = this.#o;
    if (sessions.hasMessages(sessionKey(conversation))) return {};
    try {
      const thread = await readThread((cursor, limit) => poster.replies(msg.channel, conversation.thread, cursor, limit));
      const readers = { botUserId: settings.botUserId, botId: settings.botId, allowedUsers: settings.allowedUsers, redact };
      const context = formatThread(thread.messages, msg.ts, readers, thread.skipped);
      if (context.block === undefined) return {};
      return { context: [context.block], hasUntrustedContext: context.hasUntrusted };
    } catch (err) {
      logger.warn({ channel: msg.channel, thread: conversation.thread, err: errorMessage(err) }, 'could not read the thread history; answering without it');
      return {};
    }
  }

  #notice(msg: InboundMessage, text: string): void {
    const user = msg.user;
    if (!user) return;
    this.#o.tracker.run('notice', () => this.#o.poster.ephemeral(msg.channel, user, text, msg.threadTs));
  }
}

function firstDrop(steps: ReadonlyArray<() => Verdict>): Verdict {
  for (const step of steps) {
    const verdict = step();
    if (!verdict.ok) return verdict;
  }
  return { ok: true };
}
