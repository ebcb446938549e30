/**
 * Confirm means a second human by default (`human.confirm_requires_second_person: true` unless
 * config.yaml says otherwise). The rule these tests pin down, through the real Bolt app and the
 * fake Slack: the requester clicking Confirm on their own confirm call gets an ephemeral saying
 * what happened and both ways on (another approver, or the setting for a solo setup), no form
 * opens and nothing runs; another approver confirms it and it runs once; with the setting
 * explicitly false, the requester confirms alone. Every test counts the tool's side effects.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { ALICE, BOB, CHANNEL, cardText, lastUserText, startSlackHarness, textReplies, waitFor, waitForCard } from './slack-harness.ts';
import type { SlackHarness } from './slack-harness.ts';

const told = (req: Parameters<typeof lastUserText>[0]) => reply(`Told: ${lastUserText(req)}`);
const SCRIPT = [reply(toolUse('ops__drop_db', { name: 'orders' })), told];

async function confirmCard(h: SlackHarness) {
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'drop the orders db' });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts);
  return { sent, card };
}

async function confirmAs(h: SlackHarness, user: string, cardTs: string): Promise<void> {
  await h.slack.clickButton({ user, channel: CHANNEL, messageTs: cardTs, actionId: 'mithai_confirm' });
  const view = await waitFor('the confirm modal', () => h.slack.openedViews.find((v) => v.user === user && v.view.callback_id === 'mithai_confirm_modal'));
  const ack = await h.slack.submitView({ user, viewId: view.id, values: { phrase: 'orders' } });
  assert.deepEqual(ack.payload, {}, 'the modal closes');
}

test('by default the requester cannot confirm their own confirm call: the ephemeral says why and what to do, no form opens, nothing runs; another approver confirms it once', async (t) => {
  // No confirm_requires_second_person in config.yaml: the default applies.
  const h = await startSlackHarness(t, { human: ['approvers: [UBOB000001]'], script: SCRIPT });
  const { sent, card } = await confirmCard(h);

  await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_confirm' });
  const refusal = await waitFor('the refusal', () => h.slack.ephemerals.find((e) => e.user === ALICE));
  assert.equal(refusal.thread_ts, sent.ts, 'answered in the thread, to the requester only');
  assert.equal(
    refusal.text,
    'You asked for this call, and confirm calls need a second person (human.confirm_requires_second_person): ' +
      'ask another approver listed in human.approvers to confirm it, or set human.confirm_requires_second_person: false in config.yaml for a solo setup. You can still deny it.',
  );
  assert.equal(h.slack.openedViews.length, 0, 'no form opens for a confirmation that would be refused');
  assert.equal(h.service.runtime.approvals.get(approvalIdOf(h))?.state, 'pending');
  assert.match(cardText(h.slack.message(CHANNEL, card.ts)), /Confirmation needed/, 'the card still waits');
  assert.deepEqual(h.effects(), []);

  await confirmAs(h, BOB, card.ts);
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).find((r) => r.startsWith('Told')), 10_000);
  assert.deepEqual(h.effects(), ['drop orders'], 'it ran once, after the second person confirmed');
  const decisions = h.audit().filter((r) => r.event === 'decision');
  assert.deepEqual(decisions.map((r) => [r.decision, r.requester, r.decider]), [['approved', ALICE, BOB]]);
  assert.match(cardText(h.slack.message(CHANNEL, card.ts)), /Confirmed by <@UBOB000001>/);
});

test('the requester may still deny their own confirm call under the default', async (t) => {
  const h = await startSlackHarness(t, { human: ['approvers: [UBOB000001]'], script: SCRIPT });
  const { sent, card } = await confirmCard(h);
  await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_deny' });
  const view = await waitFor('the deny modal', () => h.slack.openedViews.find((v) => v.view.callback_id === 'mithai_deny_modal'));
  await h.slack.submitView({ user: ALICE, viewId: view.id, values: { reason: 'changed my mind' } });
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).find((r) => r.startsWith('Told')), 10_000);
  assert.deepEqual(h.effects(), []);
  assert.deepEqual(h.audit().filter((r) => r.event === 'decision').map((r) => [r.decision, r.decider]), [['denied', ALICE]]);
});

test('with confirm_requires_second_person: false (a solo setup) the requester confirms their own call alone', async (t) => {
  const h = await startSlackHarness(t, { human: ['confirm_requires_second_person: false'], script: SCRIPT });
  const { sent, card } = await confirmCard(h);
  await confirmAs(h, ALICE, card.ts);
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).find((r) => r.startsWith('Told')), 10_000);
  assert.deepEqual(h.effects(), ['drop orders']);
  assert.deepEqual(h.audit().filter((r) => r.event === 'decision').map((r) => [r.decision, r.decider]), [['approved', ALICE]]);
  assert.deepEqual(h.slack.ephemerals, [], 'no refusal');
});

/** The one approval of the harness. */
function approvalIdOf(h: SlackHarness): string {
  const requested = h.audit().find((r) => r.event === 'requested');
  return String(requested?.approval_id ?? '');
}
