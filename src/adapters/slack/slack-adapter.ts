/**
 * The engine's view of Slack: replies in the thread (Markdown → mrkdwn, split at Slack's
 * limits), approval cards posted in the thread, card updates as approvals move on, and short
 * notices in a thread.
 *
 * Cards can always be found again, and never lie:
 * - Every card carries message metadata naming its approval (`mithai_approval`, `approval_id`).
 *   When a post's answer is lost (a timeout or a 5xx after Slack stored the message), or a
 *   crash came between the post and storing its ts, the card is found again by reading the
 *   approval's thread with metadata, never posted a second time.
 * - Card updates for one approval run one at a time and always render the row as it is *now*,
 *   so concurrent callers (the click handler, the tool router, shutdown) can never leave an
 *   older state on the card than the latest one. Transient failures of chat.update (Slack's
 *   internal_error and friends, HTTP 5xx, timeouts, resets, rate limits with their Retry-After)
 *   are tried again; refusals are not.
 * - After each successful draw the state that was drawn is stored (`displayed_state`), so a card
 *   whose update could not get through is known to be behind; {@link SlackAdapter.reconcileCards}
 *   (run by the service at start and every few seconds) redraws those.
 */
import type { Logger } from 'pino';
import type { Adapter, Turn } from '../../engine/types.ts';
import { FINAL_STATES, type Approval, type ApprovalState } from '../../human/types.ts';
import { errorMessage } from '../../errors.ts';
import { renderCard } from './approval-card.ts';
import { markdownToMrkdwn, neutraliseBroadcasts } from './mrkdwn.ts';
import { splitMrkdwn } from './reply-chunks.ts';
import type { ReadMessage, RepliesPage, SlackPoster } from './slack-poster.ts';
import { CARD_EVENT_TYPE, cardMetadata, failureKind, isAmbiguous, parseRef, type CardRef } from './card-ref.ts';

export { CARD_EVENT_TYPE, cardMetadata, failureKind, parseRef, type CardRef } from './card-ref.ts';
import { retryAfterMs } from './slack-poster.ts';
import { sleep, within } from './timing.ts';

/** Delays before the 2nd, 3rd, … chat.update attempt of a card (a longer Retry-After wins). */
export const CARD_UPDATE_RETRY_MS: readonly number[] = [1_000, 3_000];
/**
 * The longest Retry-After a card update waits for in place. Slack's usual answers (1–30 s) are
 * waited out; a longer one leaves the card to {@link SlackAdapter.reconcileCards}, which holds
 * off until the Retry-After has passed.
 */
export const RETRY_AFTER_CAP_MS = 30_000;
/** Messages read per page when looking for a card, and pages read at most. */
const SEARCH_PAGE_SIZE = 200;
const SEARCH_PAGES = 10;
/** A card not found this many times is taken as never posted. */
const SEARCH_MISSES_MAX = 3;
/** Searches for one missing card are at least this far apart (a post may be stored late). */
const SEARCH_SPACING_MS = 10_000;
/** Approvals looked at per reconcile pass, and cards drawn (or searched for) per pass at most. */
const RECONCILE_SCAN = 500;
const RECONCILE_MAX_WORK = 20;
/** Redraws of one card in a row while its row keeps moving under it. */
const DRAWS_MAX = 3;

/** The approval rows the adapter reads and annotates (ApprovalStore implements it). */
export interface CardStore {
  get(id: string): Approval | undefined;
  setDisplayRef(id: string, ref: string): boolean;
  /** Record the state the card now shows. */
  setDisplayedState(id: string, state: ApprovalState): boolean;
  /** Approvals whose card is behind their state (or never recorded as drawn), oldest first. */
  listUndisplayed(limit?: number): Approval[];
}

/** What a {@link SlackAdapter} needs. */
export interface SlackAdapterOptions {
  poster: SlackPoster;
  approvals: CardStore;
  redact(text: string): string;
  logger: Logger;
  /** Delays between chat.update attempts (default {@link CARD_UPDATE_RETRY_MS}). */
  updateRetryMs?: readonly number[];
  /**
   * The bot's id (`B…`, from auth.test): a found card must be one of its messages. Without it,
   * any bot message with the card's metadata is taken (only apps can set metadata).
   */
  botId?: string;
  /** Longest Retry-After waited out in place (default {@link RETRY_AFTER_CAP_MS}). */
  retryAfterCapMs?: number;
  /** How retries wait (tests record the waits instead of sleeping). */
  sleep?: (ms: number) => Promise<void>;
  /** The clock for rate-limit pauses and search spacing (default Date.now). */
  now?: () => number;
}

/** Where a notice goes: a conversation (or anything with its channel and thread). */
export interface NoticeTarget {
  channel: string;
  /** The thread root; empty or absent posts in the channel. */
  thread?: string;
}

/** The Slack implementation of the engine's Adapter. Start/stop belong to the Slack service. */
export class SlackAdapter implements Adapter {
  readonly name = 'slack';
  readonly #o: SlackAdapterOptions;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #now: () => number;
  /** Where cards are, as this process knows (also stored on the row). */
  readonly #refs = new Map<string, CardRef>();
  /** The tail of each approval's queue of card work (posts, updates); never rejects. */
  readonly #cardWork = new Map<string, Promise<void>>();
  /** Approvals whose post Slack refused outright: there is no card to find. */
  readonly #noCard = new Set<string>();
  /** Searches that found no card, per approval: how many, and when the last one was. */
  readonly #misses = new Map<string, { count: number; at: number }>();
  /** Approvals whose update Slack refused, with the state that was refused (retried once the state moves). */
  readonly #refused = new Map<string, ApprovalState>();
  /** Until when Slack asked us to hold off (Retry-After), as `now()` time. */
  #pausedUntil = 0;
  /** When this adapter was made (wall clock, like approval rows' createdAt). */
  readonly #createdAt = Date.now();
  #reconciling: Promise<number> | undefined;
  #isStopping = false;

  constructor(options: SlackAdapterOptions) {
    this.#o = options;
    this.#sleep = options.sleep ?? sleep;
    this.#now = options.now ?? Date.now;
  }

  async start(): Promise<void> {}

  /** Wait (at most `timeoutMs`) for card work in flight; no update is retried from now on. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.#isStopping = true;
    const running = [...this.#cardWork.values(), ...(this.#reconciling ? [this.#reconciling] : [])];
    if (!(await within(Promise.allSettled(running), timeoutMs))) {
      this.#o.logger.warn({ pending: this.#cardWork.size, reason: 'still running at shutdown; redrawn at the next start' }, 'slack.card_updates_abandoned');
    }
  }

  /**
   * Post the reply in the turn's thread, as several messages when it is long. When Slack
   * refuses a part, a short note says so in the thread (never silence), then the error is
   * rethrown for the engine to log.
   */
  async reply(turn: Turn, text: string): Promise<void> {
    const { channel, thread } = turn.conversation;
    const chunks = splitMrkdwn(markdownToMrkdwn(this.#o.redact(text)));
    try {
      for (const chunk of chunks.length > 0 ? chunks : ['(no reply text)']) {
        await this.#o.poster.post(channel, thread, { text: chunk });
      }
    } catch (err) {
      const note = 'Sorry, Slack refused (part of) my reply, so it is incomplete; the error is in the logs.';
      await this.#o.poster.post(channel, thread, { text: note }).catch(() => undefined);
      throw err;
    }
  }

  /**
   * A short plain message in a thread, e.g. what a restart did to an approval (resumed, expired
   * while mithai was down, outcome unknown, cancelled). Redacted, broadcasts neutralised, no
   * Markdown conversion. Never throws: a notice that cannot be posted is logged.
   */
  async notice(target: NoticeTarget, text: string): Promise<void> {
    try {
      await this.#o.poster.post(target.channel, target.thread || undefined, { text: neutraliseBroadcasts(this.#o.redact(text)) });
    } catch (err) {
      this.#o.logger.warn({ channel: target.channel, thread: target.thread, err: errorMessage(err) }, 'slack.notice_post_failed');
    }
  }

  /**
   * Show the approval card in the call's thread and remember where it is. An approval that
   * already has a card (known, stored, or found in the thread when the approval comes from an
   * earlier process) gets that card redrawn instead of a second one. When the post fails in a
   * way that does not prove Slack dropped it, the thread is searched for the card first.
   * @throws when there is no card: Slack refused it, or it could not be found after a failed
   *   post (the router then cancels the approval: nobody could see it).
   */
  requestApproval(approval: Approval): Promise<void> {
    // During shutdown nobody will be around to click: fail the request so the router cancels it.
    return this.#serial(approval.id, () => this.#showCard(approval));
  }

  /**
   * Wait (at most `timeoutMs`) for the card work in flight for approval `id`, such as a post
   * whose answer is not back yet. Slack shows a card to people before it answers the post, so
   * a quick click can arrive before this process has recorded where the card is.
   * @returns true when no card work is in flight for `id` any more.
   */
  cardWorkSettled(id: string, timeoutMs: number): Promise<boolean> {
    const work = this.#cardWork.get(id);
    return work === undefined ? Promise.resolve(true) : within(work, timeoutMs);
  }

  /**
   * Redraw the card from the approval's current row (buttons gone once it is no longer pending).
   * An approval without a known card has its thread searched for one first.
   * Never throws: a card that cannot be updated is logged and left to {@link reconcileCards}.
   */
  async showDecision(approval: Approval): Promise<void> {
    // From the next turn of the event loop: the engine shows a claimed call while its tool
    // starts, and the Web API client's synchronous work must not sit in front of the tool.
    await this.#serial(approval.id, async () => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return this.#redraw(approval, { search: true, retry: true });
    });
  }

  /**
   * Redraw every card that is behind its approval (`approvals.listUndisplayed()`): those with a
   * known card, and those whose card can be found in their thread. Approvals of other adapters
   * are left alone; one whose card was never posted is taken off the list once it is settled.
   * Holds off while Slack's Retry-After runs; at most a few cards per call, one at a time.
   * Concurrent calls share one pass. Never throws.
   * @returns how many cards were brought up to date.
   */
  reconcileCards(): Promise<number> {
    this.#reconciling ??= this.#reconcile()
      .catch((err: unknown) => {
        this.#o.logger.warn({ err: errorMessage(err) }, 'slack.card_reconcile_failed');
        return 0;
      })
      .finally(() => (this.#reconciling = undefined));
    return this.#reconciling;
  }

  async #reconcile(): Promise<number> {
    let fixed = 0;
    let work = 0;
    for (const listed of this.#o.approvals.listUndisplayed(RECONCILE_SCAN)) {
      if (this.#isStopping || this.#now() < this.#pausedUntil || work >= RECONCILE_MAX_WORK) break;
      const id = listed.id;
      // Not a Slack approval (the terminal's), or its card is being worked on right now.
      if (!listed.sessionKey.startsWith('slack:') || this.#cardWork.has(id)) continue;
      if (this.#refused.get(id) === listed.state) continue;
      if (this.#refOf(listed) === undefined) {
        // A new approval of this process without a card yet is about to be posted (or refused).
        if (listed.state === 'pending' && !this.#mayHaveCard(listed)) continue;
        if (!this.#isSearchDue(id)) {
          this.#forgetIfNeverPosted(listed);
          continue;
        }
        work += 1;
      }
      work += 1;
      if (await this.#serial(id, () => this.#redraw(listed, { search: true, retry: false }))) fixed += 1;
      else this.#forgetIfNeverPosted(listed);
    }
    if (fixed > 0) this.#o.logger.info({ fixed }, 'slack.cards_reconciled');
    return fixed;
  }

  /** Run card work for one approval after the work queued before it. */
  #serial<T>(id: string, work: () => Promise<T>): Promise<T> {
    const previous = this.#cardWork.get(id) ?? Promise.resolve();
    const result = previous.then(work);
    const tail = result.then(() => undefined, () => undefined);
    this.#cardWork.set(id, tail);
    void tail.then(() => {
      if (this.#cardWork.get(id) === tail) this.#cardWork.delete(id);
    });
    return result;
  }

  async #showCard(given: Approval): Promise<void> {
    const current = this.#o.approvals.get(given.id) ?? given;
    // An approval from an earlier process may have a card whose ts was never stored (a crash
    // between the post and setDisplayRef): look before posting a second one.
    let ref = this.#refOf(current);
    if (ref === undefined && this.#mayHaveCard(current)) {
      try {
        ref = await this.#findCardPatiently(current);
      } catch (err) {
        // Posting without knowing could put a second card in the thread; the router cancels instead.
        this.#o.logger.warn({ approval_id: current.id, err: errorMessage(err), reason: 'not posting another card' }, 'slack.card_search_failed');
        throw err;
      }
    }
    if (ref === undefined) {
      let ts = '';
      let failure: unknown;
      try {
        ts = await this.#o.poster.post(current.channel, current.thread, renderCard(current, this.#o.redact), cardMetadata(current.id));
      } catch (err) {
        if (failureKind(err) === 'refused' || !isAmbiguous(err)) {
          this.#noCard.add(current.id);
          throw err;
        }
        failure = err;
      }
      if (ts !== '') {
        this.#remember(current.id, { channel: current.channel, ts });
        this.#markDrawn(current.id, current.state);
        // Decided (or cancelled) while the post was on its way: bring the new card up to date.
        if ((this.#o.approvals.get(current.id) ?? current).state !== current.state) await this.#redraw(current, { search: false, retry: true });
        return;
      }
      // The post may have reached Slack although its answer did not reach us.
      const found = await this.#findCardPatiently(current).catch(() => undefined);
      if (found === undefined) throw failure ?? new Error('Slack did not say where the approval card is (no ts)');
      this.#o.logger.info({ approval_id: current.id, err: failure === undefined ? 'no ts' : errorMessage(failure), reason: 'the answer to the card post was lost' }, 'slack.card_found');
      ref = found;
    }
    this.#remember(current.id, ref);
    // The card is there; draw the row as it is now (it may have moved on since the card was drawn).
    await this.#redraw(current, { search: false, retry: true });
  }

  /**
   * Draw the row's current state on its card, again while the row keeps moving under it.
   * @returns true when the card shows the row's current state.
   */
  async #redraw(given: Approval, { search, retry }: { search: boolean; retry: boolean }): Promise<boolean> {
    const latest = (): Approval => this.#o.approvals.get(given.id) ?? given;
    try {
      let ref = this.#refOf(latest());
      if (ref === undefined && search && !this.#noCard.has(given.id)) {
        ref = await this.#findCard(latest());
        if (ref === undefined) this.#missed(given.id);
        else {
          this.#o.logger.info({ approval_id: given.id, reason: 'where the card is was not stored' }, 'slack.card_found');
          this.#remember(given.id, ref);
        }
      }
      if (ref === undefined) {
        this.#o.logger.warn({ approval_id: given.id, state: latest().state, reason: 'no card' }, 'slack.card_update_skipped');
        return false;
      }
      for (let draw = 0; draw < DRAWS_MAX; draw += 1) {
        const drawn = await this.#update(given.id, ref, latest, retry);
        this.#markDrawn(given.id, drawn);
        if (latest().state === drawn) return true;
      }
      return false;
    } catch (err) {
      this.#o.logger.warn({ approval_id: given.id, err: errorMessage(err), reason: 'redrawn later' }, 'slack.card_update_failed');
      return false;
    }
  }

  /**
   * chat.update with the row as it is at each attempt, tried again after a transient failure.
   * @returns the state that was drawn.
   */
  async #update(id: string, ref: CardRef, latest: () => Approval, retry: boolean): Promise<ApprovalState> {
    const delays = retry ? (this.#o.updateRetryMs ?? CARD_UPDATE_RETRY_MS) : [];
    for (let attempt = 0; ; attempt += 1) {
      // Each attempt draws the row as it is then, so a retry never puts back an older state.
      const row = latest();
      try {
        await this.#o.poster.update(ref.channel, ref.ts, renderCard(row, this.#o.redact), cardMetadata(id));
        this.#refused.delete(id);
        return row.state;
      } catch (err) {
        const kind = failureKind(err);
        if (kind === 'refused') this.#refused.set(id, row.state);
        const retryAfter = kind === 'rate_limited' ? (retryAfterMs(err) ?? 1_000) : 0;
        if (retryAfter > 0) this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + retryAfter);
        const cap = this.#o.retryAfterCapMs ?? RETRY_AFTER_CAP_MS;
        if (kind === 'refused' || attempt >= delays.length || this.#isStopping || retryAfter > cap) throw err;
        const wait = Math.max(delays[attempt] ?? 0, retryAfter);
        this.#o.logger.info({ approval_id: id, attempt: attempt + 1, retry_in_ms: wait, err: errorMessage(err) }, 'slack.card_update_retried');
        await this.#sleep(wait);
      }
    }
  }

  /** The search after a failed post: tried again (with the update delays) while Slack has a bad moment. */
  async #findCardPatiently(approval: Approval): Promise<CardRef | undefined> {
    const delays = this.#o.updateRetryMs ?? CARD_UPDATE_RETRY_MS;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#findCard(approval);
      } catch (err) {
        if (failureKind(err) === 'refused' || attempt >= delays.length || this.#isStopping) throw err;
        await this.#sleep(Math.max(delays[attempt] ?? 0, retryAfterMs(err) ?? 0));
      }
    }
  }

  /**
   * Look for the approval's card: a bot message in its thread (or, without a thread, among the
   * channel's recent messages) whose metadata names the approval.
   * @returns undefined when there is none (a thread or channel Slack does not know has none).
   * @throws when Slack could not be read.
   */
  async #findCard(approval: Approval): Promise<CardRef | undefined> {
    const read = (cursor: string | undefined): Promise<RepliesPage> => approval.thread
      ? this.#o.poster.replies(approval.channel, approval.thread, cursor, SEARCH_PAGE_SIZE, { includeMetadata: true })
      : this.#o.poster.history(approval.channel, cursor, SEARCH_PAGE_SIZE, { includeMetadata: true });
    let cursor: string | undefined;
    try {
      for (let page = 0; page < SEARCH_PAGES; page += 1) {
        const { messages, nextCursor } = await read(cursor);
        const card = messages.find((m) => this.#isCardOf(m, approval.id));
        if (card?.ts) return { channel: approval.channel, ts: card.ts };
        if (nextCursor === undefined) return undefined;
        cursor = nextCursor;
      }
    } catch (err) {
      const code = (err as { data?: { error?: unknown } }).data?.error;
      if (code === 'thread_not_found' || code === 'channel_not_found' || code === 'message_not_found') return undefined;
      throw err;
    }
    this.#o.logger.warn({ approval_id: approval.id, pages: SEARCH_PAGES, reason: 'not in the first pages of its thread' }, 'slack.card_search_exhausted');
    return undefined;
  }

  #isCardOf(message: ReadMessage, id: string): boolean {
    const metadata = message.metadata;
    if (metadata?.event_type !== CARD_EVENT_TYPE || metadata.event_payload?.approval_id !== id) return false;
    return this.#o.botId === undefined ? message.bot_id !== undefined : message.bot_id === this.#o.botId;
  }

  /**
   * Whether an approval could have a card this process does not know of: it was drawn before,
   * or it is older than this adapter (it comes from an earlier process, which may have crashed
   * between posting its card and storing where). A new approval is posted without a search.
   */
  #mayHaveCard(approval: Approval): boolean {
    if (this.#noCard.has(approval.id)) return false;
    return approval.displayedState !== null || Date.parse(approval.createdAt) < this.#createdAt;
  }

  #refOf(approval: Approval): CardRef | undefined {
    return this.#refs.get(approval.id) ?? parseRef(approval.displayRef);
  }

  #remember(id: string, ref: CardRef): void {
    this.#refs.set(id, ref);
    this.#misses.delete(id);
    try {
      this.#o.approvals.setDisplayRef(id, JSON.stringify(ref));
    } catch (err) {
      // The card is up and this process knows where; only a post-restart update is lost.
      this.#o.logger.warn({ approval_id: id, err: errorMessage(err) }, 'slack.card_ref_store_failed');
    }
  }

  #markDrawn(id: string, state: ApprovalState): void {
    try {
      this.#o.approvals.setDisplayedState(id, state);
    } catch (err) {
      // Only costs a redundant redraw by reconcileCards later.
      this.#o.logger.warn({ approval_id: id, err: errorMessage(err) }, 'slack.card_state_store_failed');
    }
  }

  #missed(id: string): void {
    const previous = this.#misses.get(id);
    this.#misses.set(id, { count: (previous?.count ?? 0) + 1, at: this.#now() });
  }

  /** Whether reconcile should (again) look for this approval's card. */
  #isSearchDue(id: string): boolean {
    if (this.#noCard.has(id)) return false;
    const misses = this.#misses.get(id);
    return misses === undefined || (misses.count < SEARCH_MISSES_MAX && this.#now() - misses.at >= SEARCH_SPACING_MS);
  }

  /**
   * A settled approval whose card was refused by Slack, or not found in its thread after
   * several searches, has no card to fix: record its state as shown, so it leaves the list of
   * cards to redraw instead of being searched for by every pass and every later process.
   */
  #forgetIfNeverPosted(approval: Approval): void {
    if (!FINAL_STATES.has(approval.state) || this.#refOf(approval) !== undefined) return;
    const misses = this.#misses.get(approval.id)?.count ?? 0;
    if (!this.#noCard.has(approval.id) && misses < SEARCH_MISSES_MAX) return;
    this.#o.logger.debug({ approval_id: approval.id, state: approval.state, reason: 'no card' }, 'slack.card_redraw_skipped');
    this.#markDrawn(approval.id, approval.state);
  }
}
