/**
 * Payload shapes the fake pushes (app_mention, block_actions, view_submission) and how it
 * applies view_submission acks, checked with a bare Socket Mode client (no Bolt) that records
 * envelopes and answers with whatever the test scripts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebClient } from '@slack/web-api';
import { WebSocket } from 'ws';
import { FakeSlack } from './fake-slack.ts';
import type { JsonObject } from './types.ts';

const C = 'C0OPS00001';
const HUMAN = 'UHUMAN0001';

interface Rig {
  fake: FakeSlack;
  client: WebClient;
  envelopes: JsonObject[];
  /** What the client acks the next envelopes with (default `{}`). */
  answers: JsonObject[];
}

async function rig(t: { after: (fn: () => Promise<void>) => void }): Promise<Rig> {
  const fake = await FakeSlack.start({ users: [{ id: HUMAN, name: 'alice' }] });
  t.after(() => fake.stop());
  const client = new WebClient(fake.config.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  const appClient = new WebClient(fake.config.appToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  const { url } = (await appClient.apps.connections.open()) as { url: string };
  const ws = new WebSocket(url);
  t.after(async () => ws.close());
  const envelopes: JsonObject[] = [];
  const answers: JsonObject[] = [];
  ws.on('message', (d) => {
    const message = JSON.parse(String(d)) as JsonObject;
    if (typeof message.envelope_id !== 'string') return;
    envelopes.push(message);
    ws.send(JSON.stringify({ envelope_id: message.envelope_id, payload: answers.shift() ?? {} }));
  });
  await fake.waitForConnections(1);
  return { fake, client, envelopes, answers };
}

test('app_mention envelope carries a realistic Events API body', async (t) => {
  const { fake, envelopes } = await rig(t);
  const root = await fake.postAsUser({ user: 'UOTHER0001', channel: C, text: 'root' });
  const sent = await fake.mention({ user: HUMAN, channel: C, text: 'status?', threadTs: root.ts });
  const [envelope] = envelopes;
  assert.deepEqual([envelope?.type, envelope?.accepts_response_payload, envelope?.retry_attempt], ['events_api', false, 0]);
  const body = envelope?.payload as JsonObject;
  const { teamId, appId, botUserId } = fake.config;
  assert.deepEqual([body.type, body.team_id, body.api_app_id, body.event_id], ['event_callback', teamId, appId, sent.eventId]);
  assert.deepEqual(body.authorizations, [{ enterprise_id: null, team_id: teamId, user_id: botUserId, is_bot: true, is_enterprise_install: false }]);
  const event = body.event as JsonObject;
  assert.equal(event.type, 'app_mention');
  assert.equal(event.text, `<@${botUserId}> status?`);
  assert.deepEqual([event.ts, event.event_ts, event.thread_ts, event.channel, event.user], [sent.ts, sent.ts, root.ts, C, HUMAN]);
  assert.deepEqual(fake.thread(C, root.ts).map((m) => m.text), ['root', `<@${botUserId}> status?`]);
});

test('block_actions payload is built from the posted message; ephemeral buttons work too', async (t) => {
  const { fake, client, envelopes } = await rig(t);
  const blocks = [
    { type: 'section', text: { type: 'mrkdwn', text: 'ok?' } },
    { type: 'actions', elements: [{ type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, value: 'r1' }] },
  ];
  const posted = await client.chat.postMessage({ channel: C, text: 'ok?', blocks });
  const stored = fake.messageAt(C, posted.ts!);
  const blockId = stored?.blocks?.[1]?.block_id;
  assert.equal(typeof blockId, 'string', 'Slack fills in missing block_ids');
  const click = await fake.clickButton({ user: HUMAN, channel: C, messageTs: posted.ts!, actionId: 'approve' });
  const payload = envelopes[0]?.payload as JsonObject;
  assert.equal(payload.type, 'block_actions');
  assert.deepEqual(payload.user, { id: HUMAN, username: 'alice', name: 'alice', team_id: fake.config.teamId });
  assert.deepEqual(payload.container, { type: 'message', message_ts: posted.ts, channel_id: C, is_ephemeral: false });
  assert.equal((payload.message as JsonObject).ts, posted.ts);
  assert.deepEqual((payload.message as JsonObject).blocks, stored?.blocks);
  assert.equal(payload.trigger_id, click.triggerId);
  assert.equal(payload.response_url, click.responseUrl);
  const [action] = payload.actions as JsonObject[];
  assert.deepEqual([action?.type, action?.action_id, action?.block_id, action?.value], ['button', 'approve', blockId, 'r1']);

  const eph = await client.chat.postEphemeral({ channel: C, user: HUMAN, text: 'ok?', blocks });
  await fake.clickButton({ user: HUMAN, channel: C, messageTs: eph.message_ts!, actionId: 'approve' });
  const ephPayload = envelopes[1]?.payload as JsonObject;
  assert.equal((ephPayload.container as JsonObject).is_ephemeral, true);
  assert.equal(ephPayload.message, undefined);
  await assert.rejects(fake.clickButton({ user: 'UOTHER0001', channel: C, messageTs: eph.message_ts!, actionId: 'approve' }), /that UOTHER0001 can see/);
});

test('view_submission: state.values per element type; acks update, push, errors and clear the stack', async (t) => {
  const { fake, client, envelopes, answers } = await rig(t);
  const blocks = [{ type: 'actions', elements: [{ type: 'button', action_id: 'open', text: { type: 'plain_text', text: 'Open' } }] }];
  const posted = await client.chat.postMessage({ channel: C, text: 'x', blocks });
  const { triggerId } = await fake.clickButton({ user: HUMAN, channel: C, messageTs: posted.ts!, actionId: 'open' });
  const option = (v: string) => ({ text: { type: 'plain_text', text: v }, value: v });
  const view = {
    type: 'modal' as const, callback_id: 'form', private_metadata: 'meta', title: { type: 'plain_text' as const, text: 'Form' },
    submit: { type: 'plain_text' as const, text: 'Save' },
    blocks: [
      { type: 'input', block_id: 'why', label: { type: 'plain_text', text: 'Why' }, element: { type: 'plain_text_input', action_id: 'why_text', max_length: 20 } },
      { type: 'input', block_id: 'env', label: { type: 'plain_text', text: 'Env' }, element: { type: 'static_select', action_id: 'env_pick', options: [option('prod'), option('dev')] } },
      { type: 'input', block_id: 'note', optional: true, label: { type: 'plain_text', text: 'Note' }, element: { type: 'plain_text_input', action_id: 'note_text' } },
    ],
  };
  const opened = await client.views.open({ trigger_id: triggerId, view });
  const viewId = opened.view!.id!;
  await assert.rejects(fake.submitView({ user: HUMAN, viewId, values: { why_text: 'x', env: 'staging' } }), /no option with value "staging"/);
  await assert.rejects(fake.submitView({ user: HUMAN, viewId, values: { why_text: 'x'.repeat(21), env: 'dev' } }), /0-20 characters/);
  await assert.rejects(fake.submitView({ user: HUMAN, viewId, values: { why: 'x', env: 'dev', color: 'red' } }), /no input for color/);

  answers.push({ response_action: 'errors', errors: { env: 'Not now', bogus: 'x' } });
  await fake.submitView({ user: HUMAN, viewId, values: { why: 'because', env: 'dev' } });
  const submitted = envelopes.at(-1)!;
  assert.equal(submitted.accepts_response_payload, true);
  const sentView = (submitted.payload as JsonObject).view as JsonObject;
  assert.deepEqual([sentView.id, sentView.callback_id, sentView.private_metadata], [viewId, 'form', 'meta']);
  assert.deepEqual((sentView.state as JsonObject).values, {
    why: { why_text: { type: 'plain_text_input', value: 'because' } },
    env: { env_pick: { type: 'static_select', selected_option: option('dev') } },
    note: { note_text: { type: 'plain_text_input', value: null } },
  });
  assert.deepEqual(fake.validationErrors.map((v) => [v.method, v.messages]), [
    ['ack:view_submission', ['[ERROR] no input block with block_id: bogus [json-pointer:/errors/bogus]']],
  ]);

  answers.push({ response_action: 'update', view: { ...view, title: { type: 'plain_text', text: 'Step 2' } } });
  await fake.submitView({ user: HUMAN, viewId, values: { why: 'because', env: 'prod' } });
  assert.equal((fake.openedViews[0]?.view.title as JsonObject).text, 'Step 2');
  answers.push({ response_action: 'push', view: { type: 'modal', title: { type: 'plain_text', text: 'Done' }, blocks: [] } });
  await fake.submitView({ user: HUMAN, viewId, values: { why: 'because', env: 'prod' } });
  assert.deepEqual(fake.openedViews.map((v) => [v.state, v.rootViewId]), [['open', viewId], ['open', viewId]]);
  answers.push({ response_action: 'clear' });
  await fake.submitView({ user: HUMAN, viewId, values: { why: 'because', env: 'prod' } });
  assert.deepEqual(fake.openedViews.map((v) => v.state), ['closed', 'closed']);
  await assert.rejects(fake.submitView({ user: HUMAN, viewId, values: {} }), /no open view/);
});
