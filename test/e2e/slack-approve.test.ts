/**
 * End to end through the real Bolt app (Socket Mode) and the real Anthropic SDK against the
 * local fakes: mentions answered in the right thread, and the approve path from card to click
 * to exactly one run, with the card ending in its final state and the model told the result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { ALICE, BOB, CHANNEL, buttonIds, cardText, endsWithToolResult, lastUserText, startSlackHarness, textReplies, waitFor, waitForCard } from './slack-harness.ts';

test('an @mention is answered in a thread under it after an auto tool ran once, with status reactions', async (t) => {
  // A delay no turn here reaches, so this one is "fast" whatever the machine's load (the delay
  // itself is pinned in test/e2e/slack-working-signals.test.ts).
  const h = await startSlackHarness(t, { script: [reply(toolUse('ops__status', {})), reply('**All** services are green.')], service: { workingSignalDelayMs: 60_000 } });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'how are things?' });
  assert.deepEqual(sent.ack.payload, {}, 'the event is acked with an empty payload');

  const [answer] = await waitFor('a reply', () => textReplies(h.slack, CHANNEL, sent.ts).length > 0 && textReplies(h.slack, CHANNEL, sent.ts));
  assert.match(answer!, /\*All\*/, 'Markdown bold became mrkdwn bold');
  assert.doesNotMatch(answer!, /\*\*/);
  assert.deepEqual(h.effects(), ['status']);
  await waitFor('the done reaction', () => h.slack.reactions(CHANNEL, sent.ts).some((r) => r.name === 'white_check_mark'));
  assert.deepEqual(h.slack.reactions(CHANNEL, sent.ts).map((r) => r.name), ['white_check_mark'], 'done added');
  assert.deepEqual(h.slack.calls.filter((c) => c.method.startsWith('reactions.')).map((c) => [c.method, c.args.name]), [['reactions.add', 'white_check_mark']], 'a turn that answers at once gets no 👀 to add or remove');

  const first = lastUserText(h.model.calls[0]!);
  assert.match(first, /Message from UALICE0001:\nhow are things\?/);
  assert.doesNotMatch(first, /<@UBOT/, "the bot's own mention is stripped");
  assert.deepEqual(h.slack.validationErrors, []);
});

test('a mention inside a thread is answered in that thread, not under the mention', async (t) => {
  const h = await startSlackHarness(t, { script: [reply('Here.')] });
  const parent = await h.slack.postAsUser({ user: ALICE, channel: CHANNEL, text: 'deploy is stuck' });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'can you look?', threadTs: parent.ts });
  await waitFor('a reply', () => textReplies(h.slack, CHANNEL, parent.ts).length === 1);
  const reply0 = h.slack.messages(CHANNEL).find((m) => m.text === 'Here.');
  assert.equal(reply0?.thread_ts, parent.ts);
  assert.notEqual(reply0?.thread_ts, sent.ts);
});

test('an approve tool posts a card in the thread; Approve runs it exactly once, the card ends final and the model gets the result', async (t) => {
  const h = await startSlackHarness(t, {
    script: [reply('Restarting.', toolUse('ops__restart', { service: 'api' })), (req) => reply(`Done: ${lastUserText(req)}`)],
  });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart api' });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts);
  const text = cardText(card);
  assert.match(text, /ops__restart/);
  assert.match(text, /Restart a service/);
  assert.match(text, /Requested by\* <@UALICE0001>/);
  assert.match(text, /the tool declares this level/);
  assert.match(text, /"service": "api"/);
  assert.match(text, /<!date\^\d+\^\{date_short_pretty\} \{time\}\|\d{4}-\d\d-\d\dT[^>]+>/, 'the deadline renders in the reader’s time zone');
  assert.deepEqual(buttonIds(card), ['mithai_approve', 'mithai_deny']);
  const approveButton = (card.blocks ?? []).flatMap((b) => (b.elements as Array<Record<string, unknown>> | undefined) ?? []).find((e) => e.action_id === 'mithai_approve');
  assert.equal(approveButton?.style, 'primary');
  assert.match(String(approveButton?.value), /^apr_[0-9a-f]{12}$/, 'the button carries only the approval id');
  assert.deepEqual(h.effects(), [], 'nothing ran before the click');

  const click = await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
  assert.deepEqual(click.payload, {});
  const replies = await waitFor('the final reply', () => textReplies(h.slack, CHANNEL, sent.ts).find((r) => r.startsWith('Done')));
  assert.match(replies, /restarted api/);
  assert.match(replies, /approved by UALICE0001/);
  assert.deepEqual(h.effects(), ['restart api']);

  const final = await waitFor('the final card', () => {
    const now = h.slack.message(CHANNEL, card.ts);
    return /succeeded/.test(cardText(now)) ? now : undefined;
  });
  assert.deepEqual(buttonIds(final), [], 'buttons removed');
  assert.match(cardText(final), /Approved by <@UALICE0001> at <!date\^/);
  assert.ok(endsWithToolResult(h.model.calls[1]!));
  assert.deepEqual(
    h.audit().map((r) => [r.event, r.decision, r.status, r.decider]),
    [['requested', null, 'pending', null], ['decision', 'approved', 'pending', ALICE], ['outcome', 'approved', 'succeeded', ALICE]],
  );
  const row = h.service.runtime.approvals.findByCallId(String(h.audit()[0]!.call_id));
  assert.deepEqual(JSON.parse(row!.displayRef!), { channel: CHANNEL, ts: card.ts }, 'where the card is was stored on the row');
  assert.equal(h.slack.ephemerals.length, 0);
  assert.deepEqual(h.slack.validationErrors, []);
});

test('an input too big for the card is cut there field by field, and Show full input shows all of it privately to the clicker', async (t) => {
  const note = Array.from({ length: 300 }, (_, i) => `step ${i}: drain <node-${i}> & wait`).join('\n');
  const h = await startSlackHarness(t, {
    slack: ['allowed_users: [UALICE0001, UBOB000001]'],
    script: [reply(toolUse('ops__restart', { service: 'api', note })), reply('ok')],
  });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart api carefully' });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts);
  assert.match(cardText(card), /\n"service": "api"\n/, 'the short field stays visible on its own line');
  assert.match(cardText(card), /\n"note": "step 0: drain [^\n]*…\n/, 'the long field is cut on its line');
  assert.match(cardText(card), /_Cut: `note`\. Use \*Show full input\*/, 'the long one is cut and named');
  assert.deepEqual(buttonIds(card), ['mithai_approve', 'mithai_deny', 'mithai_show_input']);

  await h.slack.clickButton({ user: BOB, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_show_input' });
  const parts = await waitFor('the full input', () => {
    const mine = h.slack.ephemerals.filter((e) => e.user === BOB);
    return mine.some((e) => e.text.includes('step 299')) ? mine : undefined;
  });
  assert.ok(parts.length >= 2, 'split over several ephemeral messages');
  for (const part of parts) {
    assert.equal(part.thread_ts, sent.ts);
    assert.equal((part.text.match(/```/g) ?? []).length % 2, 0);
  }
  // A long line is cut wherever it must; undo the fences added at the cuts to read it whole.
  const all = parts.map((p) => p.text.replace(/^```\n/, '').replace(/\n```$/, '')).join('');
  for (let i = 0; i < 300; i += 1) assert.ok(all.includes(`step ${i}: drain &lt;node-${i}&gt; &amp; wait`), `step ${i} shown, escaped`);
  assert.ok(h.slack.ephemerals.every((e) => e.user === BOB), 'only the clicker sees it');
  assert.deepEqual(h.effects(), [], 'looking changes nothing');
  assert.deepEqual(h.slack.validationErrors, []);
});
