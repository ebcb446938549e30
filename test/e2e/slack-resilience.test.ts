/**
 * Slack misbehaving: stopping while a reconnect waits on apps.connections.open leaves no live
 * connection; a card update that fails is tried again, and a card left with live buttons is
 * redrawn at the next start; a post whose answer was lost is not sent twice but found again in
 * the thread; a rate-limited reaction holds up nothing; a Slack that never answers fails
 * start-up within the deadline.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { startSlackService } from '../../src/adapters/slack/slack-service.ts';
import { startBlackHole, startProxy } from './slack-proxy.ts';
import {
  ALICE, BOB, CHANNEL, RECONNECT_FAST, buttonIds, cardText, cards, lastUserText, startSlackHarness, textReplies, waitFor, waitForCard, writeProject,
} from './slack-harness.ts';

const told = (req: Parameters<typeof lastUserText>[0]) => reply(`Told: ${lastUserText(req)}`);
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('stopping while a reconnect waits on a rate-limited apps.connections.open leaves no connection, then or later', async (t) => {
  const h = await startSlackHarness(t, { script: [reply('x')], service: { ...RECONNECT_FAST, socketRetry: { retries: 3, minTimeout: 50, maxTimeout: 100 } } });
  h.slack.rateLimit('apps.connections.open', { times: 1, retryAfterSeconds: 1 });
  h.slack.disconnect('refresh_requested');
  await h.slack.waitForCall('apps.connections.open', (c) => c.status === 429, 3000);
  const opened = h.slack.connectionsOpened;
  await h.service.stop('test');
  assert.equal(h.slack.openConnections, 0, 'no connection right after stop');
  await pause(1500); // past the Retry-After: the in-flight open has answered by now
  assert.equal(h.slack.openConnections, 0, 'no connection later either');
  assert.equal(h.slack.connectionsOpened, opened, 'no socket was opened after stop began');
});

test('a card update that is rate-limited is tried again after Retry-After, so the card still ends in its final state', async (t) => {
  const h = await startSlackHarness(t, { script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart api' });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts);
  h.slack.rateLimit('chat.update', { times: 2, retryAfterSeconds: 1 });
  await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
  await waitFor('the final card', () => /succeeded/.test(cardText(h.slack.message(CHANNEL, card.ts))), 8000);
  assert.ok(h.slack.callsTo('chat.update').filter((c) => c.status === 429).length >= 2, 'the first updates were refused');
  assert.deepEqual(buttonIds(h.slack.message(CHANNEL, card.ts)), []);
  assert.deepEqual(h.effects(), ['restart api'], 'the tool did not wait for the card');
});

test('a card whose final update never got through is redrawn at the next start', async (t) => {
  const h = await startSlackHarness(t, { script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart api' });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts);
  h.slack.rateLimit('chat.update', { times: 1000, retryAfterSeconds: 0 });
  await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).some((r) => r.startsWith('Told')), 5000);
  await h.service.stop('test');
  h.slack.rateLimit('chat.update', { times: 0 });
  assert.deepEqual(buttonIds(h.slack.message(CHANNEL, card.ts)), ['mithai_approve', 'mithai_deny'], 'the card kept live buttons');

  const env = { SLACK_BOT_TOKEN: h.slack.config.botToken, SLACK_APP_TOKEN: h.slack.config.appToken, ANTHROPIC_API_KEY: FAKE_API_KEY };
  const again = await startSlackService(loadConfig(h.configPath, { env }), { logDestination: new PassThrough().resume(), webRetry: { retries: 0 }, socketRetry: { retries: 0 } });
  try {
    await waitFor('the card redrawn', () => buttonIds(h.slack.message(CHANNEL, card.ts)).length === 0, 5000);
    assert.match(cardText(h.slack.message(CHANNEL, card.ts)), /succeeded/);
    assert.deepEqual(h.effects(), ['restart api']);
  } finally {
    await again.stop('test');
  }
});

test('a card post whose answer was lost is found again in the thread: one card, and its buttons work', async (t) => {
  let lost = false;
  const h = await startSlackHarness(t, {
    script: [reply(toolUse('ops__restart', { service: 'api' })), told],
    // Retries on: before the fix, the client sent the post again after the 502.
    service: { webRetry: { retries: 2, minTimeout: 10, maxTimeout: 10 } },
    wrapApi: (apiUrl) => startProxy(apiUrl, (method, body) => {
      if (lost || method !== 'chat.postMessage' || !body.includes('mithai_actions')) return false;
      return (lost = true);
    }),
  });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart api' });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts);
  // A click is bound to the card's recorded place, so it only works once the card was found again.
  await waitFor('the card ref stored', () => h.service.runtime.approvals.listByState(['pending'])[0]?.displayRef ?? undefined, 5000);
  assert.equal(cards(h.slack, CHANNEL, sent.ts).length, 1, 'Slack stored the card once');
  assert.equal(h.slack.callsTo('chat.postMessage').filter((c) => JSON.stringify(c.args).includes('mithai_actions')).length, 1, 'posted once');
  await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
  await waitFor('the model told', () => textReplies(h.slack, CHANNEL, sent.ts).some((r) => /Told:/.test(r)), 5000);
  assert.deepEqual(h.effects(), ['restart api']);
  await waitFor('the final card', () => buttonIds(h.slack.message(CHANNEL, card.ts)).length === 0);
});

test('a rate-limited reaction holds up neither the reply nor anyone else', async (t) => {
  const h = await startSlackHarness(t, { script: [reply('hello alice'), reply('hello bob')] });
  h.slack.rateLimit('reactions.add', { times: 1, retryAfterSeconds: 8 });
  const started = Date.now();
  const first = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'hi' });
  const second = await h.slack.mention({ user: BOB, channel: CHANNEL, text: 'hi' });
  await waitFor('both replies', () => textReplies(h.slack, CHANNEL, first.ts).length === 1 && textReplies(h.slack, CHANNEL, second.ts).length === 1, 3000);
  assert.ok(Date.now() - started < 3000);
  await waitFor('the done reaction', () => h.slack.reactions(CHANNEL, second.ts).some((r) => r.name === 'white_check_mark'));
});

test('start-up fails within the deadline when Slack accepts connections but never answers', async (t) => {
  const hole = await startBlackHole();
  const dir = mkdtempSync(join(tmpdir(), 'mithai-slack-'));
  t.after(async () => {
    await hole.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const configPath = writeProject(dir, hole.apiUrl, 'http://127.0.0.1:9/');
  const env = { SLACK_BOT_TOKEN: 'xoxb-fake-bot-token', SLACK_APP_TOKEN: 'xapp-1-fake-app-token', ANTHROPIC_API_KEY: FAKE_API_KEY };
  const started = Date.now();
  await assert.rejects(
    startSlackService(loadConfig(configPath, { env }), { logDestination: new PassThrough().resume(), webRetry: { retries: 0 }, authTimeoutMs: 300 }),
    /could not reach Slack at .* \(no answer within 0 s\)/,
  );
  assert.ok(Date.now() - started < 2000);
});
