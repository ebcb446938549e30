import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { InternalError } from '../../src/errors.ts';
import { canonicalJson } from '../../src/audit/canonical-json.ts';

describe('canonicalJson', () => {
  test('sorts keys recursively, so key order never changes the text', () => {
    const a = { b: 1, a: { d: [{ z: 1, y: 2 }], c: 'x' } };
    const b = { a: { c: 'x', d: [{ y: 2, z: 1 }] }, b: 1 };
    assert.equal(canonicalJson(a), '{"a":{"c":"x","d":[{"y":2,"z":1}]},"b":1}');
    assert.equal(canonicalJson(a), canonicalJson(b));
  });

  test('keeps array order', () => {
    assert.notEqual(canonicalJson([1, 2]), canonicalJson([2, 1]));
  });

  test('follows JSON.stringify for undefined, non-finite numbers and toJSON', () => {
    assert.equal(canonicalJson({ a: undefined, b: [undefined, NaN, Infinity], c: new Date(0) }), '{"b":[null,null,null],"c":"1970-01-01T00:00:00.000Z"}');
    assert.equal(canonicalJson(undefined), 'null');
  });

  test('escapes strings exactly as JSON does', () => {
    assert.equal(canonicalJson({ 'k"\n': 'v\u2028"' }), JSON.stringify({ 'k"\n': 'v\u2028"' }));
  });

  test('sorts integer-like keys as strings', () => {
    assert.equal(canonicalJson({ 10: 'a', 9: 'b', x: 'c' }), '{"10":"a","9":"b","x":"c"}');
  });

  test('refuses cycles and BigInts instead of producing an ambiguous encoding', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => canonicalJson(cyclic), InternalError);
    assert.throws(() => canonicalJson({ n: 1n }), InternalError);
  });

  test('allows the same object twice when it is not a cycle', () => {
    const shared = { x: 1 };
    assert.equal(canonicalJson([shared, shared]), '[{"x":1},{"x":1}]');
  });
});

test('refuses Maps, Sets and class instances, which would otherwise all encode as {}', () => {
  class Target { host = 'db-1'; }
  assert.throws(() => canonicalJson({ hosts: new Set(['web-1']) }), /cannot encode a Set/);
  assert.throws(() => canonicalJson({ m: new Map() }), /cannot encode a Map/);
  assert.throws(() => canonicalJson([new Target()]), /cannot encode a Target/);
  assert.equal(canonicalJson({ when: new Date(0) }), '{"when":"1970-01-01T00:00:00.000Z"}', 'toJSON still applies');
  assert.equal(canonicalJson(Object.assign(Object.create(null), { a: 1 })), '{"a":1}');
});
