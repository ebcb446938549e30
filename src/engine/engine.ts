/**
 * The agent loop: one turn in, one reply out. Thin by design; each step lives in its own module
 * (history repair, system prompt, tool routing). Every message is persisted as soon as it
 * exists, so a crash mid-turn leaves a history that `repairHistory` can make valid again.
 */
import type { Logger } from 'pino';
import { ModelError, errorMessage } from '../errors.ts';
import type { Message, Model, TextBlock, ToolResultBlock, ToolUseBlock } from '../llm/types.ts';
import type { SkillRegistry } from '../skills/skill-registry.ts';
import type { SessionStore } from '../state/session-store.ts';
import { newNonce } from '../security/untrusted.ts';
import { KeyedMutex } from './keyed-mutex.ts';
import { repairHistory } from './history.ts';
import { sessionKey } from './session-key.ts';
import { stripToolMarkup } from './tool-markup.ts';
import type { ToolCallRouter } from './tool-call-router.ts';
import type { Adapter, Turn } from './types.ts';

/** How many times a response cut at max_tokens in the middle of a tool call is answered. */
const MAX_CUT_RECOVERIES = 2;
/** A message older than this when it arrives is handed to the model with a note of its age. */
const STALE_AFTER_MS = 10 * 60 * 1000;

export interface EngineOptions {
  model: Model;
  registry: SkillRegistry;
  sessions: SessionStore;
  router: ToolCallRouter;
  logger: Logger;
  maxIterations: number;
  /** Tool calls one turn may make; calls past it are answered "not run" and the turn ends. */
  maxToolCallsPerTurn: number;
  /** Input + output tokens one turn may spend across its model calls. */
  maxTokensPerTurn: number;
  maxTokens: number;
  maxHistoryMessages: number;
  /** The system prompt parts, built once per turn (MEMORY.md may change between turns). */
  systemPrompt(): string[];
  redact(text: string): string;
  now?: () => number;
}

/** What a turn ended with, for callers and tests. */
export interface TurnResult {
  reply: string;
  status: 'answered' | 'iteration_limit' | 'tool_call_limit' | 'token_limit' | 'model_error' | 'internal_error' | 'refused';
}

export class Engine {
  readonly #o: EngineOptions;
  readonly #locks = new KeyedMutex();

  constructor(options: EngineOptions) {
    this.#o = options;
  }

  /**
   * Handle one turn and post its reply through the adapter. Turns on the same conversation run
   * one at a time, in arrival order; other conversations run in parallel. Never throws: every
   * failure ends in a reply that says what happened.
   */
  async handleTurn(turn: Turn, adapter: Adapter, signal?: AbortSignal): Promise<TurnResult> {
    const key = sessionKey(turn.conversation);
    return this.#locks.run(key, async () => {
      const log = this.#o.logger.child({ session: key, user: turn.user });
      log.info('turn started');
      let result: TurnResult;
      try {
        result = await this.#loop(turn, key, adapter, log, signal);
      } catch (err) {
        if (err instanceof ModelError) {
          log.error({ status: err.status, err: err.message }, 'model call failed');
          result = { reply: `Sorry, I could not finish: ${err.message}`, status: 'model_error' };
        } else {
          log.error({ err: errorMessage(err), stack: err instanceof Error ? err.stack : undefined }, 'turn failed with an internal error');
          result = { reply: 'Sorry, something went wrong inside mithai while handling this; the error is in the logs.', status: 'internal_error' };
        }
      }
      const reply = this.#o.redact(result.reply);
      try {
        await adapter.reply(turn, reply);
      } catch (err) {
        log.error({ err: errorMessage(err) }, 'could not post the reply');
      }
      log.info({ status: result.status }, 'turn finished');
      return { ...result, reply };
    });
  }

  async #loop(turn: Turn, key: string, adapter: Adapter, log: Logger, signal?: AbortSignal): Promise<TurnResult> {
    const { sessions, model, router } = this.#o;
    const stored = sessions.load(key, this.#o.maxHistoryMessages);
    let tainted = stored.tainted;
    if (turn.hasUntrustedContext && !tainted) {
      sessions.markTainted(key);
      tainted = true;
    }
    const userMessage: Message = { role: 'user', content: [{ type: 'text', text: this.#userText(turn) }] };
    sessions.append(key, [userMessage]);
    const history = repairHistory([...stored.messages, userMessage]);
    const nonce = newNonce();
    // Once per turn, not per model call: MEMORY.md is read from disk, and an unchanged prefix
    // within a turn is what prompt caching needs anyway.
    const system = this.#o.systemPrompt();
    const tools = this.#o.registry.modelTools();
    let cutRecoveries = 0;
    let lastText = '';
    let toolCalls = 0;
    let tokens = 0;
    let hitToolLimit = false;

    for (let iteration = 0; iteration < this.#o.maxIterations; iteration++) {
      if (signal?.aborted) return { reply: 'This turn was cancelled before it finished.', status: 'internal_error' };
      const response = await model.complete(
        { system, messages: history, tools, maxTokens: this.#o.maxTokens },
        signal,
      );
      tokens += response.usage.inputTokens + response.usage.outputTokens;
      const content = response.content.map((b) => (b.type === 'text' ? { ...b, text: stripToolMarkup(b.text) } : b)).filter((b) => b.type !== 'text' || b.text !== '');
      const text = content.filter((b): b is TextBlock => b.type === 'text').map((b) => b.text).join('\n\n').trim();
      if (text) lastText = text;
      const uses = content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
      if (content.length > 0) {
        const assistant: Message = { role: 'assistant', content };
        sessions.append(key, [assistant]);
        history.push(assistant);
      }
      log.debug({ iteration, stop_reason: response.stopReason, tool_calls: uses.length, usage: response.usage }, 'model responded');

      if (response.stopReason === 'refusal') return { reply: lastText || 'The model declined to answer this request.', status: 'refused' };
      if (uses.length === 0) return { reply: lastText || 'I have nothing to add.', status: 'answered' };

      let results: ToolResultBlock[];
      if (response.stopReason === 'max_tokens') {
        // The last tool_use may carry half-written input: never run anything from a cut response.
        cutRecoveries++;
        results = uses.map((u) => ({
          type: 'tool_result',
          tool_use_id: u.id,
          is_error: true,
          content: 'Not run: your response hit max_tokens before this call was complete. Retry with a shorter call (smaller input) if it is still needed.',
        }));
        log.warn({ recoveries: cutRecoveries }, 'response cut at max_tokens with a tool call; answered without running it');
      } else {
        results = [];
        for (const use of uses) {
          if (toolCalls >= this.#o.maxToolCallsPerTurn) {
            // Past the budget nothing runs; every tool_use still gets its result so history stays valid.
            results.push({ type: 'tool_result', tool_use_id: use.id, is_error: true, content: `Not run: this turn reached its limit of ${this.#o.maxToolCallsPerTurn} tool calls (agent.max_tool_calls_per_turn).` });
            hitToolLimit = true;
            continue;
          }
          toolCalls++;
          const routed = await router.route(use, turn, adapter, { sessionKey: key, tainted, nonce, signal });
          results.push(routed.result);
          if (routed.tainted && !tainted) {
            // Untrusted content is in the context now: later auto calls need approval.
            sessions.markTainted(key);
            tainted = true;
          }
        }
      }
      const resultMessage: Message = { role: 'user', content: results };
      sessions.append(key, [resultMessage]);
      history.push(resultMessage);
      if (hitToolLimit) {
        log.warn({ tool_calls: toolCalls }, 'turn stopped at its tool-call limit');
        return { reply: `${lastText ? `${lastText}\n\n` : ''}I stopped: this turn reached its limit of ${this.#o.maxToolCallsPerTurn} tool calls (agent.max_tool_calls_per_turn). Ask me to continue if there is more to do.`, status: 'tool_call_limit' };
      }
      if (tokens >= this.#o.maxTokensPerTurn) {
        log.warn({ tokens }, 'turn stopped at its token budget');
        return { reply: `${lastText ? `${lastText}\n\n` : ''}I stopped: this turn used ${tokens} tokens, over its budget of ${this.#o.maxTokensPerTurn} (agent.max_tokens_per_turn).`, status: 'token_limit' };
      }
      if (cutRecoveries > MAX_CUT_RECOVERIES) {
        return { reply: `${lastText ? `${lastText}\n\n` : ''}I stopped: my answers kept getting cut off at the token limit (llm.max_tokens = ${this.#o.maxTokens}).`, status: 'iteration_limit' };
      }
    }
    return {
      reply: `${lastText ? `${lastText}\n\n` : ''}I stopped after ${this.#o.maxIterations} model calls (agent.max_iterations). Ask me to continue if there is more to do.`,
      status: 'iteration_limit',
    };
  }

  #userText(turn: Turn): string {
    const parts: string[] = [];
    const now = this.#o.now?.() ?? Date.now();
    if (turn.sentAt && now - turn.sentAt.getTime() > STALE_AFTER_MS) {
      const minutes = Math.round((now - turn.sentAt.getTime()) / 60000);
      parts.push(`[Delivery note: this message was sent ${minutes} minutes ago and is only reaching you now. Check whether it is still relevant before acting.]`);
    }
    for (const block of turn.context ?? []) parts.push(block);
    parts.push(`Message from ${turn.user}:\n${turn.text.trim() || '(empty message)'}`);
    return parts.join('\n\n');
  }
}
