/**
 * Turn latency: an @mention whose turn makes three `auto` tool calls (one per model response)
 * and replies, timed from just before the fake sends the app_mention envelope to the moment the
 * fake handles the chat.postMessage carrying the reply. Turns run one after another (top-level
 * mentions, so each is a new thread with no history), with a 25 ms pause between them so the
 * background work one turn leaves (mithai's status reactions) does not land in the next turn's
 * time. The concurrency figure measures everything together.
 *
 * The same turns feed the prompt-cache figures (../lib/prompt-cache.ts), from the requests the
 * fake Messages API received during the measured turns.
 */
import { cacheReport } from '../lib/prompt-cache.ts';
import type { CacheReport } from '../lib/prompt-cache.ts';
import { finalTag } from '../lib/ops.ts';
import { interleave } from '../lib/rounds.ts';
import { infoRow, ratioRow } from '../lib/report.ts';
import type { Row } from '../lib/report.ts';
import { median, min, percentile, sleep } from '../lib/stats.ts';
import { ALICE, CHANNEL, withSystem } from '../systems/types.ts';
import type { Fakes, SystemUnderTest } from '../systems/types.ts';

export interface TurnPlan {
  rounds: number;
  warmupRounds: number;
  /** Turns per round, after `warmupTurns` thrown away. */
  turns: number;
  warmupTurns: number;
}

/** One auto turn; resolves with its latency in ms. */
export async function autoTurn(fakes: Fakes, tag: string, timeoutMs = 30_000): Promise<number> {
  const started = performance.now();
  const sent = await fakes.slack.mention({ user: ALICE, channel: CHANNEL, text: `check ${tag}` });
  const post = await fakes.observer.waitFor(sent.ts, (p) => finalTag(p.text) === tag, timeoutMs);
  return post.at - started;
}

interface RoundResult {
  latencies: number[];
  cache: CacheReport;
  /** Web API calls during the measured turns, by method. */
  calls: Record<string, number>;
}

function countsSince(now: ReadonlyMap<string, number>, before: ReadonlyMap<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [method, n] of now) if (n - (before.get(method) ?? 0) > 0) out[method] = n - (before.get(method) ?? 0);
  return out;
}

export async function turnFigure(systems: readonly [SystemUnderTest, SystemUnderTest], plan: TurnPlan): Promise<Row[]> {
  const results = await interleave(systems, { rounds: plan.rounds, warmup: plan.warmupRounds, label: 'turn' }, (sut) =>
    withSystem(sut, async (_system, fakes): Promise<RoundResult> => {
      let n = 0;
      for (let i = 0; i < plan.warmupTurns; i++) {
        await autoTurn(fakes, `svc-${n++}`);
        await sleep(25);
      }
      const from = fakes.model.requests.length;
      const callsBefore = new Map(fakes.observer.callCounts);
      const latencies: number[] = [];
      for (let i = 0; i < plan.turns; i++) {
        latencies.push(await autoTurn(fakes, `svc-${n++}`));
        await sleep(25);
      }
      await sleep(200); // the last turn's background calls
      return { latencies, cache: cacheReport(fakes.model.requests.slice(from)), calls: countsSince(fakes.observer.callCounts, callsBefore) };
    }));
  const lat = (name: 'baseline' | 'mithai'): number[] => results[name].flatMap((r) => r.latencies);
  const b = lat('baseline');
  const m = lat('mithai');
  const perRound = results.mithai.map((r, i) => median(r.latencies) / median(results.baseline[i]!.latencies));
  const perTurn = (name: 'baseline' | 'mithai'): Record<string, number> => {
    const sum: Record<string, number> = {};
    let turns = 0;
    for (const r of results[name]) {
      turns += r.latencies.length;
      for (const [method, n] of Object.entries(r.calls)) sum[method] = (sum[method] ?? 0) + n;
    }
    return Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, Number((v / Math.max(1, turns)).toFixed(2))]));
  };
  const samples = {
    samples: { baseline: b.length, mithai: m.length },
    per_round_p50_ratio: perRound.map((x) => Number(x.toFixed(3))),
    slack_calls_per_turn: { baseline: perTurn('baseline'), mithai: perTurn('mithai') },
  };
  const rows: Row[] = [
    ratioRow('turn p50 (mention -> reply, 3 auto tools)', median(b), median(m), 1.25, 'ms', '<= 1.25x (aim 1.10x)', samples),
    ratioRow('turn p99', percentile(b, 99), percentile(m, 99), 1.5, 'ms', '<= 1.50x', samples),
  ];

  const cache = (name: 'baseline' | 'mithai'): { shares: number[]; first: number[] } => ({
    shares: results[name].flatMap((r) => r.cache.laterShares),
    first: results[name].flatMap((r) => r.cache.firstRequestChars),
  });
  const cb = cache('baseline');
  const cm = cache('mithai');
  const minShare = min(cm.shares);
  rows.push({
    name: 'prompt cache: min share read, requests 2+ of a turn',
    target: '>= 80%',
    measured: minShare,
    pass: minShare >= 0.8,
    baseline: min(cb.shares) * 100,
    mithai: minShare * 100,
    unit: '%',
    extra: { requests: { baseline: cb.shares.length, mithai: cm.shares.length }, median_share: { baseline: median(cb.shares), mithai: median(cm.shares) } },
  });
  rows.push(infoRow('input chars of a turn\'s 1st request', median(cb.first), median(cm.first), 'chars'));
  return rows;
}
