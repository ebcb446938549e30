/**
 * From an inbound Slack message to a durable turn: the filter chain, de-duplication, the
 * allowlist, the organisation (Slack Connect) and the rate limit, then one transaction that
 * claims the message's identities and records the turn. This runs *before* the event is
 * acknowledged to Slack (./inbound-listeners.ts): a message mithai has acknowledged is a row,
 * and a crash right after the ack only delays its turn to the next start. When the record
 * cannot be written, accept rejects, the event is not acknowledged, and Slack delivers it again.
 *
 * The organisation step (./organisation.ts) runs after the allowlist: while
 * `allow_external_users` is false, a sender from another organisation is dropped whatever the
 * lists say (a wildcard never admits one); while `allow_external_channels` is false, so is any
 * message in a channel shared with another organisation. When it cannot tell, it drops. Such a
 * drop is logged as `slack.external_refused` (ids only), and nothing is posted into a shared
 * channel; an outsider in a channel mithai may write to gets at most one notice an hour.
 *
 * The turn itself runs in the background through the engine; thread catch-up and status
 * reactions are the adapter hooks {@link TurnDispatcher.prepareTurn} and
 * {@link TurnDispatcher.turnFinished}, which also run for turns resumed after a restart.
 *
 * Status reactions: 👀 only once a turn has worked {@link WORKING_SIGNAL_DELAY_MS} without
 * finishing (a turn that answers sooner gets its answer and ✅/❌ alone: no reaction calls that a
 * person would never see, spending Slack's rate limits), then ✅ or ❌ when it ends. A turn
 * deferred during shutdown gets 👀 at once: it answers only after the next start.
 *
 * Fail closed: a sender outside the allowlists, or outside the organisation, never reaches the model.
 */
import type { Logger } from 'pino';
import type { Clock } from '../../clock.ts';
import type { Engine } from '../../engine/engine.ts';
import type { ConversationRef, Turn } from '../../engine/types.ts';
import { errorMessage } from '../../errors.ts';
import type { InboundMessage, Verdict } from './inbound-filters.ts';
import { dateOfTs, dedupeKeys, isAllowed, isConversational, isFromPersonOrAllowedBot, matchesRespondMode, senderOf, threadTsOf, turnText } from './inbound-filters.ts';
import { RateLimiter } from './rate-limiter.ts';
import type { SlackAdapter } from './slack-adapter.ts';
import { SharedChannelRefusal } from './slack-poster.ts';
import type { SlackPoster } from './slack-poster.ts';
import type { Organisation } from './organisation.ts';
import type { TaskTracker } from './task-tracker.ts';
import { formatThread, readThread } from './thread-context.ts';
import { makeRoom } from '../../bounded-map.ts';

/**
 * How long a turn works before it shows that it is working (👀 here, progress in
 * ./progress-display.ts): about when a person starts to wonder. A faster turn shows only its answer.
 */
export const WORKING_SIGNAL_DELAY_MS = 500;
/** Turns whose 👀 is remembered at once; the oldest is forgotten beyond that (its end then removes 👀 blindly). */
const MAX_WORKING_TURNS = 500;
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
  /** `adapter.slack.allow_external_users`: let people of other organisations through to the lists (default false). */
  allowExternalUsers?: boolean;
  /** `adapter.slack.allow_external_channels`: serve channels shared with another organisation (default false). */
  allowExternalChannels?: boolean;
}

/** What a {@link TurnDispatcher} works with. */
export interface TurnDispatcherOptions {
  settings: DispatchSettings;
  engine: Engine;
  adapter: SlackAdapter;
  poster: SlackPoster;
  tracker: TaskTracker;
  /** Who is from another organisation, and which channels are shared with one. */
  organisation: Organisation;
  clock: Clock;
  logger: Logger;
  redact(text: string): string;
  /** How long a turn works before it gets 👀 (default {@link WORKING_SIGNAL_DELAY_MS}). */
  workingSignalDelayMs?: number;
}

/** A turn accepted by this process, until it ends: its pending 👀, or whether 👀 was sent. */
interface WorkingSignal {
  timer?: unknown;
  isShown: boolean;
}

const OUTSIDER_NOTICE = 'Sorry, I only answer people of this organisation, and I could not confirm that you are one (Slack Connect). An operator can admit people of other organisations with adapter.slack.allow_external_users.';

/** Turns inbound messages into engine turns. */
export class TurnDispatcher {
  readonly #o: TurnDispatcherOptions;
  readonly #turns: RateLimiter;
  readonly #allowlistNotices: RateLimiter;
  readonly #outsiderNotices: RateLimiter;
  readonly #slowDownNotices: RateLimiter;
  /** Turns accepted here and not yet finished, by channel and message ts (bounded). */
  readonly #working = new Map<string, WorkingSignal>();
  #isAccepting = true;
  #isStopped = false;

  constructor(options: TurnDispatcherOptions) {
    this.#o = options;
    const { clock, settings } = options;
    this.#turns = new RateLimiter({ limit: settings.turnsPerMinute, windowMs: 60_000, clock });
    this.#allowlistNotices = new RateLimiter({ limit: 1, windowMs: NOTICE_EVERY_MS, clock });
    this.#outsiderNotices = new RateLimiter({ limit: 1, windowMs: NOTICE_EVERY_MS, clock });
    this.#slowDownNotices = new RateLimiter({ limit: 1, windowMs: 60_000, clock });
  }

  /** Stop starting turns (shutdown); later messages are recorded for the next start, not run. */
  stopAccepting(): void {
    this.#isAccepting = false;
  }

  /** Shutdown, once turns have drained: no 👀 is sent any more (pending ones are cancelled). */
  stop(): void {
    this.stopAccepting();
    this.#isStopped = true;
    for (const signal of this.#working.values()) this.#disarm(signal);
  }

  /**
   * Handle one inbound message: filter it, and record it as a durable turn that starts in the
   * background. Resolves once it is recorded (or dropped), so the caller acknowledges the event
   * only after. The organisation check may ask Slack, within a bounded time.
   * @throws StateError when the message could not be recorded (do not acknowledge it).
   */
  async accept(msg: InboundMessage): Promise<void> {
    if (await this.#accept(msg)) return;
    // Not recorded (dropped, refused, or rate limited): its ack still tells Slack never to
    // deliver it again, and an earlier delivery of it may have recorded a turn whose commit is
    // not on disk yet (refused now by the rate limit or the organisation check). So the ack
    // waits until every commit so far is on disk (at once, usually).
    await this.#o.engine.whenDurable();
  }

  /** @returns true when the message went to the engine to be recorded (and its commit is on disk). */
  async #accept(msg: InboundMessage): Promise<boolean> {
    const { settings, logger } = this.#o;
    const ids = { channel: msg.channel, user: senderOf(msg), ts: msg.ts, event_id: msg.eventId };
    const verdict = firstDrop([
      () => isConversational(msg),
      () => isFromPersonOrAllowedBot(msg, settings.botUserId, settings.botId, settings.allowedUsers),
      () => matchesRespondMode(msg, settings.respond, settings.botUserId),
    ]);
    if (!verdict.ok) {
      logger.debug({ ...ids, reason: verdict.reason }, 'slack.message_ignored');
      return false;
    }
    const allowed = isAllowed(msg, settings.allowedUsers, settings.allowedChannels);
    if (!allowed.ok) {
      // Ids only: the text of someone we do not serve is never logged or shown to the model.
      if (!this.#claimOnly(msg)) return false;
      logger.warn({ ...ids, reason: allowed.reason }, 'slack.message_refused_by_allowlist');
      if (msg.botId === undefined && msg.user && this.#allowlistNotices.take(msg.user)) {
        this.#notice(msg, 'Sorry, I only answer people and channels on my allowlist (adapter.slack.allowed_users / allowed_channels). Ask an operator to add you.');
      }
      return false;
    }
    const outsider = await this.#organisationVerdict(msg);
    if (!outsider.ok) {
      if (!this.#claimOnly(msg)) return false;
      logger.warn({ ...ids, team: msg.userTeam, reason: outsider.reason, detail: outsider.detail }, 'slack.external_refused');
      if (outsider.mayNotice && msg.botId === undefined && msg.user && this.#outsiderNotices.take(msg.user)) this.#notice(msg, OUTSIDER_NOTICE);
      return false;
    }
    const sender = senderOf(msg) ?? '';
    const conversation: ConversationRef = { platform: 'slack', team: msg.team, channel: msg.channel, thread: threadTsOf(msg) };
    const turn: Turn = {
      conversation,
      user: sender,
      text: turnText(msg.text, settings.botUserId),
      canAskHuman: true,
      sentAt: dateOfTs(msg.ts),
      origin: msg.ts,
    };
    if (!this.#turns.take(sender)) {
      logger.warn(ids, 'slack.message_refused_by_rate_limit');
      if (this.#slowDownNotices.take(sender)) {
        this.#notice(msg, `You are sending me messages faster than I can take them (at most ${settings.turnsPerMinute} a minute), so I skipped this one. Wait a moment and send it again.`);
      }
      return false;
    }
    // The message's identities are claimed in the same transaction as its turn: a crash can
    // never leave a claimed message without its turn, or a redelivery start a second one.
    // The commit does not wait for the disk here: the turn starts at once, and this resolves
    // (so the event is acknowledged) only once the disk has it (`durable`).
    const { turnId, durable } = this.#o.engine.record(turn, { receiptKeys: dedupeKeys(msg), receiptTtlMs: DEDUPE_TTL_MS });
    if (turnId === undefined) {
      logger.info(ids, 'slack.duplicate_ignored');
      await durable;
      return true;
    }
    if (!this.#isAccepting) {
      await durable;
      // Shutting down: the message is recorded (and so acknowledged) but not started; the next
      // start runs it. Slack would not deliver an acknowledged event again. 👀 at once, as it
      // answers only after the restart. (Reactions are cosmetic and fire-and-forget.)
      this.#o.poster.react(msg.channel, msg.ts, 'eyes');
      logger.warn({ ...ids, turn_id: turnId }, 'slack.message_deferred_during_shutdown');
      this.#notice(msg, 'I am restarting; I have your message and will answer it as soon as I am back.');
      return true;
    }
    try {
      this.#showWorkingLater(msg.channel, msg.ts);
      this.#o.tracker.run('turn', () => this.#o.engine.run(turnId));
    } finally {
      // Always awaited: a rejection nobody awaits would take the process down.
      await durable;
    }
    return true;
  }

  /**
   * Adapter hook, before a turn starts (also after a restart): a mention inside a thread this
   * session has never seen reads the thread so the model can catch up. A failure to read it is
   * logged and the turn goes ahead without it.
   */
  async prepareTurn(turn: Turn): Promise<Turn> {
    const { channel, thread } = turn.conversation;
    if (turn.origin === undefined || turn.origin === thread) return turn;
    const { engine, settings, poster, logger, redact } = this.#o;
    if (engine.hasHistory(turn.conversation)) return turn;
    try {
      const history = await readThread((cursor, limit) => poster.replies(channel, thread, cursor, limit));
      const { organisation } = this.#o;
      const readers = {
        botUserId: settings.botUserId, botId: settings.botId, allowedUsers: settings.allowedUsers, redact,
        // Outsiders read from the thread are untrusted whatever the lists say (no lookup per
        // message); so is a message that names no team, unless users.info recently placed its author inside.
        ...(settings.allowExternalUsers === true ? {} : { isOutsider: (user: string | undefined, team: string | undefined) => (team === undefined || organisation.isForeignTeam(team)) && !(user !== undefined && organisation.isKnownInside(user)) }),
      };
      const context = formatThread(history.messages, turn.origin, readers, history.skipped);
      if (context.block === undefined) return turn;
      return { ...turn, context: [context.block], hasUntrustedContext: context.hasUntrusted, untrustedSources: context.untrustedSources ?? [] };
    } catch (err) {
      logger.warn({ channel, thread, err: errorMessage(err) }, 'slack.thread_read_failed');
      return turn;
    }
  }

  /**
   * Adapter hook, once a turn has replied: ✅ or ❌, and the 👀 removed first when it was sent
   * (or may have been: a turn resumed after a restart, or forgotten). A 👀 not yet due is
   * cancelled. Reaction calls on one message run in order, so a removal follows its add.
   */
  turnFinished(turn: Turn, status: string): void {
    if (turn.origin === undefined) return;
    const { channel } = turn.conversation;
    const key = workingKey(channel, turn.origin);
    const signal = this.#working.get(key);
    this.#working.delete(key);
    if (signal !== undefined) this.#disarm(signal);
    if (signal === undefined || signal.isShown) this.#o.poster.unreact(channel, turn.origin, 'eyes');
    this.#o.poster.react(channel, turn.origin, status === 'answered' ? 'white_check_mark' : 'x');
  }

  /** Arm the turn's 👀 for when it has worked {@link WORKING_SIGNAL_DELAY_MS} (cancelled if it ends first). */
  #showWorkingLater(channel: string, ts: string): void {
    const key = workingKey(channel, ts);
    const known = this.#working.get(key);
    if (known !== undefined) this.#disarm(known);
    this.#working.delete(key);
    makeRoom(this.#working, MAX_WORKING_TURNS, (oldest) => this.#disarm(oldest));
    const { clock, poster } = this.#o;
    const signal: WorkingSignal = { isShown: false };
    signal.timer = clock.setTimeout(() => {
      signal.timer = undefined;
      if (this.#isStopped || this.#working.get(key) !== signal) return;
      signal.isShown = true;
      poster.react(channel, ts, 'eyes');
    }, this.#o.workingSignalDelayMs ?? WORKING_SIGNAL_DELAY_MS);
    this.#working.set(key, signal);
  }

  #disarm(signal: WorkingSignal): void {
    if (signal.timer === undefined) return;
    this.#o.clock.clearTimeout(signal.timer);
    signal.timer = undefined;
  }

  /**
   * The organisation step: the sender (a person by `user`, a bot by the team its event names) and
   * the channel, asked together. `mayNotice` is true only when mithai may write into the channel.
   */
  async #organisationVerdict(msg: InboundMessage): Promise<{ ok: true } | { ok: false; reason: string; detail: string; mayNotice: boolean }> {
    const { settings, organisation } = this.#o;
    const [user, channel] = await Promise.all([
      settings.allowExternalUsers === true ? undefined : organisation.user(msg.user ?? '', msg.userTeam),
      settings.allowExternalChannels === true ? undefined : organisation.channel(msg.channel, msg.isExtSharedChannel),
    ]);
    if (channel?.isOutside === true) return { ok: false, reason: 'shared channel', detail: channel.reason, mayNotice: false };
    if (user?.isOutside === true) return { ok: false, reason: 'external user', detail: user.reason, mayNotice: true };
    return { ok: true };
  }

  /** Claim a message that will not be handled (allowlist, organisation), so its redeliveries stay quiet. */
  #claimOnly(msg: InboundMessage): boolean {
    return this.#o.engine.claimReceipts(dedupeKeys(msg), DEDUPE_TTL_MS);
  }

  #notice(msg: InboundMessage, text: string): void {
    const user = msg.user;
    if (!user) return;
    // A notice into a shared channel is refused by the poster (and logged there): nothing more to say.
    this.#o.tracker.run('notice', () => this.#o.poster.ephemeral(msg.channel, user, text, msg.threadTs).catch(unlessSharedChannelRefusal));
  }
}

/** A message's identity for its 👀: the channel and its ts. */
function workingKey(channel: string, ts: string): string {
  return `${channel}\u0000${ts}`;
}

/** Rethrow anything but the poster's refusal to write into a shared channel (already logged). */
function unlessSharedChannelRefusal(err: unknown): void {
  if (!(err instanceof SharedChannelRefusal)) throw err;
}

function firstDrop(steps: ReadonlyArray<() => Verdict>): Verdict {
  for (const step of steps) {
    const verdict = step();
    if (!verdict.ok) return verdict;
  }
  return { ok: true };
}
