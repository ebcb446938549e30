/**
 * `mithai skill run` as an operator runs it: a real child process on a project made by
 * `mithai init`, with no API key at all. The call goes through the same validation, policy,
 * approval prompt and audit as the model's calls; the result is printed; the exit code says
 * how it went.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from './chat-harness.ts';

async function project(t: { after(fn: () => void): void }): Promise<{ dir: string; config: string }> {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-skill-run-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const init = await runCli(['init', dir, '--yes']);
  assert.equal(init.code, 0, init.stderr);
  writeFileSync(join(dir, '.env'), '', { mode: 0o600 }); // no ANTHROPIC_API_KEY: none is needed
  return { dir, config: join(dir, 'config.yaml') };
}

function auditRecords(dir: string): Array<Record<string, unknown>> {
  if (!existsSync(join(dir, 'memory', 'approvals.json'))) return [];
  return readFileSync(join(dir, 'memory', 'approvals.json'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

test('an auto tool runs at once, prints its result and is audited', async (t) => {
  const { dir, config } = await project(t);
  const run = await runCli(['skill', 'run', 'example__list_services', '--config', config], { cwd: dir });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /result> .*worker/s);
  const records = auditRecords(dir).filter((r) => r.tool === 'example__list_services');
  assert.deepEqual(records.map((r) => [r.event, r.decision, r.status]), [['decision', 'auto', 'executing'], ['outcome', 'auto', 'succeeded']]);
});

test('a gated tool asks in the terminal: approved it runs once, denied it does not, both audited', async (t) => {
  const { dir, config } = await project(t);
  const approved = await runCli(['skill', 'run', 'example__restart_service', '--input', '{"name":"worker"}', '--config', config, '--user', 'sre'], { cwd: dir, stdin: 'y\n' });
  assert.equal(approved.code, 0, approved.stderr);
  assert.match(approved.stdout, /worker restarted \(restart #1\)/);
  const denied = await runCli(['skill', 'run', 'example__restart_service', '--input', '{"name":"worker"}', '--config', config, '--user', 'sre'], { cwd: dir, stdin: 'n\n' });
  assert.equal(denied.code, 1, denied.stderr);
  assert.doesNotMatch(denied.stdout, /restart #2/);
  const decisions = auditRecords(dir).filter((r) => r.tool === 'example__restart_service').map((r) => [r.event, r.decision, r.status]);
  assert.deepEqual(decisions, [
    ['requested', null, 'pending'], ['decision', 'approved', 'pending'], ['outcome', 'approved', 'succeeded'],
    ['requested', null, 'pending'], ['decision', 'denied', 'not_run'],
  ]);
  const verify = await runCli(['audit', 'verify', '--config', config], { cwd: dir });
  assert.equal(verify.code, 0, verify.stderr);
});

test('an unknown tool, input that is not JSON, and input that does not validate are exit 2 with one line, and nothing runs', async (t) => {
  const { dir, config } = await project(t);
  const unknown = await runCli(['skill', 'run', 'example__restart_servce', '--config', config], { cwd: dir });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /^mithai: no tool named "example__restart_servce" \(did you mean example__restart_service\?\); known tools: /);
  const notJson = await runCli(['skill', 'run', 'example__restart_service', '--input', '{name: worker}', '--config', config], { cwd: dir });
  assert.equal(notJson.code, 2);
  assert.match(notJson.stderr, /^mithai: the input in --input is not JSON/);
  const invalid = await runCli(['skill', 'run', 'example__restart_service', '--input', '{"name": 7}', '--config', config], { cwd: dir });
  assert.equal(invalid.code, 2);
  assert.match(invalid.stderr, /^mithai: invalid input for example__restart_service: .*name/);
  assert.equal(auditRecords(dir).filter((r) => r.tool === 'example__restart_service').length, 0);
});
