import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesAllowlist, matchesAnyPattern } from '../../src/security/allowlist.ts';

// Rules apply in order and later rules win; a list that starts with an exclusion starts from
// "allowed". Each row: patterns, id, expected for an allowlist.
const cases: Array<{ patterns: string[]; id: string; expected: boolean; why: string }> = [
  { patterns: ['U1'], id: 'U1', expected: true, why: 'an exact id matches' },
  { patterns: ['U1'], id: 'U12', expected: false, why: 'an exact id does not match a longer id' },
  { patterns: ['U1'], id: 'u1', expected: false, why: 'matching is case-sensitive' },
  { patterns: ['U1*'], id: 'U123', expected: true, why: '* matches any run' },
  { patterns: ['U1*'], id: 'U1', expected: true, why: '* matches the empty run' },
  { patterns: ['U?3'], id: 'U23', expected: true, why: '? matches one character' },
  { patterns: ['U?3'], id: 'U223', expected: false, why: '? matches exactly one character' },
  { patterns: ['*'], id: 'ANYONE', expected: true, why: '* alone matches everyone' },
  { patterns: ['*', '!U666'], id: 'U666', expected: false, why: 'a later exclusion wins' },
  { patterns: ['*', '!U666'], id: 'U1', expected: true, why: 'others stay allowed after an exclusion' },
  { patterns: ['!U666'], id: 'U1', expected: true, why: 'a list starting with an exclusion starts allowed' },
  { patterns: ['!U666'], id: 'U666', expected: false, why: 'the excluded id is refused' },
  { patterns: ['!U*', 'U1'], id: 'U1', expected: true, why: 'a later inclusion wins over an earlier exclusion' },
  { patterns: ['!U*', 'U1'], id: 'U2', expected: false, why: 'the exclusion still applies to others' },
  { patterns: ['U1', 'U2'], id: 'U3', expected: false, why: 'an id matching no rule is refused' },
  { patterns: ['U.1'], id: 'UX1', expected: false, why: 'regex characters are literal' },
  { patterns: ['C(1|2)'], id: 'C1', expected: false, why: 'regex groups are literal' },
  { patterns: [' U1 '], id: 'U1', expected: true, why: 'surrounding whitespace is ignored' },
  { patterns: ['  '], id: 'U1', expected: false, why: 'a list of blank rules fails closed' },
];

describe('matchesAllowlist', () => {
  for (const c of cases) {
    test(`${c.expected ? 'allows' : 'refuses'} ${c.id} for ${JSON.stringify(c.patterns)}: ${c.why}`, () => {
      assert.equal(matchesAllowlist(c.id, c.patterns), c.expected);
    });
  }

  test('allows everyone when the list is empty', () => {
    assert.equal(matchesAllowlist('U1', []), true);
  });
});

describe('matchesAnyPattern', () => {
  test('matches nobody when the list is empty', () => {
    assert.equal(matchesAnyPattern('U1', []), false);
  });

  // Approver lists never start from "everyone": a list of only exclusions grants nobody.
  for (const c of cases) {
    const startsWithExclusion = c.patterns.find((p) => p.trim() !== '')?.trim().startsWith('!') ?? false;
    if (startsWithExclusion) continue;
    test(`follows the allowlist rules for ${JSON.stringify(c.patterns)} and ${c.id}`, () => {
      assert.equal(matchesAnyPattern(c.id, c.patterns), c.expected);
    });
  }

  test('a list of only exclusions makes nobody an approver', () => {
    assert.equal(matchesAnyPattern('U1', ['!U666']), false);
    assert.equal(matchesAnyPattern('U666', ['!U666']), false);
  });

  test('an exclusion after a wildcard removes one person', () => {
    assert.equal(matchesAnyPattern('U1', ['*', '!U666']), true);
    assert.equal(matchesAnyPattern('U666', ['*', '!U666']), false);
  });
});
