/**
 * Runs one tool call: validate, run `handle` under a time limit, turn the result into text.
 * Every way a call can go wrong becomes a {@link ToolOutcome}; nothing here throws, because a
 * failing tool is a result for the model, not a failing turn.
 */
import { errorMessage } from '../errors.ts';
import type { LoadedTool, ToolContext } from './types.ts';
import { wasValidatedBy } from './input-validator.ts';

/** How a call ended. `invalid_input` means `handle` never ran. */
export type ToolOutcome =
  | { status: 'succeeded'; output: string }
  | { status: 'failed'; error: string; /** True when the handler was abandoned (time limit, cancellation) and may still be running. */ mayStillRun?: boolean }
  | { status: 'invalid_input'; error: string };

/** The context a caller passes: a {@link ToolContext} whose `signal` (turn cancellation) is optional. */
export type InvokeContext = Omit<ToolContext, 'signal'> & { signal?: AbortSignal };

/** setTimeout fires at once for delays above this (2^31 - 1 ms), so longer limits are clamped. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Invoke `tool` with `input`.
 *
 * - The input is validated first; invalid input never reaches `handle`. A value the same
 *   tool's `validate` already produced is not parsed twice.
 * - `handle` gets an AbortSignal that fires at the tool's time limit (`tool.timeoutMs`, else
 *   `defaultTimeoutMs`) or when `ctx.signal` aborts. At that moment the call resolves
 *   `failed`; a handler that ignores the signal is not waited for.
 * - Output: strings as they are, `undefined` as "(no output)", anything else as indented JSON.
 */
export async function invokeTool(tool: LoadedTool, input: unknown, ctx: InvokeContext, defaultTimeoutMs: number): Promise<ToolOutcome> {
  const validation = wasValidatedBy(tool.name, input) ? { ok: true as const, value: input } : tool.validate(input);
  if (!validation.ok) return { status: 'invalid_input', error: validation.error };
  const caller = ctx.signal;
  if (caller?.aborted) return { status: 'failed', error: `cancelled before it started${reasonSuffix(caller.reason)}` };

  const limitMs = Math.min(Math.max(tool.timeoutMs ?? defaultTimeoutMs, 1), MAX_TIMER_MS);
  const controller = new AbortController();
  let stopped: ToolOutcome | undefined;
  let stop!: (outcome: ToolOutcome) => void;
  const whenStopped = new Promise<ToolOutcome>((resolve) => {
    stop = (outcome) => {
      if (stopped) return;
      stopped = outcome;
      resolve(outcome);
    };
  });
  const timer = setTimeout(() => {
    const message = `timed out after ${formatSeconds(limitMs)} s`;
    // Resolve before aborting, so a handler that rejects on abort cannot win the race with a
    // less useful "This operation was aborted".
    stop({ status: 'failed', error: message, mayStillRun: true });
    controller.abort(new TimeoutError(message));
  }, limitMs);
  const onCallerAbort = (): void => {
    stop({ status: 'failed', error: `cancelled before it finished${reasonSuffix(caller?.reason)}`, mayStillRun: true });
    controller.abort(caller?.reason);
  };
  caller?.addEventListener('abort', onCallerAbort, { once: true });

  const run = (async (): Promise<ToolOutcome> => {
    try {
      const value = await tool.handle(validation.value, { ...ctx, signal: controller.signal });
      if (stopped) ctx.logger.warn({ tool: tool.name, reason: 'finished after its call had already ended' }, 'tool.result_discarded');
      return formatOutput(value);
    } catch (err) {
      if (stopped) return stopped;
      return { status: 'failed', error: thrownMessage(err) };
    }
  })();
  try {
    return await Promise.race([run, whenStopped]);
  } finally {
    clearTimeout(timer);
    caller?.removeEventListener('abort', onCallerAbort);
  }
}

/** A handler's return value as the text the model gets. */
export function formatOutput(value: unknown): ToolOutcome {
  if (typeof value === 'string') return { status: 'succeeded', output: value };
  if (value === undefined) return { status: 'succeeded', output: '(no output)' };
  let text: string | undefined;
  try {
    text = JSON.stringify(value, null, 2);
  } catch (err) {
    return { status: 'failed', error: `the tool returned a value that cannot be serialised to JSON: ${errorMessage(err)}` };
  }
  if (text === undefined) return { status: 'failed', error: `the tool returned a ${typeof value}, which cannot be serialised to JSON` };
  return { status: 'succeeded', output: text };
}

class TimeoutError extends Error {
  override name = 'TimeoutError';
}

function thrownMessage(err: unknown): string {
  const message = errorMessage(err);
  if (message !== '') return message;
  return err instanceof Error ? `${err.name} with no message` : 'an error with no message';
}

function reasonSuffix(reason: unknown): string {
  if (reason === undefined) return '';
  const text = errorMessage(reason);
  return text === '' ? '' : ` (${text})`;
}

function formatSeconds(ms: number): string {
  return String(Number((ms / 1000).toFixed(3)));
}
