import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import pino from 'pino';
import type { Level } from '../../src/config/schema.ts';
import {
  LEVEL_ORDER,
  RESOLVE_HUMAN_TIMEOUT_MS,
  effectiveLevel,
  maxLevel,
  resolveDynamicLevel,
  validateOverrides,
} from '../../src/human/policy.ts';
import type { LevelDecision } from '../../src/human/policy.ts';
import type { DeclaredHuman, ResolveHuman, ToolContext } from '../../src/skills/types.ts';

describe('level order', () => {
  test('ranks auto below approve below confirm', () => {
    assert.ok(LEVEL_ORDER.auto < LEVEL_ORDER.approve && LEVEL_ORDER.approve < LEVEL_ORDER.confirm);
  });

  test('maxLevel picks the stronger level in either order', () => {
    const levels: Level[] = ['auto', 'approve', 'confirm'];
    for (const a of levels) {
      for (const b of levels) {
        assert.equal(maxLevel(a, b), LEVEL_ORDER[a] >= LEVEL_ORDER[b] ? a : b);
        assert.equal(maxLevel(a, b), maxLevel(b, a));
      }
    }
  });
});

/*
 * The effective level (docs/approvals.md). No declared level means approve; a declared
 * level is a floor that an override may only raise; a dynamic tool takes what resolveHuman
 * said (or the fail-closed approve) and an override may only raise that too; an override may
 * lower only a tool that declared nothing. Taint then turns a would-be auto call of a tool
 * that is not read-only into approve. Every combination is spelled out below, so a change to
 * any rule shows up as a named failing row.
 */
describe('effectiveLevel', () => {
  type Base = { declared: DeclaredHuman | undefined; dynamic?: Level; dynamicReason?: 'dynamic' | 'fail_closed'; label: string };
  type Override = Level | undefined;
  const overrides: Override[] = [undefined, 'auto', 'approve', 'confirm'];

  // For each base: the result per override [none, auto, approve, confirm] when untainted (or
  // read-only), and when the session is tainted and the tool is not read-only.
  const table: Array<{ base: Base; clean: string[]; taintedWriter: string[] }> = [
    {
      base: { declared: undefined, label: 'nothing declared' },
      clean: ['approve/default', 'auto/override', 'approve/override', 'confirm/override'],
      taintedWriter: ['approve/default', 'approve/taint', 'approve/override', 'confirm/override'],
    },
    {
      base: { declared: 'auto', label: "declared 'auto'" },
      clean: ['auto/declared', 'auto/declared', 'approve/override', 'confirm/override'],
      taintedWriter: ['approve/taint', 'approve/taint', 'approve/override', 'confirm/override'],
    },
    {
      base: { declared: 'approve', label: "declared 'approve'" },
      clean: ['approve/declared', 'approve/declared', 'approve/declared', 'confirm/override'],
      taintedWriter: ['approve/declared', 'approve/declared', 'approve/declared', 'confirm/override'],
    },
    {
      base: { declared: 'confirm', label: "declared 'confirm'" },
      clean: ['confirm/declared', 'confirm/declared', 'confirm/declared', 'confirm/declared'],
      taintedWriter: ['confirm/declared', 'confirm/declared', 'confirm/declared', 'confirm/declared'],
    },
    {
      base: { declared: 'dynamic', dynamic: 'auto', dynamicReason: 'dynamic', label: 'dynamic resolving auto' },
      clean: ['auto/dynamic', 'auto/dynamic', 'approve/override', 'confirm/override'],
      taintedWriter: ['approve/taint', 'approve/taint', 'approve/override', 'confirm/override'],
    },
    {
      base: { declared: 'dynamic', dynamic: 'approve', dynamicReason: 'dynamic', label: 'dynamic resolving approve' },
      clean: ['approve/dynamic', 'approve/dynamic', 'approve/dynamic', 'confirm/override'],
      taintedWriter: ['approve/dynamic', 'approve/dynamic', 'approve/dynamic', 'confirm/override'],
    },
    {
      base: { declared: 'dynamic', dynamic: 'confirm', dynamicReason: 'dynamic', label: 'dynamic resolving confirm' },
      clean: ['confirm/dynamic', 'confirm/dynamic', 'confirm/dynamic', 'confirm/dynamic'],
      taintedWriter: ['confirm/dynamic', 'confirm/dynamic', 'confirm/dynamic', 'confirm/dynamic'],
    },
    {
      base: { declared: 'dynamic', dynamic: 'approve', dynamicReason: 'fail_closed', label: 'dynamic that failed closed' },
      clean: ['approve/fail_closed', 'approve/fail_closed', 'approve/fail_closed', 'confirm/override'],
      taintedWriter: ['approve/fail_closed', 'approve/fail_closed', 'approve/fail_closed', 'confirm/override'],
    },
    {
      base: { declared: 'dynamic', dynamic: undefined, label: 'dynamic never resolved' },
      clean: ['approve/fail_closed', 'approve/fail_closed', 'approve/fail_closed', 'confirm/override'],
      taintedWriter: ['approve/fail_closed', 'approve/fail_closed', 'approve/fail_closed', 'confirm/override'],
    },
  ];

  const show = (d: LevelDecision): string => `${d.level}/${d.reason}`;

  for (const { base, clean, taintedWriter } of table) {
    overrides.forEach((override, i) => {
      const name = `${base.label} with ${override === undefined ? 'no override' : `override '${override}'`} gives ${clean[i]}, and ${taintedWriter[i]} for a tainted writer`;
      test(name, () => {
        for (const tainted of [false, true]) {
          for (const readOnly of [false, true]) {
            const got = effectiveLevel({ declared: base.declared, override, dynamic: base.dynamic, dynamicReason: base.dynamicReason, tainted, readOnly });
            const expected = tainted && !readOnly ? taintedWriter[i] : clean[i];
            assert.equal(show(got), expected, `tainted=${tainted} readOnly=${readOnly}`);
          }
        }
      });
    });
  }

  test('a dynamic reason defaults to dynamic when the caller passes none', () => {
    assert.deepEqual(effectiveLevel({ declared: 'dynamic', override: undefined, dynamic: 'confirm', tainted: false, readOnly: false }), { level: 'confirm', reason: 'dynamic' });
  });

  test('the dynamic result is ignored for a tool with a static declaration', () => {
    assert.deepEqual(effectiveLevel({ declared: 'confirm', override: undefined, dynamic: 'auto', tainted: false, readOnly: false }), { level: 'confirm', reason: 'declared' });
  });
});

function fakeContext(): ToolContext {
  const values = new Map<string, unknown>();
  return {
    config: {},
    state: {
      get: <T>(key: string) => values.get(key) as T | undefined,
      set: (key, value) => void values.set(key, value),
      delete: (key) => void values.delete(key),
      keys: () => [...values.keys()],
    },
    memory: { readMemory: async () => '', appendDailyNote: async () => undefined, readFile: async () => '', writeFile: async () => undefined, listFiles: async () => [] },
    logger: pino({ level: 'silent' }),
    user: 'U1',
    channel: 'C1',
    thread: '1.0',
    signal: new AbortController().signal,
    callId: 'toolu_1',
    childEnv: () => ({}),
  };
}

/*
 * resolveHuman is skill code running on the decision path, so anything unexpected from it
 * must fail closed to approve (never to auto) and say what went wrong, without waiting on a
 * function that never answers.
 */
describe('resolveDynamicLevel', () => {
  test('uses a 2 second limit by default', () => {
    assert.equal(RESOLVE_HUMAN_TIMEOUT_MS, 2000);
  });

  test('null means auto', async () => {
    assert.deepEqual(await resolveDynamicLevel(() => null, 'k8s__scale', {}, fakeContext()), { level: 'auto', reason: 'dynamic' });
  });

  test('a level, sync or async, is returned as the dynamic level', async () => {
    for (const level of ['auto', 'approve', 'confirm'] as const) {
      assert.deepEqual(await resolveDynamicLevel(() => level, 'k8s__scale', {}, fakeContext()), { level, reason: 'dynamic' });
      assert.deepEqual(await resolveDynamicLevel(async () => level, 'k8s__scale', {}, fakeContext()), { level, reason: 'dynamic' });
    }
  });

  test('passes the tool name, input and context to resolveHuman', async () => {
    const ctx = fakeContext();
    const input = { replicas: 50 };
    let seen: unknown[] = [];
    const resolve: ResolveHuman = (tool, given, context) => {
      seen = [tool, given, context];
      return 'confirm';
    };
    await resolveDynamicLevel(resolve, 'k8s__scale', input, ctx);
    assert.deepEqual(seen, ['k8s__scale', input, ctx]);
  });

  test('a missing resolveHuman fails closed to approve and says so', async () => {
    const got = await resolveDynamicLevel(undefined, 'k8s__scale', {}, fakeContext());
    assert.equal(got.level, 'approve');
    assert.equal(got.reason, 'fail_closed');
    assert.match(got.failure ?? '', /k8s__scale.*no resolveHuman/);
  });

  test('a synchronous throw fails closed with the error message', async () => {
    const got = await resolveDynamicLevel(() => { throw new Error('kube api down'); }, 'k8s__scale', {}, fakeContext());
    assert.deepEqual(got, { level: 'approve', reason: 'fail_closed', failure: 'resolveHuman for k8s__scale threw: kube api down' });
  });

  test('a rejected promise fails closed with the error message', async () => {
    const got = await resolveDynamicLevel(async () => { throw new Error('nope'); }, 'k8s__scale', {}, fakeContext());
    assert.deepEqual(got, { level: 'approve', reason: 'fail_closed', failure: 'resolveHuman for k8s__scale threw: nope' });
  });

  test('a function that never answers fails closed at the time limit without being waited for', async () => {
    const started = Date.now();
    const got = await resolveDynamicLevel(() => new Promise<null>(() => undefined), 'k8s__scale', {}, fakeContext(), 30);
    assert.ok(Date.now() - started < 1000);
    assert.deepEqual(got, { level: 'approve', reason: 'fail_closed', failure: 'resolveHuman for k8s__scale did not answer within 30 ms' });
  });

  test('a late answer after the time limit is ignored, even a late auto or a late rejection', async () => {
    const late = (value: 'auto' | Error): ResolveHuman => () =>
      new Promise((resolve, reject) => setTimeout(() => (value instanceof Error ? reject(value) : resolve(value)), 40));
    assert.equal((await resolveDynamicLevel(late('auto'), 't__x', {}, fakeContext(), 5)).level, 'approve');
    assert.equal((await resolveDynamicLevel(late(new Error('late')), 't__x', {}, fakeContext(), 5)).reason, 'fail_closed');
    // Let the late settlements happen inside this test; an unhandled rejection would fail the run.
    await new Promise((resolve) => setTimeout(resolve, 60));
  });

  test('anything other than a level or null fails closed and names what came back', async () => {
    const cases: Array<[unknown, RegExp]> = [
      ['high', /returned "high"/],
      ['AUTO', /returned "AUTO"/],
      [undefined, /returned undefined/],
      [1, /returned number 1/],
      [true, /returned boolean true/],
      [{ level: 'auto' }, /returned an object/],
      [['auto'], /returned an array/],
      // Long strings are described, never cut: a cut could keep half of a secret that redaction then misses.
      ['xoxb-'.padEnd(60, '7'), /returned a string of 60 characters;/],
    ];
    for (const [value, pattern] of cases) {
      const got = await resolveDynamicLevel((() => value) as unknown as ResolveHuman, 'k8s__scale', {}, fakeContext());
      assert.equal(got.level, 'approve');
      assert.equal(got.reason, 'fail_closed');
      assert.match(got.failure ?? '', pattern);
      assert.match(got.failure ?? '', /expected 'auto', 'approve', 'confirm' or null/);
    }
  });
});

describe('validateOverrides', () => {
  const tools = [
    { name: 'k8s__get_pods', declared: 'auto' as const },
    { name: 'k8s__delete_pod', declared: undefined },
    { name: 'k8s__delete_namespace', declared: 'confirm' as const },
    { name: 'k8s__scale', declared: 'dynamic' as const },
    { name: 'shell__run', declared: 'approve' as const },
  ];

  test('accepts overrides that raise a declared level, any level for undeclared tools, a raising floor for dynamic tools, and equal levels', () => {
    assert.deepEqual(
      validateOverrides({ k8s__get_pods: 'approve', k8s__delete_pod: 'auto', k8s__scale: 'approve', shell__run: 'approve', k8s__delete_namespace: 'confirm' }, tools),
      [],
    );
    assert.deepEqual(validateOverrides({}, tools), []);
  });

  test('refuses an auto override on a dynamic tool, which would read as unattended but change nothing', () => {
    assert.deepEqual(validateOverrides({ k8s__scale: 'auto' }, tools), [
      "human.overrides.k8s__scale: cannot lower a 'dynamic' tool to 'auto'; overrides may only raise a tool's level",
    ]);
  });

  test('names an unknown tool and lists the known ones', () => {
    assert.deepEqual(validateOverrides({ k8s__delet_pod: 'confirm' }, tools), [
      'human.overrides.k8s__delet_pod: no such tool; known tools: k8s__delete_namespace, k8s__delete_pod, k8s__get_pods, k8s__scale, shell__run',
    ]);
    assert.deepEqual(validateOverrides({ a__b: 'auto' }, []), ['human.overrides.a__b: no such tool; known tools: (none)']);
  });

  test('refuses to lower a declared floor, with one message per bad override', () => {
    assert.deepEqual(validateOverrides({ k8s__delete_namespace: 'auto', shell__run: 'auto', k8s__get_pods: 'confirm', nope__x: 'auto' }, tools), [
      "human.overrides.k8s__delete_namespace: cannot lower a declared 'confirm' to 'auto'; overrides may only raise a tool's declared level",
      "human.overrides.shell__run: cannot lower a declared 'approve' to 'auto'; overrides may only raise a tool's declared level",
      'human.overrides.nope__x: no such tool; known tools: k8s__delete_namespace, k8s__delete_pod, k8s__get_pods, k8s__scale, shell__run',
    ]);
  });
});
