/**
 * Clicks and modal submissions are bound to their card and their workspace. The rule: a click
 * counts only when it comes from the app's own workspace and from the very message that is the
 * approval's recorded card; a submission counts only for a view mithai opened, for that
 * approval, for that user. A forged payload — another workspace, another message carrying the
 * same approval id, a made-up or borrowed view — changes nothing, runs nothing, and is logged
 * as a refused forgery.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { userRef, viewSubmission } from '../fakes/slack/payloads.ts';
import { ALICE, BOB, CHANNEL, buttonIds, forgedClick, lastUserText, startSlackHarness, waitFor, waitForCard } from './slack-harness.ts';
import type { SlackHarness } from './slack-harness.ts';

const told = (req: Parameters<typeof lastUserText>[0]) => reply(`Told: ${lastUserText(req)}`);

async function pendingCard(h: SlackHarness) {
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'do it' });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts);
  const pending = () => h.service.runtime.approvals.listByState(['pending'])[0];
  const id = await waitFor('the card recorded', () => (pending()?.displayRef ? pending()!.id : undefined));
  return { sent, card, id };
}

test('an Approve click carrying the right approval id from another message is refused and decides nothing', async (t) => {
  const h = await startSlackHarness(t, { script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const { card, id } = await pendingCard(h);
  const other = await h.slack.message({ user: BOB, channel: CHANNEL, text: 'a message with a forged button' });
  await forgedClick(h, { messageTs: other.ts, actionId: 'mithai_approve', value: id });
  await waitFor('the refusal', () => h.slack.ephemerals.find((e) => e.user === ALICE));
  assert.match(h.slack.ephemerals[0]!.text, /not on the card of this approval; nothing was decided/);
  assert.equal(h.service.runtime.approvals.get(id)?.state, 'pending');
  assert.deepEqual(buttonIds(h.slack.message(CHANNEL, card.ts)), ['mithai_approve', 'mithai_deny']);
  assert.deepEqual(h.effects(), []);
  assert.match(h.logs(), /"reason":"not the approval card".*slack\.forgery_refused/);
});

test('a click from another workspace on the real card is refused and decides nothing', async (t) => {
  const h = await startSlackHarness(t, { script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const { card, id } = await pendingCard(h);
  await forgedClick(h, { messageTs: card.ts, actionId: 'mithai_approve', value: id, team: { id: 'T0OTHER001', domain: 'other' } });
  await waitFor('the forgery logged', () => /slack\.forgery_refused/.test(h.logs()));
  assert.match(h.logs(), /team T0OTHER001 is not the app's team/);
  assert.equal(h.service.runtime.approvals.get(id)?.state, 'pending');
  assert.deepEqual(h.effects(), []);
});

test('a modal submission for a view mithai never opened, or opened for someone else, decides nothing', async (t) => {
  // About forged views, not the second-person rule: with it off, only the view checks can refuse Alice here.
  const h = await startSlackHarness(t, { human: ['approvers: ["UBOB000001"]', 'confirm_requires_second_person: false'], script: [reply(toolUse('ops__drop_db', { name: 'orders' })), told] });
  const { card, id } = await pendingCard(h);
  // A made-up view with the approval id and the right phrase.
  const forged = viewSubmission(h.slack.config, userRef(h.slack.config, ALICE, 'alice'), {
    id: 'VFORGED0001', type: 'modal', callback_id: 'mithai_confirm_modal', private_metadata: id, hash: '1.x',
    state: { values: { mithai_phrase: { phrase: { type: 'plain_text_input', value: 'orders' } } } },
  }, 'trigger-forged');
  const ack = await h.slack.sendEnvelope('interactive', forged, { acceptsResponsePayload: true });
  assert.equal((ack.payload as { response_action?: string }).response_action, 'errors');
  assert.equal(h.service.runtime.approvals.get(id)?.state, 'pending');

  // A real view, opened for Alice, submitted as Bob.
  await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_confirm' });
  const view = await waitFor('the confirm modal', () => h.slack.openedViews.find((v) => v.view.callback_id === 'mithai_confirm_modal'));
  const borrowed = viewSubmission(h.slack.config, userRef(h.slack.config, BOB, 'bob'), { ...view.view, state: { values: { mithai_phrase: { phrase: { type: 'plain_text_input', value: 'orders' } } } } }, 'trigger-forged-2');
  const second = await h.slack.sendEnvelope('interactive', borrowed, { acceptsResponsePayload: true });
  assert.equal((second.payload as { response_action?: string }).response_action, 'errors');
  assert.equal(h.service.runtime.approvals.get(id)?.state, 'pending');
  assert.deepEqual(h.effects(), []);
  assert.match(h.logs(), /view not opened by mithai.*slack\.forgery_refused/);
  assert.match(h.logs(), /view opened for another user or approval.*slack\.forgery_refused/);
});
