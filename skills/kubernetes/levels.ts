/**
 * The level of a call to a `dynamic` tool, decided from its input (this is the skill's
 * `resolveHuman`):
 *
 * | call                                                            | level     |
 * |-----------------------------------------------------------------|-----------|
 * | rollout_restart, scale, set_image, cordon, uncordon             | `approve` |
 * | …the same in a context listed in `production_contexts`          | `confirm` |
 * | scale to 0 replicas (an outage), in any context                 | `confirm` |
 * | anything it cannot read: unknown tool, bad input, bad config,   | `confirm` |
 * | a context that is not allowed or cannot be resolved             |           |
 *
 * It never answers `auto` or `null`: these tools change the cluster. When in doubt it answers
 * the strongest level rather than the runtime's fail-closed `approve`, because every doubt here
 * (bad config, unknown context) is also a call the handler will refuse. `delete` and `drain`
 * are not here: they declare `confirm`, a floor that neither this function nor
 * `human.overrides` can lower.
 */
import type { Level } from 'mithai';
import { parseConfig } from './config.ts';
import { NodeInput, RolloutRestartInput, ScaleInput, SetImageInput } from './inputs.ts';

/** What the level of one call depends on. */
interface Facts {
  context: string | undefined;
  /** True when the change takes a workload down whatever the context (scale to zero). */
  outage: boolean;
}

/** How to read the facts of each dynamic tool's input; undefined when the input does not parse. */
const FACTS: ReadonlyMap<string, (input: unknown) => Facts | undefined> = new Map([
  ['rollout_restart', (input: unknown) => facts(RolloutRestartInput.safeParse(input))],
  ['scale', (input: unknown) => {
    const parsed = ScaleInput.safeParse(input);
    return parsed.success ? { context: parsed.data.context, outage: parsed.data.replicas === 0 } : undefined;
  }],
  ['set_image', (input: unknown) => facts(SetImageInput.safeParse(input))],
  ['cordon', (input: unknown) => facts(NodeInput.safeParse(input))],
  ['uncordon', (input: unknown) => facts(NodeInput.safeParse(input))],
]);

/** The tools declared `dynamic`, whose level {@link levelFor} decides. */
export const DYNAMIC_TOOLS: readonly string[] = [...FACTS.keys()];

/**
 * The level of calling `tool` with `input` under the skill config `rawConfig` (`ctx.config`).
 * Never throws and never answers below `approve`.
 */
export function levelFor(tool: string, input: unknown, rawConfig: unknown): Level {
  const found = FACTS.get(tool)?.(input);
  if (found === undefined) return 'confirm';
  let config;
  try {
    config = parseConfig(rawConfig);
  } catch {
    return 'confirm';
  }
  const context = found.context ?? config.defaultContext;
  if (context === undefined || !config.contexts.includes(context)) return 'confirm';
  if (config.productionContexts.has(context) || found.outage) return 'confirm';
  return 'approve';
}

function facts(parsed: { success: true; data: { context?: string | undefined } } | { success: false }): Facts | undefined {
  return parsed.success ? { context: parsed.data.context, outage: false } : undefined;
}
