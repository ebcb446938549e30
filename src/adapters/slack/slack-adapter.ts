/**
 * The engine's view of Slack: replies in the thread (Markdown → mrkdwn, split at Slack's
 * limits), approval cards posted in the thread, and card updates as approvals move on.
 *
 * Card updates for one approval run one at a time and always render the row as it is *now*,
 * so concurrent callers (the click handler, the tool router, shutdown) can never leave an older
 * state on the card than the latest one: the last update always shows the final state.
 * Where a card lives (channel + ts) is stored on the approval row, so cards can be updated
 * after a restart too.
 *
 * A card must end in its final state, so a failed chat.update is tried again (a few times over
 * a few seconds, honouring Retry-After up to a cap; not once shutdown's last step began), and at
 * start-up the service redraws the cards of recently settled approvals ({@link recentSettledCards})
 * in case an update was lost to a crash or a shutdown.
 */
import type { Logger } from 'pino';
import type { Adapter, Turn } from '../../engine/types.ts';
import { FINAL_STATES, type Approval, type ApprovalState } from '../../human/types.ts';
import { errorMessage } from '../../errors.ts';
import { renderCard } from './approval-card.ts';
import { markdownToMrkdwn } from './mrkdwn.ts';
import { splitMrkdwn } from './reply-chunks.ts';
import type { SlackPoster } from './slack-poster.ts';
import { retryAfterMs } from './slack-poster.ts';
import { sleep, within } from './timing.ts';

/** Delays before the 2nd, 3rd, … chat.update attempt of a card (a Retry-After up to the cap wins). */
export const CARD_UPDATE_RETRY_MS: readonly number[] = [1_000, 3_000];
const RETRY_AFTER_CAP_MS = 5_000;

/** Where an approval card was posted; stored as JSON in `approvals.display_ref`. */
export interface CardRef {
  channel: string;
  ts: string;
}

/** The approval rows the adapter reads and annotates. */
export interface CardStore {
  get(id: string): Approval | undefined;
  setDisplayRef(id: string, ref: string): boolean;
}

/** What a {@link SlackAdapter} needs. */
export interface SlackAdapterOptions {
  poster: SlackPoster;
  approvals: CardStore;
  redact(text: string): string;
  logger: Logger;
  /** Delays between chat.update attempts (default {@link CARD_UPDATE_RETRY_MS}). */
  updateRetryMs?: readonly number[];
}

/** The Slack implementation of the engine's Adapter. Start/stop belong to the Slack service. */
export class SlackAdapter implements Adapter {
  readonly name = 'slack';
  readonly #o: SlackAdapterOptions;
  readonly #refs = new Map<string, CardRef>();
  readonly #cardUpdates = new Map<string, Promise<void>>();
  #isRefusingApprovals = false;
  #isStopping = false;

  constructor(options: SlackAdapterOptions) {
    this.#o = options;
  }

  async start(): Promise<void> {}

  /** Wait (at most `timeoutMs`) for card updates in flight; no update is retried from now on. */
  async stop(timeoutMs = 10_000): Promise<void> {
    this.#isStopping = true;
    if (!(await within(Promise.allSettled([...this.#cardUpdates.values()]), timeoutMs))) {
      this.#o.logger.warn({ pending: this.#cardUpdates.size }, 'card updates still running at shutdown; leaving them (redrawn at the next start)');
    }
  }

  /** From now on, refuse to show new approvals (shutdown). */
  refuseNewApprovals(): void {
    this.#isRefusingApprovals = true;
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
   * Post the approval card in the call's thread and remember where it is.
   * @throws when Slack refuses the card: the router then cancels the approval (nobody could see it).
   */
  async requestApproval(approval: Approval): Promise<void> {
    // During shutdown nobody will be around to click: fail the request so the router cancels it.
    if (this.#isRefusingApprovals) throw new Error('mithai is shutting down');
    const ts = await this.#o.poster.post(approval.channel, approval.thread, renderCard(approval, this.#o.redact));
    if (ts === '') throw new Error('Slack did not say where the approval card is (no ts)');
    const ref: CardRef = { channel: approval.channel, ts };
    this.#refs.set(approval.id, ref);
    try {
      this.#o.approvals.setDisplayRef(approval.id, JSON.stringify(ref));
    } catch (err) {
      // The card is up and this process knows where; only a post-restart update is lost.
      this.#o.logger.warn({ approval_id: approval.id, err: errorMessage(err) }, 'could not store where the approval card is');
    }
  }

  /**
   * Redraw the card from the approval's current row (buttons gone once it is decided).
   * Never throws: a card that cannot be updated is logged.
   */
  showDecision(approval: Approval): Promise<void> {
    const previous = this.#cardUpdates.get(approval.id) ?? Promise.resolve();
    const next = previous.then(() => this.#redraw(approval)).finally(() => {
      if (this.#cardUpdates.get(approval.id) === next) this.#cardUpdates.delete(approval.id);
    });
    this.#cardUpdates.set(approval.id, next);
    return next;
  }

  async #redraw(given: Approval): Promise<void> {
    try {
      const current = this.#o.approvals.get(given.id) ?? given;
      const ref = this.#refs.get(current.id) ?? parseRef(current.displayRef);
      if (ref === undefined) {
        this.#o.logger.warn({ approval_id: current.id, state: current.state }, 'approval has no card to update');
        return;
      }
      // Each attempt draws the row as it is then, so a retry never puts back an older state.
      await this.#update(current.id, ref, () => renderCard(this.#o.approvals.get(given.id) ?? current, this.#o.redact));
    } catch (err) {
      this.#o.logger.warn({ approval_id: given.id, err: errorMessage(err) }, 'could not update the approval card');
    }
  }

  /** chat.update, tried again after a failure other than Slack refusing it outright. */
  async #update(id: string, ref: CardRef, card: () => ReturnType<typeof renderCard>): Promise<void> {
    const delays = this.#o.updateRetryMs ?? CARD_UPDATE_RETRY_MS;
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#o.poster.update(ref.channel, ref.ts, card());
      } catch (err) {
        const isRefused = (err as { code?: unknown }).code === 'slack_webapi_platform_error';
        if (isRefused || attempt >= delays.length || this.#isStopping) throw err;
        const wait = Math.max(delays[attempt] ?? 0, Math.min(retryAfterMs(err) ?? 0, RETRY_AFTER_CAP_MS));
        this.#o.logger.info({ approval_id: id, attempt: attempt + 1, retry_in_ms: wait, err: errorMessage(err) }, 'approval card update failed; trying again');
        await sleep(wait);
      }
    }
  }
}

/** States an approval does not leave. */
const SETTLED: readonly ApprovalState[] = [...FINAL_STATES];

/**
 * The approvals whose cards are redrawn at start-up: settled, with a card, and settled (or
 * created) within `withinMs` before `nowMs`; the most recent `max` of them, oldest first.
 */
export function recentSettledCards(
  store: { listByState(states: readonly ApprovalState[]): Approval[] },
  nowMs: number,
  { withinMs = 24 * 60 * 60 * 1000, max = 50 }: { withinMs?: number; max?: number } = {},
): Approval[] {
  const since = nowMs - withinMs;
  const settledAt = (a: Approval): number => Date.parse(a.finishedAt ?? a.decidedAt ?? a.createdAt);
  return store
    .listByState(SETTLED)
    .filter((a) => a.displayRef !== null && settledAt(a) >= since)
    .sort((a, b) => settledAt(a) - settledAt(b))
    .slice(-max);
}

/** Read a stored card reference; undefined for anything that is not one. */
export function parseRef(displayRef: string | null): CardRef | undefined {
  if (!displayRef) return undefined;
  try {
    const value: unknown = JSON.parse(displayRef);
    if (value && typeof value === 'object') {
      const { channel, ts } = value as Record<string, unknown>;
      if (typeof channel === 'string' && typeof ts === 'string' && channel !== '' && ts !== '') return { channel, ts };
    }
  } catch {
    // Not ours (another adapter's reference, or damaged): treat it as no card.
  }
  return undefined;
}
