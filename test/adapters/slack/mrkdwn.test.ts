/**
 * Formatting for Slack: Markdown from the model becomes mrkdwn; untrusted text is escaped; no
 * reply can page a channel or a user group.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import slackifyMarkdown from 'slackify-markdown';
import { escapeCodeBlock, escapeInline, markdownToMrkdwn, neutraliseBroadcasts, slackDate, stripZeroWidth, userMention } from '../../../src/adapters/slack/mrkdwn.ts';

const plain = (s: string): string => s.replace(/\u200b/g, '');

test('Markdown headings, bold, italics, links, lists and code blocks become mrkdwn', () => {
  const out = plain(markdownToMrkdwn('# Status\n\n**bold** and _it_ and [docs](https://example.com)\n\n- one\n- two\n\n```\ncode <here>\n```'));
  assert.match(out, /^\*Status\*/);
  assert.match(out, /\*bold\* and _it_ and <https:\/\/example\.com\|docs>/);
  assert.match(out, /•\s+one\n•\s+two/);
  assert.match(out, /```\ncode <here>\n```$/);
});

test('broadcast mentions in replies are neutralised; user mentions stay', () => {
  assert.equal(neutraliseBroadcasts('hi <!channel> <!here|here> <!everyone> <!subteam^S123|@oncall> <@U1>'), 'hi @channel @here @everyone @oncall <@U1>');
  assert.equal(neutraliseBroadcasts('legacy <!group> and <!GROUP|group>'), 'legacy @group and @group');
  assert.doesNotMatch(markdownToMrkdwn('urgent <!channel> please'), /<!channel>/);
});

test('code-block escaping leaves no backtick pair and no raw control characters', () => {
  const out = escapeCodeBlock('```\n<!here> & ``');
  assert.doesNotMatch(out, /``/);
  assert.doesNotMatch(out, /[<>]/);
  assert.equal(stripZeroWidth(out), '```\n&lt;!here&gt; &amp; ``');
});

test('inline escaping keeps a value on one line and inside its code span', () => {
  assert.equal(stripZeroWidth(escapeInline('a`b\n*c*')), 'a`b *c*');
  assert.doesNotMatch(escapeInline('x`y'), /`y/);
});

test('dates render in the reader’s time zone with an ISO fallback; mentions only for real user ids', () => {
  assert.equal(slackDate('2025-01-01T00:05:00.000Z'), '<!date^1735689900^{date_short_pretty} {time}|2025-01-01T00:05:00.000Z>');
  assert.equal(slackDate('not a date <x>'), 'not a date &lt;x&gt;');
  assert.equal(userMention('UALICE0001'), '<@UALICE0001>');
  assert.equal(userMention('alice <!here>'), 'alice &lt;!here&gt;');
  assert.equal(userMention(null), 'someone');
});

test('plain replies skip the parser and come out exactly as slackify-markdown would make them', () => {
  // A seeded generator over the characters the fast path accepts, plus the Markdown markers
  // that must send text to the parser (list items, rules, setext underlines, leading spaces).
  let seed = 20261202;
  const next = (n: number): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed % n;
  };
  const pieces = ['a', 'B', 'z', '0', '7', ' ', '  ', ',', '.', ':', ';', "'", '"', '?', '(', ')', '/', '%', '=', '+', '-', '\n', '\n\n', '\n\n\n', 'svc', '1. ', '- ', '--', '==', '++', '* ', '_x_'];
  for (let i = 0; i < 20_000; i++) {
    let text = '';
    for (let j = 1 + next(14); j > 0; j--) text += pieces[next(pieces.length)];
    assert.equal(markdownToMrkdwn(text), slackifyMarkdown(text).replace(/\s+$/, ''), JSON.stringify(text));
  }
  assert.equal(markdownToMrkdwn('finished svc-17: 3 of 3 instances up (ok).'), 'finished svc-17: 3 of 3 instances up (ok).');
  assert.equal(markdownToMrkdwn('1. first'), slackifyMarkdown('1. first').replace(/\s+$/, ''), 'a list item is not plain');
});
