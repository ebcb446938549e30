// Module resolve hook, registered by register-mithai-resolver.ts through `module.register()`.
//
// Plain JavaScript on purpose: Node runs customization hooks in a separate loader thread, and
// tsx's TypeScript support is not active there (verified: a .ts hook fails with a SyntaxError).
//
// It does two things:
// 1. `import … from 'mithai'` and `'mithai/testing'` resolve to the running runtime's own
//    entry files, from any folder, so a scaffolded project needs no node_modules and every
//    skill shares the runtime's single copy of zod.
// 2. Skill modules are always ES modules. The loader imports each tools.ts/tools.js with the
//    `?mithai-skill` marker; the marked module, and every file it imports by a relative path,
//    is loaded as ESM even in a folder without `"type": "module"`. Without this, Node (and
//    tsx) treat such files as CommonJS, and `export default defineSkill(…)` fails with
//    ERR_REQUIRE_CYCLE_MODULE or a resolution error for 'mithai'.

/** Query parameter that marks a skill module URL. Keep in sync with register-mithai-resolver.ts. */
const MARKER = 'mithai-skill';
/** Extensions forced to ESM inside a skill; .cjs/.cts keep their CommonJS meaning. */
const ESM_CAPABLE = /\.(?:[cm]?)(?:js|ts)x?$/;
const COMMONJS_EXT = /\.c[jt]s$/;

/** @type {Record<string, string>} specifier → file URL of the runtime entry. */
let entries = {};

/**
 * Receives the entry URLs from `register(…, { data })`.
 * @param {{ entries: Record<string, string> }} data
 */
export async function initialize(data) {
  entries = { ...data.entries };
}

/** @param {string | undefined} url */
function isMarked(url) {
  if (!url || !url.startsWith('file:')) return false;
  try {
    return new URL(url).searchParams.has(MARKER);
  } catch {
    return false;
  }
}

/** @param {string} specifier */
function isRelative(specifier) {
  return specifier.startsWith('./') || specifier.startsWith('../');
}

/**
 * @param {string} specifier
 * @param {{ parentURL?: string; conditions: string[]; importAttributes: Record<string, string> }} context
 * @param {(specifier: string, context?: object) => Promise<{ url: string; format?: string | null; shortCircuit?: boolean }>} nextResolve
 */
export async function resolve(specifier, context, nextResolve) {
  const entry = Object.hasOwn(entries, specifier) ? entries[specifier] : undefined;
  // Hand the entry's absolute URL to the rest of the chain, so tsx still sees (and compiles) it.
  if (entry !== undefined) return nextResolve(entry, context);

  const fromSkillFile = isMarked(context.parentURL) && isRelative(specifier);
  // A relative import of a skill file is handed on as an absolute URL. tsx rewrites the URL of
  // a CommonJS-looking file imported by a *relative* specifier into a virtual "export
  // preparse" URL, which would defeat the ESM switch below; for an absolute URL it does not
  // (the same path the loader's own import of tools.ts takes). Resolution rules (tsx's
  // .js → .ts mapping, index files) still apply.
  const resolved = await nextResolve(fromSkillFile ? new URL(specifier, context.parentURL).href : specifier, context);
  const fromSkill = fromSkillFile || isMarked(resolved.url);
  if (!fromSkill || !resolved.url.startsWith('file:')) return resolved;
  const url = new URL(resolved.url);
  if (!ESM_CAPABLE.test(url.pathname) || COMMONJS_EXT.test(url.pathname)) return resolved;
  // Relative imports inherit the marker, so a skill's helper files are ESM too.
  if (!url.searchParams.has(MARKER)) url.searchParams.set(MARKER, '');
  return { ...resolved, url: url.href, format: 'module' };
}
