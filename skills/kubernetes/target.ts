/**
 * Where a call runs: one allowed context and, for namespaced work, one allowed namespace. Every
 * kubectl argv is built from a {@link Target}, so nothing reaches kubectl without passing here.
 */
import { ANY_NAMESPACE, type KubernetesConfig } from './config.ts';
import { DNS_LABEL } from './validators.ts';

/** The pinned context (and namespace) of one call. */
export interface Target {
  readonly context: string;
  /** Undefined only for cluster-scoped work (nodes). */
  readonly namespace: string | undefined;
  /** True when the context is listed in `production_contexts`. */
  readonly production: boolean;
}

/** A call asked for something the config does not allow. Nothing has run. */
export class RefusedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RefusedError';
  }
}

/**
 * The context a call names, or the default one.
 * @throws RefusedError when it is not in `contexts`, or none was named and there is no default.
 */
export function resolveContext(config: KubernetesConfig, requested: string | undefined): string {
  const context = requested ?? config.defaultContext;
  if (context === undefined) {
    throw new RefusedError(`name a context: there is no default_context; allowed contexts: ${config.contexts.join(', ')}`);
  }
  if (!config.contexts.includes(context)) {
    throw new RefusedError(`context ${quote(context)} is not allowed; allowed contexts: ${config.contexts.join(', ')}`);
  }
  return context;
}

/**
 * The target of namespaced work: an allowed context and a namespace allowed in it.
 * @throws RefusedError for a context or namespace the config does not allow, or no namespace.
 */
export function namespacedTarget(config: KubernetesConfig, requested: { context?: string | undefined; namespace?: string | undefined }): Target {
  const context = resolveContext(config, requested.context);
  const namespace = requested.namespace;
  const allowed = config.namespaces.get(context) ?? [];
  if (namespace === undefined) {
    throw new RefusedError(`name a namespace; allowed in ${context}: ${describeAllowed(allowed)}`);
  }
  // The input schema checked the shape already; checked again here because this is the last
  // step before the value becomes `--namespace=…`.
  const permitted = allowed === ANY_NAMESPACE ? DNS_LABEL.test(namespace) : allowed.includes(namespace);
  if (!permitted) {
    throw new RefusedError(`namespace ${quote(namespace)} is not allowed in ${context}; allowed: ${describeAllowed(allowed)}`);
  }
  return { context, namespace, production: config.productionContexts.has(context) };
}

/** The target of cluster-scoped work (nodes): an allowed context, no namespace. */
export function clusterTarget(config: KubernetesConfig, requested: { context?: string | undefined }): Target {
  const context = resolveContext(config, requested.context);
  return { context, namespace: undefined, production: config.productionContexts.has(context) };
}

/** `staging/api`, or `staging` for cluster-scoped work: how output names where it came from. */
export function targetLabel(target: Target): string {
  return target.namespace === undefined ? target.context : `${target.context}/${target.namespace}`;
}

function describeAllowed(allowed: readonly string[] | typeof ANY_NAMESPACE): string {
  return allowed === ANY_NAMESPACE ? 'any namespace (one per call)' : allowed.length > 0 ? allowed.join(', ') : '(none)';
}

/** A value from the model, JSON-quoted for a message (its length is bounded by the input schema). */
function quote(value: string): string {
  return JSON.stringify(value);
}

/**
 * The target for work on a kind: namespaced, or cluster-scoped (then a namespace is refused,
 * so the model learns that nodes have none instead of believing one was applied).
 */
export function targetFor(config: KubernetesConfig, requested: { context?: string | undefined; namespace?: string | undefined }, namespaced: boolean): Target {
  if (namespaced) return namespacedTarget(config, requested);
  if (requested.namespace !== undefined) throw new RefusedError('nodes are cluster-scoped: omit namespace');
  return clusterTarget(config, requested);
}
