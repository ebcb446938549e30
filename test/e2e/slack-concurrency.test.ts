/**
 * Concurrency, end to end. The rules: the same Slack message never starts two turns (retries,
 * redeliveries, or one message arriving as both app_mention and message); threads run in
 * parallel without crossing replies, but one thread answers one message at a time; and a turn
 * waiting for an approval never holds up anything else, least of all the click that approves it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { delayed, reply, toolUse } from '../fakes/anthropic/script.ts';
import type { ScriptStep } from '../fakes/anthropic/script.ts';
import { eventCallback, messageEvent } from '../fakes/slack/payloads.ts';
import { ALICE, BOB, CHANNEL, cards, endsWithToolResult, lastUserText, repeat, startSlackHarness, textReplies, waitFor } from './slack-harness.ts';

test('the same event delivered twice (a Slack retry) starts one turn', async (t) => {
  const h = await startSlackHarness(t, { script: [reply('Hello once.'), reply('Hello twice?!')] });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'hi' });
  const retry = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'hi', eventId: sent.eventId, retryAttempt: 1 });
  assert.equal(retry.ts, sent.ts);
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).length === 1);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(h.model.calls.length, 1);
  assert.deepEqual(textReplies(h.slack, CHANNEL, sent.ts), ['Hello once.']);
  assert.match(h.logs(), /duplicate slack delivery ignored/);
});

test('one message arriving as app_mention and as a message event (respond: all) starts one turn (the message event is left to app_mention)', async (t) => {
  const h = await startSlackHarness(t, { slack: ['respond: all'], script: [reply('Once.'), reply('Twice?!')] });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'status please' });
  const { config } = h.slack;
  const asMessage = messageEvent(config, { type: 'message', user: ALICE, text: `<@${config.botUserId}> status please`, ts: sent.ts, channel: CHANNEL, channelType: 'channel' });
  await h.slack.sendEnvelope('events_api', eventCallback(config, asMessage, 'EvOTHER0001', Math.floor(Number(sent.ts))));
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).length === 1);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(h.model.calls.length, 1);
  assert.match(h.logs(), /handled as app_mention/);
});

test('one message delivered again under another event id starts one turn (the team + channel + ts key)', async (t) => {
  const h = await startSlackHarness(t, { slack: ['respond: all'], script: [reply('Once.'), reply('Twice?!')] });
  const sent = await h.slack.message({ user: ALICE, channel: CHANNEL, text: 'status please', channelType: 'channel' });
  const { config } = h.slack;
  const again = messageEvent(config, { type: 'message', user: ALICE, text: 'status please', ts: sent.ts, channel: CHANNEL, channelType: 'channel' });
  await h.slack.sendEnvelope('events_api', eventCallback(config, again, 'EvOTHER0002', Math.floor(Number(sent.ts))));
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).length === 1);
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(h.model.calls.length, 1);
  assert.deepEqual(textReplies(h.slack, CHANNEL, sent.ts), ['Once.']);
  const key = `msg:${config.teamId}:${CHANNEL}:${sent.ts}`;
  assert.ok(h.logs().split('\n').some((l) => l.includes('duplicate slack delivery ignored') && l.includes(`"key":"${key}"`)), 'dropped by the message key');
});

test('two threads at once get their own replies, never each other’s', async (t) => {
  const answer: ScriptStep = (req) => {
    const text = lastUserText(req);
    // alpha answers slowly, so beta's turn runs and finishes while alpha's is still waiting.
    return text.includes('alpha') ? delayed(300, reply('answer for alpha')) : reply('answer for beta');
  };
  const h = await startSlackHarness(t, { script: repeat(answer, 2) });
  const [alpha, beta] = await Promise.all([
    h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'question alpha' }),
    h.slack.mention({ user: BOB, channel: CHANNEL, text: 'question beta' }),
  ]);
  await waitFor('both replies', () => textReplies(h.slack, CHANNEL, alpha.ts).length === 1 && textReplies(h.slack, CHANNEL, beta.ts).length === 1);
  assert.deepEqual(textReplies(h.slack, CHANNEL, alpha.ts), ['answer for alpha']);
  assert.deepEqual(textReplies(h.slack, CHANNEL, beta.ts), ['answer for beta']);
  const betaReply = h.slack.messages(CHANNEL).find((m) => m.text === 'answer for beta')!;
  const alphaReply = h.slack.messages(CHANNEL).find((m) => m.text === 'answer for alpha')!;
  assert.ok(Number(betaReply.ts) < Number(alphaReply.ts), 'the threads ran in parallel');
});

test('two messages in one thread are answered one at a time, the second seeing the first', async (t) => {
  const h = await startSlackHarness(t, { script: [delayed(200, reply('first answer')), reply('second answer')] });
  const first = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'first question' });
  await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'second question', threadTs: first.ts });
  await waitFor('both replies', () => textReplies(h.slack, CHANNEL, first.ts).length === 2);
  assert.deepEqual(textReplies(h.slack, CHANNEL, first.ts), ['first answer', 'second answer']);
  const second = JSON.stringify(h.model.calls[1]!.messages);
  assert.match(second, /first question/);
  assert.match(second, /first answer/, 'the second turn started after the first had answered');
});

test('with many turns waiting on approvals at once, a click is acked and acted on promptly', async (t) => {
  const step: ScriptStep = (req) => {
    if (endsWithToolResult(req)) return reply(`finished: ${lastUserText(req)}`);
    const service = /restart (svc-\d+)/.exec(lastUserText(req))?.[1] ?? 'unknown';
    return reply(toolUse('ops__restart', { service }));
  };
  const h = await startSlackHarness(t, { script: repeat(step, 40) });
  const threads = await Promise.all(Array.from({ length: 8 }, (_, i) => h.slack.mention({ user: ALICE, channel: CHANNEL, text: `restart svc-${i}` })));
  await waitFor('eight cards', () => threads.every((s) => cards(h.slack, CHANNEL, s.ts).length === 1), 5000);
  assert.equal(h.service.runtime.approvals.listByState(['pending']).length, 8);

  const target = threads[3]!;
  const card = cards(h.slack, CHANNEL, target.ts)[0]!;
  const started = Date.now();
  await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
  const ackMs = Date.now() - started;
  await waitFor('the tool run', () => h.effects().length === 1);
  const runMs = Date.now() - started;
  assert.ok(ackMs < 500, `the click was acked in ${ackMs} ms`);
  assert.ok(runMs < 1500, `the tool ran ${runMs} ms after the click`);
  assert.deepEqual(h.effects(), ['restart svc-3']);
  await waitFor('its reply', () => textReplies(h.slack, CHANNEL, target.ts).some((r) => r.startsWith('finished')));
  assert.equal(h.service.runtime.approvals.listByState(['pending']).length, 7, 'the other seven still wait');
});
