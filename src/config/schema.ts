/**
 * The zod schema of config.yaml. Every object is strict, so a typo such as
 * `human.timeout_secs` is an error rather than a silently ignored key.
 * Numbers and booleans also accept their string forms, because `${VAR}` substitution
 * always yields strings (`max_tokens: ${MAX_TOKENS:-4096}` must become the number 4096).
 */
import { z } from 'zod';

/** Human policy levels, weakest to strongest. */
export const LEVELS = ['auto', 'approve', 'confirm'] as const;
export type Level = (typeof LEVELS)[number];

function numberFrom(schema: z.ZodNumber) {
  return z.preprocess((v) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v), schema);
}
function booleanFrom() {
  return z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
}
/** A list of strings; a single comma-separated string (typical of `${VAR}`) is split. */
function stringList() {
  return z.preprocess(
    (v) => (typeof v === 'string' ? v.split(',').map((s) => s.trim()).filter((s) => s !== '') : v),
    z.array(z.string().min(1)),
  );
}

const slackSchema = z
  .strictObject({
    bot_token: z.string().optional(),
    app_token: z.string().optional(),
    respond: z.enum(['mentions', 'all']).default('mentions'),
    allowed_users: stringList().default([]),
    allowed_channels: stringList().default([]),
    api_url: z.url().default('https://slack.com/api/'),
    /** How long `mithai run` lets running tool calls finish on SIGTERM/SIGINT before recording them unknown. */
    shutdown_grace_seconds: numberFrom(z.number().positive()).default(30),
    /** Admit users of another organisation (Slack Connect) as talkers and approvers. */
    allow_external_users: booleanFrom().default(false),
    /** Reply and post cards in channels shared with another organisation. */
    allow_external_channels: booleanFrom().default(false),
    /**
     * What a turn shows in its thread while it works: `auto` (Slack's assistant thread status
     * where Slack accepts it, else one status message updated in place), `status` (the
     * assistant status only), `message` (the status message only) or `off`.
     */
    progress: z.enum(['auto', 'status', 'message', 'off']).default('auto'),
  })
  .prefault({});

export const configSchema = z.strictObject({
  bot: z
    .strictObject({
      name: z.string().min(1).default('mithai'),
      persona: z.string().default('You are a helpful operations assistant for an SRE team.'),
    })
    .prefault({}),
  adapter: z.strictObject({ slack: slackSchema }).prefault({}),
  llm: z
    .strictObject({
      provider: z.literal('anthropic').default('anthropic'),
      model: z.string().min(1).default('claude-sonnet-4-6'),
      max_tokens: numberFrom(z.number().int().positive()).default(4096),
      anthropic: z
        .strictObject({
          api_key: z.string().optional(),
          base_url: z.url().optional(),
          max_retries: numberFrom(z.number().int().min(0).max(10)).default(3),
          timeout_seconds: numberFrom(z.number().positive()).default(600),
        })
        .prefault({}),
    })
    .prefault({}),
  agent: z
    .strictObject({
      max_iterations: numberFrom(z.number().int().positive()).default(20),
      max_tool_result_chars: numberFrom(z.number().int().positive()).default(16000),
      max_history_messages: numberFrom(z.number().int().positive()).default(100),
      /** Estimated tokens of system prompt, tools and history per model request; older whole turns are left out beyond it. */
      context_budget_tokens: numberFrom(z.number().int().min(1000)).default(100_000),
      tool_timeout_seconds: numberFrom(z.number().positive()).default(60),
      max_tool_calls_per_turn: numberFrom(z.number().int().positive()).default(50),
      max_tokens_per_turn: numberFrom(z.number().int().positive()).default(1_000_000),
    })
    .prefault({}),
  skills: z
    .strictObject({
      paths: z.array(z.string().min(1)).default(['./skills']),
      enabled: stringList().optional(),
      /** Built-in skills to load (http, kubernetes, memory, shell); a project skill of the same name replaces one. */
      builtin: stringList().default([]),
      config: z.record(z.string(), z.unknown()).default({}),
    })
    .prefault({}),
  human: z
    .strictObject({
      timeout_seconds: numberFrom(z.number().positive()).default(300),
      /** How long after the decision an approved call may still start (e.g. after a restart). */
      approval_valid_seconds: numberFrom(z.number().positive()).default(900),
      approvers: stringList().default([]),
      /** A `confirm` call needs someone other than the requester to approve it (the seeds: confirm is for what a second human should review). */
      confirm_requires_second_person: booleanFrom().default(true),
      /** A gated call made in a session that took in untrusted content needs someone other than the requester to approve it. */
      tainted_requires_second_person: booleanFrom().default(true),
      overrides: z.record(z.string().regex(/^[a-z0-9_-]+__[A-Za-z0-9_-]+$/, 'expected a tool name like skill__tool'), z.enum(LEVELS)).default({}),
    })
    .prefault({}),
  memory: z.strictObject({ path: z.string().min(1).default('./memory') }).prefault({}),
  state: z
    .strictObject({
      path: z.string().min(1).default('./.mithai/state'),
      /**
       * Days a settled approval (denied, expired, cancelled, succeeded, failed, unknown) keeps its
       * tool input in the state database; after that only a `{"purged":true}` marker is kept
       * (fingerprint, tool, who and when stay). 0 keeps inputs forever.
       */
      approval_input_retention_days: numberFrom(z.number().int().min(0)).default(30),
    })
    .prefault({}),
  logging: z
    .strictObject({
      level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
      /**
       * How lines reach stdout (or stderr): `pretty` (pino-pretty, for people) or `json` (one
       * object a line, for machines). Unset: pretty exactly when the stream is a terminal.
       * `logging.file` always gets JSON.
       */
      format: z.enum(['pretty', 'json']).optional(),
      file: z.string().min(1).optional(),
    })
    .prefault({}),
});

/** The parsed, defaulted configuration the program uses. */
export type Config = z.infer<typeof configSchema>;
