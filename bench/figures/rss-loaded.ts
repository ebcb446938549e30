/**
 * mithai's memory with state: before the start, 1 000 sessions of 20 messages are written into
 * the project's state database through mithai's own SessionStore (as `mithai run` would have
 * stored them); then `mithai run` starts on that project (10 skills, as in the start-up figure)
 * and is driven to 500 pending approvals: 500 mentions (50 users, 10 each, within the default
 * rate limit of 10 turns per user a minute) whose turns call the gated `restart` tool, until
 * all 500 cards are posted. Then a 2 s settle and the median of 5 VmRSS samples, compared with
 * the bare loop's idle RSS measured in the same run (../figures/startup.ts). For context, the
 * bare loop is driven to the same number of pending approvals too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/state/database.ts';
import { SessionStore } from '../../src/state/session-store.ts';
import { sessionKey } from '../../src/engine/session-key.ts';
import type { Message } from '../../src/llm/types.ts';
import { ACTIONS } from '../../src/adapters/slack/approval-card.ts';
import { sampleRss, spawnMithai } from '../lib/proc.ts';
import type { Child } from '../lib/proc.ts';
import { BARE_APPROVE_ACTION } from '../baseline/bare-loop.ts';
import { progress } from '../lib/rounds.ts';
import { hasButton } from '../lib/slack-observer.ts';
import { sleep } from '../lib/stats.ts';
import { writeMithaiProject } from '../systems/mithai-project.ts';
import { CHANNEL, withFakes } from '../systems/types.ts';
import type { Fakes } from '../systems/types.ts';
import { baselineSpawner, startProcess } from './startup.ts';

export interface LoadedPlan {
  sessions: number;
  messagesPerSession: number;
  approvals: number;
  settleMs: number;
}

/** Write `n` sessions of `m` messages into the state database at `statePath`. */
export function seedSessions(statePath: string, teamId: string, n: number, m: number): void {
  const db = openDatabase(statePath);
  try {
    const store = new SessionStore(db);
    db.transaction(() => {
      for (let i = 0; i < n; i++) {
        const key = sessionKey({ platform: 'slack', team: teamId, channel: CHANNEL, thread: `${1_600_000_000 + i}.000100` });
        const messages: Message[] = Array.from({ length: m }, (_, j): Message => (j % 2 === 0
          ? { role: 'user', content: [{ type: 'text', text: `Message from UUSER${String(i % 50).padStart(5, '0')}:\nwhat is the state of svc-${i}? ${'the pods restarted twice overnight and the queue is growing; '.repeat(3)}` }] }
          : { role: 'assistant', content: [{ type: 'text', text: `svc-${i} looks healthy now: 3 of 3 instances up, ${'queue depth back to normal after the last deploy, nothing to do. '.repeat(3)}` }] }));
        store.append(key, messages);
      }
    })();
  } finally {
    db.close();
  }
}

async function driveApprovals(fakes: Fakes, n: number, approveActionId: string): Promise<number> {
  const users = Array.from({ length: Math.ceil(n / 10) }, (_, i) => `UUSER${String(i).padStart(5, '0')}`);
  const threads: string[] = [];
  for (let from = 0; from < n; from += 50) {
    const batch = await Promise.all(Array.from({ length: Math.min(50, n - from) }, (_, k) => {
      const i = from + k;
      return fakes.slack.mention({ user: users[i % users.length]!, channel: CHANNEL, text: `restart svc-${i}` });
    }));
    threads.push(...batch.map((s) => s.ts));
  }
  const cards = await Promise.all(threads.map((t) => fakes.observer.waitFor(t, (p) => hasButton(p.blocks, approveActionId), 120_000).then(() => 1, () => 0)));
  return cards.reduce<number>((a, b) => a + b, 0);
}

/** mithai's RSS with sessions and pending approvals (MB), and how many cards were up. */
export async function loadedRss(plan: LoadedPlan): Promise<{ rssMb: number; cards: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-bench-loaded-'));
  try {
    return await withFakes(async (fakes) => {
      const configPath = writeMithaiProject(dir, { slack: fakes.slack, modelUrl: fakes.model.url, skills: 10 });
      const started = performance.now();
      seedSessions(join(dir, '.mithai', 'state'), fakes.slack.config.teamId, plan.sessions, plan.messagesPerSession);
      progress(`RSS loaded: seeded ${plan.sessions} sessions x ${plan.messagesPerSession} messages in ${((performance.now() - started) / 1000).toFixed(1)} s`);
      return startProcess(fakes, () => spawnMithai(configPath, dir), 'mithai (loaded)', (child) => settleAndSample(fakes, child, plan, ACTIONS.approve, 'mithai'));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The bare loop's RSS with the same number of pending approvals (it has no state to seed: its
 * history lives in memory for one turn). For context: the target is against its idle RSS.
 */
export async function loadedBaselineRss(plan: LoadedPlan, transport: 'stream' | 'create'): Promise<{ rssMb: number; cards: number }> {
  return withFakes((fakes) => startProcess(fakes, baselineSpawner(transport), 'baseline (loaded)', (child) => settleAndSample(fakes, child, plan, BARE_APPROVE_ACTION, 'baseline')));
}

async function settleAndSample(fakes: Fakes, child: Child, plan: LoadedPlan, approveActionId: string, name: string): Promise<{ rssMb: number; cards: number }> {
  const t0 = performance.now();
  const cards = await driveApprovals(fakes, plan.approvals, approveActionId);
  progress(`RSS loaded: ${name}: ${cards} approvals pending after ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await sleep(plan.settleMs);
  return { rssMb: await sampleRss(child.child.pid!), cards };
}
