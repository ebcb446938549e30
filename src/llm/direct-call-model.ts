/**
 * A {@link Model} that is not a model: it asks for one given tool call, then answers with that
 * call's result. `mithai skill run` drives the real engine with it, so a tool run by hand goes
 * through exactly the path the model's calls take: validation, the policy, the approval gate,
 * the audit log, the time limit and redaction.
 *
 * Stateless on purpose: what it answers depends only on the request (has the call been
 * answered yet?), so a turn carried on after a restart gets the same answers.
 */
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

  async complete(request: ModelRequest): Promise<ModelResponse> {
    const answered = this.#answerIn(request);
    if (answered === undefined) {
      return { content: [{ type: 'tool_use', id: this.#callId, name: this.#tool, input: this.#input }], stopReason: 'tool_use', usage: NO_USAGE };
    }
    this.result = answered;
    return { content: [{ type: 'text', text: answered.content }], stopReason: 'end_turn', usage: NO_USAGE };
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
