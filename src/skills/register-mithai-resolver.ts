/**
 * Installs the module resolve hook that lets skills in any folder `import … from 'mithai'`
 * (and `'mithai/testing'`) and get this running runtime, with no build step and no
 * node_modules in the skill's project. See mithai-resolve-hook.mjs for what the hook does.
 *
 * TypeScript itself is compiled by tsx, which every mithai process registers before it loads
 * skills (bin/mithai.js, `node --import tsx` in tests); the hook only decides where imports go.
 */
import { register } from 'node:module';

/** Query parameter marking a skill module URL; must match mithai-resolve-hook.mjs. */
const SKILL_MODULE_MARKER = 'mithai-skill';

/**
 * A process-wide flag rather than a module variable: if this module is ever evaluated twice
 * (two URLs for the same file), the hook must still be registered only once.
 */
const REGISTERED = Symbol.for('mithai.resolverRegistered');

/**
 * Register the `mithai` resolve hook in this process. Safe to call any number of times;
 * only the first call registers.
 */
export function registerMithaiResolver(): void {
  const flags = globalThis as unknown as Record<symbol, boolean | undefined>;
  if (flags[REGISTERED]) return;
  const entries: Record<string, string> = {
    mithai: new URL('../index.ts', import.meta.url).href,
    'mithai/testing': new URL('../testing/index.ts', import.meta.url).href,
  };
  register(new URL('./mithai-resolve-hook.mjs', import.meta.url), { data: { entries } });
  flags[REGISTERED] = true;
}

/**
 * The URL to `import()` a skill module by: its file URL with the marker that makes the hook
 * load it, and the files it imports relatively, as ES modules.
 */
export function skillModuleUrl(fileUrl: URL): string {
  const url = new URL(fileUrl.href);
  url.searchParams.set(SKILL_MODULE_MARKER, '');
  return url.href;
}
