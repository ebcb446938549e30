/**
 * One step of a durable turn: carry it from whatever its rows say now to the next point where
 * it must wait (a pending approval) or end (a reply). Called with the session's lock held, by
 * the engine, whenever something may have moved the turn on: a new message, a decision from
 * any process, an expiry, a start. Nothing is held in memory between steps.
 *
 * A step, in order:
 * 1. a turn still `accepted` starts: the adapter may enrich it, then its user message is
 *    stored and the turn is `running`;
 * 2. while the turn has calls of an assistant message without results, dispatch them in the
 *    model's order (./call-dispatcher.ts); a pending approval makes the turn `waiting`;
 * 3. once every call has its result, the results are stored as one user message and the model
 *    is called again; its response (assistant message + its calls) is stored in one
 *    transaction before any call is dispatched;
 * 4. a response without calls (or a limit) decides the reply: stored first (`replying`), then
 *    posted, then `done`. A start finds `replying` turns and posts their reply again.
 */
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { AuditSink } from '../audit/types.ts';
import type { ApprovalGate } from '../human/approval-gate.ts';
import { ModelError, errorMessage } from '../errors.ts';
import { taintSource, threadTaint } from '../human/taint.ts';
import type { TaintSource } from '../human/types.ts';
import { faultPoint } from '../fault-point.ts';
import type { Message, Model, TextBlock, ToolResultBlock, ToolUseBlock } from '../llm/types.ts';
import type { SkillRegistry } from '../skills/skill-registry.ts';
import { isStateFailure } from '../state/database.ts';
import { historyWindow } from '../state/session-store.ts';
import type { SessionStore } from '../state/session-store.ts';
import { newCallRecords } from '../state/turn-store.ts';
import type { CallRecord, NewCall, TurnRecord, TurnStore } from '../state/turn-store.ts';
import type { Transact } from '../state/transactor.ts';
import { CallDispatcher, TOOL_LIMIT_RESULT_PREFIX } from './call-dispatcher.ts';
import { repairHistory } from './history.ts';
import { estimateTokens, fitToBudget } from './context-budget.ts';
import { stripToolMarkup } from './tool-markup.ts';
import type { RoutedCall, ToolCallRouter } from './tool-call-router.ts';
import { decodeTurn, encodeTurn } from './turn-codec.ts';
import type { Adapter, Turn } from './types.ts';

/** A commit a restart redoes safely: it does not wait for the disk (see CommitOptions). */
const NO_SYNC = { sync: false } as const;
/** Stands in for a tool name from the model that carried a secret (no registered tool has it: theirs are `skill__tool`). */
export const REDACTED_TOOL_NAME = 'tool_name_redacted';
/** How many times a response cut at max_tokens in the middle of a tool call is answered. */
const MAX_CUT_RECOVERIES = 2;
/** A message older than this when it arrives is handed to the model with a note of its age. */
const STALE_AFTER_MS = 10 * 60 * 1000;

/** A model response whose calls are dispatched before it is stored (see TurnRunner.#deferResponse). */
interface FreshResponse {
  /** The turn as it is once the response is stored. */
  record: TurnRecord;
  /** Its calls as they are once stored. */
  calls: CallRecord[];
  /** Inside a transaction: store the response, unless it is stored already. */
  storeIfMissing(): void;
  /** Outside one: store it in a commit of its own unless it is stored; the messages it appended to the session. */
  commit(): Message[];
}

/** How a turn ended, for callers and tests. */
export type TurnStatus = 'answered' | 'iteration_limit' | 'tool_call_limit' | 'token_limit' | 'model_error' | 'internal_error' | 'refused';

/** What a turn ended with. */
export interface TurnResult {
  reply: string;
  status: TurnStatus;
}

/** Where a step left a turn. */
export type StepResult = { kind: 'finished'; result: TurnResult } | { kind: 'waiting' } | { kind: 'queued' } | { kind: 'paused' };

/** What a {@link TurnRunner} works with. */
export interface TurnRunnerOptions {
  model: Model;
  gate: ApprovalGate;
  audit: AuditSink;
  registry: SkillRegistry;
  sessions: SessionStore;
  turns: TurnStore;
  router: ToolCallRouter;
  transact: Transact;
  logger: Logger;
  maxIterations: number;
  maxToolCallsPerTurn: number;
  maxTokensPerTurn: number;
  maxTokens: number;
  maxHistoryMessages: number;
  /** `agent.context_budget_tokens`: older whole turns are left out of a request beyond it. */
  contextBudgetTokens: number;
  systemPrompt(): string[];
  redact(text: string): string;
  /** Redacts every string (keys too) in a value: tool_use input stored in the session. */
  redactDeep<T>(value: T): T;
  now(): number;
}

/** Runs steps of durable turns. */
export class TurnRunner {
  readonly #o: TurnRunnerOptions;
  readonly #calls: CallDispatcher;
  /** The reply this process has posted for a turn not yet marked done, by turn id (see #post). */
  readonly #posted = new Map<string, string>();

  constructor(options: TurnRunnerOptions) {
    this.#o = options;
    this.#calls = new CallDispatcher({ ...options });
  }

  /**
   * Carry the turn on as far as it can go now. Never throws for model or tool failures: those
   * end the turn with a reply that says what happened.
   * @param isStopping Checked before each model call: true leaves the turn where it is, for
   *   the next start.
   */
  async step(id: string, adapter: Adapter, signal: AbortSignal | undefined, isStopping: () => boolean): Promise<StepResult> {
    const { turns } = this.#o;
    let record: TurnRecord | undefined;
    let turn: Turn;
    try {
      record = turns.get(id);
      if (record === undefined) throw new Error(`no turn ${id}`);
      if (record.state === 'done') return { kind: 'finished', result: { reply: record.reply ?? '', status: (record.status ?? 'answered') as TurnStatus } };
      turn = decodeTurn(id, record.turnJson);
    } catch (err) {
      // An unreadable row cannot be answered (we do not even know where): take it out of its
      // thread's queue so it blocks nothing, keep the row for inspection, and say so loudly.
      this.#o.logger.error({ turn_id: id, err: errorMessage(err), reason: 'unreadable row' }, 'turn.quarantined');
      turns.quarantine(id);
      return { kind: 'finished', result: { reply: '', status: 'internal_error' } };
    }
    const log = this.#o.logger.child({ turn_id: id, session: record.sessionKey, user: turn.user });
    if (record.state === 'replying') return this.#post(record, turn, adapter, log);
    if (record.state === 'accepted') {
      if (turns.listUnfinishedIdsInSession(record.sessionKey)[0] !== id) return { kind: 'queued' };
      turn = await this.#start(record, turn, adapter, log);
      record = turns.get(id)!;
    }
    // Whether the model has answered this turn: stored counters, or a response this step received
    // (stored only with its calls' first commit, so an error before that leaves the counter at 0).
    const progress = { responded: false };
    const neverAnswered = (): boolean => !progress.responded && turns.get(id)?.iterations === 0;
    try {
      return await this.#loop(record, turn, adapter, log, signal, isStopping, progress);
    } catch (err) {
      if (isStopping()) {
        // Aborted by shutdown: the turn stays where its rows are and carries on at the next start.
        log.warn({ err: errorMessage(err) }, 'turn.paused');
        return { kind: 'paused' };
      }
      // A state write failed (a full disk, a failed sync, the database busy): every commit is
      // whole, so the turn's rows are a point it can carry on from, as after a crash. The
      // engine tries the step again later; ending the turn here would leave a call that ran
      // without its outcome, or a recorded result that never reaches the thread.
      if (isStateFailure(err)) throw err;
      let result: TurnResult;
      if (err instanceof ModelError) {
        log.error({ status: err.status, err: err.message }, 'turn.model_failed');
        result = { reply: `Sorry, I could not finish: ${err.message}`, status: 'model_error' };
        // A message the model never accepted is kept on record, but it must not make every
        // later turn of this thread fail too.
        if (neverAnswered()) this.#o.sessions.excludeTurn(id);
      } else {
        log.error({ err: errorMessage(err), stack: err instanceof Error ? err.stack : undefined }, 'turn.failed');
        result = { reply: 'Sorry, something went wrong inside mithai while handling this; the error is in the logs.', status: 'internal_error' };
        if (neverAnswered()) this.#o.sessions.excludeTurn(id);
      }
      return this.#finish(turns.get(id) ?? record, turn, adapter, log, result);
    }
  }

  /**
   * Answer a turn whose steps keep failing (state writes) with a plain error, so its thread is
   * never left silent and the turns queued behind it can run. Best effort.
   */
  async giveUp(id: string, adapter: Adapter): Promise<StepResult> {
    const result: TurnResult = { reply: 'Sorry, I could not carry on with this: mithai kept failing to save its progress. The error is in the logs.', status: 'internal_error' };
    try {
      const record = this.#o.turns.get(id);
      if (record === undefined) return { kind: 'paused' };
      const turn = decodeTurn(id, record.turnJson);
      return await this.#finish(record, turn, adapter, this.#o.logger.child({ turn_id: id, session: record.sessionKey }), result);
    } catch (err) {
      this.#o.logger.error({ turn_id: id, err: errorMessage(err) }, 'turn.give_up_failed');
      try {
        this.#o.turns.quarantine(id);
      } catch {
        // The database refuses even this; the next start tries the turn again.
      }
      return { kind: 'finished', result };
    }
  }

  /** The turn starts: enrich it, store its user message, mark it running. */
  async #start(record: TurnRecord, given: Turn, adapter: Adapter, log: Logger): Promise<Turn> {
    let turn = given;
    if (adapter.prepareTurn) {
      try {
        turn = await adapter.prepareTurn(given);
      } catch (err) {
        log.warn({ err: errorMessage(err) }, 'turn.prepare_failed');
      }
    }
    const userMessage: Message = { role: 'user', content: [{ type: 'text', text: this.#o.redact(this.#userText(turn)) }] };
    // Without waiting for the disk: a power loss that undoes it leaves the turn `accepted`, and
    // the next start begins it again.
    this.#o.transact(() => {
      if (turn.hasUntrustedContext) this.#o.sessions.markTainted(record.sessionKey, threadTaint(turn.untrustedSources ?? [], this.#o.redact));
      this.#o.sessions.append(record.sessionKey, [userMessage], record.id);
      this.#o.turns.update(record.id, 'running', { turnJson: encodeTurn(turn, this.#o.redact) });
    }, NO_SYNC);
    log.info('turn.started');
    return turn;
  }

  async #loop(initial: TurnRecord, turn: Turn, adapter: Adapter, log: Logger, signal: AbortSignal | undefined, isStopping: () => boolean, progress: { responded: boolean }): Promise<StepResult> {
    const { turns, sessions, model } = this.#o;
    const id = initial.id;
    const key = initial.sessionKey;
    let lastText = '';
    // Once per step, not per model call: MEMORY.md is read from disk, and an unchanged prefix
    // within a turn is what prompt caching needs anyway.
    let system: string[] | undefined;
    let fixedTokens: number | undefined;
    // The session's history as sessions.load returns it: read once per step, then kept up to
    // date with what this step stores (nothing else appends to a session while its lock is
    // held), rather than read and parsed again before every model call.
    let window: Message[] | undefined;
    const historyLimit = this.#o.maxHistoryMessages;
    const remember = (appended: readonly Message[]): void => {
      if (window !== undefined) window = historyWindow([...window, ...appended], historyLimit);
    };
    const tools = this.#o.registry.modelTools();
    // The model response just received, not stored yet: its calls are dispatched from memory,
    // and the first commit of that pass stores it (see #deferResponse).
    let fresh: FreshResponse | undefined;
    for (;;) {
      let record = fresh?.record ?? turns.get(id)!;
      const calls = fresh?.calls ?? turns.listCalls(id);
      const unstored = fresh;
      fresh = undefined;
      if (calls.length > 0) {
        const dispatched = await this.#calls.dispatch(record, turn, calls, adapter, signal, isStopping, unstored?.storeIfMissing);
        // Stored by now unless no call of the pass committed (a shutdown before the first call,
        // a cut response, commits that failed): then on its own, before anything reads its rows.
        if (unstored) remember(unstored.commit());
        const { deferred } = dispatched;
        if (dispatched.paused || dispatched.blocked) this.#calls.commitDeferred(deferred.splice(0));
        if (dispatched.paused) return { kind: 'paused' };
        if (dispatched.blocked) {
          turns.update(id, 'waiting');
          log.info({ reason: 'waiting for an approval' }, 'turn.blocked');
          return { kind: 'waiting' };
        }
        // Every tool_use gets exactly one result, in order: from its row, else from this pass
        // (its row could not be written), else a plain "no result was recorded" — never null.
        const answered = turns.listCalls(id);
        const results = answered.map((c) => resultOf(c, dispatched.results.get(c.position)?.result));
        // Untrusted content in any result taints the session in the same transaction that puts
        // it into the history (also when the call's own row could not be written).
        const taint = answered.flatMap((c) => callTaint(c, dispatched.results.get(c.position), this.#o.redact));
        const toolLimitHit = dispatched.limitHit || results.some((r) => r.is_error === true && r.content.startsWith(TOOL_LIMIT_RESULT_PREFIX));
        // The last call's answer and outcome record commit here too, with the results, in one
        // commit that does not wait for the disk: a power loss that undoes it leaves that call
        // `executing` (the next start answers it `unknown`, never runs it again), and the audit
        // log holds its outcome record back from the file until a commit that waits covers it.
        try {
          remember(this.#o.transact(() => {
            // Each in its own savepoint: one that fails is logged and leaves the results be.
            this.#calls.commitDeferred(deferred);
            if (taint.length > 0) sessions.markTainted(key, taint);
            const appended = sessions.append(key, [{ role: 'user', content: results }], id);
            turns.clearCalls(id);
            turns.update(id, 'running');
            return appended;
          }, NO_SYNC));
        } catch (err) {
          // The call's own answer and outcome must not be lost with the results.
          this.#calls.commitDeferred(deferred);
          throw err;
        }
        record = turns.get(id)!;
        const limit = this.#limitReached(record, toolLimitHit, lastText);
        if (limit) return this.#finish(record, turn, adapter, log, limit);
      } else if (record.state === 'waiting') {
        turns.update(id, 'running');
      }
      if (record.iterations >= this.#o.maxIterations) {
        return this.#finish(record, turn, adapter, log, {
          reply: `${lastText ? `${lastText}\n\n` : ''}I stopped after ${this.#o.maxIterations} model calls (agent.max_iterations). Ask me to continue if there is more to do.`,
          status: 'iteration_limit',
        });
      }
      if (isStopping()) return { kind: 'paused' };
      system ??= this.#o.systemPrompt();
      fixedTokens ??= estimateTokens(system) + estimateTokens(tools);
      window ??= sessions.load(key, historyLimit).messages;
      const fitted = fitToBudget(repairHistory(window), this.#o.contextBudgetTokens, fixedTokens);
      if (fitted.left > 0) log.debug({ left_out: fitted.left, budget: this.#o.contextBudgetTokens }, 'turn.history_trimmed');
      const history = fitted.messages;
      const response = await model.complete({ system, messages: history, tools, maxTokens: this.#o.maxTokens }, signal);
      progress.responded = true;
      // A tool name is the model's text too: one that carries a secret is replaced (it names no
      // tool of ours, so the call is answered as unknown) before it is stored or sent back.
      const content = withUniqueCallIds(
        response.content
          .map((b) => (b.type === 'text' ? { ...b, text: stripToolMarkup(b.text) } : b.type === 'tool_use' && this.#o.redact(b.name) !== b.name ? { ...b, name: REDACTED_TOOL_NAME } : b))
          .filter((b) => b.type !== 'text' || b.text !== ''),
        window,
        log,
      );
      const text = content.filter((b): b is TextBlock => b.type === 'text').map((b) => b.text).join('\n\n').trim();
      if (text) lastText = text;
      const uses = content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
      const isCut = response.stopReason === 'max_tokens' && uses.length > 0;
      const counters = {
        iterations: record.iterations + 1,
        tokens: record.tokens + response.usage.inputTokens + response.usage.outputTokens,
        cutRecoveries: record.cutRecoveries + (isCut ? 1 : 0),
      };
      // The assistant message and its calls commit together, in the first commit of their
      // dispatch (a call's decision, its approval, or its answer), so before any tool runs or
      // anyone is asked: a crash after that resumes with these calls, never with a fresh model
      // call; a crash before it asks the model again (nothing of the response happened yet).
      const newCalls: NewCall[] = uses.map((u) => {
        const inputJson = JSON.stringify(u.input ?? {});
        // A call not run yet is stored with its exact input (it runs with exactly that, after a
        // restart too, and an approval keeps it until the call settles), so one whose input
        // carries a secret value is answered at once and stored redacted: it never runs, and
        // the value never reaches the disk. The model never had it from us (all it reads is
        // redacted); tools take credentials from their config.
        const redacted = this.#o.redact(inputJson);
        const stored = redacted === inputJson ? inputJson : isJson(redacted) ? redacted : '{"redacted":true}';
        // The last tool_use of a cut response may carry half-written input: never run it.
        if (isCut) return { callId: u.id, name: u.name, inputJson: stored, state: 'answered' as const, resultJson: JSON.stringify(cutResult(u)) };
        if (stored !== inputJson) {
          log.warn({ call_id: u.id, tool: u.name }, 'tool.call_refused_secret');
          return { callId: u.id, name: u.name, inputJson: stored, state: 'answered' as const, resultJson: JSON.stringify(secretInputResult(u)) };
        }
        return { callId: u.id, name: u.name, inputJson };
      });
      const storeResponse = (): Message[] => {
        // Stored as it will be sent back to the model, redacted (the calls run from their own
        // rows, with the input exactly as the model wrote it).
        const appended = content.length > 0 ? sessions.append(key, [{ role: 'assistant', content: content.map((b) => (b.type === 'text' ? { ...b, text: this.#o.redact(b.text) } : { ...b, input: this.#o.redactDeep(b.input) })) }], id) : [];
        turns.setCalls(id, newCalls);
        turns.update(id, 'running', counters);
        return appended;
      };
      log.debug({ iteration: counters.iterations, stop_reason: response.stopReason, tool_calls: uses.length, usage: { input_tokens: response.usage.inputTokens, output_tokens: response.usage.outputTokens, cache_read_tokens: response.usage.cacheReadTokens, cache_write_tokens: response.usage.cacheWriteTokens } }, 'model.responded');
      if (isCut) log.warn({ recoveries: counters.cutRecoveries }, 'model.response_cut');
      let ending: TurnResult | undefined;
      if (response.stopReason === 'refusal') ending = { reply: lastText || 'The model declined to answer this request.', status: 'refused' };
      else if (uses.length === 0) ending = { reply: lastText || 'I have nothing to add.', status: 'answered' };
      // A response that ends the turn commits with the reply it decides (one commit, not two).
      if (ending) return this.#finish(record, turn, adapter, log, ending, storeResponse);
      faultPoint('model.responded');
      fresh = this.#deferResponse(record, newCalls, counters, storeResponse);
    }
  }

  /**
   * A model response with calls, to be stored by the first commit of their dispatch: the turn
   * and its calls as they will be once it is, and the write that stores it. Whether it is
   * stored is read from the database (the turn has call rows once it is), so a commit that
   * rolls back leaves it for the next one.
   */
  #deferResponse(record: TurnRecord, newCalls: readonly NewCall[], counters: Required<Pick<TurnRecord, 'iterations' | 'tokens' | 'cutRecoveries'>>, store: () => Message[]): FreshResponse {
    const { turns } = this.#o;
    const id = record.id;
    let appended: Message[] = [];
    // Known committed once commit() has returned: later writes of the pass need not read again.
    let isCommitted = false;
    const storeIfMissing = (): void => {
      if (!isCommitted && !turns.hasCalls(id)) appended = store();
    };
    return {
      record: { ...record, ...counters, state: 'running' },
      calls: newCallRecords(id, newCalls),
      storeIfMissing,
      commit: () => {
        if (!turns.hasCalls(id)) this.#o.transact(storeIfMissing, NO_SYNC);
        isCommitted = true;
        return appended;
      },
    };
  }

  /** The limit a turn has reached after its calls were answered, if any. */
  #limitReached(record: TurnRecord, toolLimitHit: boolean, lastText: string): TurnResult | undefined {
    const prefix = lastText ? `${lastText}\n\n` : '';
    if (toolLimitHit) {
      return { reply: `${prefix}I stopped: this turn reached its limit of ${this.#o.maxToolCallsPerTurn} tool calls (agent.max_tool_calls_per_turn). Ask me to continue if there is more to do.`, status: 'tool_call_limit' };
    }
    if (record.tokens >= this.#o.maxTokensPerTurn) {
      return { reply: `${prefix}I stopped: this turn used ${record.tokens} tokens, over its budget of ${this.#o.maxTokensPerTurn} (agent.max_tokens_per_turn).`, status: 'token_limit' };
    }
    if (record.cutRecoveries > MAX_CUT_RECOVERIES) {
      return { reply: `${prefix}I stopped: my answers kept getting cut off at the token limit (llm.max_tokens = ${this.#o.maxTokens}).`, status: 'iteration_limit' };
    }
    return undefined;
  }

  /**
   * The reply is decided: store it first, then post it (a start re-posts a `replying` turn).
   * @param withResponse Stores the model response that decided the reply, in the same commit.
   */
  async #finish(record: TurnRecord, turn: Turn, adapter: Adapter, log: Logger, result: TurnResult, withResponse?: () => void): Promise<StepResult> {
    const reply = this.#o.redact(result.reply);
    // Without waiting for the disk: a power loss that undoes it asks the model for the reply again.
    this.#o.transact(() => {
      withResponse?.();
      this.#o.turns.update(record.id, 'replying', { status: result.status, reply });
    }, NO_SYNC);
    if (withResponse) faultPoint('model.responded');
    // Every record is written after its commit; this catches up one whose write failed. (The
    // last call's outcome may still be held back, committed without waiting for the disk: it
    // reaches the file with the next synced commit or within the audit sync delay.)
    try {
      this.#o.audit.catchUp();
    } catch (err) {
      log.error({ err: errorMessage(err) }, 'audit.write_failed');
    }
    faultPoint('reply.decided');
    return this.#post({ ...record, status: result.status, reply }, turn, adapter, log);
  }

  async #post(record: TurnRecord, turn: Turn, adapter: Adapter, log: Logger): Promise<StepResult> {
    const result: TurnResult = { reply: record.reply ?? '', status: (record.status ?? 'answered') as TurnStatus };
    // Posted once per process: when the commit below fails (a full disk), the step is tried
    // again from `replying`, and must not post the same reply each time.
    if (this.#posted.get(record.id) !== result.reply) {
      try {
        await adapter.reply(turn, result.reply);
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'turn.reply_failed');
      }
      this.#posted.set(record.id, result.reply);
    }
    faultPoint('reply.posted');
    // Without waiting for the disk: a power loss that undoes it posts the stored reply again.
    this.#o.transact(() => this.#o.turns.update(record.id, 'done'), NO_SYNC);
    this.#posted.delete(record.id);
    try {
      adapter.turnFinished?.(turn, result.status);
    } catch (err) {
      log.warn({ err: errorMessage(err) }, 'adapter.turn_finished_failed');
    }
    log.info({ status: result.status }, 'turn.finished');
    return { kind: 'finished', result };
  }

  #userText(turn: Turn): string {
    const parts: string[] = [];
    const now = this.#o.now();
    if (turn.sentAt && now - turn.sentAt.getTime() > STALE_AFTER_MS) {
      const minutes = Math.round((now - turn.sentAt.getTime()) / 60000);
      parts.push(`[Delivery note: this message was sent ${minutes} minutes ago and is only reaching you now. Check whether it is still relevant before acting.]`);
    }
    for (const block of turn.context ?? []) parts.push(block);
    parts.push(`Message from ${turn.user}:\n${turn.text.trim() || '(empty message)'}`);
    return parts.join('\n\n');
  }
}

function resultOf(call: CallRecord, fromThisPass: ToolResultBlock | undefined): ToolResultBlock {
  if (call.resultJson !== null) {
    try {
      const parsed = JSON.parse(call.resultJson) as ToolResultBlock | null;
      if (parsed && parsed.type === 'tool_result' && parsed.tool_use_id === call.callId) return parsed;
    } catch {
      // An unreadable stored result is treated as none.
    }
  }
  return fromThisPass ?? {
    type: 'tool_result',
    tool_use_id: call.callId,
    is_error: true,
    content: `${call.name}: no result was recorded for this call (a state write failed). Check whether it took effect before calling it again.`,
  };
}

/**
 * Where an answered call's untrusted content came from, if it brought any: from this pass's
 * result, else from its row (the tool's name; an error result is an error message).
 */
function callTaint(call: CallRecord, fromThisPass: RoutedCall | undefined, redact: (text: string) => string): TaintSource[] {
  if (fromThisPass?.tainted === true && fromThisPass.taintSource !== undefined) return [fromThisPass.taintSource];
  if (!call.tainted && fromThisPass?.tainted !== true) return [];
  let isError = false;
  try {
    isError = call.resultJson !== null && (JSON.parse(call.resultJson) as { is_error?: unknown } | null)?.is_error === true;
  } catch {
    // An unreadable result still tainted the session; call it output.
  }
  return [taintSource(isError ? 'tool_error' : 'tool_output', call.name, redact)];
}

/**
 * `content` with every tool_use id that the history (or an earlier block) already has replaced
 * by a fresh one. Ids are the model's text: one that repeats an earlier call's would make the
 * history invalid for the API (two results for one id) and collide with that call's approval.
 */
function withUniqueCallIds<B extends { type: string }>(content: B[], history: readonly Message[], log: Logger): B[] {
  if (!content.some((b) => b.type === 'tool_use')) return content;
  const taken = new Set<string>();
  for (const message of history) {
    if (message.role !== 'assistant' || !Array.isArray(message.content)) continue;
    for (const block of message.content) if (block.type === 'tool_use') taken.add(block.id);
  }
  return content.map((b) => {
    if (b.type !== 'tool_use') return b;
    const use = b as B & ToolUseBlock;
    if (!taken.has(use.id)) {
      taken.add(use.id);
      return b;
    }
    const id = `toolu_${randomBytes(12).toString('base64url')}`;
    log.warn({ repeated: use.id, call_id: id }, 'model.call_id_repeated');
    taken.add(id);
    return { ...use, id };
  });
}

/** Whether redaction left `text` valid JSON (a secret inside a string does; one that is a whole number or key's escape may not). */
function isJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function secretInputResult(use: ToolUseBlock): ToolResultBlock {
  return {
    type: 'tool_result',
    tool_use_id: use.id,
    is_error: true,
    content: `Not run: the input of ${use.name} carries a secret value (a credential or token), and a call's input is stored as it is until it runs. Tools read credentials from their own config; never put one in a call.`,
  };
}

function cutResult(use: ToolUseBlock): ToolResultBlock {
  return {
    type: 'tool_result',
    tool_use_id: use.id,
    is_error: true,
    content: 'Not run: your response hit max_tokens before this call was complete. Retry with a shorter call (smaller input) if it is still needed.',
  };
}
