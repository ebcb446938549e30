/**
 * Where in a skill module a definition error is: `defineSkill` checks the module's values, not
 * its text, so it knows the tool but not the line. This finds the line in the source, so
 * `mithai skill validate` can say `tools.ts:14` instead of only the file.
 */
import { readFileSync } from 'node:fs';

/**
 * The 1-based line of what `message` (a SkillError message from defineSkill/defineTool or the
 * Python-shape loader) is about in the module at `modulePath`, or undefined when it cannot tell.
 * A bad `human` value is found by the value itself; otherwise the tool's key (`name:`).
 */
export function locateInSource(modulePath: string, message: string): number | undefined {
  let text: string;
  try {
    text = readFileSync(modulePath, 'utf8');
  } catch {
    return undefined;
  }
  const lines = text.split('\n');
  const badHuman = /human must be one of [^,]+(?:, [^,(]+)* \(or omitted for approve\), got "([^"]*)"/.exec(message) ?? /human[^"]*got "([^"]*)"/.exec(message);
  if (badHuman !== null) {
    const value = escape(badHuman[1]!);
    const at = lines.findIndex((line) => new RegExp(`\\bhuman['"]?\\s*:\\s*['"\`]${value}['"\`]`).test(line));
    if (at !== -1) return at + 1;
  }
  const tool = /^tool "([^"]+)"/.exec(message) ?? /tool "([^"]+)"/.exec(message);
  if (tool !== null) {
    const name = escape(tool[1]!);
    const at = lines.findIndex((line) => new RegExp(`(^|[\\s{,])(['"]?)${name}\\2\\s*:|name['"]?\\s*:\\s*['"]${name}['"]`).test(line));
    if (at !== -1) return at + 1;
  }
  return undefined;
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
