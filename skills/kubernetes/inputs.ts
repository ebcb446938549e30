/**
 * The input of every tool: structured fields, never free-form kubectl arguments. Strict objects,
 * so an extra key (`kubeconfig`, `server`, `all_namespaces`) is refused rather than ignored;
 * every string field has a pattern (validators.ts) and every kind is an enum (kinds.ts).
 */
import { z, type ToolContext } from 'mithai';
import { parseConfig, type KubernetesConfig } from './config.ts';
import { DESCRIBE_KINDS, GET_KINDS, NAMESPACED_KINDS, ROLLOUT_KINDS, SCALE_KINDS } from './kinds.ts';
import { containerName, contextName, duration, imageReference, labelSelector, namespaceName, resourceName } from './validators.ts';

/** Absolute upper bounds; `logs_max_lines` and `max_replicas` in the config bound them further. */
export const LOG_LINES_LIMIT = 1000;
export const REPLICAS_LIMIT = 10_000;

const context = contextName().optional();
const namespace = namespaceName();

export const ListContextsInput = z.strictObject({});

export const GetInput = z.strictObject({
  context,
  namespace: namespace.optional().describe('namespace; required except for kind nodes'),
  kind: z.enum(GET_KINDS),
  name: resourceName('one object by name; omit to list').optional(),
  selector: labelSelector().optional(),
});

export const DescribeInput = z.strictObject({
  context,
  namespace: namespace.optional().describe('namespace; required except for kind nodes'),
  kind: z.enum(DESCRIBE_KINDS),
  name: resourceName('the object to describe (or give a selector)').optional(),
  selector: labelSelector().optional(),
});

export const LogsInput = z.strictObject({
  context,
  namespace,
  pod: resourceName('pod name'),
  container: containerName('container, when the pod has several').optional(),
  lines: z.number().int().min(1).max(LOG_LINES_LIMIT).optional().describe('how many of the last lines (default and cap: logs_max_lines, 200 unless configured)'),
  since: duration('only lines newer than this, e.g. 15m').optional(),
  previous: z.boolean().optional().describe('logs of the previous (crashed) container instance'),
});

export const TopInput = z.strictObject({
  context,
  kind: z.enum(['pods', 'nodes']),
  namespace: namespace.optional().describe('namespace; required for pods'),
  name: resourceName('one pod or node by name').optional(),
  selector: labelSelector().optional(),
});

export const EventsInput = z.strictObject({
  context,
  namespace,
  kind: z.enum(NAMESPACED_KINDS).optional().describe('with name: only events about this object'),
  name: resourceName('with kind: only events about this object').optional(),
});

const workload = (kinds: typeof ROLLOUT_KINDS | typeof SCALE_KINDS) => ({
  context,
  namespace,
  kind: z.enum(kinds),
  name: resourceName('name of the workload'),
});

export const RolloutStatusInput = z.strictObject(workload(ROLLOUT_KINDS));

export const RolloutRestartInput = z.strictObject(workload(ROLLOUT_KINDS));

export const ScaleInput = z.strictObject({
  ...workload(SCALE_KINDS),
  replicas: z.number().int().min(0).max(REPLICAS_LIMIT).describe('desired replicas (at most max_replicas, 100 unless configured)'),
});

export const SetImageInput = z.strictObject({
  ...workload(ROLLOUT_KINDS),
  container: containerName('the container whose image changes'),
  image: imageReference(),
});

export const NodeInput = z.strictObject({
  context,
  node: resourceName('node name'),
});

export const DrainInput = z.strictObject({
  context,
  node: resourceName('node name'),
  delete_emptydir_data: z.boolean().optional().describe('also evict pods using emptyDir volumes (their data is lost); default false'),
});

export const DeleteInput = z.strictObject({
  context,
  namespace,
  kind: z.enum(NAMESPACED_KINDS),
  name: resourceName('the object to delete'),
});

/** Parse `input` with `schema` again (a handler can be called directly, without the runtime's check). */
export function checkInput<T>(schema: z.ZodType<T>, input: unknown): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw new Error(`invalid input: ${result.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(input)'}: ${i.message}`).join('; ')}`);
}

/**
 * Where every operation starts: its input checked again and the config validated.
 * @throws Error for bad input, KubernetesConfigError for a bad config block.
 */
export function begin<T>(schema: z.ZodType<T>, raw: unknown, ctx: Pick<ToolContext, 'config'>): { input: T; config: KubernetesConfig } {
  return { input: checkInput(schema, raw), config: parseConfig(ctx.config) };
}
