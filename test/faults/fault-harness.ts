/**
 * Harness of the fault-injection suite (`npm run test:faults`): a project on disk (the e2e
 * project: the `ops` skill whose tools append every side effect to effects.log), the local Slack
 * and Anthropic fakes running in the test process (so they outlive every `mithai run` child and
 * the same cards can be clicked after a restart), and helpers to start the REAL
 * `bin/mithai.js run` as a child with extra environment (MITHAI_FAULT_POINT), kill it from
 * outside, run other CLI commands against the project, and read its state database read-only.
 *
 * The children never see the developer's ANTHROPIC_ / SLACK_ variables (nor an inherited
 * MITHAI_FAULT_POINT): the project's .env is the only source of tokens.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { FakeSlack } from '../fakes/slack/fake-slack.ts';
import type { SlackMessage } from '../fakes/slack/fake-slack.ts';
import { FakeAnthropic, FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import type { ScriptStep, StepFunction } from '../fakes/anthropic/script.ts';
import type { RecordedRequest } from '../fakes/anthropic/wire.ts';
import { waitFor as waitForCondition } from '../fixtures/wait-for.ts';
import { ALICE, BOB, CHANNEL, buttonIds, cards, endsWithToolResult, lastUserText, repeat, writeProject } from '../e2e/slack-harness.ts';
import type { SlackHarnessOptions } from '../e2e/slack-harness.ts';

export { ALICE, BOB, CHANNEL };

const BIN = fileURLToPath(new URL('../../bin/mithai.js', import.meta.url));

/** How a child ended. */
export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A `mithai run` child. */
export interface RunningMithai {
  /** 1-based: the n-th process started on this project. */
  n: number;
  child: ChildProcess;
  faultPoint: string | undefined;
  stdout(): string;
  stderr(): string;
  exited: Promise<Exit>;
  /** Whether it has exited already. */
  isDone(): boolean;
  /** Socket Mode connections the fake had accepted before this process started. */
  connectionsBefore: number;
}

/** A row of `approvals`, the columns the suite looks at. */
export interface ApprovalRow {
  id: string;
  state: string;
  tool: string;
  input_json: string;
  thread: string;
  channel: string;
  decider: string | null;
  decided_via: string | null;
  decided_at: string | null;
  reason: string | null;
  outcome: string | null;
  deadline: string;
  valid_until: string | null;
  turn_id: string | null;
  display_ref: string | null;
  displayed_state: string | null;
}

/** A row of `turns`, the columns the suite looks at. */
export interface TurnRow {
  id: string;
  state: string;
  status: string | null;
  reply: string | null;
  turn_json: string;
}

/** A fault project: both fakes running, config.yaml and .env written, nothing started. */
export interface FaultProject {
  name: string;
  slack: FakeSlack;
  model: FakeAnthropic;
  dir: string;
  configPath: string;
  /** Every `mithai run` started so far. */
  runs: RunningMithai[];
  effects(): string[];
  /** The audit file's records (a torn last line is left out and reported by {@link tornTail}). */
  audit(): Array<Record<string, unknown>>;
  /** The audit file ends with a line that is not JSON. */
  tornTail(): boolean;
  approvals(): ApprovalRow[];
  turns(): TurnRow[];
  /** Start `mithai run --config …`, optionally with MITHAI_FAULT_POINT. */
  start(options?: { faultPoint?: string }): RunningMithai;
  /** Run another CLI command (`audit verify`, `approvals approve …`); `--config` is added. */
  cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Keep the project directory after the test (set when a scenario found a violation). */
  keep(): void;
}

/** Options: the e2e harness's, plus the suite's defaults (approvers, a longer timeout). */
export type FaultProjectOptions = SlackHarnessOptions;

/** Build a project; everything is stopped (children killed first) when the test ends. */
export async function makeFaultProject(t: { after(fn: () => unknown): void }, name: string, options: FaultProjectOptions = {}): Promise<FaultProject> {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-faults-'));
  const slack = await FakeSlack.start({ users: [{ id: ALICE, name: 'alice' }, { id: BOB, name: 'bob' }], ...options.fake });
  const model = await FakeAnthropic.start(options.script ?? agentScript());
  const runs: RunningMithai[] = [];
  let keep = false;
  t.after(async () => {
    for (const run of runs) if (!run.isDone()) run.child.kill('SIGKILL');
    await Promise.all(runs.map((r) => r.exited));
    await slack.stop();
    await model.stop();
    if (keep) {
      for (const run of runs) writeFileSync(join(dir, `run-${run.n}.log`), `fault point: ${run.faultPoint ?? '-'}\n--- stdout\n${run.stdout()}\n--- stderr\n${run.stderr()}\n`);
    } else {
      rmSync(dir, { recursive: true, force: true });
    }
  });
  const configPath = writeProject(dir, slack.apiUrl, model.url, {
    timeoutSeconds: 60,
    ...options,
    human: options.human ?? ["approvers: ['local:*']"],
  });
  const env = { SLACK_BOT_TOKEN: slack.config.botToken, SLACK_APP_TOKEN: slack.config.appToken, ANTHROPIC_API_KEY: FAKE_API_KEY };
  writeFileSync(join(dir, '.env'), Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
  const effectsFile = join(dir, 'effects.log');
  const auditFile = join(dir, 'memory', 'approvals.json');
  const dbFile = join(dir, '.mithai', 'state', 'mithai.db');
  const auditLines = (): string[] => (existsSync(auditFile) ? readFileSync(auditFile, 'utf8').split('\n').filter(Boolean) : []);
  const isJson = (line: string): boolean => {
    try {
      JSON.parse(line);
      return true;
    } catch {
      return false;
    }
  };
  const query = <T>(sql: string): T[] => {
    if (!existsSync(dbFile)) return [];
    const db = new Database(dbFile, { readonly: true, fileMustExist: true });
    try {
      db.pragma('busy_timeout = 2000');
      return db.prepare(sql).all() as T[];
    } finally {
      db.close();
    }
  };
  return {
    name,
    slack,
    model,
    dir,
    configPath,
    runs,
    effects: () => (existsSync(effectsFile) ? readFileSync(effectsFile, 'utf8').split('\n').filter(Boolean) : []),
    audit: () => auditLines().filter(isJson).map((l) => JSON.parse(l) as Record<string, unknown>),
    tornTail: () => {
      const lines = auditLines();
      return lines.length > 0 && !isJson(lines.at(-1)!);
    },
    approvals: () => query<ApprovalRow>('SELECT * FROM approvals ORDER BY created_at'),
    turns: () => query<TurnRow>('SELECT * FROM turns ORDER BY created_at'),
    start: (o = {}) => {
      const run = spawnMithai(['run', '--config', configPath], dir, o.faultPoint);
      const running = { ...run, n: runs.length + 1, faultPoint: o.faultPoint, connectionsBefore: slack.connectionsOpened };
      runs.push(running);
      return running;
    },
    cli: async (args) => {
      const run = spawnMithai([...args, '--config', configPath], dir, undefined);
      const exit = await run.exited;
      return { code: exit.code, stdout: run.stdout(), stderr: run.stderr() };
    },
    keep: () => {
      keep = true;
    },
  };
}

function spawnMithai(args: string[], cwd: string, faultPoint: string | undefined): Omit<RunningMithai, 'n' | 'faultPoint' | 'connectionsBefore'> {
  const env: Record<string, string | undefined> = { ...process.env };
  // The developer's shell must not steer the child: the project's .env is the only source.
  for (const name of Object.keys(env)) if (/^(ANTHROPIC|SLACK)_/.test(name) || name === 'MITHAI_FAULT_POINT') delete env[name];
  if (faultPoint !== undefined) env.MITHAI_FAULT_POINT = faultPoint;
  const child = spawn(process.execPath, [BIN, ...args], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  let done = false;
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<Exit>((resolve) => child.once('close', (code, signal) => {
    done = true;
    resolve({ code, signal });
  }));
  return { child, stdout: () => stdout, stderr: () => stderr, exited, isDone: () => done };
}

/**
 * The model of every scenario, as a function of the request (a restart may replay any step):
 * a turn's first call asks for the tool the message names (`restart <svc>` or `slow`), a call
 * that carries tool results answers `Told: <what the tool results said>`.
 */
export const agentStep: StepFunction = (request: RecordedRequest) => {
  if (endsWithToolResult(request)) return reply(`Told: ${lastUserText(request)}`);
  const text = lastUserText(request);
  if (/\bslow\b/.test(text)) return reply(toolUse('ops__slow', {}));
  const service = /restart (\w+)/.exec(text)?.[1] ?? 'api';
  return reply(toolUse('ops__restart', { service }));
};

/** A script long enough for any scenario: {@link agentStep} over and over. */
export function agentScript(n = 60): ScriptStep[] {
  return repeat(agentStep, n);
}

/** Poll until `check` returns a value (not undefined/false), or fail after `timeoutMs`. */
export function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 5000, everyMs = 20): Promise<T> {
  return waitForCondition(what, check, timeoutMs, everyMs);
}

/** Like {@link waitFor}, but resolves undefined instead of throwing at the timeout. */
export async function poll<T>(check: () => T | undefined | false, timeoutMs: number, everyMs = 20): Promise<T | undefined> {
  return waitFor('', check, timeoutMs, everyMs).catch(() => undefined);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** Resolve with `promise`'s value, or 'exited' when `run` exits first. */
export async function unlessExited<T>(run: RunningMithai, promise: Promise<T>): Promise<T | 'exited'> {
  promise.catch(() => undefined);
  return Promise.race([promise, run.exited.then(() => 'exited' as const)]);
}

/** Wait until the fake has seen `n` greeted Socket Mode connections in total (a start is done). */
export async function waitConnected(p: FaultProject, run: RunningMithai, timeoutMs = 30_000): Promise<void> {
  const ready = p.slack.waitForConnections(run.connectionsBefore + 1, timeoutMs);
  const result = await unlessExited(run, ready);
  if (result === 'exited') throw new Error(`mithai run #${run.n} exited before connecting:\n${run.stderr()}\n${run.stdout().slice(-3000)}`);
}

/** Start mithai and wait until it is connected (resumed what the previous process left). */
export async function startConnected(p: FaultProject, options: { faultPoint?: string } = {}): Promise<RunningMithai> {
  const run = p.start(options);
  await waitConnected(p, run);
  return run;
}

/** SIGTERM and wait for the exit. */
export async function stopGracefully(run: RunningMithai, timeoutMs = 20_000): Promise<Exit> {
  if (!run.isDone()) run.child.kill('SIGTERM');
  const timer = setTimeout(() => run.child.kill('SIGKILL'), timeoutMs);
  try {
    return await run.exited;
  } finally {
    clearTimeout(timer);
  }
}

/** SIGKILL from outside and wait for the exit. */
export async function killHard(run: RunningMithai): Promise<Exit> {
  if (!run.isDone()) run.child.kill('SIGKILL');
  return run.exited;
}

let tsCounter = 0;

/** A fresh message ts (so a mention whose ack never came can be delivered again with the same ts). */
export function freshTs(): string {
  tsCounter += 1;
  const micros = Date.now() * 1000 + tsCounter;
  return `${Math.floor(micros / 1e6)}.${String(micros % 1e6).padStart(6, '0')}`;
}

/** A mention the suite can deliver again exactly as Slack retries it (same event id and ts). */
export interface Mention {
  ts: string;
  eventId: string;
  text: string;
  user: string;
  /** Resolves true when the app acknowledged some delivery. */
  acked: boolean;
  /** The delivery in flight (settled before a retry). */
  inFlight: Promise<void>;
  attempts: number;
  /** The thread it was posted in (a reply in a thread), if not a new one. */
  threadTs?: string;
}

/** Mention the bot in a new thread; the promise of the ack is kept, never thrown. */
export function mention(p: FaultProject, text: string, user = ALICE, threadTs?: string): Mention {
  const m: Mention = {
    ts: freshTs(), eventId: `Ev${Math.random().toString(36).slice(2, 12).toUpperCase()}`, text, user, acked: false, inFlight: Promise.resolve(), attempts: 0,
    ...(threadTs === undefined ? {} : { threadTs }),
  };
  deliver(p, m);
  return m;
}

function deliver(p: FaultProject, m: Mention): void {
  const attempt = m.attempts;
  m.attempts += 1;
  m.inFlight = p.slack
    .mention({ user: m.user, channel: CHANNEL, text: m.text, ts: m.ts, eventId: m.eventId, retryAttempt: attempt, timeoutMs: 3000, ...(m.threadTs === undefined ? {} : { threadTs: m.threadTs }) })
    .then(() => {
      m.acked = true;
    })
    .catch(() => undefined);
}

/** After a restart: deliver an unacknowledged mention again, as Slack retries it. */
export async function redeliverIfUnacked(p: FaultProject, m: Mention): Promise<void> {
  await m.inFlight;
  if (!m.acked) {
    deliver(p, m);
    await m.inFlight;
  }
}

/** Where a card stands in Slack: its approval id (from metadata or buttons) and buttons. */
export interface CardView {
  ts: string;
  thread: string;
  approvalId: string | undefined;
  buttons: string[];
  text: string;
}

/** Every approval card in a thread. */
export function cardsIn(p: FaultProject, thread: string): CardView[] {
  return cards(p.slack, CHANNEL, thread).map((m) => cardView(m, thread));
}

export function cardView(m: SlackMessage, thread: string): CardView {
  const meta = m.metadata as { event_payload?: { approval_id?: unknown } } | undefined;
  const fromMeta = typeof meta?.event_payload?.approval_id === 'string' ? meta.event_payload.approval_id : undefined;
  const fromButton = (m.blocks ?? [])
    .flatMap((b) => (Array.isArray(b.elements) ? (b.elements as Array<{ value?: string }>) : []))
    .map((e) => e.value)
    .find((v) => typeof v === 'string' && v.startsWith('apr_'));
  const text = (m.blocks ?? []).map((b) => ((b.text as { text?: string } | undefined)?.text ?? '')).join('\n');
  return { ts: m.ts, thread, approvalId: fromMeta ?? fromButton, buttons: buttonIds(m), text };
}

/** The bot's plain (non-card) messages in a thread, oldest first. */
export function botTexts(p: FaultProject, thread: string): string[] {
  return p.slack
    .thread(CHANNEL, thread)
    .filter((m) => m.ts !== thread && m.bot_id === p.slack.config.botId && !(m.blocks ?? []).some((b) => b.block_id === 'mithai_tool'))
    .map((m) => m.text);
}

/**
 * Click Approve on the card when it offers it; a click whose ack never comes (the process died)
 * or that is refused is fine. @returns whether a click was sent.
 */
export async function clickApprove(p: FaultProject, card: CardView, user = ALICE): Promise<boolean> {
  if (!card.buttons.includes('mithai_approve')) return false;
  // As a person would: once the card is mithai's recorded card. A click before that waits up
  // to 1 s for mithai to record it and is refused after (it cannot be told from a forged one),
  // and this harness would never click again. Not waited for past 3 s (a
  // card clicked while mithai is down, or one it never records, is clicked as it is).
  await poll(() => p.approvals().some((a) => a.display_ref?.includes(`"${card.ts}"`) === true), 3000, 20);
  await p.slack.clickButton({ user, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve', timeoutMs: 3000 }).catch(() => undefined);
  return true;
}

/** The thread of a turn row (from its stored turn). */
export function turnThread(turn: TurnRow): string | undefined {
  try {
    const parsed = JSON.parse(turn.turn_json) as { conversation?: { thread?: string } };
    return parsed.conversation?.thread;
  } catch {
    return undefined;
  }
}
