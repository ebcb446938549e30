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
  assert.match(h.logs(), /turn.duplicate_ignored/);
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
  assert.ok(h.logs().split('\n').some((l) => l.includes('turn.duplicate_ignored') && l.includes(`"key":"${key}"`)), 'dropped by the message key');
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

// The bar: 100 turns waiting on approvals at the same time must not hold up a click.
// Timing targets live in bench/; here the click must be acked (the fake fails an un-acked
// envelope after 2 s) and acted on while all the other turns keep waiting.
test('with 100 turns waiting on approvals at once, a click is still acked and acted on', async (t) => {
  const step: ScriptStep = (req) => {
    if (endsWithToolResult(req)) return reply(`finished: ${lastUserText(req)}`);
    const service = /restart (svc-\d+)/.exec(lastUserText(req))?.[1] ?? 'unknown';
    return reply(toolUse('ops__restart', { service }));
  };
  const h = await startSlackHarness(t, { script: repeat(step, 220) });
  // Ten people, ten requests each: within the per-user turn limit (10 a minute).
  const users = [ALICE, ...Array.from({ length: 9 }, (_, i) => `UUSER0000${i + 1}`)];
  const threads = await Promise.all(
    Array.from({ length: 100 }, (_, i) => h.slack.mention({ user: users[i % 10]!, channel: CHANNEL, text: `restart svc-${i}`, timeoutMs: 10_000 })),
  );
  await waitFor('a hundred cards', () => threads.every((s) => cards(h.slack, CHANNEL, s.ts).length === 1), 30_000);
  assert.equal(h.service.runtime.approvals.listByState(['pending']).length, 100);

  const target = threads[30]!; // requested by ALICE (30 % 10 === 0)
  const card = cards(h.slack, CHANNEL, target.ts)[0]!;
  await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
  await waitFor('the tool run', () => h.effects().length === 1, 10_000);
  assert.deepEqual(h.effects(), ['restart svc-30']);
  await waitFor('its reply', () => textReplies(h.slack, CHANNEL, target.ts).some((r) => r.startsWith('finished')), 10_000);
  assert.equal(h.service.runtime.approvals.listByState(['pending']).length, 99, 'the other 99 still wait');
});
