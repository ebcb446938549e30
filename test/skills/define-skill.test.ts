import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { SkillError } from '../../src/errors.ts';
import { defineSkill, defineTool, isDefinedSkill } from '../../src/skills/define-skill.ts';
import type { SkillSpec, ToolSpec } from '../../src/skills/types.ts';

const ok = { description: 'd', input: z.object({ n: z.string() }), handle: () => 'x' };

/** Call defineSkill with something the types would reject, to test the run-time checks. */
function defineUntyped(spec: unknown): SkillSpec {
  return defineSkill(spec as Parameters<typeof defineSkill>[0]);
}

function assertSkillError(fn: () => unknown, message: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof SkillError, 'a SkillError');
    assert.equal(err.code, 'skill_invalid');
    assert.match(err.message, message);
    return true;
  });
}

describe('defineSkill', () => {
  test('returns the same spec, branded with a non-enumerable mark', () => {
    const spec = { tools: { t: ok } };
    const defined = defineSkill(spec);
    assert.equal(defined, spec);
    assert.equal(isDefinedSkill(defined), true);
    assert.deepEqual(Object.keys(defined), ['tools']);
    assert.equal(isDefinedSkill({ tools: {} }), false);
    assert.equal(isDefinedSkill(null), false);
  });

  test('brands a copy when the spec is frozen', () => {
    const defined = defineSkill(Object.freeze({ tools: { t: ok } }));
    assert.equal(isDefinedSkill(defined), true);
    assert.equal(defined.tools.t, ok);
  });

  test('rejects an input that is not a zod object schema, naming the tool', () => {
    assertSkillError(() => defineUntyped({ tools: { get_pods: { ...ok, input: z.string() } } }), /tool "get_pods": input must be a zod object schema \(z\.object\(\{\.\.\.\}\)\), got a zod string schema/);
    assertSkillError(() => defineUntyped({ tools: { get_pods: { ...ok, input: { type: 'object' } } } }), /tool "get_pods": input must be a zod object schema/);
  });

  test('rejects an unknown human level and accepts every known one', () => {
    assertSkillError(() => defineUntyped({ tools: { restart: { ...ok, human: 'aprove' } } }), /tool "restart": human must be one of auto, approve, confirm, dynamic \(or omitted for approve\), got "aprove"/);
    assertSkillError(() => defineUntyped({ tools: { restart: { ...ok, human: null } } }), /got null/);
    for (const human of ['auto', 'approve', 'confirm'] as const) assert.ok(defineSkill({ tools: { t: { ...ok, human } } }));
    assert.ok(defineSkill({ tools: { t: ok } }));
  });

  test('requires resolveHuman on the skill for a dynamic tool', () => {
    assertSkillError(() => defineSkill({ tools: { run: { ...ok, human: 'dynamic' } } }), /tool "run": human is 'dynamic' but the skill has no resolveHuman/);
    assert.ok(defineSkill({ tools: { run: { ...ok, human: 'dynamic' } }, resolveHuman: () => null }));
  });

  test('requires handle to be a function', () => {
    assertSkillError(() => defineUntyped({ tools: { t: { ...ok, handle: 'run' } } }), /tool "t": handle must be a function, got "run"/);
    assertSkillError(() => defineUntyped({ tools: { t: { description: 'd', input: z.object({}) } } }), /tool "t": handle must be a function, got undefined/);
  });

  test('rejects unknown keys so a typo cannot silently drop a level', () => {
    assertSkillError(() => defineUntyped({ tools: { t: { ...ok, humna: 'confirm' } } }), /tool "t": unknown key\(s\) humna/);
    assertSkillError(() => defineUntyped({ tools: { t: ok }, resolve_human: () => null }), /unknown key\(s\) resolve_human/);
  });

  test('rejects bad tool names, descriptions, flags, time limits and hooks', () => {
    assertSkillError(() => defineUntyped({ tools: { 'get__pods': ok } }), /tool "get__pods": invalid tool name/);
    assertSkillError(() => defineUntyped({ tools: { 'get pods': ok } }), /tool "get pods": invalid tool name/);
    assertSkillError(() => defineUntyped({ tools: { t: { ...ok, description: ' ' } } }), /tool "t": description must be a non-empty string/);
    assertSkillError(() => defineUntyped({ tools: { t: { ...ok, readOnly: 'yes' } } }), /tool "t": readOnly must be true or false/);
    assertSkillError(() => defineUntyped({ tools: { t: { ...ok, timeoutSeconds: 0 } } }), /tool "t": timeoutSeconds must be a positive number/);
    assertSkillError(() => defineUntyped({ tools: { t: { ...ok, confirmPhrase: 'yes' } } }), /tool "t": confirmPhrase must be a function/);
    assertSkillError(() => defineUntyped({ tools: [] }), /tools must be an object of tool definitions, got an array/);
    assertSkillError(() => defineUntyped({ tools: {}, startup: 'now' }), /startup must be a function/);
    assertSkillError(() => defineUntyped(undefined), /defineSkill expects an object, got undefined/);
  });

  test('accepts a zod object schema from a strictObject or looseObject', () => {
    assert.ok(defineSkill({ tools: { a: { ...ok, input: z.strictObject({ n: z.string() }) }, b: { ...ok, input: z.looseObject({}) } } }));
  });
});

describe('defineTool', () => {
  test('returns the same tool and checks it like defineSkill does', () => {
    const tool = defineTool(ok);
    assert.equal(tool, ok);
    assert.throws(() => defineTool({ ...ok, human: 'always' as never }), /defineTool: human must be one of/);
    assert.throws(() => defineTool({ ...ok, input: z.array(z.string()) as never }), /defineTool: input must be a zod object schema/);
  });

  test('leaves the dynamic check to the skill it is placed in', () => {
    const tool = defineTool({ ...ok, human: 'dynamic' });
    assert.throws(() => defineSkill({ tools: { run: tool } }), /tool "run": human is 'dynamic' but the skill has no resolveHuman/);
  });
});

/**
 * Type tests: this function is never called; `tsc --noEmit` checks it. Each `@ts-expect-error`
 * fails the typecheck if the line ever starts compiling.
 */
export function typeTests(): void {
  defineSkill({
    tools: {
      // The handler's input is typed from its own schema, per tool.
      count: { description: 'c', input: z.object({ n: z.string() }), handle: async ({ n }) => n.length, confirmPhrase: (i) => i.n.toUpperCase() },
      scale: { description: 's', input: z.strictObject({ replicas: z.number() }), handle: ({ replicas }, ctx) => replicas.toFixed(0) + ctx.user },
      typed: defineTool({ description: 't', input: z.object({ on: z.boolean() }), handle: ({ on }) => !on }),
    },
  });
  const asPlain: ToolSpec = defineTool({ description: 't', input: z.object({ on: z.boolean() }), handle: ({ on }) => on });
  void asPlain;
  // @ts-expect-error n is a string, which has no toFixed
  defineSkill({ tools: { t: { description: 'd', input: z.object({ n: z.string() }), handle: ({ n }) => n.toFixed() } } });
  // @ts-expect-error input must be an object schema
  defineSkill({ tools: { t: { description: 'd', input: z.string(), handle: () => 1 } } });
  // @ts-expect-error input must be an object schema
  defineTool({ description: 'd', input: z.number(), handle: () => 1 });
  // @ts-expect-error human must be a known level
  defineTool({ description: 'd', human: 'always', input: z.object({}), handle: () => 1 });
  // @ts-expect-error confirmPhrase gets the typed input
  defineTool({ description: 'd', input: z.object({ n: z.number() }), confirmPhrase: (i) => i.name, handle: () => 1 });
}
