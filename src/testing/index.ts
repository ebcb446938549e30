/**
 * `mithai/testing`: helpers for unit-testing skill handlers without a runtime.
 *
 * ```ts
 * import { createTestToolContext } from 'mithai/testing';
 * import skill from './tools.ts';
 *
 * const ctx = createTestToolContext({ config: { cluster: 'test' } });
 * const out = await skill.tools.get_pods.handle({ namespace: 'default' }, ctx);
 * ```
 */
import { pino } from 'pino';
import { childEnv } from '../skills/child-env.ts';
import { readablePath, writablePath } from '../memory/memory-paths.ts';
import type { SkillMemory, SkillState, ToolContext } from '../skills/types.ts';

/**
 * A {@link ToolContext} for tests: an empty config, an in-memory {@link SkillState} (values
 * are copied through JSON, as the real store persists them), a memory whose MEMORY.md is empty
 * and whose daily notes are kept in memory, a silent logger, a fresh AbortSignal, and fixed
 * user/channel/thread/callId values. Any field can be replaced through `overrides`.
 */
export function createTestToolContext(overrides: Partial<ToolContext> = {}): ToolContext {
  return {
    config: {},
    state: new MemorySkillState(),
    memory: new MemorySkillMemory(),
    logger: pino({ level: 'silent' }),
    user: 'U_TEST',
    channel: 'C_TEST',
    thread: '1700000000.000100',
    signal: new AbortController().signal,
    callId: 'test-call-1',
    childEnv: () => childEnv(process.env),
    ...overrides,
  };
}

class MemorySkillState implements SkillState {
  readonly #values = new Map<string, string>();

  get<T = unknown>(key: string): T | undefined {
    const json = this.#values.get(key);
    return json === undefined ? undefined : (JSON.parse(json) as T);
  }

  set(key: string, value: unknown): void {
    // Round-trip through JSON so a test sees the same failures the persisted store would.
    const json = JSON.stringify(value);
    if (json === undefined) throw new TypeError(`state value for "${key}" cannot be stored as JSON`);
    this.#values.set(key, json);
  }

  delete(key: string): void {
    this.#values.delete(key);
  }

  keys(): string[] {
    return [...this.#values.keys()];
  }
}

/** Memory kept in a map, with the same path rules as the real memory folder. */
class MemorySkillMemory implements SkillMemory {
  readonly notes: string[] = [];
  readonly files = new Map<string, string>();

  async readMemory(): Promise<string> {
    return this.files.get('MEMORY.md') ?? '';
  }

  async appendDailyNote(text: string): Promise<void> {
    this.notes.push(text);
  }

  async readFile(path: string): Promise<string> {
    const text = this.files.get(readablePath(path).path);
    if (text === undefined) throw new Error(`memory file ${path} does not exist`);
    return text;
  }

  async writeFile(path: string, content: string): Promise<void> {
    this.files.set(writablePath(path).path, content);
  }

  async listFiles(): Promise<string[]> {
    return [...this.files.keys()].sort();
  }
}
