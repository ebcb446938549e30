/**
 * Remembers which inbound events (Slack event ids, retries included) have been seen, so the
 * same event never starts two turns, even across a restart within the time-to-live.
 */
import { inWriteTransaction } from './database.ts';
import type { Database } from './database.ts';

/** Claims event keys once per time-to-live. */
export class EventDedupeStore {
  readonly #db: Database;

  /** @param db An open state database ({@link openDatabase}). */
  constructor(db: Database) {
    this.#db = db;
  }

  /**
   * Claim an event key.
   *
   * @param key The event's identity (e.g. Slack `event_id`).
   * @param nowMs Current time in milliseconds since the epoch.
   * @param ttlMs How long a key stays claimed.
   * @returns true for the first claim within `ttlMs`; false when the key was claimed
   *   before and has not aged out (a retry or duplicate: do not handle it).
   */
  claim(key: string, nowMs: number, ttlMs: number): boolean {
    return inWriteTransaction(this.#db, () => {
        // Forget keys older than the ttl first, so an aged-out key can be claimed again and
        // the table does not grow without bound.
        this.#db.prepare('DELETE FROM event_dedupe WHERE seen_at <= ?').run(nowMs - ttlMs);
        // INSERT OR IGNORE is the atomic "first one wins": a second claim inserts nothing.
        return this.#db.prepare('INSERT OR IGNORE INTO event_dedupe (key, seen_at) VALUES (?, ?)').run(key, nowMs).changes === 1;
    });
  }
}
