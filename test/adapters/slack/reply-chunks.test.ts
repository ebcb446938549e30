/**
 * Long replies are split into messages Slack accepts. The rules: every chunk is within the
 * limit; every chunk renders on its own (a code block cut by a split is closed at the end of
 * one chunk and reopened at the start of the next); nothing is lost; short text is one chunk.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_MESSAGE_CHARS, splitMrkdwn } from '../../../src/adapters/slack/reply-chunks.ts';

const fences = (s: string): number => (s.match(/```/g) ?? []).length;
/** The chunks joined back, with the fences the splitter added taken out again. */
const rejoin = (chunks: string[]): string => chunks.map((c, i) => {
  let body = c;
  if (i > 0 && body.startsWith('```\n') && chunks[i - 1]!.endsWith('\n```')) body = body.slice(4);
  if (i < chunks.length - 1 && body.endsWith('\n```') && chunks[i + 1]!.startsWith('```\n')) body = body.slice(0, -4);
  return body;
}).join('\n');

test('short text is one chunk, unchanged; blank text is no chunk', () => {
  assert.deepEqual(splitMrkdwn('hello *world*'), ['hello *world*']);
  assert.deepEqual(splitMrkdwn('  \n\n '), []);
});

test('a code block longer than a message is closed and reopened at each split, nothing lost', () => {
  const code = Array.from({ length: 200 }, (_, i) => `row ${i} ${'y'.repeat(40)}`).join('\n');
  const text = `Intro line\n\`\`\`\n${code}\n\`\`\`\nOutro line`;
  const chunks = splitMrkdwn(text, 1000);
  assert.ok(chunks.length > 5);
  for (const chunk of chunks) {
    assert.ok(chunk.length <= 1000, `chunk of ${chunk.length}`);
    assert.equal(fences(chunk) % 2, 0, `balanced fences in:\n${chunk.slice(0, 80)}…`);
  }
  assert.ok(chunks[0]!.startsWith('Intro line\n```\n'));
  assert.ok(chunks.at(-1)!.endsWith('Outro line'));
  assert.equal(rejoin(chunks), text);
});

test('prose splits at line ends, and one enormous line is cut at spaces within the limit', () => {
  const words = Array.from({ length: 3000 }, (_, i) => `word${i}`).join(' ');
  const chunks = splitMrkdwn(`first paragraph\n\n${words}`, 500);
  for (const chunk of chunks) assert.ok(chunk.length <= 500);
  assert.equal(chunks[0], 'first paragraph');
  assert.equal(chunks.join(' ').replace(/\s+/g, ' ').includes('word2998 word2999'), true);
  assert.ok(chunks.slice(1).every((c) => /^word\d+/.test(c) || c.startsWith(' ')), 'cuts fall between words');
});

test('a cut never splits an escape entity or a fence marker', () => {
  const line = '&amp;'.repeat(400);
  const chunks = splitMrkdwn(line, 103);
  for (const chunk of chunks) assert.match(chunk, /^(&amp;)+$/);
});

test('an unclosed code block in the source is closed so the last chunk renders as code', () => {
  const chunks = splitMrkdwn('look:\n```\nno end');
  assert.deepEqual(chunks, ['look:\n```\nno end\n```']);
});

test('the default limit keeps every chunk under Slack’s readable message size', () => {
  const chunks = splitMrkdwn('z'.repeat(20_000));
  assert.ok(chunks.length >= 6);
  for (const chunk of chunks) assert.ok(chunk.length <= MAX_MESSAGE_CHARS);
  assert.equal(chunks.join(''), 'z'.repeat(20_000));
});
