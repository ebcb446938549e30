/**
 * The public API of `mithai`: what a skill's tools.ts imports. Everything else in the
 * package is internal and may change without notice.
 *
 * Skills import this module by name from any folder; the runtime's resolver points
 * `'mithai'` at this file, so a project needs no node_modules of its own and every skill
 * shares the runtime's copy of zod.
 *
 * ```ts
 * import { defineSkill, z } from 'mithai';
 *
 * export default defineSkill({
 *   tools: {
 *     get_pods: {
 *       description: 'List pods in a namespace',
 *       human: 'auto',      // runs at once; only for tools that change nothing
 *       readOnly: true,
 *       input: z.object({ namespace: z.string() }),
 *       handle: async ({ namespace }, ctx) => ({ namespace, pods: [] }),
 *     },
 *     delete_namespace: {
 *       description: 'Delete a namespace. Irreversible.',
 *       human: 'confirm',   // the approver types the phrase below
 *       input: z.object({ name: z.string() }),
 *       confirmPhrase: (input) => input.name,
 *       handle: async ({ name }, ctx) => `deleted ${name}`,
 *     },
 *   },
 * });
 * ```
 *
 * Unit-test handlers with `createTestToolContext` from `mithai/testing`.
 */
export { defineSkill, defineTool } from './skills/define-skill.ts';
export { z } from 'zod';
export type { Level } from './config/schema.ts';
export type {
  DeclaredHuman,
  ResolveHuman,
  SkillMemory,
  SkillSpec,
  SkillState,
  StartupContext,
  ToolContext,
  ToolSpec,
} from './skills/types.ts';

// Building blocks for skills that run programs (used by the built-in shell and kubernetes skills).
export { runArgv, SpawnError, KILL_GRACE_MS } from './skills/run-argv.ts';
export type { CappedOutput, RunArgvOptions, RunArgvResult } from './skills/run-argv.ts';
export { childEnv } from './skills/child-env.ts';
