/**
 * Review finding: command hooks in the runtime's environment reached allowed programs. commandEnv
 * dropped GIT_SSH_COMMAND, GIT_PAGER and a few other GIT_ names but not GIT_EXTERNAL_DIFF,
 * GIT_CONFIG_GLOBAL / GIT_CONFIG_SYSTEM (a config whose diff.external, core.fsmonitor, aliases or
 * hooks path run commands), GIT_EDITOR, GIT_SEQUENCE_EDITOR, GIT_DIR, GIT_TEMPLATE_DIR; nor
 * SYSTEMD_EDITOR, LESSOPEN / LESSCLOSE (less runs them), KUBE_EDITOR, KUBECTL_EXTERNAL_DIFF,
 * OPENSSL_CONF / OPENSSL_ENGINES (an engine is a shared library), LUA_INIT, PHPRC,
 * PHP_INI_SCAN_DIR, ZDOTDIR, PYTHONWARNINGS (a warning category is imported), PYTHONBREAKPOINT,
 * BROWSER. With `[git, diff]` allowed (read-only by any reading), `git diff` ran the program
 * GIT_EXTERNAL_DIFF names. These come from the operator's environment, not from the model, so
 * this is defence in depth, as the module's own comment promises for GIT_SSH_COMMAND.
 *
 * Now every GIT_* variable is dropped, and the others above.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestToolContext } from '../../src/testing/index.ts';
import { commandEnv } from '../../src/skills/command-env.ts';
import skill from '../../skills/shell/tools.ts';
import type { CommandResult } from '../../skills/shell/command-result.ts';
import { tempDir } from './skill-fixtures.ts';

const HOOKS = [
  'GIT_EXTERNAL_DIFF', 'GIT_CONFIG_GLOBAL', 'GIT_CONFIG_SYSTEM', 'GIT_CONFIG', 'GIT_EDITOR', 'GIT_SEQUENCE_EDITOR', 'GIT_DIR',
  'GIT_WORK_TREE', 'GIT_TEMPLATE_DIR', 'GIT_CONFIG_COUNT', 'GIT_CONFIG_VALUE_0', 'SYSTEMD_EDITOR', 'LESSOPEN', 'LESSCLOSE',
  'KUBE_EDITOR', 'KUBECTL_EXTERNAL_DIFF', 'OPENSSL_CONF', 'OPENSSL_ENGINES', 'LUA_INIT', 'LUA_INIT_5_4', 'PHPRC',
  'PHP_INI_SCAN_DIR', 'ZDOTDIR', 'PYTHONWARNINGS', 'PYTHONBREAKPOINT', 'BROWSER',
];

test('command hooks from the environment never reach the child', () => {
  const base = Object.fromEntries([...HOOKS, 'HARMLESS_SETTING', 'HOME', 'LANG'].map((name) => [name, `/tmp/${name.toLowerCase()}`]));
  const env = commandEnv(base, ['/usr/bin', '/bin']);
  for (const name of HOOKS) assert.equal(env[name], undefined, `${name} must not reach the child`);
  for (const name of ['HARMLESS_SETTING', 'HOME', 'LANG']) assert.equal(env[name], base[name], `${name} still passes`);
});

test('git diff under an allowlist does not run the GIT_EXTERNAL_DIFF or GIT_CONFIG_GLOBAL program', { skip: !existsSync('/usr/bin/git') && 'no git' }, async (t) => {
  const root = tempDir(t, 'mithai-review-git-');
  const repo = join(root, 'repo');
  const marker = join(root, 'hook-ran');
  const hook = join(root, 'hook');
  writeFileSync(hook, `#!/bin/sh\necho "$0 $*" >> '${marker}'\n`);
  chmodSync(hook, 0o755);
  const gitConfig = join(root, 'gitconfig');
  writeFileSync(gitConfig, `[diff]\n\texternal = ${hook}\n[core]\n\tfsmonitor = ${hook}\n`);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: repo, env: { PATH: '/usr/bin:/bin', HOME: root, GIT_CONFIG_NOSYSTEM: '1' }, stdio: 'ignore' });
  execFileSync('git', ['init', '-q', repo], { env: { PATH: '/usr/bin:/bin', HOME: root } });
  writeFileSync(join(repo, 'file.txt'), 'one\n');
  git('add', 'file.txt');
  git('-c', 'user.name=t', '-c', 'user.email=t@example.com', 'commit', '-q', '-m', 'one');
  writeFileSync(join(repo, 'file.txt'), 'two\n');

  const saved = { GIT_EXTERNAL_DIFF: process.env.GIT_EXTERNAL_DIFF, GIT_CONFIG_GLOBAL: process.env.GIT_CONFIG_GLOBAL };
  process.env.GIT_EXTERNAL_DIFF = hook;
  process.env.GIT_CONFIG_GLOBAL = gitConfig;
  t.after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  const ctx = createTestToolContext({ config: { allowed_commands: [['git', 'diff']], read_only_commands: [['git', 'diff']], cwd: repo } });
  const result = (await skill.tools.run_command!.handle({ argv: ['git', 'diff'] }, ctx)) as CommandResult;
  assert.equal(result.exit_code, 0, result.stderr);
  assert.equal(existsSync(marker), false, 'the hook program ran');
  assert.match(result.stdout, /^-one$/m, 'git printed its own diff');
});
