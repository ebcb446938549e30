import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../../src/errors.ts';
import { expandEnvString, isSecretCandidate, substituteEnv, tokenizeEnvString } from '../../src/config/substitute-env.ts';

function substitute(yaml: string, env: Record<string, string | undefined>): { data: unknown; secrets: string[] } {
  const lineCounter = new LineCounter();
  const doc = parseDocument(yaml, { lineCounter });
  const { secretCandidates } = substituteEnv(doc, { env, file: 'config.yaml', lineCounter });
  return { data: doc.toJS(), secrets: secretCandidates };
}

function substitutionError(yaml: string, env: Record<string, string | undefined>): ConfigError {
  try {
    substitute(yaml, env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected substitution to throw');
}

describe('expandEnvString', () => {
  const env = { HOST: 'api.example.com', EMPTY: '', PORT: '8443' };
  const cases: Array<{ name: string; input: string; expected: string }> = [
    { name: 'a whole-value reference', input: '${HOST}', expected: 'api.example.com' },
    { name: 'a reference inside a longer string', input: 'https://${HOST}:${PORT}/api', expected: 'https://api.example.com:8443/api' },
    { name: 'a default for an unset variable', input: '${NOPE:-fallback}', expected: 'fallback' },
    { name: 'a default for a variable set to the empty string', input: '${EMPTY:-fallback}', expected: 'fallback' },
    { name: 'the set value over the default', input: '${HOST:-fallback}', expected: 'api.example.com' },
    { name: 'an empty default', input: 'x${NOPE:-}y', expected: 'xy' },
    { name: 'a default containing colons and slashes', input: '${NOPE:-https://a.example:1/x}', expected: 'https://a.example:1/x' },
    { name: 'an empty value for a set-but-empty variable without default', input: '[${EMPTY}]', expected: '[]' },
    { name: 'an escaped $${ as a literal ${', input: 'cost: $${HOST}', expected: 'cost: ${HOST}' },
    { name: 'a lone dollar sign untouched', input: 'price $5 and $HOST', expected: 'price $5 and $HOST' },
  ];
  for (const c of cases) {
    test(`expands ${c.name}`, () => {
      const result = expandEnvString(c.input, env);
      assert.deepEqual(result.problems, []);
      assert.equal(result.value, c.expected);
    });
  }

  test('reports only values taken from the environment, not defaults', () => {
    const result = expandEnvString('${HOST} ${NOPE:-default-value} ${PORT}', env);
    assert.deepEqual(result.fromEnv, ['api.example.com', '8443']);
  });

  test('reports an unset variable without a default as a problem naming it', () => {
    assert.deepEqual(expandEnvString('a ${MISSING} b', env).problems, [{ kind: 'unset', name: 'MISSING' }]);
  });

  test('reports unclosed and badly named references as malformed', () => {
    assert.deepEqual(expandEnvString('${UNCLOSED', env).problems, [{ kind: 'malformed' }]);
    assert.deepEqual(expandEnvString('${1BAD}', env).problems, [{ kind: 'malformed' }]);
    assert.deepEqual(expandEnvString('${HOST-x}', env).problems, [{ kind: 'malformed' }]);
  });

  test('tokenizes references with their defaults', () => {
    assert.deepEqual(tokenizeEnvString('a${X:-1}b'), [
      { kind: 'text', text: 'a' },
      { kind: 'reference', name: 'X', fallback: '1' },
      { kind: 'text', text: 'b' },
    ]);
  });
});

describe('substituteEnv on a YAML document', () => {
  test('substitutes inside nested mappings and lists', () => {
    const { data } = substitute('a:\n  b:\n    - ${ONE}\n    - x-${TWO}\n  c: { d: "${ONE}" }\n', { ONE: 'first', TWO: 'second' });
    assert.deepEqual(data, { a: { b: ['first', 'x-second'], c: { d: 'first' } } });
  });

  test('leaves mapping keys alone', () => {
    const { data } = substitute('"${KEY}": value\n', { KEY: 'replaced' });
    assert.deepEqual(data, { '${KEY}': 'value' });
  });

  test('keeps non-string scalars as they are', () => {
    const { data } = substitute('n: 4096\nb: true\nz: null\n', {});
    assert.deepEqual(data, { n: 4096, b: true, z: null });
  });

  test('throws for an unset variable, naming the variable, the key path and the line', () => {
    const err = substitutionError('adapter:\n  slack:\n    respond: mentions\n    bot_token: ${SLACK_BOT_TOKEN}\n', {});
    assert.equal(err.code, 'missing_env');
    assert.match(err.message, /^config\.yaml line 4: adapter\.slack\.bot_token refers to \$\{SLACK_BOT_TOKEN\}, which is not set; put it in \.env or the environment/);
  });

  test('names list indexes in the key path of an unset variable', () => {
    const err = substitutionError('skills:\n  paths:\n    - ./a\n    - ${SKILLS_DIR}\n', {});
    assert.match(err.message, /line 4: skills\.paths\[1\] refers to \$\{SKILLS_DIR\}/);
  });

  test('reports every unset variable in one error', () => {
    const err = substitutionError('a: ${FIRST}\nb: ${SECOND}\n', {});
    assert.match(err.message, /FIRST/);
    assert.match(err.message, /SECOND/);
    assert.equal(err.message.split('\n').length, 2);
  });

  test('throws for a malformed reference, naming the key path', () => {
    const err = substitutionError('bot:\n  name: ${bad name}\n', {});
    assert.match(err.message, /config\.yaml line 2: bot\.name has a malformed \$\{\.\.\.\} reference/);
  });

  test('collects environment values of 8+ characters that are not numbers or booleans as secret candidates', () => {
    const { secrets } = substitute('a: ${TOKEN}\nb: ${COUNT}\nc: ${FLAG}\nd: ${SHORT}\ne: ${NOPE:-default-not-secret}\n', {
      TOKEN: 'xoxb-1234-abcd',
      COUNT: '123456789',
      FLAG: 'true',
      SHORT: 'abc',
    });
    assert.deepEqual(secrets, ['xoxb-1234-abcd']);
  });
});

describe('isSecretCandidate', () => {
  const cases: Array<[string, boolean]> = [
    ['long-enough-value', true],
    ['short', false],
    ['1234567890', false],
    ['-12345.6789', false],
    ['false', false],
    ['TRUE', false],
    ['https://hooks.example.com/x', true],
  ];
  for (const [value, expected] of cases) {
    test(`treats ${JSON.stringify(value)} as ${expected ? 'a' : 'not a'} secret candidate`, () => {
      assert.equal(isSecretCandidate(value), expected);
    });
  }
});
