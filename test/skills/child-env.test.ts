/**
 * The environment a tool's child process gets: credentials never pass, whatever their name
 * or shape; ordinary variables do.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { childEnv } from '../../src/skills/child-env.ts';

test('credential variables are removed by name, by family and by value', () => {
  const env = {
    PATH: '/usr/bin', HOME: '/home/ops', LANG: 'C.UTF-8', KUBECONFIG: '/home/ops/.kube/config', MAX_TOKENS: '4096',
    SLACK_BOT_TOKEN: 'xoxb-1', SLACK_APP_TOKEN: 'xapp-1', ANTHROPIC_API_KEY: 'sk-ant-1', ANTHROPIC_BASE_URL: 'http://x',
    AWS_ACCESS_KEY_ID: 'AKIA1', AWS_SECRET_ACCESS_KEY: 's', AWS_PROFILE: 'prod', GOOGLE_APPLICATION_CREDENTIALS: '/k.json',
    GITHUB_TOKEN: 'ghp_1', DB_PASSWORD: 'p', API_KEY: 'k', APIKEY: 'k', SENTRY_DSN: 'https://a@b/1', VAULT_ADDR: 'https://v',
    MY_PIN: '1234', SESSION_COOKIE: 'c', HARMLESS_NAME: 'the-known-secret-value',
  };
  const kept = childEnv(env, (value) => value === 'the-known-secret-value');
  assert.deepEqual(Object.keys(kept).sort(), ['HOME', 'KUBECONFIG', 'LANG', 'MAX_TOKENS', 'PATH']);
});

test('the input is not changed and undefined values are dropped', () => {
  const env: Record<string, string | undefined> = { PATH: '/bin', GONE: undefined, SLACK_BOT_TOKEN: 'x' };
  const kept = childEnv(env);
  assert.deepEqual(kept, { PATH: '/bin' });
  assert.equal(env.SLACK_BOT_TOKEN, 'x');
});
