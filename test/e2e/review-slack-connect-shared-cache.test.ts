/**
 * Review finding: the rule "nothing is posted into a channel shared with another organisation,
 * checked at the moment of writing, so a channel that became shared after a turn began gets
 * nothing more either" must hold with the default conversations.info cache (10 min), not only
 * with the cache switched off. Here the channel's "not shared" answer is cached by the first
 * message, the channel becomes shared (Slack Connect) while the second turn runs, and the card
 * of its gated call must not reach the now-shared channel.
 *
 * Slack sends `channel_shared` when a channel is shared; mithai records it before the ack, so
 * the card is refused even though a "not shared" answer was cached a moment before. (Without the
 * event, a "not shared" answer is kept one minute, not ten: organisation.test.ts.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { ALICE, CHANNEL, cards, startSlackHarness, textReplies, waitFor } from './slack-harness.ts';

const PARTNER = 'T0PARTNER1';

test('a channel that becomes shared mid-turn gets no card even while its "not shared" answer is cached', async (t) => {
  let share = async (): Promise<void> => undefined;
  const h = await startSlackHarness(t, {
    script: [
      reply('hello'),
      async () => {
        await share();
        return reply(toolUse('ops__restart', { service: 'api' }));
      },
      reply('done'),
    ],
  });
  const first = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'hi' });
  await waitFor('the first reply', () => textReplies(h.slack, CHANNEL, first.ts).length === 1);
  share = async () => {
    await h.slack.shareChannel(CHANNEL, PARTNER);
  };
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart api' });
  await waitFor('the approval opened', () => h.service.runtime.approvals.listByState(['pending', 'cancelled'])[0]);
  // Give the card post its chance (it follows the approval row at once).
  await waitFor('the card post attempted or refused', () => h.slack.callsTo('chat.postMessage').length >= 2 || /slack\.external_refused/.test(h.logs()));
  assert.deepEqual(cards(h.slack, CHANNEL, sent.ts), [], 'the approval card reached a channel now shared with another organisation');
});
