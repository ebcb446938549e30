/**
 * runArgv: argv without a shell, the whole process group killed on the time limit and on
 * abort, output capped and the rest counted, only the given environment.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runArgv, SpawnError } from '../../src/skills/run-argv.ts';
import { gone } from '../fixtures/process-liveness.ts';

const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
const node = process.execPath;

test('runs argv as given: shell syntax in an argument is just text', async () => {
  const result = await runArgv(['/bin/echo', 'a; touch /tmp/x && $(id)', '`id`'], { env, timeoutMs: 10_000, maxOutputBytes: 1024 });
  assert.equal(result.exitCode, 0);
  assert.equal(result.stdout.text, 'a; touch /tmp/x && $(id) `id`\n');
});

test('the child sees only the environment it is given', async () => {
  const result = await runArgv([node, '-p', 'JSON.stringify(Object.keys(process.env).sort())'], { env: { ...env, ONLY_THIS: '1' }, timeoutMs: 10_000, maxOutputBytes: 4096 });
  assert.deepEqual(JSON.parse(result.stdout.text), ['ONLY_THIS', 'PATH']);
});

test('output beyond the cap is counted, not kept', async () => {
  const result = await runArgv([node, '-e', 'process.stdout.write("x".repeat(100000)); process.stderr.write("e".repeat(10))'], { env, timeoutMs: 10_000, maxOutputBytes: 1000 });
  assert.equal(result.stdout.text.length, 1000);
  assert.equal(result.stdout.droppedBytes, 99_000);
  assert.deepEqual(result.stderr, { text: 'e'.repeat(10), droppedBytes: 0 });
});

test('the time limit kills the whole process group, grandchildren included', async () => {
  // The child starts a grandchild that would outlive it, prints its pid, and hangs.
  const script = `const c = require('child_process').spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' }); console.log(c.pid); setInterval(() => {}, 1000);`;
  const result = await runArgv([node, '-e', script], { env, timeoutMs: 500, maxOutputBytes: 1024 });
  assert.equal(result.timedOut, true);
  assert.equal(result.exitCode, null);
  const grandchild = Number(result.stdout.text.trim());
  assert.ok(grandchild > 0);
  assert.ok(await gone(grandchild, 5_000), 'the grandchild is gone too');
});

test('an abort stops the child', async () => {
  const controller = new AbortController();
  const running = runArgv([node, '-e', 'console.log("up"); setInterval(() => {}, 1000)'], { env, timeoutMs: 60_000, maxOutputBytes: 1024, signal: controller.signal });
  setImmediate(() => controller.abort());
  const result = await running;
  assert.equal(result.aborted, true);
  assert.equal(result.timedOut, false);
});

test('a program that does not exist is a SpawnError naming it', async () => {
  await assert.rejects(runArgv(['no-such-program-here'], { env, timeoutMs: 1000, maxOutputBytes: 10 }), (err: unknown) => err instanceof SpawnError && /no-such-program-here: not found/.test(err.message));
});


