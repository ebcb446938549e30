/**
 * Persisted key-value state for skills (`ctx.state`). Each skill sees only its own keys:
 * the skill name is part of every query, so one skill can never read or overwrite another's.
 */
import type { Clock } from '../clock.ts';
import { systemClock } from '../clock.ts';
import { StateError, errorMessage } from '../errors.ts';
import type { SkillState } from '../skills/types.ts';
import type { Database } from './database.ts';

/** Record version of skill_state rows written by this code. */
export const SKILL_STATE_VERSION = 1;

interface ValueRow {
  version: number;
  value_json: string;
}

/** Hands out {@link SkillState} views scoped to one skill each. */
export class SkillStateStore {
  readonly #db: Database;
  readonly #clock: Clock;

  /**
   * @param db An open state database ({@link openDatabase}).
   * @param clock Source of the updated timestamps.
   */
  constructor(db: Database, clock: Clock = systemClock) {
    this.#db = db;
    this.#clock = clock;
  }

  /**
   * The state of one skill. Values are stored as JSON, so `get` returns a copy:
   * mutate it and `set` it again to persist a change.
   *
   * `get` throws StateError for a row of unknown version or unreadable JSON; `set` throws
   * StateError for a value that JSON cannot represent (undefined, a function, a BigInt,
   * a cycle).
   */
  forSkill(skill: string): SkillState {
    const db = this.#db;
    const now = (): string => new Date(this.#clock.now()).toISOString();
    return {
      get<T = unknown>(key: string): T | undefined {
        const row = db
          .prepare<[string, string], ValueRow>('SELECT version, value_json FROM skill_state WHERE skill = ? AND key = ?')
          .get(skill, key);
        if (row === undefined) return undefined;
        if (row.version !== SKILL_STATE_VERSION) {
          throw new StateError(
            `skill ${skill}: state key '${key}' has record version ${row.version}, but this mithai reads only version ${SKILL_STATE_VERSION}. ` +
              `Upgrade mithai, or delete the key.`,
            { code: 'state_version_unsupported' },
          );
        }
        try {
          return JSON.parse(row.value_json) as T;
        } catch (err) {
          throw new StateError(`skill ${skill}: state key '${key}' is not valid JSON: ${errorMessage(err)}`, { cause: err });
        }
      },
      set(key: string, value: unknown): void {
        let json: string | undefined;
        try {
          json = JSON.stringify(value);
        } catch (err) {
          throw new StateError(`skill ${skill}: state key '${key}' cannot be stored as JSON: ${errorMessage(err)}`, { cause: err });
        }
        // JSON.stringify(undefined) and of a function yield undefined rather than throwing.
        if (json === undefined) {
          throw new StateError(`skill ${skill}: state key '${key}' cannot be stored as JSON (got ${typeof value}); use delete() to remove a key`);
        }
        db.prepare(
          'INSERT INTO skill_state (skill, key, version, value_json, updated_at) VALUES (?, ?, ?, ?, ?) ' +
            'ON CONFLICT (skill, key) DO UPDATE SET version = excluded.version, value_json = excluded.value_json, updated_at = excluded.updated_at',
        ).run(skill, key, SKILL_STATE_VERSION, json, now());
      },
      delete(key: string): void {
        db.prepare('DELETE FROM skill_state WHERE skill = ? AND key = ?').run(skill, key);
      },
      keys(): string[] {
        return db
          .prepare<[string], { key: string }>('SELECT key FROM skill_state WHERE skill = ? ORDER BY key')
          .all(skill)
          .map((row) => row.key);
      },
    };
  }
}
