/**
 * What a turn is doing, shown in its thread while it works (`adapter.slack.progress`), so a long
 * turn shows more than 👀. Fed by the engine's adapter hooks (`showActivity` as each tool call
 * starts and ends, `requestApproval`, `turnFinished`); the engine knows nothing of Slack.
 *
 * Two ways to show it:
 * - Slack's assistant thread status ("<app> is running kubernetes__get_pods…", under the thread),
 *   set with assistant.threads.setStatus. Slack accepts it only in assistant threads; Slack
 *   clears it when mithai replies, and mithai clears it when the turn ends.
 * - One status message per turn, posted once the turn is shown and then edited in place
 *   ("⏳ running `kubernetes__get_pods`… (done: `kubernetes__get_events`)"), ending as a
 *   one-line summary of the tools used. Never a message per tool call.
 * `auto` tries the status first and, where Slack refuses it, uses the message for that turn and
 * for later turns in that channel; `status` and `message` use one way only.
 *
 * Only a turn that works long enough for a person to notice is shown: the first write is due
 * `firstWriteDelayMs` ({@link WORKING_SIGNAL_DELAY_MS}, as for 👀) after its first tool call. A
 * turn that ends before then writes nothing at all (no message, no summary, no status to clear).
 * A turn waiting for an approval passes that delay and shows "waiting for approval…".
 *
 * Cosmetic, so it never holds up or breaks a turn: every write is fire-and-forget through the
 * SlackPoster (redaction, and its refusal to write into a shared channel, apply), at most one
 * write per turn per `intervalMs`, each carrying the latest state (changes in between are
 * coalesced), all writes paused while Slack's Retry-After runs, failures logged and never
 * thrown. Only tool names are shown, never inputs or results. A status message whose post
 * failed is not posted again (its answer may have been lost after Slack stored it).
 */
import type { Logger } from 'pino';
import type { Clock } from '../../clock.ts';
import { systemClock } from '../../clock.ts';
import type { ToolActivity, Turn } from '../../engine/types.ts';
import { errorMessage } from '../../errors.ts';
import { failureKind } from './card-ref.ts';
import { retryAfterMs, SharedChannelRefusal } from './slack-poster.ts';
import type { MessageMetadata, SlackPoster } from './slack-poster.ts';
import { progressText } from './progress-text.ts';
import type { ProgressCall, ProgressState } from './progress-text.ts';
import { within } from './timing.ts';
import { makeRoom } from '../../bounded-map.ts';
import { WORKING_SIGNAL_DELAY_MS } from './turn-dispatcher.ts';

/** `adapter.slack.progress`. */
export type ProgressMode = 'auto' | 'status' | 'message' | 'off';

/** The least time between two writes of one turn's progress (default). */
export const PROGRESS_INTERVAL_MS = 1_000;
/** The `event_type` of a status message's metadata (so it can be told from replies and cards). */
export const PROGRESS_EVENT_TYPE = 'mithai_progress';
/** Turns followed at once; the oldest is dropped beyond that (a turn paused and never resumed). */
const MAX_TURNS = 500;
/** Channels remembered as refusing the assistant status. */
const MAX_NO_STATUS_CHANNELS = 1_000;
/** Failed writes in a row after which a turn's progress is given up. */
const MAX_FAILURES = 3;

/** The part of the poster the display writes through. */
export type ProgressPoster = Pick<SlackPoster, 'post' | 'update' | 'setThreadStatus'>;

/** What a {@link ProgressDisplay} needs. */
export interface ProgressDisplayOptions {
  mode: Exclude<ProgressMode, 'off'>;
  poster: ProgressPoster;
  logger: Logger;
  clock?: Clock;
  /** Least time between two writes of one turn (default {@link PROGRESS_INTERVAL_MS}). */
  intervalMs?: number;
  /** How long after a turn's first tool call its first write is due (default {@link WORKING_SIGNAL_DELAY_MS}). */
  firstWriteDelayMs?: number;
}

interface TurnProgress extends ProgressState {
  calls: ProgressCall[];
  channel: string;
  thread: string;
  via?: 'status' | 'message';
  /** The status message, once posted. */
  ts?: string;
  isStatusShown: boolean;
  /** What Slack shows now (skips a write that would change nothing). */
  shown?: string;
  isBroken: boolean;
  isDirty: boolean;
  isWriting: boolean;
  failures: number;
  /** When the first write is due (clock time): the turn's first activity plus the delay. */
  firstWriteAt: number;
  /** Unset until something was written (or a write started): before that, an end writes nothing. */
  lastWriteAt?: number;
  timer?: unknown;
}

/** Per-turn progress in Slack threads; see the module comment. */
export class ProgressDisplay {
  readonly #o: ProgressDisplayOptions;
  readonly #clock: Clock;
  readonly #intervalMs: number;
  readonly #firstWriteDelayMs: number;
  readonly #turns = new Map<string, TurnProgress>();
  /** Channels where Slack refused the assistant status (auto then posts a message there). */
  readonly #noStatus = new Set<string>();
  readonly #writes = new Set<Promise<void>>();
  /** Until when Slack asked us to hold off (Retry-After), as clock time. */
  #pausedUntil = 0;
  #isStopped = false;

  constructor(options: ProgressDisplayOptions) {
    this.#o = options;
    this.#clock = options.clock ?? systemClock;
    this.#intervalMs = options.intervalMs ?? PROGRESS_INTERVAL_MS;
    this.#firstWriteDelayMs = options.firstWriteDelayMs ?? WORKING_SIGNAL_DELAY_MS;
  }

  /** A tool call started or ended (the engine's `showActivity`). Never throws. */
  showActivity(turn: Turn, activity: ToolActivity): void {
    const isStart = activity.phase === 'started';
    const progress = this.#progressOf(turn, isStart);
    if (progress === undefined) return;
    if (isStart) {
      progress.calls.push({ tool: activity.tool, phase: 'started' });
      progress.isWaiting = false;
    } else {
      const running = progress.calls.find((c) => c.tool === activity.tool && c.phase === 'started');
      if (running) running.phase = activity.phase;
      else progress.calls.push({ tool: activity.tool, phase: activity.phase });
    }
    this.#changed(progress);
  }

  /**
   * The turn now waits for a decision: shown for a turn that has had a tool call (once due, like
   * any state); an approval alone shows nothing, its card is in the thread.
   */
  approvalRequested(turn: Turn): void {
    const progress = this.#progressOf(turn, false);
    if (progress === undefined || progress.isFinished) return;
    progress.isWaiting = true;
    this.#changed(progress);
  }

  /**
   * The turn ended: the message becomes its summary, the status is cleared; a turn that has shown
   * nothing yet is forgotten without a write. Never throws.
   */
  turnFinished(turn: Turn): void {
    const progress = this.#progressOf(turn, false);
    if (progress === undefined) return;
    if (progress.lastWriteAt === undefined) {
      this.#disarm(progress);
      this.#forget(progress);
      return;
    }
    progress.isFinished = true;
    progress.isWaiting = false;
    this.#changed(progress);
  }

  /** Shutdown: nothing more is written; wait (at most `timeoutMs`) for writes in flight. */
  async stop(timeoutMs: number): Promise<void> {
    this.#isStopped = true;
    for (const progress of this.#turns.values()) this.#disarm(progress);
    await within(Promise.allSettled([...this.#writes]), timeoutMs);
  }

  #progressOf(turn: Turn, create: boolean): TurnProgress | undefined {
    if (this.#isStopped) return undefined;
    const key = keyOf(turn);
    const known = this.#turns.get(key);
    if (known !== undefined || !create) return known;
    makeRoom(this.#turns, MAX_TURNS, (oldest) => this.#disarm(oldest));
    const { channel, thread } = turn.conversation;
    const progress: TurnProgress = {
      calls: [], isWaiting: false, isFinished: false, channel, thread, isStatusShown: false, isBroken: false, isDirty: false, isWriting: false, failures: 0,
      firstWriteAt: this.#clock.now() + this.#firstWriteDelayMs,
    };
    this.#turns.set(key, progress);
    return progress;
  }

  #changed(progress: TurnProgress): void {
    progress.isDirty = true;
    this.#schedule(progress);
  }

  /** Write now, or arm one timer for when the turn may be written again; coalesces to the latest state. */
  #schedule(progress: TurnProgress): void {
    if (progress.isWriting || progress.timer !== undefined) return;
    if (progress.isBroken || !progress.isDirty || this.#isStopped) {
      if (progress.isFinished || this.#isStopped) this.#forget(progress);
      return;
    }
    const now = this.#clock.now();
    const due = Math.max(progress.lastWriteAt === undefined ? progress.firstWriteAt : progress.lastWriteAt + this.#intervalMs, this.#pausedUntil);
    if (due > now) {
      progress.timer = this.#clock.setTimeout(() => {
        progress.timer = undefined;
        this.#schedule(progress);
      }, due - now);
      return;
    }
    progress.isDirty = false;
    progress.isWriting = true;
    progress.lastWriteAt = now;
    // Started on the next turn of the event loop: the tool call whose start this shows runs
    // first, and the Web API client's own synchronous work never sits in front of it.
    const write: Promise<void> = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.#write(progress))
      .then(() => void (progress.failures = 0), (err: unknown) => this.#failed(progress, err))
      .finally(() => {
        progress.isWriting = false;
        this.#writes.delete(write);
        this.#schedule(progress);
      });
    this.#writes.add(write);
  }

  async #write(progress: TurnProgress): Promise<void> {
    progress.via ??= this.#via(progress);
    if (progress.via === undefined) {
      progress.isBroken = true;
      return;
    }
    if (progress.via === 'status' && (await this.#writeStatus(progress))) return;
    await this.#writeMessage(progress);
  }

  /** How this turn's progress is shown, or undefined when it cannot be shown at all. */
  #via(progress: TurnProgress): 'status' | 'message' | undefined {
    const { mode } = this.#o;
    if (mode === 'message') return 'message';
    const statusPossible = progress.thread !== '' && !this.#noStatus.has(progress.channel);
    if (mode === 'status') return statusPossible ? 'status' : undefined;
    return statusPossible ? 'status' : 'message';
  }

  /** @returns false when Slack refused the status here and auto falls back to the message. */
  async #writeStatus(progress: TurnProgress): Promise<boolean> {
    const status = progress.isFinished ? '' : progressText(progress, 'status');
    if ((status === '' && !progress.isStatusShown) || status === progress.shown) return true;
    try {
      await this.#o.poster.setThreadStatus(progress.channel, progress.thread, status);
    } catch (err) {
      if (err instanceof SharedChannelRefusal || failureKind(err) !== 'refused') throw err;
      // Not an assistant thread, or the app has no assistant feature: the same in the whole channel.
      if (this.#noStatus.size >= MAX_NO_STATUS_CHANNELS) this.#noStatus.clear();
      this.#noStatus.add(progress.channel);
      const fallback = this.#o.mode === 'auto' ? 'message' : 'none';
      this.#o.logger.info({ channel: progress.channel, thread: progress.thread, fallback, err: errorMessage(err) }, 'slack.progress_status_refused');
      if (fallback === 'none') {
        progress.isBroken = true;
        return true;
      }
      progress.via = 'message';
      progress.shown = undefined;
      return false;
    }
    progress.isStatusShown = status !== '';
    progress.shown = status;
    return true;
  }

  async #writeMessage(progress: TurnProgress): Promise<void> {
    const text = progressText(progress, 'message');
    const metadata: MessageMetadata = { event_type: PROGRESS_EVENT_TYPE, event_payload: {} };
    if (progress.ts === undefined) {
      const ts = await this.#o.poster.post(progress.channel, progress.thread || undefined, { text }, metadata);
      if (ts === '') throw new Error('Slack did not say where the status message is (no ts)');
      progress.ts = ts;
    } else if (text !== progress.shown) {
      await this.#o.poster.update(progress.channel, progress.ts, { text }, metadata);
    }
    progress.shown = text;
  }

  /** A failed write: logged; tried again with the latest state, unless it must not be. */
  #failed(progress: TurnProgress, err: unknown): void {
    // The poster has logged a refused write into a shared channel: nothing more goes there.
    if (err instanceof SharedChannelRefusal) {
      progress.isBroken = true;
      return;
    }
    const kind = failureKind(err);
    progress.failures += 1;
    if (kind === 'rate_limited') {
      this.#pausedUntil = Math.max(this.#pausedUntil, this.#clock.now() + (retryAfterMs(err) ?? 1_000));
    }
    // A post that failed any way but a 429 may still have reached Slack: never a second message.
    const isLostPost = progress.via === 'message' && progress.ts === undefined && kind !== 'rate_limited';
    if (isLostPost || kind === 'refused' || progress.failures >= MAX_FAILURES) progress.isBroken = true;
    else progress.isDirty = true;
    this.#o.logger.warn({ channel: progress.channel, thread: progress.thread, via: progress.via, kind, given_up: progress.isBroken, err: errorMessage(err) }, 'slack.progress_failed');
  }

  #disarm(progress: TurnProgress): void {
    if (progress.timer === undefined) return;
    this.#clock.clearTimeout(progress.timer);
    progress.timer = undefined;
  }

  #forget(progress: TurnProgress): void {
    for (const [key, known] of this.#turns) {
      if (known === progress) {
        this.#turns.delete(key);
        return;
      }
    }
  }
}

/** One turn's identity: its conversation and the message it answers. */
function keyOf(turn: Turn): string {
  const { team, channel, thread } = turn.conversation;
  return [team, channel, thread, turn.origin ?? ''].join('\u0000');
}
