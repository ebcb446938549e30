/**
 * In-process promises keyed by id, resolved together when their thing settles, each abandoned
 * on its own abort signal (resolving a given value for that waiter only). A convenience for
 * callers that want to wait: whatever they wait for is persisted, and nothing depends on these.
 */
export class KeyedWaiters<T> {
  readonly #waiters = new Map<string, Set<(value: T) => void>>();

  /**
   * Wait for {@link KeyedWaiters.settle} of `id`.
   * @param onAbort The value this waiter gets when `signal` aborts first.
   */
  wait(id: string, onAbort: T, signal?: AbortSignal): Promise<T> {
    return new Promise((resolve) => {
      let set = this.#waiters.get(id);
      if (set === undefined) this.#waiters.set(id, (set = new Set()));
      const done = (value: T): void => {
        signal?.removeEventListener('abort', abort);
        resolve(value);
      };
      const abort = (): void => {
        set.delete(done);
        resolve(onAbort);
      };
      set.add(done);
      if (signal?.aborted) abort();
      else signal?.addEventListener('abort', abort, { once: true });
    });
  }

  /** Resolve every waiter of `id` with `value` and forget them. */
  settle(id: string, value: T): void {
    const set = this.#waiters.get(id);
    this.#waiters.delete(id);
    for (const resolve of set ?? []) resolve(value);
  }
}
