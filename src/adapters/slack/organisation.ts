/**
 * Who belongs to the app's organisation, and which conversations are shared with another one
 * (Slack Connect). Facts only: the callers apply `adapter.slack.allow_external_users` and
 * `allow_external_channels`.
 *
 * A user is inside when the team a payload names for them (message events: `user_team`, else
 * `team`; clicks and submissions: `user.team_id`) is the app's team or its Enterprise org.
 * Otherwise users.info decides: `is_stranger` → outside; `team_id` the app's → inside;
 * `enterprise_user.enterprise_id` the app's (Enterprise Grid, another workspace of the same
 * org) → inside; anything else → outside.
 *
 * A conversation is shared with another organisation when its event says so
 * (`is_ext_shared_channel` on the envelope: enough to refuse), or conversations.info shows
 * `is_ext_shared`, `is_pending_ext_shared`, or `is_shared` without `is_org_shared` (a kind of
 * sharing mithai cannot place). A channel shared only between workspaces of the app's own
 * Enterprise org (`is_org_shared`) is inside.
 *
 * Fail closed: a lookup that fails or takes longer than `timeoutMs` answers "outside". Answers
 * are cached (users 1 h, shared channels 10 min, channels not shared 1 min; `channel_shared` /
 * `channel_unshared` events update them at once) and concurrent questions about one id share one
 * call; a failure is not cached (the next question asks Slack again) and is logged once per id
 * until a lookup of that id succeeds, with ids and Slack's error code only.
 */
import type { webApi } from '@slack/bolt';
import type { Logger } from 'pino';
import type { Clock } from '../../clock.ts';

/** The fields of a users.info `user` mithai reads. */
export interface UserInfo {
  team_id?: string;
  is_stranger?: boolean;
  enterprise_user?: { enterprise_id?: string };
}

/** The fields of a conversations.info `channel` mithai reads. */
export interface ConversationInfo {
  is_shared?: boolean;
  is_ext_shared?: boolean;
  is_pending_ext_shared?: boolean;
  is_org_shared?: boolean;
}

/** The two Slack reads the organisation needs (see {@link webLookups}). */
export interface OrganisationLookups {
  /** users.info: the user, or a throw (user_not_found, a network error, …). */
  userInfo(user: string): Promise<UserInfo>;
  /** conversations.info: the conversation, or a throw (channel_not_found, missing_scope, …). */
  conversationInfo(channel: string): Promise<ConversationInfo>;
}

/** An answer: whether the user or channel is outside the organisation, and why (ids only, for logs). */
export interface OrgAnswer {
  isOutside: boolean;
  reason: string;
}

/** What an {@link Organisation} needs. */
export interface OrganisationOptions {
  /** The app's workspace and Enterprise org (from auth.test). */
  teamId: string;
  enterpriseId?: string;
  lookups: OrganisationLookups;
  clock: Clock;
  logger: Logger;
  /** How long a users.info answer is kept (default {@link USER_TTL_MS}). */
  userTtlMs?: number;
  /** How long a conversations.info answer is kept (default {@link CHANNEL_TTL_MS}). */
  channelTtlMs?: number;
  /** How long a question waits for Slack before it answers "outside" (default {@link LOOKUP_TIMEOUT_MS}). */
  timeoutMs?: number;
}

export const USER_TTL_MS = 60 * 60 * 1000;
export const CHANNEL_TTL_MS = 10 * 60 * 1000;
/** How long a "not shared with another organisation" answer is kept (a shared one: {@link CHANNEL_TTL_MS}). */
export const CHANNEL_NOT_SHARED_TTL_MS = 60 * 1000;
/** Short enough that an event or click is still acknowledged within Slack's 3 s. */
export const LOOKUP_TIMEOUT_MS = 2_000;
/** Cached answers kept at most (expired ones are swept first when it is reached). */
const MAX_ENTRIES = 10_000;

const TIMED_OUT = Symbol('timed out');
const MISSING_SCOPE_FIX = 'add the scopes users:read, channels:read, groups:read, im:read and mpim:read to the Slack app (see slack-manifest.yaml) and reinstall it';

interface Entry {
  answer: OrgAnswer;
  until: number;
}

/** One kind of cached lookup (users or conversations). */
interface Table {
  method: string;
  idField: 'user' | 'channel';
  ttlMs: number;
  entries: Map<string, Entry>;
  inFlight: Map<string, Promise<OrgAnswer>>;
}

/** Decides who and what is outside the app's organisation; see the module comment. */
export class Organisation {
  readonly #o: OrganisationOptions;
  readonly #users: Table;
  readonly #channels: Table;
  /** Ids whose failed lookup was logged (cleared by a success), so a failing id logs once. */
  readonly #failureLogged = new Set<string>();

  constructor(options: OrganisationOptions) {
    this.#o = options;
    this.#users = { method: 'users.info', idField: 'user', ttlMs: options.userTtlMs ?? USER_TTL_MS, entries: new Map(), inFlight: new Map() };
    this.#channels = { method: 'conversations.info', idField: 'channel', ttlMs: options.channelTtlMs ?? CHANNEL_TTL_MS, entries: new Map(), inFlight: new Map() };
  }

  /**
   * Whether `user` is outside the organisation.
   * @param team the team the payload names for the user, when it names one. The app's team (or
   *   Enterprise org) settles it without a call; any other team, or none, asks users.info.
   */
  async user(user: string, team?: string): Promise<OrgAnswer> {
    if (team !== undefined && this.#isOurs(team)) return { isOutside: false, reason: 'team is the app\'s' };
    if (user === '') return { isOutside: true, reason: 'no user id' };
    return this.#ask(this.#users, user, async () => this.#judgeUser(await this.#o.lookups.userInfo(user)));
  }

  /**
   * Whether `channel` is shared with another organisation.
   * @param sharedHint true when the event said so (`is_ext_shared_channel`): taken as is, and
   *   remembered, so replies into the channel are refused too. Anything else asks conversations.info.
   */
  async channel(channel: string, sharedHint?: boolean): Promise<OrgAnswer> {
    if (sharedHint === true) {
      const answer = { isOutside: true, reason: 'event says is_ext_shared_channel' };
      this.#store(this.#channels, channel, answer);
      return answer;
    }
    if (channel === '') return { isOutside: true, reason: 'no channel id' };
    return this.#ask(this.#channels, channel, async () => judgeConversation(await this.#o.lookups.conversationInfo(channel)));
  }

  /**
   * Slack said (`channel_shared` / `channel_unshared`) that a channel's sharing changed: a
   * shared channel is remembered as shared; an unshared one is asked about again next time.
   */
  changed(channel: string, isShared: boolean): void {
    if (isShared) this.#store(this.#channels, channel, { isOutside: true, reason: 'channel_shared event' });
    else this.#channels.entries.delete(channel);
  }

  /**
   * Whether a team id read from Slack (a thread message's `user_team` / `team`) is another
   * organisation's, without asking Slack. Another workspace of the app's Enterprise org counts
   * as another here (telling them apart would take a users.info per message).
   */
  isForeignTeam(team: string): boolean {
    return !this.#isOurs(team);
  }

  /** Whether a recent users.info answer (still cached) showed `user` to be inside. No call. */
  isKnownInside(user: string): boolean {
    const entry = this.#users.entries.get(user);
    return entry !== undefined && entry.until > this.#o.clock.now() && !entry.answer.isOutside;
  }

  #isOurs(team: string): boolean {
    return team === this.#o.teamId || (this.#o.enterpriseId !== undefined && team === this.#o.enterpriseId);
  }

  #judgeUser(info: UserInfo): OrgAnswer {
    if (info.is_stranger === true) return { isOutside: true, reason: 'users.info: is_stranger' };
    if (info.team_id === this.#o.teamId) return { isOutside: false, reason: 'users.info: the app\'s team' };
    const enterprise = info.enterprise_user?.enterprise_id;
    if (this.#o.enterpriseId !== undefined && enterprise === this.#o.enterpriseId) {
      return { isOutside: false, reason: 'users.info: the app\'s Enterprise org' };
    }
    return { isOutside: true, reason: `users.info: team ${info.team_id ?? '(none)'}${enterprise ? ` of enterprise ${enterprise}` : ''}` };
  }

  async #ask(table: Table, id: string, lookup: () => Promise<OrgAnswer>): Promise<OrgAnswer> {
    const cached = table.entries.get(id);
    if (cached !== undefined && cached.until > this.#o.clock.now()) return cached.answer;
    let call = table.inFlight.get(id);
    if (call === undefined) {
      call = this.#lookup(table, id, lookup);
      table.inFlight.set(id, call);
      const settled = call;
      void settled.finally(() => {
        if (table.inFlight.get(id) === settled) table.inFlight.delete(id);
      });
    }
    const answer = await this.#bounded(call);
    if (answer !== TIMED_OUT) return answer;
    this.#logFailure(table, id, 'timeout');
    return { isOutside: true, reason: `${table.method} did not answer in time` };
  }

  /** One lookup: its answer is cached; a failure answers "outside" and is not cached. Never rejects. */
  async #lookup(table: Table, id: string, lookup: () => Promise<OrgAnswer>): Promise<OrgAnswer> {
    try {
      const answer = await lookup();
      this.#store(table, id, answer);
      this.#failureLogged.delete(`${table.idField}:${id}`);
      return answer;
    } catch (err) {
      const code = slackErrorCode(err);
      this.#logFailure(table, id, code);
      return { isOutside: true, reason: `${table.method} failed (${code})` };
    }
  }

  #store(table: Table, id: string, answer: OrgAnswer): void {
    const now = this.#o.clock.now();
    if (table.entries.size >= MAX_ENTRIES) {
      for (const [key, entry] of table.entries) if (entry.until <= now) table.entries.delete(key);
      if (table.entries.size >= MAX_ENTRIES) table.entries.clear();
    }
    // "Not shared" is kept briefly: if a channel_shared event is missed (a reconnect), a channel
    // shared since is found within a minute, not ten.
    const ttl = table === this.#channels && !answer.isOutside ? Math.min(table.ttlMs, CHANNEL_NOT_SHARED_TTL_MS) : table.ttlMs;
    table.entries.set(id, { answer, until: now + ttl });
  }

  #logFailure(table: Table, id: string, code: string): void {
    const key = `${table.idField}:${id}`;
    if (this.#failureLogged.has(key)) return;
    this.#failureLogged.add(key);
    if (code === 'missing_scope') {
      // An app installed before these checks existed: until it is reinstalled mithai answers nowhere.
      this.#o.logger.error({ [table.idField]: id, method: table.method, error: code, fix: MISSING_SCOPE_FIX }, 'slack.organisation_lookup_failed');
      return;
    }
    this.#o.logger.warn({ [table.idField]: id, method: table.method, error: code }, 'slack.organisation_lookup_failed');
  }

  /** The call's answer, or {@link TIMED_OUT} once `timeoutMs` has passed first. */
  #bounded(call: Promise<OrgAnswer>): Promise<OrgAnswer | typeof TIMED_OUT> {
    const { clock } = this.#o;
    let timer: unknown;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = clock.setTimeout(() => resolve(TIMED_OUT), this.#o.timeoutMs ?? LOOKUP_TIMEOUT_MS);
    });
    return Promise.race([call, timeout]).finally(() => clock.clearTimeout(timer));
  }
}

/** Whether a conversation is shared with another organisation, from conversations.info. */
export function judgeConversation(info: ConversationInfo): OrgAnswer {
  if (info.is_ext_shared === true) return { isOutside: true, reason: 'conversations.info: is_ext_shared' };
  if (info.is_pending_ext_shared === true) return { isOutside: true, reason: 'conversations.info: is_pending_ext_shared' };
  if (info.is_shared === true && info.is_org_shared !== true) return { isOutside: true, reason: 'conversations.info: is_shared, not within the org' };
  return { isOutside: false, reason: 'conversations.info: not shared with another organisation' };
}

/** Slack's error code of a failed Web API call (`channel_not_found`, …), or the client's error code. */
function slackErrorCode(err: unknown): string {
  const e = err as { data?: { error?: unknown }; code?: unknown } | undefined;
  if (typeof e?.data?.error === 'string') return e.data.error;
  return typeof e?.code === 'string' ? e.code : 'error';
}

/** The lookups over a bot-token Web API client (users.info needs `users:read`, conversations.info the `*:read` scopes). */
export function webLookups(client: webApi.WebClient): OrganisationLookups {
  return {
    userInfo: async (user) => {
      const result = await client.users.info({ user });
      return (result.user ?? {}) as UserInfo;
    },
    conversationInfo: async (channel) => {
      const result = await client.conversations.info({ channel });
      return (result.channel ?? {}) as ConversationInfo;
    },
  };
}
