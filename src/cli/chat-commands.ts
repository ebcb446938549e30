/**
 * The slash commands of `mithai chat`: `/help`, `/tools`, `/reset`, `/quit` (and `/exit`).
 * A line is a command only when it is one slash-word alone, so a message such as
 * "/var/log is full" still goes to the model.
 */
import type { Level } from '../config/schema.ts';
import type { LoadedTool } from '../skills/types.ts';

/** A command typed at the chat prompt. */
export type ChatCommand = 'help' | 'tools' | 'reset' | 'quit' | 'unknown';

/**
 * The command a line is, or undefined for a message to the model.
 * @param text - the line, trimmed.
 */
export function parseChatCommand(text: string): ChatCommand | undefined {
  const match = /^\/([a-z?]+)$/i.exec(text);
  if (!match) return undefined;
  switch (match[1]!.toLowerCase()) {
    case 'help':
    case '?':
      return 'help';
    case 'tools':
      return 'tools';
    case 'reset':
      return 'reset';
    case 'quit':
    case 'exit':
      return 'quit';
    default:
      return 'unknown';
  }
}

/** What `/help` prints. */
export function chatHelpText(): string {
  return [
    'Commands:',
    '  /help    this list',
    '  /tools   the tools the agent can call, and the level each asks for',
    '  /reset   start a new conversation (the current one is kept for --session)',
    '  /quit    leave (also /exit, or end of input)',
    'Anything else is a message to the agent. When a call needs approval, answer "y" or "n" (or "n <reason>"); a confirm call asks for its phrase.',
  ].join('\n');
}

/**
 * What `/tools` prints: each tool with its declared level (or the `human.overrides` entry that
 * replaces it) and the first line of its description. Untrusted content in the conversation
 * can raise a level at call time; the approval prompt then says so.
 */
export function chatToolsText(tools: readonly LoadedTool[], overrides: Readonly<Record<string, Level>>): string {
  if (tools.length === 0) return 'No tools are loaded (skills.paths, skills.builtin; `mithai skill list` shows why).';
  const rows = tools.map((t) => {
    const override = overrides[t.name];
    const level = override !== undefined ? `${override} (override)` : t.declared === undefined ? 'approve (default)' : t.declared;
    return [t.name, `${level}${t.readOnly ? ', read-only' : ''}`, t.description.split('\n')[0]!.trim()] as const;
  });
  const nameWidth = Math.max(...rows.map((r) => r[0].length));
  const levelWidth = Math.max(...rows.map((r) => r[1].length));
  return [`Tools (${tools.length}):`, ...rows.map(([name, level, description]) => `  ${name.padEnd(nameWidth)}  ${level.padEnd(levelWidth)}  ${description}`)].join('\n');
}
