/**
 * Keeping an in-memory Map bounded: the oldest entries (Maps keep insertion order) make room for
 * a new one, each handed to `dropped` first (to cancel its timer, say).
 */

/** Make room for one more entry in `map`, which holds at most `max`: drop the oldest beyond that. */
export function makeRoom<K, V>(map: Map<K, V>, max: number, dropped: (value: V) => void): void {
  for (const [key, value] of map) {
    if (map.size < max) return;
    dropped(value);
    map.delete(key);
  }
}
