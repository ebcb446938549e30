/**
 * `mithai run` under a supervisor, as docs/deployment.md ships it: the Dockerfile's exec-form
 * entry point and the systemd unit's ExecStart are the `mithai` binary itself, so the SIGTERM of
 * `docker stop` or `systemctl stop` reaches mithai, which shuts down cleanly. (`npx mithai run`
 * is not an entry point: npm exec runs it under `sh -c`, and the signal stops npm and the shell
 * but never reaches mithai.)
 *
 * The rules pinned here: the shipped files say what the test runs (the argv is read from the
 * Dockerfile and the unit, not restated); the process the supervisor signals is mithai itself
 * (its pid is the one in the state lock: no npm or shell in between); SIGTERM with a pending
 * approval ends it with exit 0 well within Docker's default 10 s stop timeout, logs the
 * shutdown, and leaves the card live for the next start; the Dockerfile's HEALTHCHECK is healthy
 * exactly while mithai run is connected to Slack.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { FakeSlack } from '../fakes/slack/fake-slack.ts';
import { FakeAnthropic, FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { ALICE, CHANNEL, buttonIds, lastUserText, waitFor, waitForCard } from './slack-harness.ts';
import { REPO, cleanEnv, copyRootProject, replaceOnce } from './root-project-harness.ts';
import { HEARTBEAT_EVERY_MS, HEARTBEAT_FILE } from '../../src/cli/run-heartbeat.ts';

/** Docker's stop timeout when none is set: SIGKILL follows SIGTERM after this long. */
const DOCKER_DEFAULT_STOP_MS = 10_000;

/** The Dockerfile's instructions, continuation lines joined: [keyword, rest]. */
function dockerInstructions(): Array<[string, string]> {
  const text = readFileSync(join(REPO, 'Dockerfile'), 'utf8').replace(/\\\n/g, ' ');
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [keyword, ...rest] = l.split(/\s+/);
      return [keyword!.toUpperCase(), rest.join(' ')];
    });
}

/** The last instruction `keyword` of the final stage, parsed as exec form (a JSON array). */
function execForm(keyword: string): string[] {
  const found = dockerInstructions().filter(([k]) => k === keyword).at(-1);
  assert.ok(found, `the Dockerfile has ${keyword}`);
  const args: unknown = JSON.parse(found[1]);
  assert.ok(Array.isArray(args) && args.every((a) => typeof a === 'string'), `${keyword} is in exec form`);
  return args as string[];
}

/** The HEALTHCHECK's command (exec form). */
function healthCheck(): string[] {
  const found = dockerInstructions().find(([k]) => k === 'HEALTHCHECK');
  assert.ok(found, 'the Dockerfile has a HEALTHCHECK');
  const cmd = /\bCMD\s+(\[.*\])\s*$/.exec(found[1]);
  assert.ok(cmd, 'HEALTHCHECK CMD is in exec form');
  return JSON.parse(cmd[1]!) as string[];
}

/** Run the HEALTHCHECK command in `dir` (Docker runs it in the WORKDIR). */
function runHealthCheck(dir: string): { code: number | null; output: string } {
  const [command, ...args] = healthCheck();
  const result = spawnSync(command === 'node' ? process.execPath : command!, args, { cwd: dir, encoding: 'utf8', timeout: 10_000 });
  return { code: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The systemd unit's settings (the last value of each key). */
function unitSettings(): Map<string, string> {
  const settings = new Map<string, string>();
  for (const line of readFileSync(join(REPO, 'deploy', 'mithai.service'), 'utf8').split('\n')) {
    const match = /^([A-Za-z]+)=(.*)$/.exec(line.trim());
    if (match) settings.set(match[1]!, match[2]!);
  }
  return settings;
}

/** A folder holding `mithai`, a link to the checkout's bin/mithai.js, as `npm install -g` and the image make it. */
function binDir(t: { after(fn: () => unknown): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-bin-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync(join(REPO, 'bin', 'mithai.js'), join(dir, 'mithai'));
  return dir;
}

test('the Dockerfile runs the mithai binary in exec form, as a non-root user, on Node 20 slim, with state and memory on volumes', () => {
  const instructions = dockerInstructions();
  const from = instructions.filter(([k]) => k === 'FROM').map(([, rest]) => rest.split(/\s+/)[0]);
  assert.ok(from.length > 0 && from.every((image) => image === 'node:20-slim'), `every stage is node:20-slim (${from.join(', ')})`);
  assert.deepEqual(execForm('ENTRYPOINT'), ['mithai'], 'the entry point is the binary itself, never npx, npm or a shell');
  assert.deepEqual(execForm('CMD'), ['run']);
  assert.ok(instructions.some(([k, rest]) => k === 'RUN' && /ln -s \/opt\/mithai\/bin\/mithai\.js \/usr\/local\/bin\/mithai\b/.test(rest)), 'mithai on the PATH is bin/mithai.js');
  const user = instructions.filter(([k]) => k === 'USER').at(-1)?.[1];
  assert.ok(user !== undefined && !/^(root|0)(:|$)/.test(user), `it runs as a non-root user (USER ${user})`);
  const workdir = instructions.filter(([k]) => k === 'WORKDIR').at(-1)![1];
  const volumes = execForm('VOLUME');
  // The root project's state.path (./.mithai/state) and memory.path (./memory) are inside them.
  const config = readFileSync(join(REPO, 'config.yaml'), 'utf8');
  assert.match(config, /^state:\n {2}path: \.\/\.mithai\/state$/m);
  assert.match(config, /^memory:\n {2}path: \.\/memory$/m);
  assert.deepEqual(volumes, [`${workdir}/.mithai`, `${workdir}/memory`]);
  assert.equal(healthCheck()[0], 'node', 'the health check needs nothing but node');
});

test('the systemd unit starts the mithai binary itself and gives it time to shut down', (t) => {
  const unit = unitSettings();
  assert.equal(unit.get('ExecStart'), '/usr/local/bin/mithai run', 'the binary itself, never npx, npm or a shell');
  assert.equal(unit.get('Type'), 'exec');
  assert.equal(unit.get('KillSignal'), 'SIGTERM');
  assert.equal(unit.get('KillMode'), 'mixed', 'SIGTERM to mithai alone, so the tool calls it waits for are not killed under it');
  // adapter.slack.shutdown_grace_seconds (30 by default) for running tool calls, then disconnecting.
  assert.ok(Number(unit.get('TimeoutStopSec')) >= 45, `TimeoutStopSec=${unit.get('TimeoutStopSec')}`);
  assert.deepEqual(unit.get('ReadWritePaths')?.split(/\s+/), [`${unit.get('WorkingDirectory')}/.mithai`, `${unit.get('WorkingDirectory')}/memory`]);
  const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
  if (analyze.error) {
    t.diagnostic('systemd-analyze is not installed; the unit file syntax was not verified');
    return;
  }
  // systemd-analyze checks that ExecStart exists, so point it at a real mithai for the check.
  const dir = binDir(t);
  const copy = join(dir, 'mithai.service');
  writeFileSync(copy, readFileSync(join(REPO, 'deploy', 'mithai.service'), 'utf8').replace('ExecStart=/usr/local/bin/mithai', `ExecStart=${join(dir, 'mithai')}`));
  const verify = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8' });
  assert.equal(verify.status, 0, verify.stderr);
  assert.equal(verify.stderr.trim(), '', 'systemd-analyze verify has nothing to say about the unit');
});

test("the Dockerfile's health check passes on a fresh heartbeat and fails on a stale or a missing one", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-health-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  assert.ok(healthCheck().join(' ').includes(`'.mithai/state/${HEARTBEAT_FILE}'`), 'it reads the file mithai run writes under the state.path of the image');
  const missing = runHealthCheck(dir);
  assert.equal(missing.code, 1);
  assert.match(missing.output, /^no \.mithai\/state\/run\.heartbeat: mithai run is not connected to Slack\n$/);
  mkdirSync(join(dir, '.mithai', 'state'), { recursive: true });
  const file = join(dir, '.mithai', 'state', 'run.heartbeat');
  writeFileSync(file, '1\n');
  assert.deepEqual(runHealthCheck(dir), { code: 0, output: '' });
  // A few missed beats (a busy machine, a quick reconnect) are still healthy.
  const threeBeatsAgo = (Date.now() - 4 * HEARTBEAT_EVERY_MS) / 1000;
  utimesSync(file, threeBeatsAgo, threeBeatsAgo);
  assert.deepEqual(runHealthCheck(dir), { code: 0, output: '' });
  const twoMinutesAgo = (Date.now() - 120_000) / 1000;
  utimesSync(file, twoMinutesAgo, twoMinutesAgo);
  const stale = runHealthCheck(dir);
  assert.equal(stale.code, 1);
  assert.match(stale.output, /^\.mithai\/state\/run\.heartbeat is 1[12]\d s old: mithai run is not connected to Slack\n$/);
});

test('SIGTERM to the documented entry point, serving the root project with a pending approval, stops mithai cleanly within 10 s', async (t) => {
  const slack = await FakeSlack.start({ users: [{ id: ALICE, name: 'alice' }] });
  const model = await FakeAnthropic.start([reply(toolUse('example__restart_service', { name: 'worker' })), (req) => reply(`Told: ${lastUserText(req)}`)]);
  let child: ReturnType<typeof spawn> | undefined;
  t.after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child!.once('close', r));
    }
    await slack.stop();
    await model.stop();
  });
  // The root project as the image holds it; only the API addresses point at the fakes.
  const project = copyRootProject(t, (text) =>
    replaceOnce(
      replaceOnce(text, '# base_url: https://api.anthropic.com', `base_url: ${model.url}`),
      '    app_token: ${SLACK_APP_TOKEN:-}\n',
      `    app_token: \${SLACK_APP_TOKEN:-}\n    api_url: ${slack.apiUrl}\n`,
    ),
  );
  // The tokens come from the environment, as with `docker run --env-file` or EnvironmentFile=.
  const bin = binDir(t);
  const env = cleanEnv({ SLACK_BOT_TOKEN: slack.config.botToken, SLACK_APP_TOKEN: slack.config.appToken, ANTHROPIC_API_KEY: FAKE_API_KEY });
  env.PATH = `${bin}${delimiter}${env.PATH ?? ''}`;
  const [command, ...args] = [...execForm('ENTRYPOINT'), ...execForm('CMD')];
  assert.deepEqual([command, ...args], unitSettings().get('ExecStart')!.split(' ').map((a, i) => (i === 0 ? a.split('/').at(-1)! : a)), 'Docker and systemd start the same command');
  child = spawn(command!, args, { cwd: project.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child!.once('close', (code, signal) => resolve({ code, signal })));
  const connected = await Promise.race([slack.waitForConnections(1, 60_000).then(() => true), exited.then(() => false)]);
  assert.ok(connected, `mithai run exited before connecting:\n${stderr}\n${stdout.slice(-3000)}`);

  const state = join(project.dir, '.mithai', 'state');
  assert.equal(readFileSync(join(state, 'mithai.lock'), 'utf8').trim(), String(child.pid), 'the process the supervisor signals is mithai itself');
  await waitFor('the heartbeat', () => existsSync(join(state, 'run.heartbeat')), 5000);
  assert.deepEqual(runHealthCheck(project.dir), { code: 0, output: '' }, 'healthy while connected');

  const sent = await slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart the worker' });
  const card = await waitForCard(slack, CHANNEL, sent.ts, 1, 15_000);
  assert.deepEqual(buttonIds(card), ['mithai_approve', 'mithai_deny']);

  const signalled = Date.now();
  child.kill('SIGTERM');
  const exit = await exited;
  const tookMs = Date.now() - signalled;
  t.diagnostic(`mithai run stopped ${tookMs} ms after SIGTERM`);
  assert.deepEqual(exit, { code: 0, signal: null }, stderr);
  assert.ok(tookMs < DOCKER_DEFAULT_STOP_MS, `stopped in ${tookMs} ms`);
  assert.equal(stderr, '');
  const logged = stdout.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.ok(logged.some((r) => r.reason === 'SIGTERM'), 'the shutdown and its cause are logged');
  assert.equal(logged.at(-1)?.msg, 'slack.stopped', 'the last line says it stopped');
  assert.deepEqual(buttonIds(slack.message(CHANNEL, card.ts)), ['mithai_approve', 'mithai_deny'], 'the pending approval is left for the next start');
  assert.ok(!existsSync(join(state, 'mithai.lock')), 'the lock is released');
  assert.equal(runHealthCheck(project.dir).code, 1, 'a stopped mithai is not healthy');
});
