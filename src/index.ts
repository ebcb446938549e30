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

// The memory folder's path rules (what ctx.memory.readFile/writeFile accept), for skills that
// decide a level from a path before writing.
export { isMemoryMd, MemoryPathError, readablePath, writablePath } from './memory/memory-paths.ts';
export type { MemoryPath } from './memory/memory-paths.ts';

// The SSRF guard (used by the built-in http skill): classify addresses, parse allowed_hosts,
// check a URL and the addresses its host resolves to, and GET through the guard with every
// redirect re-checked and the connection pinned to the checked address.
export { classifyAddress } from './security/ip-address-class.ts';
export type { AddressClass, AddressKind } from './security/ip-address-class.ts';
export { allowedHostProblem, compileAllowedHosts, isHostAllowed } from './security/allowed-hosts.ts';
export type { AllowedHosts } from './security/allowed-hosts.ts';
export { checkTarget, checkUrlForm, systemResolver } from './security/ssrf-guard.ts';
export type { CheckedTarget, HostResolver, ResolvedAddress, SsrfPolicy } from './security/ssrf-guard.ts';
export { guardedGet, GUARDED_GET_DEFAULTS, GUARDED_USER_AGENT } from './security/guarded-get.ts';
export type { BodyEnd, GuardedGetOptions, GuardedResponse } from './security/guarded-get.ts';
export { HttpRequestError, SsrfBlockedError } from './security/http-errors.ts';
export type { HopRecord, HttpFailure } from './security/http-errors.ts';
export { certificateDaysLeft } from './security/tls-certificate.ts';
export type { CertificateSummary } from './security/tls-certificate.ts';

// The command guard, program lookup and child environment of the built-in shell skill, for any
// skill that runs a program the model names.
export { ARGV_LIMITS, checkArgument, checkArgv, CommandRefusedError, describeArgument, isCommandRunner, isInterpreter, isPrivilegeOrBuiltin, looksLikeOption, optionName, programName } from './skills/command-guard.ts';
export type { ArgvLimits, GuardRefusal, GuardRule } from './skills/command-guard.ts';
export { resolveProgram, SAFE_SEARCH_PATH } from './skills/program-resolver.ts';
export type { ResolvedProgram, ResolveOptions, ResolveResult } from './skills/program-resolver.ts';
export { commandEnv, isCodeLoadingVariable } from './skills/command-env.ts';
