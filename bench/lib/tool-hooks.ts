/**
 * How the bench sees a tool start, in both systems alike: the tool's handler calls
 * `globalThis.__mithaiBench?.toolStarted(tool, input, thread)` first thing. In-process the bench
 * installs a listener that stamps `performance.now()`; in a child process the hook is absent
 * and the call does nothing.
 */
export const HOOK_KEY = '__mithaiBench';

/** A tool handler entered. */
export interface ToolStart {
  tool: string;
  service: string;
  thread: string;
  at: number;
}

interface Hook {
  toolStarted(tool: string, input: unknown, thread: string | undefined): void;
}

const listeners = new Set<(start: ToolStart) => void>();

function hook(): Hook {
  return {
    toolStarted(tool, input, thread) {
      const at = performance.now();
      const service = input && typeof input === 'object' && typeof (input as { service?: unknown }).service === 'string' ? (input as { service: string }).service : '';
      for (const l of listeners) l({ tool, service, thread: thread ?? '', at });
    },
  };
}

/** Call the hook (the baseline's tools do; mithai's skill does the same from generated code). */
export function toolStarted(tool: string, input: unknown, thread: string | undefined): void {
  ((globalThis as Record<string, unknown>)[HOOK_KEY] as Hook | undefined)?.toolStarted(tool, input, thread);
}

/** Listen to tool starts; returns the unsubscribe function. */
export function onToolStart(listener: (start: ToolStart) => void): () => void {
  (globalThis as Record<string, unknown>)[HOOK_KEY] ??= hook();
  listeners.add(listener);
  return () => listeners.delete(listener);
}
