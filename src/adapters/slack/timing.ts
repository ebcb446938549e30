/** Small timing helpers for shutdown bounds and retries (timers never keep the process alive). */

/** Resolve after `ms` (unref'd timer). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/**
 * Wait for `work`, but at most `ms`. @returns true when `work` settled in time (its rejection
 * is swallowed: callers use this for best-effort steps whose errors are logged elsewhere).
 */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
    timer.unref();
  });
  try {
    return await Promise.race([work.then(() => true as const, () => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
