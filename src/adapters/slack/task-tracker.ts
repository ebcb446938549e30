/**
 * Work started from a Slack listener runs off the request path (the listener returns at once,
 * so a turn waiting for an approval never holds up the click that approves it). This tracker
 * remembers that work so shutdown can wait for it before the database is closed.
 */
import type { Logger } from 'pino';
import { errorMessage } from '../../errors.ts';

/** Background tasks, each logged if it fails, awaited together on shutdown. */
export class TaskTracker {
  readonly #tasks = new Set<Promise<void>>();
  readonly #logger: Logger;

  /** @param logger Where a failed task is reported. */
  constructor(logger: Logger) {
    this.#logger = logger;
  }

  /** Start `work` in the background. Never throws; a failure is logged under `name`. */
  run(name: string, work: () => Promise<unknown>): void {
    const task: Promise<void> = Promise.resolve()
      .then(work)
      .then(
        () => undefined,
        (err: unknown) => {
          this.#logger.error({ task: name, err: errorMessage(err), stack: err instanceof Error ? err.stack : undefined }, 'slack.task_failed');
        },
      )
      .finally(() => this.#tasks.delete(task));
    this.#tasks.add(task);
  }

  /** How many tasks are running. */
  get size(): number {
    return this.#tasks.size;
  }

  /**
   * Resolve once no task is running (tasks started meanwhile are waited for too), or after
   * `timeoutMs`. @returns true when idle, false on timeout.
   */
  async idle(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const drained = (async (): Promise<true> => {
      while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks]);
      return true;
    })();
    try {
      return await Promise.race([drained, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}
