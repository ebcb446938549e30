/**
 * "Did you mean …?" for a mistyped name: the known name closest to it by edit distance, when
 * one is close enough to be a likely typo. Config errors use it for unknown keys
 * (`human.timeout_secs` → `timeout_seconds`), `mithai skill run` for unknown tools.
 */

/**
 * The known name nearest to `name`, or undefined when none is close: within an edit distance
 * of 2, or of a third of the name's length for longer names (`timeout_secs` is 3 edits from
 * `timeout_seconds`). A tie between equally near names suggests the first of them.
 *
 * @param name - the name that was not recognised.
 * @param known - the names that would have been; `name` itself is never suggested.
 * @returns the suggestion, or undefined.
 */
export function nearestName(name: string, known: Iterable<string>): string | undefined {
  const limit = Math.max(2, Math.floor(name.length / 3));
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of known) {
    if (candidate === name) continue;
    const d = editDistance(name.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [candidate, d];
  }
  // A distance as long as the name itself is a different word, not a typo (`ab` vs `cd`).
  return best !== undefined && bestDistance <= limit && bestDistance < name.length ? best : undefined;
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
 * neighbouring characters (`timeuot` → `timeout`) each cost 1.
 */
export function editDistance(a: string, b: string): number {
  const rows: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 1; j <= b.length; j++) rows[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = d;
    }
  }
  return rows[a.length]![b.length]!;
}
