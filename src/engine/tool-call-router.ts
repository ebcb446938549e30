/**
 * Routes one `tool_use` of a durable turn: find the tool, validate its input, decide its level,
 * run it at once (auto) or open an approval for it (gated), and, once a gated call is decided
 * (in this process or any other, now or after a restart), re-check it and run it. Every path
 * ends in exactly one tool_result; a failing tool is an `is_error` result, never a failing turn.
 * Over 300 lines: the three dispatch paths share the audit/outcome/result helpers kept here.
 *
 * Ordering is the safety property here:
 * - input is validated before the policy and before any approval, so an approver never sees
 *   (and a handler never gets) input the schema rejects;
 * - the audit record of a decision is committed (synced) in the state database and written to
 *   the audit file before the tool runs; if it cannot be written, the tool does not run;
 * - a gated call starts only through `gate.claimExecution`, which succeeds once per approval,
 *   and only after a re-check against what is loaded now (tool, schema, fingerprint, level);
 * - the "executing" mark of a call commits before its handler starts, so a crash during the
 *   handler leaves `unknown`, never a second run.
 */
import type { Logger } from 'pino';
import type { Level } from '../config/schema.ts';
import type { AuditSink, AuditEventInput } from '../audit/types.ts';
import type { ApprovalGate } from '../human/approval-gate.ts';
import { effectiveLevel, resolveDynamicLevel, RESOLVE_HUMAN_TIMEOUT_MS } from '../human/policy.ts';
import { fingerprint } from '../human/fingerprint.ts';
import { APPROVED_TOO_LONG_AGO } from '../human/approval-reconciler.ts';
import { UNRECORDED_TAINT, taintSource } from '../human/taint.ts';
import type { Approval, LevelReason, TaintSource } from '../human/types.ts';
import type { ToolResultBlock, ToolUseBlock } from '../llm/types.ts';
import type { SkillRegistry, ToolOutcome } from '../skills/skill-registry.ts';
import type { LoadedTool, ToolContext } from '../skills/types.ts';
import type { Transact } from '../state/transactor.ts';
import { isStateFailure } from '../state/database.ts';
import { errorMessage } from '../errors.ts';
import { faultPoint } from '../fault-point.ts';
import type { Adapter, Turn } from './types.ts';
import { renderToolResult } from './tool-result-text.ts';
import { settledResultText } from './settled-result-text.ts';

/** What the router needs from the runtime. */
export interface ToolCallRouterDeps {
  registry: SkillRegistry;
  gate: ApprovalGate;
  audit: AuditSink;
  transact: Transact;
  logger: Logger;
  overrides: Readonly<Record<string, Level>>;
  maxResultChars: number;
  timeoutSeconds: number;
  redact(text: string): string;
  /** Build the context a handler or resolveHuman gets (everything but the signal). */
  contextFor(tool: LoadedTool, turn: Turn, callId: string): Omit<ToolContext, 'signal'>;
}

/** The state of the session this call belongs to. */
export interface CallScope {
  sessionKey: string;
  tainted: boolean;
  /** Where the session's untrusted content came from (what an approval opened now is warned with). */
  taint: TaintSource[];
  /** Per-turn nonce for untrusted wrappers. */
  nonce: string;
  /** The durable turn the call belongs to. */
  turnId?: string;
  signal?: AbortSignal;
}

/** A routed call: the result block, and whether it brought untrusted content in (and from where). */
export interface RoutedCall {
  result: ToolResultBlock;
  tainted: boolean;
  /** Set when `tainted`: the tool whose output (or error text) is untrusted. */
  taintSource?: TaintSource;
}

/** What a call turned out to be before anything ran. */
export type PreparedCall =
  | { kind: 'answered'; routed: RoutedCall; /** An audit record to commit with the answer. */ audit?: AuditEventInput }
  | { kind: 'auto'; tool: LoadedTool; input: unknown; reason: LevelReason }
  | { kind: 'gated'; tool: LoadedTool; input: unknown; level: 'approve' | 'confirm'; reason: LevelReason };

/** Durable steps of a call, committed by the router together with its own records. */
export interface CallPersistence {
  /** The call is about to run (committed with the audit record that says so). */
  markExecuting(): void;
  /** The call's result is known (committed with the outcome). */
  answer(routed: RoutedCall): void;
  /**
   * An auto call ran: commit its answer together with `recordOutcome` (which appends its
   * outcome record), now, or, when it is the last call of the pass, in the same commit as the
   * pass's results (no await lies between the two, so nothing a crash could tell apart). A
   * failed commit is logged; the result still reaches the model once, from memory.
   */
  answerRun(routed: RoutedCall, recordOutcome: () => void): void;
  /** An approval was opened for the call (committed with the pending row). */
  markGated(approval: Approval): void;
}

const LEVEL_RANK: Readonly<Record<Level, number>> = { auto: 0, approve: 1, confirm: 2 };

export class ToolCallRouter {
  readonly #deps: ToolCallRouterDeps;

  constructor(deps: ToolCallRouterDeps) {
    this.#deps = deps;
  }

  /** Find, validate and classify one call. Never throws for tool-level problems. */
  async prepare(call: ToolUseBlock, turn: Turn, scope: CallScope): Promise<PreparedCall> {
    const { registry } = this.#deps;
    const log = this.#log(call, scope);
    const tool = registry.get(call.name);
    if (!tool) {
      log.warn({ reason: 'unknown tool' }, 'tool.call_refused');
      const known = registry.tools().map((t) => t.name).join(', ') || '(none)';
      return { kind: 'answered', routed: this.#error(call, `Unknown tool "${call.name}"; nothing ran. Available tools: ${known}.`) };
    }
    const validation = tool.validate(call.input);
    if (!validation.ok) {
      log.warn({ error: validation.error }, 'tool.input_rejected');
      return { kind: 'answered', routed: this.#error(call, `Invalid input for ${tool.name}; the tool did not run. ${validation.error}`) };
    }
    const input = validation.value;
    const { level, reason } = await this.#level(tool, input, turn, call.id, scope, log);
    log.info({ level, level_reason: reason }, 'tool.policy_decided');
    if (level === 'auto') return { kind: 'auto', tool, input, reason };
    if (!turn.canAskHuman) {
      // Unattended turns deny gated calls at once: nobody could answer the approval.
      const unattended = 'unattended: no human can answer approvals in this conversation';
      return {
        kind: 'answered',
        routed: this.#error(call, `${tool.name} needs a human ${level}, but this conversation is unattended, so nobody can answer. The call did not run.`),
        audit: { ...this.#auditBase(tool, call, input, turn, scope, level, reason), event: 'decision', decision: 'denied', status: 'not_run', reason: unattended },
      };
    }
    return { kind: 'gated', tool, input, level, reason };
  }

  /** Run an auto call now, durably marked as executing first. */
  async runAuto(prepared: Extract<PreparedCall, { kind: 'auto' }>, call: ToolUseBlock, turn: Turn, adapter: Adapter, scope: CallScope, persist: CallPersistence): Promise<RoutedCall> {
    const { tool, input, reason } = prepared;
    const log = this.#log(call, scope);
    const base = this.#auditBase(tool, call, input, turn, scope, 'auto', reason);
    try {
      this.#deps.transact(() => {
        this.#deps.audit.append({ ...base, event: 'decision', decision: 'auto', status: 'executing' });
        persist.markExecuting();
      });
      // The decision record must be in the audit file before the side effect.
      this.#deps.audit.write();
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'audit.append_failed');
      const routed = this.#error(call, `${tool.name} did not run: the audit log could not be written. Tell an operator.`);
      this.#commitQuietly(log, () => {
        this.#deps.audit.append({ ...base, event: 'outcome', decision: 'auto', status: 'failed', reason: 'not run: the audit log could not be written' });
        persist.answer(routed);
      });
      return routed;
    }
    const outcome = await this.#invoke(tool, input, turn, call.id, adapter, scope);
    const routed = this.#fromOutcome(tool, call, outcome, scope);
    persist.answerRun(routed, () => {
      this.#deps.audit.append({ ...base, event: 'outcome', decision: 'auto', status: outcomeStatus(outcome), reason: outcome.status === 'succeeded' ? null : outcome.error });
    });
    return routed;
  }

  /**
   * Open an approval for a gated call and show it. The decision comes back later, by approval
   * id, through the engine. @returns the pending approval, or the result when it could not be
   * recorded or shown (then nothing runs).
   */
  async openGated(prepared: Extract<PreparedCall, { kind: 'gated' }>, call: ToolUseBlock, turn: Turn, adapter: Adapter, scope: CallScope, persist: CallPersistence): Promise<{ approval: Approval } | { routed: RoutedCall }> {
    const { tool, input, level, reason } = prepared;
    const log = this.#log(call, scope);
    let approval: Approval;
    try {
      approval = this.#deps.transact(() => {
        const opened = this.#deps.gate.open({
          callId: call.id,
          sessionKey: scope.sessionKey,
          tool: tool.name,
          toolDescription: tool.description,
          level,
          levelReason: reason,
          input,
          requester: turn.user,
          channel: turn.conversation.channel,
          thread: turn.conversation.thread,
          confirmPhrase: level === 'confirm' ? tool.confirmPhrase(input) : null,
          ...(scope.turnId === undefined ? {} : { turnId: scope.turnId }),
          // What the approver is warned about; a tainted session never opens one with no source.
          taint: scope.tainted && scope.taint.length === 0 ? [UNRECORDED_TAINT] : scope.taint,
        });
        persist.markGated(opened);
        return opened;
      });
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'approval.open_failed');
      const routed = this.#error(call, `${tool.name} did not run: the approval request could not be recorded (${errorMessage(err)}).`);
      this.#commitQuietly(log, () => persist.answer(routed));
      return { routed };
    }
    faultPoint('approval.opened');
    try {
      // The request record must be in the audit file before anyone is asked (the commit's own
      // write logs a failure and carries on).
      this.#deps.audit.write();
    } catch (err) {
      log.error({ err: errorMessage(err), approval_id: approval.id }, 'audit.write_failed');
      const routed = this.#error(call, `${tool.name} did not run: the audit log could not be written, so nobody was asked to approve it. Tell an operator.`);
      try {
        this.#deps.gate.cancel(approval.id, 'not asked: the audit log could not be written');
      } catch (cancelErr) {
        // Still pending with no card: nobody can decide it, and it expires like any other.
        log.error({ err: errorMessage(cancelErr), approval_id: approval.id }, 'approval.cancel_failed');
      }
      this.#commitQuietly(log, () => persist.answer(routed));
      return { routed };
    }
    try {
      await adapter.requestApproval(approval, turn);
      faultPoint('card.posted');
    } catch (err) {
      // An approval nobody can see can never be decided: cancel it rather than wait it out.
      log.error({ err: errorMessage(err), approval_id: approval.id }, 'approval.show_failed');
      try {
        const cancelled = this.#deps.gate.cancel(approval.id, 'the approval request could not be shown');
        if (cancelled) await this.#show(adapter, cancelled, log);
      } catch (cancelErr) {
        // Still pending until it expires, but nobody can see it; it expires like any other.
        log.error({ err: errorMessage(cancelErr), approval_id: approval.id }, 'approval.cancel_failed');
      }
    }
    return { approval };
  }

  /**
   * Carry on a gated call whose approval has left `pending`: tell the model why it did not run,
   * or re-check it against what is loaded now and run it once.
   */
  async dispatchDecided(approval: Approval, call: ToolUseBlock, turn: Turn, adapter: Adapter, scope: CallScope, persist: CallPersistence): Promise<RoutedCall> {
    const log = this.#log(call, scope).child({ approval_id: approval.id });
    log.info({ state: approval.state, decider: approval.decider }, 'approval.dispatched');
    if (approval.state === 'executing') return this.#settleCutOff(approval, call, adapter, persist, log);
    if (approval.state !== 'approved') return this.#answerSettled(approval, call, adapter, persist, log);
    const recheck = await this.#recheck(approval, call, turn, scope, log);
    if (!recheck.ok) return this.#refuseApproved(approval, call, adapter, persist, log, recheck.reason);
    const { tool, input } = recheck;
    try {
      this.#deps.audit.write();
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'audit.write_failed');
      return this.#refuseApproved(approval, call, adapter, persist, log, 'the audit log could not be written');
    }
    const claimed = this.#deps.gate.claimExecution(approval.id, fingerprint(tool.name, input));
    if (!claimed) {
      const current = this.#deps.gate.get(approval.id);
      if (current?.state === 'approved') return this.#refuseApproved(current, call, adapter, persist, log, APPROVED_TOO_LONG_AGO);
      const routed = this.#error(call, `${tool.name} did not run: its approval could not be claimed (it may already have run).`);
      this.#commitQuietly(log, () => persist.answer(routed));
      return routed;
    }
    faultPoint('claim.committed');
    // Shown while the tool runs, not before it: the display is not awaited in front of the tool
    // (a Slack card edit starts on the next turn of the event loop; a terminal line prints now).
    const shown = this.#show(adapter, claimed, log);
    const outcome = await this.#invoke(tool, input, turn, call.id, adapter, scope);
    await shown;
    faultPoint('tool.returned');
    const routed = this.#fromOutcome(tool, call, outcome, scope, claimed.decider);
    let finished: Approval | undefined;
    try {
      // The row is internal state, but `mithai approvals list` prints it: store it redacted.
      const summary = this.#deps.redact(outcome.status === 'succeeded' ? 'succeeded' : outcome.error);
      finished = this.#deps.gate.finish(approval.id, outcomeStatus(outcome), summary, () => persist.answer(routed));
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'approval.finish_failed');
      // The database refused the outcome (a full disk): no result reaches the thread without
      // its outcome record. The step is tried again later, and finds the approval still
      // `executing`: it is then settled `unknown` (see #settleCutOff), never run again.
      if (isStateFailure(err)) throw err;
    }
    if (finished !== undefined) faultPoint('outcome.committed');
    if (finished === undefined) {
      // The outcome could not be recorded; the result still reaches the model (it ran), and the
      // next start marks the row unknown.
      this.#commitQuietly(log, () => persist.answer(routed));
    }
    await this.#show(adapter, finished ?? this.#deps.gate.get(approval.id) ?? claimed, log);
    return routed;
  }

  /**
   * An approved call found still `executing` by a later step of this process: its run ended
   * without its outcome being recorded (the database refused it). Only this process runs tools
   * (the process lock), and a thread's steps run one at a time, so nothing is running it now.
   * Settled `unknown`, with its outcome record, in the commit that answers the call.
   */
  async #settleCutOff(approval: Approval, call: ToolUseBlock, adapter: Adapter, persist: CallPersistence, log: Logger): Promise<RoutedCall> {
    let answered: RoutedCall | undefined;
    const settled = this.#deps.gate.finish(approval.id, 'unknown', 'the outcome could not be recorded when the call ended', (row) => {
      answered = this.#error(call, settledResultText(row));
      persist.answer(answered);
    });
    if (settled !== undefined && answered !== undefined) {
      await this.#show(adapter, settled, log);
      return answered;
    }
    // Moved on meanwhile (settled elsewhere): answered from its current state.
    return this.#answerSettled(this.#deps.gate.get(approval.id) ?? approval, call, adapter, persist, log);
  }

  /** Tell the model why a call whose approval has settled without running it did not run. */
  async #answerSettled(approval: Approval, call: ToolUseBlock, adapter: Adapter, persist: CallPersistence, log: Logger): Promise<RoutedCall> {
    const routed = this.#error(call, settledResultText(approval));
    this.#commitQuietly(log, () => persist.answer(routed));
    // The decision may have come from elsewhere (an expiry, another process): bring the
    // display up to date here too (a redraw of the current row; harmless when already shown).
    await this.#show(adapter, approval, log);
    return routed;
  }

  /** Show an approval's current state (cosmetic: a failure is logged). */
  async show(adapter: Adapter, approval: Approval): Promise<void> {
    await this.#show(adapter, approval, this.#deps.logger.child({ approval_id: approval.id }));
  }

  /** Re-validate an approved call against what is loaded now (tool, schema, fingerprint, level). */
  async #recheck(approval: Approval, call: ToolUseBlock, turn: Turn, scope: CallScope, log: Logger): Promise<{ ok: true; tool: LoadedTool; input: unknown } | { ok: false; reason: string }> {
    const tool = this.#deps.registry.get(approval.tool);
    if (!tool || tool.name !== call.name) return { ok: false, reason: `the tool ${approval.tool} is no longer loaded` };
    const validation = tool.validate(call.input);
    if (!validation.ok) return { ok: false, reason: `its input no longer validates against the tool's schema (${validation.error})` };
    if (fingerprint(tool.name, validation.value) !== approval.fingerprint) return { ok: false, reason: 'its input is not the input that was approved' };
    const now = await this.#level(tool, validation.value, turn, call.id, scope, log);
    if (LEVEL_RANK[now.level] > LEVEL_RANK[approval.level]) {
      return { ok: false, reason: `it now needs ${now.level} (${now.reason}), stricter than the ${approval.level} it was approved with` };
    }
    return { ok: true, tool, input: validation.value };
  }

  async #refuseApproved(approval: Approval, call: ToolUseBlock, adapter: Adapter, persist: CallPersistence, log: Logger, reason: string): Promise<RoutedCall> {
    log.warn({ reason }, 'approval.recheck_failed');
    let row: Approval | undefined;
    try {
      row = this.#deps.gate.cancelApproved(approval.id, reason);
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'approval.cancel_failed');
    }
    const routed = this.#error(call, `${approval.tool} was approved but did not run: ${reason}. Ask the user whether to request it again.`);
    this.#commitQuietly(log, () => persist.answer(routed));
    if (row) await this.#show(adapter, row, log);
    return routed;
  }

  async #level(tool: LoadedTool, input: unknown, turn: Turn, callId: string, scope: CallScope, log: Logger): Promise<{ level: Level; reason: LevelReason }> {
    let dynamic: Level | undefined;
    let dynamicReason: 'dynamic' | 'fail_closed' | undefined;
    if (tool.declared === 'dynamic') {
      const skill = this.#deps.registry.skillOf(tool.name);
      const ctx: ToolContext = { ...this.#deps.contextFor(tool, turn, callId), signal: AbortSignal.timeout(RESOLVE_HUMAN_TIMEOUT_MS) };
      const resolved = await resolveDynamicLevel(skill?.resolveHuman, tool.localName, input, ctx);
      if (resolved.failure) log.warn({ failure: resolved.failure }, 'tool.resolve_human_failed');
      dynamic = resolved.level;
      dynamicReason = resolved.reason;
    }
    return effectiveLevel({
      declared: tool.declared,
      override: this.#deps.overrides[tool.name],
      dynamic,
      dynamicReason,
      tainted: scope.tainted,
      readOnly: tool.readOnly,
    });
  }

  async #invoke(tool: LoadedTool, input: unknown, turn: Turn, callId: string, adapter: Adapter, scope: CallScope): Promise<ToolOutcome> {
    this.#activity(adapter, turn, { tool: tool.name, phase: 'started' });
    const outcome = await this.#deps.registry.invoke(tool, input, { ...this.#deps.contextFor(tool, turn, callId), signal: scope.signal });
    this.#activity(adapter, turn, { tool: tool.name, phase: outcome.status === 'succeeded' ? 'succeeded' : 'failed', detail: outcome.status === 'succeeded' ? undefined : this.#deps.redact(outcome.error) });
    this.#deps.logger.info({ tool: tool.name, call_id: callId, session: scope.sessionKey, status: outcome.status }, 'tool.finished');
    return outcome;
  }

  #fromOutcome(tool: LoadedTool, call: ToolUseBlock, outcome: ToolOutcome, scope: CallScope, decider?: string | null): RoutedCall {
    // An error from a tool that reads outside content can carry that content too (an HTTP
    // error body): it is wrapped and taints the session exactly like a successful result.
    const untrusted = tool.untrustedOutput ? { source: tool.name, nonce: scope.nonce } : undefined;
    if (outcome.status !== 'succeeded') {
      let text: string;
      if (outcome.status === 'invalid_input') text = `Invalid input for ${tool.name}; the tool did not run. ${outcome.error}`;
      else if (outcome.mayStillRun) text = `${tool.name} ${outcome.error}; it may still be running, so its effect is unknown. Do not call it again before checking whether it took effect.`;
      else text = `${tool.name} failed. ${outcome.error}`;
      return this.#error(call, text, untrusted);
    }
    const note = decider ? `(approved by ${decider}) ` : '';
    const text = renderToolResult(outcome.output, { redact: this.#deps.redact, maxChars: this.#deps.maxResultChars, untrusted });
    const result: ToolResultBlock = { type: 'tool_result', tool_use_id: call.id, content: note + text };
    if (!tool.untrustedOutput) return { result, tainted: false };
    return { result, tainted: true, taintSource: taintSource('tool_output', tool.name, this.#deps.redact) };
  }

  /** An is_error result: redacted and truncated like any result (and wrapped when untrusted). */
  #error(call: ToolUseBlock, text: string, untrusted?: { source: string; nonce: string }): RoutedCall {
    const content = renderToolResult(text, { redact: this.#deps.redact, maxChars: this.#deps.maxResultChars, untrusted });
    const result: ToolResultBlock = { type: 'tool_result', tool_use_id: call.id, content, is_error: true };
    if (untrusted === undefined) return { result, tainted: false };
    return { result, tainted: true, taintSource: taintSource('tool_error', untrusted.source, this.#deps.redact) };
  }

  /** Commit `fn`; a failure is logged (the result then reaches the model once, from memory). */
  #commitQuietly(log: Logger, fn: () => void): void {
    try {
      this.#deps.transact(fn);
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'turn.persist_failed');
    }
  }

  /** Progress display is cosmetic: an adapter that throws here must not stop a claimed call. */
  #activity(adapter: Adapter, turn: Turn, activity: Parameters<NonNullable<Adapter['showActivity']>>[1]): void {
    try {
      adapter.showActivity?.(turn, activity);
    } catch (err) {
      this.#deps.logger.warn({ err: errorMessage(err), tool: activity.tool }, 'adapter.activity_failed');
    }
  }

  async #show(adapter: Adapter, approval: Approval, log: Logger): Promise<void> {
    try {
      await adapter.showDecision(approval);
    } catch (err) {
      log.warn({ err: errorMessage(err), approval_id: approval.id }, 'approval.display_failed');
    }
  }

  #log(call: ToolUseBlock, scope: CallScope): Logger {
    return this.#deps.logger.child({ tool: call.name, call_id: call.id, session: scope.sessionKey, ...(scope.turnId ? { turn_id: scope.turnId } : {}) });
  }

  #auditBase(tool: LoadedTool, call: ToolUseBlock, input: unknown, turn: Turn, scope: CallScope, level: Level, reason: LevelReason): Omit<AuditEventInput, 'event' | 'decision' | 'status'> {
    return {
      approval_id: call.id,
      call_id: call.id,
      session: scope.sessionKey,
      requester: turn.user,
      decider: null,
      tool: tool.name,
      level,
      level_reason: reason,
      fingerprint: fingerprint(tool.name, input),
      input,
      reason: null,
    };
  }
}

/** The audit/approval status of a finished invocation. */
function outcomeStatus(outcome: ToolOutcome): 'succeeded' | 'failed' | 'unknown' {
  if (outcome.status === 'succeeded') return 'succeeded';
  return outcome.status === 'failed' && outcome.mayStillRun ? 'unknown' : 'failed';
}
