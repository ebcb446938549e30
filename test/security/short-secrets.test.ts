/**
 * Every resolved secret is redacted whatever its length from MIN_SECRET_LENGTH (6) on, and a
 * variable named like a secret is a secret even when short or digits only. Secrets below the
 * floor are named (never shown) by secretsTooShortToRedact, for `mithai doctor` to warn about.
 */
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSecretVariableName, loadConfig } from '../../src/config/load-config.ts';
import { MIN_SECRET_LENGTH, REDACTED, Redactor } from '../../src/security/redactor.ts';
import { secretsTooShortToRedact } from '../../src/security/short-secrets.ts';

function load(t: TestContext, yaml: string, env: Record<string, string>) {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-short-secrets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'config.yaml'), yaml);
  return loadConfig(join(dir, 'config.yaml'), { env });
}

const YAML = [
  'adapter:',
  '  slack:',
  '    bot_token: ${SLACK}', // not named like a secret, but under a secret key
  'llm:',
  '  max_tokens: ${MAX_TOKENS:-4096}',
  'skills:',
  '  config:',
  '    pager:',
  '      pin: ${PAGER_PIN}',
  '      sim: ${SIM_PIN}',
  '      db_pass: ${DB_PASS}',
  '      auth: ${AUTH_ENABLED}',
  '      url: ${PING_URL}',
  '      user: ${OPS_USER}',
  '      dsn: "${SENTRY_DSN:-}"',
  '      key: ${API_KEY}',
  '',
].join('\n');
const ENV = {
  SLACK: 'xoxb-1-2-abc',
  MAX_TOKENS: '8192',
  PAGER_PIN: '482913', // six digits: at the floor, a secret, redacted
  SIM_PIN: '1234', // below the floor: named by doctor
  DB_PASS: 'hunt3r', // six characters: redacted
  AUTH_ENABLED: 'true', // a switch, not a secret
  PING_URL: 'https://ping.example/x',
  OPS_USER: 'alice7', // not secret-named, short: not a secret
  SENTRY_DSN: '',
  API_KEY: 'k3y',
};

describe('which variables are secrets', () => {
  test('the secret-name rule: whole words, not descriptions, counts or switches', () => {
    for (const name of ['SLACK_BOT_TOKEN', 'DB_PASSWORD', 'dbPassword', 'DB_PASS', 'MYSQL_PWD', 'SIM_PIN', 'STRIPE_KEY', 'API_KEY', 'APIKEY',
      'AWS_SECRET_ACCESS_KEY', 'GCP_CREDENTIALS', 'BASIC_AUTH', 'OAUTH_CLIENT', 'SENTRY_DSN', 'AUTHTOKEN', 'GITHUB_PAT', 'JWT', 'TOKEN2']) {
      assert.equal(isSecretVariableName(name), true, name);
    }
    for (const name of ['PING_URL', 'KEYBOARD', 'AUTHOR', 'PASSTHROUGH', 'SPINNER', 'TOKEN_URL', 'KEY_TTL', 'AUTH_MODE',
      'MAX_TOKENS', 'TOKENS_PER_TURN', 'USE_AUTH', 'AUTH_ENABLED', 'DB_HOST', 'OPS_USER', 'REGION']) {
      assert.equal(isSecretVariableName(name), false, name);
    }
  });

  test('secret variables are secrets whatever their value looks like; names are listed, never values', (t) => {
    const loaded = load(t, YAML, ENV);
    const secrets = new Set(loaded.secrets);
    for (const value of ['xoxb-1-2-abc', '482913', 'hunt3r', '1234', 'k3y', 'https://ping.example/x']) assert.ok(secrets.has(value), value);
    for (const value of ['true', 'alice7', '8192']) assert.ok(!secrets.has(value), value);
    assert.deepEqual(loaded.secretNames, ['API_KEY', 'DB_PASS', 'PAGER_PIN', 'SIM_PIN', 'SLACK']);
    const redactor = new Redactor(loaded.secrets);
    assert.equal(redactor.redact('pin 482913, pass hunt3r'), `pin ${REDACTED}, pass ${REDACTED}`);
  });

  test('secretsTooShortToRedact names the secret variables below the floor, and only their names', (t) => {
    const loaded = load(t, YAML, ENV);
    const short = secretsTooShortToRedact(loaded);
    assert.deepEqual(short, ['API_KEY', 'SIM_PIN']);
    assert.equal(MIN_SECRET_LENGTH, 6);
    assert.ok(!JSON.stringify(short).includes('1234') && !JSON.stringify(short).includes('k3y'));
  });

  test('a value from a default is not the environment\'s secret; an empty secret is nothing to warn about', (t) => {
    const loaded = load(t, 'skills:\n  config:\n    a: ${A_TOKEN:-}\n    b: ${B_SECRET:-x}\n', { A_TOKEN: '' });
    assert.deepEqual(loaded.secretNames, []);
    assert.deepEqual(secretsTooShortToRedact(loaded), []);
  });
});
