/**
 * Approval click → tool start, one approval at a time: a mention asks to restart a service,
 * the system posts its approval card, and (25 ms after the card arrived) the requester clicks Approve (human.approvers is empty: only the requester may decide).
 * Timed from just before the fake sends the block_actions envelope to the moment the tool's
 * handler is entered (the tool hook, ../lib/tool-hooks.ts). Also: the click's ack, and for
 * mithai the time from the decision being durable (the gate's change notification, after the
 * SQLite commit and the audit-file flush) to the tool start, which must never be negative.
 */
import { finalTag } from '../lib/ops.ts';
import { interleave } from '../lib/rounds.ts';
import { infoRow } from '../lib/report.ts';
import type { Row } from '../lib/report.ts';
import { median, min, percentile, sleep, waitUntil } from '../lib/stats.ts';
import { onToolStart } from '../lib/tool-hooks.ts';
import { ALICE, CHANNEL, withSystem } from '../systems/types.ts';
import type { Fakes, RunningSystem, SystemUnderTest } from '../systems/types.ts';

export interface ApprovalPlan {
  rounds: number;
  warmupRounds: number;
  approvals: number;
  warmupApprovals: number;
}

interface Sample {
  clickToTool: number;
  ack: number;
  durableToTool: number | undefined;
}

async function oneApproval(system: RunningSystem, fakes: Fakes, tag: string, starts: Map<string, number>, durable: Map<string, number>): Promise<Sample> {
  const sent = await fakes.slack.mention({ user: ALICE, channel: CHANNEL, text: `restart ${tag}` });
  const card = await fakes.observer.waitFor(sent.ts, (p) => system.isCard(p.blocks), 30_000);
  await sleep(25);
  const clicked = performance.now();
  await fakes.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: system.approveActionId });
  const ack = performance.now() - clicked;
  const started = await waitUntil(`the restart of ${tag}`, () => starts.get(tag), 30_000, 1);
  await fakes.observer.waitFor(sent.ts, (p) => finalTag(p.text) === tag, 30_000);
  const durableAt = durable.get(sent.ts);
  return { clickToTool: started - clicked, ack, durableToTool: durableAt === undefined ? undefined : started - durableAt };
}

export async function approvalFigure(systems: readonly [SystemUnderTest, SystemUnderTest], plan: ApprovalPlan): Promise<Row[]> {
  const results = await interleave(systems, { rounds: plan.rounds, warmup: plan.warmupRounds, label: 'approval' }, (sut) =>
    withSystem(sut, async (system, fakes): Promise<Sample[]> => {
      const starts = new Map<string, number>();
      const durable = new Map<string, number>();
      const offTool = onToolStart((s) => {
        if (s.tool.endsWith('restart')) starts.set(s.service, s.at);
      });
      const offDurable = system.onApprovedDurable?.((thread, at) => durable.set(thread, at));
      try {
        let n = 0;
        for (let i = 0; i < plan.warmupApprovals; i++) await oneApproval(system, fakes, `svc-${n++}`, starts, durable);
        const samples: Sample[] = [];
        for (let i = 0; i < plan.approvals; i++) {
          samples.push(await oneApproval(system, fakes, `svc-${n++}`, starts, durable));
          await sleep(25);
        }
        return samples;
      } finally {
        offTool();
        offDurable?.();
      }
    }));
  const all = (name: 'baseline' | 'mithai'): Sample[] => results[name].flat();
  const b = all('baseline');
  const m = all('mithai');
  const p99 = (s: Sample[], f: (x: Sample) => number): number => percentile(s.map(f), 99);
  const mithaiP99 = p99(m, (s) => s.clickToTool);
  const durableToTool = m.map((s) => s.durableToTool).filter((x): x is number => x !== undefined);
  const earliest = min(durableToTool);
  return [
    {
      name: 'approval click -> tool start p99',
      target: '<= 20 ms',
      measured: mithaiP99,
      pass: mithaiP99 <= 20,
      baseline: p99(b, (s) => s.clickToTool),
      mithai: mithaiP99,
      unit: 'ms',
      ratio: mithaiP99 / p99(b, (s) => s.clickToTool),
      extra: { p50: { baseline: median(b.map((s) => s.clickToTool)), mithai: median(m.map((s) => s.clickToTool)) }, samples: { baseline: b.length, mithai: m.length } },
    },
    infoRow('approval click ack p99', p99(b, (s) => s.ack), p99(m, (s) => s.ack), 'ms'),
    {
      name: 'decision durable -> tool start (mithai), p99',
      target: 'never < 0 ms',
      measured: earliest,
      pass: durableToTool.length === m.length && earliest >= 0,
      baseline: 'n/a',
      mithai: percentile(durableToTool, 99),
      unit: 'ms',
      extra: { min: earliest, p50: median(durableToTool), samples: durableToTool.length, note: 'durable = gate change notification (after the SQLite commit and the audit flush)' },
    },
  ];
}
