/**
 * Reads a SKILL.md: optional YAML front matter (`name`, `description`) between `---` lines at
 * the very top, then the instructions that go into the system prompt.
 */
import { parse as parseYaml } from 'yaml';
import { SkillError, errorMessage } from '../errors.ts';

/** A parsed SKILL.md. */
export interface SkillMd {
  /** Front matter `name`, when it is a string. */
  name: string | undefined;
  /** Front matter `description`, trimmed; empty when absent. */
  description: string;
  /** Everything after the front matter, trimmed. */
  instructions: string;
}

const OPENING = /^\uFEFF?---[ \t]*\r?\n/;
const CLOSING = /^(?:---|\.\.\.)[ \t]*$/m;

/**
 * Parse the text of a SKILL.md.
 * @param path The file's path, only for error messages.
 * @throws SkillError when the front matter is not closed, is not valid YAML, is not a
 *   mapping, or has a `name`/`description` that is not a string.
 */
export function parseSkillMd(text: string, path: string): SkillMd {
  const opening = OPENING.exec(text);
  if (!opening) return { name: undefined, description: '', instructions: text.replace(/^\uFEFF/, '').trim() };

  const rest = text.slice(opening[0].length);
  const closing = CLOSING.exec(rest);
  if (!closing) throw new SkillError(path, 'front matter starts with --- but has no closing --- line');

  let data: unknown;
  try {
    data = parseYaml(rest.slice(0, closing.index));
  } catch (err) {
    throw new SkillError(path, `front matter is not valid YAML: ${errorMessage(err)}`, { cause: err });
  }
  // An empty front matter block parses to null; treat it like no keys at all.
  const fields = data ?? {};
  if (typeof fields !== 'object' || Array.isArray(fields)) throw new SkillError(path, 'front matter must be a YAML mapping (key: value lines)');
  const { name, description } = fields as Record<string, unknown>;
  if (name !== undefined && name !== null && typeof name !== 'string') throw new SkillError(path, `front matter "name" must be a string, got ${typeof name}`);
  if (description !== undefined && description !== null && typeof description !== 'string') {
    throw new SkillError(path, `front matter "description" must be a string, got ${typeof description}`);
  }
  return {
    name: typeof name === 'string' ? name.trim() : undefined,
    description: typeof description === 'string' ? description.trim() : '',
    instructions: rest.slice(closing.index + closing[0].length).trim(),
  };
}
