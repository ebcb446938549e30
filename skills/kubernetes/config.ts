/**
 * `skills.config.kubernetes`: which contexts and namespaces the agent may reach, which contexts
 * are production, and the limits of every kubectl run. Validated on every call (and at start-up),
 * so a broken block refuses calls instead of guessing; every error names its key.
 *
 * ```yaml
 * skills:
 *   builtin: [kubernetes]
 *   config:
 *     kubernetes:
 *       contexts: [staging, prod]          # required; anything else is refused
 *       production_contexts: [prod]        # writes here need a typed confirmation
 *       namespaces: [web, api]             # or per context: { staging: ["*"], prod: [api] }
 *       default_context: staging
 * ```
 */
import { z } from 'mithai';
import { CONTEXT_NAME, DNS_LABEL } from './validators.ts';

/** `namespaces: ["*"]`: any namespace name, still pinned one per call (never all namespaces). */
export const ANY_NAMESPACE = '*';

/** Largest `timeout_seconds`. */
export const MAX_TIMEOUT_SECONDS = 600;

/**
 * The runtime's time limit for every kubectl tool: above the largest `timeout_seconds` plus
 * runArgv's kill grace, so the skill's own limit is the one that applies (whatever
 * `agent.tool_timeout_seconds` says) and kubectl is always stopped by it, not abandoned.
 */
export const TOOL_TIME_LIMIT_SECONDS = MAX_TIMEOUT_SECONDS + 10;

/** Where this block lives, for error messages. */
const KEY = 'skills.config.kubernetes';

/** The validated config, in the form the skill uses. */
export interface KubernetesConfig {
  /** The kubectl program: a bare name looked up on the child's PATH, or an absolute path. */
  readonly kubectl: string;
  readonly contexts: readonly string[];
  readonly productionContexts: ReadonlySet<string>;
  /** Namespaces allowed per context; `'*'` means any valid namespace name. */
  readonly namespaces: ReadonlyMap<string, readonly string[] | typeof ANY_NAMESPACE>;
  readonly defaultContext: string | undefined;
  readonly timeoutMs: number;
  /** Bytes of kubectl output read (stdout and stderr each); beyond it a call fails or is cut. */
  readonly maxOutputBytes: number;
  /** Characters of text a tool returns to the model. */
  readonly maxResultChars: number;
  /** Most log lines `logs` returns (and its default). */
  readonly logsMaxLines: number;
  /** Most replicas `scale` sets. */
  readonly maxReplicas: number;
}

/** A config problem; the message names the key (`skills.config.kubernetes.contexts: …`). */
export class KubernetesConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KubernetesConfigError';
  }
}

/** A number, or a string of digits (a `${VAR}` substitution arrives as a string). */
const numberLike = (schema: z.ZodNumber) =>
  z.preprocess((value) => (typeof value === 'string' && /^\s*\d+(?:\.\d+)?\s*$/.test(value) ? Number(value) : value), schema);

const context = z.string().regex(CONTEXT_NAME, 'expected a kube context name');
const namespaceList = z
  .array(z.string().refine((ns) => ns === ANY_NAMESPACE || DNS_LABEL.test(ns), 'expected a namespace name (DNS-1123 label) or "*"'))
  .min(1, 'list at least one namespace, or ["*"] for any')
  .refine((list) => !list.includes(ANY_NAMESPACE) || list.length === 1, '"*" means any namespace and must be the only entry');

const schema = z
  .strictObject({
    kubectl: z
      .string()
      .refine((p) => p.startsWith('/') || /^[A-Za-z0-9_][A-Za-z0-9._+-]*$/.test(p), 'expected a program name looked up on PATH (kubectl) or an absolute path')
      .default('kubectl'),
    contexts: z.array(context, 'required: list the kube contexts the agent may use').min(1, 'list at least one context'),
    production_contexts: z.array(context).default([]),
    namespaces: z.union([namespaceList, z.record(context, namespaceList)], 'required: a list of namespaces, or a map of context to namespaces'),
    default_context: context.optional(),
    timeout_seconds: numberLike(z.number().positive().max(MAX_TIMEOUT_SECONDS)).default(30),
    max_output_bytes: numberLike(z.number().int().min(1024).max(64 * 1024 * 1024)).default(8 * 1024 * 1024),
    max_result_chars: numberLike(z.number().int().min(500).max(200_000)).default(12_000),
    logs_max_lines: numberLike(z.number().int().min(1).max(1000)).default(200),
    max_replicas: numberLike(z.number().int().min(0).max(10_000)).default(100),
  })
  .superRefine((c, issues) => {
    const known = new Set(c.contexts);
    const unknown = (list: readonly string[]) => list.filter((name) => !known.has(name));
    c.production_contexts.forEach((name, i) => {
      if (!known.has(name)) issues.addIssue({ code: 'custom', path: ['production_contexts', i], message: `"${name}" is not in contexts` });
    });
    if (c.default_context !== undefined && !known.has(c.default_context)) {
      issues.addIssue({ code: 'custom', path: ['default_context'], message: `"${c.default_context}" is not in contexts` });
    }
    if (!Array.isArray(c.namespaces)) {
      for (const name of unknown(Object.keys(c.namespaces))) issues.addIssue({ code: 'custom', path: ['namespaces', name], message: `"${name}" is not in contexts` });
      for (const name of c.contexts) {
        if (!Object.hasOwn(c.namespaces, name)) issues.addIssue({ code: 'custom', path: ['namespaces', name], message: 'missing: with a map, every context lists its namespaces' });
      }
    }
  });

/**
 * Validate a `skills.config.kubernetes` block (`ctx.config`).
 * @throws KubernetesConfigError naming every bad key.
 */
export function parseConfig(raw: unknown): KubernetesConfig {
  const result = schema.safeParse(raw ?? {});
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${[KEY, ...issue.path.map(String)].join('.')}: ${issue.message}`);
    throw new KubernetesConfigError(problems.join('; '));
  }
  const c = result.data;
  const namespaces = new Map<string, readonly string[] | typeof ANY_NAMESPACE>();
  for (const name of c.contexts) {
    const list = Array.isArray(c.namespaces) ? c.namespaces : c.namespaces[name]!;
    namespaces.set(name, list.includes(ANY_NAMESPACE) ? ANY_NAMESPACE : [...list]);
  }
  return {
    kubectl: c.kubectl,
    contexts: [...c.contexts],
    productionContexts: new Set(c.production_contexts),
    namespaces,
    defaultContext: c.default_context,
    timeoutMs: Math.round(c.timeout_seconds * 1000),
    maxOutputBytes: c.max_output_bytes,
    maxResultChars: c.max_result_chars,
    logsMaxLines: c.logs_max_lines,
    maxReplicas: c.max_replicas,
  };
}
