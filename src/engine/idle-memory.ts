/**
 * Give memory back once a burst is over. A burst of turns (an incident: hundreds of mentions
 * and cards at once) grows V8's heap well beyond what the process keeps alive afterwards, and
 * V8 keeps that room until a full collection shrinks it, which a quiet process may not run for
 * a long while. So when no turn step has run for {@link IDLE_RELEASE_AFTER_MS}, full
 * collections run, once per quiet spell: the heap shrinks to what is alive and the pages go
 * back to the system. Nothing runs while steps are running or while the process stays quiet.
 *
 * The collection needs `gc()`, which Node exposes only behind `--expose-gc`; the flag is set at
 * run time (`v8.setFlagsFromString`), which makes `gc` available to contexts created after it,
 * and one such context hands it back. Where that is refused, the release does nothing.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Clock } from '../clock.ts';

/** How long the engine must have run no step before memory is given back. */
export const IDLE_RELEASE_AFTER_MS = 1_000;
/** Full collections per quiet spell. */
const COLLECTIONS = 3;

/** A full collection, or undefined where this Node refuses to expose one. */
function exposedGc(): (() => void) | undefined {
  const existing = (globalThis as { gc?: unknown }).gc;
  if (typeof existing === 'function') return existing as () => void;
  try {
    setFlagsFromString('--expose-gc');
    const gc: unknown = runInNewContext('gc');
    return typeof gc === 'function' ? (gc as () => void) : undefined;
  } catch {
    return undefined;
  }
}

/** Counts running steps; runs one full collection after each quiet spell. */
export class IdleMemoryRelease {
  readonly #clock: Clock;
  readonly #afterMs: number;
  /** Undefined until first needed (exposing gc creates a context: not on the start-up path). */
  #collect: (() => void) | undefined | null;
  #running = 0;
  #timer: unknown;
  /** A step ran since the last collection. */
  #isDirty = false;
  #isStopped = false;

  /**
   * @param collect The collection to run (default: V8's full collection, when it can be had).
   */
  constructor(clock: Clock, options: { afterMs?: number; collect?: () => void } = {}) {
    this.#clock = clock;
    this.#afterMs = options.afterMs ?? IDLE_RELEASE_AFTER_MS;
    this.#collect = options.collect ?? null;
  }

  /** A step started. */
  stepStarted(): void {
    this.#running += 1;
    this.#isDirty = true;
    this.#disarm();
  }

  /** A step ended (however it ended). */
  stepEnded(): void {
    this.#running = Math.max(0, this.#running - 1);
    if (this.#running > 0 || !this.#isDirty || this.#isStopped) return;
    this.#disarm();
    const timer = this.#clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.#running > 0 || this.#isStopped) return;
      this.#isDirty = false;
      // One collection frees the garbage; V8 shrinks the old space's room a step at each
      // collection, so the next two give most of it back (tens of milliseconds, while idle).
      if (this.#collect === null) this.#collect = exposedGc();
      for (let i = 0; i < COLLECTIONS; i++) this.#collect?.();
    }, this.#afterMs);
    (timer as { unref?: () => void }).unref?.();
    this.#timer = timer;
  }

  /** Nothing more runs (shutdown). */
  stop(): void {
    this.#isStopped = true;
    this.#disarm();
  }

  #disarm(): void {
    if (this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
