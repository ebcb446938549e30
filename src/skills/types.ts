/**
 * Types a skill author sees (`ToolContext`, `ToolSpec`, `SkillSpec`) and the normalised form
 * the runtime uses after loading (`LoadedSkill`, `LoadedTool`), whichever shape the module had.
 */
import type { z } from 'zod';
import type { Logger } from 'pino';
import type { Level } from '../config/schema.ts';

/** What a tool declares: a level, or `dynamic` (the skill's `resolveHuman` decides per call). */
export type DeclaredHuman = Level | 'dynamic';

/** A persisted key-value store scoped to one skill. Values are JSON. */
export interface SkillState {
  get<T = unknown>(key: string): T | undefined;
  set(key: string, value: unknown): void;
  delete(key: string): void;
  keys(): string[];
}

/**
 * The memory folder: MEMORY.md, today's daily note, and other text files by relative path.
 * Paths are checked (relative, no `..`, no links, never the audit log, a secrets file or a
 * daily note for writing) and written text is redacted.
 */
export interface SkillMemory {
  readMemory(): Promise<string>;
  appendDailyNote(text: string): Promise<void>;
  /** A file's text (`runbooks/db.md`); throws for refused or missing paths. */
  readFile(path: string): Promise<string>;
  /** Replace or create a text file (redacted); throws for refused paths. */
  writeFile(path: string, content: string): Promise<void>;
  /** The readable files, relative paths, sorted. */
  listFiles(): Promise<string[]>;
}

/** Passed to every `handle`, `resolveHuman` and `startup` call. */
export interface ToolContext {
  /** This skill's block of `skills.config.<skill>` (an empty object when absent). */
  config: Record<string, unknown>;
  state: SkillState;
  memory: SkillMemory;
  logger: Logger;
  /** Who asked (Slack user id, or the local user name in the terminal). */
  user: string;
  channel: string;
  thread: string;
  /** Aborted when the tool's time limit passes or the turn is cancelled. */
  signal: AbortSignal;
  /** Stable id of this call; use it as an idempotency key toward remote systems. */
  callId: string;
  /**
   * The environment to give a child process: the runtime's own without any credential
   * (secret-named variables, cloud and Slack/Anthropic variables, any value the runtime
   * redacts). Pass it to `runArgv` (or `spawn`) instead of letting the child inherit `process.env`.
   */
  childEnv(): Record<string, string>;
}

/** Context for `startup` (no user, no call). */
export interface StartupContext {
  config: Record<string, unknown>;
  state: SkillState;
  memory: SkillMemory;
  logger: Logger;
}

/** A tool in the `defineSkill` shape. `input` must be a `z.object(...)`. */
export interface ToolSpec<S extends z.ZodType = z.ZodType> {
  description: string;
  /** Human policy. Omitted means `approve`. Read-only tools should say `auto` explicitly. */
  human?: DeclaredHuman;
  /** True when the tool changes nothing. Used for taint escalation. */
  readOnly?: boolean;
  /** True when the result carries outside content (web pages, logs); it is wrapped as untrusted. */
  untrustedOutput?: boolean;
  /** Per-tool time limit, overriding `agent.tool_timeout_seconds`. */
  timeoutSeconds?: number;
  input: S;
  /** The phrase a `confirm` approver must type. Defaults to the tool name. */
  confirmPhrase?: (input: z.infer<S>) => string;
  handle: (input: z.infer<S>, ctx: ToolContext) => unknown;
}

/** What `resolveHuman` may return: a level, or null (= auto). Anything else fails closed. */
export type ResolveHuman = (tool: string, input: unknown, ctx: ToolContext) => Level | null | Promise<Level | null>;

export interface SkillSpec {
  tools: Record<string, ToolSpec>;
  resolveHuman?: ResolveHuman;
  startup?: (ctx: StartupContext) => void | Promise<void>;
}

/** Outcome of validating tool input. */
export type ValidationResult = { ok: true; value: unknown } | { ok: false; error: string };

/** A tool after loading, the same for both module shapes. */
export interface LoadedTool {
  /** Canonical `skill__tool` name. */
  name: string;
  skill: string;
  /** The tool's name inside its skill. */
  localName: string;
  description: string;
  /** undefined when the tool declared nothing (the policy then uses `approve`). */
  declared: DeclaredHuman | undefined;
  readOnly: boolean;
  untrustedOutput: boolean;
  timeoutMs: number | undefined;
  /** JSON Schema (type: object) sent to the model. */
  inputSchema: Record<string, unknown>;
  validate(input: unknown): ValidationResult;
  confirmPhrase(input: unknown): string;
  handle(input: unknown, ctx: ToolContext): Promise<unknown>;
}

/** Where a skill came from: the package's built-ins, or the project's `skills.paths`. */
export type SkillOrigin = 'builtin' | 'project';

export interface LoadedSkill {
  name: string;
  origin: SkillOrigin;
  /** True for a project skill that replaces the built-in of the same name. */
  overridesBuiltin?: boolean;
  description: string;
  /** SKILL.md body (front matter removed); goes into the system prompt. */
  instructions: string;
  /** Absolute path of the skill folder. */
  dir: string;
  /** Absolute path of tools.ts/tools.js, if any. */
  modulePath: string | undefined;
  tools: LoadedTool[];
  resolveHuman: ResolveHuman | undefined;
  startup: ((ctx: StartupContext) => void | Promise<void>) | undefined;
}
