/**
 * The read side of {@link FakeSlack}: what the app called and what the workspace now looks
 * like. Message, view and ephemeral accessors return copies, so a test cannot change the
 * fake's state by accident; the record arrays (`calls`, `responses`, …) are live.
 */
import type { SocketModeServer } from './socket-mode.ts';
import type { SlackState } from './state.ts';
import type {
  EphemeralMessage, FakeUser, OpenedView, Reaction, RecordedCall, ResponseUrlPost, SlackMessage, ValidationFailure,
} from './types.ts';

/** Read access to a fake workspace. Use it through {@link FakeSlack}. */
export class FakeSlackInspector {
  protected constructor(protected readonly state: SlackState, protected readonly socket: SocketModeServer) {}

  /** Every Web API call, in order (including rejected and rate-limited ones). */
  get calls(): readonly RecordedCall[] {
    return this.state.calls;
  }

  /** The calls to one method, in order. */
  callsTo(method: string): RecordedCall[] {
    return this.state.calls.filter((c) => c.method === method);
  }

  /**
   * Resolve with the first call to `method` matching `predicate`, whether already recorded or
   * still to come; reject after `timeoutMs` (default 2000).
   */
  waitForCall(method: string, predicate: (call: RecordedCall) => boolean = () => true, timeoutMs = 2000): Promise<RecordedCall> {
    const matches = (c: RecordedCall): boolean => c.method === method && predicate(c);
    const found = this.state.calls.find(matches);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const unsubscribe = this.state.onCall((call) => {
        if (!matches(call)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(call);
      });
      const timer = setTimeout(() => {
        unsubscribe();
        const seen = this.state.calls.map((c) => c.method).join(', ') || 'none';
        reject(new Error(`fake-slack: no matching ${method} call within ${timeoutMs} ms (calls so far: ${seen})`));
      }, timeoutMs);
    });
  }

  /** Resolve once `count` calls to `method` have been recorded (with the first `count`). */
  async waitForCalls(method: string, count: number, timeoutMs = 2000): Promise<RecordedCall[]> {
    let seen = 0;
    await this.waitForCall(method, () => ++seen >= count, timeoutMs).catch((error: unknown) => {
      if (this.callsTo(method).length < count) throw error;
    });
    return this.callsTo(method).slice(0, count);
  }

  /** A channel's messages (top-level and replies), oldest first, as they are now. */
  messages(channel: string): SlackMessage[] {
    return structuredClone(this.state.channel(channel));
  }

  /** A thread (parent first), as it is now; `threadTs` may be any message of the thread. */
  thread(channel: string, threadTs: string): SlackMessage[] {
    return structuredClone(this.state.thread(channel, threadTs));
  }

  /** One message as it is now, or undefined if it does not exist (or was deleted). */
  messageAt(channel: string, ts: string): SlackMessage | undefined {
    const found = this.state.findMessage(channel, ts);
    return found && structuredClone(found);
  }

  /** A thread's assistant status as Slack shows it now (assistant.threads.setStatus), or undefined. */
  threadStatus(channel: string, threadTs: string): string | undefined {
    return this.state.threadStatus(channel, threadTs);
  }

  /** Messages only one user could see (chat.postEphemeral and ephemeral response_url replies). */
  get ephemerals(): EphemeralMessage[] {
    return structuredClone(this.state.ephemerals);
  }

  /** Every view the app opened or pushed, oldest first, in its current state. */
  get openedViews(): OpenedView[] {
    return structuredClone([...this.state.views.values()]);
  }

  /** Reactions on a message, shaped like Slack's `reactions` field. */
  reactions(channel: string, ts: string): Reaction[] {
    return this.state.reactions(channel, ts);
  }

  /** Every POST to a response_url, in order. */
  get responses(): readonly ResponseUrlPost[] {
    return this.state.responses;
  }

  /** Everything the app sent that Slack would have refused, in order. */
  get validationErrors(): readonly ValidationFailure[] {
    return this.state.validationErrors;
  }

  /** Users the workspace knows (from the options, plus any a helper acted as). */
  get users(): FakeUser[] {
    return [...this.state.users.values()];
  }
}
