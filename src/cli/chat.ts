/**
 * `mithai chat`: talk to the agent in a terminal. Needs only an Anthropic key. Reads stdin line
 * by line when piped, so it can be scripted (approval answers are lines too).
 */
import { userInfo } from 'node:os';
import type { Command } from 'commander';
import { createRuntime } from '../engine/create-runtime.ts';
import { ACCEPT_GAP_FLAG } from '../audit/audit-log.ts';
import type { Turn } from '../engine/types.ts';
import { sessionKey } from '../engine/session-key.ts';
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
  const user = options.user ?? process.env.USER ?? userInfo().username;
  const { adapter, lines, stop, interactive, handleSignals } = openTerminalSession(runtime, { user, botName: loaded.config.bot.name });
  const thread = options.session ?? `chat-${new Date().toISOString()}`;
  const conversation = { platform: 'terminal' as const, team: 'local', channel: 'terminal', thread };
  // This terminal serves its own conversation only: another chat's or a skill run's turn is
  // never carried on (and sent to the model) here.
  runtime.engine.attach(adapter, { signal: stop.signal, platform: 'terminal', sessionKey: sessionKey(conversation) });
  runtime.expiry.start();
  if (interactive) process.stdout.write(`mithai chat as ${user} (session ${thread}). Type /quit to leave.\n`);
  // A session killed mid-turn carries on: settled approvals are shown, and a pending one is
  // asked again (the engine shows an approval again that this process has not asked about).
  const resumed = await runtime.engine.resumeAll({ sessionKey: sessionKey(conversation) });
  // A decision made elsewhere (`mithai approvals approve` in another terminal) reaches the
  // waiting turn, and stops the prompt, within about a second.
  const poll = setInterval(() => {
    try {
      runtime.engine.pollDecisions();
    } catch (err) {
      runtime.logger.error({ err: String(err) }, 'chat.poll_failed');
    }
  }, 1_000);
  poll.unref();
  for (const id of resumed.turnIds) await runtime.engine.whenFinished(id, stop.signal);

  const unhandleSignals = handleSignals();
  try {
    for (;;) {
      if (interactive) lines.prompt(`${user}> `);
      const line = await lines.next(stop.signal);
      if (line === null) break;
      const text = line.trim();
      if (text === '') continue;
      if (text === '/quit' || text === '/exit') break;
      const turn: Turn = {
        conversation,
        user,
        text,
        canAskHuman: !options.unattended,
        sentAt: new Date(),
      };
      await runtime.engine.handleTurn(turn, adapter, stop.signal);
    }
  } finally {
    unhandleSignals();
    clearInterval(poll);
    await runtime.engine.drain(5_000);
    await adapter.stop();
    lines.close();
    runtime.close();
    await closeLogDestination(logDestination);
  }
  return stop.signal.aborted ? 130 : 0;
}
