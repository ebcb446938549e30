/**
 * Reading a `.env` file the way dotenv does, for the checks dotenv does not make: a variable set
 * twice (dotenv keeps the last one silently, so the one an operator just edited may not be the
 * one in effect). Names and line numbers only; values are never returned.
 */

/** A variable set on more than one line. */
export interface DuplicateEnvKey {
  name: string;
  /** 1-based line numbers, in order; the last one wins. */
  lines: number[];
}

const ASSIGNMENT = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*[=:]\s*(.*)$/;

/** The variables a `.env` text sets more than once. Multi-line quoted values are skipped over. */
export function duplicateEnvKeys(text: string): DuplicateEnvKey[] {
  const seen = new Map<string, number[]>();
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const match = ASSIGNMENT.exec(lines[i]!);
    if (match === null) continue;
    const [, name, rest] = match as unknown as [string, string, string];
    seen.set(name, [...(seen.get(name) ?? []), i + 1]);
    // A quoted value that does not close on its line goes on until its closing quote.
    const quote = rest[0];
    if ((quote === '"' || quote === "'" || quote === '`') && !closesOnLine(rest.slice(1), quote)) {
      while (i + 1 < lines.length && !lines[i + 1]!.includes(quote)) i++;
      i++;
    }
  }
  return [...seen].filter(([, at]) => at.length > 1).map(([name, at]) => ({ name, lines: at }));
}

function closesOnLine(afterOpening: string, quote: string): boolean {
  return afterOpening.includes(quote);
}
