/**
 * The approval gate: the only way a gated (approve/confirm) call can start. It moves approval
 * rows along the lifecycle table (./approval-lifecycle.ts), each move together with its audit
 * record, and tells listeners after a move has committed. It holds nothing that matters in
 * memory: waiting (./approval-waiters.ts), deadlines (./approval-expiry.ts) and what a restart
 * finds (./approval-reconciler.ts) are separate modules built on the rows.
 *
 * Rules every method keeps:
 * - The SQLite row is the truth. Each state change is one conditional UPDATE (first writer
 *   wins), so two processes deciding at once produce one decision and one audit record.
 * - A state change and its audit record commit together: the record is written in the same
 *   transaction (an append that throws rolls the change back: a decision that could not be
 *   audited was not taken). After the outermost commit the audit file is brought up to date.
 * - Nothing past its deadline can be approved; an expired call is never reported as denied.
 * - An approved call starts only through {@link ApprovalGate.claimExecution}, once, with the
 *   fingerprint it was approved with, and only inside its validity window.
 *
 * @example
 * const approval = gate.open({ callId, sessionKey, tool, ... });
 * // later, from any process: gate.decide(approval.id, 'U1', 'approve', { via: 'slack' })
 * const claimed = gate.claimExecution(approval.id, fingerprintNow);
 * if (claimed) { const result = await run(); gate.finish(approval.id, 'succeeded', 'ok'); }
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { InternalError } from '../errors.ts';
import { canonicalJson } from '../audit/canonical-json.ts';
import type { AuditSink } from '../audit/types.ts';
import type { ApprovalStore, TransitionFields } from '../state/approval-store.ts';
import { checkDecider } from './approvers.ts';
import { auditRecord } from './audit-record.ts';
import { fingerprint } from './fingerprint.ts';
import { transitionOf, type DecisionSource } from './approval-lifecycle.ts';
import { settledRefusal } from './settled-refusal.ts';
import { mergeTaint } from './taint.ts';
import type { Approval, ApprovalState, DecideResult, Decision, LevelReason, TaintSource } from './types.ts';

/** Dependencies and settings of an {@link ApprovalGate}. */
export interface ApprovalGateOptions {
  store: ApprovalStore;
  audit: AuditSink;
  clock: Clock;
  /** `human.timeout_seconds`: how long a pending approval waits for a decision. */
  timeoutSeconds: number;
  /**
   * `human.approval_valid_seconds`: how long an approved call may still start after the
   * decision (a restart between decision and start runs it only inside this window).
   */
  approvedValidSeconds?: number;
  /** `human.approvers` patterns. */
  approvers: readonly string[];
  /** `human.confirm_requires_second_person`. */
  confirmRequiresSecondPerson: boolean;
  /** `human.tainted_requires_second_person`. */
  taintedRequiresSecondPerson: boolean;
  logger: Logger;
  /**
   * Runs `fn` in one write transaction and, after the outermost commit, copies new audit
   * records to the audit file. Defaults to the store's transaction plus `audit.write()`.
   */
  transact?: <T>(fn: () => T) => T;
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
  /** The durable turn the call belongs to. */
  turnId?: string;
  /** The untrusted content the session has taken in (cleaned sources; default none). */
  taint?: readonly TaintSource[];
}

/** Extra facts a decision may carry. */
export interface DecideOptions {
  /** What the approver typed, for `confirm`. */
  typedPhrase?: string;
  /** Why (shown with a deny). */
  reason?: string;
  /** The fingerprint the decider was shown; a mismatch means the call changed. */
  fingerprint?: string;
  /** Where the decision came from (default `slack`). */
  via?: DecisionSource;
}

/** Told after every committed change of an approval row (including the new pending row). */
export type ApprovalListener = (approval: Approval) => void;

/** Default validity window of an approved call that has not started yet. */
export const DEFAULT_APPROVED_VALID_SECONDS = 900;

/** Opens, decides, expires and closes approvals. See the module comment for the rules. */
export class ApprovalGate {
  readonly #store: ApprovalStore;
  readonly #audit: AuditSink;
  readonly #clock: Clock;
  readonly #timeoutMs: number;
  readonly #validMs: number;
  readonly #approvers: readonly string[];
  readonly #confirmRequiresSecondPerson: boolean;
  readonly #taintedRequiresSecondPerson: boolean;
  readonly #logger: Logger;
  readonly #transact: <T>(fn: () => T) => T;
  readonly #listeners = new Set<ApprovalListener>();

  /** @throws InternalError when timeoutSeconds is not a positive number. */
  constructor(options: ApprovalGateOptions) {
    if (!(options.timeoutSeconds > 0) || !Number.isFinite(options.timeoutSeconds)) {
      throw new InternalError(`ApprovalGate: timeoutSeconds must be a positive number, got ${options.timeoutSeconds}`);
    }
    this.#store = options.store;
    this.#audit = options.audit;
    this.#clock = options.clock;
    this.#timeoutMs = options.timeoutSeconds * 1000;
    this.#validMs = (options.approvedValidSeconds ?? DEFAULT_APPROVED_VALID_SECONDS) * 1000;
    this.#approvers = options.approvers;
    this.#confirmRequiresSecondPerson = options.confirmRequiresSecondPerson;
    this.#taintedRequiresSecondPerson = options.taintedRequiresSecondPerson;
    this.#logger = options.logger;
    this.#transact =
      options.transact ??
      (<T>(fn: () => T): T => {
        const isOutermost = !this.#store.isInTransaction;
        const result = this.#store.inTransaction(fn);
        if (isOutermost) this.#writeQuietly();
        return result;
      });
  }

  /** The clock the gate decides deadlines by. */
  get clock(): Clock {
    return this.#clock;
  }

  /**
   * Be told after every committed change. Listeners must not throw (a throw is logged).
   * @returns A function that removes the listener.
   */
  onChange(listener: ApprovalListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Approvals in any of the given states, oldest first. */
  listByState(states: readonly ApprovalState[]): Approval[] {
    return this.#store.listByState(states);
  }

  /** Approvals of one durable turn, oldest first. */
  listByTurn(turnId: string): Approval[] {
    return this.#store.listByTurn(turnId);
  }

  /**
   * Tell listeners about a row as it is now, when it changed somewhere this gate did not see
   * (another process decided it). @returns the row, or undefined when there is none.
   */
  announce(id: string): Approval | undefined {
    const row = this.#store.get(id);
    if (row !== undefined) this.#tell(row);
    return row;
  }

  /**
   * Record a pending approval (row + audit `requested`, in one transaction).
   *
   * @returns The pending approval.
   * @throws AuditError when the audit append fails (no row is left behind).
   * @throws StateError when this session already has an approval for the call id.
   * @throws InternalError for a confirm request without a confirm phrase, or an input with
   *   no JSON form (a BigInt, a cycle).
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
      turnId: request.turnId ?? null,
      displayedState: null,
      decidedVia: null,
      validUntil: null,
      taint: mergeTaint([], request.taint ?? []),
    };
    this.#transact(() => {
      this.#store.insert(approval);
      this.#audit.append(auditRecord(approval, { event: 'requested', decision: null, status: 'pending', reason: null }));
    });
    const { id, callId, tool, level, levelReason, requester } = approval;
    this.#logger.info({ approval_id: id, call_id: callId, tool, level, level_reason: levelReason, requester, taint: approval.taint.length }, 'approval.requested');
    this.#tell(approval);
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
      const current = this.expire(id) ?? this.#store.get(id);
      return current === undefined ? notFound(id) : settledRefusal(current);
    }

    const verdict = checkDecider({
      approval,
      decider,
      decision,
      approvers: this.#approvers,
      confirmRequiresSecondPerson: this.#confirmRequiresSecondPerson,
      taintedRequiresSecondPerson: this.#taintedRequiresSecondPerson,
    });
    if (!verdict.ok) {
      this.#logger.warn({ approval_id: id, decider, decision }, 'approval.decision_refused');
      return { ok: false, refusal: 'not_permitted', message: verdict.message, approval };
    }
    if (options.fingerprint !== undefined && options.fingerprint !== approval.fingerprint) {
      this.#logger.warn({ approval_id: id, decider }, 'approval.fingerprint_mismatched');
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
    const fields: TransitionFields = {
      decider,
      decidedAt,
      decidedVia: options.via ?? 'slack',
      ...(options.reason === undefined ? {} : { reason: options.reason }),
      ...(to === 'approved' ? { validUntil: iso(nowMs + this.#validMs) } : {}),
    };
    // notAfter: the deadline is checked again inside the same UPDATE, not just above.
    const decided = this.#move(id, 'pending', to, fields, { reason: options.reason ?? null }, decidedAt);
    if (decided === undefined) {
      // Someone else (another click, another process, the expiry) changed the row first.
      const current = this.#store.get(id);
      return current === undefined ? notFound(id) : settledRefusal(current);
    }
    this.#logger.info({ approval_id: id, tool: decided.tool, decider, decision: to, via: fields.decidedVia }, 'approval.decided');
    return { ok: true, approval: decided };
  }

  /**
   * Expire one pending approval whose deadline has passed.
   * @returns The expired approval, or undefined when it was not pending or not yet due.
   * @throws AuditError when the expiry cannot be audited (the row stays pending).
   */
  expire(id: string): Approval | undefined {
    const approval = this.#store.get(id);
    if (approval?.state !== 'pending' || this.#clock.now() < Date.parse(approval.deadline)) return undefined;
    const seconds = Math.round((Date.parse(approval.deadline) - Date.parse(approval.createdAt)) / 1000);
    const reason = `no decision within ${seconds} s`;
    const row = this.#move(id, 'pending', 'expired', { decidedAt: iso(this.#clock.now()), decidedVia: 'system', reason }, { reason, decider: null });
    if (row !== undefined) this.#logger.info({ approval_id: row.id, tool: row.tool }, 'approval.expired');
    return row;
  }

  /**
   * Expire every pending approval past its deadline (boot, and a periodic safety net).
   * A row whose expiry cannot be recorded is logged and left for the next sweep.
   * @returns The approvals this call expired.
   */
  expireDue(): Approval[] {
    const nowMs = this.#clock.now();
    const expired: Approval[] = [];
    for (const approval of this.#store.listByState(['pending'])) {
      if (nowMs < Date.parse(approval.deadline)) continue;
      try {
        const row = this.expire(approval.id);
        if (row !== undefined) expired.push(row);
      } catch (err) {
        this.#logger.error({ approval_id: approval.id, err }, 'approval.expire_failed');
      }
    }
    return expired;
  }

  /**
   * Cancel a pending approval (its card could not be shown; chat input ended).
   * @returns The cancelled approval, or undefined when it was not pending.
   * @throws AuditError when the cancellation cannot be audited (the row stays pending).
   */
  cancel(id: string, reason: string): Approval | undefined {
    const row = this.#move(id, 'pending', 'cancelled', { decidedAt: iso(this.#clock.now()), decidedVia: 'system', reason }, { reason, decider: null });
    if (row !== undefined) this.#logger.info({ approval_id: id, tool: row.tool, reason }, 'approval.cancelled');
    return row;
  }

  /**
   * Cancel an approved call that must not start after all (its re-check at dispatch failed, or
   * its validity window passed before it could start). The decider's name stays on the row.
   * @returns The cancelled approval, or undefined when it was not approved.
   * @throws AuditError when the cancellation cannot be audited (the row stays approved, and
   *   still cannot start: the same check refuses it again).
   */
  cancelApproved(id: string, reason: string): Approval | undefined {
    const row = this.#move(id, 'approved', 'cancelled', { reason, finishedAt: iso(this.#clock.now()) }, { reason, decider: null });
    if (row !== undefined) this.#logger.warn({ approval_id: id, tool: row.tool, reason }, 'approval.cancelled');
    return row;
  }

  /**
   * Atomically move an approved call to `executing`. Only one caller ever gets it; call this
   * right before the side effect, and run the call only when it returns an approval.
   *
   * @param expectedFingerprint When given, the claim is refused unless it matches the approval
   *   (the call about to run must be the call that was approved).
   * @returns The executing approval, or undefined when it is not (or no longer) approved, or
   *   its validity window has passed.
   */
  claimExecution(id: string, expectedFingerprint?: string): Approval | undefined {
    const current = this.#store.get(id);
    if (current === undefined) return undefined;
    if (expectedFingerprint !== undefined && current.fingerprint !== expectedFingerprint) {
      this.#logger.warn({ approval_id: id }, 'approval.claim_refused');
      return undefined;
    }
    if (current.validUntil !== null && this.#clock.now() >= Date.parse(current.validUntil)) {
      this.#logger.warn({ approval_id: id, valid_until: current.validUntil }, 'approval.claim_refused');
      return undefined;
    }
    const row = this.#move(id, 'approved', 'executing', {}, { reason: null });
    if (row === undefined) this.#logger.warn({ approval_id: id }, 'approval.claim_refused');
    else this.#logger.info({ approval_id: id, tool: row.tool, state: row.state }, 'approval.claimed');
    return row;
  }

  /**
   * Record how an executing call ended (row + audit `outcome`, in one transaction).
   * `unknown` is for a call that was abandoned (timed out, cancelled, the process died) while
   * its handler may still have been running: nobody can say whether its effect happened.
   *
   * @param alsoInTransaction Work committed together with the outcome (the turn's result).
   * @returns The finished approval, or undefined when it was not executing.
   * @throws AuditError when the outcome cannot be audited (the row stays `executing`, and
   *   the next start marks it `unknown`).
   */
  finish(id: string, status: 'succeeded' | 'failed' | 'unknown', outcome: string, alsoInTransaction?: (row: Approval) => void): Approval | undefined {
    const fields = { outcome, finishedAt: iso(this.#clock.now()) };
    const row = this.#move(id, 'executing', status, fields, { reason: outcome }, undefined, alsoInTransaction);
    if (row === undefined) this.#logger.warn({ approval_id: id, status }, 'approval.finish_refused');
    else this.#logger.info({ approval_id: id, tool: row.tool, status }, 'approval.finished');
    return row;
  }

  /**
   * One lifecycle move plus its audit record, committed together: the append runs inside the
   * transaction, so an append that throws rolls the move back. Listeners hear of it after the
   * commit. Moves that are not in the lifecycle table are a bug and throw.
   */
  #move(
    id: string,
    from: ApprovalState,
    to: ApprovalState,
    fields: TransitionFields,
    step: { reason: string | null; decider?: string | null },
    notAfter?: string,
    alsoInTransaction?: (row: Approval) => void,
  ): Approval | undefined {
    const transition = transitionOf(from, to);
    if (transition === undefined) throw new InternalError(`approval lifecycle has no move from ${from} to ${to}`);
    const row = this.#transact(() => {
      const changed = this.#store.transition(id, [from], to, fields, notAfter === undefined ? {} : { notAfter });
      if (changed === undefined) return undefined;
      if (transition.audit !== null) {
        this.#audit.append(auditRecord(changed, { ...transition.audit, reason: step.reason, ...(step.decider === undefined ? {} : { decider: step.decider }) }));
      }
      alsoInTransaction?.(changed);
      return changed;
    });
    if (row !== undefined) this.#tell(row);
    return row;
  }

  #tell(approval: Approval): void {
    for (const listener of this.#listeners) {
      try {
        listener(approval);
      } catch (err) {
        this.#logger.error({ approval_id: approval.id, err }, 'approval.listener_failed');
      }
    }
  }

  /** After a commit: bring the audit file up to date; a failure is caught up by the next write. */
  #writeQuietly(): void {
    try {
      this.#audit.write();
    } catch (err) {
      this.#logger.error({ err }, 'audit.write_failed');
    }
  }
}

function notFound(id: string): DecideResult {
  return { ok: false, refusal: 'not_found', message: `No approval ${id} exists.`, approval: undefined };
}

function iso(ms: number): string {
  return new Date(ms).toISOString();
}
