/**
 * Self-tests of the fake's Slack Connect model, with WebClient and a bare Socket Mode client (and
 * the real Bolt for one round trip): users.info for users of other teams (`team_id`,
 * `is_stranger`, `enterprise_user`); conversations.info with Slack's sharing flags, its
 * `channel_not_found` and its bot token; `team` / `user_team` / `source_team` on events and
 * stored messages, and `is_ext_shared_channel` on the envelope; `user.team_id` on clicks; the
 * submitter's workspace in `team` and the app's in `view.app_installed_team_id` on submissions;
 * an Enterprise org on auth.test and envelopes.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { WebClient } from '@slack/web-api';
import { WebSocket } from 'ws';
import { FakeSlack } from './fake-slack.ts';
import type { FakeSlackOptions } from './fake-slack.ts';
import { startBoltApp } from './bolt-harness.ts';
import type { JsonObject } from './types.ts';

const C = 'C0OPS00001';
const SHARED = 'C0SHARED01';
const HUMAN = 'UHUMAN0001';
const GUEST = 'UGUEST0001';
const OTHER_TEAM = 'T0PARTNER1';

interface Rig {
  fake: FakeSlack;
  client: WebClient;
  envelopes: JsonObject[];
}

const connectUsers: FakeSlackOptions = {
  users: [
    { id: HUMAN, name: 'alice' },
    { id: GUEST, name: 'guest', teamId: OTHER_TEAM },
    { id: 'USTRANGER1', name: 'stranger', teamId: OTHER_TEAM, isStranger: true },
    { id: 'UGRID00001', name: 'grid', teamId: 'T0SISTER01', enterpriseId: 'E0FAKE0001' },
  ],
  channels: [
    { id: SHARED, name: 'partners', extShared: true, sharedTeamIds: [OTHER_TEAM] },
    { id: 'C0PENDING1', pendingExtShared: true, sharedTeamIds: [OTHER_TEAM] },
    { id: 'C0ORGWIDE1', orgShared: true, sharedTeamIds: ['T0SISTER01'] },
  ],
};

async function rig(t: { after: (fn: () => Promise<void>) => void }, options: FakeSlackOptions = connectUsers): Promise<Rig> {
  const fake = await FakeSlack.start(options);
  t.after(() => fake.stop());
  const client = new WebClient(fake.config.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  const appClient = new WebClient(fake.config.appToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  const { url } = (await appClient.apps.connections.open()) as { url: string };
  const ws = new WebSocket(url);
  t.after(async () => ws.close());
  const envelopes: JsonObject[] = [];
  ws.on('message', (d) => {
    const message = JSON.parse(String(d)) as JsonObject;
    if (typeof message.envelope_id !== 'string') return;
    envelopes.push(message);
    ws.send(JSON.stringify({ envelope_id: message.envelope_id, payload: {} }));
  });
  await fake.waitForConnections(1);
  return { fake, client, envelopes };
}

/** Matches the Web API client's error for a Slack error code. */
const platformError = (error: string) => (err: unknown): boolean => {
  const e = err as { code?: string; data?: { error?: string } };
  return e.code === 'slack_webapi_platform_error' && e.data?.error === error;
};

test('users.info names a user\'s home team, marks strangers, and gives Enterprise members their org', async (t) => {
  const { fake, client } = await rig(t);
  const user = async (id: string) => (await client.users.info({ user: id })).user as JsonObject;
  assert.equal((await user(HUMAN)).team_id, fake.config.teamId);
  assert.equal((await user(HUMAN)).is_stranger, undefined);
  assert.equal((await user(HUMAN)).enterprise_user, undefined, 'no Enterprise org configured');
  assert.equal((await user(GUEST)).team_id, OTHER_TEAM);
  assert.deepEqual([(await user('USTRANGER1')).is_stranger, (await user('USTRANGER1')).team_id], [true, OTHER_TEAM]);
  assert.equal((await user('USTRANGER1')).real_name, undefined, 'a stranger\'s profile is reduced');
  const grid = await user('UGRID00001');
  assert.equal(grid.team_id, 'T0SISTER01');
  assert.equal((grid.enterprise_user as JsonObject).enterprise_id, 'E0FAKE0001');
  await assert.rejects(client.users.info({ user: 'UNOBODY001' }), platformError('user_not_found'));
});

test('conversations.info: sharing flags per kind of channel, DMs, channel_not_found, and only with the bot token', async (t) => {
  const { fake, client } = await rig(t);
  const info = async (id: string) => (await client.conversations.info({ channel: id })).channel as JsonObject;
  const flags = (c: JsonObject) => [c.is_shared, c.is_ext_shared, c.is_org_shared, c.is_pending_ext_shared];
  await assert.rejects(client.conversations.info({ channel: C }), platformError('channel_not_found'), 'a channel nobody has posted in is unknown');
  await fake.postAsUser({ user: HUMAN, channel: C, text: 'hello' });
  const plain = await info(C);
  assert.deepEqual(flags(plain), [false, false, false, false]);
  assert.deepEqual([plain.id, plain.is_channel, plain.is_private, plain.shared_team_ids], [C, true, false, [fake.config.teamId]]);
  const shared = await info(SHARED);
  assert.deepEqual(flags(shared), [true, true, false, false]);
  assert.deepEqual([shared.name, shared.shared_team_ids, shared.conversation_host_id], ['partners', [fake.config.teamId, OTHER_TEAM], fake.config.teamId]);
  const pending = await info('C0PENDING1');
  assert.deepEqual(flags(pending), [false, false, false, true]);
  assert.deepEqual(pending.pending_connected_team_ids, [OTHER_TEAM]);
  assert.deepEqual(flags(await info('C0ORGWIDE1')), [true, false, true, false]);
  await fake.message({ user: HUMAN, channel: 'D0ALICE001', channelType: 'im', text: 'hi' });
  const dm = await info('D0ALICE001');
  assert.deepEqual([dm.is_im, dm.user, dm.is_ext_shared], [true, HUMAN, false]);

  fake.setChannel({ id: C, extShared: true, sharedTeamIds: [OTHER_TEAM] });
  assert.deepEqual(flags(await info(C)), [true, true, false, false], 'a channel can become shared mid-test');

  const appClient = new WebClient(fake.config.appToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  await assert.rejects(appClient.conversations.info({ channel: C }), platformError('not_allowed_token_type'));
  fake.fail('conversations.info', { error: 'internal_error' });
  await assert.rejects(client.conversations.info({ channel: C }), platformError('internal_error'), 'faults can be armed like on any method');
});

test('events: another team\'s user is named in team / user_team / source_team; shared channels say is_ext_shared_channel', async (t) => {
  const { fake, client, envelopes } = await rig(t);
  await fake.mention({ user: HUMAN, channel: C, text: 'inside' });
  await fake.mention({ user: GUEST, channel: SHARED, text: 'from a partner' });
  await fake.mention({ user: HUMAN, channel: SHARED, text: 'ours, in the shared channel' });
  await fake.mention({ user: 'USTRANGER1', channel: SHARED, text: 'no team hint', withoutTeam: true });
  const [inside, guest, ours, hintless] = envelopes.map((e) => e.payload as JsonObject);
  const event = (body: JsonObject | undefined) => body?.event as JsonObject;
  const teams = (body: JsonObject | undefined) => [event(body).team, event(body).user_team, event(body).source_team];
  assert.deepEqual(teams(inside), [fake.config.teamId, undefined, undefined]);
  assert.equal(inside?.is_ext_shared_channel, false);
  assert.deepEqual(teams(guest), [OTHER_TEAM, OTHER_TEAM, OTHER_TEAM]);
  assert.equal(guest?.is_ext_shared_channel, true);
  assert.equal(guest?.team_id, fake.config.teamId, 'the envelope names the app\'s workspace');
  assert.deepEqual(teams(ours), [fake.config.teamId, fake.config.teamId, fake.config.teamId]);
  assert.deepEqual(teams(hintless), [undefined, undefined, undefined]);

  const thread = await client.conversations.replies({ channel: SHARED, ts: String(event(guest).ts) });
  const stored = thread.messages?.[0] as JsonObject;
  assert.deepEqual([stored.team, stored.user_team, stored.source_team], [OTHER_TEAM, OTHER_TEAM, OTHER_TEAM], 'history says it too');
});

test('a click names the app\'s workspace in team and the clicker\'s in user.team_id; a submission names the submitter\'s workspace', async (t) => {
  const { fake, client, envelopes } = await rig(t);
  const blocks = [{ type: 'actions', elements: [{ type: 'button', action_id: 'open', text: { type: 'plain_text', text: 'Open' } }] }];
  const posted = await client.chat.postMessage({ channel: SHARED, text: 'x', blocks });
  const { triggerId } = await fake.clickButton({ user: GUEST, channel: SHARED, messageTs: posted.ts!, actionId: 'open' });
  const click = envelopes.at(-1)?.payload as JsonObject;
  assert.deepEqual(click.user, { id: GUEST, username: 'guest', name: 'guest', team_id: OTHER_TEAM });
  assert.equal((click.team as JsonObject).id, fake.config.teamId);
  const view = {
    type: 'modal' as const, callback_id: 'form', title: { type: 'plain_text' as const, text: 'Form' }, submit: { type: 'plain_text' as const, text: 'Go' },
    blocks: [{ type: 'input', block_id: 'why', label: { type: 'plain_text', text: 'Why' }, element: { type: 'plain_text_input', action_id: 'why_text' } }],
  };
  const opened = await client.views.open({ trigger_id: triggerId, view });
  assert.deepEqual([opened.view?.team_id, opened.view?.app_installed_team_id], [OTHER_TEAM, fake.config.teamId]);
  await fake.submitView({ user: GUEST, viewId: opened.view!.id!, values: { why: 'because' } });
  const submission = envelopes.at(-1)?.payload as JsonObject;
  assert.deepEqual([(submission.team as JsonObject).id, (submission.user as JsonObject).team_id], [OTHER_TEAM, OTHER_TEAM]);
  assert.equal((submission.view as JsonObject).app_installed_team_id, fake.config.teamId);
});

test('with an Enterprise org: auth.test, envelopes and payloads carry it; real Bolt receives a Slack Connect event', async (t) => {
  const fake = await FakeSlack.start({ ...connectUsers, enterpriseId: 'E0FAKE0001' });
  let received: (seen: { body: JsonObject; event: JsonObject }) => void = () => undefined;
  const seen = new Promise<{ body: JsonObject; event: JsonObject }>((resolve) => (received = resolve));
  const bolt = await startBoltApp(fake, { register: (app) => app.event('app_mention', async ({ body, event }) => received({ body: body as unknown as JsonObject, event: event as unknown as JsonObject })) });
  t.after(async () => {
    await bolt.stop();
    await fake.stop();
  });
  const client = new WebClient(fake.config.botToken, { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } });
  assert.equal((await client.auth.test()).enterprise_id, 'E0FAKE0001');
  await fake.mention({ user: GUEST, channel: SHARED, text: 'hello from a partner' });
  const { body, event } = await seen;
  assert.equal(body.is_ext_shared_channel, true);
  assert.equal(body.enterprise_id, 'E0FAKE0001');
  assert.equal((body.authorizations as JsonObject[])[0]?.enterprise_id, 'E0FAKE0001');
  assert.equal(event.user_team, OTHER_TEAM);
  assert.equal(((await client.users.info({ user: HUMAN })).user?.enterprise_user as JsonObject | undefined)?.enterprise_id, 'E0FAKE0001', 'members of the own team are in the org too');
});
