/**
 * Token-shape redaction runs in linear time: adversarial input (near-misses of every shape,
 * repeated) is redacted about as fast as plain text, with no catastrophic backtracking. The
 * bounds are generous; a quadratic pattern takes tens of seconds on these inputs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, Redactor } from '../../src/security/redactor.ts';

const redactor = new Redactor(['linear-known-secret']);
const SIZE = 2_000_000;
const fill = (unit: string): string => unit.repeat(Math.ceil(SIZE / unit.length));

const ADVERSARIAL: Array<[string, string]> = [
  ['dotted words (key=value and URL scheme starts everywhere)', fill('a.')],
  ['secret words with no =', fill('-token')],
  ['secret words long before the =', fill(`${'x'.repeat(39)}password${'y'.repeat(39)} `)],
  ['URL schemes with no user info', fill('x://a:')],
  ['URL user info with no @', `x://user:${'p'.repeat(SIZE)}`],
  ['a long run of key characters with no =', 'k'.repeat(SIZE)],
  ['PEM headers with no end', fill('-----BEGIN ')],
  ['a PEM block with many false ends', `-----BEGIN PRIVATE KEY-----${fill('-----END ')}`],
  ['Bearer with no token', fill('Bearer ')],
  ['authorization with no value', fill('authorization ')],
  ['authorization and a sea of spaces', `authorization${' '.repeat(SIZE)}`],
  ['GitHub token prefixes', fill('ghp_')],
  ['AWS key prefixes', fill('AKIA')],
  ['near-misses of the known secret', fill('linear-known-secre ')],
];

for (const [what, input] of ADVERSARIAL) {
  test(`stays linear on ${what}`, () => {
    const started = performance.now();
    redactor.redact(input);
    const elapsed = performance.now() - started;
    assert.ok(elapsed < 3000, `${Math.round(elapsed)} ms for ${input.length} characters`);
  });
}

test('the linear patterns still find what they are for', () => {
  assert.equal(redactor.redact(`${'x'.repeat(100)}_password=hunter2 ok`), `${'x'.repeat(100)}_password=${REDACTED} ok`);
  assert.equal(redactor.redact('see a.b.c.db.postgres://app:s3cret@db/x'), `see a.b.c.db.postgres://app:${REDACTED}@db/x`);
  assert.equal(redactor.redact('X-Amz-Signature=abc123&x=1'), `X-Amz-Signature=${REDACTED}&x=1`);
  assert.equal(redactor.redact('author=bob HOME=/root'), 'author=bob HOME=/root');
  assert.equal(redactor.redact('a token=x then linear-known-secret'), `a token=${REDACTED} then ${REDACTED}`);
});
