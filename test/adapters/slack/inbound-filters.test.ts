/**
 * The inbound filter chain, step by step: which messages become turns, with what text, in
 * which thread. Fail closed: an unidentifiable sender is dropped, bots pass only when listed by
 * exact id, the bot's own messages never pass.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  compareTs, dateOfTs, dedupeKeys, isAllowed, isConversational, isFromPersonOrAllowedBot, matchesRespondMode, senderOf, threadTsOf, turnText,
} from '../../../src/adapters/slack/inbound-filters.ts';
import type { InboundMessage } from '../../../src/adapters/slack/inbound-filters.ts';

const BOT_USER = 'UBOT000001';
const BOT_ID = 'BBOT000001';
const msg = (fields: Partial<InboundMessage> = {}): InboundMessage => ({
  kind: 'app_mention', team: 'T1', channel: 'C1', user: 'UALICE0001', text: `<@${BOT_USER}> hi`, ts: '1700000000.000100', ...fields,
});

test('the bot mention is stripped, other mentions kept, Slack escapes decoded', () => {
  assert.equal(turnText(`<@${BOT_USER}> restart api`, BOT_USER), 'restart api');
  assert.equal(turnText(`hey <@${BOT_USER}|mithai>, ask <@UBOB000001> &lt;now&gt; &amp; later`, BOT_USER), 'hey , ask <@UBOB000001> <now> & later');
  assert.equal(turnText(`<@${BOT_USER}>`, BOT_USER), '');
});

test('a reply goes in the parent thread when there is one, else under the message itself', () => {
  assert.equal(threadTsOf({ ts: '2.000000', threadTs: '1.000000' }), '1.000000');
  assert.equal(threadTsOf({ ts: '2.000000' }), '2.000000');
});

test('housekeeping subtypes and messages without a place are dropped', () => {
  assert.equal(isConversational(msg()).ok, true);
  assert.equal(isConversational(msg({ subtype: 'thread_broadcast' })).ok, true);
  assert.equal(isConversational(msg({ subtype: 'message_changed' })).ok, false);
  assert.equal(isConversational(msg({ subtype: 'channel_join' })).ok, false);
  assert.equal(isConversational(msg({ ts: '' })).ok, false);
});

test('own messages are always dropped; other bots only pass when listed by exact id', () => {
  const check = (m: InboundMessage, allowed: string[]) => isFromPersonOrAllowedBot(m, BOT_USER, BOT_ID, allowed).ok;
  assert.equal(check(msg({ user: BOT_USER }), ['*']), false);
  assert.equal(check(msg({ user: undefined, botId: BOT_ID }), [BOT_ID]), false);
  assert.equal(check(msg({ user: 'UOTHER', botId: 'BOTHER' }), []), false);
  assert.equal(check(msg({ user: 'UOTHER', botId: 'BOTHER' }), ['*']), false, 'a wildcard does not let a bot in');
  assert.equal(check(msg({ user: 'UOTHER', botId: 'BOTHER' }), ['BOTHER']), true);
  assert.equal(check(msg({ user: 'UOTHER', botId: 'BOTHER' }), ['BOTHER', '!BOTHER']), false, 'a later exclusion wins over the exact entry');
  assert.equal(check(msg({ user: 'UOTHER', botId: 'BOTHER' }), ['BOTHER', '!B*']), false, 'a later wildcard exclusion wins too');
  assert.equal(check(msg({ user: undefined, subtype: 'bot_message' }), ['*']), false);
  assert.equal(check(msg({ user: undefined }), []), false, 'no sender: dropped');
  assert.equal(check(msg(), []), true);
});

test('respond mode: mentions and DMs always; channel messages only with all, and never a second time for a mention', () => {
  assert.equal(matchesRespondMode(msg(), 'mentions', BOT_USER).ok, true);
  assert.equal(matchesRespondMode(msg({ kind: 'message', channelType: 'im', text: 'hi' }), 'mentions', BOT_USER).ok, true);
  assert.equal(matchesRespondMode(msg({ kind: 'message', channelType: 'channel', text: 'hi' }), 'mentions', BOT_USER).ok, false);
  assert.equal(matchesRespondMode(msg({ kind: 'message', channelType: 'channel', text: 'hi' }), 'all', BOT_USER).ok, true);
  const both = matchesRespondMode(msg({ kind: 'message', channelType: 'channel', text: `<@${BOT_USER}> hi` }), 'all', BOT_USER);
  assert.deepEqual(both, { ok: false, reason: 'handled as app_mention' });
});

test('allowlists: users by pattern, channels by pattern, DMs by user only', () => {
  assert.equal(isAllowed(msg(), [], []).ok, true, 'empty lists allow everyone');
  assert.equal(isAllowed(msg(), ['UALICE*'], ['C*']).ok, true);
  assert.equal(isAllowed(msg({ user: 'UMALLORY01' }), ['*', '!UMALLORY01'], []).ok, false);
  assert.equal(isAllowed(msg({ channel: 'C2' }), [], ['C1']).ok, false);
  assert.equal(isAllowed(msg({ channel: 'D9', channelType: 'im' }), [], ['C1']).ok, true);
  assert.equal(isAllowed(msg({ user: 'UBOTUSER', botId: 'BFRIEND' }), ['UALICE0001', 'BFRIEND'], []).ok, true);
  assert.equal(isAllowed(msg({ user: 'UBOTUSER', botId: 'BFRIEND' }), ['UALICE0001', 'BFRIEND', '!BFRIEND'], []).ok, false, 'excluded later');
  assert.equal(isAllowed(msg({ user: 'UBOTUSER', botId: 'BOTHER' }), ['U*'], []).ok, false, 'a bot needs an exact entry, not a wildcard');
});

test('dedupe keys: the event id, and the message identity that survives re-delivery as another event', () => {
  assert.deepEqual(dedupeKeys(msg({ eventId: 'Ev1' })), ['event:Ev1', 'msg:T1:C1:1700000000.000100']);
  assert.deepEqual(dedupeKeys(msg()), ['msg:T1:C1:1700000000.000100']);
});

test('Slack timestamps compare exactly and turn into dates', () => {
  assert.ok(compareTs('1700000000.000100', '1700000000.000099') > 0);
  assert.ok(compareTs('1700000000.9', '1700000001.0') < 0);
  assert.equal(compareTs('5.000001', '5.000001'), 0);
  assert.equal(dateOfTs('1700000000.000100')?.toISOString(), '2023-11-14T22:13:20.000Z');
  assert.equal(dateOfTs('nonsense'), undefined);
});

/*
 * Bots are bots: a message carrying a bot id is judged only as that bot. Some bot messages also
 * carry a `user` (the person who installed or drives the bot); that field must never make the
 * message count as that person — otherwise any bot could speak with a listed user's rights.
 */
test('a bot message is judged only by its bot id, never by the user field it carries', () => {
  const fromBot = msg({ botId: 'BOTHER0001', user: 'UALICE0001', subtype: 'bot_message' });
  assert.equal(isFromPersonOrAllowedBot(fromBot, BOT_USER, BOT_ID, ['UALICE0001']).ok, false, 'listing the user does not admit the bot');
  assert.equal(isAllowed(fromBot, ['UALICE0001'], []).ok, false);
  assert.equal(isFromPersonOrAllowedBot(fromBot, BOT_USER, BOT_ID, ['BOTHER0001']).ok, true, 'listing the bot id does');
  assert.equal(isAllowed(fromBot, ['BOTHER0001'], []).ok, true);
  assert.equal(isAllowed(fromBot, ['BOTHER0001', '!UALICE0001'], []).ok, true, 'and the user field does not exclude it either');
  assert.equal(senderOf(fromBot), 'BOTHER0001');
});

test('a bot message with no bot id cannot be identified as any bot and is dropped', () => {
  const anonymous = msg({ subtype: 'bot_message', user: 'UALICE0001' });
  assert.equal(isFromPersonOrAllowedBot(anonymous, BOT_USER, BOT_ID, ['*', 'UALICE0001']).ok, false);
  assert.equal(senderOf(anonymous), undefined);
});

test('another bot that carries the bot user id in its user field is not mistaken for mithai itself', () => {
  const impostor = msg({ botId: 'BOTHER0001', user: BOT_USER });
  assert.equal(isFromPersonOrAllowedBot(impostor, BOT_USER, BOT_ID, ['BOTHER0001']).ok, true, 'judged as the other bot (listed here)');
  assert.equal(isFromPersonOrAllowedBot(msg({ botId: BOT_ID, user: 'UALICE0001' }), BOT_USER, BOT_ID, ['*']).ok, false, 'mithai itself, whatever the user field');
});
