/**
 * Child processes of the start-up and memory figures: `node bin/mithai.js run` and the bare
 * loop's `node --import tsx bench/baseline/app.ts`, their resident memory (VmRSS from
 * /proc/<pid>/status), and stopping them by their own pid.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { median, sleep } from './stats.ts';

const MITHAI_BIN = fileURLToPath(new URL('../../bin/mithai.js', import.meta.url));
const BASELINE_APP = fileURLToPath(new URL('../baseline/app.ts', import.meta.url));
const REPO = fileURLToPath(new URL('../..', import.meta.url));

/** A started child, with its stderr kept for error messages. */
export interface Child {
  child: ChildProcess;
  stderr(): string;
  exited: Promise<number | null>;
}

function cleanEnv(extra: Record<string, string>): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  // The developer's shell must not steer a child: only what the bench passes counts.
  for (const name of Object.keys(env)) if (/^(ANTHROPIC|SLACK)_/.test(name) || name === 'NODE_OPTIONS') delete env[name];
  return { ...env, ...extra };
}

function start(args: string[], cwd: string, env: Record<string, string>): Child {
  // stdout (mithai's JSON logs) goes to /dev/null: written, never read back.
  const child = spawn(process.execPath, args, { cwd, env: cleanEnv(env), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, stderr: () => stderr, exited };
}

/** `mithai run --config <configPath>` in the project directory (tokens come from its .env). */
export function spawnMithai(configPath: string, projectDir: string): Child {
  return start([MITHAI_BIN, 'run', '--config', configPath], projectDir, {});
}

/** The bare loop as its own process. */
export function spawnBaseline(env: { SLACK_BOT_TOKEN: string; SLACK_APP_TOKEN: string; SLACK_API_URL: string; ANTHROPIC_BASE_URL: string; ANTHROPIC_API_KEY: string; BENCH_BASELINE_TRANSPORT?: string }): Child {
  return start(['--import', 'tsx', BASELINE_APP], REPO, { ...env });
}

/** Resident set size of a process in MB (VmRSS), or NaN when it is gone. */
export function rssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1];
    return kb === undefined ? Number.NaN : Number(kb) / 1024;
  } catch {
    return Number.NaN;
  }
}

/** The median of `count` RSS samples taken `everyMs` apart. */
export async function sampleRss(pid: number, count = 5, everyMs = 200): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    samples.push(rssMb(pid));
    if (i < count - 1) await sleep(everyMs);
  }
  return median(samples);
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when it has exited. */
export async function stopChild(c: Child, graceMs = 10_000): Promise<void> {
  if (c.child.exitCode !== null || c.child.signalCode !== null) return;
  c.child.kill('SIGTERM');
  const timer = setTimeout(() => c.child.kill('SIGKILL'), graceMs);
  await c.exited;
  clearTimeout(timer);
}

/** Resolve when `ready` does; reject with the child's stderr if it exits first. */
export async function untilReady(c: Child, ready: Promise<void>, what: string): Promise<void> {
  const died = c.exited.then((code) => {
    throw new Error(`bench: ${what} exited (${code}) before it was ready:\n${c.stderr().slice(-2000)}`);
  });
  await Promise.race([ready, died]);
}
