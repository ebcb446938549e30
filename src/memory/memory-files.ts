/**
 * The memory folder: `MEMORY.md` (injected into every conversation) and `daily/YYYY-MM-DD.md`
 * notes. This module is the only one that reads or writes those files. Text written here is
 * redacted first, because memory is injected back into prompts and checked into git.
 */
import { mkdirSync, readFileSync, appendFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import type { SkillMemory } from '../skills/types.ts';

/** Anything that can redact text (the runtime passes its Redactor). */
export interface TextRedactor {
  redact(text: string): string;
}

/** Access to one project's memory folder. */
export class MemoryFiles implements SkillMemory {
  readonly dir: string;
  readonly #redactor: TextRedactor;
  readonly #today: () => Date;

  constructor(dir: string, redactor: TextRedactor, today: () => Date = () => new Date()) {
    this.dir = dir;
    this.#redactor = redactor;
    this.#today = today;
  }

  /** Path of MEMORY.md. */
  get memoryPath(): string {
    return join(this.dir, 'MEMORY.md');
  }

  /** The contents of MEMORY.md, or '' when there is none. */
  async readMemory(): Promise<string> {
    return this.readMemorySync();
  }

  /** Synchronous form of {@link readMemory}, for prompt assembly. */
  readMemorySync(): string {
    if (!existsSync(this.memoryPath)) return '';
    return readFileSync(this.memoryPath, 'utf8');
  }

  /** Append a timestamped, redacted entry to today's daily note. */
  async appendDailyNote(text: string): Promise<void> {
    const now = this.#today();
    const dir = join(this.dir, 'daily');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = join(dir, `${now.toISOString().slice(0, 10)}.md`);
    appendFileSync(file, `\n### ${now.toISOString()}\n${this.#redactor.redact(text).trim()}\n`, { mode: 0o600 });
  }
}
