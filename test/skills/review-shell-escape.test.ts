/**
 * Review finding: a process that leaves the command's process group (`setsid`) and keeps stdout
 * open held the call hostage. runArgv resolved only on the child's `close`, which needs EOF on
 * the pipes; the group kill on exit and on the time limit cannot reach a process in another
 * session, so `shell__run_command` with `timeout_seconds: 1` returned only when the escapee
 * ended (a daemon: never, until the tool's ~10-minute runtime limit), reported `timed_out: true`
 * for a command that had exited 0 in milliseconds, and its note claimed "every process it started
 * were killed" while the escapee lived on.
 *
 * Now: once the program has ended, its pipes get EXIT_DRAIN_MS to close; then they are closed,
 * the run ends with `escaped`, the time limit is not claimed, and the note says a process was
 * not killed. (Killing it is not possible through the process group; the report says so.)
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { TestContext } from 'node:test';
import { join } from 'node:path';
import { createTestToolContext } from '../../src/testing/index.ts';
import { SAFE_SEARCH_PATH } from '../../src/skills/program-resolver.ts';
import { runArgv } from '../../src/skills/run-argv.ts';
import skill from '../../skills/shell/tools.ts';
import type { CommandResult } from '../../skills/shell/command-result.ts';

/**
 * A program that starts a grandchild in a new session (holding stdout), waits until it has
 * left the group (it writes its pid after setsid), then prints and either exits or hangs.
 */
function daemonizer(dir: string, hang: boolean): { program: string; pidFile: string } {
  const pidFile = join(dir, `escapee-${hang ? 'hang' : 'exit'}.pid`);
  const program = join(dir, hang ? 'daemonize-hang' : 'daemonize');
  writeFileSync(
    program,
    `#!/bin/sh\nsetsid sh -c 'echo $$ > "${pidFile}.tmp"; mv "${pidFile}.tmp" "${pidFile}"; exec sleep 30' &\n` +
      `while [ ! -s "${pidFile}" ]; do sleep 0.01; done\necho started\n${hang ? 'exec sleep 30\n' : ''}`,
  );
  chmodSync(program, 0o755);
  return { program, pidFile };
}

/** A temporary folder; when the test ends, the escapee whose pid is in it is killed, then it is removed. */
function escapeDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-review-escape-'));
  chmodSync(dir, 0o755);
  t.after(() => {
    for (const name of ['escapee-exit.pid', 'escapee-hang.pid']) killEscapee(join(dir, name));
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function killEscapee(pidFile: string): void {
  if (!existsSync(pidFile)) return;
  try {
    process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
  } catch {
    // gone already
  }
}

/** `promise`, or a failure when it takes longer than `ms`. */
async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

test('a command whose grandchild escaped with setsid returns when the command ends, and says so', async (t) => {
  const dir = escapeDir(t);
  const { program } = daemonizer(dir, false);
  const ctx = createTestToolContext({ config: { allowed_commands: [['daemonize']], timeout_seconds: 1, path: [dir, ...SAFE_SEARCH_PATH] } });
  const result = (await within(Promise.resolve(skill.tools.run_command!.handle({ argv: ['daemonize'] }, ctx)), 3_000, 'run_command')) as CommandResult;
  assert.equal(result.argv[0], program);
  assert.equal(result.exit_code, 0);
  assert.equal(result.stdout, 'started\n');
  assert.equal(result.timed_out, false, 'the command exited by itself, long before the time limit');
  assert.match(result.note ?? '', /left its process group .*not killed/);
});

test('at the time limit the command is killed and the call ends although an escapee holds the output', async (t) => {
  const dir = escapeDir(t);
  daemonizer(dir, true);
  const ctx = createTestToolContext({ config: { allowed_commands: [['daemonize-hang']], timeout_seconds: 1, path: [dir, ...SAFE_SEARCH_PATH] } });
  const result = (await within(Promise.resolve(skill.tools.run_command!.handle({ argv: ['daemonize-hang'] }, ctx)), 4_000, 'run_command')) as CommandResult;
  assert.equal(result.timed_out, true);
  assert.equal(result.stdout, 'started\n');
  assert.doesNotMatch(result.note ?? '', /every process it started were killed/, 'not every process was killed');
  assert.match(result.note ?? '', /left its process group .*not killed/);
});

test('runArgv: an ordinary run is not marked escaped', async () => {
  const result = await runArgv(['/bin/echo', 'hi'], { env: { PATH: '/usr/bin:/bin' }, timeoutMs: 5_000, maxOutputBytes: 100 });
  assert.equal(result.escaped, false);
  assert.equal(result.stdout.text, 'hi\n');
});
