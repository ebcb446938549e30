import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { z as zod } from 'zod';
import * as mithai from '../../src/index.ts';
import * as testing from '../../src/testing/index.ts';
import type { DeclaredHuman, Level, ResolveHuman, SkillMemory, SkillSpec, SkillState, StartupContext, ToolContext, ToolSpec } from '../../src/index.ts';

describe('public API', () => {
  test('mithai exports exactly the skill API and the guards the built-in skills use (a new export is a decision)', () => {
    const guards = {
      command: ['ARGV_LIMITS', 'CommandRefusedError', 'SAFE_SEARCH_PATH', 'checkArgument', 'checkArgv', 'commandEnv', 'describeArgument', 'isCodeLoadingVariable', 'isCommandRunner', 'isInterpreter', 'isPrivilegeOrBuiltin', 'looksLikeOption', 'optionName', 'programName', 'resolveProgram'],
      process: ['KILL_GRACE_MS', 'SpawnError', 'childEnv', 'runArgv'],
      http: ['GUARDED_GET_DEFAULTS', 'GUARDED_USER_AGENT', 'HttpRequestError', 'SsrfBlockedError', 'allowedHostProblem', 'certificateDaysLeft', 'checkTarget', 'checkUrlForm', 'classifyAddress', 'compileAllowedHosts', 'guardedGet', 'isHostAllowed', 'systemResolver'],
      memory: ['MemoryPathError', 'isMemoryMd', 'readablePath', 'writablePath'],
    };
    const expected = ['defineSkill', 'defineTool', 'z', ...Object.values(guards).flat()].sort();
    assert.deepEqual(Object.keys(mithai).sort(), expected);
    assert.equal(mithai.z, zod);
  });

  test('mithai/testing exports exactly createTestToolContext', () => {
    assert.deepEqual(Object.keys(testing).sort(), ['createTestToolContext']);
  });

  test('the package name resolves to the same modules as the source entries', async () => {
    assert.equal((await import('mithai')).defineSkill, mithai.defineSkill);
    assert.equal((await import('mithai/testing')).createTestToolContext, testing.createTestToolContext);
  });
});

describe('createTestToolContext', () => {
  test('gives an in-memory state that stores JSON copies', () => {
    const ctx = testing.createTestToolContext();
    const value = { count: 1 };
    ctx.state.set('k', value);
    value.count = 2;
    assert.deepEqual(ctx.state.get('k'), { count: 1 });
    assert.deepEqual(ctx.state.keys(), ['k']);
    ctx.state.delete('k');
    assert.equal(ctx.state.get('k'), undefined);
    assert.throws(() => ctx.state.set('f', () => 1), TypeError);
  });

  test('gives a fresh signal, a silent logger and empty memory for each context', async () => {
    const a = testing.createTestToolContext();
    const b = testing.createTestToolContext();
    assert.notEqual(a.signal, b.signal);
    assert.equal(a.signal.aborted, false);
    assert.equal(a.logger.level, 'silent');
    assert.equal(await a.memory.readMemory(), '');
    await a.memory.appendDailyNote('noted');
    assert.deepEqual(a.config, {});
    a.state.set('x', 1);
    assert.equal(b.state.get('x'), undefined);
  });

  test('applies overrides', () => {
    const controller = new AbortController();
    const ctx = testing.createTestToolContext({ user: 'U42', config: { region: 'eu' }, signal: controller.signal });
    assert.equal(ctx.user, 'U42');
    assert.deepEqual(ctx.config, { region: 'eu' });
    assert.equal(ctx.signal, controller.signal);
  });
});

/** Never called: fails the typecheck if a type a skill author needs stops being exported. */
export function exportedTypes(ctx: ToolContext, start: StartupContext, state: SkillState, memory: SkillMemory): void {
  const level: Level = 'auto';
  const declared: DeclaredHuman = 'dynamic';
  const resolve: ResolveHuman = () => level;
  const tool: ToolSpec = { description: 'd', human: declared, input: zod.object({}), handle: () => 1 };
  const spec: SkillSpec = { tools: { tool }, resolveHuman: resolve };
  void [ctx, start, state, memory, spec];
}
