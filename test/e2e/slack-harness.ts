/**
 * End-to-end harness for the Slack adapter: a temp project (a test skill whose tools record every
 * side effect in effects.log), the local fake Slack workspace and the local fake Messages API,
 * and the Slack service started IN-PROCESS through `startSlackService`, the same code path
 * `mithai run` uses, with no Web API retries and short card-update retries. The Socket Mode ping
 * timeout stays at Slack's 5 s (a small one makes the client drop and reconnect under CPU load);
 * reconnect tests pass `RECONNECT_FAST` to make reconnects take ~200 ms. `adapter.slack.progress`
 * is off unless a test sets it (see writeProject). Everything is stopped in t.after,
 * the Socket Mode client before the fake (pitfall 8). Logs go to a buffer, never the console.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { FakeSlack } from '../fakes/slack/fake-slack.ts';
import { blockActions, userRef } from '../fakes/slack/payloads.ts';
import type { FakeSlackOptions, SlackMessage } from '../fakes/slack/fake-slack.ts';
import { FakeAnthropic, FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';
import type { ScriptStep } from '../fakes/anthropic/script.ts';
import type { RecordedRequest, WireBlock } from '../fakes/anthropic/wire.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { startSlackService } from '../../src/adapters/slack/slack-service.ts';
import type { SlackService, SlackServiceOptions } from '../../src/adapters/slack/slack-service.ts';
import { waitFor as waitForCondition } from '../fixtures/wait-for.ts';

export const CHANNEL = 'C0OPS00001';
export const ALICE = 'UALICE0001';
export const BOB = 'UBOB000001';
export const MALLORY = 'UMALLORY01';

/** The test skill; `effect()` appends to effects.log in the project (path baked in). */
function skillSource(effectsFile: string): string {
  return `
import { appendFileSync } from 'node:fs';
import { defineSkill, defineTool, z } from 'mithai';
const effect = (line) => appendFileSync(${JSON.stringify(effectsFile)}, line + '\\n');
export default defineSkill({
  tools: {
    status: defineTool({ description: 'Show service status', human: 'auto', readOnly: true,
      input: z.object({}), handle: async () => { effect('status'); return 'all green'; } }),
    restart: defineTool({ description: 'Restart a service', human: 'approve',
      input: z.object({ service: z.string(), note: z.string().optional() }),
      handle: async ({ service }) => { effect('restart ' + service); return 'restarted ' + service; } }),
    slow: defineTool({ description: 'A slow change', human: 'approve',
      input: z.object({}), handle: async () => { effect('slow started'); await new Promise((r) => setTimeout(r, 20000)); effect('slow finished'); return 'slow done'; } }),
    drop_db: defineTool({ description: 'Drop a database. Irreversible.', human: 'confirm',
      input: z.object({ name: z.string() }), confirmPhrase: (i) => i.name,
      handle: async ({ name }) => { effect('drop ' + name); return 'dropped ' + name; } }),
  },
});
`;
}

/** Service options for tests of reconnects: a 200 ms reconnect delay (pitfall 7). */
export const RECONNECT_FAST: SlackServiceOptions = { clientPingTimeoutMs: 200 };

/** Options of {@link startSlackHarness}. */
export interface SlackHarnessOptions {
  script?: ScriptStep[];
  timeoutSeconds?: number;
  /** YAML lines under adapter.slack (indented by the harness). */
  slack?: string[];
  /** YAML lines under human (indented by the harness). */
  human?: string[];
  /** Replaces the ops skill's tools.ts, given the effects.log path (default: the skill above). */
  tools?: (effectsFile: string) => string;
  service?: SlackServiceOptions;
  fake?: FakeSlackOptions;
  /** Override the environment the config is loaded with (e.g. a wrong token). */
  env?: Record<string, string>;
  /** Put something (e.g. a proxy) between the service and the fake's Web API. */
  wrapApi?: (apiUrl: string) => Promise<{ apiUrl: string; stop(): Promise<void> }>;
}

/** A running harness. */
export interface SlackHarness {
  slack: FakeSlack;
  model: FakeAnthropic;
  service: SlackService;
  dir: string;
  configPath: string;
  effects(): string[];
  audit(): Array<Record<string, unknown>>;
  logs(): string;
}

/** Build the project, start both fakes and the service; everything stops when the test ends. */
export async function startSlackHarness(t: { after(fn: () => unknown): void }, options: SlackHarnessOptions = {}): Promise<SlackHarness> {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-slack-'));
  const slack = await FakeSlack.start({ users: [{ id: ALICE, name: 'alice' }, { id: BOB, name: 'bob' }], ...options.fake });
  const model = await FakeAnthropic.start(options.script ?? []);
  let service: SlackService | undefined;
  const wrapped = options.wrapApi ? await options.wrapApi(slack.apiUrl) : undefined;
  t.after(async () => {
    await service?.stop('test finished');
    await wrapped?.stop();
    await slack.stop();
    await model.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const configPath = writeProject(dir, wrapped?.apiUrl ?? slack.apiUrl, model.url, options);
  const logStream = new PassThrough();
  let logText = '';
  logStream.on('data', (d: Buffer) => (logText += d.toString()));
  const env = { SLACK_BOT_TOKEN: slack.config.botToken, SLACK_APP_TOKEN: slack.config.appToken, ANTHROPIC_API_KEY: FAKE_API_KEY, ...options.env };
  service = await startSlackService(loadConfig(configPath, { env }), {
    logDestination: logStream,
    clientPingTimeoutMs: 5_000,
    webRetry: { retries: 0 },
    socketRetry: { retries: 0 },
    cardUpdateRetryMs: [100, 200],
    shutdownGraceMs: 5_000,
    ...options.service,
  });
  const effectsFile = join(dir, 'effects.log');
  const auditFile = join(dir, 'memory', 'approvals.json');
  return {
    slack,
    model,
    service,
    dir,
    configPath,
    effects: () => (existsSync(effectsFile) ? readFileSync(effectsFile, 'utf8').split('\n').filter(Boolean) : []),
    audit: () => (existsSync(auditFile) ? readFileSync(auditFile, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>) : []),
    logs: () => logText,
  };
}

/** Write config.yaml, the skill and MEMORY.md; returns the config path. */
export function writeProject(dir: string, apiUrl: string, modelUrl: string, options: SlackHarnessOptions = {}): string {
  mkdirSync(join(dir, 'skills', 'ops'), { recursive: true });
  writeFileSync(join(dir, 'skills', 'ops', 'SKILL.md'), '---\nname: ops\ndescription: Test ops skill\n---\nUse these tools for ops questions.\n');
  writeFileSync(join(dir, 'skills', 'ops', 'tools.ts'), (options.tools ?? skillSource)(join(dir, 'effects.log')));
  mkdirSync(join(dir, 'memory'), { recursive: true });
  writeFileSync(join(dir, 'memory', 'MEMORY.md'), '# Memory\n');
  const configPath = join(dir, 'config.yaml');
  writeFileSync(configPath, [
    'bot: { name: testbot }',
    'adapter:',
    '  slack:',
    '    bot_token: ${SLACK_BOT_TOKEN}',
    '    app_token: ${SLACK_APP_TOKEN}',
    `    api_url: ${apiUrl}`,
    // Progress in the thread is off unless a test turns it on (slack-progress.test.ts): its
    // status message and updates would add to the messages and chat.update calls tests count,
    // and take faults armed for a card's chat.update.
    ...((options.slack ?? []).some((l) => l.startsWith('progress:')) ? [] : ['    progress: off']),
    ...(options.slack ?? []).map((l) => `    ${l}`),
    'llm:',
    '  model: claude-test',
    '  anthropic:',
    '    api_key: ${ANTHROPIC_API_KEY}',
    `    base_url: ${modelUrl}`,
    '    max_retries: 0',
    'human:',
    `  timeout_seconds: ${options.timeoutSeconds ?? 30}`,
    ...(options.human ?? []).map((l) => `  ${l}`),
    'logging: { level: debug }',
  ].join('\n'));
  return configPath;
}

/** Poll until `check` returns a value (not undefined/false), or fail after `timeoutMs`. */
export function waitFor<T>(what: string, check: () => T | undefined | false, timeoutMs = 3000): Promise<T> {
  return waitForCondition(what, check, timeoutMs);
}

/** The bot's messages in a thread (not the parent), oldest first. */
export function botReplies(slack: FakeSlack, channel: string, threadTs: string): SlackMessage[] {
  return slack.thread(channel, threadTs).filter((m) => m.ts !== threadTs && m.bot_id === slack.config.botId);
}

/** The bot's plain replies in a thread (approval cards left out). */
export function textReplies(slack: FakeSlack, channel: string, threadTs: string): string[] {
  return botReplies(slack, channel, threadTs).filter((m) => !isCard(m)).map((m) => m.text);
}

/** Whether a message is an approval card. */
export function isCard(message: SlackMessage): boolean {
  return (message.blocks ?? []).some((b) => b.block_id === 'mithai_tool');
}

/** The approval cards in a thread. */
export function cards(slack: FakeSlack, channel: string, threadTs: string): SlackMessage[] {
  return botReplies(slack, channel, threadTs).filter(isCard);
}

/** Wait for the n-th (1-based) approval card in a thread. */
export function waitForCard(slack: FakeSlack, channel: string, threadTs: string, n = 1, timeoutMs = 3000): Promise<SlackMessage> {
  return waitFor(`approval card ${n} in ${threadTs}`, () => cards(slack, channel, threadTs)[n - 1], timeoutMs);
}

/**
 * A block_actions payload built by hand, as a forger would: any message ts, any value, any
 * workspace (the fake's clickButton only clicks buttons that are really on the message).
 */
export function forgedClick(h: SlackHarness, o: { user?: string; messageTs: string; actionId: string; value: string; team?: { id: string; domain: string } }) {
  const payload = blockActions(h.slack.config, {
    user: userRef(h.slack.config, o.user ?? ALICE, 'alice'),
    channel: CHANNEL,
    messageTs: o.messageTs,
    isEphemeral: false,
    triggerId: 'trigger-forged',
    responseUrl: `${h.slack.apiUrl.replace(/\/api\/$/, '')}/actions/none`,
    action: { type: 'button', action_id: o.actionId, block_id: 'mithai_actions', value: o.value, text: { type: 'plain_text', text: 'x' }, action_ts: '1.0' },
  });
  if (o.team) payload.team = o.team;
  return h.slack.sendEnvelope('interactive', payload);
}

/** All mrkdwn text of a card's sections, joined. */
export function cardText(message: SlackMessage | undefined): string {
  return (message?.blocks ?? [])
    .map((b) => ((b.text as { text?: string } | undefined)?.text ?? ''))
    .join('\n');
}

/** The action_ids of the buttons on a message. */
export function buttonIds(message: SlackMessage | undefined): string[] {
  return (message?.blocks ?? []).flatMap((b) => (Array.isArray(b.elements) ? (b.elements as Array<{ action_id?: string }>).map((e) => e.action_id ?? '') : []));
}

/** The text of the last user message the model was sent (tool results or the turn text). */
export function lastUserText(request: RecordedRequest): string {
  const last = request.messages.at(-1);
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  return last.content.map((b: WireBlock) => (b.type === 'text' ? (b.text ?? '') : typeof b.content === 'string' ? b.content : '')).join('\n');
}

/** Whether the request ends with tool results (the model is being told what a tool did). */
export function endsWithToolResult(request: RecordedRequest): boolean {
  const last = request.messages.at(-1);
  return Array.isArray(last?.content) && last.content.some((b) => b.type === 'tool_result');
}

/** `n` copies of one step function, for scripts whose order is not known in advance. */
export function repeat(step: ScriptStep, n = 40): ScriptStep[] {
  return Array.from({ length: n }, () => step);
}

const BIN = fileURLToPath(new URL('../../bin/mithai.js', import.meta.url));

/** A project for the real CLI: both fakes running, config.yaml and .env written, nothing started. */
export interface CliProject {
  slack: FakeSlack;
  model: FakeAnthropic;
  dir: string;
  configPath: string;
  effects(): string[];
  /** Start `mithai run --config …` as a child process (stopped in t.after if still running). */
  run(): RunningCli;
}

/** A `mithai run` child process. */
export interface RunningCli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the exit code (or null when killed by a signal). */
  exited: Promise<number | null>;
}

/** Build a CLI project; `env` overrides the tokens written to .env. */
export async function makeCliProject(
  t: { after(fn: () => unknown): void },
  options: SlackHarnessOptions & { env?: Record<string, string> } = {},
): Promise<CliProject> {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-slack-cli-'));
  const slack = await FakeSlack.start({ users: [{ id: ALICE, name: 'alice' }, { id: BOB, name: 'bob' }], ...options.fake });
  const model = await FakeAnthropic.start(options.script ?? []);
  const children: ChildProcess[] = [];
  t.after(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('close', r)) : undefined)));
    await slack.stop();
    await model.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const configPath = writeProject(dir, slack.apiUrl, model.url, options);
  const env = { SLACK_BOT_TOKEN: slack.config.botToken, SLACK_APP_TOKEN: slack.config.appToken, ANTHROPIC_API_KEY: FAKE_API_KEY, ...options.env };
  writeFileSync(join(dir, '.env'), Object.entries(env).map(([k, v]) => `${k}=${v}\n`).join(''), { mode: 0o600 });
  return {
    slack,
    model,
    dir,
    configPath,
    effects: () => (existsSync(join(dir, 'effects.log')) ? readFileSync(join(dir, 'effects.log'), 'utf8').split('\n').filter(Boolean) : []),
    run: () => {
      const running = spawnRun(configPath, dir);
      children.push(running.child);
      return running;
    },
  };
}

function spawnRun(configPath: string, cwd: string): RunningCli {
  const env: Record<string, string | undefined> = { ...process.env };
  // The developer's shell must not steer the child: the project's .env is the only source.
  for (const name of Object.keys(env)) if (/^(ANTHROPIC|SLACK)_/.test(name)) delete env[name];
  const child = spawn(process.execPath, [BIN, 'run', '--config', configPath], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}
