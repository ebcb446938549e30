/**
 * The text a tool's output becomes before the model reads it: redacted first (so a secret cut
 * in half by truncation is still caught), then truncated with a note, then wrapped as untrusted
 * when the tool brings outside content (so the wrapper itself is never cut off).
 */
import { wrapUntrusted } from '../security/untrusted.ts';

export interface RenderOptions {
  redact(text: string): string;
  maxChars: number;
  untrusted?: { source: string; nonce: string };
}

/** Redact, truncate and (optionally) wrap a tool's output. */
export function renderToolResult(output: string, options: RenderOptions): string {
  let text = options.redact(output);
  if (text.length > options.maxChars) {
    const dropped = text.length - options.maxChars;
    text = `${text.slice(0, options.maxChars)}\n[truncated: ${dropped} more characters not shown (agent.max_tool_result_chars = ${options.maxChars})]`;
  }
  if (options.untrusted) text = wrapUntrusted(text, options.untrusted.source, options.untrusted.nonce);
  return text;
}
