/**
 * System prompt assembly. Order matters for prompt caching: the parts that rarely change come
 * first (injection-defence prelude, persona, skills), MEMORY.md last. The prelude is always
 * first, so no persona or skill text can come before it.
 */
import { INJECTION_PRELUDE } from '../security/untrusted.ts';
import type { LoadedSkill } from '../skills/types.ts';

export interface SystemPromptInput {
  botName: string;
  persona: string;
  skills: readonly LoadedSkill[];
  memory: string;
}

const APPROVAL_BEHAVIOUR = [
  'Some tools are gated: when you call one, a human is asked to approve it and the call waits for the decision.',
  'Call the tool you need directly; do not ask for permission in text first, and never pretend a call ran.',
  'Each tool result says exactly what happened: run, denied by a person (with their reason), expired without a decision, or not permitted.',
  'After a denial, do not retry the same call unless the user asks; explain what you would have done instead.',
  'Never write tool-call markup as text.',
].join(' ');

/** The system prompt as ordered parts (the model client joins them and marks the cache point). */
export function buildSystemPrompt(input: SystemPromptInput): string[] {
  const parts = [INJECTION_PRELUDE, `You are ${input.botName}. ${input.persona}\n\n${APPROVAL_BEHAVIOUR}`];
  const skillText = input.skills
    .filter((s) => s.instructions.trim() !== '')
    .map((s) => `### Skill: ${s.name}\n${s.description ? `${s.description}\n\n` : ''}${s.instructions.trim()}`)
    .join('\n\n');
  if (skillText) parts.push(`## Your skills\n\n${skillText}`);
  if (input.memory.trim()) parts.push(`## Your memory (memory/MEMORY.md)\n\n${input.memory.trim()}`);
  return parts;
}
