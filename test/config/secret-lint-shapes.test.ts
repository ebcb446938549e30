/**
 * Property-style tests of the secret lint: every credential shape, in every place YAML can put
 * a string (plain, quoted, inside prose, nested, in lists, block scalars, behind aliases, as a
 * key, as a `${NAME:-default}`), must be (a) flagged at the right key path and line and
 * (b) absent from the message. Then the same for secret-named keys, and false positives.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../../src/errors.ts';
import { findLiteralSecrets, isSecretKeyName, keyWords, lintSecrets, literalView } from '../../src/config/secret-lint.ts';

function findings(yaml: string): ReturnType<typeof findLiteralSecrets> {
  const lineCounter = new LineCounter();
  const doc = parseDocument(yaml, { lineCounter, uniqueKeys: true });
  assert.deepEqual(doc.errors.map((e) => e.message), [], `test YAML must parse:\n${yaml}`);
  return findLiteralSecrets(doc, lineCounter);
}

function lintMessage(yaml: string): string {
  const lineCounter = new LineCounter();
  try {
    lintSecrets(parseDocument(yaml, { lineCounter }), { file: 'config.yaml', lineCounter });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.code, 'literal_secret');
    return err.message;
  }
  assert.fail(`expected the lint to refuse:\n${yaml}`);
}

/** A credential sample: `value` is what is typed, `secret` the part that must never be printed. */
interface Sample {
  name: string;
  value: string;
  secret: string;
  /** The value contains characters that cannot stand unquoted as a YAML key. */
  noPlainKey?: boolean;
}

const rep = (s: string, n: number): string => s.repeat(n);
const s = (name: string, value: string, secret = value): Sample => ({ name, value, secret });

const SAMPLES: Sample[] = [
  s('Anthropic key', 'sk-ant-api03-FAKEfakeFAKEfake0123456789'),
  s('OpenAI project key', 'sk-proj-FAKEfake0123456789abcdefABCDEF'),
  s('OpenAI service-account key', 'sk-svcacct-FAKEfake0123456789abcdef'),
  s('OpenAI legacy key', `sk-${rep('Fa0k1e2', 7)}`),
  s('Slack bot token', 'xoxb-1111-2222-FakeFakeFake'),
  s('Slack user token', 'xoxp-1111-2222-FakeFakeFake'),
  s('Slack app token', 'xapp-1-A111-222-fakefake'),
  s('Slack xoxa token', 'xoxa-2-fakefake123456'),
  s('Slack xoxr token', 'xoxr-fakefake123456'),
  s('Slack xoxs token', 'xoxs-1111-2222-fakefake'),
  s('Slack xoxe token', 'xoxe-1-fakefake123456'),
  s('Slack refresh token', 'xoxe.xoxp-1-FakeRefreshToken1234'),
  s('Slack webhook', 'https://hooks.slack.com/services/T00FAKE00/B00FAKE00/FAKEfakeFAKEfake', 'T00FAKE00/B00FAKE00/FAKEfakeFAKEfake'),
  s('Slack workflow webhook', 'https://hooks.slack.com/workflows/T00FAKE00/A00FAKE/123/FAKEfake', 'T00FAKE00/A00FAKE/123/FAKEfake'),
  s('GitHub classic token', `ghp_${rep('Fake0', 7)}1`),
  s('GitHub OAuth token', `gho_${rep('Fake0', 7)}1`),
  s('GitHub app server token', `ghs_${rep('Fake0', 7)}1`),
  s('GitHub app user token', `ghu_${rep('Fake0', 7)}1`),
  s('GitHub refresh token', `ghr_${rep('Fake0', 7)}1`),
  s('GitHub fine-grained token', 'github_pat_11FAKEFAKE0123456789_fakefakefake'),
  s('GitLab token', 'glpat-FakeFake12345678'),
  s('Stripe live key', 'sk_live_FAKEfake0123456789abcd'),
  s('Stripe restricted key', 'rk_live_FAKEfake0123456789abcd'),
  s('Stripe test key', 'sk_test_FAKEfake0123456789abcd'),
  s('Stripe webhook secret', 'whsec_FAKEfake0123456789abcd'),
  s('AWS access key id', 'AKIAIOSFODNN7EXAMPLE'),
  s('AWS temporary key id', 'ASIAIOSFODNN7EXAMPLE'),
  s('Google API key', `AIza${rep('Fake0', 7)}`),
  s('npm token', `npm_${rep('Fake00', 6)}`),
  s('JWT', 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.FakeSignatureFakeSig', 'eyJzdWIiOiIxMjM0NTY3ODkwIn0.FakeSignatureFakeSig'),
  s('unsigned JWT', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJib3QifQ.', 'eyJhbGciOiJub25lIn0.eyJzdWIiOiJib3QifQ'),
  s('postgres URL with password', 'postgres://app:Sup3rS3cretPw@db.internal:5432/app', 'Sup3rS3cretPw'),
  s('redis URL with only a password', 'redis://:Sup3rS3cretPw@cache:6379/0', 'Sup3rS3cretPw'),
  s('https URL with password', 'https://deploy:Sup3rS3cretPw@git.example.com/repo.git', 'Sup3rS3cretPw'),
];

/** A place to put a value: the YAML, the key path and line the finding must name. */
interface Context {
  name: string;
  yaml: (v: string) => string;
  path: string;
  line: number;
  /** Only for values YAML can carry unquoted. */
  plain?: boolean;
}

const CONTEXTS: Context[] = [
  { name: 'plain value', yaml: (v) => `bot:\n  name: x\n  persona: ${v}\n`, path: 'bot.persona', line: 3, plain: true },
  { name: 'inside a double-quoted sentence', yaml: (v) => `bot:\n  persona: "use ${v} please"\n`, path: 'bot.persona', line: 2 },
  { name: 'inside a single-quoted sentence', yaml: (v) => `bot:\n  persona: 'token=${v};'\n`, path: 'bot.persona', line: 2 },
  { name: 'nested map', yaml: (v) => `skills:\n  config:\n    svc:\n      nested:\n        note: "${v}"\n`, path: 'skills.config.svc.nested.note', line: 5 },
  { name: 'block list item', yaml: (v) => `skills:\n  config:\n    svc:\n      items:\n        - ok\n        - "${v}"\n`, path: 'skills.config.svc.items[1]', line: 6 },
  { name: 'flow list item', yaml: (v) => `skills:\n  config:\n    svc: { items: [ok, "${v}"] }\n`, path: 'skills.config.svc.items[1]', line: 3 },
  { name: 'list of maps', yaml: (v) => `skills:\n  config:\n    hooks:\n      - name: a\n        target: "${v}"\n`, path: 'skills.config.hooks[0].target', line: 5 },
  { name: 'literal block scalar', yaml: (v) => `skills:\n  config:\n    svc:\n      note: |\n        first line\n        then ${v} here\n`, path: 'skills.config.svc.note', line: 4 },
  { name: 'folded block scalar', yaml: (v) => `skills:\n  config:\n    svc:\n      note: >-\n        first line\n        ${v}\n`, path: 'skills.config.svc.note', line: 4 },
  { name: 'default of a reference', yaml: (v) => `skills:\n  config:\n    svc:\n      note: "\${NOTE:-${v}}"\n`, path: 'skills.config.svc.note', line: 4 },
  { name: 'text around a reference', yaml: (v) => `skills:\n  config:\n    svc:\n      note: "\${PREFIX}${v}"\n`, path: 'skills.config.svc.note', line: 4 },
];

describe('every credential shape is flagged at the right key path and line, and never printed', () => {
  for (const sample of SAMPLES) {
    describe(sample.name, () => {
      for (const context of CONTEXTS) {
        test(context.name, () => {
          const yaml = context.yaml(sample.value);
          const found = findings(yaml);
          assert.equal(found.length, 1, JSON.stringify(found));
          assert.equal(found[0]!.path, context.path);
          assert.equal(found[0]!.line, context.line);
          assert.match(found[0]!.reason, /^looks like /);
          const message = lintMessage(yaml);
          assert.match(message, new RegExp(`config\\.yaml line ${context.line}: ${context.path.replace(/[.[\]]/g, '\\$&')} looks like`));
          assert.ok(!message.includes(sample.secret), `the secret must not appear in:\n${message}`);
        });
      }

      test('behind an alias: flagged where defined and where used, with the line of each', () => {
        const yaml = `skills:\n  config:\n    base: &b\n      note: "${sample.value}"\n    svc: *b\n`;
        const found = findings(yaml);
        assert.deepEqual(found.map((f) => [f.path, f.line]), [['skills.config.base.note', 4], ['skills.config.svc.note', 5]]);
        assert.match(found[1]!.reason, /through an alias of the value on line 4/);
        assert.ok(!lintMessage(yaml).includes(sample.secret));
      });

      test('behind a merge key (<<: *anchor)', () => {
        const yaml = `skills:\n  config:\n    defaults: &d { webhook: "${sample.value}" }\n    svc:\n      <<: *d\n      name: svc\n`;
        const found = findings(yaml);
        assert.ok(found.some((f) => f.path === 'skills.config.svc.<<.webhook' && f.line === 5), JSON.stringify(found));
        assert.ok(!lintMessage(yaml).includes(sample.secret));
      });

      for (const quoted of [true, false]) {
        test(`as a ${quoted ? 'quoted' : 'plain'} mapping key: named by its parent and line, not printed`, () => {
          const key = quoted ? JSON.stringify(sample.value) : sample.value;
          const yaml = `skills:\n  config:\n    github:\n      ${key}: admin\n      other: ok\n`;
          const found = findings(yaml);
          assert.equal(found.length, 1, JSON.stringify(found));
          assert.equal(found[0]!.path, 'skills.config.github.<key on line 4>');
          assert.equal(found[0]!.line, 4);
          assert.match(found[0]!.reason, /^is a key that looks like /);
          const message = lintMessage(yaml);
          assert.ok(!message.includes(sample.secret), message);
        });
      }

      test('as an ancestor key: the findings below it do not print it either', () => {
        const yaml = `skills:\n  config:\n    "${sample.value}":\n      password: hunter2hunter2\n`;
        const found = findings(yaml);
        assert.deepEqual(found.map((f) => [f.path, f.line]), [['skills.config.<key on line 3>', 3], ['skills.config.<key on line 3>.password', 4]]);
        const message = lintMessage(yaml);
        assert.ok(!message.includes(sample.secret), message);
        assert.ok(!message.includes('hunter2'), message);
      });
    });
  }

  test('a PEM private key in a block scalar, in a list and behind an alias', () => {
    const pem = ['-----BEGIN RSA PRIVATE KEY-----', 'MIIEFAKEFAKEFAKEpAIBAAKCAQEA', '-----END RSA PRIVATE KEY-----'];
    const block = (indent: string): string => pem.map((l) => `${indent}${l}`).join('\n');
    const yaml = `skills:\n  config:\n    deploy:\n      keys:\n        - |\n${block('          ')}\n      pgp: &k |\n${block('        ').replace(/RSA PRIVATE KEY/g, 'PGP PRIVATE KEY BLOCK')}\n      copy: *k\n`;
    const found = findings(yaml);
    assert.deepEqual(found.map((f) => [f.path, f.line]), [['skills.config.deploy.keys[0]', 5], ['skills.config.deploy.pgp', 9], ['skills.config.deploy.copy', 13]]);
    assert.ok(!lintMessage(yaml).includes('MIIEFAKE'));
  });

  test('a credential-shaped alias, anchor or tag name is flagged too', () => {
    assert.deepEqual(findings('x: &xoxb-1-2-fakefake 1\ny: *xoxb-1-2-fakefake\n').map((f) => [f.path, f.line]), [['x', 1], ['y', 2]]);
    const message = lintMessage('x: !ghp_FakeFakeFake123 value\n');
    assert.match(message, /line 1: x has a tag/);
    assert.ok(!message.includes('ghp_FakeFakeFake123'));
  });

  test('a stray ${ does not hide the rest of the string', () => {
    assert.equal(findings('bot:\n  persona: "costs ${ 5, key xoxb-1-2-fakefake"\n').length, 1);
  });
});

describe('secret-named keys refuse every kind of literal', () => {
  const literals: Array<[string, string]> = [
    ['a number', 'password: 123456'],
    ['a PIN', 'pin: 1234'],
    ['a zero-padded PIN (a number to YAML)', 'db_pin: 0042'],
    ['a quoted number', 'password: "123456"'],
    ['a float', 'secret: 1.5'],
    ['a boolean', 'api_key: true'],
    ['a numeric default', 'password: ${DB_PASSWORD:-1234}'],
    ['a binary scalar', 'private_key: !!binary ZmFrZWtleQ=='],
    ['a PIN code', 'pin_code: 9876'],
    ['basic auth', 'basic_auth: admin:hunter2'],
    ['an Authorization header', 'authorization: "Basic YWRtaW46aHVudGVyMg=="'],
    ['a Sentry DSN (user info without a password)', 'sentry_dsn: https://fakepublickey@o1.ingest.sentry.io/1'],
    ['a passphrase', 'passphrase: correct horse battery staple'],
    ['a camelCase key', 'clientSecret: abc123'],
    ['an env-style key', 'DB_PASSWORD_PROD: abc123'],
    ['a plural', 'tokens: [abc123]'],
    ['a pwd', 'db_pwd: abc123'],
    ['a pass', 'smtp_pass: abc123'],
    ['an access key', 'access_key: abc123'],
    ['a secret key', 'secret_key: abc123'],
    ['an ssh key typed in', 'ssh_key: abc123'],
    ['an unresolved alias (a password that starts with *)', 'password: *Sup3rS3cret'],
  ];
  for (const [what, entry] of literals) {
    test(`${what}: ${entry}`, () => {
      const yaml = `skills:\n  config:\n    svc:\n      ${entry}\n`;
      const found = findings(yaml);
      assert.equal(found.length, 1, JSON.stringify(found));
      assert.match(found[0]!.path, /^skills\.config\.svc\.[A-Za-z_]+(\[0\])?$/);
      assert.equal(found[0]!.line, 4);
      const value = entry.slice(entry.indexOf(':') + 1).trim().replace(/^["*]|"$/g, '').replace(/^\$\{DB_PASSWORD:-(\d+)\}$/, '$1').replace(/^!!binary /, '');
      const message = lintMessage(yaml);
      assert.ok(!message.includes(value.replace(/^\[|\]$/g, '')), `"${value}" must not appear in:\n${message}`);
    });
  }

  const accepted: Array<[string, string]> = [
    ['a reference', 'password: ${DB_PASSWORD}'],
    ['an empty default', 'pin: ${PIN:-}'],
    ['no value', 'api_key:'],
    ['null', 'api_key: null'],
    ['the empty string', 'secret: ""'],
    ['a reference inside a URL', 'dsn: postgres://app:${DB_PASSWORD}@db.internal/app'],
    ['a URL without user info', 'dsn: postgres://db.internal:5432/app'],
    ['a path to a key file', 'ssh_key: ~/.ssh/id_ed25519'],
    ['an absolute path to a key file', 'private_key: /etc/mithai/deploy.pem'],
    ['a list of references', 'tokens: ["${A}", "${B}"]'],
  ];
  for (const [what, entry] of accepted) {
    test(`accepts ${what}: ${entry}`, () => {
      assert.deepEqual(findings(`skills:\n  config:\n    svc:\n      ${entry}\n`), []);
    });
  }
});

describe('which keys are secret-named (the documented word rule)', () => {
  const secret = [
    'password', 'db_password', 'DB_PASSWD', 'passphrase', 'passcode', 'pass', 'db_pass', 'pwd', 'pin', 'db_pin', 'pin_code', 'simPin',
    'api_key', 'apiKey', 'APIKey', 'apikey', 'private_key', 'access_key', 'secret_key', 'signing_key', 'ssh_key', 'deploy_keys',
    'credentials', 'creds', 'auth', 'basic_auth', 'proxyAuth', 'authorization', 'dsn', 'sentry_dsn', 'token', 'bot_token',
    'oauth_token', 'tokens', 'secret', 'client_secret', 'secret2', 'x-api-key', 'api_key_value', 'bearer',
  ];
  const notSecret = [
    'author', 'authors', 'authority', 'authentication', 'spinner', 'pinned', 'pinning', 'pin_messages', 'passthrough', 'pass_through',
    'bypass', 'compass', 'key', 'keys', 'key_path', 'key_id', 'primary_key', 'sort_key', 'keyboard', 'monkey', 'api_key_env',
    'api_key_file', 'token_url', 'token_ttl', 'tokenizer', 'max_tokens', 'max_tokens_per_turn', 'tokens_per_turn', 'token_budget',
    'secret_name', 'secretRef', 'password_file', 'password_min_length', 'auth_method', 'auth_type', 'auth_url', 'auth_user', 'use_auth',
    'require_password', 'enable_token_refresh', 'dsn_host', 'credentials_path', 'name', 'persona', 'allowed_users',
  ];
  for (const key of secret) test(`${key} is secret-named`, () => assert.equal(isSecretKeyName(key), true, keyWords(key).join(' ')));
  for (const key of notSecret) test(`${key} is not secret-named`, () => assert.equal(isSecretKeyName(key), false, keyWords(key).join(' ')));
});

describe('false positives: ordinary config passes', () => {
  test('the `mithai init` template passes', async () => {
    const { readFileSync } = await import('node:fs');
    const template = readFileSync(new URL('../../templates/init/config.yaml', import.meta.url), 'utf8');
    const yaml = template.replace('{{bot_name}}', 'opsbot').replace('{{respond}}', 'mentions').replace('{{model}}', 'claude-sonnet-4-6');
    assert.deepEqual(findings(yaml), []);
  });

  test('a busy skills.config with lookalike keys and values passes', () => {
    const yaml = [
      'bot:',
      '  persona: "Ask about task-ant-colonies, risk-averse skeletons, sk-learn, ghost_towns and eyJ things. Version 1.2.3."',
      'llm:',
      '  max_tokens: ${MAX_TOKENS:-4096}',
      'agent:',
      '  max_tokens_per_turn: 1000000',
      'skills:',
      '  config:',
      '    git:',
      '      remote: ssh://git@github.com:22/org/repo.git',
      '      mirror: git@github.com:org/repo.git',
      '      web: https://alice@example.com/login',
      '      search: https://example.com/path?q=a:b@c',
      '      author: Jane Doe',
      '      spinner: dots',
      '      pinned: true',
      '      pin_messages: true',
      '      passthrough: true',
      '      use_auth: true',
      '      auth_method: oauth',
      '      key_path: /etc/keys/deploy.pem',
      '      primary_key: id',
      '      key: env',
      '      token_url: https://auth.example.com/oauth/token',
      '      token_ttl: 3600',
      '      secret_name: prod-db',
      '      password_file: /run/secrets/db',
      '      tokenizer: cl100k',
      '      npm_cache: npm_config_cache',
      '      labels: [{ key: team, value: sre }]',
      '    desk:',
      '      notes: "desk_test_1 and disk_live_2 are hostnames; xoxo-hugs"',
      '      jwtish: "a.b.c and eyJshort.x.y"',
    ].join('\n');
    assert.deepEqual(findings(yaml), []);
  });

  test('literalView takes references out and puts defaults in', () => {
    assert.equal(literalView('a${X}b${Y:-c}d$${e}'), 'a\u0000bcd${e}');
  });
});
