/**
 * A failure the CLI prints can quote a value: a skill's start-up error quoting its config, V8's
 * JSON.parse quoting the input it refused, a schema error naming a key. Every such line goes
 * through the redactor of the loaded config's secrets: none of them reaches the terminal.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeProject, runCli } from './chat-harness.ts';

const PASSWORD = 'hunter2pw-db';
const TOKEN = 'opsK3yZr9QmV7tLx2WcB8nHd4JfG6sPa1uYe5RiT';
const TOOLS = `
import { defineSkill, defineTool, z } from 'mithai';
export default defineSkill({
  tools: { login: defineTool({ description: 'Log in', human: 'auto', readOnly: true, input: z.strictObject({ user: z.string() }), handle: async () => 'ok' }) },
  startup: async (ctx) => { if (process.env.FAIL_STARTUP === '1') throw new Error('login refused for api token ' + ctx.config.api_token); },
});
`;

function secretProject() {
  const project = makeProject('http://127.0.0.1:9', { tools: TOOLS });
  appendFileSync(project.configPath, '\nskills:\n  config:\n    ops:\n      db_password: ${DB_PASSWORD}\n      api_token: ${OPS_API_TOKEN}\n');
  appendFileSync(join(project.dir, '.env'), `DB_PASSWORD=${PASSWORD}\nOPS_API_TOKEN=${TOKEN}\n`);
  return project;
}

test('a skill start-up error that quotes a secret is printed redacted', async (t) => {
  const project = secretProject();
  t.after(() => project.cleanup());
  const r = await runCli(['chat', '--config', project.configPath], { cwd: project.dir, stdin: 'hello\n', env: { FAIL_STARTUP: '1' } });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /login refused for api token/);
  assert.ok(!(r.stdout + r.stderr).includes(TOKEN), r.stderr);
});

test('skill run: input errors that quote the input or name a key are printed redacted', async (t) => {
  const project = secretProject();
  t.after(() => project.cleanup());
  writeFileSync(join(project.dir, 'in.json'), `{"password": ${PASSWORD}}`);
  for (const input of [['--input', `{"p":${PASSWORD}}`], ['--input-file', join(project.dir, 'in.json')], ['--input', JSON.stringify({ user: 'a', [TOKEN]: 1 })]]) {
    const r = await runCli(['skill', 'run', 'ops__login', ...input, '--config', project.configPath], { cwd: project.dir });
    assert.notEqual(r.code, 0, input.join(' '));
    assert.match(r.stderr, /mithai: /);
    for (const secret of [PASSWORD, TOKEN]) assert.ok(!(r.stdout + r.stderr).includes(secret), `${input.join(' ')}: ${r.stderr}`);
  }
});
