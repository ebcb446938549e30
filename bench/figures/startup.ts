/**
 * Start-up and idle memory, from real processes: `node bin/mithai.js run` on a generated
 * project of 10 skills (../systems/mithai-project.ts: the ops skill and nine of three tools
 * each) against `node --import tsx bench/baseline/app.ts`, both pointed at the bench's fakes.
 *
 * Start-up: from just before spawn() to the moment the fake Slack sees the client's Socket Mode
 * connection greeted (it answers the pong the fake sends right after `hello`, which the client
 * sends only once it has processed `hello`, i.e. is connected). The mithai project is reused
 * across rounds (its state database exists after the warm-up), as a restart in production.
 *
 * Idle RSS: after the start, one turn (3 tool calls) so both have run their whole path once,
 * then a 2 s settle, then the median of 5 VmRSS samples 200 ms apart.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAKE_API_KEY } from '../../test/fakes/anthropic/fake-anthropic.ts';
import { sampleRss, spawnBaseline, spawnMithai, stopChild, untilReady } from '../lib/proc.ts';
import type { Child } from '../lib/proc.ts';
import { interleave } from '../lib/rounds.ts';
import { ratioRow } from '../lib/report.ts';
import type { Row } from '../lib/report.ts';
import { median, sleep } from '../lib/stats.ts';
import { writeMithaiProject } from '../systems/mithai-project.ts';
import { withFakes } from '../systems/types.ts';
import type { Fakes, SystemName } from '../systems/types.ts';
import { autoTurn } from './turn.ts';

export interface StartupPlan {
  rounds: number;
  warmupRounds: number;
  settleMs: number;
  baselineTransport: 'stream' | 'create';
}

interface Sample {
  startupMs: number;
  idleRssMb: number;
}

/** Spawn one system's process against `fakes`. */
export type Spawner = (fakes: Fakes) => Child;

export function mithaiSpawner(projectDir: string, skills = 10): Spawner {
  return (fakes) => spawnMithai(writeMithaiProject(projectDir, { slack: fakes.slack, modelUrl: fakes.model.url, skills }), projectDir);
}

export function baselineSpawner(transport: 'stream' | 'create'): Spawner {
  return (fakes) => spawnBaseline({
    SLACK_BOT_TOKEN: fakes.slack.config.botToken,
    SLACK_APP_TOKEN: fakes.slack.config.appToken,
    SLACK_API_URL: fakes.slack.apiUrl,
    ANTHROPIC_BASE_URL: fakes.model.url,
    ANTHROPIC_API_KEY: FAKE_API_KEY,
    BENCH_BASELINE_TRANSPORT: transport,
  });
}

/** Spawn and time to connected; the child is left running for `then`, and stopped after. */
export async function startProcess<T>(fakes: Fakes, spawner: Spawner, name: string, then: (child: Child, startupMs: number) => Promise<T>): Promise<T> {
  const started = performance.now();
  const child = spawner(fakes);
  try {
    await untilReady(child, fakes.slack.waitForConnections(1, 120_000), name);
    const startupMs = performance.now() - started;
    return await then(child, startupMs);
  } finally {
    await stopChild(child);
  }
}

export async function startupFigure(plan: StartupPlan): Promise<Row[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-bench-startup-'));
  try {
    const spawners: Record<SystemName, Spawner> = { baseline: baselineSpawner(plan.baselineTransport), mithai: mithaiSpawner(dir) };
    const results = await interleave([{ name: 'baseline' }, { name: 'mithai' }] as const, { rounds: plan.rounds, warmup: plan.warmupRounds, label: 'start-up + idle RSS' }, (sut) =>
      withFakes((fakes) => startProcess(fakes, spawners[sut.name], sut.name, async (child, startupMs): Promise<Sample> => {
        await autoTurn(fakes, 'svc-1', 60_000);
        await sleep(plan.settleMs);
        return { startupMs, idleRssMb: await sampleRss(child.child.pid!) };
      })));
    const b = results.baseline;
    const m = results.mithai;
    const per = (s: Sample[], f: (x: Sample) => number): number[] => s.map(f).map((x) => Number(x.toFixed(1)));
    return [
      ratioRow('start-up: process start -> Socket Mode connected (10 skills), median', median(b.map((s) => s.startupMs)), median(m.map((s) => s.startupMs)), 1.5, 'ms', '<= 1.50x', {
        samples: { baseline: per(b, (s) => s.startupMs), mithai: per(m, (s) => s.startupMs) },
      }),
      ratioRow('RSS idle (after 1 turn, settled), median', median(b.map((s) => s.idleRssMb)), median(m.map((s) => s.idleRssMb)), 1.3, 'MB', '<= 1.30x', {
        samples: { baseline: per(b, (s) => s.idleRssMb), mithai: per(m, (s) => s.idleRssMb) },
      }),
    ];
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
