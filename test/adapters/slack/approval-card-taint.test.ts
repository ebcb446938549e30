/**
 * A card for a call made after untrusted content warns right under its title: what content,
 * from where (tool names in code, Slack users as mentions, bots and unknown senders in words),
 * escaped like everything else on the card; the final card keeps a compact warning; a call
 * without taint has no warning at all.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderCard, taintWarning } from '../../../src/adapters/slack/approval-card.ts';
import type { SlackBlock } from '../../../src/adapters/slack/approval-card.ts';
import type { TaintSource } from '../../../src/human/types.ts';
import { approval } from '../../fixtures/approval.ts';

const noRedact = (t: string): string => t;
const blockText = (blocks: SlackBlock[], id: string): string | undefined => (blocks.find((b) => b.block_id === id)?.text as { text?: string } | undefined)?.text;

const TAINT: TaintSource[] = [
  { kind: 'tool_output', source: 'http__http_get' },
  { kind: 'thread_message', source: 'U999AAAA' },
  { kind: 'thread_message', source: 'B123 (bot)' },
  { kind: 'thread_message', source: 'unknown sender' },
  { kind: 'tool_error', source: 'x__y' },
];

test('a pending tainted card warns right under its title, naming every source', () => {
  const card = renderCard(approval({ taint: TAINT }), noRedact);
  assert.deepEqual(card.blocks.slice(0, 3).map((b) => b.block_id), ['mithai_status', 'mithai_taint', 'mithai_tool']);
  const warning = blockText(card.blocks, 'mithai_taint')!;
  assert.equal(
    warning,
    ':warning: *Untrusted content is in this conversation* — output of `http__http_get`; a message from <@U999AAAA>; ' +
      'a message from the bot `B123`; a message from an unknown sender; an error message from `x__y`. ' +
      'It may have asked for this call: check the input before approving.',
  );
  assert.match(card.text, /untrusted content is in this conversation/, 'the notification says so too');
  assert.deepEqual(card.blocks.at(-1)?.type, 'actions', 'the buttons are still there');
});

test('the decided card keeps a compact warning', () => {
  const card = renderCard(approval({ taint: TAINT.slice(0, 2), state: 'denied', decider: 'UBOB', decidedAt: '2025-01-01T00:01:00.000Z', reason: 'no' }), noRedact);
  assert.equal(blockText(card.blocks, 'mithai_taint'), ':warning: Untrusted content was in this conversation: output of `http__http_get`; a message from <@U999AAAA>.');
  assert.ok(!card.blocks.some((b) => b.type === 'actions'));
});

test('a call without taint has no warning; a source not recorded is said so', () => {
  assert.equal(renderCard(approval(), noRedact).blocks.some((b) => b.block_id === 'mithai_taint'), false);
  assert.match(taintWarning(approval({ taint: [{ kind: 'unrecorded', source: '' }] }), noRedact)!, /untrusted content \(source not recorded\)/);
});

test('a source that is not a Slack id cannot ping, link or break out of its code span, and is redacted', () => {
  const hostile: TaintSource[] = [
    { kind: 'thread_message', source: '<!channel> hunter2' },
    { kind: 'tool_output', source: 'a`b <https://evil|x>' },
    { kind: 'thread_message', source: '<@UBOSS> (bot)' },
  ];
  const redact = (t: string): string => t.replaceAll('hunter2', '[REDACTED]');
  const warning = taintWarning(approval({ taint: hostile }), redact)!;
  assert.doesNotMatch(warning, /<!channel>|<https:|<@UBOSS>/);
  assert.doesNotMatch(warning, /hunter2/);
  assert.match(warning, /&lt;!channel&gt; \[REDACTED\]/);
  assert.match(warning, /`a`\u200bb &lt;https:\/\/evil\|x&gt;`/);
});

test('many sources are counted, not all listed', () => {
  const many = Array.from({ length: 15 }, (_, i): TaintSource => ({ kind: 'tool_output', source: `t__tool${i}` }));
  const warning = taintWarning(approval({ taint: many }), noRedact)!;
  assert.match(warning, /`t__tool9`; and 5 more\./);
  assert.doesNotMatch(warning, /t__tool10/);
});
