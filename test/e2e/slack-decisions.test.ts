/**
 * Decisions from Slack, end to end. The rule these tests pin down: a gated call runs at most
 * once, and only after a valid decision by someone allowed to make it. Deny and expiry never
 * run it (and expiry is never reported as a denial); a wrong confirmation phrase changes
 * nothing; clicks by others, double clicks, racing approvers, late clicks and forged ids only
 * get an ephemeral answer. Every test counts the tool's side effects in effects.log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { blockActions, userRef } from '../fakes/slack/payloads.ts';
import {
  ALICE, BOB, CHANNEL, buttonIds, cardText, lastUserText, startSlackHarness, textReplies, waitFor, waitForCard,
} from './slack-harness.ts';
import type { SlackHarness } from './slack-harness.ts';

const told = (req: Parameters<typeof lastUserText>[0]) => reply(`Told: ${lastUserText(req)}`);

async function restartCard(h: SlackHarness, service = 'api') {
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: `restart ${service}` });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts);
  return { sent, card };
}

function finalCard(h: SlackHarness, ts: string, pattern: RegExp) {
  return waitFor(`card matching ${pattern}`, () => {
    const now = h.slack.message(CHANNEL, ts);
    return pattern.test(cardText(now)) ? now : undefined;
  });
}

test('Deny opens a modal; its reason reaches the model and the card, and nothing runs', async (t) => {
  const h = await startSlackHarness(t, { script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const { sent, card } = await restartCard(h);
  const click = await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_deny' });
  const open = await h.slack.waitForCall('views.open');
  assert.equal(open.args.trigger_id, click.triggerId);
  const view = h.slack.openedViews[0]!;
  assert.equal(view.view.callback_id, 'mithai_deny_modal');
  assert.match(String(view.view.private_metadata), /^apr_[0-9a-f]{12}$/, 'private_metadata carries only the approval id');

  const ack = await h.slack.submitView({ user: ALICE, viewId: view.id, values: { reason: 'not during the sale' } });
  assert.deepEqual(ack.payload, {}, 'the modal closes');
  const final = await finalCard(h, card.ts, /Denied by/);
  assert.match(cardText(final), /Denied by <@UALICE0001> at <!date\^[^>]+> \(not during the sale\)/);
  assert.deepEqual(buttonIds(final), []);
  const answer = await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).find((r) => r.startsWith('Told')));
  assert.match(answer, /denied by UALICE0001/);
  assert.match(answer, /not during the sale/);
  assert.deepEqual(h.effects(), []);
  assert.deepEqual(h.audit().filter((r) => r.event === 'decision').map((r) => [r.decision, r.reason]), [['denied', 'not during the sale']]);
  assert.deepEqual(h.slack.validationErrors, []);
});

test('an approval nobody answers expires: the card says so, nothing runs, the model is told it expired (not denied), late clicks get "expired"', async (t) => {
  const h = await startSlackHarness(t, { timeoutSeconds: 1, script: [reply(toolUse('ops__restart', { service: 'web' })), told] });
  const { sent, card } = await restartCard(h, 'web');
  const final = await finalCard(h, card.ts, /Expired at/);
  assert.match(cardText(final), /Expired at <!date\^[^>]+>, not run/);
  assert.deepEqual(buttonIds(final), []);
  const answer = await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).find((r) => r.startsWith('Told')));
  assert.match(answer, /expired without a decision/);
  assert.doesNotMatch(answer, /was denied|denied by/);

  // A click that arrives after the deadline (the card a user still has open) changes nothing.
  await h.slack.sendEnvelope('interactive', clickPayload(h, ALICE, card.ts, 'mithai_approve', approvalIdOf(card)));
  await waitFor('the ephemeral', () => h.slack.ephemerals.find((e) => e.user === ALICE));
  assert.match(h.slack.ephemerals[0]!.text, /expired/);
  assert.deepEqual(h.effects(), []);
  assert.deepEqual(h.audit().filter((r) => r.event === 'decision').map((r) => [r.decision, r.status]), [['expired', 'not_run']]);
});

test('confirm: a wrong phrase is refused inside the modal and nothing runs; the right phrase runs it once', async (t) => {
  // Confirm calls need a second person by default: Bob, an approver, confirms Alice's call.
  const h = await startSlackHarness(t, { human: ['approvers: [UBOB000001]'], script: [reply(toolUse('ops__drop_db', { name: 'orders' })), told] });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'drop the orders db' });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts);
  assert.deepEqual(buttonIds(card), ['mithai_confirm', 'mithai_deny']);
  assert.match(cardText(card), /type `orders` exactly/);

  await h.slack.clickButton({ user: BOB, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_confirm' });
  const view = await waitFor('the confirm modal', () => h.slack.openedViews.find((v) => v.view.callback_id === 'mithai_confirm_modal'));
  assert.match(JSON.stringify(view.view.blocks), /Type `orders` exactly/);

  const wrong = await h.slack.submitView({ user: BOB, viewId: view.id, values: { phrase: 'order' } });
  assert.equal(wrong.payload.response_action, 'errors');
  assert.match(String((wrong.payload.errors as Record<string, string>).mithai_phrase), /Type `orders` exactly/);
  assert.equal(h.slack.openedViews[0]!.state, 'open', 'the modal stays open');
  assert.deepEqual(h.effects(), []);
  assert.match(cardText(h.slack.message(CHANNEL, card.ts)), /Confirmation needed/, 'the card is still pending');

  const right = await h.slack.submitView({ user: BOB, viewId: view.id, values: { phrase: 'orders' } });
  assert.deepEqual(right.payload, {});
  await finalCard(h, card.ts, /succeeded/);
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).find((r) => r.startsWith('Told')));
  assert.deepEqual(h.effects(), ['drop orders']);
  assert.deepEqual(h.audit().filter((r) => r.event === 'decision').map((r) => r.decision), ['approved']);
  assert.deepEqual(h.slack.validationErrors, []);
});

test('a click by someone who may not decide gets an ephemeral explanation, opens no modal and changes nothing', async (t) => {
  const h = await startSlackHarness(t, { script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const { sent, card } = await restartCard(h);
  await h.slack.clickButton({ user: BOB, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
  await h.slack.clickButton({ user: BOB, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_deny' });
  await waitFor('two ephemerals', () => h.slack.ephemerals.filter((e) => e.user === BOB).length === 2);
  for (const e of h.slack.ephemerals) {
    assert.equal(e.user, BOB);
    assert.equal(e.thread_ts, sent.ts, 'answered in the thread');
    assert.match(e.text, /Only the requester <@UALICE0001> or an approver/);
  }
  assert.equal(h.slack.openedViews.length, 0, 'no modal for someone who may not deny');
  assert.deepEqual(buttonIds(h.slack.message(CHANNEL, card.ts)), ['mithai_approve', 'mithai_deny'], 'the card is unchanged');
  assert.deepEqual(h.effects(), []);
  assert.equal(h.audit().filter((r) => r.event === 'decision').length, 0);

  await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
  await finalCard(h, card.ts, /succeeded/);
  assert.deepEqual(h.effects(), ['restart api']);
});

test('double clicks and two approvers racing run the call exactly once; the others are told who approved it', async (t) => {
  const h = await startSlackHarness(t, { human: ['approvers: [UBOB000001]'], script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const { sent, card } = await restartCard(h);
  const clicks = [ALICE, BOB, ALICE, BOB, ALICE].map((user) => h.slack.clickButton({ user, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' }));
  await Promise.all(clicks);
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).find((r) => r.startsWith('Told')));
  await waitFor('four ephemerals', () => h.slack.ephemerals.length === 4);
  assert.deepEqual(h.effects(), ['restart api']);
  const decisions = h.audit().filter((r) => r.event === 'decision');
  assert.equal(decisions.length, 1);
  for (const e of h.slack.ephemerals) assert.match(e.text, new RegExp(`Already approved by <@${String(decisions[0]!.decider)}>`));
  await finalCard(h, card.ts, /succeeded/);
});

test('a forged approve on a confirm card and a click on an unknown approval id change nothing', async (t) => {
  const h = await startSlackHarness(t, { script: [reply(toolUse('ops__drop_db', { name: 'orders' })), told] });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'drop orders' });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts);
  await h.slack.sendEnvelope('interactive', clickPayload(h, ALICE, card.ts, 'mithai_approve', approvalIdOf(card)));
  await h.slack.sendEnvelope('interactive', clickPayload(h, ALICE, card.ts, 'mithai_approve', 'apr_000000000000'));
  await h.slack.sendEnvelope('interactive', clickPayload(h, ALICE, card.ts, 'mithai_deny', 'apr_000000000000'));
  await waitFor('three ephemerals', () => h.slack.ephemerals.length === 3);
  const texts = h.slack.ephemerals.map((e) => e.text).sort();
  assert.deepEqual(texts, ['This call needs its confirmation phrase: use the Confirm… button.', 'Unknown approval; nothing was decided.', 'Unknown approval; nothing was decided.']);
  assert.equal(h.slack.openedViews.length, 0);
  assert.deepEqual(h.effects(), []);
  assert.equal(h.audit().filter((r) => r.event === 'decision').length, 0);
});

function approvalIdOf(card: { blocks?: Array<Record<string, unknown>> }): string {
  const actions = card.blocks?.find((b) => b.block_id === 'mithai_actions');
  return String((actions?.elements as Array<{ value?: string }>)[0]?.value);
}

/** A block_actions payload for any value (what a stale or forged client could send). */
function clickPayload(h: SlackHarness, user: string, messageTs: string, actionId: string, value: string) {
  return blockActions(h.slack.config, {
    user: userRef(h.slack.config, user, user.toLowerCase()),
    channel: CHANNEL,
    messageTs,
    isEphemeral: false,
    triggerId: 'trigger-forged',
    responseUrl: `${h.slack.apiUrl.replace(/\/api\/$/, '')}/actions/none`,
    action: { type: 'button', action_id: actionId, block_id: 'mithai_actions', value, text: { type: 'plain_text', text: 'x' }, action_ts: '1.0' },
  });
}

test('when Slack refuses to open the form (an expired trigger), the clicker is told to click again and nothing changes', async (t) => {
  const h = await startSlackHarness(t, { fake: { triggerTtlMs: -1 }, script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const { card } = await restartCard(h);
  await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_deny' });
  const notice = await waitFor('the ephemeral', () => h.slack.ephemerals.find((e) => e.user === ALICE));
  assert.match(notice.text, /could not be opened.*click the button again/);
  assert.equal((await h.slack.waitForCall('views.open')).response.error, 'expired_trigger_id');
  assert.deepEqual(buttonIds(h.slack.message(CHANNEL, card.ts)), ['mithai_approve', 'mithai_deny']);
  assert.equal(h.audit().filter((r) => r.event === 'decision').length, 0);
});
