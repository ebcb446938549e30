/**
 * Lines from a stream, one at a time, to whoever asks next: the chat loop asks for the next
 * message, an approval prompt asks for the answer. A read can be abandoned (the approval was
 * decided or expired meanwhile) without consuming a line.
 */
import { createInterface, type Interface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';

export class LineReader {
  readonly #lines: string[] = [];
  readonly #waiters: Array<(line: string | null) => void> = [];
  readonly #rl: Interface;
  #ended = false;

  /**
   * @param onInterrupt Called on Ctrl-C in a terminal (readline swallows the signal otherwise
   *   and merely pauses the input).
   */
  constructor(input: Readable, output?: Writable, terminal = false, onInterrupt?: () => void) {
    this.#rl = createInterface({ input, output, terminal });
    if (onInterrupt) this.#rl.on('SIGINT', onInterrupt);
    this.#rl.on('line', (line) => {
      const waiter = this.#waiters.shift();
      if (waiter) waiter(line);
      else this.#lines.push(line);
    });
    this.#rl.on('close', () => {
      this.#ended = true;
      for (const waiter of this.#waiters.splice(0)) waiter(null);
    });
  }

  /** Show a prompt (interactive terminals only). */
  prompt(text: string): void {
    this.#rl.setPrompt(text);
    this.#rl.prompt();
  }

  /**
   * The next line, or null at end of input or when `signal` aborts first (then no line is
   * consumed).
   */
  next(signal?: AbortSignal): Promise<string | null> {
    const queued = this.#lines.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    if (this.#ended || signal?.aborted) return Promise.resolve(null);
    return new Promise((resolve) => {
      const waiter = (line: string | null): void => {
        signal?.removeEventListener('abort', onAbort);
        resolve(line);
      };
      const onAbort = (): void => {
        const i = this.#waiters.indexOf(waiter);
        if (i >= 0) this.#waiters.splice(i, 1);
        resolve(null);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#waiters.push(waiter);
    });
  }

  /** Drop lines that were typed but not read yet. */
  discardQueued(): void {
    this.#lines.length = 0;
  }

  /** True once the input has ended and every line was read. */
  get isDone(): boolean {
    return this.#ended && this.#lines.length === 0;
  }

  close(): void {
    this.#rl.close();
  }
}
