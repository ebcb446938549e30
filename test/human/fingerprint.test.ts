import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { InternalError } from '../../src/errors.ts';
import { fingerprint } from '../../src/human/fingerprint.ts';

describe('fingerprint', () => {
  test('is the sha256 hex of the tool name, a newline and the canonical input', () => {
    const expected = createHash('sha256').update('k8s__scale\n{"name":"web","replicas":3}').digest('hex');
    assert.equal(fingerprint('k8s__scale', { replicas: 3, name: 'web' }), expected);
  });

  test('does not depend on key order at any depth', () => {
    assert.equal(
      fingerprint('t__x', { a: 1, b: { d: [1, { f: 1, e: 2 }], c: 2 } }),
      fingerprint('t__x', { b: { c: 2, d: [1, { e: 2, f: 1 }] }, a: 1 }),
    );
  });

  test('changes with the tool name, any value, and array order', () => {
    const base = fingerprint('k8s__scale', { name: 'web', replicas: 3 });
    assert.notEqual(fingerprint('k8s__scale2', { name: 'web', replicas: 3 }), base);
    assert.notEqual(fingerprint('k8s__scale', { name: 'web', replicas: 30 }), base);
    assert.notEqual(fingerprint('k8s__scale', { name: 'web', replicas: '3' }), base);
    assert.notEqual(fingerprint('t', { list: [1, 2] }), fingerprint('t', { list: [2, 1] }));
  });

  test('cannot be forged by moving text between the tool name and the input', () => {
    assert.notEqual(fingerprint('a', 'b\n"c"'), fingerprint('a\n"b', 'c'));
  });
});

describe('fingerprint input encoding', () => {
  test('treats a __proto__ key as data, not as a prototype', () => {
    const withKey: unknown = JSON.parse('{"__proto__":{"x":1},"a":2}');
    assert.equal(fingerprint('t', withKey), createHash('sha256').update('t\n{"__proto__":{"x":1},"a":2}').digest('hex'));
  });

  test('refuses an input with no JSON form rather than hashing something else', () => {
    assert.throws(() => fingerprint('t', { n: 1n }), InternalError);
  });
});
