/**
 * The response_url sink: `POST /actions/<team>/<n>/<secret>`, where Bolt's `respond()` posts
 * JSON. Honours `delete_original`, `replace_original` (on the message or ephemeral the
 * interaction came from), `response_type: in_channel` (a new bot message) and the default
 * ephemeral reply; validates text and blocks like chat.postMessage; allows 5 uses per URL.
 * Errors answer with a non-2xx status and a plain-text code, so `respond()` throws.
 *
 * Not modelled: the 30-minute expiry, `thread_ts` rules beyond passing it through.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { str, withGeneratedIds } from './blocks.ts';
import type { SlackState } from './state.ts';
import type { JsonObject, ResponseUrlPost, SlackMessage } from './types.ts';
import { validateMessage } from './validation.ts';
import { readBody } from './web-api.ts';

/** Serve one POST to a response_url and record it in `state.responses`. */
export async function handleResponseUrl(state: SlackState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = new URL(req.url ?? '/', 'http://127.0.0.1').pathname;
  const url = `${state.baseUrl}${path}`;
  const raw = await readBody(req);
  const finish = (status: number, effect: ResponseUrlPost['effect'], body: JsonObject, reply: string): void => {
    state.responses.push({ url, body, status, effect });
    res.writeHead(status, { 'content-type': status === 200 ? 'application/json' : 'text/plain' });
    res.end(reply);
  };
  let body: JsonObject;
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    body = parsed as JsonObject;
  } catch {
    return finish(400, 'rejected', { raw }, 'invalid_payload');
  }
  const target = state.useResponseUrl(path);
  if (typeof target === 'string') return finish(404, 'rejected', body, target);

  if (body.delete_original === true || body.delete_original === 'true') {
    if (target.messageTs) state.deleteMessage(target.channel, target.messageTs);
    const ephemeral = state.ephemerals.findIndex((e) => e.ts === target.ephemeralTs);
    if (ephemeral >= 0) state.ephemerals.splice(ephemeral, 1);
    return finish(200, 'deleted', body, '{"ok":true}');
  }
  const invalid = validateMessage(body);
  if (invalid) {
    state.validationErrors.push({ method: 'response_url', error: invalid.error, messages: invalid.messages, args: body });
    return finish(400, 'rejected', body, invalid.error);
  }
  const text = str(body.text) ?? '';
  const blocks = withGeneratedIds(body.blocks);
  if (body.replace_original === true || body.replace_original === 'true') {
    const original = target.messageTs ? state.findMessage(target.channel, target.messageTs) : undefined;
    const ephemeral = state.ephemerals.find((e) => e.ts === target.ephemeralTs);
    for (const replaced of [original, ephemeral]) {
      if (!replaced) continue;
      replaced.text = text;
      if (blocks) replaced.blocks = blocks;
      else delete replaced.blocks;
    }
    return finish(200, 'replaced', body, '{"ok":true}');
  }
  const threadTs = str(body.thread_ts) ?? target.threadTs;
  if (body.response_type === 'in_channel') {
    const { botUserId, botId, appId, teamId } = state.config;
    const message: SlackMessage = {
      type: 'message', ts: state.nextTs(), channel: target.channel, text, user: botUserId, bot_id: botId, app_id: appId, team: teamId,
    };
    if (blocks) message.blocks = blocks;
    if (threadTs) message.thread_ts = threadTs;
    state.addMessage(message);
    return finish(200, 'in_channel', body, '{"ok":true}');
  }
  state.ephemerals.push({
    channel: target.channel, user: target.user, text, ...(blocks ? { blocks } : {}), ...(threadTs ? { thread_ts: threadTs } : {}),
    ts: state.nextTs(), via: 'response_url',
  });
  return finish(200, 'ephemeral', body, '{"ok":true}');
}
