/**
 * The work both systems are given: the same four trivial tools (three `auto`, one that needs an
 * approval) and the same tool results. A turn's text names a service tag (`svc-17`); the
 * scripted model (./model-script.ts) carries it into every tool call and into its final reply
 * (`finished svc-17`), so a reply that lands in another thread, or a tool call for another
 * turn, is seen.
 */

export interface OpsTool {
  name: 'status' | 'uptime' | 'disk' | 'restart';
  description: string;
  human: 'auto' | 'approve';
}

export const OPS_TOOLS: readonly OpsTool[] = [
  { name: 'status', description: 'Show the status of a service', human: 'auto' },
  { name: 'uptime', description: 'Show how long a service has been up', human: 'auto' },
  { name: 'disk', description: 'Show the disk usage of a service', human: 'auto' },
  { name: 'restart', description: 'Restart a service', human: 'approve' },
];

/** The auto tools an auto turn calls, in order. */
export const AUTO_SEQUENCE = ['status', 'uptime', 'disk'] as const;

/** The JSON schema of every tool's input (the baseline sends it as is; mithai derives it from zod). */
export const SERVICE_SCHEMA = {
  type: 'object',
  properties: { service: { type: 'string' } },
  required: ['service'],
  additionalProperties: false,
} as const;

/** What a tool answers. The mithai skill builds the same string (see mithai-project.ts). */
export function toolResultText(tool: string, service: string): string {
  return `${tool} of ${service}: ok (3 of 3 instances healthy)`;
}

/** The system prompt persona both systems use (mithai adds its own parts around it). */
export const BOT_NAME = 'testbot';
export const PERSONA = 'You are a helpful operations assistant for an SRE team.';

/** The service tag a text names. */
export function tagOf(text: string): string | undefined {
  return /svc-\d+/.exec(text)?.[0];
}

/** The service tag of a final reply (`finished svc-17` → `svc-17`), or undefined for any other post. */
export function finalTag(text: string): string | undefined {
  return /finished (svc-\d+)/.exec(text)?.[1];
}
