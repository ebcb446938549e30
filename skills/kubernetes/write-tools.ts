/**
 * The operations that change the cluster. By the time one runs, a human has approved (or typed
 * the confirmation phrase for) exactly this input; each still re-checks the input and the
 * config, and pins the target, before its single kubectl command.
 */
import type { ToolContext } from 'mithai';
import type { Flag, Verb } from './argv.ts';
import type { KubernetesConfig } from './config.ts';
import { DeleteInput, DrainInput, NodeInput, RolloutRestartInput, ScaleInput, SetImageInput, begin } from './inputs.ts';
import { resourceRef } from './kinds.ts';
import { kubectl } from './run-kubectl.ts';
import { RefusedError, clusterTarget, namespacedTarget, targetLabel, type Target } from './target.ts';
import { cleanText, headLines } from './text.ts';

/** `rollout_restart`: a rolling restart of a deployment, statefulset or daemonset. */
export async function rolloutRestart(raw: unknown, ctx: ToolContext): Promise<string> {
  const { input, config } = begin(RolloutRestartInput, raw, ctx);
  return change(config, ctx, 'rollout restart', namespacedTarget(config, input), [], [resourceRef(input.kind, input.name)]);
}

/** `scale`: set the replicas of a deployment or statefulset (at most `max_replicas`). */
export async function scale(raw: unknown, ctx: ToolContext): Promise<string> {
  const { input, config } = begin(ScaleInput, raw, ctx);
  if (input.replicas > config.maxReplicas) throw new RefusedError(`replicas ${input.replicas} is above max_replicas (${config.maxReplicas})`);
  return change(config, ctx, 'scale', namespacedTarget(config, input), [['replicas', input.replicas]], [resourceRef(input.kind, input.name)]);
}

/** `set_image`: change one container's image. */
export async function setImage(raw: unknown, ctx: ToolContext): Promise<string> {
  const { input, config } = begin(SetImageInput, raw, ctx);
  return change(config, ctx, 'set image', namespacedTarget(config, input), [], [resourceRef(input.kind, input.name), `${input.container}=${input.image}`]);
}

/** `cordon`: mark a node unschedulable. */
export async function cordon(raw: unknown, ctx: ToolContext): Promise<string> {
  const { input, config } = begin(NodeInput, raw, ctx);
  return change(config, ctx, 'cordon', clusterTarget(config, input), [], [input.node]);
}

/** `uncordon`: mark a node schedulable again. */
export async function uncordon(raw: unknown, ctx: ToolContext): Promise<string> {
  const { input, config } = begin(NodeInput, raw, ctx);
  return change(config, ctx, 'uncordon', clusterTarget(config, input), [], [input.node]);
}

/**
 * `drain`: cordon a node and evict its pods, in every namespace (eviction respects
 * PodDisruptionBudgets; DaemonSet pods stay; unmanaged pods are never force-deleted).
 */
export async function drain(raw: unknown, ctx: ToolContext): Promise<string> {
  const { input, config } = begin(DrainInput, raw, ctx);
  // kubectl's own deadline a second before ours, so it can say what it did not finish.
  const seconds = Math.max(1, Math.floor(config.timeoutMs / 1000) - 1);
  const flags: Flag[] = [['ignore-daemonsets', true], ['delete-emptydir-data', input.delete_emptydir_data === true], ['timeout', `${seconds}s`]];
  return change(config, ctx, 'drain', clusterTarget(config, input), flags, [input.node]);
}

/** `delete`: delete one named object (never by selector, never `--all`); does not wait for finalizers. */
export async function deleteResource(raw: unknown, ctx: ToolContext): Promise<string> {
  const { input, config } = begin(DeleteInput, raw, ctx);
  return change(config, ctx, 'delete', namespacedTarget(config, input), [['wait', false]], [resourceRef(input.kind, input.name)]);
}

/** Run one change and report kubectl's answer (`deployment.apps/api restarted`), cleaned and capped. */
async function change(config: KubernetesConfig, ctx: ToolContext, verb: Verb, target: Target, flags: readonly Flag[], positionals: readonly string[]): Promise<string> {
  const out = await kubectl(config, ctx, verb, target, flags, positionals);
  const text = cleanText(out.stdout).trim();
  return headLines(`${targetLabel(target)}: ${text === '' ? `kubectl ${verb} finished` : text}`, config.maxResultChars);
}
