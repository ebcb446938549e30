/**
 * Interleaved rounds: every figure runs the bare loop and mithai alternately in one process,
 * in ABBA order (baseline, mithai, mithai, baseline, …) so drift in the machine's load
 * (it is shared) falls on both alike. Warm-up rounds run first and are thrown away. The garbage
 * collector runs before each round when available (npm run bench passes --expose-gc), so one
 * system's garbage is not collected on the other's time.
 */
import { collectGarbage } from './stats.ts';
import type { SystemName } from '../systems/types.ts';

export interface RoundOptions {
  /** Measured rounds per system. */
  rounds: number;
  /** Warm-up rounds per system, not kept. */
  warmup: number;
  label: string;
}

/** Progress on stderr, so stdout is only the table. */
export function progress(text: string): void {
  process.stderr.write(`bench: ${text}\n`);
}

/** Run `run` for both systems, interleaved; returns the measured rounds' results per system. */
export async function interleave<S extends { name: SystemName }, T>(systems: readonly [S, S], o: RoundOptions, run: (sut: S, round: number, isWarmup: boolean) => Promise<T>): Promise<Record<SystemName, T[]>> {
  const out: Record<SystemName, T[]> = { baseline: [], mithai: [] };
  const total = o.warmup + o.rounds;
  for (let r = 0; r < total; r++) {
    const isWarmup = r < o.warmup;
    const order = r % 2 === 0 ? [systems[0], systems[1]] : [systems[1], systems[0]];
    for (const sut of order) {
      collectGarbage();
      const started = performance.now();
      const result = await run(sut, r, isWarmup);
      progress(`${o.label}: ${isWarmup ? 'warm-up' : `round ${r - o.warmup + 1}/${o.rounds}`} ${sut.name} ${((performance.now() - started) / 1000).toFixed(1)} s`);
      if (!isWarmup) out[sut.name].push(result);
    }
  }
  return out;
}
