/**
 * `mithai chat`: talk to the agent in a terminal. Needs only an Anthropic key. Reads stdin line
 * by line when piped, so it can be scripted (approval answers are lines too). Slash commands
 * are in ./chat-commands.ts. Piped, it exits non-zero when a turn could not be answered
 * (./exit-codes.ts: 3 the model, 4 a failed turn, 5 a gated call nobody answered), so a script
 * can tell; on a terminal the person saw it, and `/quit` exits 0.
 */
import { localLogin } from './approval-decision.ts';
import type { Command } from 'commander';
import { createRuntime } from '../engine/create-runtime.ts';
import { lockWatch } from './lock-watch.ts';
import { ACCEPT_GAP_FLAG } from '../audit/audit-log.ts';
import type { TurnResult } from '../engine/engine.ts';
import type { ConversationRef, Turn } from '../engine/types.ts';
import { sessionKey } from '../engine/session-key.ts';
import { StatusLine } from '../adapters/terminal/status-line.ts';
import { chatHelpText, chatToolsText, parseChatCommand } from './chat-commands.ts';
import { EXIT } from './exit-codes.ts';
import type { ExitCode } from './main.ts';
import { loadFromOptions, withConfigOption } from './options.ts';
import { closeLogDestination, openTerminalSession, terminalLogDestination } from './terminal-session.ts';

interface ChatOptions {
  config: string;
  session?: string;
  user?: string;
  unattended?: boolean;
  logStderr?: boolean;
  acceptAuditGap?: boolean;
}

export function registerChat(program: Command, exit: ExitCode): void {
  withConfigOption(program.command('chat'))
    .description('chat with the agent in this terminal (reads stdin line by line when piped)')
    .option('--session <name>', 'resume a named conversation (default: a new one each time)')
    .option('--user <name>', 'the name you act as (default: your login name)')
    .option('--unattended', 'deny every gated call at once instead of asking')
    .option('--log-stderr', 'write logs to stderr instead of the log file')
    .option(ACCEPT_GAP_FLAG, 'start although the audit file lost records the state database has (restored; the gap is recorded)')
    .action(async (options: ChatOptions) => {
      exit.code = await chat(options);
    });
}

async function chat(options: ChatOptions): Promise<number> {
  const loaded = loadFromOptions(options);
  const logDestination = terminalLogDestination(loaded, options.logStderr === true, 'chat.log');
  const runtime = await createRuntime(loaded, { logDestination, acceptAuditGap: options.acceptAuditGap === true });
  const user = options.user ?? localLogin();
  // The spinner only where a person watches: never in piped output, which must stay parseable,
  // nor between log lines on stderr.
  const status = new StatusLine(process.stderr, Boolean(process.stdout.isTTY) && options.logStderr !== true);
  const { adapter, lines, stop, interactive, handleSignals } = openTerminalSession(runtime, { user, botName: loaded.config.bot.name, status });
  const say = (text: string): void => void process.stdout.write(`${runtime.redactor.redact(text)}\n`);
  // Notes about the session itself: on the terminal with the conversation, on stderr when piped.
  const note = (text: string): void => void (interactive ? process.stdout : process.stderr).write(`${text}\n`);
  let conversation = newConversation(options.session);
  // This terminal serves its own conversation only: another chat's or a skill run's turn is
  // never carried on (and sent to the model) here.
  const serve = (): void => runtime.engine.attach(adapter, { signal: stop.signal, platform: 'terminal', sessionKey: sessionKey(conversation) });
  serve();
  runtime.expiry.start();
  if (interactive) say(`mithai chat as ${user} (session ${conversation.thread}). Type /help for commands, /quit to leave.`);
  if (options.session !== undefined) note(resumedText(options.session, runtime.sessions.countMessages(sessionKey(conversation)), loaded.config.agent.max_history_messages));

  // The first reason a turn was not answered, in the order they happened (piped exit code).
  let failure: number | undefined;
  const settle = async (finished: Promise<TurnResult>): Promise<void> => {
    const cancelledBefore = adapter.cancelledForNoAnswer;
    status.start();
    let result: TurnResult;
    try {
      result = await finished;
    } finally {
      status.stop();
    }
    if (adapter.cancelledForNoAnswer > cancelledBefore) failure ??= EXIT.noAnswer;
    if (result.status === 'model_error') failure ??= EXIT.modelError;
    if (result.status === 'internal_error' && !stop.signal.aborted) failure ??= EXIT.turnFailed;
  };

  // A session killed mid-turn carries on: settled approvals are shown, and a pending one is
  // asked again (the engine shows an approval again that this process has not asked about).
  const resumed = await runtime.engine.resumeAll({ sessionKey: sessionKey(conversation) });
  // Checked on the decision poll below (./lock-watch.ts): a lost lock stops the chat, exit 1.
  let hasLostLock = false;
  const isLockLost = lockWatch({
    isIntact: () => runtime.isLockIntact(),
    onLost: () => {
      hasLostLock = true;
      process.stderr.write(`mithai chat: the process lock file in ${loaded.config.state.path} was deleted or replaced while this chat ran, so another mithai could serve this project beside it; stopping. Never delete it while mithai runs.\n`);
      stop.abort();
      lines.close();
    },
  }, loaded.config.state.path, runtime.logger);
  // A decision made elsewhere (`mithai approvals approve` in another terminal) reaches the
  // waiting turn, and stops the prompt, within about a second.
  const poll = setInterval(() => {
    if (isLockLost()) return;
    try {
      runtime.engine.pollDecisions();
    } catch (err) {
      runtime.logger.error({ err: String(err) }, 'chat.poll_failed');
    }
  }, 1_000);
  poll.unref();
  for (const id of resumed.turnIds) await settle(runtime.engine.whenFinished(id, stop.signal));

  const unhandleSignals = handleSignals();
  try {
    for (;;) {
      if (interactive) lines.prompt(`${user}> `);
      const line = await lines.next(stop.signal);
      if (line === null) break;
      const text = line.trim();
      if (text === '') continue;
      const command = parseChatCommand(text);
      if (command === 'quit') break;
      if (command === 'help') say(chatHelpText());
      else if (command === 'tools') say(chatToolsText(runtime.registry.tools(), loaded.config.human.overrides));
      else if (command === 'unknown') say(`  ${text} is not a command; /help lists them.`);
      else if (command === 'reset') {
        const earlier = conversation.thread;
        conversation = newConversation(undefined);
        serve();
        say(`  Started a new conversation (session ${conversation.thread}); the model remembers nothing of the last one. \`mithai chat --session ${earlier}\` resumes it.`);
      } else {
        const turn: Turn = { conversation, user, text, canAskHuman: !options.unattended, sentAt: new Date() };
        await settle(runtime.engine.handleTurn(turn, adapter, stop.signal));
      }
    }
  } finally {
    unhandleSignals();
    clearInterval(poll);
    await runtime.engine.drain(5_000);
    await adapter.stop();
    status.stop();
    lines.close();
    runtime.close();
    await closeLogDestination(logDestination);
  }
  if (hasLostLock) return EXIT.failed;
  if (stop.signal.aborted) return EXIT.interrupted;
  return interactive ? EXIT.ok : (failure ?? EXIT.ok);
}

/** A terminal conversation: the named session, or a new one. */
function newConversation(session: string | undefined): ConversationRef {
  return { platform: 'terminal', team: 'local', channel: 'terminal', thread: session ?? `chat-${new Date().toISOString()}` };
}

/** What `--session NAME` found: how many earlier messages, and how many of them the model is sent. */
function resumedText(session: string, messages: number, window: number): string {
  if (messages === 0) return `Session ${session} is new: no earlier messages.`;
  const sent = messages > window ? ` (the model is sent the last ${window} or fewer, agent.max_history_messages)` : '';
  return `Resumed session ${session}: loaded ${messages} earlier message${messages === 1 ? '' : 's'}${sent}.`;
}
