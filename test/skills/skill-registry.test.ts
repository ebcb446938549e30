import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { SkillError } from '../../src/errors.ts';
import { defineSkill } from '../../src/skills/define-skill.ts';
import { loadSkills } from '../../src/skills/load-skills.ts';
import { normalizeSkillModule } from '../../src/skills/normalize-skill-module.ts';
import { SkillRegistry } from '../../src/skills/skill-registry.ts';
import type { LoadedSkill, SkillSpec, StartupContext, ToolContext } from '../../src/skills/types.ts';
import { createTestToolContext } from '../../src/testing/index.ts';
import { PY_SHAPE_TOOLS_JS, recordingLogger, silentLogger, skillMd, tempDir, writeFiles } from './skill-fixtures.ts';

/** A LoadedSkill built in memory from a defineSkill spec, as the loader would build it. */
function skillFrom(name: string, spec: SkillSpec, defaultTimeoutMs = 60_000): LoadedSkill {
  const normalized = normalizeSkillModule({ default: spec }, { skill: name, modulePath: `/skills/${name}/tools.ts`, defaultTimeoutMs });
  return { name, origin: 'project', description: `${name} skill`, instructions: '', dir: `/skills/${name}`, modulePath: `/skills/${name}/tools.ts`, ...normalized };
}

function invokeContext(overrides: Partial<ToolContext> = {}): Omit<ToolContext, 'signal'> & { signal?: AbortSignal } {
  const { signal: _unused, ...ctx } = createTestToolContext(overrides);
  return overrides.signal ? { ...ctx, signal: overrides.signal } : ctx;
}

describe('SkillRegistry', () => {
  test('finds tools and their skills by canonical name and lists them for the model', () => {
    const registry = new SkillRegistry([
      skillFrom('k8s', defineSkill({ tools: { get_pods: { description: 'List pods', human: 'auto', input: z.object({ ns: z.string() }), handle: () => [] } } })),
      { name: 'runbook', origin: 'project', description: 'prompt only', instructions: 'x', dir: '/skills/runbook', modulePath: undefined, tools: [], resolveHuman: undefined, startup: undefined },
    ]);
    assert.deepEqual(registry.skills().map((s) => s.name), ['k8s', 'runbook']);
    assert.deepEqual(registry.tools().map((t) => t.name), ['k8s__get_pods']);
    assert.equal(registry.get('k8s__get_pods')?.localName, 'get_pods');
    assert.equal(registry.get('get_pods'), undefined);
    assert.equal(registry.skillOf('k8s__get_pods')?.name, 'k8s');
    assert.equal(registry.skillOf('runbook__x'), undefined);
    assert.deepEqual(registry.modelTools(), [
      { name: 'k8s__get_pods', description: 'List pods', input_schema: { type: 'object', properties: { ns: { type: 'string' } }, required: ['ns'] } },
    ]);
  });

  test('refuses two tools with the same canonical name', () => {
    const spec = defineSkill({ tools: { a: { description: 'a', input: z.object({}), handle: () => 1 } } });
    assert.throws(() => new SkillRegistry([skillFrom('dup', spec), skillFrom('dup', spec)]), SkillError);
  });

  test('rejects invalid input naming the field, and the handler never runs', async () => {
    let calls = 0;
    const registry = new SkillRegistry([
      skillFrom('k8s', defineSkill({ tools: { scale: { description: 'Scale', input: z.object({ name: z.string(), replicas: z.number().int().min(0) }), handle: () => ++calls } } })),
    ]);
    const tool = registry.get('k8s__scale')!;
    const outcome = await registry.invoke(tool, { name: 7, replicas: -1 }, invokeContext());
    assert.deepEqual(outcome, { status: 'invalid_input', error: 'name: expected string, received number; replicas: Too small: expected number to be >=0' });
    assert.equal(calls, 0);
    assert.deepEqual(await registry.invoke(tool, { name: 'web', replicas: 2 }, invokeContext()), { status: 'succeeded', output: '1' });
    assert.equal(calls, 1);
  });

  test('passes the parsed input to the handler and does not parse an already validated value twice', async () => {
    const seen: unknown[] = [];
    const registry = new SkillRegistry([
      skillFrom('text', defineSkill({ tools: { count: { description: 'Count', input: z.object({ s: z.string().transform((s) => s.length) }), handle: ({ s }) => void seen.push(s) } } })),
    ]);
    const tool = registry.get('text__count')!;
    const validated = tool.validate({ s: 'abcd' });
    assert.ok(validated.ok);
    // The engine validates before approval, then invokes with the validated value; a
    // transform's output would fail a second parse.
    assert.deepEqual(await registry.invoke(tool, validated.value, invokeContext()), { status: 'succeeded', output: '(no output)' });
    assert.deepEqual(await registry.invoke(tool, { s: 'xy' }, invokeContext()), { status: 'succeeded', output: '(no output)' });
    assert.deepEqual(seen, [4, 2]);
  });

  test('turns a throwing handler into a failed outcome with its message', async () => {
    const registry = new SkillRegistry([
      skillFrom('ops', defineSkill({
        tools: {
          sync_throw: { description: 's', input: z.object({}), handle: () => { throw new Error('kubectl not found'); } },
          async_throw: { description: 'a', input: z.object({}), handle: async () => { throw new Error('connection refused'); } },
        },
      })),
    ]);
    assert.deepEqual(await registry.invoke(registry.get('ops__sync_throw')!, {}, invokeContext()), { status: 'failed', error: 'kubectl not found' });
    assert.deepEqual(await registry.invoke(registry.get('ops__async_throw')!, {}, invokeContext()), { status: 'failed', error: 'connection refused' });
  });

  test('fails a handler that ignores the signal and never settles once its time limit passes', async () => {
    let signal: AbortSignal | undefined;
    const registry = new SkillRegistry([
      skillFrom('slow', defineSkill({ tools: { hang: { description: 'h', timeoutSeconds: 0.05, input: z.object({}), handle: (_i, ctx) => { signal = ctx.signal; return new Promise(() => {}); } } } })),
    ]);
    const started = Date.now();
    const outcome = await registry.invoke(registry.get('slow__hang')!, {}, invokeContext());
    assert.deepEqual(outcome, { status: 'failed', error: 'timed out after 0.05 s', mayStillRun: true });
    assert.ok(Date.now() - started < 2000, 'did not wait for the handler');
    assert.equal(signal?.aborted, true);
    assert.equal((signal?.reason as Error).name, 'TimeoutError');
  });

  test('uses the registry default time limit for a tool without its own', async () => {
    const skill = skillFrom('slow', defineSkill({ tools: { hang: { description: 'h', input: z.object({}), handle: () => new Promise(() => {}) } } }));
    const tool = { ...skill.tools[0]!, timeoutMs: undefined };
    const registry = new SkillRegistry([{ ...skill, tools: [tool] }], { defaultTimeoutMs: 30 });
    assert.deepEqual(await registry.invoke(tool, {}, invokeContext()), { status: 'failed', error: 'timed out after 0.03 s', mayStillRun: true });
  });

  test('aborts the handler and fails the call when the caller cancels', async () => {
    const controller = new AbortController();
    let handlerSignal: AbortSignal | undefined;
    const registry = new SkillRegistry([
      skillFrom('slow', defineSkill({ tools: { wait: { description: 'w', input: z.object({}), handle: (_i, ctx) => { handlerSignal = ctx.signal; return new Promise(() => {}); } } } })),
    ]);
    const pending = registry.invoke(registry.get('slow__wait')!, {}, invokeContext({ signal: controller.signal }));
    setTimeout(() => controller.abort(new Error('turn cancelled')), 10);
    assert.deepEqual(await pending, { status: 'failed', error: 'cancelled before it finished (turn cancelled)', mayStillRun: true });
    assert.equal(handlerSignal?.aborted, true);
    const again = await registry.invoke(registry.get('slow__wait')!, {}, invokeContext({ signal: controller.signal }));
    assert.deepEqual(again, { status: 'failed', error: 'cancelled before it started (turn cancelled)' });
  });

  test('formats output: strings as they are, undefined as (no output), values as indented JSON, unserialisable values as failures', async () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    const values: Record<string, unknown> = { text: 'plain text', nothing: undefined, object: { pods: ['a'] }, zero: 0, nil: null, circular, big: 10n, fn: () => 1 };
    const tools = Object.fromEntries(Object.entries(values).map(([k, v]) => [k, { description: k, input: z.object({}), handle: () => v }]));
    const registry = new SkillRegistry([skillFrom('out', defineSkill({ tools }))]);
    const run = (name: string) => registry.invoke(registry.get(`out__${name}`)!, {}, invokeContext());
    assert.deepEqual(await run('text'), { status: 'succeeded', output: 'plain text' });
    assert.deepEqual(await run('nothing'), { status: 'succeeded', output: '(no output)' });
    assert.deepEqual(await run('object'), { status: 'succeeded', output: '{\n  "pods": [\n    "a"\n  ]\n}' });
    assert.deepEqual(await run('zero'), { status: 'succeeded', output: '0' });
    assert.deepEqual(await run('nil'), { status: 'succeeded', output: 'null' });
    for (const name of ['circular', 'big', 'fn']) {
      const outcome = await run(name);
      assert.equal(outcome.status, 'failed', name);
      assert.match((outcome as { error: string }).error, /cannot be serialised to JSON/, name);
    }
  });

  test('invokes a Python-shape tool with its local name and validates against input_schema', async (t) => {
    const root = tempDir(t);
    writeFiles(root, { 'shell/SKILL.md': skillMd('shell'), 'shell/tools.js': PY_SHAPE_TOOLS_JS });
    const { skills } = await loadSkills({ paths: [root], defaultTimeoutMs: 1000, logger: silentLogger });
    const registry = new SkillRegistry(skills);
    const tool = registry.get('shell__run_command')!;
    assert.deepEqual(await registry.invoke(tool, { command: 5 }, invokeContext()), { status: 'invalid_input', error: 'command: expected string, received number' });
    assert.deepEqual(await registry.invoke(tool, { command: 'df -h' }, invokeContext({ user: 'U9' })), { status: 'succeeded', output: 'ran df -h for U9' });
  });

  test('runs every startup, and a failing one is logged and returned without stopping the others', async () => {
    const started: string[] = [];
    const startup = (name: string, fail: boolean) => async (ctx: StartupContext) => {
      if (fail) throw new Error(`${name} cannot reach its API`);
      started.push(`${name}:${String(ctx.config.region)}`);
    };
    const make = (name: string, fail: boolean) => skillFrom(name, defineSkill({ tools: {}, startup: startup(name, fail) }));
    const registry = new SkillRegistry([make('a', false), make('b', true), make('c', false)]);
    const { logger, records } = recordingLogger();
    const errors = await registry.runStartups((skill) => ({ ...createTestToolContext({ config: { region: skill.name.toUpperCase() } }), logger }));
    assert.deepEqual(started, ['a:A', 'c:C']);
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.code, 'skill_startup_failed');
    assert.match(errors[0]!.message, /b cannot reach its API/);
    assert.ok(records.some((r) => r.level === 50 && r.skill === 'b'));
  });
});
