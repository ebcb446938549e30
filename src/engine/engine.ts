/**
 * The engine's entry points. (Over 300 lines: every way into a turn — accept, decide, poll,
 * resume, drain — is here, so the scheduling rules live in one place.) Every turn is durable (./turn-runner.ts): accepting a message
 * writes a row, and whatever moves a turn on — the message itself, a decision from any process
 * ({@link Engine.decide}, or a row changed by another process and found by
 * {@link Engine.pollDecisions}), an expiry, a start ({@link Engine.resumeAll}) — re-enters here
 * by turn or approval id and runs a step from the rows. In-process promises
 * ({@link Engine.whenFinished}) are conveniences for callers that want to wait; nothing
 * depends on them.
 *
 * Steps of turns on the same conversation run one at a time, in arrival order; other
 * conversations run in parallel. A turn whose session has an earlier unfinished turn (one
 * waiting on an approval) is queued behind it, so a tool_use is never followed by anything but
 * its results.
 *
 * @example
 * engine.attach(adapter, { signal, platform: 'slack' });
 * await engine.resumeAll();                       // what a previous process left
 * const id = engine.accept(turn);                 // durable before the event is acked
 * void engine.run(id);                            // steps until it waits or replies
 * engine.decide(approvalId, 'U1', 'approve', { via: 'slack' }); // carries the turn on
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { errorMessage } from '../errors.ts';
import { faultPoint } from '../fault-point.ts';
import { KeyedWaiters } from '../keyed-waiters.ts';
import type { ApprovalGate, DecideOptions } from '../human/approval-gate.ts';
import { checkDecider } from '../human/approvers.ts';
import { fingerprint } from '../human/fingerprint.ts';
import { reconcileApprovals } from '../human/approval-reconciler.ts';
import { settledRefusal } from '../human/settled-refusal.ts';
import type { Approval, DecideResult, Decision } from '../human/types.ts';
import type { TurnStore } from '../state/turn-store.ts';
import type { EventDedupeStore } from '../state/event-dedupe-store.ts';
import type { SessionStore } from '../state/session-store.ts';
import type { Transact } from '../state/transactor.ts';
import type { Clock } from '../clock.ts';
import type { IdleMemoryRelease } from './idle-memory.ts';
import type { ConversationRef } from './types.ts';
import { newNonce } from '../security/untrusted.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import { sessionKey } from './session-key.ts';
import { decodeTurn, encodeTurn } from './turn-codec.ts';
import type { StepResult, TurnResult, TurnRunner } from './turn-runner.ts';
import type { Adapter, Turn } from './types.ts';
import { restartNotice, resumeNotice } from './restart-notices.ts';

export type { TurnResult, TurnStatus } from './turn-runner.ts';

/** What an {@link Engine} works with. */
export interface EngineOptions {
  runner: TurnRunner;
  turns: TurnStore;
  sessions: SessionStore;
  /** Receipts of inbound events (Slack event ids), claimed with the turn they start. */
  receipts: EventDedupeStore;
  transact: Transact;
  /**
   * Bring every commit made so far to disk without blocking the thread (the state database's
   * WAL fsync'd on the thread pool), for {@link Engine.record}. Rejects when it cannot.
   */
  syncCommits(): Promise<void>;
  clock: Clock;
  gate: ApprovalGate;
  logger: Logger;
  /**
   * `human.approvers`, `human.confirm_requires_second_person` and
   * `human.tainted_requires_second_person`, for {@link Engine.checkDecider} (the gate applies
   * the same settings to every decision).
   */
  approvers: readonly string[];
  confirmRequiresSecondPerson: boolean;
  /** Redacts a turn's text before it is stored. */
  redact(text: string): string;
  taintedRequiresSecondPerson: boolean;
  /** Told when each step starts and ends, to give memory back after a burst (`mithai run`). */
  idleMemory?: IdleMemoryRelease;
}

/** Identities of an inbound message, claimed with its turn; see {@link Engine.accept}. */
export interface ReceiptOptions {
  receiptKeys?: readonly string[];
  receiptTtlMs?: number;
}

/** What {@link Engine.record} committed, on disk once `durable` resolves. */
export interface RecordedTurn {
  /** Undefined for a duplicate (a receipt key claimed before). */
  turnId: string | undefined;
  durable: Promise<void>;
}

/** Settings of the adapter an engine serves. */
export interface AttachOptions {
  /** Aborted when shutdown gives up waiting (model calls and tools then stop). */
  signal?: AbortSignal;
  /** The platform whose turns this process resumes at start and on polls. */
  platform?: string;
  /**
   * The one conversation this process serves (a terminal: `mithai chat`, `mithai skill run`).
   * Set, no other session's turn is ever carried on here, whatever is decided or expires.
   */
  sessionKey?: string;
}

/** What {@link Engine.resumeAll} found and did. */
export interface ResumeReport {
  resumed: number;
  /** The turns carried on, oldest first. */
  turnIds: string[];
  expired: Approval[];
  cancelled: Approval[];
  unknown: Approval[];
}

/** A step that fails (a state write) is tried again this many times, backing off, before the thread is answered with an error. */
const STEP_RETRIES = 6;
const STEP_RETRY_BASE_MS = 1_000;
const STEP_RETRY_MAX_MS = 30_000;

/** How long an inbound receipt stays claimed (Slack retries come within minutes; reconnects replay). */
const RECEIPT_TTL_MS = 24 * 60 * 60 * 1000;

/** States that a decision or expiry leaves an approval in (changes that move a turn on). */
const DECIDED = new Set(['approved', 'denied', 'expired', 'cancelled', 'unknown']);

export class Engine {
  readonly #o: EngineOptions;
  readonly #locks = new KeyedMutex();
  readonly #active = new Map<string, { again: boolean; done: Promise<StepResult> }>();
  readonly #finished = new KeyedWaiters<TurnResult>();
  /** Failed steps in a row, per turn (retried with backoff). */
  readonly #failures = new Map<string, number>();
  /** Turns whose thread was told they wait behind another turn (told once per process). */
  readonly #toldQueued = new Set<string>();
  #adapter: Adapter | undefined;
  #signal: AbortSignal | undefined;
  #platform: string | undefined;
  #sessionScope: string | undefined;
  #isStopping = false;

  constructor(options: EngineOptions) {
    this.#o = options;
    // A decision or expiry in this process carries its turn on at once (the fast path).
    options.gate.onChange((approval) => {
      if (approval.turnId !== null && DECIDED.has(approval.state)) this.#kick(approval.turnId);
    });
  }

  /** Serve turns through `adapter` (one adapter per process). */
  attach(adapter: Adapter, options: AttachOptions = {}): void {
    this.#adapter = adapter;
    this.#signal = options.signal;
    this.#platform = options.platform;
    this.#sessionScope = options.sessionKey;
  }

  /**
   * Record an inbound message as a durable turn (synchronous: call it before acknowledging the
   * event). Nothing runs yet; {@link Engine.run} starts it.
   *
   * @param options.receiptKeys The message's identities (event id, channel + ts): claimed in
   *   the same transaction as the turn, so a redelivery never starts a second turn and a crash
   *   never leaves a claimed message without its turn.
   * @returns The turn id, or undefined when a receipt key was claimed before (a duplicate).
   * @throws StateError when the turn cannot be recorded (then do not acknowledge the event).
   */
  accept(turn: Turn, options: ReceiptOptions = {}): string | undefined {
    return this.#record(turn, options, true);
  }

  /**
   * {@link Engine.accept}, except that the commit does not wait for the disk on this thread:
   * the turn can start at once (its model call does not need the message to be on disk; a
   * tool needs its decision there, and that commit, which waits, covers this one), while
   * `durable` waits for the disk in the background. Acknowledge the event only once `durable`
   * resolves; if it rejects, do not (the redelivery finds the turn and is a duplicate). A
   * duplicate waits for the disk too: the claim it ran into may be an earlier delivery's whose
   * sync has not finished (or failed).
   *
   * @throws StateError when the turn cannot be recorded (then do not acknowledge the event).
   */
  record(turn: Turn, options: ReceiptOptions = {}): RecordedTurn {
    const turnId = this.#record(turn, options, false);
    // Started on the next turn of the event loop, once the caller has started the turn (its
    // model request is out by then): opening the WAL and queueing the fsync is off that path.
    // An fsync covers every commit made before it starts, so starting later covers no less.
    const durable = new Promise<void>((resolve) => setImmediate(resolve)).then(() => this.#o.syncCommits());
    return { turnId, durable };
  }

  /**
   * Resolves once every commit this process has made so far is on disk (at once when each was
   * covered by one that waited; else after a shared background fsync). For an adapter about to
   * acknowledge a message it did not record: an earlier delivery of it may have been recorded by
   * a commit that is not on disk yet.
   *
   * @throws StateError (rejects) when the commits cannot be synced; then do not acknowledge.
   */
  whenDurable(): Promise<void> {
    return this.#o.syncCommits();
  }

  #record(turn: Turn, options: ReceiptOptions, sync: boolean): string | undefined {
    const id = `trn_${randomBytes(8).toString('hex')}`;
    const key = sessionKey(turn.conversation);
    const now = this.#o.clock.now();
    const duplicate = this.#o.transact(() => {
      for (const receipt of options.receiptKeys ?? []) {
        if (!this.#o.receipts.claim(receipt, now, options.receiptTtlMs ?? RECEIPT_TTL_MS)) return receipt;
      }
      this.#o.turns.create({ id, sessionKey: key, platform: turn.conversation.platform, turnJson: encodeTurn(turn, this.#o.redact), nonce: newNonce() });
      return undefined;
    }, { sync });
    if (duplicate !== undefined) {
      this.#o.logger.info({ session: key, key: duplicate }, 'turn.duplicate_ignored');
      return undefined;
    }
    this.#o.logger.info({ turn_id: id, session: key, user: turn.user }, 'turn.accepted');
    faultPoint('turn.accepted');
    return id;
  }

  /**
   * Claim receipt keys of an inbound message that will not start a turn (refused by an
   * allowlist), so its redeliveries stay quiet. @returns false when one was claimed before.
   */
  claimReceipts(receiptKeys: readonly string[], ttlMs = RECEIPT_TTL_MS): boolean {
    const now = this.#o.clock.now();
    return this.#o.transact(() => receiptKeys.every((receipt) => this.#o.receipts.claim(receipt, now, ttlMs)));
  }

  /** Whether a conversation has stored history (a thread mithai has already taken part in). */
  hasHistory(conversation: ConversationRef): boolean {
    return this.#o.sessions.hasMessages(sessionKey(conversation));
  }

  /**
   * Run the turn as far as it can go now. Resolves when it waits on an approval, is queued
   * behind an earlier turn, pauses for shutdown, or has replied. Never rejects.
   */
  run(turnId: string): Promise<StepResult> {
    const active = this.#active.get(turnId);
    if (active) {
      active.again = true;
      return active.done;
    }
    const entry = { again: false, done: Promise.resolve<StepResult>({ kind: 'paused' }) };
    entry.done = (async (): Promise<StepResult> => {
      let result: StepResult;
      do {
        entry.again = false;
        result = await this.#step(turnId);
      } while (entry.again && !this.#isStopping && result.kind !== 'finished');
      return result;
    })().finally(() => this.#active.delete(turnId));
    this.#active.set(turnId, entry);
    return entry.done;
  }

  /**
   * Accept a turn and run it to its reply, waiting (in this process) through approvals. When
   * `signal` aborts first it resolves with an empty `internal_error` result; the turn's rows
   * stay as they are and carry on at the next start.
   */
  async handleTurn(turn: Turn, adapter: Adapter, signal?: AbortSignal): Promise<TurnResult> {
    if (this.#adapter === undefined) this.attach(adapter, signal ? { signal } : {});
    const id = this.accept(turn)!;
    const step = await this.run(id);
    if (step.kind === 'finished') return step.result;
    return this.whenFinished(id, signal);
  }

  /**
   * Resolves with the turn's result once it has replied (in this process), or with an empty
   * `internal_error` result when `signal` aborts first (the turn itself is untouched).
   */
  whenFinished(turnId: string, signal?: AbortSignal): Promise<TurnResult> {
    const record = this.#o.turns.get(turnId);
    if (record?.state === 'done') return Promise.resolve({ reply: record.reply ?? '', status: (record.status ?? 'answered') as TurnResult['status'] });
    return this.#finished.wait(turnId, { reply: '', status: 'internal_error' }, signal);
  }

  /**
   * The one decision entry point, whoever delivers it (a click, a modal, a terminal answer, the
   * CLI through the database). Synchronous and durable when it returns; the turn the approval
   * belongs to is carried on in the background.
   * @throws AuditError when the decision cannot be audited (then nothing was decided).
   */
  decide(approvalId: string, decider: string, decision: Decision, options: DecideOptions = {}): DecideResult {
    const approval = this.#o.gate.get(approvalId);
    // A tripwire: the row's fingerprint must still be the one of its stored input (a row edited
    // under us cannot be decided).
    const expected = options.fingerprint ?? (approval === undefined ? undefined : fingerprint(approval.tool, JSON.parse(approval.inputJson)));
    return this.#o.gate.decide(approvalId, decider, decision, { ...options, ...(expected === undefined ? {} : { fingerprint: expected }) });
  }

  /**
   * Withdraw a pending approval nobody can answer any more (piped input ended). Cancelled, not
   * denied: no person decided. The turn carries on with that result.
   * @returns The cancelled approval, or undefined when it was no longer pending.
   * @throws AuditError when the cancellation cannot be audited (it stays pending and expires).
   */
  cancelPending(approvalId: string, reason: string): Approval | undefined {
    return this.#o.gate.cancel(approvalId, reason);
  }

  /** The approval as persisted now. @throws StateError for an unreadable row. */
  approval(approvalId: string): Approval | undefined {
    return this.#o.gate.get(approvalId);
  }

  /**
   * Why `decider` may not make `decision` on the approval right now (for a form that must not
   * open when its submission would be refused), or undefined when they may.
   */
  checkDecider(approval: Approval, decider: string, decision: Decision): string | undefined {
    if (approval.state !== 'pending') return settledRefusal(approval).message;
    if (this.#o.gate.clock.now() >= Date.parse(approval.deadline)) return settledRefusal(approval).message;
    const verdict = checkDecider({
      approval,
      decider,
      decision,
      approvers: this.#o.approvers,
      confirmRequiresSecondPerson: this.#o.confirmRequiresSecondPerson,
      taintedRequiresSecondPerson: this.#o.taintedRequiresSecondPerson,
    });
    return verdict.ok ? undefined : verdict.message;
  }

  /**
   * At start, before serving: settle the approvals a previous process left (expired while down,
   * unknown), tell their threads, and carry on every unfinished turn of this platform.
   * @throws AuditError when an approval change cannot be audited (start should stop).
   */
  async resumeAll(options: { sessionKey?: string } = {}): Promise<ResumeReport> {
    const adapter = this.#requireAdapter();
    const reconciled = reconcileApprovals(this.#o.gate, { listByState: (states) => this.#approvalsIn(states) }, (approval) => this.#isOurs(approval));
    for (const approval of [...reconciled.expired, ...reconciled.cancelled, ...reconciled.unknown]) {
      await this.#safely('approval display', () => adapter.showDecision(approval));
      await this.#safely('restart notice', async () => adapter.notice?.({ channel: approval.channel, thread: approval.thread }, restartNotice(approval)));
    }
    const session = options.sessionKey ?? this.#sessionScope;
    const unfinished = session === undefined ? this.#o.turns.listUnfinishedIds(this.#platform) : this.#o.turns.listUnfinishedIdsInSession(session);
    for (const id of unfinished) {
      // Row by row: one damaged turn is taken out of the way (by its step) and never stops a start.
      await this.#safely('restart notice', async () => {
        const record = this.#o.turns.get(id);
        if (record === undefined) return;
        const text = resumeNotice(record.state, this.#approvalsOfTurn(id));
        if (text !== undefined) await adapter.notice?.(decodeTurn(id, record.turnJson).conversation, text);
      });
      this.#kick(id);
    }
    if (unfinished.length > 0 || reconciled.expired.length + reconciled.cancelled.length + reconciled.unknown.length > 0) {
      this.#o.logger.warn({ resumed: unfinished.length, expired: reconciled.expired.length, cancelled: reconciled.cancelled.length, unknown: reconciled.unknown.length }, 'engine.resumed');
    }
    return { resumed: unfinished.length, turnIds: unfinished, ...reconciled };
  }

  /**
   * Pick up decisions made where this process did not see them (another process, e.g.
   * `mithai approvals approve`): waiting turns whose approvals were settled are carried on.
   * Call about once a second. @returns how many turns it moved on.
   */
  pollDecisions(): number {
    if (this.#platform === undefined || this.#isStopping) return 0;
    const ids = this.#o.turns.listWaitingWithSettledApprovals(this.#platform).filter((id) => this.#isInScope(id));
    for (const id of ids) {
      // Announce first, so in-process waiters (a terminal prompt) stop asking too.
      for (const approval of this.#approvalsOfTurn(id)) if (approval.state !== 'pending') this.#o.gate.announce(approval.id);
      this.#kick(id);
    }
    return ids.length;
  }

  /**
   * Stop starting model calls and new tool calls; wait up to `graceMs` for running steps (tool
   * calls in flight finish), then abort what is left via `abort` and wait a little more.
   * Pending approvals stay pending. @returns true when every step ended within the grace period.
   */
  async drain(graceMs: number, abort?: () => void): Promise<boolean> {
    this.#isStopping = true;
    this.#o.idleMemory?.stop();
    const all = (): Promise<unknown> => Promise.allSettled([...this.#active.values()].map((a) => a.done));
    if (await within(all(), graceMs)) return true;
    this.#o.logger.warn({ running: this.#active.size }, 'engine.grace_expired');
    abort?.();
    await within(all(), 5_000);
    return false;
  }

  /** How many turns have a step running in this process. */
  get running(): number {
    return this.#active.size;
  }

  #kick(turnId: string): void {
    if (this.#adapter === undefined || this.#isStopping) return;
    // Only turns of the platform this process serves: a terminal turn must never be carried on
    // (and answered) through Slack, or the other way round.
    if (this.#platform !== undefined && this.#o.turns.platformOf(turnId) !== this.#platform) return;
    if (!this.#isInScope(turnId)) return;
    void this.run(turnId);
  }

  /** Whether a turn is of the conversation this process serves (every turn, when unscoped). */
  #isInScope(turnId: string): boolean {
    return this.#sessionScope === undefined || this.#o.turns.sessionOf(turnId) === this.#sessionScope;
  }

  /** Whether an approval belongs to a conversation of the platform this process serves. */
  #isOurs(approval: Approval): boolean {
    if (this.#sessionScope !== undefined) return approval.sessionKey === this.#sessionScope;
    return this.#platform === undefined || approval.sessionKey.startsWith(`${this.#platform}:`);
  }

  async #step(turnId: string): Promise<StepResult> {
    this.#o.idleMemory?.stepStarted();
    try {
      return await this.#runStep(turnId);
    } finally {
      this.#o.idleMemory?.stepEnded();
    }
  }

  async #runStep(turnId: string): Promise<StepResult> {
    const adapter = this.#requireAdapter();
    const key = this.#o.turns.sessionOf(turnId);
    if (key === undefined) return { kind: 'paused' };
    const result = await this.#locks.run(key, async () => {
      try {
        const stepped = await this.#o.runner.step(turnId, adapter, this.#signal, () => this.#isStopping);
        this.#failures.delete(turnId);
        return stepped;
      } catch (err) {
        // A state write failed (the database busy or full): the rows are as they were before
        // the step, so trying again later is safe. Nothing else would ever move this turn.
        this.#o.logger.error({ turn_id: turnId, err: errorMessage(err), stack: err instanceof Error ? err.stack : undefined }, 'turn.step_failed');
        return this.#retryLater(turnId, adapter);
      }
    });
    if (result.kind === 'queued' && !this.#toldQueued.has(turnId)) {
      this.#toldQueued.add(turnId);
      await this.#safely('queued notice', async () => {
        const record = this.#o.turns.get(turnId);
        if (record) await adapter.notice?.(decodeTurn(turnId, record.turnJson).conversation, 'I will get to this once I have finished the earlier request in this thread.');
      });
    }
    if (result.kind === 'finished') {
      this.#toldQueued.delete(turnId);
      this.#finished.settle(turnId, result.result);
      // The next turn queued behind this one in the same conversation may start now.
      const next = this.#o.turns.listUnfinishedIdsInSession(key)[0];
      if (next) this.#kick(next);
    }
    return result;
  }

  /** Try a failed step again with backoff; after too many failures, answer the thread plainly. */
  async #retryLater(turnId: string, adapter: Adapter): Promise<StepResult> {
    const failures = (this.#failures.get(turnId) ?? 0) + 1;
    this.#failures.set(turnId, failures);
    if (failures > STEP_RETRIES) {
      this.#failures.delete(turnId);
      return this.#o.runner.giveUp(turnId, adapter);
    }
    const timer = setTimeout(() => this.#kick(turnId), Math.min(STEP_RETRY_MAX_MS, STEP_RETRY_BASE_MS * 2 ** (failures - 1)));
    timer.unref();
    return { kind: 'paused' };
  }

  #approvalsIn(states: readonly Approval['state'][]): Approval[] {
    return this.#o.gate.listByState(states);
  }

  #approvalsOfTurn(turnId: string): Approval[] {
    return this.#o.gate.listByTurn(turnId);
  }

  #requireAdapter(): Adapter {
    if (this.#adapter === undefined) throw new Error('engine: no adapter attached');
    return this.#adapter;
  }

  async #safely(what: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      await fn();
    } catch (err) {
      this.#o.logger.warn({ err: errorMessage(err), what }, 'adapter.call_failed');
    }
  }
}

async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
