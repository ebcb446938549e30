/**
 * Routes one `tool_use` from the model: find the tool, validate its input, decide its level,
 * run it at once (auto) or through the approval gate, and turn what happened into the
 * tool_result the model reads. Every path ends in exactly one result; a failing tool is an
 * `is_error` result, never a failing turn.
 *
 * Ordering is the safety property here:
 * - input is validated before the policy and before any approval, so an approver never sees
 *   (and a handler never gets) input the schema rejects;
 * - the audit record of a decision is on disk before the tool runs; if it cannot be written,
 *   the tool does not run;
 * - a gated call starts only through `gate.claimExecution`, which succeeds once per approval.
 */
import type { Logger } from 'pino';
import type { Level } from '../config/schema.ts';
import type { AuditSink, AuditEventInput } from '../audit/types.ts';
import type { ApprovalGate } from '../human/approval-gate.ts';
import { effectiveLevel, resolveDynamicLevel, RESOLVE_HUMAN_TIMEOUT_MS } from '../human/policy.ts';
import { fingerprint } from '../human/fingerprint.ts';
import type { Approval, LevelReason } from '../human/types.ts';
import type { ToolResultBlock, ToolUseBlock } from '../llm/types.ts';
import type { SkillRegistry, ToolOutcome } from '../skills/skill-registry.ts';
import type { LoadedTool, ToolContext } from '../skills/types.ts';
import { errorMessage } from '../errors.ts';
import type { Adapter, Turn } from './types.ts';
import { renderToolResult } from './tool-result-text.ts';

/** What the router needs from the runtime. */
export interface ToolCallRouterDeps {
  registry: SkillRegistry;
  gate: ApprovalGate;
  audit: AuditSink;
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
  /** Per-turn nonce for untrusted wrappers. */
  nonce: string;
  signal?: AbortSignal;
}

/** A routed call: the result block, and whether it brought untrusted content in. */
export interface RoutedCall {
  result: ToolResultBlock;
  tainted: boolean;
}

export class ToolCallRouter {
  readonly #deps: ToolCallRouterDeps;

  constructor(deps: ToolCallRouterDeps) {
    this.#deps = deps;
  }

  /** Route one call to its result. Never throws for tool-level problems. */
  async route(call: ToolUseBlock, turn: Turn, adapter: Adapter, scope: CallScope): Promise<RoutedCall> {
    const { registry, logger } = this.#deps;
    const log = logger.child({ tool: call.name, call_id: call.id, session: scope.sessionKey });
    const tool = registry.get(call.name);
    if (!tool) {
      log.warn('model called an unknown tool');
      const known = registry.tools().map((t) => t.name).join(', ') || '(none)';
      return this.#error(call, `Unknown tool "${call.name}"; nothing ran. Available tools: ${known}.`);
    }
    const validation = tool.validate(call.input);
    if (!validation.ok) {
      log.warn({ error: validation.error }, 'tool input failed validation; not run');
      return this.#error(call, `Invalid input for ${tool.name}; the tool did not run. ${validation.error}`);
    }
    const input = validation.value;
    const { level, reason } = await this.#level(tool, input, turn, call.id, scope, log);
    log.info({ level, level_reason: reason }, 'tool call policy decided');

    if (level === 'auto') return this.#runAuto(tool, call, input, turn, adapter, scope, reason, log);
    return this.#runGated(tool, call, input, level, reason, turn, adapter, scope, log);
  }

  async #level(tool: LoadedTool, input: unknown, turn: Turn, callId: string, scope: CallScope, log: Logger): Promise<{ level: Level; reason: LevelReason }> {
    let dynamic: Level | undefined;
    let dynamicReason: 'dynamic' | 'fail_closed' | undefined;
    if (tool.declared === 'dynamic') {
      const skill = this.#deps.registry.skillOf(tool.name);
      const ctx: ToolContext = { ...this.#deps.contextFor(tool, turn, callId), signal: AbortSignal.timeout(RESOLVE_HUMAN_TIMEOUT_MS) };
      const resolved = await resolveDynamicLevel(skill?.resolveHuman, tool.localName, input, ctx);
      if (resolved.failure) log.warn({ failure: resolved.failure }, 'resolveHuman failed; failing closed to approve');
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

  async #runAuto(tool: LoadedTool, call: ToolUseBlock, input: unknown, turn: Turn, adapter: Adapter, scope: CallScope, reason: LevelReason, log: Logger): Promise<RoutedCall> {
    const base = this.#auditBase(tool, call, input, turn, scope, 'auto', reason);
    try {
      this.#deps.audit.append({ ...base, event: 'decision', decision: 'auto', status: 'executing' });
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'audit append failed; tool not run');
      return this.#error(call, `${tool.name} did not run: the audit log could not be written. Tell an operator.`);
    }
    const outcome = await this.#invoke(tool, input, turn, call.id, adapter, scope);
    try {
      this.#deps.audit.append({ ...base, event: 'outcome', decision: 'auto', status: outcomeStatus(outcome), reason: outcome.status === 'succeeded' ? null : outcome.error });
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'audit append of the outcome failed after the tool ran');
    }
    return this.#fromOutcome(tool, call, outcome, scope);
  }

  async #runGated(tool: LoadedTool, call: ToolUseBlock, input: unknown, level: 'approve' | 'confirm', reason: LevelReason, turn: Turn, adapter: Adapter, scope: CallScope, log: Logger): Promise<RoutedCall> {
    const { gate } = this.#deps;
    if (!turn.canAskHuman) {
      // Unattended turns deny gated calls at once: nobody could answer the approval.
      const base = this.#auditBase(tool, call, input, turn, scope, level, reason);
      try {
        this.#deps.audit.append({ ...base, event: 'decision', decision: 'denied', status: 'not_run', reason: 'unattended: no human can answer approvals in this conversation' });
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'audit append failed for an unattended denial');
      }
      return this.#error(call, `${tool.name} needs a human ${level}, but this conversation is unattended, so nobody can answer. The call did not run.`);
    }
    let approval: Approval;
    try {
      approval = gate.open({
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
      });
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'could not record the approval request; tool not run');
      return this.#error(call, `${tool.name} did not run: the approval request could not be recorded (${errorMessage(err)}).`);
    }
    try {
      await adapter.requestApproval(approval, turn);
    } catch (err) {
      // An approval nobody can see can never be decided: cancel it rather than wait it out.
      log.error({ err: errorMessage(err), approval_id: approval.id }, 'could not show the approval request; cancelling it');
      try {
        gate.cancel(approval.id, 'the approval request could not be shown');
      } catch (cancelErr) {
        // Still pending until it expires, but nobody can see it and nothing will run it.
        log.error({ err: errorMessage(cancelErr), approval_id: approval.id }, 'could not cancel the unshown approval');
      }
      return this.#error(call, `${tool.name} did not run: the approval request could not be shown to anyone.`);
    }
    let waited: Awaited<ReturnType<ApprovalGate['wait']>>;
    try {
      waited = await gate.wait(approval.id, scope.signal);
    } catch (err) {
      // Cancelling on abort could not be audited; the call must not run either way.
      log.error({ err: errorMessage(err), approval_id: approval.id }, 'waiting for the approval failed; not run');
      return this.#error(call, `${tool.name} did not run: ${errorMessage(err)}`);
    }
    const current = gate.get(approval.id) ?? approval;
    log.info({ approval_id: approval.id, outcome: waited, decider: current.decider }, 'approval settled');
    if (waited !== 'approved') {
      await this.#show(adapter, current, log);
      return this.#error(call, this.#notRunText(tool, current, waited));
    }
    // Bind the run to the exact call that was approved: same tool, same canonical input.
    const claimed = gate.claimExecution(approval.id, fingerprint(tool.name, input));
    if (!claimed) {
      log.error({ approval_id: approval.id }, 'approved call could not be claimed for execution; not run');
      return this.#error(call, `${tool.name} did not run: its approval could not be claimed (it may already have run).`);
    }
    await this.#show(adapter, claimed, log);
    const outcome = await this.#invoke(tool, input, turn, call.id, adapter, scope);
    let finished: Approval | undefined;
    try {
      // The row is internal state, but `mithai approvals list` prints it: store it redacted.
      finished = gate.finish(approval.id, outcomeStatus(outcome), this.#deps.redact(outcome.status === 'succeeded' ? 'succeeded' : outcome.error));
    } catch (err) {
      log.error({ err: errorMessage(err), approval_id: approval.id }, 'could not record the outcome of an approved call');
    }
    await this.#show(adapter, finished ?? gate.get(approval.id) ?? claimed, log);
    return this.#fromOutcome(tool, call, outcome, scope, current.decider);
  }

  async #invoke(tool: LoadedTool, input: unknown, turn: Turn, callId: string, adapter: Adapter, scope: CallScope): Promise<ToolOutcome> {
    this.#activity(adapter, turn, { tool: tool.name, phase: 'started' });
    const outcome = await this.#deps.registry.invoke(tool, input, { ...this.#deps.contextFor(tool, turn, callId), signal: scope.signal });
    this.#activity(adapter, turn, { tool: tool.name, phase: outcome.status === 'succeeded' ? 'succeeded' : 'failed', detail: outcome.status === 'succeeded' ? undefined : this.#deps.redact(outcome.error) });
    this.#deps.logger.info({ tool: tool.name, call_id: callId, status: outcome.status }, 'tool finished');
    return outcome;
  }

  #notRunText(tool: LoadedTool, approval: Approval, waited: 'denied' | 'expired' | 'cancelled'): string {
    if (waited === 'denied') {
      const why = approval.reason ? ` Reason: ${approval.reason}` : ' No reason was given.';
      return `${tool.name} was denied by ${approval.decider ?? 'an approver'}; the call did not run.${why} Do not retry the same call unless the user asks.`;
    }
    if (waited === 'expired') {
      return `${tool.name} expired without a decision after ${this.#deps.timeoutSeconds} s; the call did not run. Nobody denied it: ask the user whether to request it again.`;
    }
    return `${tool.name} was cancelled before a decision${approval.reason ? ` (${approval.reason})` : ''}; the call did not run.`;
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
    return { result: { type: 'tool_result', tool_use_id: call.id, content: note + text }, tainted: tool.untrustedOutput };
  }

  /** An is_error result: redacted and truncated like any result (and wrapped when untrusted). */
  #error(call: ToolUseBlock, text: string, untrusted?: { source: string; nonce: string }): RoutedCall {
    const content = renderToolResult(text, { redact: this.#deps.redact, maxChars: this.#deps.maxResultChars, untrusted });
    return { result: { type: 'tool_result', tool_use_id: call.id, content, is_error: true }, tainted: untrusted !== undefined };
  }

  /** Progress display is cosmetic: an adapter that throws here must not stop a claimed call. */
  #activity(adapter: Adapter, turn: Turn, activity: Parameters<NonNullable<Adapter['showActivity']>>[1]): void {
    try {
      adapter.showActivity?.(turn, activity);
    } catch (err) {
      this.#deps.logger.warn({ err: errorMessage(err), tool: activity.tool }, 'could not show tool activity');
    }
  }

  async #show(adapter: Adapter, approval: Approval, log: Logger): Promise<void> {
    try {
      await adapter.showDecision(approval);
    } catch (err) {
      log.warn({ err: errorMessage(err), approval_id: approval.id }, 'could not update the approval display');
    }
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
