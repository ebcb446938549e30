/**
 * Seeded secrets scanned in every byte mithai writes or sends, end to end through the real Bolt
 * app and the real Anthropic SDK against the local fakes. Secrets of different shapes and lengths
 * (a 40-character token, a 9-character password, a 6-character PIN at the floor, the Slack and
 * Anthropic tokens) reach the runtime every way they can: typed by a person in Slack, held in a
 * skill's config, returned by a tool in values *and keys*, and echoed back by the model. Then
 * every byte is scanned: the log stream, memory/approvals.json, the state database and its WAL,
 * every Web API call the app made to Slack, and every request the model received. The only place
 * a secret may stay is where it must (the Slack tokens in the Authorization header Slack checks,
 * the API key in the header Anthropic checks).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync, appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { FakeSlack } from '../fakes/slack/fake-slack.ts';
import { FakeAnthropic, FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { startSlackService } from '../../src/adapters/slack/slack-service.ts';
import type { SlackService } from '../../src/adapters/slack/slack-service.ts';
import { ALICE, BOB, CHANNEL, buttonIds, textReplies, waitFor, waitForCard, writeProject } from './slack-harness.ts';

const TOKEN = 'opsK3yZr9QmV7tLx2WcB8nHd4JfG6sPa1uYe5RiT'; // 40 characters
const PASSWORD = 'hunter2pw';
const PIN = '482913';

const SKILL = `
import { defineSkill, defineTool, z } from 'mithai';
export default defineSkill({
  tools: {
    debug_config: defineTool({ description: 'Show what the ops skill is configured with', human: 'auto', readOnly: true,
      input: z.object({}),
      // A careless tool: it prints its config, with a secret as an object key too.
      handle: async (_input, ctx) => ({ config: ctx.config, [String(ctx.config.db_password)]: 'the password is the key', line: 'pwd=' + ctx.config.db_password + '&pin=' + ctx.config.pin + ' token ' + ctx.config.api_token }) }),
    search_logs: defineTool({ description: 'Search the logs', human: 'auto', readOnly: true,
      input: z.object({ query: z.string() }), handle: async ({ query }) => 'no lines match ' + query }),
    restart: defineTool({ description: 'Restart a service', human: 'approve',
      input: z.object({ service: z.string() }), handle: async ({ service }) => 'restarted ' + service }),
  },
});
`;

/** Every file under `dir`, as bytes. */
function filesUnder(dir: string): Array<{ path: string; bytes: Buffer }> {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? filesUnder(path) : [{ path, bytes: readFileSync(path) }];
  });
}

test('no seeded secret appears in any byte mithai wrote or sent', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-scan-'));
  const slack = await FakeSlack.start({ users: [{ id: ALICE, name: 'alice' }, { id: BOB, name: 'bob' }] });
  const model = await FakeAnthropic.start([
    reply(toolUse('ops__debug_config', {})),
    // The model puts a secret into an auto call's input (it runs with the exact input).
    reply(toolUse('ops__search_logs', { query: `token=${TOKEN} pin=${PIN}` })),
    reply('Restarting as asked.', toolUse('ops__restart', { service: 'api' })),
    // The model repeats what it saw, secrets included: the reply must still be clean.
    reply(`All done. For the record: token ${TOKEN}, password ${PASSWORD}, pin ${PIN}, slack ${slack.config.botToken}.`),
  ]);
  let service: SlackService | undefined;
  t.after(async () => {
    await service?.stop('test finished');
    await slack.stop();
    await model.stop();
    rmSync(dir, { recursive: true, force: true });
  });
  const configPath = writeProject(dir, slack.apiUrl, model.url, { human: ['approvers: [UBOB000001]'] });
  writeFileSync(join(dir, 'skills', 'ops', 'tools.ts'), SKILL);
  appendFileSync(configPath, '\nskills:\n  config:\n    ops:\n      api_token: ${OPS_API_TOKEN}\n      db_password: ${DB_PASSWORD}\n      pin: ${MY_PIN}\n');
  let logs = '';
  const logStream = new PassThrough();
  logStream.on('data', (d: Buffer) => (logs += d.toString()));
  const env = { SLACK_BOT_TOKEN: slack.config.botToken, SLACK_APP_TOKEN: slack.config.appToken, ANTHROPIC_API_KEY: FAKE_API_KEY, OPS_API_TOKEN: TOKEN, DB_PASSWORD: PASSWORD, MY_PIN: PIN };
  service = await startSlackService(loadConfig(configPath, { env }), { logDestination: logStream, clientPingTimeoutMs: 5_000, webRetry: { retries: 0 }, socketRetry: { retries: 0 }, shutdownGraceMs: 5_000 });

  // A person pastes secrets into the channel.
  const sent = await slack.mention({ user: ALICE, channel: CHANNEL, text: `debug the ops config; my token is ${TOKEN} and the pin ${PIN}` });
  const card = await waitForCard(slack, CHANNEL, sent.ts, 1, 15_000);
  assert.deepEqual(buttonIds(card), ['mithai_approve', 'mithai_deny']);
  await slack.clickButton({ user: BOB, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
  const done = await waitFor('the final reply', () => textReplies(slack, CHANNEL, sent.ts).find((r) => r.startsWith('All done')), 15_000);
  assert.match(done, /\[REDACTED\]/, 'the model\'s echo was redacted');
  await service.stop('scan');
  service = undefined;

  const secrets = [TOKEN, PASSWORD, PIN, slack.config.botToken, slack.config.appToken, FAKE_API_KEY];
  const places: Array<{ where: string; text: string }> = [
    { where: 'logs', text: logs },
    ...filesUnder(dir).filter((f) => !f.path.endsWith('.env') && !f.path.endsWith('config.yaml')).map((f) => ({ where: f.path.slice(dir.length + 1), text: f.bytes.toString('latin1') })),
    // What the app sent to Slack: every call's arguments (the token travels in the header only).
    ...slack.calls.map((c) => ({ where: `slack ${c.method}`, text: JSON.stringify(c.args) })),
    // What the model received: every request body.
    ...model.requests.map((r, i) => ({ where: `model request ${i + 1}`, text: JSON.stringify(r.body) })),
  ];
  assert.ok(places.some((p) => p.where.endsWith('approvals.json')) && places.some((p) => /mithai\.db/.test(p.where)), 'the audit log and the database were scanned');
  assert.ok(model.requests.length === 4 && slack.calls.length > 3, 'the model and Slack were scanned');
  const leaks = places.flatMap((p) => secrets.filter((s) => p.text.includes(s)).map((s) => `${p.where}: ${s.slice(0, 3)}…(${s.length})`));
  assert.deepEqual(leaks, []);
  // Sanity: the scan can see a leak (the tool did return the secrets, as keys too).
  const toolResult = (model.requests[1]!.body as { messages: Array<{ content: unknown }> }).messages[2]!.content as Array<{ content: string }>;
  assert.match(toolResult[0]!.content, /"\[REDACTED\]": "the password is the key"/);
});
