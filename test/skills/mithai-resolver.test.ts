import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { SkillError } from '../../src/errors.ts';
import { importSkillModule } from '../../src/skills/import-skill-module.ts';
import { registerMithaiResolver } from '../../src/skills/register-mithai-resolver.ts';
import { jsonSchemaFromZod } from '../../src/skills/zod-json-schema.ts';
import { K8S_TOOLS_TS, skillMd, tempDir, writeFiles } from './skill-fixtures.ts';

const REPO = fileURLToPath(new URL('../../', import.meta.url));

describe('the mithai resolver', () => {
  test('gives a skill outside the repo the runtime’s own zod', async (t) => {
    const root = tempDir(t);
    writeFiles(root, { 'tools.ts': "import { z } from 'mithai';\nexport { z };\nexport const schema = z.object({ namespace: z.string() });\n" });
    const mod = await importSkillModule(join(root, 'tools.ts'));
    assert.equal(mod.z, z);
    assert.ok(mod.schema instanceof z.ZodObject);
    assert.deepEqual(jsonSchemaFromZod(mod.schema as z.ZodObject), { type: 'object', properties: { namespace: { type: 'string' } }, required: ['namespace'] });
  });

  test('resolves mithai/testing and relative helper files of a skill in a CommonJS folder', async (t) => {
    const root = tempDir(t);
    writeFiles(root, {
      'package.json': '{ "type": "commonjs" }',
      'tools.ts': "import { createTestToolContext } from 'mithai/testing';\nimport { greet } from './lib/greet.ts';\nimport { shout } from './lib/shout.js';\nexport const out = shout(greet(createTestToolContext({ user: 'U7' }).user));\n",
      'lib/greet.ts': "import { z } from 'mithai';\nexport const greet = (user: string): string => z.string().parse('hi ' + user);\n",
      // Imported as './lib/shout.js': tsx maps it to the .ts file, as TypeScript projects expect.
      'lib/shout.ts': "export const shout = (text: string): string => text.toUpperCase();\n",
    });
    const mod = await importSkillModule(join(root, 'tools.ts'));
    assert.equal(mod.out, 'HI U7');
  });

  test('reports a module whose top-level code never finishes instead of hanging', async (t) => {
    const root = tempDir(t);
    writeFiles(root, { 'tools.js': 'await new Promise(() => {});\nexport const TOOLS = [];\n' });
    await assert.rejects(importSkillModule(join(root, 'tools.js'), 50), (err: unknown) => {
      assert.ok(err instanceof SkillError);
      assert.equal(err.skillPath, join(root, 'tools.js'));
      assert.match(err.message, /did not finish loading within 0.05 s/);
      return true;
    });
  });

  test('can be registered any number of times', async (t) => {
    registerMithaiResolver();
    registerMithaiResolver();
    const root = tempDir(t);
    writeFiles(root, { 'tools.js': "import { defineTool } from 'mithai';\nexport const kind = typeof defineTool;\n" });
    assert.equal((await importSkillModule(join(root, 'tools.js'))).kind, 'function');
  });

  test('loads a TypeScript skill in a process set up like bin/mithai.js (tsx/esm/api register)', (t) => {
    const root = tempDir(t);
    writeFiles(root, { 'k8s/SKILL.md': skillMd('k8s'), 'k8s/tools.ts': K8S_TOOLS_TS });
    const script = [
      "const { register } = await import('tsx/esm/api');",
      'register();',
      "const { loadSkills } = await import('./src/skills/load-skills.ts');",
      "const { pino } = await import('pino');",
      `const r = await loadSkills({ paths: [${JSON.stringify(root)}], defaultTimeoutMs: 1000, logger: pino({ level: 'silent' }) });`,
      'process.stdout.write(JSON.stringify({ tools: r.skills.flatMap((s) => s.tools.map((x) => x.name)), errors: r.errors.map((e) => e.message) }));',
    ].join('\n');
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd: REPO, encoding: 'utf8', timeout: 60_000 });
    assert.equal(child.status, 0, child.stderr);
    assert.deepEqual(JSON.parse(child.stdout), { tools: ['k8s__get_pods', 'k8s__delete_namespace'], errors: [] });
  });
});
