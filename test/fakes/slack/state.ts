/**
 * The fake workspace's state: channel histories (with Slack's thread bookkeeping on parents),
 * reactions, ephemerals, opened views, issued trigger_ids and response_urls, known users,
 * pending rate limits and injected faults, and the record of every Web API call and validation failure.
 * Timestamps are unique and strictly increasing across the whole workspace, like Slack's.
 */
import { randomBytes } from 'node:crypto';
import type {
  EphemeralMessage, FakeChannel, FakeSlackConfig, FakeUser, Fault, OpenedView, Reaction, RecordedCall, ResponseUrlPost, SlackMessage,
  ValidationFailure,
} from './types.ts';

/** Where a response_url posts to: the message (or ephemeral) that carried the interaction. */
export interface ResponseUrlTarget {
  channel: string;
  user: string;
  /** ts of the message the interaction came from, when it was a regular message. */
  messageTs?: string;
  /** ts of the ephemeral message the interaction came from, when it was one. */
  ephemeralTs?: string;
  threadTs?: string;
  uses: number;
}

interface Trigger {
  user: string;
  issuedAt: number;
  used: boolean;
}

/** Slack allows 5 uses of one response_url. */
const RESPONSE_URL_USES = 5;

/** Compare two Slack timestamps (`seconds.micros`) numerically. */
export function compareTs(a: string, b: string): number {
  const [as = '0', am = '0'] = a.split('.');
  const [bs = '0', bm = '0'] = b.split('.');
  return Number(as) - Number(bs) || Number(am.padEnd(6, '0')) - Number(bm.padEnd(6, '0'));
}

/** A random upper-case alphanumeric id with a Slack-style prefix (`V…`, `Ev…`). */
export function slackId(prefix: string, length = 10): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
  return prefix + Array.from(randomBytes(length), (b) => alphabet[b % alphabet.length]).join('');
}

/** Mutable state of one fake workspace. */
export class SlackState {
  readonly calls: RecordedCall[] = [];
  readonly validationErrors: ValidationFailure[] = [];
  readonly ephemerals: EphemeralMessage[] = [];
  readonly responses: ResponseUrlPost[] = [];
  readonly views = new Map<string, OpenedView>();
  readonly users = new Map<string, FakeUser>();
  /** Conversations conversations.info knows (plus any with history; see {@link conversation}). */
  readonly channels = new Map<string, FakeChannel>();
  /** `http://127.0.0.1:PORT`, set once the server listens. */
  baseUrl = '';
  readonly #channels = new Map<string, SlackMessage[]>();
  readonly #reactions = new Map<string, Map<string, string[]>>();
  readonly #triggers = new Map<string, Trigger>();
  readonly #responseUrls = new Map<string, ResponseUrlTarget>();
  readonly #rateLimits = new Map<string, { remaining: number; retryAfterSeconds: number }>();
  readonly #faults = new Map<string, Array<{ fault: Fault; remaining: number }>>();
  readonly #callListeners = new Set<(call: RecordedCall) => void>();
  /** `channel/root` of the threads assistant.threads.setStatus works in, and their current status. */
  readonly #assistantThreads = new Set<string>();
  readonly #threadStatuses = new Map<string, string>();
  #lastMicros = 0;
  #counter = 0;

  constructor(readonly config: FakeSlackConfig, users: FakeUser[], channels: FakeChannel[] = []) {
    for (const user of users) this.users.set(user.id, user);
    for (const channel of channels) this.channels.set(channel.id, channel);
  }

  /** A fresh message timestamp, later than every one issued before. */
  nextTs(): string {
    this.#lastMicros = Math.max(Date.now() * 1000, this.#lastMicros + 1);
    return `${Math.floor(this.#lastMicros / 1e6)}.${String(this.#lastMicros % 1e6).padStart(6, '0')}`;
  }

  /** Make sure later timestamps sort after `ts` (for messages a test stamped itself). */
  observeTs(ts: string): void {
    const [s = '0', m = '0'] = ts.split('.');
    this.#lastMicros = Math.max(this.#lastMicros, Number(s) * 1e6 + Number(m.padEnd(6, '0')));
  }

  /** Add a user the test referred to, so users.info and postEphemeral know them. */
  rememberUser(id: string): void {
    if (!this.users.has(id)) this.users.set(id, { id, name: id.toLowerCase() });
  }

  /** The home team of a user (the fake's own team unless the user was given another). */
  teamOf(user: string): string {
    return this.users.get(user)?.teamId ?? this.config.teamId;
  }

  /** Make a channel a test posts in known to conversations.info (as a plain one, unless listed). */
  rememberChannel(id: string, user?: string): void {
    if (!this.channels.has(id)) this.channels.set(id, { id, ...(id.startsWith('D') && user ? { user } : {}) });
  }

  /** A conversation conversations.info knows: listed or remembered, or one with history. */
  conversation(id: string): FakeChannel | undefined {
    return this.channels.get(id) ?? (this.channel(id).length > 0 ? { id } : undefined);
  }

  /** Whether a channel is shared with another organisation (events say `is_ext_shared_channel`). */
  isExtShared(id: string): boolean {
    return this.channels.get(id)?.extShared === true;
  }

  /** Whether a channel is shared at all (its messages carry `user_team` / `source_team`). */
  isShared(id: string): boolean {
    const c = this.channels.get(id);
    return c?.extShared === true || c?.orgShared === true;
  }

  /** All messages of a channel (top-level and thread replies), oldest first. */
  channel(channel: string): SlackMessage[] {
    return this.#channels.get(channel) ?? [];
  }

  /** The stored (live) message with this ts in a channel. */
  findMessage(channel: string, ts: string): SlackMessage | undefined {
    return this.channel(channel).find((m) => m.ts === ts);
  }

  /** Store a message; a reply updates its parent's thread_ts / reply_count / reply_users / latest_reply. */
  addMessage(message: SlackMessage): SlackMessage {
    this.observeTs(message.ts);
    const list = this.#channels.get(message.channel) ?? [];
    list.push(message);
    list.sort((a, b) => compareTs(a.ts, b.ts));
    this.#channels.set(message.channel, list);
    if (message.thread_ts !== undefined && message.thread_ts !== message.ts) {
      const parent = this.findMessage(message.channel, message.thread_ts);
      if (parent) {
        if (parent.user !== undefined) message.parent_user_id ??= parent.user;
        const replies = list.filter((m) => m.thread_ts === parent.ts && m.ts !== parent.ts);
        parent.thread_ts = parent.ts;
        parent.reply_count = replies.length;
        parent.reply_users = [...new Set(replies.map((m) => m.user ?? m.bot_id ?? ''))];
        parent.latest_reply = replies.at(-1)?.ts;
      }
    }
    return message;
  }

  /** Remove a message from a channel's history (response_url `delete_original`). */
  deleteMessage(channel: string, ts: string): void {
    const list = this.channel(channel);
    const i = list.findIndex((m) => m.ts === ts);
    if (i >= 0) list.splice(i, 1);
  }

  /** The root ts of the thread `ts` belongs to (itself when it is not a reply). */
  threadRoot(channel: string, ts: string): string {
    const message = this.findMessage(channel, ts);
    return message?.thread_ts ?? ts;
  }

  /** A thread: its parent then its replies, oldest first. */
  thread(channel: string, threadTs: string): SlackMessage[] {
    const root = this.threadRoot(channel, threadTs);
    return this.channel(channel).filter((m) => m.ts === root || m.thread_ts === root);
  }

  /** Reactions on a message, as Slack lists them. */
  reactions(channel: string, ts: string): Reaction[] {
    const byName = this.#reactions.get(`${channel}/${ts}`) ?? new Map<string, string[]>();
    return [...byName].map(([name, users]) => ({ name, users: [...users], count: users.length }));
  }

  /** Add a reaction; false when this user already reacted with it. */
  addReaction(channel: string, ts: string, name: string, user: string): boolean {
    const key = `${channel}/${ts}`;
    const byName = this.#reactions.get(key) ?? new Map<string, string[]>();
    this.#reactions.set(key, byName);
    const users = byName.get(name) ?? [];
    if (users.includes(user)) return false;
    byName.set(name, [...users, user]);
    return true;
  }

  /** Remove a reaction; false when this user had not reacted with it. */
  removeReaction(channel: string, ts: string, name: string, user: string): boolean {
    const byName = this.#reactions.get(`${channel}/${ts}`);
    const users = byName?.get(name);
    if (!byName || !users?.includes(user)) return false;
    const left = users.filter((u) => u !== user);
    if (left.length === 0) byName.delete(name);
    else byName.set(name, left);
    return true;
  }

  /** Issue a trigger_id for an interaction by `user`. */
  issueTrigger(user: string): string {
    const id = `${Math.floor(Date.now() / 1000)}.${++this.#counter}.${randomBytes(16).toString('hex')}`;
    this.#triggers.set(id, { user, issuedAt: Date.now(), used: false });
    return id;
  }

  /** Exchange a trigger_id (once, within its lifetime): the user, or Slack's error code. */
  redeemTrigger(id: unknown): { user: string } | { error: string } {
    const trigger = typeof id === 'string' ? this.#triggers.get(id) : undefined;
    if (!trigger) return { error: 'invalid_trigger_id' };
    if (trigger.used) return { error: 'exchanged_trigger_id' };
    if (Date.now() - trigger.issuedAt > this.config.triggerTtlMs) return { error: 'expired_trigger_id' };
    trigger.used = true;
    return { user: trigger.user };
  }

  /** Issue a response_url for an interaction; returns the absolute URL. */
  issueResponseUrl(target: Omit<ResponseUrlTarget, 'uses'>): string {
    const path = `/actions/${this.config.teamId}/${++this.#counter}/${randomBytes(12).toString('hex')}`;
    this.#responseUrls.set(path, { ...target, uses: 0 });
    return `${this.baseUrl}${path}`;
  }

  /** Claim one use of a response_url: its target, or why it cannot be used. */
  useResponseUrl(path: string): ResponseUrlTarget | 'no_service' | 'used_url' {
    const target = this.#responseUrls.get(path);
    if (!target) return 'no_service';
    if (target.uses >= RESPONSE_URL_USES) return 'used_url';
    target.uses += 1;
    return target;
  }

  /** Make a thread an assistant thread (assistant.threads.setStatus works there). */
  markAssistantThread(channel: string, threadTs: string): void {
    this.#assistantThreads.add(`${channel}/${this.threadRoot(channel, threadTs)}`);
  }

  /** Whether assistant.threads.setStatus works in this thread (`root` is its root ts). */
  isAssistantThread(channel: string, root: string): boolean {
    return this.#assistantThreads.has(`${channel}/${root}`);
  }

  /** Set a thread's assistant status; an empty one clears it. */
  setThreadStatus(channel: string, root: string, status: string): void {
    if (status === '') this.#threadStatuses.delete(`${channel}/${root}`);
    else this.#threadStatuses.set(`${channel}/${root}`, status);
  }

  /** A thread's assistant status now, or undefined when none is shown. */
  threadStatus(channel: string, threadTs: string): string | undefined {
    return this.#threadStatuses.get(`${channel}/${this.threadRoot(channel, threadTs)}`);
  }

  /** Arm a rate limit: the next `times` calls to `method` get HTTP 429. */
  armRateLimit(method: string, times: number, retryAfterSeconds: number): void {
    this.#rateLimits.set(method, { remaining: times, retryAfterSeconds });
  }

  /** Consume one armed rate limit for `method`; the Retry-After seconds, or undefined. */
  takeRateLimit(method: string): number | undefined {
    const limit = this.#rateLimits.get(method);
    if (!limit || limit.remaining <= 0) return undefined;
    limit.remaining -= 1;
    return limit.retryAfterSeconds;
  }

  /** Arm a fault: the next `times` calls to `method` fail this way (after any faults armed before). */
  armFault(method: string, fault: Fault, times: number): void {
    if (times <= 0) return;
    const queue = this.#faults.get(method) ?? [];
    queue.push({ fault, remaining: times });
    this.#faults.set(method, queue);
  }

  /** Consume one armed fault for `method`, oldest first; undefined when none is armed. */
  takeFault(method: string): Fault | undefined {
    const queue = this.#faults.get(method);
    const head = queue?.[0];
    if (!queue || !head) return undefined;
    head.remaining -= 1;
    if (head.remaining <= 0) queue.shift();
    if (queue.length === 0) this.#faults.delete(method);
    return head.fault;
  }

  /** Record a Web API call and notify subscribers. */
  recordCall(call: RecordedCall): void {
    this.calls.push(call);
    for (const listener of [...this.#callListeners]) listener(call);
  }

  /** Subscribe to calls as they are recorded; returns the unsubscribe function. */
  onCall(listener: (call: RecordedCall) => void): () => void {
    this.#callListeners.add(listener);
    return () => this.#callListeners.delete(listener);
  }
}
