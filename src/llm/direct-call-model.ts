/**
 * A {@link Model} that is not a model: it asks for one given tool call, then answers with that
 * call's result. `mithai skill run` drives the real engine with it, so a tool run by hand goes
 * through exactly the path the model's calls take: validation, the policy, the approval gate,
 * the audit log, the time limit and redaction.
 *
 * Stateless on purpose: what it answers depends only on the request (has the call been
 * answered yet?), so a turn carried on after a restart gets the same answers.
 *
 * It answers only its own turn: one whose messages carry its call id (the turn's text names
 * it, see {@link DirectCallModel.marker}, and then its tool_use does). The engine of a
 * `mithai skill run` process may be asked to carry on another terminal turn (an interrupted
 * run's or a chat's, when its approval expires or is decided while this process runs); that
 * turn must not get this call put into it, so such a request fails without calling anything.
 */
import { ModelError } from '../errors.ts';
import type { Model, ModelRequest, ModelResponse, ToolResultBlock } from './types.ts';

const NO_USAGE = { inputTokens: 0, outputTokens: 0 };

export class DirectCallModel implements Model {
  readonly #tool: string;
  readonly #input: unknown;
  readonly #callId: string;
  /** The call's result, once the engine has answered it. */
  result: ToolResultBlock | undefined;

  constructor(tool: string, input: unknown, callId: string) {
    this.#tool = tool;
    this.#input = input;
    this.#callId = callId;
  }

  /** Text the turn's message must contain, so that this model knows the turn as its own. */
  get marker(): string {
    return `(call ${this.#callId})`;
  }

  async complete(request: ModelRequest): Promise<ModelResponse> {
    if (!this.#isOwnTurn(request)) {
      throw new ModelError('this turn was not started by this `mithai skill run`, which calls no model; nothing was run for it', { isRetryable: false, code: 'direct_call_foreign_turn' });
    }
    const answered = this.#answerIn(request);
    if (answered === undefined) {
      return { content: [{ type: 'tool_use', id: this.#callId, name: this.#tool, input: this.#input }], stopReason: 'tool_use', usage: NO_USAGE };
    }
    this.result = answered;
    return { content: [{ type: 'text', text: answered.content }], stopReason: 'end_turn', usage: NO_USAGE };
  }

  #isOwnTurn(request: ModelRequest): boolean {
    for (const message of request.messages) {
      if (typeof message.content === 'string') {
        if (message.role === 'user' && message.content.includes(this.marker)) return true;
        continue;
      }
      for (const block of message.content) {
        if (message.role === 'user' && block.type === 'text' && block.text.includes(this.marker)) return true;
        if (message.role === 'assistant' && block.type === 'tool_use' && block.id === this.#callId) return true;
      }
    }
    return false;
  }

  #answerIn(request: ModelRequest): ToolResultBlock | undefined {
    for (const message of request.messages) {
      if (message.role !== 'user' || typeof message.content === 'string') continue;
      for (const block of message.content) {
        if (block.type === 'tool_result' && block.tool_use_id === this.#callId) return block;
      }
    }
    return undefined;
  }
}
