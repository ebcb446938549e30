/**
 * Models sometimes write tool-call markup as plain text (for example `<function_calls>` after a
 * denial). It must never reach a human as if it were an answer, nor look like a call that ran.
 */

// Above this size we do not run the block regexes at all (ReDoS guard); we only cut tags.
const MAX_SCAN = 200_000;

const BLOCK_PATTERNS: RegExp[] = [
  /<function_calls>[\s\S]*?(<\/function_calls>|$)/gi,
  /<(antml:)?invoke\b[\s\S]*?(<\/(antml:)?invoke>|$)/gi,
  /<tool_use>[\s\S]*?(<\/tool_use>|$)/gi,
  /<tool_call>[\s\S]*?(<\/tool_call>|$)/gi,
  /<function_results>[\s\S]*?(<\/function_results>|$)/gi,
];
const STRAY_TAGS = /<\/?(function_calls|function_results|(antml:)?invoke|(antml:)?parameter|tool_use|tool_call)\b[^>]*>/gi;

/** Remove tool-call markup written as text. Returns the cleaned, trimmed text. */
export function stripToolMarkup(text: string): string {
  let out = text;
  if (out.length <= MAX_SCAN) {
    for (const pattern of BLOCK_PATTERNS) out = out.replace(pattern, '');
  }
  out = out.replace(STRAY_TAGS, '');
  return out.replace(/\n{3,}/g, '\n\n').trim();
}
