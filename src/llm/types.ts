/**
 * The engine's own message types. They mirror the Anthropic Messages API shapes so the
 * mapping in `anthropic-model.ts` stays trivial, but nothing outside `llm/` imports the SDK.
 */

export interface TextBlock {
  type: 'text';
  text: string;
}

export interface ToolUseBlock {
  type: 'tool_use';
  /** The model's id for this call (`toolu_…`); tool_result blocks answer it by id. */
  id: string;
  name: string;
  input: unknown;
}

export interface ToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: string;
  is_error?: boolean;
}

export type ContentBlock = TextBlock | ToolUseBlock | ToolResultBlock;

export interface Message {
  role: 'user' | 'assistant';
  content: string | ContentBlock[];
}

/** A tool as the model sees it. `input_schema` is a JSON Schema object. */
export interface ModelTool {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
}

export interface ModelRequest {
  /** System prompt parts in order; the model client marks the stable prefix for caching. */
  readonly system: readonly string[];
  readonly messages: readonly Message[];
  readonly tools: readonly ModelTool[];
  readonly maxTokens: number;
}

export type StopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'pause_turn' | 'refusal';

export interface ModelResponse {
  content: Array<TextBlock | ToolUseBlock>;
  stopReason: StopReason | null;
  usage: { inputTokens: number; outputTokens: number; cacheReadTokens?: number; cacheWriteTokens?: number };
}

/** What the engine needs from a model provider. */
export interface Model {
  /**
   * Send one request. Retries transient failures itself. Must not change `request`: a turn
   * keeps its history between model calls, and the next call is sent the same message objects.
   * @throws ModelError when the API fails for good (after retries) or the answer is unusable.
   */
  complete(request: ModelRequest, signal?: AbortSignal): Promise<ModelResponse>;
}
