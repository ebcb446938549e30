/**
 * Shapes shared by the fake Slack's modules: its options, what it stores (messages, views,
 * reactions, ephemerals, response_url posts) and what it records (Web API calls, acks,
 * validation failures). Stored objects use Slack's own snake_case field names, so a test can
 * compare them with what the app sent or what Slack would return.
 */

/** A workspace member the fake knows (for users.info, chat.postEphemeral, payload `user` objects). */
export interface FakeUser {
  id: string;
  name: string;
  isBot?: boolean;
  /**
   * The user's home workspace (default: the fake's own team). Another team makes them a
   * Slack Connect member: their events carry `user_team` / `source_team`, their clicks
   * `user.team_id`, and users.info answers with this `team_id`.
   */
  teamId?: string;
  /** Their Enterprise Grid org: users.info carries `enterprise_user.enterprise_id`. */
  enterpriseId?: string;
  /** users.info marks them `is_stranger` (another organisation's member you share no relationship with). */
  isStranger?: boolean;
}

/**
 * A conversation the fake knows, for conversations.info and the envelopes' `is_ext_shared_channel`.
 * Channels a test posts in are known as plain, unshared ones; list or {@link FakeSlack.setChannel} others.
 */
export interface FakeChannel {
  /** `C…` public, `G…` private, `D…` a DM. */
  id: string;
  name?: string;
  /** Shared with another organisation (Slack Connect): `is_shared` + `is_ext_shared`, and events say `is_ext_shared_channel`. */
  extShared?: boolean;
  /** A Slack Connect invitation is pending (`is_pending_ext_shared`). */
  pendingExtShared?: boolean;
  /** Shared between workspaces of one Enterprise org (`is_shared` + `is_org_shared`). */
  orgShared?: boolean;
  /** The other teams in `shared_team_ids` (besides the fake's own). */
  sharedTeamIds?: string[];
  /** A DM's other member (conversations.info `user`). */
  user?: string;
}

/** Options for {@link FakeSlack.start}. Every field has a realistic default. */
export interface FakeSlackOptions {
  /** Bot token (`xoxb-…`) the app must present to bot methods. */
  botToken?: string;
  /** App-level token (`xapp-…`) the Socket Mode client must present to `apps.connections.open`. */
  appToken?: string;
  /** The bot's user id, returned by auth.test as `user_id` and mentioned as `<@…>`. */
  botUserId?: string;
  /** The bot id (`B…`) stamped on the bot's messages. */
  botId?: string;
  teamId?: string;
  /** Workspace domain used in `team.domain` and auth.test's `url`. */
  teamDomain?: string;
  appId?: string;
  /** Known users; users seen in a test helper (mention, click, …) are added automatically. */
  users?: FakeUser[];
  /** Known conversations beyond the plain ones tests post in (shared ones, …). */
  channels?: FakeChannel[];
  /** The workspace's Enterprise Grid org (`E…`): auth.test, envelopes and payloads carry it. */
  enterpriseId?: string;
  /** How long an envelope helper waits for the app's ack before rejecting (default 2000 ms). */
  ackTimeoutMs?: number;
  /** Lifetime of a trigger_id (Slack: 3 s; default 3000 ms). */
  triggerTtlMs?: number;
}

/** The resolved configuration (options with defaults applied). */
export interface FakeSlackConfig {
  botToken: string;
  appToken: string;
  botUserId: string;
  botId: string;
  teamId: string;
  teamDomain: string;
  appId: string;
  enterpriseId?: string;
  ackTimeoutMs: number;
  triggerTtlMs: number;
}

/** A loose JSON object, as arguments and payloads arrive. */
export type JsonObject = Record<string, unknown>;

/** A message in a channel's history, as conversations.replies would return it. */
export interface SlackMessage {
  type: 'message';
  ts: string;
  /** Not part of Slack's message object; kept so a test can tell where it lives. */
  channel: string;
  text: string;
  user?: string;
  bot_id?: string;
  app_id?: string;
  subtype?: string;
  team?: string;
  blocks?: JsonObject[];
  thread_ts?: string;
  reply_count?: number;
  reply_users?: string[];
  latest_reply?: string;
  edited?: { user: string; ts: string };
  metadata?: unknown;
  [key: string]: unknown;
}

/** A message only one user can see (chat.postEphemeral, or a response_url reply). */
export interface EphemeralMessage {
  channel: string;
  user: string;
  text: string;
  blocks?: JsonObject[];
  thread_ts?: string;
  /** The `message_ts` Slack returns for it. */
  ts: string;
  /** `chat.postEphemeral` or `response_url`. */
  via: 'chat.postEphemeral' | 'response_url';
}

/** One reaction on a message, shaped like Slack's `reactions` array entries. */
export interface Reaction {
  name: string;
  users: string[];
  count: number;
}

/** A modal the app opened (views.open or views.push), in its current state. */
export interface OpenedView {
  id: string;
  /** The user the view was opened for (from the trigger). */
  user: string;
  /** The view object as Slack returns it (`id`, `hash`, `blocks` with ids filled in, …). */
  view: JsonObject;
  /** Open until the app closes it (empty ack on submit, `clear`, …). */
  state: 'open' | 'closed';
  /** Set when another view was pushed on top of this one. */
  rootViewId: string;
}

/** One Web API call as the fake saw it. */
export interface RecordedCall {
  method: string;
  /** Decoded arguments; JSON-valued ones (`blocks`, `view`, …) are parsed. `token` is not included. */
  args: JsonObject;
  /** The token presented (Authorization header, else the `token` form field). */
  token: string | undefined;
  /** HTTP status of the answer (200, or 429 when rate limited). */
  status: number;
  /**
   * The JSON body answered. For a fault, the body Slack would have answered when the call was
   * carried out (`carriedOut`), else the fault's error body (`{}` for a reset or a hang).
   */
  response: JsonObject;
  /** Set when an armed {@link Fault} answered instead: `error:<code>`, `status:<n>`, `reset`, `hang` or `late:<ms>`, plus `+carried_out`. */
  fault?: string;
}

/** How an injected fault answers (exactly one). */
export type FaultAnswer =
  /** HTTP 200 with `{ ok: false, error }` (e.g. `internal_error`, `service_unavailable`, `request_timeout`). */
  | { error: string }
  /** This HTTP status (e.g. 500, 503) with a plain-text body, as a load balancer would answer. */
  | { status: number }
  /** The connection is closed without an answer (the client sees a reset / "fetch failed"). */
  | { reset: true }
  /** No answer at all (the client's own timeout fires); the connection closes when the fake stops. */
  | { hang: true }
  /**
   * The real answer, sent this many ms late. With `carriedOut` the call takes effect at once (a
   * message is stored and visible, as Slack shows it to people before the answer is back);
   * without, it takes effect when the answer is sent.
   */
  | { answerAfterMs: number };

/**
 * A failure {@link FakeSlack.fail} plays for one call. With `carriedOut`, the call is handled
 * first (a message is stored, an update applied) and only the answer is lost, which is what a
 * timeout or a 5xx after Slack already stored the message looks like to the app.
 */
export type Fault = FaultAnswer & { carriedOut?: boolean };

/** A POST to a response_url the fake handed out. */
export interface ResponseUrlPost {
  url: string;
  body: JsonObject;
  /** HTTP status answered (200, 400 invalid payload, 404 unknown or used up). */
  status: number;
  /** What it did: replaced or deleted the original, posted in channel, posted ephemeral, or nothing. */
  effect: 'replaced' | 'deleted' | 'in_channel' | 'ephemeral' | 'rejected';
}

/** Something the app sent that real Slack would reject, and what Slack would answer. */
export interface ValidationFailure {
  /** Web API method, `response_url`, or `ack:<payload type>`. */
  method: string;
  error: string;
  messages: string[];
  args: JsonObject;
}

/** The app's ack of an envelope. */
export interface Ack {
  envelope_id: string;
  /** `{}` for a bare `ack()`, `{ text }` for `ack('text')`, the response object otherwise. */
  payload: JsonObject;
}
