// Rewrites the repository's own project files (config.yaml, .env.example, slack-manifest.yaml,
// memory/MEMORY.md, skills/example/) from templates/init/, exactly as `mithai init --yes`
// writes them. The templates are the one source; test/e2e/root-project.test.ts fails when the
// root copies differ and names this script. Run it after changing a template:
//
//   node scripts/sync-root-project.mjs
//
// Files init writes that belong to the product at the root are left alone: tsconfig.json (the
// product's own), .env (secrets; never written here) and .gitignore (already has the lines).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const NOT_COPIED = new Set(['tsconfig.json', '.env', '.gitignore']);

const dir = mkdtempSync(join(tmpdir(), 'mithai-sync-'));
try {
  const init = spawnSync(process.execPath, [join(ROOT, 'bin', 'mithai.js'), 'init', dir, '--yes'], { encoding: 'utf8' });
  if (init.status !== 0) {
    process.stderr.write(`sync-root-project: mithai init failed:\n${init.stderr}`);
    process.exit(1);
  }
  // init lists what it wrote, one file per indented line, after its first line and up to a blank one.
  const lines = init.stdout.split('\n');
  const written = lines.slice(1, lines.indexOf('')).map((l) => l.trim());
  for (const file of written.filter((f) => !NOT_COPIED.has(f))) {
    mkdirSync(dirname(join(ROOT, file)), { recursive: true });
    copyFileSync(join(dir, file), join(ROOT, file));
    process.stdout.write(`${file}\n`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
