/**
 * Review finding: `mithai run` writes its logs to stdout. When the reader of that pipe goes
 * away (`mithai run | tee run.log` and tee is killed, a log shipper that restarts, `| head`),
 * the next log line fails with EPIPE and src/cli/closed-pipe.ts ends the process at once with
 * exit code 0: no shutdown (runtime.close() never runs, so outcome records still waiting for
 * their delayed flush are not written to approvals.json, running tool calls are killed mid-run,
 * the heartbeat file is left behind), and exit 0 is the code deploy/mithai.service does NOT
 * restart (Restart=on-failure). The agent silently stops serving Slack.
 *
 * What must hold instead: the serving process keeps serving when its log reader goes away (logs
 * are best effort, as the logger's own comment says for logging.file), or at the very least it
 * shuts down cleanly and exits non-zero so a supervisor restarts it.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { reply } from '../fakes/anthropic/script.ts';
import { ALICE, CHANNEL, lastUserText, makeCliProject, textReplies, waitFor } from '../e2e/slack-harness.ts';

test('mithai run whose log reader went away keeps serving (or at least does not exit 0 without a shutdown)', async (t) => {
  const told = (req: Parameters<typeof lastUserText>[0]) => reply(`Told: ${lastUserText(req)}`);
  const project = await makeCliProject(t, { script: [told, told] });
  const run = project.run();
  await project.slack.waitForConnections(1, 15_000);
  await waitFor('the connected line', () => /slack\.connected/.test(run.stdout()), 10_000);

  // The log reader goes away (tee killed, log shipper restarted).
  run.child.stdout!.destroy();
  let exitCode: number | null | undefined;
  void run.exited.then((code) => (exitCode = code));

  // Someone asks the bot something: handling it logs, and the log write now fails with EPIPE.
  const sent = await project.slack.mention({ user: ALICE, channel: CHANNEL, text: 'hello after the log pipe closed' });
  const answered = await waitFor('the reply, or the process ending', () => (textReplies(project.slack, CHANNEL, sent.ts).some((r) => r.startsWith('Told')) ? 'answered' : exitCode !== undefined ? 'exited' : undefined), 10_000);

  if (answered === 'exited') {
    // Acceptable only as a real shutdown a supervisor restarts: non-zero, heartbeat removed.
    const heartbeatLeft = existsSync(join(project.dir, '.mithai', 'state', 'run.heartbeat'));
    assert.ok(
      exitCode !== 0 && !heartbeatLeft,
      `mithai run ended (exit ${String(exitCode)}) as soon as it logged into the closed pipe, without answering the mention ` +
        `and without a shutdown (heartbeat file left behind: ${heartbeatLeft}; stderr: ${JSON.stringify(run.stderr())}). ` +
        'Exit 0 is not restarted by Restart=on-failure (deploy/mithai.service), so the agent silently stops serving.',
    );
    return;
  }
  assert.equal(exitCode, undefined, 'the process is still serving');
});
