/**
 * Where a turn's time goes: runs sequential auto turns (3 tool calls each) of one system, for
 * `node --cpu-prof` (or --heap-prof). Not part of `npm run bench`; see bench/README.md.
 *
 *   node --import tsx --cpu-prof --cpu-prof-dir=/tmp/prof bench/profile-turn.ts [mithai|baseline] [turns]
 *   node bench/lib/summarise-profile.mjs /tmp/prof/*.cpuprofile
 */
import { autoTurn } from './figures/turn.ts';
import { sleep } from './lib/stats.ts';
import { inProcessBaseline, inProcessMithai } from './systems/in-process.ts';
import { withSystem } from './systems/types.ts';

const which = process.argv[2] === 'baseline' ? inProcessBaseline() : inProcessMithai();
const turns = Number(process.argv[3] ?? 200);
await withSystem(which, async (_system, fakes) => {
  for (let i = 0; i < 20; i++) {
    await autoTurn(fakes, `svc-${1000 + i}`);
    await sleep(25);
  }
  const latencies: number[] = [];
  for (let i = 0; i < turns; i++) {
    latencies.push(await autoTurn(fakes, `svc-${i}`));
    await sleep(25);
  }
  latencies.sort((a, b) => a - b);
  process.stdout.write(`${which.name}: ${turns} turns, p50 ${latencies[Math.floor(turns / 2)]!.toFixed(1)} ms, p99 ${latencies[Math.floor(turns * 0.99)]!.toFixed(1)} ms\n`);
});
