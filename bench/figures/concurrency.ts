/**
 * Load: N threads at once, each a turn of three `auto` tool calls, and N approval turns at
 * once whose cards are clicked at random times 0–2 s after all cards are up. Counted at the
 * fake, for each system:
 * - lost: a thread without its final reply by the deadline;
 * - crossed: a final reply in a thread other than its own, or a tool call whose thread is not
 *   the thread of the service it names;
 * - late acks: a Socket Mode envelope (mention or click) acked after 3 s, or not at all;
 * - not once: a tool call of a thread that did not run exactly once (every approved call included),
 *   or a thread with more than one final reply.
 * Optionally with a CPU hog (../lib/hog.ts) spinning on every core.
 */
import { finalTag } from '../lib/ops.ts';
import { AUTO_SEQUENCE } from '../lib/ops.ts';
import { startHog } from '../lib/hog.ts';
import { interleave } from '../lib/rounds.ts';
import { infoRow } from '../lib/report.ts';
import type { Row } from '../lib/report.ts';
import { median, percentile, sleep } from '../lib/stats.ts';
import { onToolStart } from '../lib/tool-hooks.ts';
import type { ToolStart } from '../lib/tool-hooks.ts';
import { CHANNEL, withSystem } from '../systems/types.ts';
import type { Fakes, RunningSystem, SystemName, SystemUnderTest } from '../systems/types.ts';
import { autoTurn } from './turn.ts';

export interface ConcurrencyPlan {
  threads: number;
  approvals: number;
  /** Clicks land at random in [0, clickSpreadMs). */
  clickSpreadMs: number;
  deadlineMs: number;
  hog: boolean;
}

const LATE_ACK_MS = 3_000;
const USERS = Array.from({ length: 20 }, (_, i) => `ULOAD${String(i).padStart(5, '0')}`);

interface Outcome {
  lost: number;
  crossed: number;
  lateAcks: number;
  notOnce: number;
  /** Per-thread mention → final reply (ms). */
  latencies: number[];
  /** Click → tool start (approvals only). */
  clickToTool: number[];
  wallMs: number;
  maxAckMs: number;
}

interface Sent {
  tag: string;
  user: string;
  thread: string | undefined;
  sentAt: number;
  ackMs: number;
}

/** Mention the bot in `n` new threads at once; tags start at `first` (each scenario has its own range). */
async function mentionAll(fakes: Fakes, n: number, first: number, text: (tag: string) => string): Promise<Sent[]> {
  return Promise.all(Array.from({ length: n }, async (_, i): Promise<Sent> => {
    const tag = `svc-${first + i}`;
    const user = USERS[i % USERS.length]!;
    const sentAt = performance.now();
    try {
      const sent = await fakes.slack.mention({ user, channel: CHANNEL, text: text(tag) });
      return { tag, user, thread: sent.ts, sentAt, ackMs: performance.now() - sentAt };
    } catch {
      return { tag, user, thread: undefined, sentAt, ackMs: Number.POSITIVE_INFINITY };
    }
  }));
}

/** Wait for every thread's final reply until the deadline; returns latency per thread (undefined = lost). */
async function finalReplies(fakes: Fakes, sent: readonly Sent[], deadline: number): Promise<Array<number | undefined>> {
  return Promise.all(sent.map(async (s) => {
    if (s.thread === undefined) return undefined;
    const remaining = Math.max(1, deadline - performance.now());
    try {
      const post = await fakes.observer.waitFor(s.thread, (p) => finalTag(p.text) === s.tag, remaining);
      return post.at - s.sentAt;
    } catch {
      return undefined;
    }
  }));
}

/** Crossed and not-once counts from the posts and tool starts of a scenario. */
function check(fakes: Fakes, sent: readonly Sent[], starts: readonly ToolStart[], expectedTools: readonly string[]): { crossed: number; notOnce: number } {
  const threadOf = new Map(sent.map((s) => [s.tag, s.thread]));
  const tags = new Set(sent.map((s) => s.tag));
  let crossed = 0;
  const finals = new Map<string, number>();
  for (const post of fakes.observer.posts) {
    const tag = finalTag(post.text);
    if (tag === undefined || !tags.has(tag)) continue;
    if (post.thread !== threadOf.get(tag)) crossed += 1;
    else finals.set(tag, (finals.get(tag) ?? 0) + 1);
  }
  const runs = new Map<string, number>();
  for (const start of starts) {
    if (!tags.has(start.service)) continue;
    if (start.thread !== threadOf.get(start.service)) crossed += 1;
    const key = `${start.service} ${start.tool.replace(/^.*__/, '')}`;
    runs.set(key, (runs.get(key) ?? 0) + 1);
  }
  let notOnce = 0;
  for (const s of sent) {
    if (s.thread === undefined) continue;
    if ((finals.get(s.tag) ?? 0) > 1) notOnce += 1;
    for (const tool of expectedTools) if (runs.get(`${s.tag} ${tool}`) !== 1 && (finals.get(s.tag) ?? 0) > 0) notOnce += 1;
  }
  return { crossed, notOnce };
}

/** A scenario's {@link Outcome} from its checks, reply latencies (undefined: lost) and acks. */
function outcome(checked: { crossed: number; notOnce: number }, latencies: ReadonlyArray<number | undefined>, acks: readonly number[], clickToTool: number[], wallMs: number): Outcome {
  return {
    lost: latencies.filter((l) => l === undefined).length,
    crossed: checked.crossed,
    lateAcks: acks.filter((a) => a > LATE_ACK_MS).length,
    notOnce: checked.notOnce,
    latencies: latencies.filter((l): l is number => l !== undefined),
    clickToTool,
    wallMs,
    maxAckMs: Math.max(...acks),
  };
}

async function threadsScenario(fakes: Fakes, plan: ConcurrencyPlan): Promise<Outcome> {
  const starts: ToolStart[] = [];
  const off = onToolStart((s) => starts.push(s));
  try {
    const t0 = performance.now();
    const sent = await mentionAll(fakes, plan.threads, 10_000, (tag) => `check ${tag}`);
    const latencies = await finalReplies(fakes, sent, t0 + plan.deadlineMs);
    const wallMs = performance.now() - t0;
    await sleep(200); // late duplicates and stray replies still count
    return outcome(check(fakes, sent, starts, AUTO_SEQUENCE), latencies, sent.map((s) => s.ackMs), [], wallMs);
  } finally {
    off();
  }
}

async function approvalsScenario(system: RunningSystem, fakes: Fakes, plan: ConcurrencyPlan): Promise<Outcome> {
  const starts: ToolStart[] = [];
  const off = onToolStart((s) => starts.push(s));
  try {
    const t0 = performance.now();
    const deadline = t0 + plan.deadlineMs;
    const sent = await mentionAll(fakes, plan.approvals, 20_000, (tag) => `restart ${tag}`);
    const cards = await Promise.all(sent.map(async (s) => {
      if (s.thread === undefined) return undefined;
      try {
        return await fakes.observer.waitFor(s.thread, (p) => system.isCard(p.blocks), Math.max(1, deadline - performance.now()));
      } catch {
        return undefined;
      }
    }));
    const clickAcks: number[] = [];
    const clickedAt = new Map<string, number>();
    await Promise.all(sent.map(async (s, i) => {
      const card = cards[i];
      if (!card) return;
      await sleep(Math.random() * plan.clickSpreadMs);
      const at = performance.now();
      clickedAt.set(s.tag, at);
      try {
        await fakes.slack.clickButton({ user: s.user, channel: CHANNEL, messageTs: card.ts, actionId: system.approveActionId });
        clickAcks.push(performance.now() - at);
      } catch {
        clickAcks.push(Number.POSITIVE_INFINITY);
      }
    }));
    const latencies = await finalReplies(fakes, sent, deadline);
    const wallMs = performance.now() - t0;
    await sleep(200);
    const clickToTool = starts.filter((s) => s.tool.endsWith('restart') && clickedAt.has(s.service)).map((s) => s.at - clickedAt.get(s.service)!);
    return outcome(check(fakes, sent, starts, ['restart']), latencies, [...sent.map((s) => s.ackMs), ...clickAcks], clickToTool, wallMs);
  } finally {
    off();
  }
}

function summary(o: Outcome): string {
  return `${o.lost}/${o.crossed}/${o.lateAcks}/${o.notOnce}`;
}

export async function concurrencyFigure(systems: readonly [SystemUnderTest, SystemUnderTest], plan: ConcurrencyPlan): Promise<Row[]> {
  const hogged = plan.hog ? ' [CPU hog on every core]' : '';
  const results = await interleave(systems, { rounds: 1, warmup: 0, label: `concurrency${plan.hog ? ' (hog)' : ''}` }, (sut) =>
    withSystem(sut, async (system, fakes) => {
      // A few turns first, so connection pools and prepared statements are warm.
      for (let i = 0; i < 3; i++) await autoTurn(fakes, `svc-${i}`);
      const hog = plan.hog ? startHog() : undefined;
      try {
        const threads = await threadsScenario(fakes, plan);
        const approvals = await approvalsScenario(system, fakes, plan);
        return { threads, approvals };
      } finally {
        await hog?.stop();
      }
    }));
  const one = (name: SystemName) => results[name][0]!;
  const rows: Row[] = [];
  for (const kind of ['threads', 'approvals'] as const) {
    const b = one('baseline')[kind];
    const m = one('mithai')[kind];
    const label = kind === 'threads' ? `${plan.threads} threads x 3 tool calls${hogged}` : `${plan.approvals} approvals clicked at 0-${plan.clickSpreadMs / 1000} s${hogged}`;
    const violations = m.lost + m.crossed + m.lateAcks + m.notOnce;
    rows.push({
      name: `${label}: lost/crossed/late acks/not once`,
      target: '0/0/0/0',
      measured: violations,
      pass: violations === 0,
      baseline: summary(b),
      mithai: summary(m),
      extra: {
        baseline: { lost: b.lost, crossed: b.crossed, late_acks: b.lateAcks, not_once: b.notOnce, max_ack_ms: b.maxAckMs },
        mithai: { lost: m.lost, crossed: m.crossed, late_acks: m.lateAcks, not_once: m.notOnce, max_ack_ms: m.maxAckMs },
      },
    });
    rows.push(infoRow(`${label}: reply p50`, median(b.latencies), median(m.latencies), 'ms'));
    rows.push(infoRow(`${label}: reply p99`, percentile(b.latencies, 99), percentile(m.latencies, 99), 'ms'));
    rows.push(infoRow(`${label}: max ack`, b.maxAckMs, m.maxAckMs, 'ms'));
    if (kind === 'approvals') rows.push(infoRow(`${label}: click -> tool start p99`, percentile(b.clickToTool, 99), percentile(m.clickToTool, 99), 'ms'));
  }
  return rows;
}
