/**
 * The human policy: which level (auto, approve, confirm) a tool call gets, and why.
 * Pure functions implementing these rules (see docs/approvals.md):
 *
 * - no declared level → `approve`;
 * - a declared level is a floor that neither `resolveHuman` nor `human.overrides` can lower;
 * - overrides can always raise a level, and can lower only a tool that declared nothing;
 * - `resolveHuman` that throws, is slow, is missing or answers nonsense fails closed to `approve`;
 * - in a tainted session, a tool that is not read-only and would run `auto` needs `approve`.
 */
import type { Level } from '../config/schema.ts';
import { LEVELS } from '../config/schema.ts';
import { errorMessage } from '../errors.ts';
import type { DeclaredHuman, ResolveHuman, ToolContext } from '../skills/types.ts';
import type { LevelReason } from './types.ts';

/** Rank of each level, weakest first. */
export const LEVEL_ORDER: Readonly<Record<Level, number>> = { auto: 0, approve: 1, confirm: 2 };

/** Default time `resolveHuman` gets before the call fails closed. */
export const RESOLVE_HUMAN_TIMEOUT_MS = 2000;

/** The stronger of two levels. */
export function maxLevel(a: Level, b: Level): Level {
  return LEVEL_ORDER[a] >= LEVEL_ORDER[b] ? a : b;
}

/** What {@link effectiveLevel} works from. */
export interface LevelInput {
  /** The tool's declared `human`, or undefined when it declared nothing. */
  declared: DeclaredHuman | undefined;
  /** `human.overrides[tool]` from config.yaml, if any. */
  override: Level | undefined;
  /**
   * For `declared === 'dynamic'`: the level from {@link resolveDynamicLevel}. Ignored
   * otherwise. Missing for a dynamic tool means it was never resolved: fail closed.
   */
  dynamic: Level | undefined;
  /** Why `dynamic` has its value; pass {@link resolveDynamicLevel}'s reason through. Defaults to `dynamic`. */
  dynamicReason?: 'dynamic' | 'fail_closed';
  /** True once untrusted content has entered the session. */
  tainted: boolean;
  /** True when the tool declares it changes nothing. */
  readOnly: boolean;
}

/** A level and the rule that produced it. */
export interface LevelDecision {
  level: Level;
  reason: LevelReason;
}

/**
 * The level a call runs at, and why.
 * Order matters: base level → override (raise only, unless nothing was declared) → taint.
 */
export function effectiveLevel(input: LevelInput): LevelDecision {
  let result: LevelDecision;
  if (input.declared === undefined) {
    result = { level: 'approve', reason: 'default' };
    // Nothing declared means no floor: the operator's override decides, up or down.
    if (input.override !== undefined) result = { level: input.override, reason: 'override' };
  } else {
    if (input.declared === 'dynamic') {
      result =
        input.dynamic === undefined
          ? { level: 'approve', reason: 'fail_closed' }
          : { level: input.dynamic, reason: input.dynamicReason ?? 'dynamic' };
    } else {
      result = { level: input.declared, reason: 'declared' };
    }
    // A declared or dynamic level is a floor: an override only ever raises it.
    if (input.override !== undefined && LEVEL_ORDER[input.override] > LEVEL_ORDER[result.level]) {
      result = { level: input.override, reason: 'override' };
    }
  }
  // Taint last, so no earlier rule can bring a tainted session's side effect back to auto.
  if (input.tainted && !input.readOnly && result.level === 'auto') {
    result = { level: 'approve', reason: 'taint' };
  }
  return result;
}

/** What {@link resolveDynamicLevel} found. */
export interface DynamicLevel {
  level: Level;
  reason: 'dynamic' | 'fail_closed';
  /** Why it failed closed; the caller logs it. */
  failure?: string;
}

/**
 * Ask a skill's `resolveHuman` for a call's level, failing closed to `approve`.
 *
 * `null` means auto; a level is returned as is. A missing function, a throw (sync or async),
 * no answer within `timeoutMs`, or any other value gives `approve` with reason `fail_closed`
 * and a `failure` naming what went wrong. Never throws. A slow function is not waited for:
 * the timer wins and its eventual answer (or rejection) is ignored.
 */
export async function resolveDynamicLevel(
  resolve: ResolveHuman | undefined,
  tool: string,
  input: unknown,
  ctx: ToolContext,
  timeoutMs: number = RESOLVE_HUMAN_TIMEOUT_MS,
): Promise<DynamicLevel> {
  const failClosed = (failure: string): DynamicLevel => ({ level: 'approve', reason: 'fail_closed', failure });
  if (typeof resolve !== 'function') {
    return failClosed(`${tool} declares human: 'dynamic' but its skill has no resolveHuman`);
  }
  let pending: Promise<unknown>;
  try {
    pending = Promise.resolve(resolve(tool, input, ctx));
  } catch (err) {
    return failClosed(`resolveHuman for ${tool} threw: ${errorMessage(err)}`);
  }
  let timer: NodeJS.Timeout | undefined;
  const timedOut = Symbol('timeout');
  const deadline = new Promise<typeof timedOut>((done) => {
    timer = setTimeout(() => done(timedOut), timeoutMs);
  });
  let answer: unknown;
  try {
    answer = await Promise.race([pending, deadline]);
  } catch (err) {
    return failClosed(`resolveHuman for ${tool} threw: ${errorMessage(err)}`);
  } finally {
    clearTimeout(timer);
  }
  // Promise.race has subscribed to `pending`, so a late rejection is handled, not unhandled.
  if (answer === timedOut) {
    return failClosed(`resolveHuman for ${tool} did not answer within ${timeoutMs} ms`);
  }
  if (answer === null) return { level: 'auto', reason: 'dynamic' };
  if (isLevel(answer)) return { level: answer, reason: 'dynamic' };
  return failClosed(`resolveHuman for ${tool} returned ${describe(answer)}; expected 'auto', 'approve', 'confirm' or null`);
}

/**
 * Check `human.overrides` against the loaded tools.
 *
 * @returns One message per bad override (unknown tool, or an attempt to lower a declared
 *   level); empty when all are valid.
 */
export function validateOverrides(
  overrides: Readonly<Record<string, Level>>,
  tools: ReadonlyArray<{ name: string; declared: DeclaredHuman | undefined }>,
): string[] {
  const byName = new Map(tools.map((tool) => [tool.name, tool.declared]));
  const known = [...byName.keys()].sort();
  const problems: string[] = [];
  for (const [name, level] of Object.entries(overrides)) {
    if (!byName.has(name)) {
      problems.push(`human.overrides.${name}: no such tool; known tools: ${known.length > 0 ? known.join(', ') : '(none)'}`);
      continue;
    }
    const declared = byName.get(name);
    if (declared === undefined) continue;
    if (declared === 'dynamic') {
      // On a dynamic tool an override is a floor under resolveHuman's answer; 'auto' would be
      // a no-op that reads like "this tool runs unattended", so it is refused.
      if (level === 'auto') problems.push(`human.overrides.${name}: cannot lower a 'dynamic' tool to 'auto'; overrides may only raise a tool's level`);
      continue;
    }
    if (LEVEL_ORDER[level] < LEVEL_ORDER[declared]) {
      problems.push(
        `human.overrides.${name}: cannot lower a declared '${declared}' to '${level}'; overrides may only raise a tool's declared level`,
      );
    }
  }
  return problems;
}

function isLevel(value: unknown): value is Level {
  return typeof value === 'string' && (LEVELS as readonly string[]).includes(value);
}

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  // Quoted whole or not at all: a cut could keep the recognisable half of a secret that the
  // logger's redaction would then miss (the whole string is redacted where it is logged).
  if (typeof value === 'string') return value.length > 40 ? `a string of ${value.length} characters` : JSON.stringify(value);
  if (typeof value === 'object') return Array.isArray(value) ? 'an array' : 'an object';
  return `${typeof value} ${String(value)}`;
}
