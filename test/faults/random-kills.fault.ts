/**
 * SIGKILL from outside at a random moment (0–1.5 s after the mention, or after the click), then
 * restart and drive to the end; twice with a second random kill while the restarted process
 * resumes. Whatever the moment, the call runs at most once (or ends `unknown`, told), every
 * decision has one audit record, every card ends final and the thread gets its reply.
 * The delays come from MITHAI_FAULTS_SEED (printed) so a failing run can be replayed.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { CUT_AFTER_EFFECT, CUT_BEFORE_EFFECT, RAN, checkExpected } from './kill-point-scenario.ts';
import { driveToEnd, finishScenario } from './invariants.ts';
import { seededRandom } from '../fixtures/seeded-random.ts';
import { cardsIn, clickApprove, killHard, makeFaultProject, mention, redeliverIfUnacked, sleep, startConnected, waitFor } from './fault-harness.ts';

const seed = Number(process.env.MITHAI_FAULTS_SEED ?? Date.now() % 1_000_000);

// Seeded, so a run's delays can be replayed.
const next = seededRandom(seed);

interface Plan {
  after: 'mention' | 'click';
  delayMs: number;
  /** A second kill this long after the restart (while it resumes), if any. */
  againMs?: number;
}

const plans: Plan[] = [
  ...Array.from({ length: 3 }, (): Plan => ({ after: 'mention', delayMs: Math.round(next() * 1500) })),
  ...Array.from({ length: 3 }, (): Plan => ({ after: 'click', delayMs: Math.round(next() * 1500) })),
  { after: 'click', delayMs: Math.round(next() * 1500), againMs: Math.round(next() * 1500) },
  { after: 'mention', delayMs: Math.round(next() * 1500), againMs: Math.round(next() * 1500) },
];

async function randomKill(t: TestContext, plan: Plan): Promise<void> {
  const name = `random kill ${plan.delayMs} ms after the ${plan.after}${plan.againMs === undefined ? '' : `, again ${plan.againMs} ms after the restart connected`} (seed ${seed})`;
  t.diagnostic(name);
  const p = await makeFaultProject(t, name);
  const first = await startConnected(p);
  const m = mention(p, 'restart api');
  // The user clicks Approve as soon as the card is there; the kill comes whatever happens.
  const card = waitFor('the card', () => cardsIn(p, m.ts).find((c) => c.buttons.includes('mithai_approve')), 15_000)
    .then((c) => clickApprove(p, c))
    .catch(() => false);
  if (plan.after === 'click') await card;
  await sleep(plan.delayMs);
  await killHard(first);
  let kills = 1;
  let run = await startConnected(p);
  await redeliverIfUnacked(p, m);
  if (plan.againMs !== undefined) {
    // Drive meanwhile, as users would, and kill the restarted process mid-resume.
    void driveToEnd(p, run, [m.ts], plan.againMs);
    await sleep(plan.againMs);
    await killHard(run);
    kills += 1;
    run = await startConnected(p);
    await redeliverIfUnacked(p, m);
  }
  const findings = await driveToEnd(p, run, [m.ts]);
  findings.push(...checkExpected(p, m, [RAN, CUT_BEFORE_EFFECT, CUT_AFTER_EFFECT]));
  const ended = `ended ${p.approvals().map((a) => a.state).join(',') || 'with no approval'}, effects ${JSON.stringify(p.effects())}`;
  await finishScenario(t, p, run, { category: 'random kills', name, kills, threads: [m.ts], findings, notes: [ended] });
}

for (const [i, plan] of plans.entries()) {
  test(`random SIGKILL #${i + 1} (${plan.after}${plan.againMs === undefined ? '' : ', twice'}): at most once, recorded, told`, (t) => randomKill(t, plan));
}
