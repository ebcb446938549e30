/**
 * Every error path of config loading, seeded with a secret: the secret (value or key) must not
 * be in the thrown message, nor in what `mithai doctor` / `mithai chat` print when loading fails.
 */
import { describe, test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../../src/errors.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { configSchema } from '../../src/config/schema.ts';
import { formatConfigIssues, formatYamlErrors } from '../../src/config/format-config-issues.ts';
import { substituteEnv } from '../../src/config/substitute-env.ts';
import { formatKeyPath, mustNotPrintKey } from '../../src/config/walk-yaml-scalars.ts';
import { runCli } from '../e2e/chat-harness.ts';

const SECRET = 'Sup3rS3cretFAKE99';
const TOKEN = `ghp_${SECRET}${SECRET}`;

function project(t: TestContext, yaml: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-leak-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'config.yaml'), yaml);
  return join(dir, 'config.yaml');
}

function loadMessage(path: string): string {
  try {
    loadConfig(path, { env: {} });
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.message;
  }
  assert.fail('expected loadConfig to throw');
}

function assertAbsent(message: string, ...secrets: string[]): void {
  for (const secret of secrets) assert.ok(!message.includes(secret), `"${secret}" must not appear in:\n${message}`);
}

describe('the secret lint', () => {
  test('a token used as a key is named by its parent path and line', (t) => {
    const message = loadMessage(project(t, `skills:\n  config:\n    github:\n      ${TOKEN}: admin\n`));
    assert.match(message, /config\.yaml line 4: skills\.config\.github\.<key on line 4> is a key that looks like a GitHub token/);
    assertAbsent(message, TOKEN, SECRET);
  });

  test('a password that starts with * (read as an undefined alias) is refused before YAML could print it', (t) => {
    const message = loadMessage(project(t, `skills:\n  config:\n    db:\n      password: *${SECRET}\n`));
    assert.match(message, /line 4: skills\.config\.db\.password starts with \*/);
    assertAbsent(message, SECRET);
  });

  test('an undefined alias named like a token is refused', (t) => {
    const message = loadMessage(project(t, `skills:\n  config:\n    note: *xoxb-${SECRET}\n`));
    assertAbsent(message, SECRET);
  });
});

describe('schema errors (format-config-issues.ts)', () => {
  test('an unknown key that looks like a random token is not echoed', (t) => {
    const key = `a1B2c3D4e5F6g7H8${SECRET}`;
    const message = loadMessage(project(t, `bot:\n  name: x\n  ${key}: 1\n`));
    assert.match(message, /config\.yaml line 3: bot\.<key on line 3>: unknown key/);
    assertAbsent(message, key, SECRET);
  });

  test('an unknown key with a credential shape is not echoed even without the lint', () => {
    const lineCounter = new LineCounter();
    const doc = parseDocument(`bot:\n  name: x\n  ${TOKEN}: 1\nhuman:\n  overrides:\n    xoxb-${SECRET}: auto\n`, { lineCounter });
    const data = doc.toJS();
    const parsed = configSchema.safeParse(data);
    assert.equal(parsed.success, false);
    const lines = formatConfigIssues(parsed.error!.issues, { file: 'config.yaml', doc, lineCounter, data });
    assert.ok(lines.some((l) => /^config\.yaml line 3: bot\.<key on line 3>: unknown key$/.test(l)), lines.join('\n'));
    assert.ok(lines.some((l) => /^config\.yaml line 6: human\.overrides\.<key on line 6>: invalid key/.test(l)), lines.join('\n'));
    assertAbsent(lines.join('\n'), TOKEN, SECRET);
  });

  test('a value that fails validation is not echoed (after substitution any value may be a secret)', (t) => {
    const message = loadMessage(project(t, `adapter:\n  slack:\n    respond: ${SECRET}\n    api_url: not-a-url-${SECRET}\n`));
    assertAbsent(message, SECRET);
  });

  test('formatKeyPath masks credential keys, with or without a line', () => {
    assert.equal(formatKeyPath(['skills', 'config', TOKEN, 'x'], [1, 2, 7, 8]), 'skills.config.<key on line 7>.x');
    assert.equal(formatKeyPath(['a', `xoxb-${SECRET}`]), 'a.<key that looks like a credential>');
    assert.equal(formatKeyPath(['skills', 'paths', 0]), 'skills.paths[0]');
    assert.equal(mustNotPrintKey('allowed_channels'), false);
    assert.equal(mustNotPrintKey('example__restart_service'), false);
  });
});

describe('substitution errors', () => {
  test('an unset reference under a token-shaped key does not print the key', () => {
    const lineCounter = new LineCounter();
    const doc = parseDocument(`skills:\n  config:\n    xoxb-${SECRET}: \${UNSET_VAR}\n`, { lineCounter });
    assert.throws(() => substituteEnv(doc, { env: {}, file: 'config.yaml', lineCounter }), (err: Error) => {
      assert.match(err.message, /UNSET_VAR/);
      assertAbsent(err.message, SECRET);
      return true;
    });
  });

  test('a malformed reference does not print the value around it', (t) => {
    const message = loadMessage(project(t, `bot:\n  persona: "\${${SECRET}"\n`));
    assertAbsent(message, SECRET);
  });
});

describe('YAML syntax errors', () => {
  // yaml quotes source text after these phrases; each case seeds a secret there.
  const cases: Array<[string, string, boolean]> = [
    ['a block scalar header', `skills:\n  config:\n    db:\n      password: |${SECRET}\n        x\n`, true],
    ['an unresolvable tag', `skills:\n  config:\n    db:\n      password: !x!${SECRET} a\n`, true],
    ['a duplicate key in an ordered map', `skills:\n  config:\n    db: !!omap\n      - ${SECRET}: 1\n      - ${SECRET}: 2\n`, true],
    ['a %YAML directive', `%YAML ${SECRET}\n---\nbot: {}\n`, true],
    ['a bad escape', `bot:\n  name: "\\U${SECRET}"\n`, true],
    ['an unclosed quote', `bot:\n  persona: "xoxb-${SECRET}\n`, false],
    ['a bad indent', `bot:\n  name: ${SECRET}\n    persona: ${SECRET}: x\n`, false],
    ['a duplicate token-shaped key', `bot:\n  xoxb-${SECRET}: 1\n  xoxb-${SECRET}: 2\n`, false],
  ];
  for (const [what, yaml] of cases) {
    test(`formatYamlErrors: ${what}`, () => {
      const lineCounter = new LineCounter();
      const doc = parseDocument(yaml, { lineCounter, prettyErrors: true, uniqueKeys: true });
      assert.ok(doc.errors.length > 0);
      const lines = formatYamlErrors(doc.errors, 'config.yaml');
      assert.match(lines[0]!, /^config\.yaml line \d+: \S/);
      assertAbsent(lines.join('\n'), SECRET.slice(0, 8));
    });
    test(`loadConfig: ${what}`, (t) => {
      assertAbsent(loadMessage(project(t, yaml)), SECRET.slice(0, 8));
    });
  }
});

describe('the CLI when loading fails', () => {
  const yaml = [
    'llm:',
    '  anthropic:',
    `    api_key: sk-ant-api03-${SECRET}`,
    'skills:',
    '  config:',
    '    github:',
    `      ${TOKEN}: admin`,
    '    db:',
    `      password: ${SECRET}`,
    `      dsn: postgres://app:${SECRET}@db/app`,
    '',
  ].join('\n');

  for (const command of ['doctor', 'chat']) {
    test(`mithai ${command} prints neither the values nor the key`, async (t) => {
      const config = project(t, yaml);
      const result = await runCli([command, '--config', config], { cwd: join(config, '..'), env: { ANTHROPIC_API_KEY: undefined } });
      assert.notEqual(result.code, 0);
      const out = result.stdout + result.stderr;
      assert.match(out, /holds literal credentials/);
      assert.match(out, /skills\.config\.github\.<key on line 7>/);
      assertAbsent(out, SECRET, TOKEN);
    });
  }
});
