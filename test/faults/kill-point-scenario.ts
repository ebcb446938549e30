/**
 * The scripted approve scenario (mention → card → click Approve → tool runs → reply), killed at
 * one named crash point (src/fault-point.ts) by MITHAI_FAULT_POINT, restarted without it, and
 * driven to the end (a card that still offers Approve is clicked again, an event whose ack
 * never came is delivered again, as Slack retries it).
 */
import type { TestContext } from 'node:test';
import type { Finding } from './invariants.ts';
import { driveToEnd, finishScenario } from './invariants.ts';
import type { FaultProject, FaultProjectOptions, RunningMithai } from './fault-harness.ts';
import { botTexts, cardsIn, clickApprove, makeFaultProject, mention, redeliverIfUnacked, sleep, startConnected, unlessExited, waitFor } from './fault-harness.ts';
import type { Mention } from './fault-harness.ts';

/** What a scenario should end with, beyond the invariants. */
export interface Expected {
  /** effects.log at the end. */
  effects: string[];
  /** The approval's final state. */
  state: string;
  /** What the thread must be told (notices, and the model's reply echoing what it was told). */
  told?: RegExp | RegExp[];
}

export const RAN: Expected = { effects: ['restart api'], state: 'succeeded' };
export const CUT_BEFORE_EFFECT: Expected = { effects: [], state: 'unknown', told: /outcome is unknown/ };
export const CUT_AFTER_EFFECT: Expected = { effects: ['restart api'], state: 'unknown', told: /outcome is unknown/ };

/** The end states (any one of them) a scenario killed at `point` may have, when the rules hold. */
export function expectedAfter(point: string): Expected[] {
  // Claimed but the tool had not returned: the effect may or may not have happened; never re-run.
  if (point === 'claim.committed') return [CUT_BEFORE_EFFECT];
  if (point === 'tool.returned') return [CUT_AFTER_EFFECT];
  // The decision carries the turn on in the background while the ack goes out: the call may
  // already be claimed (or even running) when the process dies just after the ack.
  if (point === 'click.acked') return [RAN, CUT_BEFORE_EFFECT, CUT_AFTER_EFFECT];
  return [RAN];
}

/**
 * Phase 1 of a run that is meant to die: the normal approve flow, until the process exits.
 * @returns a finding when the process did not die at its fault point.
 */
export async function approveFlowUntilDeath(p: FaultProject, run: RunningMithai, m: Mention, point: string): Promise<Finding[]> {
  const flow = (async () => {
    const card = await waitFor('the approval card', () => cardsIn(p, m.ts).find((c) => c.buttons.includes('mithai_approve')), 15_000);
    await clickApprove(p, card);
    await waitFor('the reply', () => botTexts(p, m.ts).some((x) => x.startsWith('Told')), 15_000);
  })().catch(() => 'failed' as const);
  await unlessExited(run, flow);
  // The last points come after the reply is posted: give the process a moment to get there.
  const exit = await Promise.race([run.exited, sleep(5_000).then(() => undefined)]);
  if (exit === undefined) return [{ kind: 'other', message: `fault point ${point} was never reached (the flow ended and the process kept running)` }];
  if (exit.signal !== 'SIGKILL') return [{ kind: 'other', message: `mithai run exited ${exit.code ?? exit.signal} instead of dying at ${point}: ${run.stderr().slice(-500)}` }];
  return [];
}

/** Compare the end with what the rules promise (any one of `allowed`). */
export function checkExpected(p: FaultProject, m: Mention, allowed: Expected[]): Finding[] {
  const each = allowed.map((e) => checkOne(p, m, e));
  return each.find((f) => f.length === 0) ?? each[0]!;
}

function checkOne(p: FaultProject, m: Mention, expected: Expected): Finding[] {
  const findings: Finding[] = [];
  const effects = p.effects();
  if (JSON.stringify(effects) !== JSON.stringify(expected.effects)) {
    findings.push({ kind: effects.length > expected.effects.length ? 'doubleExecutions' : 'other', message: `effects.log is ${JSON.stringify(effects)}, expected ${JSON.stringify(expected.effects)}` });
  }
  const states = p.approvals().map((a) => a.state);
  if (JSON.stringify(states) !== JSON.stringify([expected.state])) findings.push({ kind: 'other', message: `approval states ${JSON.stringify(states)}, expected [${expected.state}]` });
  for (const told of [expected.told ?? []].flat()) {
    if (!botTexts(p, m.ts).some((x) => told.test(x))) {
      findings.push({ kind: 'silentThreads', message: `thread ${m.ts} was never told ${told}: ${JSON.stringify(botTexts(p, m.ts))}` });
    }
  }
  return findings;
}

/** Options of {@link killPointScenario}. */
export interface KillPointOptions {
  name?: string;
  project?: FaultProjectOptions;
  expected?: Expected[];
  /** Runs while mithai is down (after the kill, before the restart). */
  whileDown?: (p: FaultProject) => Promise<void>;
}

/** Kill at `point`, restart, drive to the end, check. */
export async function killPointScenario(t: TestContext, point: string, o: KillPointOptions = {}): Promise<void> {
  const name = o.name ?? `kill at ${point}`;
  const p = await makeFaultProject(t, name, o.project);
  const first = await startConnected(p, { faultPoint: point });
  const m = mention(p, 'restart api');
  const findings = await approveFlowUntilDeath(p, first, m, point);
  await o.whileDown?.(p);
  const second = await startConnected(p);
  await redeliverIfUnacked(p, m);
  findings.push(...(await driveToEnd(p, second, [m.ts])));
  findings.push(...checkExpected(p, m, o.expected ?? expectedAfter(point)));
  await finishScenario(t, p, second, { category: 'kill points', name, point, kills: 1, threads: [m.ts], findings });
}
