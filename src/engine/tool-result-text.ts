/**
 * The text a tool's output becomes before the model reads it: redacted first (so a secret cut
 * in half by truncation is still caught), then truncated with a note, then wrapped as untrusted
 * when the tool brings outside content (so the wrapper itself is never cut off).
 *
 * Only a bounded window of the output is redacted (see redactThenCut), so a tool that prints
 * tens of megabytes costs about as much as one that prints `maxChars`.
 */
import { redactThenCut } from '../security/redact-then-cut.ts';
import { wrapUntrusted } from '../security/untrusted.ts';

export interface RenderOptions {
  redact(text: string): string;
  maxChars: number;
  untrusted?: { source: string; nonce: string };
}

/** Redact, truncate and (optionally) wrap a tool's output. */
export function renderToolResult(output: string, options: RenderOptions): string {
  const cut = redactThenCut(output, options.maxChars, (t) => options.redact(t));
  let text = cut.text;
  if (cut.isCut) {
    const more = `${cut.isExact ? '' : 'about '}${cut.omitted} more characters`;
    text = `${text}\n[truncated: ${more} not shown (agent.max_tool_result_chars = ${options.maxChars})]`;
  }
  if (options.untrusted) text = wrapUntrusted(text, options.untrusted.source, options.untrusted.nonce);
  return text;
}
