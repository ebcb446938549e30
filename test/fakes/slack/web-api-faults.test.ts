/**
 * The fake's message metadata, conversations.history and armed faults, driven with the real
 * `WebClient`: metadata is stored and read back only on request, history lists top-level
 * messages newest first with cursors, and each kind of fault looks to the client like the real
 * failure (platform error, HTTP 5xx, reset, timeout), with or without the call carried out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LogLevel, WebClient } from '@slack/web-api';
import { FakeSlack } from './fake-slack.ts';

const C = 'C0OPS00001';
const HUMAN = 'UHUMAN0001';
const META = { event_type: 'mithai_approval', event_payload: { approval_id: 'apr_1' } };

async function started(t: { after: (fn: () => Promise<void>) => void }): Promise<{ fake: FakeSlack; client: WebClient }> {
  const fake = await FakeSlack.start({ users: [{ id: HUMAN, name: 'alice' }] });
  t.after(() => fake.stop());
  return { fake, client: new WebClient(fake.config.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, timeout: 2_000, logLevel: LogLevel.ERROR }) };
}

const code = (c: string) => (e: { data?: { error?: string } }) => e.data?.error === c;

test('message metadata is stored, kept by an update without it, and read back only with include_all_metadata', async (t) => {
  const { fake, client } = await started(t);
  const root = await fake.postAsUser({ user: HUMAN, channel: C, text: 'restart api' });
  const card = await client.chat.postMessage({ channel: C, thread_ts: root.ts, text: 'card', metadata: META });
  await client.chat.update({ channel: C, ts: card.ts!, text: 'card (edited)' });
  assert.deepEqual(fake.messageAt(C, card.ts!)?.metadata, META);

  const plain = await client.conversations.replies({ channel: C, ts: root.ts });
  assert.deepEqual(plain.messages?.map((m) => m.metadata), [undefined, undefined]);
  const withMeta = await client.conversations.replies({ channel: C, ts: root.ts, include_all_metadata: true });
  assert.deepEqual(withMeta.messages?.map((m) => m.metadata), [undefined, META]);

  const replaced = { event_type: 'mithai_approval', event_payload: { approval_id: 'apr_2' } };
  await client.chat.update({ channel: C, ts: card.ts!, text: 'card', metadata: replaced });
  assert.deepEqual(fake.messageAt(C, card.ts!)?.metadata, replaced);
});

test('malformed metadata is refused like Slack does, and nothing is stored', async (t) => {
  const { fake, client } = await started(t);
  const bad = { event_type: '', event_payload: { a: 1 } };
  await assert.rejects(client.chat.postMessage({ channel: C, text: 'x', metadata: bad }), code('invalid_metadata_format'));
  assert.deepEqual(fake.messages(C), []);
  assert.deepEqual(fake.validationErrors.map((v) => v.error), ['invalid_metadata_format']);
});

test('conversations.history lists top-level messages newest first, pages with a cursor, metadata on request', async (t) => {
  const { fake, client } = await started(t);
  const first = await client.chat.postMessage({ channel: C, text: 'one', metadata: META });
  await client.chat.postMessage({ channel: C, thread_ts: first.ts!, text: 'a reply' });
  await client.chat.postMessage({ channel: C, text: 'two' });
  await client.chat.postMessage({ channel: C, text: 'three' });

  const page1 = await client.conversations.history({ channel: C, limit: 2 });
  assert.deepEqual(page1.messages?.map((m) => m.text), ['three', 'two']);
  assert.equal(page1.has_more, true);
  const page2 = await client.conversations.history({ channel: C, limit: 2, cursor: page1.response_metadata!.next_cursor!, include_all_metadata: true });
  assert.deepEqual(page2.messages?.map((m) => [m.text, m.metadata?.event_type]), [['one', 'mithai_approval']]);
  assert.equal(page2.has_more, false);
  assert.equal(page1.messages?.[0]?.metadata, undefined);
  await assert.rejects(client.conversations.history({ channel: 'C0EMPTY001' }), code('channel_not_found'));
  await assert.rejects(client.conversations.history({ channel: C, cursor: 'garbage' }), code('invalid_cursor'));
});

test('an armed platform error answers the next calls and changes nothing; then calls go through again', async (t) => {
  const { fake, client } = await started(t);
  const posted = await client.chat.postMessage({ channel: C, text: 'before' });
  fake.fail('chat.update', { error: 'internal_error' });
  fake.fail('chat.update', { error: 'service_unavailable' });
  await assert.rejects(client.chat.update({ channel: C, ts: posted.ts!, text: 'after' }), code('internal_error'));
  await assert.rejects(client.chat.update({ channel: C, ts: posted.ts!, text: 'after' }), code('service_unavailable'));
  assert.equal(fake.messageAt(C, posted.ts!)?.text, 'before');
  await client.chat.update({ channel: C, ts: posted.ts!, text: 'after' });
  assert.equal(fake.messageAt(C, posted.ts!)?.text, 'after');
  assert.deepEqual(fake.callsTo('chat.update').map((c) => c.fault), ['error:internal_error', 'error:service_unavailable', undefined]);
});

test('an armed HTTP status reaches the client as an HTTP error, `times` times', async (t) => {
  const { fake, client } = await started(t);
  fake.fail('chat.postMessage', { status: 503 }, { times: 2 });
  for (let i = 0; i < 2; i += 1) {
    await assert.rejects(client.chat.postMessage({ channel: C, text: 'x' }), (e: { code?: string; statusCode?: number }) => e.code === 'slack_webapi_http_error' && e.statusCode === 503);
  }
  assert.deepEqual(fake.messages(C), []);
  await client.chat.postMessage({ channel: C, text: 'x' });
  assert.deepEqual(fake.callsTo('chat.postMessage').map((c) => c.status), [503, 503, 200]);
});

test('a lost answer: the post is carried out, then the answer is a 500 or a reset connection', async (t) => {
  const { fake, client } = await started(t);
  fake.fail('chat.postMessage', { status: 500, carriedOut: true });
  fake.fail('chat.postMessage', { reset: true, carriedOut: true });
  await assert.rejects(client.chat.postMessage({ channel: C, text: 'first' }), (e: { code?: string; statusCode?: number }) => e.code === 'slack_webapi_http_error' && e.statusCode === 500);
  await assert.rejects(client.chat.postMessage({ channel: C, text: 'second' }), (e: { code?: string }) => e.code === 'slack_webapi_request_error');
  assert.deepEqual(fake.messages(C).map((m) => m.text), ['first', 'second'], 'Slack stored both');
  const calls = fake.callsTo('chat.postMessage');
  assert.deepEqual(calls.map((c) => c.fault), ['status:500+carried_out', 'reset+carried_out']);
  assert.equal(calls[0]?.response.ok, true, 'the record keeps the answer that was lost');
});

test('a reset without carrying out stores nothing; a hang runs into the client timeout', async (t) => {
  const fake = await FakeSlack.start();
  t.after(() => fake.stop());
  const client = new WebClient(fake.config.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 }, timeout: 50, logLevel: LogLevel.ERROR });
  fake.fail('chat.postMessage', { reset: true });
  await assert.rejects(client.chat.postMessage({ channel: C, text: 'x' }), (e: { code?: string }) => e.code === 'slack_webapi_request_error');
  fake.fail('chat.postMessage', { hang: true, carriedOut: true });
  await assert.rejects(client.chat.postMessage({ channel: C, text: 'stored, never answered' }), (e: { code?: string; original?: Error }) =>
    e.code === 'slack_webapi_request_error' && /abort|timeout/i.test(String(e.original?.name) + String(e.original?.message)));
  assert.deepEqual(fake.messages(C).map((m) => m.text), ['stored, never answered']);
});

test('a late answer: carried out at once and answered later, or carried out only when the answer goes', async (t) => {
  const { fake, client } = await started(t);
  fake.fail('chat.postMessage', { answerAfterMs: 200, carriedOut: true });
  const early = client.chat.postMessage({ channel: C, text: 'shown before the answer' });
  const stored = await new Promise<string | undefined>((resolve) => {
    const poll = setInterval(() => {
      const found = fake.messages(C).find((m) => m.text === 'shown before the answer');
      if (found) {
        clearInterval(poll);
        resolve(found.ts);
      }
    }, 5);
  });
  assert.equal(fake.callsTo('chat.postMessage').length, 0, 'stored while the answer is still held back');
  assert.equal((await early).ts, stored);
  assert.equal(fake.callsTo('chat.postMessage')[0]?.fault, 'late:200+carried_out');

  fake.fail('chat.postMessage', { answerAfterMs: 200 });
  const late = client.chat.postMessage({ channel: C, text: 'stored with the answer' });
  await new Promise((resolve) => setTimeout(resolve, 100));
  assert.equal(fake.messages(C).some((m) => m.text === 'stored with the answer'), false);
  const answered = await late;
  assert.equal(fake.messages(C).find((m) => m.text === 'stored with the answer')?.ts, answered.ts);
});
