/**
 * Strict shapes for every value the model can put into a kubectl argv: resource and node
 * names, namespaces, container names, label selectors, image references, durations.
 *
 * Each is an ASCII-only regular expression anchored at both ends, so nothing that starts with
 * `-`, holds a space, a `;`, a `=` where none belongs, or a Unicode look-alike can pass. The
 * zod fields below carry the same patterns, so the model sees them in the tool's JSON Schema and
 * a bad value is refused before the policy, the approval and the handler.
 */
import { z } from 'mithai';

/** One DNS-1123 label: lowercase letters, digits and `-`, starting and ending alphanumeric. */
const LABEL = '[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?';

/** A DNS-1123 label (at most 63 characters): namespaces, container names. */
export const DNS_LABEL = new RegExp(`^${LABEL}$`);

/** A DNS-1123 subdomain (at most 253 characters): names of pods, deployments, nodes, … */
export const DNS_SUBDOMAIN = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);

/**
 * A kube context name as kubeconfig files spell them (`prod`, `gke_proj_zone_name`,
 * `arn:aws:eks:eu-west-1:123:cluster/prod`). Only ever compared with the configured list; the
 * pattern just keeps option-looking and blank strings out of config and input alike.
 */
export const CONTEXT_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,252}$/;

/** Name part of a label key or a label value: alphanumerics, `-`, `_`, `.`, at most 63. */
const LABEL_NAME = '[A-Za-z0-9](?:[-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?';
/** A label key: an optional DNS subdomain prefix and `/`, then a name. */
const LABEL_KEY = `(?:${LABEL}(?:\\.${LABEL})*/)?${LABEL_NAME}`;
/** One requirement: `key`, `!key`, `key=value`, `key==value`, `key!=value` (value may be empty). */
const REQUIREMENT = `(?:!${LABEL_KEY}|${LABEL_KEY}(?:(?:==|!=|=)(?:${LABEL_NAME})?)?)`;

/**
 * A label selector, the equality-based subset of the grammar: requirements joined by `,`,
 * without spaces (`app=web,tier!=db,!legacy`). Set-based forms (`in (…)`) are not accepted.
 */
export const LABEL_SELECTOR = new RegExp(`^${REQUIREMENT}(?:,${REQUIREMENT})*$`);

/** One registry host component. */
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
/** A registry host with an optional port (`registry.example.com:5000`). */
const DOMAIN = `${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*(?::[0-9]{1,5})?`;
/** One repository path component (`library`, `my_app`, `web-api`). */
const PATH_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const TAG = '[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}';
const DIGEST = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,128}';

/**
 * A container image reference, after the distribution reference grammar:
 * `[registry[:port]/]path[:tag][@digest]` (`nginx:1.27`, `ghcr.io/acme/api@sha256:…`).
 */
export const IMAGE_REFERENCE = new RegExp(`^(?:${DOMAIN}/)?${PATH_COMPONENT}(?:/${PATH_COMPONENT})*(?::${TAG})?(?:@${DIGEST})?$`);

/** A `--since` duration: a whole number of seconds, minutes or hours (`30s`, `15m`, `2h`). */
export const DURATION = /^[1-9][0-9]{0,3}[smh]$/;

/** The zod field for a resource name (pod, deployment, …). */
export const resourceName = (what: string): z.ZodString =>
  z.string().max(253).regex(DNS_SUBDOMAIN, 'expected a DNS-1123 name (lowercase letters, digits, - and .)').describe(what);

/** The zod field for a namespace. */
export const namespaceName = (): z.ZodString =>
  z.string().max(63).regex(DNS_LABEL, 'expected a namespace name (lowercase letters, digits and -)').describe('namespace; one of the allowed namespaces (see list_contexts)');

/** The zod field for a container name. */
export const containerName = (what: string): z.ZodString =>
  z.string().max(63).regex(DNS_LABEL, 'expected a container name (lowercase letters, digits and -)').describe(what);

/** The zod field for a kube context. */
export const contextName = (): z.ZodString =>
  z.string().max(253).regex(CONTEXT_NAME, 'expected a kube context name').describe('kube context; one of the allowed contexts (see list_contexts). Omit for the default context');

/** The zod field for a label selector. */
export const labelSelector = (): z.ZodString =>
  z.string().max(1024).regex(LABEL_SELECTOR, 'expected an equality-based label selector such as app=web,tier!=db (no spaces, no set-based forms)').describe('label selector, e.g. app=web,tier!=db');

/** The repository part of an image reference (no tag, no digest), as the 255-character limit counts it. */
export function imageName(reference: string): string {
  const withoutDigest = reference.split('@')[0]!;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  return colon < 0 ? withoutDigest : withoutDigest.slice(0, colon);
}

/** The zod field for a container image reference (a name of at most 255 characters). */
export const imageReference = () =>
  z
    .string()
    .max(512)
    .regex(IMAGE_REFERENCE, 'expected an image reference such as registry.example.com/team/app:1.2.3')
    .refine((reference) => imageName(reference).length <= 255, 'image name longer than 255 characters')
    .describe('image reference, e.g. ghcr.io/acme/api:1.4.2 or …@sha256:<digest>');

/** The zod field for a duration. */
export const duration = (what: string): z.ZodString =>
  z.string().regex(DURATION, 'expected a duration such as 30s, 15m or 2h').describe(what);
