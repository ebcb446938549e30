/**
 * `assistant.threads.setStatus`: the "<App> is thinking…" line Slack shows under an assistant
 * thread while the app works. Modelled as Slack documents it: `channel_id`, `thread_ts` and
 * `status` are required; an empty `status` clears it; `loading_messages` takes at most 10
 * strings; the status is cleared when the app posts a message in the thread (see
 * web-api-chat.ts). It works only in an assistant thread: one the test marked with
 * {@link FakeSlack.markAssistantThread} (as if the user had opened it in the app's assistant
 * view, or the app had the Agents & AI Apps feature there). Anywhere else the call fails with
 * `invalid_thread_ts`, the error apps report for threads that are not assistant threads; an
 * unknown channel is `channel_not_found`.
 *
 * Not modelled: the two-minute timeout after which Slack drops a status, `icon_*`/`username`,
 * the scopes (`chat:write` / `assistant:write`), and which app settings make a channel thread one.
 */
import { apiError } from './web-api.ts';
import type { MethodContext, MethodHandler } from './web-api.ts';
import { str } from './blocks.ts';
import type { JsonObject } from './types.ts';

const MAX_LOADING_MESSAGES = 10;

function setStatus({ state, args }: MethodContext): JsonObject {
  const channel = str(args.channel_id);
  const threadTs = str(args.thread_ts);
  if (!channel) return apiError('channel_not_found');
  if (!threadTs || typeof args.status !== 'string') return apiError('invalid_arguments', ['[ERROR] missing required field: ' + (threadTs ? 'status' : 'thread_ts')]);
  // A form body carries the array as a JSON string, as WebClient sends it.
  let loading: unknown = args.loading_messages;
  if (typeof loading === 'string') {
    try {
      loading = JSON.parse(loading);
    } catch {
      return apiError('invalid_arguments', ['[ERROR] loading_messages: not a JSON array']);
    }
  }
  if (loading !== undefined && (!Array.isArray(loading) || loading.length > MAX_LOADING_MESSAGES || loading.some((m) => typeof m !== 'string'))) {
    return apiError('invalid_arguments', [`[ERROR] loading_messages: at most ${MAX_LOADING_MESSAGES} strings`]);
  }
  if (state.conversation(channel) === undefined) return apiError('channel_not_found');
  const root = state.threadRoot(channel, threadTs);
  if (!state.isAssistantThread(channel, root)) return apiError('invalid_thread_ts');
  state.setThreadStatus(channel, root, args.status);
  return { ok: true };
}

/** The assistant Web API methods. */
export const assistantMethods: ReadonlyMap<string, MethodHandler> = new Map<string, MethodHandler>([
  ['assistant.threads.setStatus', { token: 'bot', handle: setStatus }],
]);
