/**
 * The repository is itself a mithai project: config.yaml (references only), .env.example,
 * slack-manifest.yaml, skills/ (the built-ins and the example) and memory/MEMORY.md at the root,
 * so that on a fresh clone `npm ci` and then `npx mithai chat` (or `npm start`) runs it with only
 * ANTHROPIC_API_KEY set. The rules pinned here: the root files are exactly what `mithai init
 * --yes` writes (templates/init/ is the one source, so the two cannot drift apart); `npm start`
 * is the main job, `mithai chat` on the root project; `npx mithai` in the checkout is the
 * checkout's own binary, and the root skills/ loads the example once and the built-ins only as
 * built-ins. The runs use a copy of the root project (./root-project-harness.ts), so nothing is
 * written into the checkout.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeAnthropic, FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';
import { lastToolResults, reply, toolResultText, toolUse } from '../fakes/anthropic/script.ts';
import { runCli } from './chat-harness.ts';
import { REPO, cleanEnv, copyRootProject, replaceOnce } from './root-project-harness.ts';
import { runProcess, type ProcessResult } from '../fixtures/run-process.ts';

/** Files `mithai init` writes that belong to the product at the root, not to the project. */
const PRODUCT_FILES = new Set(['tsconfig.json', '.env', '.gitignore']);

/** Run `command` (npm, npx) in the checkout with `stdin` fed and closed. */
function runInCheckout(command: string, args: string[], options: { env: Record<string, string | undefined>; stdin?: string }): Promise<ProcessResult> {
  return runProcess(command, args, { cwd: REPO, env: options.env, stdin: options.stdin ?? '' });
}

test('the repository root holds exactly the project files mithai init --yes writes, byte for byte', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-init-root-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const init = await runCli(['init', dir, '--yes']);
  assert.equal(init.code, 0, init.stderr);
  const lines = init.stdout.split('\n');
  const written = lines.slice(1, lines.indexOf('')).map((l) => l.trim());
  const project = written.filter((f) => !PRODUCT_FILES.has(f)).sort();
  assert.deepEqual(
    project,
    ['.env.example', 'config.yaml', 'memory/MEMORY.md', 'skills/example/SKILL.md', 'skills/example/tools.ts', 'slack-manifest.yaml'],
    'init writes these project files; a new one belongs at the repository root too (node scripts/sync-root-project.mjs)',
  );
  for (const file of project) {
    assert.ok(existsSync(join(REPO, file)), `${file} is missing at the repository root; run node scripts/sync-root-project.mjs`);
    assert.equal(readFileSync(join(REPO, file), 'utf8'), readFileSync(join(dir, file), 'utf8'), `${file} at the repository root differs from what mithai init writes; run node scripts/sync-root-project.mjs`);
  }
  const config = readFileSync(join(REPO, 'config.yaml'), 'utf8');
  assert.match(config, /api_key: \$\{ANTHROPIC_API_KEY:-\}/, 'the key is a reference');
  assert.doesNotMatch(config, /sk-ant-|xox[abp]-|xapp-/, 'no literal secret');

  // The runtime files init keeps out of git are kept out of the checkout's git as well.
  const ignored = new Set(readFileSync(join(REPO, '.gitignore'), 'utf8').split('\n').map((l) => l.trim()));
  const needed = readFileSync(join(dir, '.gitignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  assert.ok(needed.includes('.env'));
  for (const line of needed) assert.ok(ignored.has(line), `.gitignore at the repository root lacks ${line}`);
});

test('npm start in the checkout is mithai chat on the root project, with only ANTHROPIC_API_KEY in the environment', async (t) => {
  const fake = await FakeAnthropic.start([
    reply(toolUse('example__list_services', {})),
    reply(toolUse('example__restart_service', { name: 'worker' })),
    reply('Restarted the worker.'),
  ]);
  t.after(() => fake.stop());
  const copy = copyRootProject(t, (text) => replaceOnce(text, '# base_url: https://api.anthropic.com', `base_url: ${fake.url}`));
  assert.ok(!existsSync(join(copy.dir, '.env')), 'no .env: the key comes from the environment alone');
  const chat = await runInCheckout('npm', ['start', '--', '--config', copy.configPath], {
    env: cleanEnv({ ANTHROPIC_API_KEY: FAKE_API_KEY }),
    stdin: 'list the services, then restart the worker\ny\n',
  });
  assert.equal(chat.code, 0, chat.stderr);
  assert.match(chat.stdout, /mithai> Restarted the worker\./);
  assert.equal(fake.requests.length, 3);
  assert.match(toolResultText(lastToolResults(fake.requests[1]!)[0]!), /"name": "worker"/, 'the listing ran at once');
  assert.match(toolResultText(lastToolResults(fake.requests[2]!)[0]!), /worker restarted \(restart #1\)/, 'the restart ran once, after the approval');
  const system = JSON.stringify(fake.requests[0]!.system);
  assert.match(system, /Production changes need an approval in the thread/, "the root memory/MEMORY.md is the agent's memory");
  assert.ok(existsSync(join(copy.dir, 'memory', 'approvals.json')), 'the audit log is written next to the config, not into the checkout');
});

test("npx mithai in the checkout is the checkout's binary; the root skills/ gives the example once and the built-ins only through skills.builtin", async (t) => {
  const copy = copyRootProject(t);
  const validate = await runInCheckout('npx', ['--yes=false', '--', 'mithai', 'skill', 'validate', '--config', copy.configPath], { env: cleanEnv() });
  assert.equal(validate.code, 0, validate.stderr);
  const okLines = validate.stdout.split('\n').filter((l) => l.startsWith('ok '));
  assert.deepEqual(okLines.map((l) => l.split(/\s+/)[1]), ['example', 'http', 'memory'], validate.stdout);
  assert.doesNotMatch(validate.stdout + validate.stderr, /duplicate|overrid|kubernetes|shell/i);
});
