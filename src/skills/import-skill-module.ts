/**
 * Imports one skill module (tools.ts or tools.js) through the `mithai` resolver, with a time
 * limit so a module whose top-level code never finishes cannot hang start-up.
 */
import { pathToFileURL } from 'node:url';
import { SkillError, errorMessage } from '../errors.ts';
import { relocated } from './normalize-skill-module.ts';
import { registerMithaiResolver, skillModuleUrl } from './register-mithai-resolver.ts';

/** How long a module's top-level code may take before the skill is reported as broken. */
export const SKILL_IMPORT_TIMEOUT_MS = 30_000;

/**
 * Import the module at `modulePath` and return its namespace.
 * @throws SkillError carrying `modulePath` when the module cannot be compiled, throws while
 *   it runs (including a defineSkill check), or takes longer than `timeoutMs`.
 */
export async function importSkillModule(modulePath: string, timeoutMs = SKILL_IMPORT_TIMEOUT_MS): Promise<Record<string, unknown>> {
  registerMithaiResolver();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    // Not unref'd: if a module's top-level await never settles, this timer is what keeps the
    // process alive long enough to report it instead of exiting mid-load.
    timer = setTimeout(() => reject(new SkillError(modulePath, `did not finish loading within ${timeoutMs / 1000} s; check its top-level code`)), timeoutMs);
  });
  try {
    const mod: unknown = await Promise.race([import(skillModuleUrl(pathToFileURL(modulePath))), timeout]);
    return mod as Record<string, unknown>;
  } catch (err) {
    const moved = relocated(err, modulePath);
    if (moved instanceof SkillError) throw moved;
    throw new SkillError(modulePath, `failed to load: ${errorMessage(err)}`, { cause: err });
  } finally {
    clearTimeout(timer);
  }
}
