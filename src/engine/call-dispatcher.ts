/**
 * Dispatches the calls of one assistant message in the model's order, from their rows:
 * - calls run in order: a call after a pending approval waits for it, so side effects happen in
 *   the order the model asked for them;
 * - every gated call gets its approval (and card) at once, so approvers can decide them all;
 * - an auto call marked `executing` at a start was cut off by a crash: `unknown`, never re-run;
 * - calls past `agent.max_tool_calls_per_turn` are answered "not run".
 * Returns whether the message is still blocked on a pending approval.
 */
import type { Logger } from 'pino';
import type { AuditSink } from '../audit/types.ts';
import type { ApprovalGate } from '../human/approval-gate.ts';
import type { ToolResultBlock, ToolUseBlock } from '../llm/types.ts';
import type { Approval } from '../human/types.ts';
import { fingerprint } from '../human/fingerprint.ts';
import { UNRECORDED_TAINT, mergeTaint } from '../human/taint.ts';
import type { SessionStore } from '../state/session-store.ts';
import type { CallRecord, TurnRecord, TurnStore } from '../state/turn-store.ts';
import type { Transact } from '../state/transactor.ts';
import { errorMessage } from '../errors.ts';
import type { CallPersistence, CallScope, RoutedCall, ToolCallRouter } from './tool-call-router.ts';
import type { Adapter, Turn } from './types.ts';

/** What a {@link CallDispatcher} works with. */
export interface CallDispatcherOptions {
  gate: ApprovalGate;
  audit: AuditSink;
  sessions: SessionStore;
  turns: TurnStore;
  router: ToolCallRouter;
  transact: Transact;
  logger: Logger;
  maxToolCallsPerTurn: number;
  redact(text: string): string;
}

/** The result of one dispatch pass. */
export interface DispatchResult {
  /** A call still waits on a pending approval. */
  blocked: boolean;
  /** A call was answered "not run" because the turn's tool-call budget ran out. */
  limitHit: boolean;
  /** Shutdown began: calls not started yet were left for the next start. */
  paused: boolean;
  /**
   * The results this pass produced, by position. A result whose row could not be written still
   * reaches the model from here (it ran, or was refused, exactly once).
   */
  results: Map<number, RoutedCall>;
  /**
   * The commit of the pass's last call (its answer and outcome record), left for the caller to
   * run inside the commit that stores the pass's results; empty when nothing was left.
   */
  deferred: Array<() => void>;
}

/** The start of the result text of a call refused because the turn's tool-call budget ran out. */
export const TOOL_LIMIT_RESULT_PREFIX = 'Not run: this turn reached its limit of';

const INTERRUPTED_AUTO = 'was running when the runtime stopped; its outcome is unknown and it was not re-run. Check whether it took effect before calling it again.';

/** Dispatches a turn's calls. */
export class CallDispatcher {
  readonly #o: CallDispatcherOptions;
  /** Approvals this process has asked a person about (opened here, or shown again after a start). */
  readonly #requested = new Set<string>();

  constructor(options: CallDispatcherOptions) {
    this.#o = options;
  }

  /**
   * One pass over the calls; see the module comment.
   * @param beforeWrite Runs inside every commit of the pass, before the call's own writes: the
   *   turn runner stores the model response these calls came from there, in the first call's
   *   commit instead of one of its own (it must do nothing once the response is stored).
   */
  async dispatch(record: TurnRecord, turn: Turn, calls: readonly CallRecord[], adapter: Adapter, signal: AbortSignal | undefined, isStopping: () => boolean, beforeWrite?: () => void): Promise<DispatchResult> {
    const { turns, router } = this.#o;
    const { gate } = this.#o;
    let toolCalls = record.toolCalls;
    let blocked = false;
    let limitHit = false;
    const results = new Map<number, RoutedCall>();
    const deferred: Array<() => void> = [];
    const taint = this.#o.sessions.taintSources(record.sessionKey);
    const scope: CallScope = { sessionKey: record.sessionKey, tainted: taint.length > 0, taint, nonce: record.nonce, turnId: record.id, ...(signal ? { signal } : {}) };
    for (const [index, call] of calls.entries()) {
      if (call.state === 'answered') continue;
      // Shutdown starts nothing new; what is not started yet carries on at the next start.
      if (isStopping()) return { blocked, limitHit, paused: true, results, deferred };
      const use: ToolUseBlock = { type: 'tool_use', id: call.callId, name: call.name, input: parseInput(call.inputJson) };
      const persist = this.#persistence(record, call, scope, results, beforeWrite);
      if (call.state === 'executing') {
        this.#answerInterrupted(record, turn, call, use, persist);
        continue;
      }
      if (call.state === 'gated') {
        const approval = call.approvalId === null ? undefined : gate.get(call.approvalId);
        if (approval === undefined) {
          persist.answer(errorResult(use, `${call.name} did not run: its approval record is missing.`));
          continue;
        }
        if (approval.state === 'pending') {
          blocked = true;
          await this.#showAgainIfNeverShown(approval, turn, adapter);
          continue;
        }
        // Decided, but an earlier call still waits: keep the model's order.
        if (blocked) continue;
        this.#track(scope, await router.dispatchDecided(approval, use, turn, adapter, scope, persist));
        continue;
      }
      // An open call.
      if (toolCalls >= this.#o.maxToolCallsPerTurn) {
        // Past the budget nothing runs; every tool_use still gets its result so history stays valid.
        this.#commit(() => persist.answer(errorResult(use, `${TOOL_LIMIT_RESULT_PREFIX} ${this.#o.maxToolCallsPerTurn} tool calls (agent.max_tool_calls_per_turn).`)));
        limitHit = true;
        continue;
      }
      const prepared = await router.prepare(use, turn, scope);
      if (prepared.kind === 'answered') {
        // The refusal's audit record (an unattended denial) commits with the answer: a crash
        // between them could otherwise audit the same denial again at the next start.
        this.#commit(() => {
          if (prepared.audit) this.#o.audit.append(prepared.audit);
          persist.answer(prepared.routed);
        });
        this.#track(scope, prepared.routed);
        continue;
      }
      if (prepared.kind === 'auto') {
        // An auto call after a pending one waits for it (its level is decided again then).
        if (blocked) continue;
        toolCalls += 1;
        // The turn's count of calls commits with the call's "executing" mark (one commit), and
        // the last call's answer with the pass's results (see DispatchResult.deferred).
        const isLast = calls.slice(index + 1).every((c) => c.state === 'answered');
        this.#track(scope, await router.runAuto(prepared, use, turn, adapter, scope, this.#persistence(record, call, scope, results, beforeWrite, toolCalls, isLast ? deferred : undefined)));
        continue;
      }
      toolCalls += 1;
      // The sources as stored now, plus any this pass saw whose write failed: the approval's snapshot.
      scope.taint = mergeTaint(this.#o.sessions.taintSources(record.sessionKey), scope.taint);
      const opened = await router.openGated(prepared, use, turn, adapter, scope, this.#persistence(record, call, scope, results, beforeWrite, toolCalls));
      if ('routed' in opened) continue;
      this.#requested.add(opened.approval.id);
      const current = gate.get(opened.approval.id);
      if (current?.state === 'pending') blocked = true;
      else if (current && !blocked) this.#track(scope, await router.dispatchDecided(current, use, turn, adapter, scope, persist));
    }
    return { blocked, limitHit, paused: false, results, deferred };
  }

  /**
   * A pending approval this process has not asked about, with no display on record: the process
   * that opened it died before (or while) showing it. Ask again — the adapter finds a card that
   * did reach Slack instead of posting a second one — so it can still be decided.
   */
  async #showAgainIfNeverShown(approval: Approval, turn: Turn, adapter: Adapter): Promise<void> {
    if (this.#requested.has(approval.id) || approval.displayRef !== null) return;
    this.#requested.add(approval.id);
    try {
      await adapter.requestApproval(approval, turn);
      this.#o.logger.info({ approval_id: approval.id }, 'approval.shown_again');
    } catch (err) {
      // As when it was first opened: an approval nobody can see can never be decided, so cancel
      // it (the turn carries on with that) rather than leave the thread waiting for nothing.
      this.#o.logger.error({ approval_id: approval.id, err: errorMessage(err) }, 'approval.show_failed');
      try {
        const cancelled = this.#o.gate.cancel(approval.id, 'the approval request could not be shown');
        if (cancelled) await this.#o.router.show(adapter, cancelled);
      } catch (cancelErr) {
        this.#o.logger.error({ approval_id: approval.id, err: errorMessage(cancelErr) }, 'approval.cancel_failed');
      }
    }
  }

  /** An input's JSON with known secrets redacted; `{"redacted":true}` when that would not be JSON (a secret that was a number). */
  #redactedInput(inputJson: string): string {
    const redacted = this.#o.redact(inputJson);
    if (redacted === inputJson) return inputJson;
    try {
      JSON.parse(redacted);
      return redacted;
    } catch {
      return '{"redacted":true}';
    }
  }

  /**
   * @param beforeWrite See {@link dispatch}.
   * @param toolCalls The turn's count of calls with this one, stored with its "executing" or "gated" mark.
   * @param deferTo Where the commit of a run call's answer goes when the caller commits it (the pass's last call).
   */
  #persistence(record: TurnRecord, call: CallRecord, scope: CallScope, results: Map<number, RoutedCall>, beforeWrite: (() => void) | undefined, toolCalls?: number, deferTo?: Array<() => void>): CallPersistence {
    const { turns, sessions } = this.#o;
    const count = (): void => {
      if (toolCalls !== undefined) turns.update(record.id, 'running', { toolCalls });
    };
    const persistence: CallPersistence = {
      answerRun: (routed, recordOutcome) => {
        const write = (): void => {
          recordOutcome();
          persistence.answer(routed);
        };
        if (deferTo === undefined) {
          this.#commit(write);
          return;
        }
        // Known to the caller now, whatever happens to the commit.
        results.set(call.position, routed);
        deferTo.push(write);
      },
      markExecuting: () => {
        beforeWrite?.();
        turns.updateCall(record.id, call.position, 'executing');
        count();
      },
      markGated: (approval) => {
        beforeWrite?.();
        turns.updateCall(record.id, call.position, 'gated', { approvalId: approval.id });
        count();
      },
      answer: (routed) => {
        // Kept before the write: should the write fail, the model still gets this result once.
        results.set(call.position, routed);
        beforeWrite?.();
        // The input stays exact only while the call may still run; answered, it is kept redacted.
        turns.updateCall(record.id, call.position, 'answered', { resultJson: JSON.stringify(routed.result), tainted: routed.tainted, inputJson: this.#redactedInput(call.inputJson) });
        // Untrusted content is in the context now: later auto calls need approval, and later
        // approvals name where it came from (the flag and its source commit with the answer).
        if (routed.tainted) sessions.markTainted(record.sessionKey, routed.taintSource === undefined ? [] : [routed.taintSource]);
      },
    };
    return persistence;
  }

  /**
   * Commit what {@link dispatch} left in `deferred`, each on its own (a savepoint, inside an
   * open transaction); a failure is logged, as for any call's commit.
   */
  commitDeferred(deferred: ReadonlyArray<() => void>): void {
    for (const write of deferred) this.#commit(write);
  }

  /** An auto call cut off by a crash: recorded `unknown`, answered, never re-run. */
  #answerInterrupted(record: TurnRecord, turn: Turn, call: CallRecord, use: ToolUseBlock, persist: CallPersistence): void {
    const routed = errorResult(use, `${call.name} ${INTERRUPTED_AUTO}`);
    this.#commit(() => {
      this.#o.audit.append({
        event: 'outcome',
        approval_id: call.callId,
        call_id: call.callId,
        session: record.sessionKey,
        requester: turn.user,
        decider: null,
        tool: call.name,
        level: 'auto',
        level_reason: 'declared',
        decision: 'auto',
        fingerprint: fingerprint(call.name, parseInput(call.inputJson)),
        input: parseInput(call.inputJson),
        status: 'unknown',
        reason: 'the runtime stopped while the call was running',
      });
      persist.answer(routed);
    });
    this.#o.logger.warn({ turn_id: record.id, call_id: call.callId, tool: call.name }, 'tool.outcome_unknown');
  }

  #track(scope: CallScope, routed: RoutedCall): void {
    if (!routed.tainted) return;
    scope.tainted = true;
    scope.taint = mergeTaint(scope.taint, [routed.taintSource ?? UNRECORDED_TAINT]);
  }

  #commit(fn: () => void): void {
    try {
      this.#o.transact(fn);
    } catch (err) {
      this.#o.logger.error({ err: errorMessage(err) }, 'turn.persist_failed');
    }
  }
}

function parseInput(json: string): unknown {
  try {
    return JSON.parse(json);
  } catch {
    return {};
  }
}

function errorResult(use: ToolUseBlock, content: string): RoutedCall {
  const result: ToolResultBlock = { type: 'tool_result', tool_use_id: use.id, content, is_error: true };
  return { result, tainted: false };
}
