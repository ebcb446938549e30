/**
 * Schema migrations for the state database, oldest first. Never edit a migration that has
 * shipped: add a new one with the next version. `openDatabase` applies the ones a database
 * has not seen yet and refuses databases newer than the last entry here.
 */

/** One step of the schema. */
export interface Migration {
  /** Schema version after this migration; strictly increasing from 1. */
  version: number;
  /** SQL run inside one transaction. */
  sql: string;
}

/** Every migration, in order. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE sessions (
        key        TEXT PRIMARY KEY,
        tainted    INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );

      -- One row per message, in insertion order (id). 'version' is the shape of message_json.
      CREATE TABLE session_messages (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        session_key  TEXT NOT NULL REFERENCES sessions(key) ON DELETE CASCADE,
        version      INTEGER NOT NULL,
        message_json TEXT NOT NULL,
        created_at   TEXT NOT NULL
      );
      CREATE INDEX session_messages_by_session ON session_messages (session_key, id);

      -- One row per gated call; columns are the Approval fields in snake_case.
      CREATE TABLE approvals (
        id               TEXT PRIMARY KEY,
        version          INTEGER NOT NULL,
        call_id          TEXT NOT NULL,
        session_key      TEXT NOT NULL,
        tool             TEXT NOT NULL,
        tool_description TEXT NOT NULL,
        level            TEXT NOT NULL,
        level_reason     TEXT NOT NULL,
        fingerprint      TEXT NOT NULL,
        input_json       TEXT NOT NULL,
        requester        TEXT NOT NULL,
        channel          TEXT NOT NULL,
        thread           TEXT NOT NULL,
        confirm_phrase   TEXT,
        state            TEXT NOT NULL,
        created_at       TEXT NOT NULL,
        deadline         TEXT NOT NULL,
        decider          TEXT,
        decided_at       TEXT,
        reason           TEXT,
        outcome          TEXT,
        finished_at      TEXT,
        display_ref      TEXT
      );
      CREATE INDEX approvals_by_state ON approvals (state);
      -- A call gets at most one approval per session, so the same call can never be gated,
      -- and therefore run, twice.
      CREATE UNIQUE INDEX approvals_by_call ON approvals (session_key, call_id);

      CREATE TABLE skill_state (
        skill      TEXT NOT NULL,
        key        TEXT NOT NULL,
        version    INTEGER NOT NULL,
        value_json TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (skill, key)
      );

      CREATE TABLE event_dedupe (
        key     TEXT PRIMARY KEY,
        seen_at INTEGER NOT NULL
      );
      CREATE INDEX event_dedupe_by_time ON event_dedupe (seen_at);
    `,
  },
];
