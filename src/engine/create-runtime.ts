/**
 * Builds everything a command needs from a loaded config: logger, redactor, database, stores,
 * audit log, approval gate, skills, model and engine. Adapters get the result; nothing here
 * knows about Slack or the terminal.
 */
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load-config.ts';
import { requireSecret } from '../config/require-secret.ts';
import { ConfigError, errorMessage } from '../errors.ts';
import { Redactor } from '../security/redactor.ts';
import { childEnv } from '../skills/child-env.ts';
import { createLogger } from '../audit/logger.ts';
import { AuditLog } from '../audit/audit-log.ts';
import { openDatabase, syncCommittedInBackground } from '../state/database.ts';
import { AuditStore } from '../state/audit-store.ts';
import { acquireProcessLock } from '../state/process-lock.ts';
import { SessionStore } from '../state/session-store.ts';
import { ApprovalStore } from '../state/approval-store.ts';
import { SkillStateStore } from '../state/skill-state-store.ts';
import { EventDedupeStore } from '../state/event-dedupe-store.ts';
import { ApprovalGate } from '../human/approval-gate.ts';
import { ApprovalExpiry } from '../human/approval-expiry.ts';
import { ApprovalWaiters } from '../human/approval-waiters.ts';
import { TurnStore } from '../state/turn-store.ts';
import { createTransactor, type Transact } from '../state/transactor.ts';
import { IdleMemoryRelease } from './idle-memory.ts';
import { TurnRunner } from './turn-runner.ts';
import { validateOverrides } from '../human/policy.ts';
import { loadOptionsFromConfig, loadSkills } from '../skills/load-skills.ts';
import { SkillRegistry } from '../skills/skill-registry.ts';
import { AnthropicModel } from '../llm/anthropic-model.ts';
import type { Model } from '../llm/types.ts';
import { MemoryFiles } from '../memory/memory-files.ts';
import { systemClock, type Clock } from '../clock.ts';
import type { SkillError } from '../errors.ts';
import { Engine } from './engine.ts';
import { ToolCallRouter } from './tool-call-router.ts';
import { buildSystemPrompt } from './system-prompt.ts';
import type { Database } from 'better-sqlite3';

export interface RuntimeOptions {
  /** Where pino logs go (default stdout). */
  logDestination?: NodeJS.WritableStream;
  /** Replace the model (tests); default builds the Anthropic client from config. */
  model?: Model;
  clock?: Clock;
  /**
   * `--accept-audit-gap`: start even though the audit file is missing records the database
   * says were written (restored from the database, and the gap is recorded in the chain).
   */
  acceptAuditGap?: boolean;
  /**
   * A long-running service (`mithai run`): after a quiet spell following a burst of turns, one
   * full collection gives the heap's extra room back to the system (see idle-memory.ts).
   */
  releaseIdleMemory?: boolean;
}

/** A wired runtime. Call `close()` once, on shutdown. */
export interface Runtime {
  loaded: LoadedConfig;
  logger: Logger;
  redactor: Redactor;
  db: Database;
  gate: ApprovalGate;
  /** Deadline timers of pending approvals (started by the serving command). */
  expiry: ApprovalExpiry;
  /** In-process waits on approvals (a terminal prompt). */
  waiters: ApprovalWaiters;
  approvals: ApprovalStore;
  turns: TurnStore;
  sessions: SessionStore;
  audit: AuditLog;
  /** One write transaction over the state; audit records reach the file after the commit. */
  transact: Transact;
  registry: SkillRegistry;
  skillErrors: SkillError[];
  engine: Engine;
  memory: MemoryFiles;
  /** false once the process lock's file was deleted or replaced while this runtime runs (see ProcessLock.isIntact). */
  isLockIntact(): boolean;
  close(): void;
}

/**
 * Build the runtime. Fails (ConfigError) when a skill is broken, an override is invalid, or
 * the Anthropic key is missing: an agent missing a skill or a policy must not start.
 */
export async function createRuntime(loaded: LoadedConfig, options: RuntimeOptions = {}): Promise<Runtime> {
  const { config } = loaded;
  const redactor = new Redactor(loaded.secrets);
  const logger = createLogger({ level: config.logging.level, format: config.logging.format, file: config.logging.file, redactor, destination: options.logDestination });
  const model = options.model ?? buildModel(loaded, logger, (t) => redactor.redact(t));

  const { skills, errors: skillErrors } = await loadSkills(loadOptionsFromConfig(config, logger));
  if (skillErrors.length > 0) {
    throw new ConfigError(`${skillErrors.length} skill(s) failed to load:\n${skillErrors.map((e) => `  ${e.skillPath}: ${e.message}`).join('\n')}\nRun \`mithai skill validate\` for details.`, { code: 'skill_load_failed' });
  }
  const registry = new SkillRegistry(skills);
  const overrideErrors = validateOverrides(config.human.overrides, registry.tools());
  if (overrideErrors.length > 0) throw new ConfigError(`${loaded.path}: ${overrideErrors.join('; ')}`);

  // One serving process per project: a second one would reconcile (cancel) this one's
  // approvals and interleave its audit appends.
  const lock = acquireProcessLock(config.state.path);
  let db: Database;
  try {
    db = openDatabase(config.state.path);
  } catch (err) {
    lock.release();
    throw err;
  }
  const clock = options.clock ?? systemClock;
  const iso = (): string => new Date(clock.now()).toISOString();
  const sessions = new SessionStore(db, clock);
  const approvals = new ApprovalStore(db);
  const turns = new TurnStore(db, iso);
  const skillState = new SkillStateStore(db);
  let audit: AuditLog;
  try {
    audit = AuditLog.open(join(config.memory.path, 'approvals.json'), {
      redactor,
      store: new AuditStore(db),
      onSyncError: (err) => logger.child({ component: 'audit' }).error({ err: errorMessage(err) }, 'audit.sync_failed'),
    });
    // Before anything is served: a torn last line is cut (and recorded), a file behind the
    // database catches up, and a missing tail, a replaced file or a file ahead of the
    // database stops the start unless the operator accepts it explicitly.
    const { findings } = audit.prepare({ acceptGap: options.acceptAuditGap === true });
    for (const finding of findings) logger.warn({ code: finding.code, seq: finding.seq, detail: finding.message }, 'audit.prepared');
  } catch (err) {
    db.close();
    lock.release();
    throw err;
  }
  const auditLogger = logger.child({ component: 'audit' });
  // After every commit that appended a record, the audit file catches up with the database
  // (fsync'd in the background); a failure here is logged and retried by the next write, and
  // no tool runs until a write has succeeded.
  const transact = createTransactor(db, (synced) => {
    try {
      audit.writeAfterCommit(synced);
    } catch (err) {
      auditLogger.error({ err: errorMessage(err) }, 'audit.write_failed');
    }
  });
  const memory = new MemoryFiles(config.memory.path, redactor);
  const gate = new ApprovalGate({
    store: approvals,
    audit,
    clock,
    transact,
    timeoutSeconds: config.human.timeout_seconds,
    approvedValidSeconds: config.human.approval_valid_seconds,
    approvers: config.human.approvers,
    confirmRequiresSecondPerson: config.human.confirm_requires_second_person,
    taintedRequiresSecondPerson: config.human.tainted_requires_second_person,
    logger: logger.child({ component: 'gate' }),
  });
  const expiry = new ApprovalExpiry({ gate, store: approvals, logger: logger.child({ component: 'gate' }) });
  // Approval inputs must stay exact to be run; once settled long enough, they are purged.
  const retentionDays = config.state.approval_input_retention_days;
  if (retentionDays > 0) {
    const purged = approvals.purgeSettledInputs(new Date(clock.now() - retentionDays * 86_400_000).toISOString());
    if (purged > 0) logger.info({ purged, retention_days: retentionDays }, 'state.inputs_purged');
  }
  const waiters = new ApprovalWaiters(gate);

  const skillConfig = (skill: string): Record<string, unknown> => {
    const value = config.skills.config[skill];
    return value && typeof value === 'object' ? (value as Record<string, unknown>) : {};
  };
  const startupErrors = await registry.runStartups((skill) => ({ config: skillConfig(skill.name), state: skillState.forSkill(skill.name), memory, logger: logger.child({ skill: skill.name }) }));
  if (startupErrors.length > 0) {
    // A skill whose startup failed must not offer half-initialised tools.
    db.close();
    lock.release();
    throw new ConfigError(`${startupErrors.length} skill(s) failed to start:\n${startupErrors.map((e) => `  ${e.skillPath}: ${e.message}`).join('\n')}`, { code: 'skill_startup_failed' });
  }

  const redact = (t: string): string => redactor.redact(t);
  const router = new ToolCallRouter({
    registry,
    gate,
    audit,
    transact,
    logger: logger.child({ component: 'tools' }),
    overrides: config.human.overrides,
    maxResultChars: config.agent.max_tool_result_chars,
    timeoutSeconds: config.human.timeout_seconds,
    redact,
    contextFor: (tool, turn, callId) => ({
      config: skillConfig(tool.skill),
      state: skillState.forSkill(tool.skill),
      memory,
      logger: logger.child({ skill: tool.skill, tool: tool.name, call_id: callId }),
      user: turn.user,
      channel: turn.conversation.channel,
      thread: turn.conversation.thread,
      callId,
      childEnv: () => childEnv(process.env, (value) => redactor.redact(value) !== value),
    }),
  });
  const runner = new TurnRunner({
    model,
    gate,
    audit,
    registry,
    sessions,
    turns,
    router,
    transact,
    logger: logger.child({ component: 'engine' }),
    maxIterations: config.agent.max_iterations,
    maxToolCallsPerTurn: config.agent.max_tool_calls_per_turn,
    maxTokensPerTurn: config.agent.max_tokens_per_turn,
    maxTokens: config.llm.max_tokens,
    maxHistoryMessages: config.agent.max_history_messages,
    contextBudgetTokens: config.agent.context_budget_tokens,
    systemPrompt: () => buildSystemPrompt({ botName: config.bot.name, persona: config.bot.persona, skills: registry.skills(), memory: redactor.redact(memory.readMemorySync()) }),
    redact,
    redactDeep: (value) => redactor.redactDeep(value),
    now: () => clock.now(),
  });
  const engine = new Engine({
    runner,
    turns,
    sessions,
    receipts: new EventDedupeStore(db),
    transact,
    syncCommits: () => syncCommittedInBackground(db),
    clock,
    gate,
    logger: logger.child({ component: 'engine' }),
    approvers: config.human.approvers,
    confirmRequiresSecondPerson: config.human.confirm_requires_second_person,
    taintedRequiresSecondPerson: config.human.tainted_requires_second_person,
    redact,
    ...(options.releaseIdleMemory === true ? { idleMemory: new IdleMemoryRelease(clock) } : {}),
  });

  let closed = false;
  // Whatever ends the process (process.exit after a second signal, a CLI command's own exit):
  // every committed record is in the file and on disk first. Synchronous, as an exit handler
  // must be.
  const flushAtExit = (): void => {
    try {
      audit.flush();
    } catch (err) {
      auditLogger.error({ err: errorMessage(err) }, 'audit.flush_failed');
    }
  };
  EXIT_FLUSHES.add(flushAtExit);
  return {
    loaded,
    logger,
    redactor,
    db,
    gate,
    expiry,
    waiters,
    approvals,
    turns,
    sessions,
    audit,
    transact,
    registry,
    skillErrors,
    engine,
    memory,
    isLockIntact: () => lock.isIntact(),
    close() {
      if (closed) return;
      closed = true;
      expiry.stop();
      EXIT_FLUSHES.delete(flushAtExit);
      // Every record in the file and on disk (and the database told so) before the database closes.
      try {
        audit.flush();
      } catch (err) {
        auditLogger.error({ err: errorMessage(err) }, 'audit.flush_failed');
      }
      audit.close();
      db.close();
      lock.release();
    },
  };
}

/** The audit flushes of the runtimes open in this process, run when it exits (one listener for all). */
const EXIT_FLUSHES = new Set<() => void>();
process.on('exit', () => {
  for (const flush of EXIT_FLUSHES) flush();
});

function buildModel(loaded: LoadedConfig, logger: Logger, redact: (text: string) => string): Model {
  const { llm } = loaded.config;
  const apiKey = requireSecret(loaded, 'llm.anthropic.api_key', 'ANTHROPIC_API_KEY');
  return new AnthropicModel({
    apiKey,
    baseURL: llm.anthropic.base_url,
    model: llm.model,
    maxRetries: llm.anthropic.max_retries,
    timeoutMs: llm.anthropic.timeout_seconds * 1000,
    logger: logger.child({ component: 'llm' }),
    redact,
  });
}
