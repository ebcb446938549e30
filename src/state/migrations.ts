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
  {
    version: 2,
    sql: `
      -- Durable turns. One row per accepted inbound message: the turn's progress lives here,
      -- not in a promise, so any process can pick it up after a crash or a restart.
      CREATE TABLE turns (
        id          TEXT PRIMARY KEY,
        version     INTEGER NOT NULL,
        session_key TEXT NOT NULL,
        platform    TEXT NOT NULL,
        turn_json   TEXT NOT NULL,
        state       TEXT NOT NULL,
        iterations  INTEGER NOT NULL DEFAULT 0,
        tool_calls  INTEGER NOT NULL DEFAULT 0,
        tokens      INTEGER NOT NULL DEFAULT 0,
        cut_recoveries INTEGER NOT NULL DEFAULT 0,
        nonce       TEXT NOT NULL,
        status      TEXT,
        reply       TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      );
      CREATE INDEX turns_by_state ON turns (state);
      CREATE INDEX turns_by_session ON turns (session_key, created_at);

      -- The tool_use blocks of the assistant message a turn is answering, one row per call,
      -- in the model's order. A row is answered once its tool_result is known.
      CREATE TABLE turn_calls (
        turn_id     TEXT NOT NULL REFERENCES turns(id) ON DELETE CASCADE,
        position    INTEGER NOT NULL,
        call_id     TEXT NOT NULL,
        name        TEXT NOT NULL,
        input_json  TEXT NOT NULL,
        state       TEXT NOT NULL,
        approval_id TEXT,
        result_json TEXT,
        tainted     INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (turn_id, position)
      );
      CREATE INDEX turn_calls_by_approval ON turn_calls (approval_id);

      ALTER TABLE approvals ADD COLUMN turn_id TEXT;
      -- The state the approval's display (card) last showed; differs from state until redrawn.
      ALTER TABLE approvals ADD COLUMN displayed_state TEXT;
      -- Where the decision came from (slack, terminal, cli), for the card and the audit.
      ALTER TABLE approvals ADD COLUMN decided_via TEXT;
      -- When an approved call stops being valid to start (approved but not claimed by then: cancelled).
      ALTER TABLE approvals ADD COLUMN valid_until TEXT;

      -- A failed turn's messages stay on record but never reach the model again.
      ALTER TABLE session_messages ADD COLUMN turn_id TEXT;
      ALTER TABLE session_messages ADD COLUMN excluded INTEGER NOT NULL DEFAULT 0;

      -- The audit chain as the database knows it. Every record is written here in the same
      -- transaction as the state change it records, then copied to memory/approvals.json.
      CREATE TABLE audit_head (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        seq         INTEGER NOT NULL,
        hash        TEXT NOT NULL,
        flushed_seq INTEGER NOT NULL
      );
      CREATE TABLE audit_records (
        seq  INTEGER PRIMARY KEY,
        hash TEXT NOT NULL,
        line TEXT NOT NULL
      );
    `,
  },
  {
    version: 3,
    sql: `
      -- What tainted a session: one row per distinct source of untrusted content (a tool name or
      -- a sender id, never message text), the first 20 per session, written in the same
      -- transaction as sessions.tainted. A session tainted before this table existed has none:
      -- it shows as "untrusted content (source not recorded)".
      CREATE TABLE session_taints (
        session_key TEXT NOT NULL REFERENCES sessions(key) ON DELETE CASCADE,
        kind        TEXT NOT NULL,
        source      TEXT NOT NULL,
        first_at    TEXT NOT NULL,
        PRIMARY KEY (session_key, kind, source)
      );

      -- The session's sources when the approval was opened (JSON array of {kind, source}), for
      -- the card and the second-person rule. NULL: opened before this column existed.
      ALTER TABLE approvals ADD COLUMN taint_json TEXT;
      -- Approvals already open whose call was made after untrusted content (their level says so,
      -- or they are still undecided or unrun in a tainted session) keep their warning and rule.
      UPDATE approvals SET taint_json = '[{"kind":"unrecorded","source":""}]'
        WHERE level_reason = 'taint'
           OR (state IN ('pending', 'approved') AND session_key IN (SELECT key FROM sessions WHERE tainted = 1));
    `,
  },
  {
    version: 4,
    sql: `
      -- session_messages without AUTOINCREMENT: its counter row in sqlite_sequence was one more
      -- page in every commit that stored a message (about eight a turn). A new id is still one
      -- above the largest stored, so the order within a session is the insertion order as
      -- before; an id could come back only after the newest messages were deleted (nothing
      -- deletes messages, and nothing refers to one by its id).
      CREATE TABLE session_messages_v4 (
        id           INTEGER PRIMARY KEY,
        session_key  TEXT NOT NULL REFERENCES sessions(key) ON DELETE CASCADE,
        version      INTEGER NOT NULL,
        message_json TEXT NOT NULL,
        created_at   TEXT NOT NULL,
        turn_id      TEXT,
        excluded     INTEGER NOT NULL DEFAULT 0
      );
      -- A message whose session row is missing (only a hand edit with foreign keys off makes
      -- one) would fail the copy, and every start with it: its session is put back, tainted,
      -- since what the lost row said about untrusted content is unknown.
      INSERT OR IGNORE INTO sessions (key, tainted, created_at, updated_at)
        SELECT session_key, 1, MIN(created_at), MAX(created_at) FROM session_messages
        WHERE session_key NOT IN (SELECT key FROM sessions) GROUP BY session_key;
      INSERT INTO session_messages_v4 (id, session_key, version, message_json, created_at, turn_id, excluded)
        SELECT id, session_key, version, message_json, created_at, turn_id, excluded FROM session_messages ORDER BY id;
      DROP TABLE session_messages;
      ALTER TABLE session_messages_v4 RENAME TO session_messages;
      CREATE INDEX session_messages_by_session ON session_messages (session_key, id);
      DELETE FROM sqlite_sequence WHERE name = 'session_messages';
    `,
  },
];
