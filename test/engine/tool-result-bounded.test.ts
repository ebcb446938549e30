/**
 * Tool results are redacted in bounded time: only a window of the output (what is kept plus a
 * margin as long as the longest known secret) is redacted, so a tool printing tens of
 * megabytes does not hold the event loop, and the result is still correct: no secret, not even
 * one straddling the cut, and a note saying the output was truncated.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderToolResult } from '../../src/engine/tool-result-text.ts';
import { REDACTED, Redactor } from '../../src/security/redactor.ts';

const SECRET = 'tool-output-secret-0123456789abcdef';
const redactor = new Redactor([SECRET]);
const redact = (t: string): string => redactor.redact(t);
const MAX = 16_000;

test('a 40 MB output is redacted in a bounded window, truncated with a note, with no secret in it', () => {
  const chunk = `line of output ${SECRET} and ghp_${'a1'.repeat(18)} more\n`;
  // A secret straddles the cut exactly, and the rest goes on for 40 MB.
  const head = 'x'.repeat(MAX - 5);
  const output = `${head}${SECRET}${chunk.repeat(Math.ceil(40_000_000 / chunk.length))}`;
  assert.ok(output.length > 40_000_000);
  // Bounded work, not a stopwatch (timings belong in bench/): the redactor sees a window of
  // the output, never the 40 MB.
  let redactedChars = 0;
  const countingRedact = (t: string): string => {
    redactedChars += t.length;
    return redact(t);
  };
  const text = renderToolResult(output, { redact: countingRedact, maxChars: MAX, untrusted: { source: 'shell', nonce: '9f8e7d6c5b4a3210' } });
  assert.ok(redactedChars > 0 && redactedChars < 4 * MAX, `the redactor was given ${redactedChars} characters of a ${output.length}-character output`);
  assert.ok(!text.includes(SECRET.slice(0, 6)) && !text.includes(SECRET.slice(-6)), 'no piece of the secret');
  assert.doesNotMatch(text, /ghp_a1/);
  assert.match(text, /\[truncated: about \d+ more characters not shown \(agent\.max_tool_result_chars = 16000\)\]/);
  assert.ok(text.includes(`x${REDACTED.slice(0, 5)}\n[truncated`), 'the secret at the cut is redacted, then cut');
  assert.ok(text.length < MAX + 300);
  assert.match(text, /^<untrusted-9f8e7d6c5b4a3210 source="shell">/, 'the wrapper is never cut off');
  assert.match(text, /<\/untrusted-9f8e7d6c5b4a3210>$/);
});

test('an output made only of secrets still shows only markers and says it was truncated', () => {
  const output = `${SECRET} `.repeat(1_000_000);
  const text = renderToolResult(output, { redact, maxChars: 1000 });
  assert.ok(!text.includes(SECRET.slice(0, 6)));
  assert.match(text, /^(\[REDACTED\] )+/);
  assert.match(text, /\[truncated: about \d+ more characters not shown/);
});

test('an output just over the limit is cut exactly, counting what is left out after redaction', () => {
  const output = `${SECRET} ${'y'.repeat(120)}`;
  const text = renderToolResult(output, { redact, maxChars: 100 });
  assert.equal(text, `${REDACTED} ${'y'.repeat(89)}\n[truncated: 31 more characters not shown (agent.max_tool_result_chars = 100)]`);
});
