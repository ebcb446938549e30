import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../../src/errors.ts';
import { findLiteralSecrets, lintSecrets } from '../../src/config/secret-lint.ts';

function findings(yaml: string): ReturnType<typeof findLiteralSecrets> {
  const lineCounter = new LineCounter();
  return findLiteralSecrets(parseDocument(yaml, { lineCounter }), lineCounter);
}

function lintError(yaml: string): ConfigError {
  const lineCounter = new LineCounter();
  try {
    lintSecrets(parseDocument(yaml, { lineCounter }), { file: 'config.yaml', lineCounter });
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err;
  }
  assert.fail('expected lintSecrets to throw');
}

// The lint's one promise besides catching credentials: it never repeats them. Every case below
// checks that the value is absent from the message.
describe('value patterns', () => {
  const samples: Array<[string, string]> = [
    ['Anthropic key', 'sk-ant-api03-AAAAbbbbCCCCdddd'],
    ['Slack bot token', 'xoxb-1111-2222-abcdefABCDEF'],
    ['Slack user token', 'xoxp-1111-2222-abcdefABCDEF'],
    ['Slack app token', 'xapp-1-A111-222-abcdef'],
    ['Slack xoxa token', 'xoxa-2-abcdef123456'],
    ['Slack refresh token', 'xoxr-abcdef123456'],
    ['AWS access key id', 'AKIAIOSFODNN7EXAMPLE'],
    ['GitHub classic token', 'ghp_abcdefghijklmnopqrstuvwxyz0123456789'],
    ['GitHub fine-grained token', 'github_pat_11ABCDEFG0123456789_abcdef'],
  ];
  for (const [what, value] of samples) {
    test(`refuses a literal ${what} under an innocent key, naming key and line but not the value`, () => {
      const err = lintError(`bot:\n  name: mithai\n  persona: "use ${value} please"\n`);
      assert.equal(err.code, 'literal_secret');
      assert.match(err.message, /config\.yaml line 3: bot\.persona looks like/);
      assert.ok(!err.message.includes(value), 'the value must not appear in the message');
    });
  }

  test('refuses a PEM private key block without printing any of it', () => {
    const pem = '-----BEGIN OPENSSH PRIVATE KEY-----\n  b3BlbnNzaC1rZXktdjEAAAAA\n  -----END OPENSSH PRIVATE KEY-----';
    const err = lintError(`skills:\n  config:\n    deploy:\n      key: |\n        ${pem.replace(/\n {2}/g, '\n        ')}\n`);
    assert.match(err.message, /line 4: skills\.config\.deploy\.key looks like a PEM private key/);
    assert.ok(!err.message.includes('b3BlbnNzaC1rZXktdjEAAAAA'));
  });

  test('refuses a credential typed into the default of a reference', () => {
    const err = lintError('adapter:\n  slack:\n    bot_token: ${SLACK_BOT_TOKEN:-xoxb-1-2-abcdef}\n');
    assert.match(err.message, /adapter\.slack\.bot_token looks like a Slack bot token/);
    assert.ok(!err.message.includes('xoxb-1-2-abcdef'));
  });

  test('refuses a credential used as a mapping key', () => {
    assert.equal(findings('users:\n  xoxb-1-2-abcdef: admin\n').length, 1);
  });

  test('does not mistake words that merely contain a pattern for credentials', () => {
    assert.deepEqual(findings('bot:\n  persona: "ask about task-ant-colonies"\n'), []);
  });
});

describe('secret-named keys', () => {
  const literalCases: Array<[string, string]> = [
    ['adapter.slack.bot_token', 'adapter:\n  slack:\n    bot_token: hunter2hunter2\n'],
    ['llm.anthropic.api_key', 'llm:\n  anthropic:\n    api_key: "not-a-known-shape"\n'],
    ['skills.config.db.password', 'skills:\n  config:\n    db:\n      password: hunter2\n'],
    ['skills.config.db.DB_PASSWD', 'skills:\n  config:\n    db:\n      DB_PASSWD: hunter2\n'],
    ['skills.config.x.client_secret', 'skills:\n  config:\n    x:\n      client_secret: abc123\n'],
    ['skills.config.x.apikey', 'skills:\n  config:\n    x:\n      apikey: abc123\n'],
    ['skills.config.x.private_key', 'skills:\n  config:\n    x:\n      private_key: abc123\n'],
    ['skills.config.x.credentials[0]', 'skills:\n  config:\n    x:\n      credentials: [abc123]\n'],
    ['skills.config.x.password', 'skills:\n  config:\n    x:\n      password: ${DB_PASSWORD:-hunter2}\n'],
    ['skills.config.x.token', 'skills:\n  config:\n    x:\n      token: prefix-${TOKEN}\n'],
  ];
  for (const [path, yaml] of literalCases) {
    test(`refuses a literal value at ${path}`, () => {
      const found = findings(yaml);
      assert.equal(found.length, 1);
      assert.equal(found[0]!.path, path);
      assert.match(found[0]!.reason, /literal value/);
    });
  }

  test('never includes the literal value in the error', () => {
    const err = lintError('skills:\n  config:\n    db:\n      password: correct-horse-battery\n');
    assert.match(err.message, /config\.yaml line 4: skills\.config\.db\.password holds a literal value/);
    assert.ok(!err.message.includes('correct-horse-battery'));
  });

  const passingCases: Array<[string, string]> = [
    ['a ${VAR} reference', 'adapter:\n  slack:\n    bot_token: ${SLACK_BOT_TOKEN}\n'],
    ['a reference with an empty default', 'adapter:\n  slack:\n    bot_token: ${SLACK_BOT_TOKEN:-}\n'],
    ['two references', 'x:\n  token: ${A}${B}\n'],
    ['the empty string', 'llm:\n  anthropic:\n    api_key: ""\n'],
    ['no value', 'llm:\n  anthropic:\n    api_key:\n'],
    ['a number (max_tokens)', 'llm:\n  max_tokens: 4096\n'],
    ['a numeric default (max_tokens)', 'llm:\n  max_tokens: ${MAX_TOKENS:-4096}\n'],
    ['a plain URL', 'x:\n  token_url: https://auth.example.com/oauth/token\n'],
    ['a non-secret key', 'bot:\n  name: mithai\n'],
  ];
  for (const [what, yaml] of passingCases) {
    test(`accepts ${what}`, () => {
      assert.deepEqual(findings(yaml), []);
    });
  }

  test('collects every finding into one error', () => {
    const err = lintError('adapter:\n  slack:\n    bot_token: xoxb-1-2-abc\n    app_token: literal-app-token\nllm:\n  anthropic:\n    api_key: sk-ant-xyz\n');
    const lines = err.message.split('\n').slice(1);
    assert.equal(lines.length, 3);
    assert.match(lines[0]!, /line 3: adapter\.slack\.bot_token/);
    assert.match(lines[1]!, /line 4: adapter\.slack\.app_token/);
    assert.match(lines[2]!, /line 7: llm\.anthropic\.api_key/);
  });
});

test('a literal secret reached through a YAML alias is refused under the key that uses it', async () => {
  const { loadConfig } = await import('../../src/config/load-config.ts');
  const { mkdtempSync, writeFileSync, rmSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'mithai-alias-'));
  try {
    writeFileSync(join(dir, 'config.yaml'), 'skills:\n  config:\n    notes: { text: &k "hunter2-prod-db-password" }\n    db: { password: *k }\n');
    assert.throws(() => loadConfig(join(dir, 'config.yaml'), { env: {} }), (err: Error) => {
      assert.match(err.message, /skills\.config\.db\.password/);
      assert.ok(!err.message.includes('hunter2'));
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
