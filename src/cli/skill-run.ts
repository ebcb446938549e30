/**
 * `mithai skill run SKILL__TOOL --input '{...}'`: run one tool by hand, without the model, the
 * way the model's calls run: the input is validated, the same policy decides the level, a gated
 * call asks for approval in this terminal (or from piped stdin), the decision and the outcome
 * go to the audit log, and the result is printed. It is how an operator tries a skill before
 * letting the model near it (StackStorm users know it as `st2 run`).
 *
 * The real engine runs the call, driven by {@link DirectCallModel} instead of the model, so
 * nothing here re-implements the gate. No API key is needed.
 *
 * Exit codes: 0 the tool ran and succeeded; 1 it failed, was denied, expired or was refused; 2
 * bad arguments (unknown tool, input that is not JSON or does not validate); 130 interrupted.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { localLogin } from './approval-decision.ts';
import type { Command } from 'commander';
import { ACCEPT_GAP_FLAG } from '../audit/audit-log.ts';
import { nearestName } from '../config/nearest-name.ts';
import { errorMessage } from '../errors.ts';
import { createRuntime, type Runtime } from '../engine/create-runtime.ts';
import { sessionKey } from '../engine/session-key.ts';
import type { Turn } from '../engine/types.ts';
import { DirectCallModel } from '../llm/direct-call-model.ts';
import { EXIT } from './exit-codes.ts';
import type { ExitCode } from './main.ts';
import { loadFromOptions, withConfigOption } from './options.ts';
import { printable } from './printable.ts';
import { closeLogDestination, openTerminalSession, terminalLogDestination } from './terminal-session.ts';

interface SkillRunOptions {
  config: string;
  input?: string;
  inputFile?: string;
  user?: string;
  logStderr?: boolean;
  acceptAuditGap?: boolean;
}

export function registerSkillRun(skill: Command, exit: ExitCode): void {
  withConfigOption(skill.command('run'))
    .argument('<tool>', 'the tool, as skill__tool (see `mithai skill list`)')
    .option('--input <json>', 'the tool input as a JSON object (default {})')
    .option('--input-file <path>', 'read the JSON input from a file (- for stdin)')
    .option('--user <name>', 'the name you act as (default: your login name)')
    .option('--log-stderr', 'write logs to stderr instead of the log file')
    .option(ACCEPT_GAP_FLAG, 'start although the audit file lost records the state database has')
    .description('run one tool without the model: same validation, policy, approval and audit')
    .action(async (tool: string, options: SkillRunOptions) => {
      exit.code = await skillRun(tool, options);
    });
}

async function skillRun(toolName: string, options: SkillRunOptions): Promise<number> {
  const loaded = loadFromOptions(options);
  let input: unknown;
  try {
    input = readInput(options);
  } catch (err) {
    process.stderr.write(`mithai: ${printable(errorMessage(err))}\n`);
    return EXIT.usage;
  }
  const logDestination = terminalLogDestination(loaded, options.logStderr === true, 'skill-run.log');
  const callId = `toolu_run_${randomBytes(9).toString('hex')}`;
  const model = new DirectCallModel(toolName, input, callId);
  const runtime = await createRuntime(loaded, { logDestination, acceptAuditGap: options.acceptAuditGap === true, model });
  try {
    const tool = runtime.registry.get(toolName);
    if (tool === undefined) {
      const known = runtime.registry.tools().map((t) => t.name);
      const suggestion = nearestName(toolName, known);
      process.stderr.write(printable(`mithai: no tool named "${toolName}"${suggestion === undefined ? '' : ` (did you mean ${suggestion}?)`}; known tools: ${known.join(', ') || '(none)'}\n`));
      return EXIT.usage;
    }
    const validation = tool.validate(input);
    if (!validation.ok) {
      process.stderr.write(`mithai: invalid input for ${tool.name}: ${printable(validation.error)}\n`);
      return EXIT.usage;
    }
    const user = options.user ?? localLogin();
    const session = openTerminalSession(runtime, { user, botName: 'result' });
    const conversation = { platform: 'terminal' as const, team: 'local', channel: 'terminal', thread: `skill-run-${new Date().toISOString()}-${callId.slice(-6)}` };
    runtime.engine.attach(session.adapter, { signal: session.stop.signal, platform: 'terminal', sessionKey: sessionKey(conversation) });
    runtime.expiry.start();
    const unhandleSignals = session.handleSignals();
    try {
      const turn: Turn = { conversation, user, text: `mithai skill run ${tool.name} ${model.marker}`, canAskHuman: true, sentAt: new Date() };
      await runtime.engine.handleTurn(turn, session.adapter, session.stop.signal);
      if (session.stop.signal.aborted) await abandonRun(runtime, sessionKey(conversation));
    } finally {
      unhandleSignals();
      await runtime.engine.drain(5_000);
      await session.adapter.stop();
      session.lines.close();
    }
    if (session.stop.signal.aborted) return EXIT.interrupted;
    return model.result !== undefined && model.result.is_error !== true ? EXIT.ok : EXIT.failed;
  } finally {
    runtime.close();
    await closeLogDestination(logDestination);
  }
}

/**
 * Interrupted (Ctrl-C, SIGTERM) before the call settled: no process can carry this run on (a
 * skill run has no --session), so its pending approval is cancelled and its turn finished
 * here. Left pending, a later decision or expiry would carry the turn on in whatever terminal
 * process is running then: `mithai chat` would send it to the real model, another skill run
 * would put its own call into it.
 */
async function abandonRun(runtime: Runtime, key: string): Promise<void> {
  for (const approval of runtime.approvals.listByState(['pending'])) {
    if (approval.sessionKey === key) runtime.engine.cancelPending(approval.id, 'mithai skill run was interrupted before a decision');
  }
  const done = AbortSignal.timeout(5_000);
  for (const id of runtime.turns.listUnfinishedIdsInSession(key)) await runtime.engine.whenFinished(id, done);
}

/** The tool input from --input or --input-file: a JSON object. */
function readInput(options: SkillRunOptions): unknown {
  if (options.input !== undefined && options.inputFile !== undefined) throw new Error('give --input or --input-file, not both');
  let text = options.input ?? '{}';
  let source = '--input';
  if (options.inputFile !== undefined) {
    source = options.inputFile === '-' ? 'stdin' : options.inputFile;
    try {
      text = readFileSync(options.inputFile === '-' ? 0 : options.inputFile, 'utf8');
    } catch (err) {
      throw new Error(`cannot read --input-file ${options.inputFile}: ${errorMessage(err)}`);
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new Error(`the input in ${source} is not JSON: ${errorMessage(err)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`the input in ${source} must be a JSON object, like '{"name": "worker"}'`);
  return value;
}
