/**
 * The loaded skills and their tools, looked up by canonical `skill__tool` name. The engine
 * asks it for the model's tool list and invokes tools through it; it knows nothing about
 * approval, which happens before `invoke` is called.
 */
import { SkillError, errorMessage } from '../errors.ts';
import type { ModelTool } from '../llm/types.ts';
import type { LoadedSkill, LoadedTool, StartupContext } from './types.ts';
import type { InvokeContext, ToolOutcome } from './invoke-tool.ts';
import { invokeTool } from './invoke-tool.ts';

export type { InvokeContext, ToolOutcome } from './invoke-tool.ts';

/** Options of {@link SkillRegistry}. */
export interface SkillRegistryOptions {
  /**
   * Time limit for tools without their own `timeoutMs`, and for each skill's `startup`.
   * The loader already fills in `agent.tool_timeout_seconds`; this covers hand-built tools.
   * Default 60 s.
   */
  defaultTimeoutMs?: number;
}

const DEFAULT_TIMEOUT_MS = 60_000;

/** Skills and tools by name. Immutable once built. */
export class SkillRegistry {
  readonly #skills: readonly LoadedSkill[];
  readonly #tools = new Map<string, LoadedTool>();
  readonly #skillOfTool = new Map<string, LoadedSkill>();
  readonly #defaultTimeoutMs: number;

  /**
   * @throws SkillError when two tools share a canonical name (the loader never produces that;
   *   it would mean a call could reach the wrong handler).
   */
  constructor(skills: readonly LoadedSkill[], options: SkillRegistryOptions = {}) {
    this.#skills = [...skills];
    this.#defaultTimeoutMs = options.defaultTimeoutMs ?? DEFAULT_TIMEOUT_MS;
    for (const skill of skills) {
      for (const tool of skill.tools) {
        const other = this.#skillOfTool.get(tool.name);
        if (other) throw new SkillError(skill.dir, `tool ${tool.name} is defined by both ${other.dir} and ${skill.dir}`, { code: 'skill_duplicate' });
        this.#tools.set(tool.name, tool);
        this.#skillOfTool.set(tool.name, skill);
      }
    }
  }

  /** Every skill, in load order. */
  skills(): LoadedSkill[] {
    return [...this.#skills];
  }

  /** Every tool of every skill, in load order. */
  tools(): LoadedTool[] {
    return [...this.#tools.values()];
  }

  /** The tool with canonical name `name` (`skill__tool`), if any. */
  get(name: string): LoadedTool | undefined {
    return this.#tools.get(name);
  }

  /** The skill that defines the tool named `toolName`, if any. */
  skillOf(toolName: string): LoadedSkill | undefined {
    return this.#skillOfTool.get(toolName);
  }

  /** The tool list for the model: name, description and input JSON Schema of every tool. */
  modelTools(): ModelTool[] {
    // A copy of the schema each time, so nothing downstream can edit a tool's schema in place.
    return this.tools().map((t) => ({ name: t.name, description: t.description, input_schema: structuredClone(t.inputSchema) }));
  }

  /**
   * Validate `input` and run the tool under its time limit. Never throws; see
   * {@link ToolOutcome}. Approval must already have been given: this runs the handler.
   */
  invoke(tool: LoadedTool, input: unknown, ctx: InvokeContext): Promise<ToolOutcome> {
    return invokeTool(tool, input, ctx, this.#defaultTimeoutMs);
  }

  /**
   * Run every skill's `startup`, one after another, each under the default time limit.
   * A failing startup is logged on that skill's logger and returned, never thrown: one skill's
   * broken start must not keep the others (or the runtime) from starting.
   */
  async runStartups(ctxFor: (skill: LoadedSkill) => StartupContext): Promise<SkillError[]> {
    const errors: SkillError[] = [];
    for (const skill of this.#skills) {
      if (!skill.startup) continue;
      const path = skill.modulePath ?? skill.dir;
      let ctx: StartupContext | undefined;
      try {
        ctx = ctxFor(skill);
        await withTimeLimit(Promise.resolve().then(() => skill.startup?.(ctx as StartupContext)), this.#defaultTimeoutMs);
      } catch (err) {
        const error = new SkillError(path, `startup of skill ${skill.name} failed: ${errorMessage(err)}`, { cause: err, code: 'skill_startup_failed' });
        ctx?.logger.error({ skill: skill.name, err: errorMessage(err) }, 'skill.startup_failed');
        errors.push(error);
      }
    }
    return errors;
  }
}

async function withTimeLimit(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`did not finish within ${ms / 1000} s`)), Math.min(ms, 2_147_483_647));
  });
  try {
    await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}
