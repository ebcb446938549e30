import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.ts';
import { loadConfig, requireSecret } from '../../src/config/load-config.ts';

function project(t: TestContext, files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-config-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
  return dir;
}

function loadError(path: string, env: NodeJS.ProcessEnv = {}): ConfigError {
  try {
    loadConfig(path, { env });
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected loadConfig to throw');
}

describe('loading', () => {
  test('names the path and `mithai init` when config.yaml is missing', (t) => {
    const dir = project(t, {});
    const err = loadError(join(dir, 'config.yaml'));
    assert.equal(err.code, 'config_missing');
    assert.equal(err.message, `config.yaml not found at ${join(dir, 'config.yaml')}; run \`mithai init\` to create one`);
  });

  test('from a subfolder of a project, a missing config.yaml names the project root instead of `mithai init`', (t) => {
    const dir = project(t, { 'config.yaml': '', 'skills/ops/SKILL.md': '' });
    const err = loadError(join(dir, 'skills/ops/config.yaml'));
    assert.equal(err.code, 'config_missing');
    assert.equal(err.message, `config.yaml not found in ${join(dir, 'skills/ops')}; the project root is ${dir} — run from there or pass --config ${join(dir, 'config.yaml')}`);
  });

  test('treats an empty file as all defaults, with paths resolved against its folder', (t) => {
    const dir = project(t, { 'config.yaml': '' });
    const loaded = loadConfig(join(dir, 'config.yaml'), { env: {} });
    assert.equal(loaded.path, join(dir, 'config.yaml'));
    assert.equal(loaded.dir, dir);
    assert.equal(loaded.config.human.timeout_seconds, 300);
    assert.equal(loaded.config.adapter.slack.respond, 'mentions');
    assert.equal(loaded.config.human.confirm_requires_second_person, true, 'confirm means a second human unless config.yaml says otherwise');
    assert.equal(loaded.config.memory.path, join(dir, 'memory'));
    assert.equal(loaded.config.state.path, join(dir, '.mithai/state'));
    assert.deepEqual(loaded.config.skills.paths, [join(dir, 'skills')]);
    assert.deepEqual(loaded.secrets, []);
  });

  test('resolves relative paths against the config folder and keeps absolute ones', (t) => {
    const dir = project(t, {
      'deploy/config.yaml': 'memory:\n  path: ../shared/memory\nstate:\n  path: /var/lib/mithai\nskills:\n  paths: [./skills, /opt/skills]\nlogging:\n  file: logs/mithai.log\n',
    });
    const { config } = loadConfig(join(dir, 'deploy/config.yaml'), { env: {} });
    assert.equal(config.memory.path, join(dir, 'shared/memory'));
    assert.equal(config.state.path, '/var/lib/mithai');
    assert.deepEqual(config.skills.paths, [join(dir, 'deploy/skills'), '/opt/skills']);
    assert.equal(config.logging.file, join(dir, 'deploy/logs/mithai.log'));
  });

  test('reports a YAML syntax error with its line', (t) => {
    const dir = project(t, { 'config.yaml': 'bot:\n  name: x\nadapter: [unclosed\nllm: {}\n' });
    const err = loadError(join(dir, 'config.yaml'));
    assert.equal(err.code, 'config_yaml');
    assert.match(err.message, /config\.yaml is not valid YAML:\n {2}.*config\.yaml line \d+: /);
  });

  test('reports a duplicate key as a YAML error', (t) => {
    const dir = project(t, { 'config.yaml': 'bot:\n  name: a\n  name: b\n' });
    assert.match(loadError(join(dir, 'config.yaml')).message, /config\.yaml line 3: Map keys must be unique/);
  });

  test('refuses a top level that is not a mapping', (t) => {
    const dir = project(t, { 'config.yaml': '- a\n- b\n' });
    assert.match(loadError(join(dir, 'config.yaml')).message, /expected key: value pairs at the top level/);
  });
});

describe('.env and the environment', () => {
  test('reads .env next to config.yaml without touching process.env', (t) => {
    const dir = project(t, {
      'config.yaml': 'llm:\n  anthropic:\n    api_key: ${MITHAI_TEST_KEY_A}\n',
      '.env': 'MITHAI_TEST_KEY_A=key-from-dotenv-file\n',
    });
    const loaded = loadConfig(join(dir, 'config.yaml'), { env: {} });
    assert.equal(loaded.config.llm.anthropic.api_key, 'key-from-dotenv-file');
    assert.equal(loaded.env.MITHAI_TEST_KEY_A, 'key-from-dotenv-file');
    assert.equal(process.env.MITHAI_TEST_KEY_A, undefined);
  });

  test('lets the real environment win over .env', (t) => {
    const dir = project(t, {
      'config.yaml': 'llm:\n  anthropic:\n    api_key: ${ANTHROPIC_API_KEY}\n',
      '.env': 'ANTHROPIC_API_KEY=from-dotenv-file\n',
    });
    const loaded = loadConfig(join(dir, 'config.yaml'), { env: { ANTHROPIC_API_KEY: 'from-real-environment' } });
    assert.equal(loaded.config.llm.anthropic.api_key, 'from-real-environment');
  });

  test('fails naming the variable, key and line when a reference is unset', (t) => {
    const dir = project(t, { 'config.yaml': 'bot:\n  name: x\nadapter:\n  slack:\n    respond: mentions\n    bot_token: ${SLACK_BOT_TOKEN}\n' });
    const err = loadError(join(dir, 'config.yaml'));
    assert.equal(err.code, 'missing_env');
    assert.match(err.message, /config\.yaml line 6: adapter\.slack\.bot_token refers to \$\{SLACK_BOT_TOKEN\}, which is not set/);
  });

  test('lints before substituting, so a token arriving through ${VAR} is accepted', (t) => {
    const dir = project(t, { 'config.yaml': 'adapter:\n  slack:\n    bot_token: ${SLACK_BOT_TOKEN}\n' });
    const loaded = loadConfig(join(dir, 'config.yaml'), { env: { SLACK_BOT_TOKEN: 'xoxb-111-222-abcdef' } });
    assert.equal(loaded.config.adapter.slack.bot_token, 'xoxb-111-222-abcdef');
  });

  test('refuses a literal credential in config.yaml without printing it', (t) => {
    const dir = project(t, { 'config.yaml': 'adapter:\n  slack:\n    bot_token: xoxb-111-222-abcdef\n' });
    const err = loadError(join(dir, 'config.yaml'));
    assert.equal(err.code, 'literal_secret');
    assert.match(err.message, /config\.yaml line 3: adapter\.slack\.bot_token/);
    assert.ok(!err.message.includes('xoxb-111-222-abcdef'));
  });

  test('collects substituted environment values and the resolved tokens as secrets, but not defaults', (t) => {
    const dir = project(t, {
      'config.yaml': [
        'adapter:',
        '  slack:',
        '    bot_token: ${SLACK_BOT_TOKEN}',
        '    app_token: ${SLACK_APP_TOKEN:-}',
        'llm:',
        '  max_tokens: ${MAX_TOKENS:-4096}',
        '  anthropic:',
        '    api_key: ${ANTHROPIC_API_KEY}',
        'skills:',
        '  config:',
        '    db:',
        '      url: ${DB_URL}',
        '      region: ${REGION:-eu-west-1-default}',
        '',
      ].join('\n'),
      '.env': 'SLACK_BOT_TOKEN=xoxb-1-2-bottoken\nANTHROPIC_API_KEY=sk-ant-short\nDB_URL=postgres://db.internal/app\n',
    });
    const { secrets } = loadConfig(join(dir, 'config.yaml'), { env: {} });
    assert.deepEqual([...secrets].sort(), ['postgres://db.internal/app', 'sk-ant-short', 'xoxb-1-2-bottoken']);
  });
});

describe('validation', () => {
  test('coerces substituted strings to numbers and booleans where the schema wants them', (t) => {
    const dir = project(t, { 'config.yaml': 'llm:\n  max_tokens: ${MAX_TOKENS:-4096}\nhuman:\n  confirm_requires_second_person: ${SECOND:-true}\n  timeout_seconds: ${TIMEOUT}\n' });
    const { config } = loadConfig(join(dir, 'config.yaml'), { env: { TIMEOUT: '90' } });
    assert.equal(config.llm.max_tokens, 4096);
    assert.equal(config.human.confirm_requires_second_person, true);
    assert.equal(config.human.timeout_seconds, 90);
    const overridden = loadConfig(join(dir, 'config.yaml'), { env: { TIMEOUT: '90', MAX_TOKENS: '8192', SECOND: 'false' } }).config;
    assert.equal(overridden.llm.max_tokens, 8192);
    assert.equal(overridden.human.confirm_requires_second_person, false);
  });

  const cases: Array<{ name: string; yaml: string; expected: RegExp }> = [
    { name: 'a negative number', yaml: 'human:\n  timeout_seconds: -5\n', expected: /^config\.yaml line 2: human\.timeout_seconds: expected a positive number$/ },
    { name: 'text where a number belongs', yaml: 'agent:\n  max_iterations: lots\n', expected: /^config\.yaml line 2: agent\.max_iterations: expected a number, found text$/ },
    { name: 'an unknown key', yaml: 'human:\n  timeout_secs: 30\n', expected: /^config\.yaml line 2: human\.timeout_secs: unknown key — did you mean timeout_seconds\?$/ },
    { name: 'an unknown top-level key', yaml: 'bots:\n  name: x\n', expected: /^config\.yaml line 1: bots: unknown key — did you mean bot\?$/ },
    { name: 'an unknown nested key', yaml: 'adapter:\n  slack:\n    bot_tokn: x\n', expected: /^config\.yaml line 3: adapter\.slack\.bot_tokn: unknown key — did you mean bot_token\?$/ },
    { name: 'an unknown key like no known one', yaml: 'human:\n  escalation_policy: x\n', expected: /^config\.yaml line 2: human\.escalation_policy: unknown key$/ },
    { name: 'a bad enum value', yaml: 'adapter:\n  slack:\n    respond: sometimes\n', expected: /^config\.yaml line 3: adapter\.slack\.respond: expected one of: mentions, all$/ },
    { name: 'a bad override level', yaml: 'human:\n  overrides:\n    ops__restart: maybe\n', expected: /^config\.yaml line 3: human\.overrides\.ops__restart: expected one of: auto, approve, confirm$/ },
    { name: 'a bad logging format', yaml: 'logging:\n  format: text\n', expected: /^config\.yaml line 2: logging\.format: expected one of: pretty, json/ },
    { name: 'a bad URL', yaml: 'adapter:\n  slack:\n    api_url: not a url\n', expected: /^config\.yaml line 3: adapter\.slack\.api_url: expected a URL/ },
    { name: 'a mapping where a list belongs', yaml: 'skills:\n  paths:\n    a: b\n', expected: /^config\.yaml line 3: skills\.paths: expected a list, found a mapping$/ },
    { name: 'an empty section', yaml: 'memory:\n', expected: /^config\.yaml line 1: memory: has no value/ },
  ];
  for (const c of cases) {
    test(`reports ${c.name} with file, line and key path`, (t) => {
      const dir = project(t, { 'config.yaml': c.yaml });
      const err = loadError(join(dir, 'config.yaml'));
      assert.equal(err.code, 'config_invalid');
      // Messages name the file as the operator gave it; here that is an absolute temp path.
      assert.match(err.message.replace(`${dir}/`, ''), c.expected);
    });
  }

  test('logging.format is unset by default (chosen by the terminal) and takes pretty or json', (t) => {
    const dir = project(t, { 'config.yaml': '', 'pretty/config.yaml': 'logging:\n  format: pretty\n', 'json/config.yaml': 'logging: { format: json }\n' });
    assert.equal(loadConfig(join(dir, 'config.yaml'), { env: {} }).config.logging.format, undefined);
    assert.equal(loadConfig(join(dir, 'pretty/config.yaml'), { env: {} }).config.logging.format, 'pretty');
    assert.equal(loadConfig(join(dir, 'json/config.yaml'), { env: {} }).config.logging.format, 'json');
  });

  test('reports every problem at once, in file order', (t) => {
    const dir = project(t, { 'config.yaml': 'human:\n  timeout_secs: 30\n  timeout_seconds: 0\nadapter:\n  slack:\n    respond: x\n' });
    const message = loadError(join(dir, 'config.yaml')).message.replaceAll(`${dir}/`, '');
    assert.equal(
      message,
      [
        'config.yaml has 3 problems:',
        '  config.yaml line 2: human.timeout_secs: unknown key — did you mean timeout_seconds?',
        '  config.yaml line 3: human.timeout_seconds: expected a positive number',
        '  config.yaml line 6: adapter.slack.respond: expected one of: mentions, all',
      ].join('\n'),
    );
  });

  test('never echoes a substituted value in a validation error', (t) => {
    const dir = project(t, { 'config.yaml': 'llm:\n  max_tokens: ${ANTHROPIC_API_KEY}\n' });
    const err = loadError(join(dir, 'config.yaml'), { ANTHROPIC_API_KEY: 'super-secret-key-value' });
    assert.match(err.message, /llm\.max_tokens: expected a number, found text/);
    assert.ok(!err.message.includes('super-secret-key-value'));
  });
});

describe('requireSecret', () => {
  test('returns a secret that is set', (t) => {
    const dir = project(t, { 'config.yaml': 'llm:\n  anthropic:\n    api_key: ${ANTHROPIC_API_KEY}\n' });
    const loaded = loadConfig(join(dir, 'config.yaml'), { env: { ANTHROPIC_API_KEY: 'sk-ant-value' } });
    assert.equal(requireSecret(loaded, 'llm.anthropic.api_key', 'ANTHROPIC_API_KEY'), 'sk-ant-value');
  });

  test('says to put the variable in .env when the reference resolved to empty', (t) => {
    const dir = project(t, { 'config.yaml': 'llm:\n  anthropic:\n    api_key: ${ANTHROPIC_API_KEY:-}\n' });
    const loaded = loadConfig(join(dir, 'config.yaml'), { env: {} });
    assert.throws(
      () => requireSecret(loaded, 'llm.anthropic.api_key', 'ANTHROPIC_API_KEY'),
      (err: unknown) =>
        err instanceof ConfigError &&
        err.code === 'missing_secret' &&
        !err.message.includes('\n') &&
        err.message.includes('llm.anthropic.api_key is not set; put ANTHROPIC_API_KEY=... in ') &&
        err.message.includes('.env (next to '),
    );
  });

  test('says to add the key to config.yaml when it is absent', (t) => {
    const dir = project(t, { 'config.yaml': 'bot:\n  name: x\n' });
    const loaded = loadConfig(join(dir, 'config.yaml'), { env: { SLACK_APP_TOKEN: 'xapp-1-2-3' } });
    assert.throws(() => requireSecret(loaded, 'adapter.slack.app_token', 'SLACK_APP_TOKEN'), /adapter\.slack\.app_token is not set; add `app_token: \$\{SLACK_APP_TOKEN\}` under adapter\.slack/);
  });
});
