/**
 * redactDeep redacts object keys as well as values: a tool input `{ "<secret>": 1 }` reaches
 * the audit log, cards and the model as `{ "[REDACTED]": 1 }`. Keys that redact to the same
 * text are all kept (suffixed), never silently merged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, Redactor } from '../../src/security/redactor.ts';

const redactor = new Redactor(['key-secret-one', 'key-secret-two']);

test('a secret used as a key is redacted at any depth, in arrays too', () => {
  const out = redactor.redactDeep({ 'key-secret-one': 1, nested: [{ 'has key-secret-two inside': { ok: 'key-secret-one' } }] });
  assert.deepEqual(out, { [REDACTED]: 1, nested: [{ [`has ${REDACTED} inside`]: { ok: REDACTED } }] });
  assert.doesNotMatch(JSON.stringify(out), /key-secret/);
});

test('token shapes in keys are redacted too', () => {
  const out = new Redactor().redactDeep({ 'xoxb-123-456-abcDEF': true, 'https://app:hunter22@db': 1 });
  assert.deepEqual(Object.keys(out), [REDACTED, `https://app:${REDACTED}@db`]);
});

test('keys that redact to the same text are all kept, in order, with a suffix', () => {
  const out = redactor.redactDeep({ 'key-secret-one': 'a', 'key-secret-two': 'b', [REDACTED]: 'c', [`${REDACTED} (2)`]: 'd' });
  assert.deepEqual(out, { [REDACTED]: 'a', [`${REDACTED} (2)`]: 'b', [`${REDACTED} (3)`]: 'c', [`${REDACTED} (2) (2)`]: 'd' });
  assert.equal(Object.keys(out).length, 4, 'nothing dropped');
});

test('a __proto__ key stays an own data property and the copy keeps a plain prototype', () => {
  const input = JSON.parse('{"__proto__": {"key-secret-one": "x"}, "a": 1}') as Record<string, unknown>;
  const out = redactor.redactDeep(input);
  assert.equal(Object.getPrototypeOf(out), Object.prototype);
  assert.ok(Object.hasOwn(out, '__proto__'));
  assert.equal(JSON.stringify(out), `{"__proto__":{"${REDACTED}":"x"},"a":1}`);
  assert.doesNotMatch(JSON.stringify(out), /key-secret/);
});

test('cycles through redacted keys are preserved', () => {
  const node: Record<string, unknown> = {};
  node['key-secret-one'] = node;
  const out = redactor.redactDeep(node);
  assert.equal(out[REDACTED], out);
});
