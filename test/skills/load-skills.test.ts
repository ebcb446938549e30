import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SkillError } from '../../src/errors.ts';
import { loadSkills } from '../../src/skills/load-skills.ts';
import { createTestToolContext } from '../../src/testing/index.ts';
import { K8S_TOOLS_TS, PY_SHAPE_TOOLS_JS, recordingLogger, silentLogger, skillMd, tempDir, writeFiles } from './skill-fixtures.ts';

const load = (paths: string[], extra: { enabled?: string[] } = {}) => loadSkills({ paths, defaultTimeoutMs: 60_000, logger: silentLogger, ...extra });

describe('loadSkills', () => {
  test('loads a TypeScript defineSkill skill that imports from mithai in a folder outside the repo', async (t) => {
    const root = tempDir(t);
    writeFiles(root, { 'k8s/SKILL.md': skillMd('k8s', 'Kubernetes helpers', 'Check pods first.'), 'k8s/tools.ts': K8S_TOOLS_TS });
    const { skills, errors } = await load([root]);
    assert.deepEqual(errors, []);
    assert.equal(skills.length, 1);
    const [skill] = skills;
    assert.equal(skill!.name, 'k8s');
    assert.equal(skill!.description, 'Kubernetes helpers');
    assert.equal(skill!.instructions, 'Check pods first.');
    assert.equal(skill!.dir, join(root, 'k8s'));
    assert.equal(skill!.modulePath, join(root, 'k8s', 'tools.ts'));
    assert.deepEqual(skill!.tools.map((tool) => [tool.name, tool.localName, tool.skill, tool.declared, tool.readOnly]), [
      ['k8s__get_pods', 'get_pods', 'k8s', 'auto', true],
      ['k8s__delete_namespace', 'delete_namespace', 'k8s', 'confirm', false],
    ]);
  });

  test('generates the JSON Schema of a defineSkill tool from its zod input, without $schema', async (t) => {
    const root = tempDir(t);
    writeFiles(root, { 'k8s/SKILL.md': skillMd('k8s'), 'k8s/tools.ts': K8S_TOOLS_TS });
    const { skills } = await load([root]);
    const tool = skills[0]!.tools[0]!;
    assert.equal(tool.inputSchema.type, 'object');
    assert.equal('$schema' in tool.inputSchema, false);
    assert.deepEqual(tool.inputSchema.required, ['namespace']);
    const properties = tool.inputSchema.properties as Record<string, Record<string, unknown>>;
    assert.deepEqual(properties.namespace, { type: 'string', description: 'namespace to list' });
    assert.equal(properties.limit!.type, 'integer');
    assert.equal(properties.limit!.default, 10);
  });

  test('validates defineSkill input and names the failing field', async (t) => {
    const root = tempDir(t);
    writeFiles(root, { 'k8s/SKILL.md': skillMd('k8s'), 'k8s/tools.ts': K8S_TOOLS_TS });
    const tool = (await load([root])).skills[0]!.tools[0]!;
    assert.deepEqual(tool.validate({ namespace: 'prod' }), { ok: true, value: { namespace: 'prod', limit: 10 } });
    assert.deepEqual(tool.validate({ namespace: 3 }), { ok: false, error: 'namespace: expected string, received number' });
    assert.deepEqual(tool.validate('prod'), { ok: false, error: '(input): expected object, received string' });
  });

  test('takes confirmPhrase from the tool function and the time limit from timeoutSeconds', async (t) => {
    const root = tempDir(t);
    writeFiles(root, { 'k8s/SKILL.md': skillMd('k8s'), 'k8s/tools.ts': K8S_TOOLS_TS });
    const [getPods, deleteNamespace] = (await loadSkills({ paths: [root], defaultTimeoutMs: 1234, logger: silentLogger })).skills[0]!.tools;
    assert.equal(deleteNamespace!.confirmPhrase({ name: 'prod' }), 'delete prod');
    assert.equal(getPods!.confirmPhrase({ namespace: 'prod' }), 'get_pods');
    assert.equal(deleteNamespace!.timeoutMs, 5000);
    assert.equal(getPods!.timeoutMs, 1234);
  });

  test('loads a plain JavaScript skill in the Python mithai shape', async (t) => {
    const root = tempDir(t);
    writeFiles(root, { 'shell/SKILL.md': skillMd('shell'), 'shell/tools.js': PY_SHAPE_TOOLS_JS });
    const { skills, errors } = await load([root]);
    assert.deepEqual(errors, []);
    const skill = skills[0]!;
    assert.deepEqual(skill.tools.map((tool) => [tool.name, tool.declared, tool.readOnly]), [
      ['shell__run_command', 'dynamic', false],
      ['shell__uptime', undefined, false],
    ]);
    const [run, uptime] = skill.tools;
    assert.deepEqual(run!.inputSchema, { type: 'object', properties: { command: { type: 'string' }, cwd: { type: 'string' } }, required: ['command'] });
    assert.deepEqual(run!.validate({ cwd: '/' }), { ok: false, error: 'command: expected string, received undefined' });
    assert.equal(run!.validate({ command: 'ls' }).ok, true);
    // Python mithai's confirmation token: the first non-empty string value, else the tool name.
    assert.equal(run!.confirmPhrase({ cwd: '', command: 'rm -rf /tmp/x' }), 'rm -rf /tmp/x');
    assert.equal(uptime!.confirmPhrase({}), 'uptime');
    const ctx = createTestToolContext({ user: 'U1' });
    assert.equal(await run!.handle({ command: 'ls' }, ctx), 'ran ls for U1');
    assert.equal(await skill.resolveHuman!('run_command', { command: 'uptime' }, ctx), null);
    await skill.startup!(ctx);
    assert.equal(ctx.state.get('started'), true);
  });

  test('prefers tools.ts over tools.js when a skill has both', async (t) => {
    const root = tempDir(t);
    writeFiles(root, { 'k8s/SKILL.md': skillMd('k8s'), 'k8s/tools.ts': K8S_TOOLS_TS, 'k8s/tools.js': 'throw new Error("the .js must not load");' });
    const { skills, errors } = await load([root]);
    assert.deepEqual(errors, []);
    assert.equal(skills[0]!.modulePath, join(root, 'k8s', 'tools.ts'));
  });

  test('loads a SKILL.md without a tools file as a prompt-only skill', async (t) => {
    const root = tempDir(t);
    writeFiles(root, { 'runbook/SKILL.md': skillMd('runbook', 'On-call runbook', 'Page the owner.') });
    const { skills, errors } = await load([root]);
    assert.deepEqual(errors, []);
    assert.deepEqual(skills.map((s) => [s.name, s.modulePath, s.tools.length, s.instructions]), [['runbook', undefined, 0, 'Page the owner.']]);
  });

  test('reports a skill with a syntax error with its path while the skill next to it loads', async (t) => {
    const root = tempDir(t);
    writeFiles(root, {
      'broken/SKILL.md': skillMd('broken'),
      'broken/tools.ts': 'export default defineSkill({ tools: { oops: ',
      'good/SKILL.md': skillMd('good'),
      'good/tools.ts': K8S_TOOLS_TS,
    });
    const { skills, errors } = await load([root]);
    assert.deepEqual(skills.map((s) => s.name), ['good']);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof SkillError);
    assert.equal(errors[0]!.skillPath, join(root, 'broken', 'tools.ts'));
    assert.match(errors[0]!.message, /^failed to load: /);
  });

  test('reports a module that throws while it loads, and one whose import cannot be found', async (t) => {
    const root = tempDir(t);
    writeFiles(root, {
      'throws/SKILL.md': skillMd('throws'),
      'throws/tools.ts': 'throw new Error("no kubeconfig");\nexport default {};',
      'missing/SKILL.md': skillMd('missing'),
      'missing/tools.ts': "import { nope } from './not-there.ts';\nexport default nope;",
    });
    const { skills, errors } = await load([root]);
    assert.deepEqual(skills, []);
    assert.deepEqual(errors.map((e) => e.skillPath), [join(root, 'missing', 'tools.ts'), join(root, 'throws', 'tools.ts')]);
    assert.match(errors[1]!.message, /no kubeconfig/);
    assert.match(errors[0]!.message, /not-there/);
  });

  test('reports a defineSkill mistake against the module that made it', async (t) => {
    const root = tempDir(t);
    writeFiles(root, {
      'typo/SKILL.md': skillMd('typo'),
      'typo/tools.ts': "import { defineSkill, z } from 'mithai';\nexport default defineSkill({ tools: { t: { description: 'd', human: 'aprove' as never, input: z.object({}), handle: () => 1 } } });\n",
    });
    const { errors } = await load([root]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.skillPath, join(root, 'typo', 'tools.ts:2'), 'the file and the line of the bad level');
    assert.match(errors[0]!.message, /tool "t": human must be one of auto, approve, confirm, dynamic/);
  });

  test('names the line of a bad level among many tools, and of a tool whose definition is wrong', async (t) => {
    const root = tempDir(t);
    const tool = (name: string, human: string) => `    ${name}: {\n      description: 'd',\n      human: '${human}' as never,\n      input: z.object({}),\n      handle: () => 1,\n    },\n`;
    writeFiles(root, {
      'many/SKILL.md': skillMd('many'),
      'many/tools.ts': `import { defineSkill, z } from 'mithai';\nexport default defineSkill({\n  tools: {\n${tool('a', 'auto')}${tool('b', 'approve')}${tool('c', 'Confirm')}  },\n});\n`,
      'nohandle/SKILL.md': skillMd('nohandle'),
      'nohandle/tools.ts': "import { defineSkill, z } from 'mithai';\nexport default defineSkill({\n  tools: {\n    first: { description: 'd', human: 'auto', input: z.object({}), handle: () => 1 },\n    second: { description: 'd', human: 'auto', input: z.object({}) },\n  },\n});\n",
    });
    const { errors } = await load([root]);
    const paths = errors.map((e) => e.skillPath).sort();
    assert.deepEqual(paths, [join(root, 'many', 'tools.ts:18'), join(root, 'nohandle', 'tools.ts:5')]);
  });

  test('reports module shape mistakes: neither shape, both shapes, missing handle, bad schema, unknown level, duplicate tool', async (t) => {
    const root = tempDir(t);
    const schema = "{ type: 'object', properties: {} }";
    writeFiles(root, {
      'a-neither/SKILL.md': skillMd('a-neither'),
      'a-neither/tools.js': 'export const tools = [];',
      'b-both/SKILL.md': skillMd('b-both'),
      'b-both/tools.js': `export default {}; export const TOOLS = []; export function handle() {}`,
      'c-nohandle/SKILL.md': skillMd('c-nohandle'),
      'c-nohandle/tools.js': `export const TOOLS = [{ name: 'x', description: 'x', input_schema: ${schema} }];`,
      'd-schema/SKILL.md': skillMd('d-schema'),
      'd-schema/tools.js': `export const TOOLS = [{ name: 'x', description: 'x', input_schema: { type: 'string' } }]; export function handle() {}`,
      'e-level/SKILL.md': skillMd('e-level'),
      'e-level/tools.js': `export const TOOLS = [{ name: 'x', description: 'x', human: 'yolo', input_schema: ${schema} }]; export function handle() {}`,
      'f-dup/SKILL.md': skillMd('f-dup'),
      'f-dup/tools.js': `export const TOOLS = [{ name: 'x', description: 'x', input_schema: ${schema} }, { name: 'x', description: 'y', input_schema: ${schema} }]; export function handle() {}`,
      'g-convert/SKILL.md': skillMd('g-convert'),
      'g-convert/tools.js': `export const TOOLS = [{ name: 'x', description: 'x', input_schema: { type: 'object', properties: { a: { $ref: '#/definitions/nope' } } } }]; export function handle() {}`,
      'h-dynamic/SKILL.md': skillMd('h-dynamic'),
      'h-dynamic/tools.js': `export const TOOLS = [{ name: 'x', description: 'x', human: 'dynamic', input_schema: ${schema} }]; export function handle() {}`,
    });
    const { skills, errors } = await load([root]);
    assert.deepEqual(skills, []);
    const byFolder = Object.fromEntries(errors.map((e) => [e.skillPath.split('/').at(-2), e.message]));
    assert.match(byFolder['a-neither']!, /exports neither/);
    assert.match(byFolder['b-both']!, /exports both/);
    assert.match(byFolder['c-nohandle']!, /no handle/);
    assert.match(byFolder['d-schema']!, /tool "x": input_schema must be a JSON Schema object with type: 'object'/);
    assert.match(byFolder['e-level']!, /tool "x": human must be one of auto, approve, confirm, dynamic or null, got "yolo"/);
    assert.match(byFolder['f-dup']!, /tool "x" is defined twice/);
    assert.match(byFolder['g-convert']!, /tool "x": input_schema cannot be used to validate input/);
    assert.match(byFolder['h-dynamic']!, /human is 'dynamic' but the module exports no resolveHuman/);
    assert.equal(errors.length, 8);
  });

  test('reports the second of two skills with the same name, naming both folders', async (t) => {
    const first = tempDir(t);
    const second = tempDir(t);
    writeFiles(first, { 'ops/SKILL.md': skillMd('ops') });
    writeFiles(second, { 'other-folder/SKILL.md': skillMd('ops') });
    const { skills, errors } = await load([first, second]);
    assert.deepEqual(skills.map((s) => s.dir), [join(first, 'ops')]);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.skillPath, join(second, 'other-folder'));
    assert.equal(errors[0]!.code, 'skill_duplicate');
    assert.match(errors[0]!.message, new RegExp(`duplicate skill name "ops": also defined by ${join(first, 'ops')}`));
  });

  test('loads only enabled skills and never runs the code of the others', async (t) => {
    const root = tempDir(t);
    writeFiles(root, {
      'wanted/SKILL.md': skillMd('wanted'),
      'unwanted/SKILL.md': skillMd('unwanted'),
      'unwanted/tools.ts': 'throw new Error("disabled skill code ran");',
    });
    const { skills, errors } = await load([root], { enabled: ['wanted'] });
    assert.deepEqual(skills.map((s) => s.name), ['wanted']);
    assert.deepEqual(errors, []);
  });

  test('reports an enabled skill name that matches no skill', async (t) => {
    const root = tempDir(t);
    writeFiles(root, { 'wanted/SKILL.md': skillMd('wanted') });
    const { skills, errors } = await load([root], { enabled: ['wanted', 'kubernets'] });
    assert.deepEqual(skills.map((s) => s.name), ['wanted']);
    assert.deepEqual(errors.map((e) => e.code), ['skill_not_found']);
    assert.match(errors[0]!.message, /"kubernets"/);
  });

  test('names a skill after its front matter when valid, else after its folder', async (t) => {
    const root = tempDir(t);
    writeFiles(root, {
      'folder-a/SKILL.md': skillMd('from-front-matter'),
      'folder-b/SKILL.md': skillMd('Not Valid'),
      'folder-c/SKILL.md': 'No front matter at all.\n',
      'Bad Folder/SKILL.md': skillMd(undefined),
    });
    const { logger, records } = recordingLogger();
    const { skills, errors } = await loadSkills({ paths: [root], defaultTimeoutMs: 1000, logger });
    assert.deepEqual(skills.map((s) => s.name).sort(), ['folder-b', 'folder-c', 'from-front-matter']);
    assert.equal(skills.find((s) => s.name === 'folder-c')!.instructions, 'No front matter at all.');
    assert.deepEqual(errors.map((e) => e.skillPath), [join(root, 'Bad Folder')]);
    assert.ok(records.some((r) => r.level === 40 && r.name === 'Not Valid'));
  });

  test('skips folders starting with . or _ and folders without SKILL.md', async (t) => {
    const root = tempDir(t);
    writeFiles(root, {
      '.hidden/SKILL.md': skillMd('hidden'),
      '_draft/SKILL.md': skillMd('draft'),
      'node_modules/zod/index.js': '',
      'README.md': 'not a skill',
      'real/SKILL.md': skillMd('real'),
    });
    const { skills, errors } = await load([root]);
    assert.deepEqual(skills.map((s) => s.name), ['real']);
    assert.deepEqual(errors, []);
  });

  test('reports a tools file without SKILL.md and a SKILL.md with broken front matter', async (t) => {
    const root = tempDir(t);
    writeFiles(root, {
      'half/tools.ts': K8S_TOOLS_TS,
      'yaml/SKILL.md': '---\nname: [unclosed\n---\nbody\n',
      'open/SKILL.md': '---\nname: open\nbody without a closing line\n',
    });
    const { skills, errors } = await load([root]);
    assert.deepEqual(skills, []);
    const messages = Object.fromEntries(errors.map((e) => [e.skillPath, e.message]));
    assert.match(messages[join(root, 'half')]!, /no SKILL.md/);
    assert.match(messages[join(root, 'yaml', 'SKILL.md')]!, /not valid YAML/);
    assert.match(messages[join(root, 'open', 'SKILL.md')]!, /no closing ---/);
  });

  test('ignores a missing default ./skills folder but reports any other missing path', async (t) => {
    const cwd = tempDir(t);
    const previous = process.cwd();
    process.chdir(cwd);
    t.after(() => process.chdir(previous));
    const { skills, errors } = await load(['./skills', './elsewhere']);
    assert.deepEqual(skills, []);
    assert.deepEqual(errors.map((e) => [e.code, e.skillPath]), [['skill_path_missing', join(cwd, 'elsewhere')]]);
    assert.match(errors[0]!.message, /"\.\/elsewhere" does not exist/);
  });

  test('reports a path that is itself a skill folder instead of a folder of skills', async (t) => {
    const root = tempDir(t);
    writeFiles(root, { 'k8s/SKILL.md': skillMd('k8s') });
    const { skills, errors } = await load([join(root, 'k8s')]);
    assert.deepEqual(skills, []);
    assert.equal(errors[0]!.code, 'skill_path_invalid');
    assert.match(errors[0]!.message, /is itself a skill folder/);
  });

  test('reports a tool whose full name is longer than the model allows', async (t) => {
    const root = tempDir(t);
    const longTool = 'x'.repeat(60);
    writeFiles(root, {
      'ops/SKILL.md': skillMd('ops'),
      'ops/tools.js': `export const TOOLS = [{ name: '${longTool}', description: 'x', input_schema: { type: 'object' } }]; export function handle() {}`,
    });
    const { errors } = await load([root]);
    assert.match(errors[0]!.message, /at most 64/);
  });
});
