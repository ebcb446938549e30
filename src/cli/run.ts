/**
 * `mithai run`: serve Slack in Socket Mode until SIGINT/SIGTERM, then shut down cleanly and
 * exit 0. A second signal during shutdown exits at once (130). Start-up failures (a missing or
 * rejected token, Slack unreachable, a broken skill) are one line on stderr and exit 1.
 *
 * An unhandled promise rejection means some part of the process is in a state nobody planned
 * for: it is logged, the service is stopped (best effort, so approvals are cancelled and cards
 * redrawn), and the process exits 1 for the supervisor to restart it.
 *
 * Once the service has stopped, the process exits explicitly (`process.exit`), as a backstop:
 * a stray socket or timer (e.g. from a Socket Mode reconnect)
 * can never keep a zombie process alive that holds no lock and serves nothing.
 *
 * While it is connected, it keeps `<state.path>/run.heartbeat` fresh for a supervisor's health
 * check (./run-heartbeat.ts).
 */
import type { Command } from 'commander';
import { startSlackService } from '../adapters/slack/slack-service.ts';
import type { SlackService } from '../adapters/slack/slack-service.ts';
import { errorMessage } from '../errors.ts';
import { ACCEPT_GAP_FLAG } from '../audit/audit-log.ts';
import { Redactor } from '../security/redactor.ts';
import type { ExitCode } from './main.ts';
import { loadFromOptions, withConfigOption } from './options.ts';
import { startHeartbeat } from './run-heartbeat.ts';
import { isPipeClosed, whenStdoutCloses } from './closed-pipe.ts';

interface RunOptions {
  config: string;
  acceptAuditGap?: boolean;
}

/** Register `mithai run` on the program; its exit code is set through `exit`. */
export function registerRun(program: Command, exit: ExitCode): void {
  withConfigOption(program.command('run'))
    .description('serve Slack (Socket Mode) until SIGINT/SIGTERM')
    .option(ACCEPT_GAP_FLAG, 'start although the audit file lost records the state database has (they are restored and the gap is recorded in the audit)')
    .action(async (options: RunOptions) => {
      exit.code = await run(options);
    });
}

async function run(options: RunOptions): Promise<number> {
  const loaded = loadFromOptions(options);
  const redactor = new Redactor(loaded.secrets);
  let service: SlackService | undefined;
  let fail: ((reason: string) => void) | undefined;
  let failedEarly = false;
  const onRejection = (reason: unknown): void => {
    const stack = reason instanceof Error ? reason.stack : undefined;
    if (service) service.runtime.logger.error({ err: errorMessage(reason), stack, reason: 'unhandled promise rejection; stopping' }, 'process.rejection_unhandled');
    else process.stderr.write(`mithai: unhandled promise rejection: ${redactor.redact(errorMessage(reason))}\n`);
    if (fail) fail('unhandled promise rejection');
    else failedEarly = true;
  };
  process.on('unhandledRejection', onRejection);
  // One signal listener from here to the exit, so there is never a moment without one (the
  // default action would kill mithai mid-shutdown) and never a signal that is noted but not
  // acted on. While mithai is still starting (resuming turns, connecting), a SIGTERM from a
  // supervisor is remembered and honoured once started.
  let earlySignal: NodeJS.Signals | undefined;
  let onStopSignal: ((signal: NodeJS.Signals) => void) | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (onStopSignal !== undefined) onStopSignal(signal);
    else earlySignal ??= signal;
  };
  const removeSignalListeners = (): void => {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    service = await startSlackService(loaded, { acceptAuditGap: options.acceptAuditGap === true });
  } catch (err) {
    removeSignalListeners();
    process.removeListener('unhandledRejection', onRejection);
    throw err;
  }
  const stopped = untilStopped(service, (trigger) => (fail = trigger), (stop) => (onStopSignal = stop));
  if (failedEarly) fail?.('unhandled promise rejection during start-up');
  if (earlySignal !== undefined) onStopSignal?.(earlySignal);
  const { client } = service.receiver;
  const { runtime } = service;
  const heartbeat = startHeartbeat(loaded.config.state.path, () => client.websocket?.isActive() === true, service.runtime.logger, undefined, {
    isIntact: () => runtime.isLockIntact(),
    // Stop (exit 1) rather than serve beside a process that may have taken a new lock.
    onLost: () => fail?.('the process lock file was deleted or replaced'),
  });
  // A log reader that went away (a shipper restarting) must not stop the service: its lines are
  // dropped from then on (closed-pipe.ts), and this says so once where someone may still look.
  whenStdoutCloses(() => {
    if (!isPipeClosed(process.stderr)) process.stderr.write(`mithai run: stdout was closed by its reader; log lines are dropped from now on${loaded.config.logging.file ? ` (they still go to ${loaded.config.logging.file})` : ' (set logging.file to keep them)'}\n`);
  });
  const code = await stopped;
  heartbeat.stop();
  // Backstop (see the module comment): nothing may outlive the service.
  process.exit(code);
}

/**
 * Wait for SIGINT/SIGTERM (exit 0) or a fatal error reported through `onFatal`'s trigger
 * (exit 1), stop the service, and give the exit code.
 */
function untilStopped(service: SlackService, onFatal: (trigger: (reason: string) => void) => void, onSignals: (stop: (signal: NodeJS.Signals) => void) => void): Promise<number> {
  return new Promise((resolve) => {
    let requests = 0;
    let isFatal = false;
    const stop = (reason: string, code: number): void => {
      requests += 1;
      isFatal ||= code !== 0;
      if (requests > 1) {
        if (code !== 0) return; // already stopping; a fatal error does not hurry it
        service.runtime.logger.warn({ signal: reason, reason: 'second signal during shutdown' }, 'process.exit_forced');
        process.exit(130);
      }
      service.stop(reason).then(
        () => finish(isFatal ? 1 : 0),
        (err: unknown) => {
          process.stderr.write(`mithai: shutdown failed: ${service.runtime.redactor.redact(errorMessage(err))}\n`);
          finish(1);
        },
      );
    };
    const finish = (code: number): void => resolve(code);
    onSignals((signal) => stop(signal, 0));
    onFatal((reason) => stop(reason, 1));
  });
}
