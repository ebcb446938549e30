/**
 * The repository's own project (config.yaml, skills/, memory/MEMORY.md at the root), copied
 * into a temp dir so a test can run it without writing into the checkout's memory/ or .mithai/.
 * Only the config is edited, by the caller (e.g. to point it at the local fakes); `skills` is a
 * symlink to the checkout's skills/, so, as at the root, its built-in folders are recognised as
 * the package's own and load only through `skills.builtin`.
 */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout's root folder. */
export const REPO = fileURLToPath(new URL('../../', import.meta.url));

/** A copy of the root project. */
export interface RootProjectCopy {
  dir: string;
  configPath: string;
}

/**
 * Copy the root project into a temp dir (removed when the test ends).
 * @param editConfig turns the root config.yaml's text into the copy's
 */
export function copyRootProject(t: { after(fn: () => unknown): void }, editConfig: (text: string) => string = (text) => text): RootProjectCopy {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-root-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  symlinkSync(join(REPO, 'skills'), join(dir, 'skills'), 'dir');
  mkdirSync(join(dir, 'memory'));
  cpSync(join(REPO, 'memory', 'MEMORY.md'), join(dir, 'memory', 'MEMORY.md'));
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, editConfig(readFileSync(join(REPO, 'config.yaml'), 'utf8')));
  return { dir, configPath };
}

/** Replace `from` in `text` (exactly once), or fail naming what the root config lacks. */
export function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at === -1 || text.indexOf(from, at + 1) !== -1) throw new Error(`config.yaml should contain ${JSON.stringify(from)} exactly once`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/** The environment of a child that must see only the variables a test gives it. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  for (const name of Object.keys(env)) if (/^(ANTHROPIC|SLACK|MITHAI)_/.test(name)) delete env[name];
  return { ...env, ...extra };
}
