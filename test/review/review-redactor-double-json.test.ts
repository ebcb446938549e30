/**
 * Review finding (redactor, commit 32d5f45 "JSON escapes", and the log formats of #15): a known
 * secret is redacted in its raw form and in its JSON-escaped form (encodedForms), but not when
 * it is JSON-encoded twice: JSON text inside a JSON string. That is the normal shape of
 * - a log field whose value is JSON text (an error carrying a response body, `err: "request
 *   failed: {\"password\":…}"`): in the JSON log line the secret is escaped twice;
 * - a tool result object with a JSON string in it: the shell skill returns `{ stdout, … }`, so
 *   `cat app.json` or `kubectl get … -o json` printing a config that holds the secret reaches
 *   the model (and the session database) escaped twice.
 * For a secret with a character JSON escapes (`"`, `\`, a newline or tab: generated passwords,
 * multi-line credentials) the escaped-twice text is not any of the learnt forms, so it passes
 * untouched, and one JSON.parse by the reader gives the secret back. (Pretty output is never
 * less redacted than the JSON line — that part of #15 held — but it leaks the same way.)
 *
 * What must hold: after the reader decodes what mithai wrote (as many JSON levels as it
 * likes), the secret is not there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { createLogger } from '../../src/audit/logger.ts';
import { Redactor } from '../../src/security/redactor.ts';
import { formatOutput } from '../../src/skills/invoke-tool.ts';
import { renderToolResult } from '../../src/engine/tool-result-text.ts';

const SECRET = 'correct"horse\\battery-staple';

/** Every string reachable by JSON-decoding `text` again and again (strings that hold JSON, too). */
function decodedStrings(text: string, depth = 0): string[] {
  const out = [text];
  if (depth > 4) return out;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return out;
  }
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(...decodedStrings(v, depth + 1));
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) (out.push(k), walk(x));
  };
  walk(value);
  return out;
}

/** Text without backslashes: how much escaping a copy carries does not make it less of a secret. */
function unslashed(text: string): string {
  return text.replace(/\\/g, '');
}

for (const format of ['json', 'pretty'] as const) {
  test(`a ${format} log line with the secret inside JSON text in a field does not give the secret back`, async () => {
    const destination = new PassThrough();
    let written = '';
    destination.on('data', (d: Buffer) => (written += d.toString()));
    const log = createLogger({ level: 'info', format, redactor: new Redactor([SECRET]), destination });
    log.error({ err: `request failed: ${JSON.stringify({ user: 'app', password: SECRET })}` }, 'http.request_failed');
    await new Promise((r) => setImmediate(r));
    const lines = written.split('\n').filter(Boolean);
    assert.ok(lines.length > 0);
    // A person reading pretty text sees the secret with a few backslashes in it: compare without them.
    const leaked = lines.flatMap((line) => decodedStrings(line)).some((s) => unslashed(s).includes(unslashed(SECRET)));
    assert.equal(leaked, false, `the ${format} output gives the secret back after decoding: ${written}`);
  });
}

test('a tool result object holding JSON text with the secret (shell stdout of `cat app.json`) does not reach the model with the secret', () => {
  const redactor = new Redactor([SECRET]);
  // What the shell skill returns when the command printed a JSON config holding the secret.
  const outcome = formatOutput({ argv: ['/bin/cat', 'app.json'], exit_code: 0, stdout: `${JSON.stringify({ db: { password: SECRET } })}\n`, stderr: '' });
  assert.equal(outcome.status, 'succeeded');
  const text = renderToolResult(outcome.status === 'succeeded' ? outcome.output : '', { redact: (t) => redactor.redact(t), maxChars: 20_000 });
  const leaked = decodedStrings(text).some((s) => unslashed(s).includes(unslashed(SECRET)));
  assert.equal(leaked, false, `the model would read the secret after one JSON.parse: ${text}`);
});
