/**
 * Start, stop, crash and reconnect. The rules: a wrong or missing token stops `mithai run` at
 * once with one line naming the key and the fix (exit ≠ 0); a clean shutdown leaves pending
 * approvals pending (their cards keep their buttons and work again after the next start),
 * disconnects and exits 0; after a crash, the next start carries every turn on from its rows: a
 * waiting approval still works (a click runs the tool once and the thread gets the reply), and a
 * call that was running is "outcome unknown" and never re-run; a dropped connection, or a
 * reconnect Slack refuses for a while, does not stop the service for good.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { loadConfig } from '../../src/config/load-config.ts';
import { startSlackService } from '../../src/adapters/slack/slack-service.ts';
import type { CliProject } from './slack-harness.ts';
import { ALICE, CHANNEL, RECONNECT_FAST, buttonIds, cardText, lastUserText, makeCliProject, startSlackHarness, textReplies, waitFor, waitForCard } from './slack-harness.ts';

const told = (req: Parameters<typeof lastUserText>[0]) => reply(`Told: ${lastUserText(req)}`);

test('mithai run with a wrong bot token exits non-zero with one line naming the key and the fix', async (t) => {
  const project = await makeCliProject(t, { env: { SLACK_BOT_TOKEN: 'xoxb-wrong-token-0000' } });
  const run = project.run();
  assert.equal(await run.exited, 1);
  assert.equal(run.stderr(), 'mithai: Slack rejected adapter.slack.bot_token (invalid_auth); check SLACK_BOT_TOKEN in .env\n');
  assert.doesNotMatch(run.stdout() + run.stderr(), /xoxb-wrong-token/);
  assert.equal(project.slack.connectionsOpened, 0, 'it never connected');
});

test('mithai run with no app token exits non-zero saying which key and variable to set', async (t) => {
  const project = await makeCliProject(t, { env: { SLACK_APP_TOKEN: '' } });
  const run = project.run();
  assert.equal(await run.exited, 1);
  assert.match(run.stderr(), /^mithai: config\.yaml: adapter\.slack\.app_token is not set; put SLACK_APP_TOKEN=\.\.\. in \.env/);
  assert.equal(run.stderr().trim().split('\n').length, 1);
});

test('a wrong app token is refused at start with a clear error and nothing left running', async (t) => {
  await assert.rejects(
    startSlackHarness(t, { env: { SLACK_APP_TOKEN: 'xapp-1-wrong' } }),
    /^ConfigError: Slack rejected adapter\.slack\.app_token \(invalid_auth\); check SLACK_APP_TOKEN in .*\.env$/,
  );
});

test('a clean shutdown leaves a pending approval pending with a live card, and a click after the next start runs it once', async (t) => {
  const h = await startSlackHarness(t, { script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart api' });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts);
  await h.service.stop('test');
  const after = h.slack.message(CHANNEL, card.ts);
  assert.deepEqual(buttonIds(after), ['mithai_approve', 'mithai_deny'], 'the card still offers a decision');
  assert.deepEqual(h.audit().filter((r) => r.event === 'decision'), [], 'nothing was decided at shutdown');
  await waitFor('the socket to close', () => h.slack.openConnections === 0, 1000);

  const service = await restartInProcess(h);
  try {
    await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
    await waitFor('the reply after the restart', () => textReplies(h.slack, CHANNEL, sent.ts).find((r) => r.startsWith('Told')), 5000);
    assert.deepEqual(h.effects(), ['restart api']);
    assert.match(cardText(h.slack.message(CHANNEL, card.ts)), /Approved by .* — succeeded/);
  } finally {
    await service.stop('test');
  }
});

test('mithai run stops on SIGTERM with a pending approval: exit 0, the card keeps its buttons', async (t) => {
  const project = await makeCliProject(t, { script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const run = project.run();
  await project.slack.waitForConnections(1, 15_000);
  const sent = await project.slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart api' });
  const card = await waitForCard(project.slack, CHANNEL, sent.ts, 1, 5000);
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0, run.stderr());
  assert.equal(run.stderr(), '');
  assert.deepEqual(buttonIds(project.slack.message(CHANNEL, card.ts)), ['mithai_approve', 'mithai_deny']);
  assert.match(run.stdout(), /"bot_name":"mithai".*"msg":"slack\.connected"/, 'the bot identity is logged');
  assert.deepEqual(project.effects(), []);
});

// logging.format: pretty (a terminal's default; forced here, where stdout is a pipe): the lines
// are for people, nothing of the secrets reaches them, and the last line before the exit is there.
test('mithai run with logging.format: pretty prints readable lines up to slack.stopped, with no token in them', async (t) => {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const project = await makeCliProject(t);
  const config = readFileSync(project.configPath, 'utf8');
  assert.match(config, /^logging: \{ level: debug \}$/m);
  writeFileSync(project.configPath, config.replace(/^logging: \{ level: debug \}$/m, 'logging: { level: debug, format: pretty }'));
  const run = project.run();
  await project.slack.waitForConnections(1, 15_000);
  await waitFor('the connected line', () => /slack\.connected/.test(run.stdout()), 5000);
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0, run.stderr());
  const lines = run.stdout().trimEnd().split('\n');
  assert.ok(lines.every((l) => !l.startsWith('{')), 'no JSON line on stdout');
  assert.match(run.stdout(), /^\[[^\]]+\] INFO \(mithai\): slack\.connected \{.*"bot_name":"mithai"/m);
  assert.match(lines.at(-1)!, /^\[[^\]]+\] INFO \(mithai\): slack\.stopped \{"component":"slack"\}$/, 'the last line before process.exit is printed');
  for (const secret of [project.slack.config.botToken, project.slack.config.appToken, FAKE_API_KEY]) assert.ok(!run.stdout().includes(secret), 'no token in the pretty lines');
});

test('after a crash, a waiting approval still works and the call that was running is marked unknown, never re-run', async (t) => {
  const project = await makeCliProject(t, {
    script: [reply(toolUse('ops__restart', { service: 'api' })), reply(toolUse('ops__slow', {})), told, told],
  });
  const run = project.run();
  await project.slack.waitForConnections(1, 15_000);
  const waiting = await project.slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart api' });
  const waitingCard = await waitForCard(project.slack, CHANNEL, waiting.ts, 1, 5000);
  const slow = await project.slack.mention({ user: ALICE, channel: CHANNEL, text: 'do the slow thing' });
  const slowCard = await waitForCard(project.slack, CHANNEL, slow.ts, 1, 5000);
  await project.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: slowCard.ts, actionId: 'mithai_approve' });
  await waitFor('the slow tool to start', () => project.effects().includes('slow started'), 5000);
  run.child.kill('SIGKILL');
  await run.exited;

  const service = await restartInProcess(project);
  try {
    assert.match(cardText(project.slack.message(CHANNEL, slowCard.ts)), /Outcome unknown/);
    assert.deepEqual(buttonIds(project.slack.message(CHANNEL, waitingCard.ts)), ['mithai_approve', 'mithai_deny'], 'the waiting card still works');
    const unknownReply = await waitFor('the slow thread is told', () => textReplies(project.slack, CHANNEL, slow.ts).find((r) => r.startsWith('Told')), 5000);
    assert.match(unknownReply, /outcome is unknown/);
    assert.match(textReplies(project.slack, CHANNEL, slow.ts).join('\n'), /mithai stopped while `ops__slow` was running/);

    await project.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: waitingCard.ts, actionId: 'mithai_approve' });
    await waitFor('the restart thread reply', () => textReplies(project.slack, CHANNEL, waiting.ts).find((r) => r.startsWith('Told')), 5000);
    assert.deepEqual(project.effects(), ['slow started', 'restart api'], 'the slow call never re-ran; the approved one ran once');
  } finally {
    await service.stop('test');
  }
});

test('the service reconnects after Slack drops the connection and keeps serving', async (t) => {
  const h = await startSlackHarness(t, { script: [reply('still here')], service: RECONNECT_FAST });
  h.slack.disconnect('refresh_requested');
  await h.slack.waitForConnections(2, 3000);
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'are you there?' });
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).length === 1);
});

test('a reconnect that Slack refuses for a while is retried until it succeeds', async (t) => {
  const h = await startSlackHarness(t, { script: [reply('back again')], service: RECONNECT_FAST });
  const { appToken } = h.slack.config;
  h.slack.config.appToken = 'xapp-1-rotated-meanwhile';
  h.slack.disconnect('refresh_requested');
  await waitFor('a failed reconnect', () => (h.logs().match(/slack\.socket_reconnect_failed/g) ?? []).length >= 2, 5000);
  assert.equal(h.slack.openConnections, 0);
  h.slack.config.appToken = appToken;
  await h.slack.waitForConnections(2, 5000);
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'hello again' });
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).length === 1);
});

/** Start the service in this process on a project's files (after its process died or stopped). */
async function restartInProcess(project: Pick<CliProject, 'slack' | 'configPath'>) {
  const env = { SLACK_BOT_TOKEN: project.slack.config.botToken, SLACK_APP_TOKEN: project.slack.config.appToken, ANTHROPIC_API_KEY: FAKE_API_KEY };
  return startSlackService(loadConfig(project.configPath, { env }), {
    logDestination: new PassThrough().resume(),
    webRetry: { retries: 0 },
    socketRetry: { retries: 0 },
  });
}

test('mithai run refuses to start when records were cut off the end of the audit log, and --accept-audit-gap restores them and records the gap', async (t) => {
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { verifyAuditLog } = await import('../../src/audit/verify-audit-log.ts');
  const h = await startSlackHarness(t, { script: [reply(toolUse('ops__restart', { service: 'api' })), told] });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart api' });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts);
  await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).some((r) => r.startsWith('Told')), 5000);
  await h.service.stop('test');
  const file = join(h.dir, 'memory', 'approvals.json');
  const lines = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  assert.ok(lines.length >= 3);
  writeFileSync(file, `${lines.slice(0, 1).join('\n')}\n`);

  const env = { SLACK_BOT_TOKEN: h.slack.config.botToken, SLACK_APP_TOKEN: h.slack.config.appToken, ANTHROPIC_API_KEY: FAKE_API_KEY };
  const options = { logDestination: new PassThrough().resume(), webRetry: { retries: 0 }, socketRetry: { retries: 0 } };
  await assert.rejects(startSlackService(loadConfig(h.configPath, { env }), options), (err: unknown) => {
    const e = err as { code?: string; message?: string };
    assert.equal(e.code, 'audit_tail_missing');
    assert.match(e.message ?? '', /--accept-audit-gap/);
    return true;
  });
  const service = await startSlackService(loadConfig(h.configPath, { env }), { ...options, acceptAuditGap: true });
  try {
    const after = readFileSync(file, 'utf8').split('\n').filter(Boolean);
    assert.deepEqual(after.slice(0, lines.length), lines, 'the cut records are back, byte for byte');
    assert.match(after.at(-1)!, /"event":"audit_gap"/);
    assert.equal(verifyAuditLog(file).ok, true);
  } finally {
    await service.stop('test');
  }
});

test('a Socket Mode drop while an approval waits: the service reconnects, the click works, and a redelivered mention runs once', async (t) => {
  const h = await startSlackHarness(t, { script: [reply(toolUse('ops__restart', { service: 'api' })), told, reply('a second turn?!')], service: RECONNECT_FAST });
  const sent = await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart api' });
  const card = await waitForCard(h.slack, CHANNEL, sent.ts);
  h.slack.disconnect('refresh_requested');
  await h.slack.waitForConnections(2, 5000);
  // Slack redelivers what it is not sure was acknowledged: the same event id again.
  await h.slack.mention({ user: ALICE, channel: CHANNEL, text: 'restart api', eventId: sent.eventId, retryAttempt: 1 });
  await h.slack.clickButton({ user: ALICE, channel: CHANNEL, messageTs: card.ts, actionId: 'mithai_approve' });
  await waitFor('the reply', () => textReplies(h.slack, CHANNEL, sent.ts).some((r) => r.startsWith('Told')), 5000);
  assert.deepEqual(h.effects(), ['restart api']);
  assert.equal(h.model.calls.length, 2, 'the redelivered mention started no second turn');
});

test('SIGTERM while mithai run is still starting is honoured once it has started: exit 0, not killed by the signal', async (t) => {
  const project = await makeCliProject(t, { script: [] });
  const run = project.run();
  await waitFor('start-up under way', () => /skill\.loaded/.test(run.stdout()), 15_000);
  run.child.kill('SIGTERM');
  assert.equal(await run.exited, 0, run.stderr());
  assert.equal(run.child.signalCode, null);
});
