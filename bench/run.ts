/**
 * `npm run bench [-- --quick] [-- --hog | --no-hog] [-- --only=turn,approval,…] [-- --baseline-create]`
 *
 * mithai measured side by side with a bare Bolt + SDK loop (bench/baseline/), both against the
 * local Slack and Anthropic fakes, interleaved in one run. Prints a table (figure, target,
 * baseline, mithai, ratio, pass), writes bench/results.json, and exits 1 when a target is
 * missed. How each figure is measured, and why that is fair: bench/README.md.
 *
 * Figure groups (--only): micro, turn, approval, concurrency, process (start-up, idle RSS and
 * RSS with state). The default run includes a concurrency round with a CPU hog on every core;
 * --quick leaves it out unless --hog is given, --no-hog always does.
 */
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { approvalFigure } from './figures/approval.ts';
import { concurrencyFigure } from './figures/concurrency.ts';
import { microFigures } from './figures/micro.ts';
import { loadedBaselineRss, loadedRss } from './figures/rss-loaded.ts';
import { slackClickFigures } from './figures/slack-click.ts';
import { startupFigure } from './figures/startup.ts';
import { turnFigure } from './figures/turn.ts';
import { infoRow, printTable, writeResults } from './lib/report.ts';
import type { Row } from './lib/report.ts';
import { progress } from './lib/rounds.ts';
import { inProcessBaseline, inProcessMithai } from './systems/in-process.ts';

const GROUPS = ['micro', 'turn', 'approval', 'concurrency', 'process'] as const;
type Group = (typeof GROUPS)[number];

const USAGE = `usage: npm run bench [-- --quick] [-- --hog | --no-hog] [-- --only=${GROUPS.join(',')}] [-- --baseline-create] [-- --out=FILE]
  --quick            fewer rounds, no CPU-hog round (unless --hog)
  --hog / --no-hog   run (or skip) the concurrency round with a CPU hog on every core
  --only=GROUPS      comma-separated figure groups (default: all)
  --baseline-create  the bare loop uses messages.create instead of messages.stream
  --out=FILE         where to write the results (default bench/results.json)
How each figure is measured: bench/README.md`;

function parseOptions() {
  try {
    return parseArgs({
      options: {
        quick: { type: 'boolean', default: false },
        hog: { type: 'boolean' },
        'no-hog': { type: 'boolean', default: false },
        only: { type: 'string' },
        'baseline-create': { type: 'boolean', default: false },
        out: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`bench: ${err instanceof Error ? err.message : String(err)}\n${USAGE}\n`);
    process.exit(2);
  }
}
const values = parseOptions();
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const quick = values.quick === true;
const hogRound = values['no-hog'] ? false : values.hog === true || !quick;
const only = new Set<Group>((values.only?.split(',').map((s) => s.trim()).filter(Boolean) ?? GROUPS) as Group[]);
for (const g of only) {
  if (!GROUPS.includes(g)) {
    process.stderr.write(`bench: --only: unknown figure group ${g} (known: ${GROUPS.join(', ')})\n`);
    process.exit(2);
  }
}
const transport = values['baseline-create'] ? 'create' : 'stream';
const out = values.out ?? fileURLToPath(new URL('./results.json', import.meta.url));

const plan = quick
  ? {
    microScale: 0.3,
    slackClick: false,
    turn: { rounds: 2, warmupRounds: 1, turns: 15, warmupTurns: 3 },
    approval: { rounds: 1, warmupRounds: 0, approvals: 10, warmupApprovals: 2 },
    concurrency: { threads: 50, approvals: 50, clickSpreadMs: 2000, deadlineMs: 60_000 },
    startup: { rounds: 2, warmupRounds: 1, settleMs: 1000 },
    loaded: { sessions: 200, messagesPerSession: 20, approvals: 100, settleMs: 1000 },
  }
  : {
    microScale: 1,
    slackClick: true,
    turn: { rounds: 4, warmupRounds: 1, turns: 40, warmupTurns: 5 },
    approval: { rounds: 3, warmupRounds: 1, approvals: 40, warmupApprovals: 3 },
    concurrency: { threads: 200, approvals: 200, clickSpreadMs: 2000, deadlineMs: 120_000 },
    startup: { rounds: 5, warmupRounds: 1, settleMs: 2000 },
    loaded: { sessions: 1000, messagesPerSession: 20, approvals: 500, settleMs: 2000 },
  };

const systems = [inProcessBaseline(transport), inProcessMithai()] as const;
const rows: Row[] = [];
const startedAt = new Date();
const loadBefore = loadavg();
const t0 = performance.now();
progress(`${quick ? 'quick' : 'full'} run on ${availableParallelism()} cores, load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')}; baseline transport: ${transport}`);

async function figure(name: string, fn: () => Promise<Row[]> | Row[]): Promise<void> {
  try {
    rows.push(...(await fn()));
  } catch (err) {
    progress(`${name} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    rows.push({ name: `${name}: did not complete`, target: 'completes', measured: Number.NaN, pass: false, baseline: '-', mithai: err instanceof Error ? err.message.slice(0, 60) : 'error' });
  }
}

if (only.has('micro')) {
  await figure('micro', () => microFigures(plan.microScale));
  if (plan.slackClick) await figure('slack click', () => slackClickFigures());
}
if (only.has('turn')) await figure('turn', () => turnFigure(systems, plan.turn));
if (only.has('approval')) await figure('approval', () => approvalFigure(systems, plan.approval));
if (only.has('concurrency')) {
  await figure('concurrency', () => concurrencyFigure(systems, { ...plan.concurrency, hog: false }));
  if (hogRound) await figure('concurrency (hog)', () => concurrencyFigure(systems, { ...plan.concurrency, hog: true }));
}
if (only.has('process')) {
  let baselineIdle: number | undefined;
  await figure('start-up', async () => {
    const r = await startupFigure({ ...plan.startup, baselineTransport: transport });
    const idle = r.find((x) => x.name.startsWith('RSS idle'));
    baselineIdle = typeof idle?.baseline === 'number' ? idle.baseline : undefined;
    return r;
  });
  await figure('RSS with state', async () => {
    const l = plan.loaded;
    const bare = await loadedBaselineRss(l, transport);
    const { rssMb, cards } = await loadedRss(l);
    const ratio = baselineIdle === undefined ? Number.NaN : rssMb / baselineIdle;
    return [
      {
        name: `RSS with ${l.sessions} sessions x ${l.messagesPerSession} msgs + ${l.approvals} pending approvals`,
        target: '<= 1.50x baseline idle',
        measured: ratio,
        pass: ratio <= 1.5 && cards === l.approvals,
        baseline: baselineIdle ?? '-',
        mithai: rssMb,
        unit: 'MB',
        ratio,
        extra: { cards_posted: cards, note: 'baseline column: the bare loop idle, from the start-up figure' },
      },
      infoRow(`RSS with ${l.approvals} pending approvals, both loaded`, bare.rssMb, rssMb, 'MB', { cards_posted: { baseline: bare.cards, mithai: cards }, note: 'the bare loop has no state to seed; mithai also holds the seeded sessions' }),
    ];
  });
}

const seconds = (performance.now() - t0) / 1000;
const loadAfter = loadavg();
printTable(rows);
const failed = rows.filter((r) => !r.pass);
process.stdout.write(`\n${rows.length} figures, ${failed.length} missed; ${seconds.toFixed(0)} s; load average before ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after ${loadAfter.map((l) => l.toFixed(2)).join(' ')}\n`);
writeResults(out, rows, {
  started_at: startedAt.toISOString(),
  quick,
  hog_round: hogRound && only.has('concurrency'),
  baseline_transport: transport,
  node: process.version,
  cores: availableParallelism(),
  load_average_before: loadBefore,
  load_average_after: loadAfter,
  seconds: Math.round(seconds),
});
process.stdout.write(`wrote ${out}\n`);
process.exitCode = failed.length > 0 ? 1 : 0;
