/**
 * Time-stamped view of what an app posts to the fake Slack. The fake records every Web API
 * call but without a time, so this subscribes to its call stream (the fake's `state.onCall`,
 * which FakeSlack keeps protected: reached through a cast here, read-only) and stamps each
 * `chat.postMessage` with `performance.now()` as the fake handles it. One listener for the whole
 * round, indexed by thread, so waiting for 200 threads at once costs nothing per call.
 */
import type { FakeSlack, RecordedCall } from '../../test/fakes/slack/fake-slack.ts';

/** One message the app posted. */
export interface Post {
  at: number;
  channel: string;
  /** thread_ts of the post (undefined for a top-level post). */
  thread: string | undefined;
  /** ts Slack gave it. */
  ts: string;
  text: string;
  blocks: unknown[];
}

type CallSource = { onCall(listener: (call: RecordedCall) => void): () => void };

/**
 * Subscribe to every Web API call the fake handles, as it handles it (the fake keeps its call
 * stream protected: reached through a cast, read-only). Returns the unsubscribe function.
 */
export function onSlackCall(slack: FakeSlack, listener: (call: RecordedCall) => void): () => void {
  return (slack as unknown as { state: CallSource }).state.onCall(listener);
}

/** Whether `blocks` hold a button with this action_id. */
export function hasButton(blocks: unknown, actionId: string): boolean {
  if (Array.isArray(blocks)) return blocks.some((b) => hasButton(b, actionId));
  if (!blocks || typeof blocks !== 'object') return false;
  const o = blocks as Record<string, unknown>;
  if (o.type === 'button' && o.action_id === actionId) return true;
  return Array.isArray(o.elements) && hasButton(o.elements, actionId);
}

/** Posts by thread, with waiters. */
export class SlackObserver {
  readonly posts: Post[] = [];
  readonly #byThread = new Map<string, Post[]>();
  readonly #waiters = new Map<string, Set<() => void>>();
  readonly #unsubscribe: () => void;
  /** Web API calls seen, by method (for the detail columns). */
  readonly callCounts = new Map<string, number>();

  constructor(slack: FakeSlack) {
    this.#unsubscribe = onSlackCall(slack, (call) => this.#record(call));
  }

  #record(call: RecordedCall): void {
    const at = performance.now();
    this.callCounts.set(call.method, (this.callCounts.get(call.method) ?? 0) + 1);
    if (call.method !== 'chat.postMessage' || call.response.ok !== true) return;
    const thread = typeof call.args.thread_ts === 'string' ? call.args.thread_ts : undefined;
    const post: Post = {
      at,
      channel: String(call.args.channel ?? ''),
      thread,
      ts: String(call.response.ts ?? ''),
      text: typeof call.args.text === 'string' ? call.args.text : '',
      blocks: Array.isArray(call.args.blocks) ? call.args.blocks : [],
    };
    this.posts.push(post);
    const key = thread ?? '';
    const list = this.#byThread.get(key) ?? [];
    list.push(post);
    this.#byThread.set(key, list);
    for (const wake of [...(this.#waiters.get(key) ?? [])]) wake();
  }

  /** Posts in a thread so far, oldest first. */
  inThread(thread: string): readonly Post[] {
    return this.#byThread.get(thread) ?? [];
  }

  /** Resolve with the first post in `thread` matching `match` (already there or still to come). */
  waitFor(thread: string, match: (p: Post) => boolean, timeoutMs: number): Promise<Post> {
    const found = this.inThread(thread).find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const set = this.#waiters.get(thread) ?? new Set<() => void>();
      this.#waiters.set(thread, set);
      const done = (): void => {
        set.delete(wake);
        clearTimeout(timer);
      };
      const wake = (): void => {
        const hit = this.inThread(thread).find(match);
        if (!hit) return;
        done();
        resolve(hit);
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`bench: no matching post in thread ${thread} within ${timeoutMs} ms`));
      }, timeoutMs);
      set.add(wake);
    });
  }

  stop(): void {
    this.#unsubscribe();
  }
}
