/**
 * One error family for the whole runtime. Every error carries a stable string `code`;
 * the subclass says whose fault it is, so callers can decide what to show and to whom.
 *
 * - {@link ConfigError}: the operator's config.yaml / .env is wrong.
 * - {@link SkillError}: a skill module is broken (author's fault).
 * - {@link ToolInputError}: the model sent tool input that does not match the schema.
 * - {@link ModelError}: the model API failed or answered with something unusable.
 * - {@link StateError}: persisted state is unreadable or of an unknown version.
 * - {@link AuditError}: the audit log could not be written or does not verify.
 * - {@link InternalError}: our own bug.
 */
export class MithaiError extends Error {
  /** Stable machine-readable code, e.g. `config_invalid`. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The operator's configuration (config.yaml, .env, CLI flags) is wrong. */
export class ConfigError extends MithaiError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'config_invalid', message, options);
  }
}

/** A skill module could not be loaded or defines something invalid. */
export class SkillError extends MithaiError {
  /** Path of the skill folder or module at fault. */
  readonly skillPath: string;
  constructor(skillPath: string, message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'skill_invalid', message, options);
    this.skillPath = skillPath;
  }
}

/** Tool input from the model failed schema validation. */
export class ToolInputError extends MithaiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('tool_input_invalid', message, options);
  }
}

/** The model API failed, or answered with something we cannot use. */
export class ModelError extends MithaiError {
  /** HTTP status when the failure came from the API. */
  readonly status: number | undefined;
  /** True when retrying later may help (429, 5xx, overloaded, connection errors). */
  readonly isRetryable: boolean;
  constructor(message: string, options: { status?: number; isRetryable: boolean; cause?: unknown; code?: string }) {
    super(options.code ?? 'model_error', message, options);
    this.status = options.status;
    this.isRetryable = options.isRetryable;
  }
}

/** Persisted state is unreadable, of an unknown schema version, or inconsistent. */
export class StateError extends MithaiError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'state_invalid', message, options);
  }
}

/** The audit log could not be appended to, or failed verification. */
export class AuditError extends MithaiError {
  constructor(message: string, options?: { cause?: unknown; code?: string }) {
    super(options?.code ?? 'audit_failed', message, options);
  }
}

/** A bug in mithai itself. */
export class InternalError extends MithaiError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('internal', message, options);
  }
}

/**
 * Normalise anything thrown into a {@link MithaiError}. Call this once, at a boundary
 * (adapter entry, tool invocation), never deep inside.
 */
export function asMithaiError(err: unknown): MithaiError {
  if (err instanceof MithaiError) return err;
  if (err instanceof Error) return new InternalError(err.message, { cause: err });
  return new InternalError(String(err));
}

/** The message of anything thrown, without assuming it is an Error. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
