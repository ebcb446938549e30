import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeList, decide, matchesAllowlist, matchesAnyPattern, parseList, type ListKind } from '../../src/security/allowlist.ts';

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
  { patterns: ['!'], id: 'U1', expected: false, why: 'a lone ! is ignored, so the list fails closed (it does not start from everyone)' },
  { patterns: ['!', 'U1'], id: 'U1', expected: true, why: 'a lone ! is ignored, the next rule counts' },
  { patterns: ['', '!U666'], id: 'U1', expected: true, why: 'the first rule that is not ignored decides the start' },
  { patterns: ['! U666'], id: 'U666', expected: false, why: 'space after ! is ignored' },
  { patterns: ['U1', '!U666'], id: 'U2', expected: false, why: 'a list starting with an inclusion starts from nobody' },
  { patterns: ['!U666', 'U1'], id: 'U2', expected: true, why: 'a list starting with an exclusion starts from everyone, wherever the inclusions are' },
  { patterns: ['!U*', '*'], id: 'U1', expected: true, why: 'a later * re-admits everyone' },
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

// ---------------------------------------------------------------------------------------------
// Property tests: random lists of rules over random ids, checked against a reference written
// from the rule as docs/security.md ("Pattern lists") states it, with its own glob matcher.

/** Deterministic PRNG (mulberry32), so a failure names a reproducible seed. */
function rng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `*` any run (also none), `?` exactly one character, else literal; the whole id; case-sensitive. */
function refGlob(p: string[], s: string[]): boolean {
  if (p.length === 0) return s.length === 0;
  const [head, ...rest] = p;
  if (head === '*') return refGlob(rest, s) || (s.length > 0 && refGlob(p, s.slice(1)));
  if (s.length === 0) return false;
  return (head === '?' || head === s[0]) && refGlob(rest, s.slice(1));
}

/** The documented rule, step by step. */
function reference(id: string, entries: readonly string[], kind: ListKind): boolean {
  // Empty list: allowlists admit everyone, approver lists nobody.
  if (entries.length === 0) return kind === 'allowlist';
  // Trim; `!P` excludes P; blank entries and a lone `!` are ignored.
  const rules = entries
    .map((e) => e.trim())
    .map((e) => (e.startsWith('!') ? { exclude: true, pattern: e.slice(1).trim() } : { exclude: false, pattern: e }))
    .filter((r) => r.pattern !== '');
  // An allowlist whose first rule is an exclusion reads as if `*` came first.
  if (kind === 'allowlist' && rules[0]?.exclude) rules.unshift({ exclude: false, pattern: '*' });
  // Start refused; each matching rule sets the outcome; the last one wins.
  let admitted = false;
  for (const r of rules) if (refGlob([...r.pattern], [...id])) admitted = !r.exclude;
  return admitted;
}

const ID_CHARS = ['U', 'u', '1', '2', '.', 'é', 'x']; // 'x' is in no pattern
const PATTERN_CHARS = ['U', 'u', '1', '2', '*', '?', '.', 'é'];

function randomId(r: () => number): string {
  const n = 1 + Math.floor(r() * 4);
  return Array.from({ length: n }, () => ID_CHARS[Math.floor(r() * ID_CHARS.length)]).join('');
}

function randomEntry(r: () => number): string {
  const roll = r();
  if (roll < 0.04) return '';
  if (roll < 0.07) return ' ! ';
  if (roll < 0.12) return '*';
  const n = Math.floor(r() * 4) + 1;
  const body = Array.from({ length: n }, () => PATTERN_CHARS[Math.floor(r() * PATTERN_CHARS.length)]).join('');
  const bang = r() < 0.4 ? (r() < 0.2 ? '! ' : '!') : '';
  const pad = r() < 0.1 ? ' ' : '';
  return `${pad}${bang}${body}${pad}`;
}

function randomList(r: () => number): string[] {
  return Array.from({ length: Math.floor(r() * 6) }, () => randomEntry(r));
}

/** Every id of length 1..max over ID_CHARS. */
function allIds(max: number): string[] {
  const out: string[] = [];
  const grow = (prefix: string): void => {
    if (prefix.length > 0) out.push(prefix);
    if (prefix.length < max) for (const c of ID_CHARS) grow(prefix + c);
  };
  grow('');
  return out;
}

/** Every id of length 1..3 (399 ids), plus a few longer ones. */
const SAMPLE_IDS = [...allIds(3), 'U1U1U1', 'U12x2', 'uuuuU'];

describe('pattern lists agree with the documented rule (property tests)', () => {
  test('matchesAllowlist and matchesAnyPattern equal the reference on 3000 random lists x 30 random ids', () => {
    const r = rng(20240601);
    for (let n = 0; n < 3000; n++) {
      const list = randomList(r);
      for (let k = 0; k < 30; k++) {
        const id = randomId(r);
        assert.equal(matchesAllowlist(id, list), reference(id, list, 'allowlist'), `allowlist ${JSON.stringify(list)} ${JSON.stringify(id)}`);
        assert.equal(matchesAnyPattern(id, list), reference(id, list, 'approvers'), `approvers ${JSON.stringify(list)} ${JSON.stringify(id)}`);
      }
    }
  });

  test('an approver list never admits more than the same list as an allowlist, and an empty one admits nobody', () => {
    const r = rng(7);
    for (let n = 0; n < 1000; n++) {
      const list = randomList(r);
      for (const id of SAMPLE_IDS.slice(0, 60)) if (matchesAnyPattern(id, list)) assert.ok(matchesAllowlist(id, list), JSON.stringify({ list, id }));
    }
    assert.equal(matchesAnyPattern('U1', []), false);
  });

  for (const kind of ['allowlist', 'approvers'] as const) {
    test(`analyzeList (${kind}) is exact: everyone/nobody claims hold, the simplified rules and the list minus every redundant rule mean the same`, () => {
      const r = rng(kind === 'allowlist' ? 11 : 12);
      for (let n = 0; n < 1500; n++) {
        const list = randomList(r);
        const a = analyzeList(list, kind);
        assert.notEqual(a.admits, 'unknown');
        const results = SAMPLE_IDS.map((id) => reference(id, list, kind));
        const where = JSON.stringify({ list, kind, admits: a.admits, redundant: a.redundant.map((x) => x.rule.position) });
        if (a.admits === 'everyone') assert.ok(results.every(Boolean), where);
        if (a.admits === 'nobody') assert.ok(!results.some(Boolean), where);
        const simplified = { ...a.list, rules: a.simplified };
        SAMPLE_IDS.forEach((id, i) => assert.equal(decide(id, simplified).admitted, results[i], `${where} simplified, ${id}`));
        // Removing every reported rule from the configured list (writing `*` first when the removed
        // rule was the leading exclusion that made the list start from everyone) keeps its meaning.
        if (a.list.empty) continue;
        const gone = new Set(a.redundant.map((x) => x.rule.position));
        let rest = list.filter((_, i) => !gone.has(i + 1));
        if (a.redundant.some((x) => x.startsFromEveryone)) rest = ['*', ...rest];
        if (rest.length === 0) rest = ['  ']; // an emptied list must stay "not empty" to keep its meaning
        SAMPLE_IDS.forEach((id, i) => assert.equal(reference(id, rest, kind), results[i], `${where} without redundant ${JSON.stringify(rest)}, ${id}`));
        // Every rule reported as shadowed really is: each id it matches is matched by a later rule.
        for (const x of a.redundant.filter((y) => y.reason === 'shadowed')) {
          const probe = parseList([x.rule.pattern], 'approvers');
          for (const id of SAMPLE_IDS) {
            if (!decide(id, probe).admitted) continue;
            assert.ok(a.list.rules.some((later) => later.position > x.rule.position && decide(id, parseList([later.pattern], 'approvers')).admitted), `${where} shadowed ${x.rule.position}, ${id}`);
          }
        }
      }
    });
  }

  test('every "some" claim of analyzeList has a witness admitted and one refused among ids up to 4 characters', () => {
    const r = rng(99);
    const ids = allIds(4); // rules have at most 4 characters
    for (let n = 0; n < 400; n++) {
      const list = randomList(r);
      const a = analyzeList(list, 'allowlist');
      if (a.admits !== 'some') continue;
      const results = ids.map((id) => matchesAllowlist(id, list));
      assert.ok(results.some(Boolean) && !results.every(Boolean), JSON.stringify(list));
    }
  });
});
