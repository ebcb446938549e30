import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stripToolMarkup } from '../../src/engine/tool-markup.ts';

const cases: Array<[string, string, string]> = [
  ['function_calls block', 'I was denied.\n<function_calls>\n<invoke name="ops__restart">\n<parameter name="name">api</parameter>\n</invoke>\n</function_calls>', 'I was denied.'],
  ['unterminated block at the end', 'Trying again <function_calls><invoke name="x">', 'Trying again'],
  ['stray closing tags', 'done </invoke></function_calls>', 'done'],
  ['tool_call tags', 'a <tool_call>{"name":"x"}</tool_call> b', 'a  b'],
  ['ordinary angle brackets stay', 'use <pod-name> and a < b', 'use <pod-name> and a < b'],
];

for (const [name, input, expected] of cases) {
  test(`strips tool-call markup written as text: ${name}`, () => {
    assert.equal(stripToolMarkup(input), expected);
  });
}

test('a huge text with unclosed tags still loses its tags (block scan is skipped above the size guard)', () => {
  const text = `${'<invoke name="x">'.repeat(5000)}${'a'.repeat(300_000)}`;
  const out = stripToolMarkup(text);
  assert.ok(!out.includes('<invoke'));
  assert.ok(out.endsWith('a'.repeat(10)));
});
