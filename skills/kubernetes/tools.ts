/**
 * The built-in `kubernetes` skill: kubectl through argv (no shell), with one allowed context and
 * namespace pinned on every call from `skills.config.kubernetes`, reads at once and every change
 * behind a human.
 *
 * Levels:
 * - `auto`, readOnly: list_contexts, get, describe, logs, top, events, rollout_status.
 * - `dynamic` (resolveHuman → levels.ts): rollout_restart, scale, set_image, cordon, uncordon are
 *   `approve`, and `confirm` in a production context or for scale to 0.
 * - `confirm`, declared (a floor nothing lowers): delete, drain.
 *
 * A `confirm` approver types the resource as kubectl names it: `deployment/api`, `node/worker-3`.
 * Every kubectl tool's runtime limit sits above the largest `timeout_seconds`, so the config's
 * limit is the one that stops kubectl.
 *
 * How a call stays inside its bounds: the input is structured and strict (inputs.ts; patterns in
 * validators.ts, kinds in kinds.ts); the context and namespace must be allowed by the config
 * (target.ts); the argv is built one way and checked against a flag allowlist (argv.ts); kubectl
 * runs with the credential-free child environment, a time limit and an output cap
 * (run-kubectl.ts); the answer is compacted to text within `max_result_chars` (tables.ts, text.ts).
 */
import { defineSkill, defineTool } from 'mithai';
import { TOOL_TIME_LIMIT_SECONDS, parseConfig } from './config.ts';
import {
  DeleteInput, DescribeInput, DrainInput, EventsInput, GetInput, ListContextsInput, LogsInput, NodeInput, RolloutRestartInput,
  RolloutStatusInput, ScaleInput, SetImageInput, TopInput,
} from './inputs.ts';
import { resourceRef } from './kinds.ts';
import { levelFor } from './levels.ts';
import { listContexts } from './list-contexts.ts';
import { describeResource, getResources, listEvents, readLogs, rolloutStatus, topUsage } from './read-tools.ts';
import { cordon, deleteResource, drain, rolloutRestart, scale, setImage, uncordon } from './write-tools.ts';

export default defineSkill({
  tools: {
    // --- Reads: change nothing, run at once. -------------------------------------------------
    list_contexts: defineTool({
      description: 'List the kube contexts and namespaces this agent may use, the default context, and which contexts are production. Runs no kubectl.',
      human: 'auto',
      readOnly: true,
      input: ListContextsInput,
      handle: (_input, ctx) => listContexts(ctx),
    }),
    get: defineTool({
      description: 'List objects of one kind in a namespace (or nodes), or one by name, as a compact table (pods: ready/status/restarts/age/node; deployments: ready/up-to-date/available/images; …). Secrets cannot be read.',
      human: 'auto',
      readOnly: true,
      input: GetInput,
      timeoutSeconds: TOOL_TIME_LIMIT_SECONDS,
      handle: getResources,
    }),
    describe: defineTool({
      description: 'kubectl describe one object (by name or selector): its spec, status, conditions and recent events, as text.',
      human: 'auto',
      readOnly: true,
      // Annotations, env values, condition messages and events are written by workloads.
      untrustedOutput: true,
      input: DescribeInput,
      timeoutSeconds: TOOL_TIME_LIMIT_SECONDS,
      handle: describeResource,
    }),
    logs: defineTool({
      description: 'The last lines of a pod container\'s log (default and cap 200 lines unless configured), optionally since a duration or of the previous (crashed) instance.',
      human: 'auto',
      readOnly: true,
      // Log lines are whatever the workload printed.
      untrustedOutput: true,
      input: LogsInput,
      timeoutSeconds: TOOL_TIME_LIMIT_SECONDS,
      handle: readLogs,
    }),
    top: defineTool({
      description: 'CPU and memory use of pods in a namespace, or of nodes (needs metrics-server).',
      human: 'auto',
      readOnly: true,
      input: TopInput,
      timeoutSeconds: TOOL_TIME_LIMIT_SECONDS,
      handle: topUsage,
    }),
    events: defineTool({
      description: 'The most recent events of a namespace, optionally only those about one object (kind and name).',
      human: 'auto',
      readOnly: true,
      // Event messages carry text from controllers and, through them, from workloads.
      untrustedOutput: true,
      input: EventsInput,
      timeoutSeconds: TOOL_TIME_LIMIT_SECONDS,
      handle: listEvents,
    }),
    rollout_status: defineTool({
      description: 'Whether a deployment, statefulset or daemonset has finished rolling out (one look, does not wait).',
      human: 'auto',
      readOnly: true,
      input: RolloutStatusInput,
      timeoutSeconds: TOOL_TIME_LIMIT_SECONDS,
      handle: rolloutStatus,
    }),

    // --- Changes: approve, or confirm in production (resolveHuman below). --------------------
    rollout_restart: defineTool({
      description: 'Rolling restart of a deployment, statefulset or daemonset. Waits for a human to approve (to type the resource name in production).',
      human: 'dynamic',
      input: RolloutRestartInput,
      timeoutSeconds: TOOL_TIME_LIMIT_SECONDS,
      confirmPhrase: (i) => resourceRef(i.kind, i.name),
      handle: rolloutRestart,
    }),
    scale: defineTool({
      description: 'Set the replicas of a deployment or statefulset. Waits for a human to approve; scaling to 0 or in production needs the resource name typed.',
      human: 'dynamic',
      input: ScaleInput,
      timeoutSeconds: TOOL_TIME_LIMIT_SECONDS,
      confirmPhrase: (i) => resourceRef(i.kind, i.name),
      handle: scale,
    }),
    set_image: defineTool({
      description: 'Change the image of one container of a deployment, statefulset or daemonset (starts a rollout). Waits for a human to approve (to type the resource name in production).',
      human: 'dynamic',
      input: SetImageInput,
      timeoutSeconds: TOOL_TIME_LIMIT_SECONDS,
      confirmPhrase: (i) => resourceRef(i.kind, i.name),
      handle: setImage,
    }),
    cordon: defineTool({
      description: 'Mark a node unschedulable (running pods stay). Waits for a human to approve (to type node/<name> in production).',
      human: 'dynamic',
      input: NodeInput,
      timeoutSeconds: TOOL_TIME_LIMIT_SECONDS,
      confirmPhrase: (i) => resourceRef('nodes', i.node),
      handle: cordon,
    }),
    uncordon: defineTool({
      description: 'Mark a node schedulable again. Waits for a human to approve (to type node/<name> in production).',
      human: 'dynamic',
      input: NodeInput,
      timeoutSeconds: TOOL_TIME_LIMIT_SECONDS,
      confirmPhrase: (i) => resourceRef('nodes', i.node),
      handle: uncordon,
    }),

    // --- Destructive: always a typed confirmation. -------------------------------------------
    drain: defineTool({
      description: 'Cordon a node and evict its pods in every namespace (respects PodDisruptionBudgets, leaves DaemonSet pods, never force-deletes). Waits for a human to type node/<name>.',
      human: 'confirm',
      input: DrainInput,
      timeoutSeconds: TOOL_TIME_LIMIT_SECONDS,
      confirmPhrase: (i) => resourceRef('nodes', i.node),
      handle: drain,
    }),
    delete: defineTool({
      description: 'Delete one named object (never by selector). Irreversible. Waits for a human to type <kind>/<name>, e.g. deployment/api.',
      human: 'confirm',
      input: DeleteInput,
      timeoutSeconds: TOOL_TIME_LIMIT_SECONDS,
      confirmPhrase: (i) => resourceRef(i.kind, i.name),
      handle: deleteResource,
    }),
  },

  // Only the `dynamic` tools reach this. It reads the context (and, for scale, the replicas)
  // from the validated input and answers approve or confirm, never less; see levels.ts.
  resolveHuman: (tool, input, ctx) => levelFor(tool, input, ctx.config),

  // A broken config block is reported at start-up (logged), not first at the first call.
  startup: (ctx) => {
    parseConfig(ctx.config);
  },
});
