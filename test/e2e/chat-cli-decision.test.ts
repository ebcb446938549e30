/**
 * `mithai chat` picks up decisions made by another process (`mithai approvals approve`) within
 * about a second, like `mithai run`: the prompt stops asking and the turn carries on.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { runCli, startChat } from './chat-harness.ts';

test('a CLI approval made while mithai chat waits on it is carried on by chat within a few seconds', async (t) => {
  const chat = await startChat(t, [reply(toolUse('ops__restart', { service: 'web' })), reply('Restarted.')], { project: { extraConfig: '  approvers: ["local:*"]' } });
  chat.write('restart web\n');
  await chat.until('no approval prompt', () => /Approve\?/.test(chat.out()));
  const id = chat.pendingId();
  assert.ok(id);
  const cli = await runCli(['approvals', 'approve', id, '--config', chat.project.configPath], { cwd: chat.project.dir });
  assert.equal(cli.code, 0, cli.stderr);
  // The person at the terminal has not answered; the decision came from the command line.
  await chat.until('chat never picked up the CLI decision: the tool did not run', () => chat.project.effects().length > 0, 6_000);
  assert.deepEqual(chat.project.effects(), ['restart web']);
});
