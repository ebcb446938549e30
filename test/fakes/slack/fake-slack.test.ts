/**
 * Self-tests of the fake Slack, driving the real `@slack/bolt` App in Socket Mode against it:
 * mention → threaded reply with buttons → click → chat.update + respond(); a modal opened from
 * a click and submitted (errors ack, then close); Slack's refusals surfacing as Bolt errors
 * (invalid_blocks, invalid_auth, ratelimited); reconnect after `disconnect`; thread history
 * pagination; event re-delivery; un-acked interactions failing loudly.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { App, LogLevel } from '@slack/bolt';
import type { BlockAction, SayArguments } from '@slack/bolt';
import { FakeSlack } from './fake-slack.ts';
import { silentLogger, startBoltApp } from './bolt-harness.ts';
import type { BoltHarness, BoltHarnessOptions } from './bolt-harness.ts';

const CHANNEL = 'C0OPS00001';
const HUMAN = 'UHUMAN0001';

/** Start a fake and a Bolt app; both are stopped (client first) when the test ends. */
async function setup(t: { after: (fn: () => Promise<void>) => void }, options: BoltHarnessOptions = {}): Promise<{ fake: FakeSlack; bolt: BoltHarness }> {
  const fake = await FakeSlack.start({ users: [{ id: HUMAN, name: 'alice' }] });
  let bolt: BoltHarness | undefined;
  t.after(async () => {
    await bolt?.stop();
    await fake.stop();
  });
  bolt = await startBoltApp(fake, options);
  return { fake, bolt };
}

/** The approval UI the test app posts: a section and an actions block with two buttons. */
function approvalMessage(threadTs: string): SayArguments {
  return {
    text: 'Restart web-1?',
    thread_ts: threadTs,
    blocks: [
      { type: 'section', block_id: 'summary', text: { type: 'mrkdwn', text: '*Restart* `web-1`?' } },
      {
        type: 'actions',
        block_id: 'approval',
        elements: [
          { type: 'button', action_id: 'approve', text: { type: 'plain_text', text: 'Approve' }, style: 'primary', value: 'req-1' },
          { type: 'button', action_id: 'deny', text: { type: 'plain_text', text: 'Deny' }, style: 'danger', value: 'req-1' },
        ],
      },
    ],
  };
}

const denyModal = {
  type: 'modal' as const,
  callback_id: 'deny_reason',
  private_metadata: 'req-1',
  title: { type: 'plain_text' as const, text: 'Deny request' },
  submit: { type: 'plain_text' as const, text: 'Deny' },
  blocks: [
    {
      type: 'input',
      block_id: 'reason_block',
      label: { type: 'plain_text' as const, text: 'Why?' },
      element: { type: 'plain_text_input', action_id: 'reason' },
    },
  ],
};

/** The approval flow app: react + threaded buttons on mention; approve updates; deny opens a modal. */
function approvalApp(app: App): void {
  app.event('app_mention', async ({ event, say, client }) => {
    await client.reactions.add({ channel: event.channel, timestamp: event.ts, name: 'eyes' });
    await say(approvalMessage(event.thread_ts ?? event.ts));
  });
  app.action<BlockAction>('approve', async ({ ack, body, client, respond }) => {
    await ack();
    const ts = body.message?.ts ?? '';
    await client.chat.update({ channel: body.channel?.id ?? '', ts, text: `Approved by <@${body.user.id}>`, blocks: [] });
    await respond({ response_type: 'ephemeral', text: 'Done.' });
  });
  app.action<BlockAction>('deny', async ({ ack, body, client }) => {
    await ack();
    await client.views.open({ trigger_id: body.trigger_id, view: denyModal });
  });
  app.view('deny_reason', async ({ ack, view }) => {
    const reason = view.state.values.reason_block?.reason?.value ?? '';
    if (reason.length < 10) await ack({ response_action: 'errors', errors: { reason_block: 'Say a little more.' } });
    else await ack();
  });
}

test('mention → threaded buttons → click approve → chat.update and respond()', async (t) => {
  const { fake } = await setup(t, { register: approvalApp });
  const mention = await fake.mention({ user: HUMAN, channel: CHANNEL, text: 'restart web-1' });
  assert.deepEqual(mention.ack.payload, {});
  const post = await fake.waitForCall('chat.postMessage');
  assert.equal(post.args.thread_ts, mention.ts);
  assert.equal(post.args.team_id, fake.config.teamId, 'Bolt adds team_id to listener calls');
  const replyTs = String(post.response.ts);
  assert.deepEqual(fake.reactions(CHANNEL, mention.ts), [{ name: 'eyes', users: [fake.config.botUserId], count: 1 }]);

  const click = await fake.clickButton({ user: HUMAN, channel: CHANNEL, messageTs: replyTs, actionId: 'approve', value: 'req-1' });
  assert.deepEqual(click.payload, {});
  await fake.waitForCall('chat.update');
  await waitUntil(() => fake.responses.length === 1);

  const updated = fake.message(CHANNEL, replyTs);
  assert.equal(updated?.text, `Approved by <@${HUMAN}>`);
  assert.equal(updated?.blocks, undefined);
  assert.ok(updated?.edited);
  assert.deepEqual(fake.thread(CHANNEL, mention.ts).map((m) => m.ts), [mention.ts, replyTs]);
  assert.equal(fake.responses[0]?.effect, 'ephemeral');
  assert.deepEqual(fake.ephemerals.map((e) => [e.user, e.text]), [[HUMAN, 'Done.']]);
  assert.deepEqual(fake.validationErrors, []);
});

test('deny opens a modal with the click trigger; submitView gets the errors ack, then closes it', async (t) => {
  const { fake, bolt } = await setup(t, { register: approvalApp });
  await fake.mention({ user: HUMAN, channel: CHANNEL, text: 'restart web-1' });
  const post = await fake.waitForCall('chat.postMessage');
  const click = await fake.clickButton({ user: HUMAN, channel: CHANNEL, messageTs: String(post.response.ts), actionId: 'deny' });
  const open = await fake.waitForCall('views.open');
  assert.equal(open.args.trigger_id, click.triggerId);
  assert.equal(open.response.ok, true);
  const [view] = fake.openedViews;
  assert.equal(view?.view.callback_id, 'deny_reason');
  assert.equal(view?.user, HUMAN);

  await assert.rejects(fake.submitView({ user: HUMAN, viewId: view!.id, values: {} }), /required input reason_block\/reason is empty/);
  const tooShort = await fake.submitView({ user: HUMAN, viewId: view!.id, values: { reason: 'no' } });
  assert.deepEqual(tooShort.payload, { response_action: 'errors', errors: { reason_block: 'Say a little more.' } });
  assert.equal(fake.openedViews[0]?.state, 'open');
  const fine = await fake.submitView({ user: HUMAN, viewId: view!.id, values: { reason_block: 'maintenance window is closed' } });
  assert.deepEqual(fine.payload, {});
  assert.equal(fake.openedViews[0]?.state, 'closed');

  // A trigger_id is good once.
  await assert.rejects(bolt.app.client.views.open({ trigger_id: click.triggerId, view: denyModal }), /exchanged_trigger_id/);
});

test('invalid blocks are refused with invalid_blocks and Slack-style messages', async (t) => {
  const caught: unknown[] = [];
  const { fake } = await setup(t, {
    register: (app) => app.event('app_mention', async ({ say }) => {
      try {
        await say({ text: 'x', blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'a'.repeat(3001) } }] });
      } catch (error) {
        caught.push(error);
      }
    }),
  });
  await fake.mention({ user: HUMAN, channel: CHANNEL, text: 'hi' });
  await waitUntil(() => caught.length === 1);
  const error = caught[0] as { code: string; data: { error: string; response_metadata: { messages: string[] } } };
  assert.equal(error.code, 'slack_webapi_platform_error');
  assert.equal(error.data.error, 'invalid_blocks');
  assert.deepEqual(error.data.response_metadata.messages, ['[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]']);
  assert.equal(fake.validationErrors.length, 1);
  assert.deepEqual(fake.messages(CHANNEL).length, 1, 'only the mention is in history');
});

test('a wrong bot token fails auth.test with invalid_auth; a wrong app token fails to connect', async (t) => {
  const fake = await FakeSlack.start();
  t.after(() => fake.stop());
  const app = new App({
    token: 'xoxb-wrong', appToken: fake.config.appToken, socketMode: true, deferInitialization: true,
    logger: silentLogger, logLevel: LogLevel.ERROR, clientOptions: { slackApiUrl: fake.apiUrl, retryConfig: { retries: 0 } },
  });
  await assert.rejects(app.init(), (e: { data?: { error?: string } }) => e.data?.error === 'invalid_auth');
  assert.deepEqual(fake.callsTo('auth.test').map((c) => c.response.error), ['invalid_auth']);

  await assert.rejects(startBoltApp(fake, { appToken: 'xapp-wrong' }));
  assert.equal(fake.callsTo('apps.connections.open').at(-1)?.response.error, 'invalid_auth');
  assert.equal(fake.connectionsOpened, 0);
});

test('a rate-limited call answers 429 with Retry-After, surfaced as a rate-limit error', async (t) => {
  const caught: unknown[] = [];
  const { fake } = await setup(t, {
    clientOptions: { rejectRateLimitedCalls: true },
    register: (app) => app.event('app_mention', async ({ say }) => {
      try {
        await say('first');
      } catch (error) {
        caught.push(error);
        await say('second');
      }
    }),
  });
  fake.rateLimit('chat.postMessage', { times: 1, retryAfterSeconds: 7 });
  await fake.mention({ user: HUMAN, channel: CHANNEL, text: 'hi' });
  await fake.waitForCalls('chat.postMessage', 2);
  const error = caught[0] as { code: string; retryAfter: number };
  assert.equal(error.code, 'slack_webapi_rate_limited_error');
  assert.equal(error.retryAfter, 7);
  assert.deepEqual(fake.callsTo('chat.postMessage').map((c) => [c.status, c.response.error ?? 'ok']), [[429, 'ratelimited'], [200, 'ok']]);
});

test('disconnect makes the client reconnect; events flow on the new connection', async (t) => {
  const { fake, bolt } = await setup(t, {
    register: (app) => app.event('app_mention', async ({ say }) => void (await say('pong'))),
  });
  assert.equal(fake.connectionsOpened, 1);
  const reconnected = bolt.nextConnected();
  fake.disconnect('refresh_requested');
  await reconnected;
  await fake.waitForConnections(2);
  assert.equal(fake.connectionsOpened, 2);
  assert.equal(fake.callsTo('apps.connections.open').length, 2);
  await fake.mention({ user: HUMAN, channel: CHANNEL, text: 'ping' });
  await fake.waitForCall('chat.postMessage');
});

test('conversations.replies pages through a thread of user and bot messages', async (t) => {
  const seen: string[][] = [];
  const { fake } = await setup(t, {
    register: (app) => app.event('app_mention', async ({ event, client, say }) => {
      await say({ text: 'looking', thread_ts: event.thread_ts ?? event.ts });
      const pages = client.paginate('conversations.replies', { channel: event.channel, ts: event.thread_ts ?? event.ts, limit: 2 });
      for await (const page of pages) seen.push(((page as { messages?: Array<{ text?: string }> }).messages ?? []).map((m) => m.text ?? ''));
    }),
  });
  const root = await fake.postAsUser({ user: HUMAN, channel: CHANNEL, text: 'deploy failed' });
  await fake.postAsUser({ user: 'UOTHER0001', channel: CHANNEL, text: 'saw it too', threadTs: root.ts });
  await fake.mention({ user: HUMAN, channel: CHANNEL, text: 'what happened?', threadTs: root.ts });
  await waitUntil(() => fake.callsTo('conversations.replies').length === 2 && seen.length === 2);
  const tag = `<@${fake.config.botUserId}>`;
  assert.deepEqual(seen, [['deploy failed', 'saw it too'], [`${tag} what happened?`, 'looking']]);
  const [first, second] = fake.callsTo('conversations.replies');
  assert.equal(first?.response.has_more, true);
  assert.equal(second?.args.cursor, (first?.response.response_metadata as { next_cursor: string }).next_cursor);
  assert.equal(second?.response.has_more, false);
  assert.equal(fake.messageAt(CHANNEL, root.ts)?.reply_count, 3);
});

test('re-delivering an event keeps its event_id and ts and reports the retry to Bolt', async (t) => {
  const retries: Array<[string, number | undefined]> = [];
  const { fake } = await setup(t, {
    register: (app) => app.event('app_mention', async ({ body, context }) => void retries.push([body.event_id, context.retryNum])),
  });
  const first = await fake.mention({ user: HUMAN, channel: CHANNEL, text: 'hi' });
  const again = await fake.mention({ user: HUMAN, channel: CHANNEL, text: 'hi', eventId: first.eventId, retryAttempt: 1 });
  assert.equal(again.ts, first.ts);
  await waitUntil(() => retries.length === 2);
  assert.deepEqual(retries, [[first.eventId, 0], [first.eventId, 1]]);
  assert.equal(fake.messages(CHANNEL).length, 1, 'the retry is not stored twice');
});

test('message events reach app.message for DMs and bot posts; un-acked clicks reject', async (t) => {
  const got: Array<[string, string | undefined]> = [];
  const { fake } = await setup(t, {
    register: (app) => {
      app.message(async ({ message }) => void got.push([message.channel_type, 'bot_id' in message ? message.bot_id : undefined]));
      app.event('app_mention', async ({ say, event }) => void (await say(approvalMessage(event.ts))));
    },
  });
  await fake.message({ user: HUMAN, channel: 'D0DM000001', channelType: 'im', text: 'hello' });
  await fake.message({ user: 'UOTHERBOT1', channel: CHANNEL, text: 'alert!', botId: 'BOTHER0001' });
  await waitUntil(() => got.length === 2);
  assert.deepEqual(got, [['im', undefined], ['channel', 'BOTHER0001']]);

  await fake.mention({ user: HUMAN, channel: CHANNEL, text: 'go' });
  const post = await fake.waitForCall('chat.postMessage');
  const ts = String(post.response.ts);
  await assert.rejects(fake.clickButton({ user: HUMAN, channel: CHANNEL, messageTs: ts, actionId: 'approve', timeoutMs: 300 }), /no ack for interactive/);
  await assert.rejects(fake.clickButton({ user: HUMAN, channel: CHANNEL, messageTs: ts, actionId: 'escalate' }), /no button with action_id escalate/);
  await assert.rejects(fake.clickButton({ user: HUMAN, channel: CHANNEL, messageTs: ts, actionId: 'deny', value: 'req-2' }), /carries value "req-1"/);
});

/** Poll `done` every 5 ms for up to `timeoutMs`. */
async function waitUntil(done: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('waitUntil: timed out');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
