/**
 * The one place that builds and splits canonical tool names (`skill__tool`). Every caller
 * (loader, registry, policy overrides, audit) goes through these helpers, so the separator
 * and the naming rules cannot drift apart.
 */

/** Separator between the skill name and the tool's local name. */
export const TOOL_NAME_SEPARATOR = '__';

/** The Anthropic API's rule for tool names; a canonical name must also satisfy it. */
const MODEL_TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const SKILL_NAME = /^[a-z0-9][a-z0-9_-]*$/;
const LOCAL_TOOL_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/**
 * Whether `name` may name a skill: lowercase letters, digits, `-` and `_`, starting with a
 * letter or digit, and never containing the `__` separator.
 */
export function isValidSkillName(name: string): boolean {
  return SKILL_NAME.test(name) && !name.includes(TOOL_NAME_SEPARATOR);
}

/**
 * Whether `name` may name a tool inside its skill: letters, digits, `-` and `_`, starting with
 * a letter or digit, and never containing the `__` separator.
 */
export function isValidLocalToolName(name: string): boolean {
  return LOCAL_TOOL_NAME.test(name) && !name.includes(TOOL_NAME_SEPARATOR);
}

/** Whether a full tool name fits the model API's limit (`^[a-zA-Z0-9_-]{1,64}$`). */
export function isValidModelToolName(name: string): boolean {
  return MODEL_TOOL_NAME.test(name);
}

/**
 * The canonical name of a tool: `skill__tool`.
 * @throws Error when either part is invalid or the result is longer than the model allows;
 *   the loader checks names first, so this only fires on a caller's bug.
 */
export function toolName(skill: string, tool: string): string {
  if (!isValidSkillName(skill)) throw new Error(`invalid skill name "${skill}"`);
  if (!isValidLocalToolName(tool)) throw new Error(`invalid tool name "${tool}" in skill "${skill}"`);
  const name = `${skill}${TOOL_NAME_SEPARATOR}${tool}`;
  if (!isValidModelToolName(name)) throw new Error(`tool name "${name}" is longer than 64 characters`);
  return name;
}

/**
 * Split a canonical name into its skill and local tool name.
 * A skill name may end in `_` (`ops_` + `__` + `run` = `ops___run`), so the split is at the
 * first separator that is followed by a character a local tool name may start with.
 * @returns undefined when `name` is not a valid canonical name.
 */
export function parseToolName(name: string): { skill: string; tool: string } | undefined {
  if (!isValidModelToolName(name)) return undefined;
  let at = name.indexOf(TOOL_NAME_SEPARATOR);
  while (at !== -1) {
    const skill = name.slice(0, at);
    const tool = name.slice(at + TOOL_NAME_SEPARATOR.length);
    if (isValidSkillName(skill) && isValidLocalToolName(tool)) return { skill, tool };
    at = name.indexOf(TOOL_NAME_SEPARATOR, at + 1);
  }
  return undefined;
}
