/**
 * Protocol tests of the fake's Web API, response_url sink and Socket Mode endpoint with plain
 * `fetch`, `WebClient` and `ws` (no Bolt): body encodings, auth, Slack's error codes per
 * method, rate limiting, ids and timestamps, trigger and response_url rules, tickets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebClient } from '@slack/web-api';
import { WebSocket } from 'ws';
import { FakeSlack } from './fake-slack.ts';
import type { JsonObject } from './types.ts';

const C = 'C0OPS00001';
const HUMAN = 'UHUMAN0001';

async function started(t: { after: (fn: () => Promise<void>) => void }): Promise<FakeSlack> {
  const fake = await FakeSlack.start({ users: [{ id: HUMAN, name: 'alice' }, { id: 'UROBOT0001', name: 'robot', isBot: true }] });
  t.after(() => fake.stop());
  return fake;
}

/** POST a form body the way WebClient does. */
async function form(fake: FakeSlack, method: string, args: Record<string, string>, token?: string): Promise<JsonObject> {
  const res = await fetch(fake.apiUrl + method, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: new URLSearchParams(args).toString(),
  });
  return (await res.json()) as JsonObject;
}

/** Connect a bare Socket Mode client that answers every envelope with `answer(envelope)`. */
async function rawClient(t: { after: (fn: () => Promise<void>) => void }, fake: FakeSlack, answer: (e: JsonObject) => JsonObject): Promise<string> {
  const { url } = (await form(fake, 'apps.connections.open', {}, fake.config.appToken)) as { url: string };
  const before = fake.connectionsOpened;
  const ws = new WebSocket(url);
  t.after(async () => ws.close());
  ws.on('message', (d) => {
    const message = JSON.parse(String(d)) as JsonObject;
    if (typeof message.envelope_id === 'string') ws.send(JSON.stringify({ envelope_id: message.envelope_id, payload: answer(message) }));
  });
  await fake.waitForConnections(before + 1);
  return url;
}

async function json(fake: FakeSlack, method: string, body: JsonObject, token?: string): Promise<JsonObject> {
  const res = await fetch(fake.apiUrl + method, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });
  return (await res.json()) as JsonObject;
}

test('auth: header or form token; JSON bodies need the header; token kinds are not interchangeable', async (t) => {
  const fake = await started(t);
  const { botToken, appToken, botUserId, botId, teamId } = fake.config;
  assert.deepEqual(await form(fake, 'auth.test', {}), { ok: false, error: 'not_authed' });
  assert.deepEqual(await form(fake, 'auth.test', {}, 'xoxb-nope'), { ok: false, error: 'invalid_auth' });
  const ok = await form(fake, 'auth.test', { token: botToken, team_id: teamId });
  assert.equal(ok.user_id, botUserId);
  assert.equal(ok.bot_id, botId);
  assert.deepEqual(await json(fake, 'auth.test', { token: botToken }), { ok: false, error: 'not_authed' });
  assert.equal((await json(fake, 'auth.test', {}, botToken)).ok, true);
  assert.deepEqual(await form(fake, 'chat.postMessage', { channel: C, text: 'x' }, appToken), { ok: false, error: 'not_allowed_token_type' });
  assert.deepEqual(await form(fake, 'apps.connections.open', {}, botToken), { ok: false, error: 'not_allowed_token_type' });
  assert.match(String((await form(fake, 'apps.connections.open', {}, appToken)).url), /^ws:\/\/127\.0\.0\.1:\d+\/link\/\?ticket=/);
  assert.deepEqual(await form(fake, 'chat.nope', {}, botToken), { ok: false, error: 'unknown_method' });
  assert.deepEqual(fake.calls.at(-1)?.args, {});
});

test('chat.postMessage / update / postEphemeral: ts order, threads, Slack error codes', async (t) => {
  const fake = await started(t);
  const client = new WebClient(fake.config.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  const a = await client.chat.postMessage({ channel: C, text: 'one' });
  const b = await client.chat.postMessage({ channel: C, text: 'two', thread_ts: a.ts! });
  assert.ok(Number(b.ts) > Number(a.ts));
  assert.equal(b.message?.thread_ts, a.ts);
  assert.equal(fake.messageAt(C, a.ts!)?.reply_count, 1);
  const dm = await client.chat.postMessage({ channel: HUMAN, text: 'psst' });
  assert.equal(dm.channel, 'DHUMAN0001');

  const platformError = (code: string) => (e: { data?: { error?: string } }) => e.data?.error === code;
  await assert.rejects(client.chat.postMessage({ channel: C, text: '' }), platformError('no_text'));
  await assert.rejects(client.chat.postMessage({ channel: C, text: 'x'.repeat(40_001) }), platformError('msg_too_long'));
  await assert.rejects(client.chat.update({ channel: C, ts: '1.000001', text: 'x' }), platformError('message_not_found'));
  const user = await fake.postAsUser({ user: HUMAN, channel: C, text: 'mine' });
  await assert.rejects(client.chat.update({ channel: C, ts: user.ts, text: 'x' }), platformError('cant_update_message'));
  await client.chat.update({ channel: C, ts: a.ts!, text: 'one (edited)' });
  assert.equal(fake.messageAt(C, a.ts!)?.text, 'one (edited)');

  await assert.rejects(client.chat.postEphemeral({ channel: C, user: 'UNOBODY001', text: 'x' }), platformError('user_not_found'));
  const eph = await client.chat.postEphemeral({ channel: C, user: HUMAN, text: 'only you' });
  assert.deepEqual(fake.ephemerals.map((e) => [e.ts, e.user, e.text]), [[eph.message_ts, HUMAN, 'only you']]);
  assert.deepEqual(fake.validationErrors.map((v) => v.error), ['no_text', 'msg_too_long']);
});

test('reactions, users.info and conversations.replies errors', async (t) => {
  const fake = await started(t);
  const client = new WebClient(fake.config.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  const { ts } = await fake.postAsUser({ user: HUMAN, channel: C, text: 'hi' });
  const code = (c: string) => (e: { data?: { error?: string } }) => e.data?.error === c;
  await client.reactions.add({ channel: C, timestamp: ts, name: 'eyes' });
  await assert.rejects(client.reactions.add({ channel: C, timestamp: ts, name: 'eyes' }), code('already_reacted'));
  await client.reactions.remove({ channel: C, timestamp: ts, name: 'eyes' });
  await assert.rejects(client.reactions.remove({ channel: C, timestamp: ts, name: 'eyes' }), code('no_reaction'));
  await assert.rejects(client.reactions.add({ channel: C, timestamp: '1.1', name: 'eyes' }), code('message_not_found'));
  assert.equal((await client.users.info({ user: 'UROBOT0001' })).user?.is_bot, true);
  await assert.rejects(client.users.info({ user: 'UNOBODY001' }), code('user_not_found'));
  await assert.rejects(client.conversations.replies({ channel: 'C0EMPTY001', ts }), code('channel_not_found'));
  await assert.rejects(client.conversations.replies({ channel: C, ts: '1.1' }), code('thread_not_found'));
  await assert.rejects(client.conversations.replies({ channel: C, ts, cursor: 'garbage' }), code('invalid_cursor'));
});

test('rate limits: 429 + Retry-After for the armed number of calls; WebClient retries past it', async (t) => {
  const fake = await started(t);
  fake.rateLimit('chat.postMessage', { times: 2, retryAfterSeconds: 0 });
  const res = await fetch(`${fake.apiUrl}chat.postMessage`, { method: 'POST', headers: { authorization: `Bearer ${fake.config.botToken}` } });
  assert.equal(res.status, 429);
  assert.equal(res.headers.get('retry-after'), '0');
  assert.deepEqual(await res.json(), { ok: false, error: 'ratelimited' });
  const client = new WebClient(fake.config.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 2, minTimeout: 0, maxTimeout: 0 } });
  assert.equal((await client.chat.postMessage({ channel: C, text: 'eventually' })).ok, true);
  assert.deepEqual(fake.callsTo('chat.postMessage').map((c) => c.status), [429, 429, 200]);
});

test('views: trigger_id rules, modal validation, update by id / external_id with hash', async (t) => {
  const fake = await started(t);
  const client = new WebClient(fake.config.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  const view = { type: 'modal' as const, title: { type: 'plain_text' as const, text: 'Hi' }, blocks: [] };
  const code = (c: string) => (e: { data?: { error?: string } }) => e.data?.error === c;
  await assert.rejects(client.views.open({ trigger_id: '1.2.3', view }), code('invalid_trigger_id'));
  const longTitle = { ...view, title: { type: 'plain_text' as const, text: 'x'.repeat(25) } };
  await assert.rejects(client.views.open({ trigger_id: '1.2.3', view: longTitle }), (e: { data?: JsonObject }) => {
    const messages = (e.data?.response_metadata as { messages: string[] }).messages;
    return e.data?.error === 'invalid_arguments' && messages[0] === '[ERROR] must be less than 25 characters [json-pointer:/view/title/text]';
  });
  await assert.rejects(client.views.update({ view_id: 'VNOPE', view }), code('not_found'));
  assert.equal(fake.openedViews.length, 0);

  await rawClient(t, fake, () => ({}));
  const blocks = [{ type: 'actions', elements: [{ type: 'button', action_id: 'edit', text: { type: 'plain_text', text: 'Edit' } }] }];
  const posted = await client.chat.postMessage({ channel: C, text: 'x', blocks });
  const { triggerId } = await fake.clickButton({ user: HUMAN, channel: C, messageTs: posted.ts!, actionId: 'edit' });
  const opened = await client.views.open({ trigger_id: triggerId, view: { ...view, external_id: 'ext-1' } });
  assert.match(String(opened.view?.id), /^V[A-Z0-9]+$/);
  await assert.rejects(client.views.open({ trigger_id: triggerId, view }), code('exchanged_trigger_id'));
  await assert.rejects(client.views.update({ view_id: opened.view!.id!, hash: 'stale', view }), code('hash_conflict'));
  const renamed = { ...view, title: { type: 'plain_text' as const, text: 'Renamed' } };
  await client.views.update({ external_id: 'ext-1', hash: opened.view!.hash!, view: renamed });
  assert.deepEqual(fake.openedViews.map((v) => [v.id, (v.view.title as JsonObject).text, v.user]), [[opened.view!.id, 'Renamed', HUMAN]]);
});

test('views.open: a trigger_id expires', async (t) => {
  const fake = await FakeSlack.start({ triggerTtlMs: 1 });
  t.after(() => fake.stop());
  await rawClient(t, fake, () => ({}));
  const client = new WebClient(fake.config.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  const blocks = [{ type: 'actions', elements: [{ type: 'button', action_id: 'go', text: { type: 'plain_text', text: 'Go' } }] }];
  const posted = await client.chat.postMessage({ channel: C, text: 'x', blocks });
  const { triggerId } = await fake.clickButton({ user: HUMAN, channel: C, messageTs: posted.ts!, actionId: 'go' });
  await new Promise((resolve) => setTimeout(resolve, 10));
  const view = { type: 'modal' as const, title: { type: 'plain_text' as const, text: 'Hi' }, blocks: [] };
  await assert.rejects(client.views.open({ trigger_id: triggerId, view }), (e: { data?: { error?: string } }) => e.data?.error === 'expired_trigger_id');
});

test('response_url: replace and delete the original, 5 uses, invalid payloads refused', async (t) => {
  const fake = await started(t);
  const client = new WebClient(fake.config.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  const blocks = [{ type: 'actions', elements: [{ type: 'button', action_id: 'ok', text: { type: 'plain_text', text: 'OK' }, value: 'v' }] }];
  const posted = await client.chat.postMessage({ channel: C, text: 'pick', blocks });
  await rawClient(t, fake, () => ({}));
  const { responseUrl: url } = await fake.clickButton({ user: HUMAN, channel: C, messageTs: posted.ts!, actionId: 'ok' });
  const post = (body: JsonObject) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  assert.equal((await post({ replace_original: true, text: 'picked' })).status, 200);
  assert.equal(fake.messageAt(C, posted.ts!)?.text, 'picked');
  assert.equal(fake.messageAt(C, posted.ts!)?.blocks, undefined);
  const bad = await post({ text: 'x', blocks: [{ type: 'header', text: { type: 'mrkdwn', text: 'h' } }] });
  assert.equal(bad.status, 400);
  assert.equal(await bad.text(), 'invalid_blocks');
  assert.equal((await post({ response_type: 'in_channel', text: 'for all' })).status, 200);
  assert.equal((await post({ delete_original: true })).status, 200);
  assert.equal(fake.messageAt(C, posted.ts!), undefined);
  assert.equal((await post({ text: 'fifth' })).status, 200);
  const sixth = await post({ text: 'sixth' });
  assert.equal(sixth.status, 404);
  assert.equal(await sixth.text(), 'used_url');
  assert.deepEqual(fake.responses.map((r) => r.effect), ['replaced', 'rejected', 'in_channel', 'deleted', 'ephemeral', 'rejected']);
});

test('socket mode: hello, envelopes and acks, single-use tickets', async (t) => {
  const fake = await started(t);
  const { url } = (await form(fake, 'apps.connections.open', {}, fake.config.appToken)) as { url: string };
  const ws = new WebSocket(url);
  t.after(async () => ws.close());
  const hello = await new Promise<JsonObject>((resolve) => ws.once('message', (d) => resolve(JSON.parse(String(d)) as JsonObject)));
  assert.equal(hello.type, 'hello');
  assert.deepEqual(hello.connection_info, { app_id: fake.config.appId });
  const reused = new WebSocket(url);
  const refused = await new Promise<string>((resolve) => reused.once('error', (e) => resolve(e.message)));
  assert.match(refused, /401/);
  ws.close();
  await new Promise((resolve) => ws.once('close', resolve));

  const envelopes: JsonObject[] = [];
  await rawClient(t, fake, (envelope) => {
    envelopes.push(envelope);
    return { text: 'got it' };
  });
  const sent = await fake.message({ user: HUMAN, channel: C, text: 'hi', channelType: 'im' });
  assert.deepEqual(sent.ack.payload, { text: 'got it' });
  const [envelope] = envelopes;
  assert.equal(envelope?.type, 'events_api');
  assert.equal(envelope?.accepts_response_payload, false);
  const event = (envelope?.payload as JsonObject).event as JsonObject;
  assert.deepEqual([event.type, event.channel_type, event.user, event.ts], ['message', 'im', HUMAN, sent.ts]);
  assert.deepEqual(fake.acks.map((a) => a.payload), [{ text: 'got it' }]);
});

test('assistant.threads.setStatus: only in an assistant thread; cleared by an empty status or by the app posting in the thread', async (t) => {
  const fake = await started(t);
  const client = new WebClient(fake.config.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  const root = await fake.postAsUser({ user: HUMAN, channel: C, text: 'help me' });
  const set = (args: JsonObject) => json(fake, 'assistant.threads.setStatus', args, fake.config.botToken);

  assert.deepEqual(await set({ channel_id: C, thread_ts: root.ts, status: 'is thinking…' }), { ok: false, error: 'invalid_thread_ts' }, 'a plain thread is not an assistant thread');
  assert.equal((await set({ channel_id: 'C0UNKNOWN1', thread_ts: root.ts, status: 'x' })).error, 'channel_not_found');
  assert.equal((await set({ channel_id: C, thread_ts: root.ts })).error, 'invalid_arguments', 'status is required');
  assert.equal((await json(fake, 'assistant.threads.setStatus', { channel_id: C, thread_ts: root.ts, status: 'x' }, fake.config.appToken)).error, 'not_allowed_token_type');

  fake.markAssistantThread(C, root.ts);
  await client.assistant.threads.setStatus({ channel_id: C, thread_ts: root.ts, status: 'is running ops__status…' });
  assert.equal(fake.threadStatus(C, root.ts), 'is running ops__status…');
  assert.equal((await set({ channel_id: C, thread_ts: root.ts, status: 'x', loading_messages: Array.from({ length: 11 }, () => 'm') })).error, 'invalid_arguments');
  await client.assistant.threads.setStatus({ channel_id: C, thread_ts: root.ts, status: '' });
  assert.equal(fake.threadStatus(C, root.ts), undefined, 'an empty status clears it');

  await client.assistant.threads.setStatus({ channel_id: C, thread_ts: root.ts, status: 'is thinking…' });
  await client.chat.postMessage({ channel: C, thread_ts: root.ts, text: 'the answer' });
  assert.equal(fake.threadStatus(C, root.ts), undefined, 'the app replying in the thread clears it');
});
