/**
 * The resource kinds the skill knows, and which tool may touch which. A kind outside these
 * lists cannot be named at all: tool inputs take a `z.enum` of them.
 *
 * `secrets` is absent on purpose: `get -o json` and `describe` would hand secret values (or
 * their sizes and keys) to the model. `configmaps` can be listed (names and key counts only,
 * never values) but not described, since `describe` prints their data.
 */

/** What the skill needs to know about one kind. */
export interface KindInfo {
  /** The plural resource name kubectl takes (`deployments`). */
  readonly resource: string;
  /** The singular, as in `deployment/api`: used in kubectl's TYPE/NAME form and the confirm phrase. */
  readonly singular: string;
  /** The API kind (`Deployment`), as events name the object they are about. */
  readonly apiKind: string;
  /** False for cluster-scoped kinds (nodes), which take no namespace. */
  readonly namespaced: boolean;
}

export const KINDS = {
  pods: { resource: 'pods', singular: 'pod', apiKind: 'Pod', namespaced: true },
  deployments: { resource: 'deployments', singular: 'deployment', apiKind: 'Deployment', namespaced: true },
  statefulsets: { resource: 'statefulsets', singular: 'statefulset', apiKind: 'StatefulSet', namespaced: true },
  daemonsets: { resource: 'daemonsets', singular: 'daemonset', apiKind: 'DaemonSet', namespaced: true },
  replicasets: { resource: 'replicasets', singular: 'replicaset', apiKind: 'ReplicaSet', namespaced: true },
  jobs: { resource: 'jobs', singular: 'job', apiKind: 'Job', namespaced: true },
  cronjobs: { resource: 'cronjobs', singular: 'cronjob', apiKind: 'CronJob', namespaced: true },
  services: { resource: 'services', singular: 'service', apiKind: 'Service', namespaced: true },
  ingresses: { resource: 'ingresses', singular: 'ingress', apiKind: 'Ingress', namespaced: true },
  configmaps: { resource: 'configmaps', singular: 'configmap', apiKind: 'ConfigMap', namespaced: true },
  persistentvolumeclaims: { resource: 'persistentvolumeclaims', singular: 'persistentvolumeclaim', apiKind: 'PersistentVolumeClaim', namespaced: true },
  horizontalpodautoscalers: { resource: 'horizontalpodautoscalers', singular: 'horizontalpodautoscaler', apiKind: 'HorizontalPodAutoscaler', namespaced: true },
  nodes: { resource: 'nodes', singular: 'node', apiKind: 'Node', namespaced: false },
} as const satisfies Record<string, KindInfo>;

export type KindName = keyof typeof KINDS;

/** Kinds `get` lists. */
export const GET_KINDS = [
  'pods', 'deployments', 'statefulsets', 'daemonsets', 'replicasets', 'jobs', 'cronjobs', 'services', 'ingresses',
  'configmaps', 'persistentvolumeclaims', 'horizontalpodautoscalers', 'nodes',
] as const satisfies readonly KindName[];

/** Kinds `describe` shows (not configmaps: describe prints their data). */
export const DESCRIBE_KINDS = [
  'pods', 'deployments', 'statefulsets', 'daemonsets', 'replicasets', 'jobs', 'cronjobs', 'services', 'ingresses',
  'persistentvolumeclaims', 'horizontalpodautoscalers', 'nodes',
] as const satisfies readonly KindName[];

/** Kinds events can be filtered by, and `delete` removes (namespaced only: no nodes). */
export const NAMESPACED_KINDS = [
  'pods', 'deployments', 'statefulsets', 'daemonsets', 'replicasets', 'jobs', 'cronjobs', 'services', 'ingresses',
  'configmaps', 'persistentvolumeclaims', 'horizontalpodautoscalers',
] as const satisfies readonly KindName[];

/** Kinds with a rollout (`rollout status`, `rollout restart`, `set image`). */
export const ROLLOUT_KINDS = ['deployments', 'statefulsets', 'daemonsets'] as const satisfies readonly KindName[];

/** Kinds `scale` changes. */
export const SCALE_KINDS = ['deployments', 'statefulsets'] as const satisfies readonly KindName[];

/** `deployment/api`: kubectl's TYPE/NAME form, and the phrase a confirm approver types. */
export function resourceRef(kind: KindName, name: string): string {
  return `${KINDS[kind].singular}/${name}`;
}
