/**
 * Slack shows a new message to people before it answers the chat.postMessage that made it, so a
 * quick operator can click an approval card before mithai knows where the card is. Such a click
 * waits (up to a second) for the card's post to come back, and then counts exactly as a click on
 * a recorded card would: a click on the card decides, anything else is still refused.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { ALICE, CHANNEL, buttonIds, forgedClick, lastUserText, startSlackHarness, waitFor, waitForCard } from './slack-harness.ts';
import type { SlackHarness } from './slack-harness.ts';

const told = (req: Parameters<typeof lastUserText>[0]) => reply(`Told: ${lastUserText(req)}`);

/** Mention the bot so it asks to restart api, with the card's post answered `lateMs` after Slack stored it. */
async function cardWithLateAnswer(h: SlackHarness, lateMs: number) {
  h.slack.fail('chat.postMessage', { answerAfterMs: lateMs, carriedOut: true });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart api' });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts);
  const approval = h.service.runtime.approvals.listByState(['pending'])[0];
  assert.ok(approval, 'the approval is pending');
  // The click below really lands before mithai has the answer.
  assert.equal(approval.displayRef, null, 'the card is not recorded yet');
  return { sent, card, approval };
}

test('an Approve click on a card whose post is not answered yet waits for it and runs the tool once', async (t) => {
  const h = await startSlackHarness(t, { script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const { sent, card, approval } = await cardWithLateAnswer(h, 300);
  const started = performance.now();
  await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
  const ackMs = performance.now() - started;
  assert.equal(h.service.runtime.approvals.get(approval.id)?.state === 'pending', false, 'decided before the ack');
  assert.ok(ackMs < 3000, `acked within Slack's 3 s (took ${ackMs.toFixed(0)} ms)`);
  await waitFor('the tool ran', () => h.effects().length > 0 || undefined);
  await waitFor('the reply', () => h.slack.thread(CHANNEL, sent.ts).some((m) => m.text.startsWith('Told:')) || undefined);
  assert.deepEqual(h.effects(), ['restart api']);
  assert.equal(h.service.runtime.approvals.get(approval.id)?.decider, ALICE);
  assert.doesNotMatch(h.logs(), /slack\.forgery_refused/);
  assert.ok(h.slack.calls.some((c) => c.method === 'chat.postMessage' && c.fault === 'late:300+carried_out'), 'the card post was the late one');
  await waitFor('the card redrawn without buttons', () => buttonIds(h.slack.message(CHANNEL, card.ts)).length === 0 || undefined);
});

test('a click from another message while the card post is on its way is still refused', async (t) => {
  const h = await startSlackHarness(t, { script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const { card, approval } = await cardWithLateAnswer(h, 300);
  const other = await h.slack.message({ user: ALICE, channel: CHANNEL, text: 'a message pretending to be the card' });
  await forgedClick(h, { messageTs: other.ts, actionId: 'mithai_approve', value: approval.id });
  await waitFor('the refusal', () => h.slack.ephemerals.find((e) => e.user === ALICE));
  assert.match(h.slack.ephemerals[0]!.text, /not on the card of this approval; nothing was decided/);
  assert.match(h.logs(), /"reason":"not the approval card".*slack\.forgery_refused/);
  assert.equal(h.service.runtime.approvals.get(approval.id)?.state, 'pending');
  assert.deepEqual(buttonIds(h.slack.message(CHANNEL, card.ts)), ['mithai_approve', 'mithai_deny']);
  assert.deepEqual(h.effects(), []);
});

test('a click on a card whose post is not answered within a second is refused, acked in time, and decides nothing', async (t) => {
  const h = await startSlackHarness(t, { script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const { card, approval } = await cardWithLateAnswer(h, 2500);
  const started = performance.now();
  await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
  const ackMs = performance.now() - started;
  assert.ok(ackMs >= 900 && ackMs < 2500, `waited about a second, not for the post (took ${ackMs.toFixed(0)} ms)`);
  await waitFor('the refusal', () => h.slack.ephemerals.find((e) => e.user === ALICE));
  assert.match(h.logs(), /"reason":"card not recorded".*slack\.forgery_refused/);
  assert.equal(h.service.runtime.approvals.get(approval.id)?.state, 'pending');
  assert.deepEqual(h.effects(), []);
  // Once the answer is back the card is recorded, and a click then counts.
  await waitFor('the card recorded', () => h.service.runtime.approvals.get(approval.id)?.displayRef ?? undefined, 5000);
  await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
  await waitFor('the tool ran', () => h.effects().length > 0 || undefined);
  assert.deepEqual(h.effects(), ['restart api']);
});
