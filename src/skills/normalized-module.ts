/**
 * What both skill module shapes normalise into, and the naming check they share.
 */
import { SkillError } from '../errors.ts';
import type { LoadedTool, ResolveHuman, StartupContext } from './types.ts';
import { TOOL_NAME_SEPARATOR, isValidModelToolName } from './tool-name.ts';

/** Where a module came from, and the defaults to apply while normalising it. */
export interface NormalizeOptions {
  /** The skill's name (from SKILL.md or its folder). */
  skill: string;
  /** Absolute path of tools.ts/tools.js; errors name it. */
  modulePath: string;
  /** Time limit for tools that set none (`agent.tool_timeout_seconds`). */
  defaultTimeoutMs: number;
}

/** A skill module after normalisation, whichever shape it had. */
export interface NormalizedModule {
  tools: LoadedTool[];
  resolveHuman: ResolveHuman | undefined;
  startup: ((ctx: StartupContext) => void | Promise<void>) | undefined;
}

/**
 * The canonical `skill__tool` name for a tool whose local name was already checked.
 * @throws SkillError naming the module when the full name breaks the model's 64-character
 *   limit; the fix is a shorter skill or tool name.
 */
export function canonicalToolName(options: NormalizeOptions, localName: string): string {
  const name = `${options.skill}${TOOL_NAME_SEPARATOR}${localName}`;
  if (!isValidModelToolName(name)) {
    throw new SkillError(options.modulePath, `tool "${localName}": the full name "${name}" is ${name.length} characters; the model allows at most 64, so shorten the skill or tool name`);
  }
  return name;
}
