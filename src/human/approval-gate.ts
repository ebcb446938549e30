/**
 * The approval gate: the only way a gated (approve/confirm) call can start.
 * Over 300 lines because every lifecycle transition lives here, each next to its audit write.
 *
 * Lifecycle (see ./types.ts): `open` writes a pending row; `decide`, the expiry timer,
 * `cancel` and `reconcileOnBoot` move it out of pending; `claimExecution` lets exactly one
 * caller start an approved call; `finish` records how it ended.
 *
 * Rules every method keeps:
 * - The SQLite row is the truth. Each state change is one conditional UPDATE (first writer
 *   wins), and in-process waiters are only told after the change has committed.
 * - A state change and its audit record commit together: both happen inside one
 *   BEGIN IMMEDIATE transaction, the audit append last, so an append that throws rolls the
 *   change back (a decision that could not be audited was not taken).
 * - Nothing past its deadline can be approved; an expired call is never reported as denied.
 *
 * @example
 * const approval = gate.open({ callId, sessionKey, tool, ... });
 * await adapter.requestApproval(approval);
 * if ((await gate.wait(approval.id, signal)) === 'approved') {
 *   const claimed = gate.claimExecution(approval.id, approval.fingerprint);
 *   if (claimed) { const result = await run(); gate.finish(approval.id, 'succeeded', summary(result)); }
 * }
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { InternalError, StateError } from '../errors.ts';
import { canonicalJson } from '../audit/canonical-json.ts';
import type { AuditSink } from '../audit/types.ts';
import type { ApprovalStore, TransitionFields } from '../state/approval-store.ts';
import { checkDecider } from './approvers.ts';
import { auditRecord } from './audit-record.ts';
import type { AuditStep } from './audit-record.ts';
import { ExpiryTimers } from './expiry-timers.ts';
import { fingerprint } from './fingerprint.ts';
import { settledRefusal, waitOutcomeOf } from './settled-refusal.ts';
import type { Approval, ApprovalState, DecideResult, Decision, LevelReason, WaitOutcome } from './types.ts';

/** Dependencies and settings of an {@link ApprovalGate}. */
export interface ApprovalGateOptions {
  store: ApprovalStore;
  audit: AuditSink;
  clock: Clock;
  /** `human.timeout_seconds`: how long a pending approval waits for a decision. */
  timeoutSeconds: number;
  /** `human.approvers` patterns. */
  approvers: readonly string[];
  /** `human.confirm_requires_second_person`. */
  confirmRequiresSecondPerson: boolean;
  logger: Logger;
}

/** A gated call asking for a decision. */
export interface ApprovalRequest {
  /** The model's tool_use id. */
  callId: string;
  sessionKey: string;
  /** Canonical `skill__tool` name. */
  tool: string;
  toolDescription: string;
  level: 'approve' | 'confirm';
  levelReason: LevelReason;
  /** The validated input. */
  input: unknown;
  requester: string;
  channel: string;
  thread: string;
  /** Phrase a confirm approver must type; required (non-blank) for `confirm`. */
  confirmPhrase: string | null;
}

/** Extra facts a decision may carry. */
export interface DecideOptions {
  /** What the approver typed, for `confirm`. */
  typedPhrase?: string;
  /** Why (shown with a deny). */
  reason?: string;
  /** The fingerprint the decider was shown; a mismatch means the call changed. */
  fingerprint?: string;
}

/** What {@link ApprovalGate.reconcileOnBoot} did. */
export interface ReconcileResult {
  /** Pending approvals past their deadline. */
  expired: Approval[];
  /** Pending approvals whose turn is gone, and approved calls that never started. */
  cancelled: Approval[];
  /** Calls that were executing when the previous process stopped; never re-run. */
  unknown: Approval[];
}

/** How long to wait before retrying an expiry that could not be recorded. */
const EXPIRY_RETRY_MS = 30_000;

const RESTARTED_PENDING = 'runtime restarted before a decision';
const RESTARTED_APPROVED = 'runtime restarted before the approved call started; it was not run';
const RESTARTED_EXECUTING = 'runtime stopped while the call was running; outcome unknown; it will not be re-run';

/** Opens, decides, expires and closes approvals. See the module comment for the rules. */
export class ApprovalGate {
  readonly #store: ApprovalStore;
  readonly #audit: AuditSink;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #approvers: readonly string[];
  readonly #confirmRequiresSecondPerson: boolean;
  readonly #logger: Logger;
  readonly #timers: ExpiryTimers;
  readonly #waiters = new Map<string, Set<(outcome: WaitOutcome) => void>>();
  /** Approvals opened by this instance; boot reconciliation must not touch them. */
  readonly #opened = new Set<string>();

  /** @throws InternalError when timeoutSeconds is not a positive number. */
  constructor(options: ApprovalGateOptions) {
    if (!(options.timeoutSeconds > 0) || !Number.isFinite(options.timeoutSeconds)) {
      throw new InternalError(`ApprovalGate: timeoutSeconds must be a positive number, got ${options.timeoutSeconds}`);
    }
    this.#store = options.store;
    this.#audit = options.audit;
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutSeconds * 1000;
    this.#approvers = options.approvers;
    this.#confirmRequiresSecondPerson = options.confirmRequiresSecondPerson;
    this.#logger = options.logger;
    this.#timers = new ExpiryTimers(options.clock);
  }

  /**
   * Record a pending approval (row + audit `requested`, in one transaction) and arm its expiry.
   *
   * @returns The pending approval.
   * @throws AuditError when the audit append fails (no row is left behind).
   * @throws StateError when this session already has an approval for the call id.
   * @throws InternalError for a confirm request without a confirm phrase.
   * @throws InternalError when the input has no JSON form (a BigInt, a cycle).
   */
  open(request: ApprovalRequest): Approval {
    // A blank phrase would let an empty modal confirm; refuse to create such an approval.
    if (request.level === 'confirm' && (request.confirmPhrase === null || request.confirmPhrase.trim() === '')) {
      throw new InternalError(`approval for ${request.tool}: a confirm call needs a non-blank confirm phrase`);
    }
    const nowMs = this.#clock.now();
    const approval: Approval = {
      version: 1,
      id: `apr_${randomBytes(6).toString('hex')}`,
      callId: request.callId,
      sessionKey: request.sessionKey,
      tool: request.tool,
      toolDescription: request.toolDescription,
      level: request.level,
      levelReason: request.levelReason,
      fingerprint: fingerprint(request.tool, request.input),
      inputJson: canonicalJson(request.input),
      requester: request.requester,
      channel: request.channel,
      thread: request.thread,
      confirmPhrase: request.confirmPhrase,
      state: 'pending',
      createdAt: iso(nowMs),
      deadline: iso(nowMs + this.#timeoutMs),
      decider: null,
      decidedAt: null,
      reason: null,
      outcome: null,
      finishedAt: null,
      displayRef: null,
    };
    this.#store.inTransaction(() => {
      this.#store.insert(approval);
      this.#audit.append(auditRecord(approval, { event: 'requested', decision: null, status: 'pending', reason: null }));
    });
    this.#opened.add(approval.id);
    this.#timers.arm(approval.id, nowMs + this.#timeoutMs, (id) => this.#onDeadline(id));
    const { id, callId, tool, level, levelReason, requester } = approval;
    this.#logger.info({ approvalId: id, callId, tool, level, levelReason, requester }, 'approval.requested');
    return approval;
  }

  /**
   * The approval as persisted now (the row is the truth; this is a convenience over the store).
   * @throws StateError when the row has an unknown version.
   */
  get(id: string): Approval | undefined {
    return this.#store.get(id);
  }

  /**
   * Apply a human decision. Synchronous; the first valid decision wins and nothing else ever
   * changes the row (double clicks, replays and late clicks are refused).
   *
   * Checks, in order: exists → still pending → before the deadline (else it is expired now) →
   * decider permitted → fingerprint matches (when given) → confirm phrase (confirm + approve).
   *
   * @returns ok with the decided approval, or the refusal and a message for the decider.
   * @throws AuditError when the decision (or the expiry it triggered) cannot be audited;
   *   then no decision was taken and the row is still pending.
   */
  decide(id: string, decider: string, decision: Decision, options: DecideOptions = {}): DecideResult {
    const approval = this.#store.get(id);
    if (approval === undefined) return notFound(id);
    if (approval.state !== 'pending') return settledRefusal(approval);

    const nowMs = this.#clock.now();
    if (nowMs >= Date.parse(approval.deadline)) {
      // The timer has not fired yet (or fired in another process): expire it now, exactly as
      // the timer would, rather than accept a late decision.
      const current = this.#expire(approval) ?? this.#store.get(id);
      return current === undefined ? notFound(id) : settledRefusal(current);
    }

    const verdict = checkDecider({
      approval,
      decider,
      decision,
      approvers: this.#approvers,
      confirmRequiresSecondPerson: this.#confirmRequiresSecondPerson,
    });
    if (!verdict.ok) {
      this.#logger.warn({ approvalId: id, decider, decision }, 'approval.decision_refused');
      return { ok: false, refusal: 'not_permitted', message: verdict.message, approval };
    }
    if (options.fingerprint !== undefined && options.fingerprint !== approval.fingerprint) {
      this.#logger.warn({ approvalId: id, decider }, 'approval.fingerprint_mismatch');
      const message = 'This approval is for a different call (its arguments changed); nothing was decided.';
      return { ok: false, refusal: 'not_found', message, approval };
    }
    if (approval.level === 'confirm' && decision === 'approve') {
      // Fail closed: a confirm row without a phrase (never written by open) cannot be approved.
      const expected = approval.confirmPhrase?.trim();
      if (expected === undefined || expected === '' || options.typedPhrase?.trim() !== expected) {
        const message = `Type \`${approval.confirmPhrase ?? ''}\` exactly to confirm; nothing was decided.`;
        return { ok: false, refusal: 'wrong_phrase', message, approval };
      }
    }

    const decidedAt = iso(nowMs);
    const to = decision === 'approve' ? 'approved' : 'denied';
    const decided = this.#store.inTransaction(() => {
      // notAfter: the deadline is checked again inside the same UPDATE, not just above.
      const fields = { decider, decidedAt, ...(options.reason === undefined ? {} : { reason: options.reason }) };
      const row = this.#store.transition(id, ['pending'], to, fields, { notAfter: decidedAt });
      if (row === undefined) return undefined;
      // An approved call has not run yet (status pending); a denied one never will (not_run).
      const status = to === 'approved' ? 'pending' : 'not_run';
      this.#audit.append(auditRecord(row, { event: 'decision', decision: to, status, reason: row.reason }));
      return row;
    });
    if (decided === undefined) {
      // Someone else (another click, another gate, the expiry) changed the row first.
      const current = this.#store.get(id);
      return current === undefined ? notFound(id) : settledRefusal(current);
    }
    this.#settle(decided, to);
    this.#logger.info({ approvalId: id, tool: decided.tool, decider, decision: to }, 'approval.decided');
    return { ok: true, approval: decided };
  }

  /**
   * Wait until the approval leaves `pending`. Resolves at once when it already has.
   * Aborting `signal` cancels a still-pending approval (state `cancelled`, audited).
   *
   * Waiters are told of changes made through this gate instance; a change made elsewhere
   * (another process) is noticed at the latest when the deadline timer fires.
   *
   * @throws StateError (rejects) when there is no such approval; rejects with AuditError
   *   when an abort's cancellation cannot be audited (the row then stays pending until expiry).
   */
  wait(id: string, signal?: AbortSignal): Promise<WaitOutcome> {
    return new Promise<WaitOutcome>((resolve, reject) => {
      const approval = this.#store.get(id);
      if (approval === undefined) return reject(new StateError(`no approval ${id} to wait for`));
      const settled = waitOutcomeOf(approval.state);
      if (settled !== undefined) return resolve(settled);
      if (this.#clock.now() >= Date.parse(approval.deadline)) {
        this.#onDeadline(id);
        return resolve(waitOutcomeOf(this.#store.get(id)?.state ?? 'expired') ?? 'expired');
      }

      const onAbort = (): void => {
        try {
          if (this.cancel(id, 'the turn was cancelled') === undefined) {
            // Already left pending without this gate hearing of it: answer from the row.
            this.#settleFromRow(id);
          }
        } catch (err) {
          this.#waiters.get(id)?.delete(waiter);
          reject(err);
        }
      };
      const waiter = (outcome: WaitOutcome): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(outcome);
      };
      let set = this.#waiters.get(id);
      if (set === undefined) this.#waiters.set(id, (set = new Set()));
      set.add(waiter);
      // An approval opened by another gate (or process) still needs its deadline noticed here.
      if (!this.#timers.has(id)) this.#timers.arm(id, Date.parse(approval.deadline), (due) => this.#onDeadline(due));
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /**
   * Expire every pending approval past its deadline (boot, and a periodic safety net).
   * @returns The approvals this call expired.
   * @throws AuditError when an expiry cannot be audited (that row stays pending).
   */
  expireDue(): Approval[] {
    const nowMs = this.#clock.now();
    const expired: Approval[] = [];
    for (const approval of this.#store.listByState(['pending'])) {
      if (nowMs < Date.parse(approval.deadline)) continue;
      const row = this.#expire(approval);
      if (row !== undefined) expired.push(row);
    }
    return expired;
  }

  /**
   * Cancel a pending approval (turn aborted, shutdown).
   * @returns The cancelled approval, or undefined when it was not pending.
   * @throws AuditError when the cancellation cannot be audited (the row stays pending).
   */
  cancel(id: string, reason: string): Approval | undefined {
    const row = this.#change(id, 'pending', 'cancelled', { decidedAt: iso(this.#clock.now()), reason }, {
      event: 'decision',
      decision: 'cancelled',
      status: 'not_run',
      reason,
      decider: null,
    });
    if (row !== undefined) {
      this.#settle(row, 'cancelled');
      this.#logger.info({ approvalId: id, tool: row.tool, reason }, 'approval.cancelled');
    }
    return row;
  }

  /**
   * Cancel every pending approval (shutdown). Best effort: a cancellation that cannot be
   * audited is logged and skipped; its row stays pending and the next boot settles it.
   * @returns The approvals cancelled.
   */
  cancelAllPending(reason: string): Approval[] {
    const cancelled: Approval[] = [];
    for (const approval of this.#store.listByState(['pending'])) {
      try {
        const row = this.cancel(approval.id, reason);
        if (row !== undefined) cancelled.push(row);
      } catch (err) {
        this.#logger.error({ approvalId: approval.id, err }, 'approval.cancel_failed');
      }
    }
    return cancelled;
  }

  /**
   * Atomically move an approved call to `executing`. Only one caller ever gets it; call this
   * right before the side effect, and run the call only when it returns an approval.
   *
   * @param expectedFingerprint When given, the claim is refused unless it matches the approval
   *   (the call about to run must be the call that was approved).
   * @returns The executing approval, or undefined when it is not (or no longer) approved.
   */
  claimExecution(id: string, expectedFingerprint?: string): Approval | undefined {
    if (expectedFingerprint !== undefined) {
      const current = this.#store.get(id);
      if (current === undefined || current.fingerprint !== expectedFingerprint) {
        this.#logger.warn({ approvalId: id }, 'approval.claim_refused_fingerprint');
        return undefined;
      }
    }
    const row = this.#store.transition(id, ['approved'], 'executing');
    if (row === undefined) this.#logger.warn({ approvalId: id }, 'approval.claim_refused');
    else this.#logger.info({ approvalId: id, tool: row.tool }, 'approval.executing');
    return row;
  }

  /**
   * Record how an executing call ended (row + audit `outcome`, in one transaction).
   * `unknown` is for a call that was abandoned (timed out, cancelled) while its handler may
   * still be running: nobody can say whether its effect happened.
   * @returns The finished approval, or undefined when it was not executing.
   * @throws AuditError when the outcome cannot be audited (the row stays `executing`, and
   *   the next boot marks it `unknown`).
   */
  finish(id: string, status: 'succeeded' | 'failed' | 'unknown', outcome: string): Approval | undefined {
    const fields = { outcome, finishedAt: iso(this.#clock.now()) };
    const row = this.#change(id, 'executing', status, fields, { event: 'outcome', decision: 'approved', status, reason: outcome });
    if (row === undefined) {
      this.#logger.warn({ approvalId: id, status }, 'approval.finish_refused');
    } else {
      this.#opened.delete(id);
      this.#logger.info({ approvalId: id, tool: row.tool, status }, 'approval.finished');
    }
    return row;
  }

  /**
   * Settle what a previous process left behind. Call once at boot, before serving.
   * Pending rows past their deadline expire; other pending rows are cancelled (the turn that
   * waited for them is gone); approved rows that never started are cancelled, not run;
   * executing rows become `unknown` and are never re-run. Approvals opened by this instance
   * are left alone.
   *
   * @throws AuditError when a change cannot be audited (boot should stop: that row and the
   *   ones after it are unchanged and will be retried next boot).
   */
  reconcileOnBoot(): ReconcileResult {
    const result: ReconcileResult = { expired: [], cancelled: [], unknown: [] };
    const nowMs = this.#clock.now();
    for (const approval of this.#store.listByState(['pending', 'approved', 'executing'])) {
      if (this.#opened.has(approval.id)) continue;
      if (approval.state === 'pending') {
        if (nowMs >= Date.parse(approval.deadline)) push(result.expired, this.#expire(approval));
        else push(result.cancelled, this.cancel(approval.id, RESTARTED_PENDING));
      } else if (approval.state === 'approved') {
        // Approved but never claimed: the turn that would have run it is gone. Running it now,
        // detached from its conversation, is not what anyone approved.
        const fields = { reason: RESTARTED_APPROVED, finishedAt: iso(nowMs) };
        const step = { event: 'decision', decision: 'cancelled', status: 'not_run', reason: RESTARTED_APPROVED, decider: null } as const;
        push(result.cancelled, this.#change(approval.id, 'approved', 'cancelled', fields, step));
      } else {
        // The side effect may or may not have happened: say so, and never run it again.
        const fields = { outcome: RESTARTED_EXECUTING, finishedAt: iso(nowMs) };
        const step = { event: 'outcome', decision: 'approved', status: 'unknown', reason: RESTARTED_EXECUTING } as const;
        push(result.unknown, this.#change(approval.id, 'executing', 'unknown', fields, step));
      }
    }
    const ids = (list: Approval[]): string[] => list.map((a) => a.id);
    if (result.expired.length + result.cancelled.length + result.unknown.length > 0) {
      this.#logger.warn({ expired: ids(result.expired), cancelled: ids(result.cancelled), unknown: ids(result.unknown) }, 'approval.reconciled');
    }
    return result;
  }

  /** Stop all expiry timers. Waiters are not resolved; cancel pending approvals first. */
  close(): void {
    this.#timers.clear();
  }

  /**
   * One transition plus its audit record, committed together: the append runs inside the
   * transaction, last, so an append that throws rolls the transition back.
   */
  #change(id: string, from: ApprovalState, to: ApprovalState, fields: TransitionFields, step: AuditStep): Approval | undefined {
    return this.#store.inTransaction(() => {
      const row = this.#store.transition(id, [from], to, fields);
      if (row !== undefined) this.#audit.append(auditRecord(row, step));
      return row;
    });
  }

  /** pending → expired + audit; then tell waiters. Undefined when it was no longer pending. */
  #expire(approval: Approval): Approval | undefined {
    const seconds = Math.round((Date.parse(approval.deadline) - Date.parse(approval.createdAt)) / 1000);
    const reason = `no decision within ${seconds} s`;
    const row = this.#change(approval.id, 'pending', 'expired', { decidedAt: iso(this.#clock.now()), reason }, {
      event: 'decision',
      decision: 'expired',
      status: 'not_run',
      reason,
      decider: null,
    });
    if (row !== undefined) {
      this.#settle(row, 'expired');
      this.#logger.info({ approvalId: row.id, tool: row.tool }, 'approval.expired');
    }
    return row;
  }

  /** The deadline timer fired (or a wait found the deadline passed). Never throws. */
  #onDeadline(id: string): void {
    try {
      const approval = this.#store.get(id);
      if (approval?.state === 'pending') this.#expire(approval);
      this.#settleFromRow(id);
    } catch (err) {
      // The expiry could not be written (audit or database failure). The call still cannot
      // run: no decision can be taken past the deadline. Tell waiters `expired` so the turn
      // moves on, and try to record the expiry again later (as do expireDue() and the next boot).
      this.#logger.error({ approvalId: id, err }, 'approval.expire_failed');
      this.#notify(id, 'expired');
      this.#timers.arm(id, this.#clock.now() + EXPIRY_RETRY_MS, (due) => this.#onDeadline(due));
    }
  }

  /** Resolve waiters from the row's current state, if it has left pending. */
  #settleFromRow(id: string): void {
    const current = this.#store.get(id);
    const outcome = current === undefined ? 'cancelled' : waitOutcomeOf(current.state);
    if (outcome !== undefined) this.#notify(id, outcome);
  }

  /** After a committed change out of pending: stop the timer and tell waiters. */
  #settle(approval: Approval, outcome: WaitOutcome): void {
    // Only an approved call still has a future here (claim, finish); forget the rest.
    if (outcome !== 'approved') this.#opened.delete(approval.id);
    this.#timers.disarm(approval.id);
    this.#notify(approval.id, outcome);
  }

  #notify(id: string, outcome: WaitOutcome): void {
    const set = this.#waiters.get(id);
    this.#waiters.delete(id);
    this.#timers.disarm(id);
    for (const waiter of set ?? []) waiter(outcome);
  }
}

function notFound(id: string): DecideResult {
  return { ok: false, refusal: 'not_found', message: `No approval ${id} exists.`, approval: undefined };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function push(list: Approval[], approval: Approval | undefined): void {
  if (approval !== undefined) list.push(approval);
}
