/**
 * Where a turn's wall time goes, segment by segment: sequential auto turns (3 tool calls each)
 * of one system, with every event of the turn stamped as the bench sees it (each request the
 * fake Messages API receives, each tool start, each Web API call the fake Slack handles, the
 * ack of the mention's envelope), and the median gap before each event printed in order. Run it
 * for both systems and compare segment by segment. Not part of `npm run bench`; see bench/README.md.
 *
 *   node --import tsx bench/turn-timeline.ts [mithai|baseline] [turns]
 *
 * Events are named `<kind>#<n>` (the n-th of that kind in the turn); `at` is the median time from
 * the mention being sent, `gap` the median time since the event before it in the same turn, and
 * `p95` that gap's 95th percentile (where the slow turns lose their time).
 * `model_fetch` is the system's Messages call reaching `fetch` (the SDK has built the request),
 * `model_headers` its response headers arriving back, `model_request` the fake receiving it.
 *
 * `--events=FILE` also writes every measured event (and `sent`, each turn's start) as
 * `[name, µs]` on the clock `node --cpu-prof` stamps its samples with, so a profile of the same
 * run can be cut to the windows between two events (lib/window-profile.mjs):
 *
 *   node --cpu-prof --cpu-prof-interval=50 --cpu-prof-dir=/tmp/prof --import tsx bench/turn-timeline.ts mithai 150 --events=/tmp/events.json
 *   node bench/lib/window-profile.mjs /tmp/prof/<largest>.cpuprofile /tmp/events.json model_fetch model_request
 */
import { writeFileSync } from 'node:fs';
import { finalTag } from './lib/ops.ts';
import { onSlackCall } from './lib/slack-observer.ts';
import { median, percentile, sleep } from './lib/stats.ts';
import { onToolStart } from './lib/tool-hooks.ts';
import { inProcessBaseline, inProcessMithai } from './systems/in-process.ts';
import { ALICE, CHANNEL, withSystem } from './systems/types.ts';

const WARMUP_TURNS = 20;
const args = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const eventsFile = process.argv.find((a) => a.startsWith('--events='))?.slice('--events='.length);
const which = args[0] === 'baseline' ? inProcessBaseline() : inProcessMithai();
const turns = Number(args[1] ?? 100);
/** performance.now() in ms to the monotonic clock in µs (what --cpu-prof time stamps use). */
const MONOTONIC_OFFSET_US = Number(process.hrtime.bigint()) / 1000 - performance.now() * 1000;
const exported: Array<[string, number]> = [];
const gaps = new Map<string, number[]>();
const ats = new Map<string, number[]>();
const push = (m: Map<string, number[]>, key: string, value: number): void => {
  const list = m.get(key);
  if (list === undefined) m.set(key, [value]);
  else list.push(value);
};

let events: Array<[string, number]> = [];
// Both systems call the Messages API through the global fetch (the SDK's default).
const realFetch = globalThis.fetch;
globalThis.fetch = (async (...params: Parameters<typeof fetch>) => {
  const target = params[0];
  const isModel = String(target instanceof Request ? target.url : target).includes('/v1/messages');
  if (isModel) events.push(['model_fetch', performance.now()]);
  const response = await realFetch(...params);
  if (isModel) events.push(['model_headers', performance.now()]);
  return response;
}) as typeof fetch;

await withSystem(which, async (_system, fakes) => {
  // The fake records each request as it arrives (before it answers): stamp the recording.
  const requests = fakes.model.requests;
  const record = requests.push.bind(requests);
  requests.push = (...items) => {
    events.push(['model_request', performance.now()]);
    return record(...items);
  };
  const unsubscribe = onSlackCall(fakes.slack, (call) => events.push([`slack:${call.method}`, performance.now()]));
  const stopTools = onToolStart((start) => events.push(['tool_start', start.at]));
  try {
    for (let i = 0; i < WARMUP_TURNS + turns; i++) {
      events = [];
      const tag = `svc-${i}`;
      const started = performance.now();
      const sent = await fakes.slack.mention({ user: ALICE, channel: CHANNEL, text: `check ${tag}` });
      events.push(['mention_acked', performance.now()]);
      await fakes.observer.waitFor(sent.ts, (p) => finalTag(p.text) === tag, 30_000);
      await sleep(25); // the turn's background calls land here, as in the turn figure
      if (i < WARMUP_TURNS) continue;
      const seen = new Map<string, number>();
      let previous = started;
      exported.push(['sent', started * 1000 + MONOTONIC_OFFSET_US]);
      for (const [kind, at] of events.sort((a, b) => a[1] - b[1])) {
        const n = (seen.get(kind) ?? 0) + 1;
        seen.set(kind, n);
        push(gaps, `${kind}#${n}`, at - previous);
        push(ats, `${kind}#${n}`, at - started);
        exported.push([`${kind}#${n}`, at * 1000 + MONOTONIC_OFFSET_US]);
        previous = at;
      }
    }
  } finally {
    requests.push = record;
    unsubscribe();
    stopTools();
    globalThis.fetch = realFetch;
  }
});
if (eventsFile !== undefined) writeFileSync(eventsFile, JSON.stringify(exported));

const rows = [...ats.entries()].sort((a, b) => median(a[1]) - median(b[1]));
process.stdout.write(`${which.name}: ${turns} turns (after ${WARMUP_TURNS} warm-up), medians (and p95 of each gap) in ms\n`);
for (const [event, at] of rows) {
  const gap = gaps.get(event)!;
  process.stdout.write(`  ${event.padEnd(28)} at ${median(at).toFixed(2).padStart(6)}  gap ${median(gap).toFixed(2).padStart(6)}  p95 ${percentile(gap, 95).toFixed(2).padStart(6)}  (${at.length} turns)\n`);
}
