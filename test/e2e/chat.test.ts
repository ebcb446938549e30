/**
 * End to end through the real `mithai chat` process, the real Anthropic SDK and a local fake of
 * the Messages API. Each test counts the tools' side effects (effects.log), reads the audit log,
 * and checks what the model was told.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reply, toolUse, lastToolResults, toolResultText } from '../fakes/anthropic/script.ts';
import type { RecordedRequest } from '../fakes/anthropic/wire.ts';
import { projectWithFakeModel, runChat, startChat } from './chat-harness.ts';
import { verifyAuditLog } from '../../src/audit/verify-audit-log.ts';
import { EXIT } from '../../src/cli/exit-codes.ts';
import { join } from 'node:path';

function resultsOf(request: RecordedRequest | undefined): Array<{ text: string; isError: boolean }> {
  assert.ok(request, 'the model was called again with the tool results');
  return lastToolResults(request).map((b) => ({ text: toolResultText(b), isError: b.is_error === true }));
}

const setup = projectWithFakeModel;

test('an auto tool runs once and the model gets its output, the system prompt and cache points', async (t) => {
  const { fake, project } = await setup(t, [reply(toolUse('ops__status', {})), reply('Everything is green.')]);
  const run = await runChat(project, ['how are things?']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /testbot> Everything is green\./);
  assert.deepEqual(project.effects(), ['status']);
  assert.deepEqual(resultsOf(fake.requests[1]), [{ text: 'all green', isError: false }]);

  const first = fake.requests[0]!;
  const system = first.system.map((b) => b.text).join('\n');
  assert.match(system, /untrusted/i, 'the injection-defence prelude is in the system prompt');
  assert.match(system, /Use these tools for ops questions/, 'SKILL.md is in the system prompt');
  assert.match(system, /The database is called orders/, 'MEMORY.md is in the system prompt');
  assert.ok(first.system.at(-1)?.cache_control, 'the last system block carries cache_control');
  assert.ok(first.tools.at(-1)?.cache_control, 'the last tool carries cache_control');
  assert.deepEqual(first.tools.map((x) => x.name).sort(), ['ops__boom', 'ops__drop_db', 'ops__restart', 'ops__status']);

  const audit = project.auditRecords();
  assert.deepEqual(audit.map((r) => [r.event, r.decision, r.status]), [['decision', 'auto', 'executing'], ['outcome', 'auto', 'succeeded']]);
  assert.deepEqual(verifyAuditLog(join(project.dir, 'memory', 'approvals.json')), { ok: true, records: 2 });
});

test('an approve tool answered "n" with a reason does not run and the model is told who denied it and why', async (t) => {
  const { fake, project } = await setup(t, [reply(toolUse('ops__restart', { service: 'api' })), reply('OK, I will not restart it.')]);
  const run = await runChat(project, ['restart api', 'n not during the sale'], ['--user', 'alice']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(project.effects(), [], 'the handler never ran');
  const [result] = resultsOf(fake.requests[1]);
  assert.equal(result!.isError, true);
  assert.match(result!.text, /denied by alice/);
  assert.match(result!.text, /not during the sale/);
  assert.match(run.stdout, /Approve\? \[y\/N\]/);
  const decisions = project.auditRecords().filter((r) => r.event === 'decision');
  assert.equal(decisions.length, 1);
  assert.equal(decisions[0]!.decision, 'denied');
  assert.equal(decisions[0]!.decider, 'alice');
  assert.equal(decisions[0]!.reason, 'not during the sale');
});

test('an approve tool answered "y" runs exactly once and the outcome is audited', async (t) => {
  const { fake, project } = await setup(t, [reply(toolUse('ops__restart', { service: 'api' })), reply('Restarted.')]);
  const run = await runChat(project, ['restart api', 'y'], ['--user', 'alice']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(project.effects(), ['restart api']);
  assert.match(resultsOf(fake.requests[1])[0]!.text, /restarted api/);
  assert.deepEqual(
    project.auditRecords().map((r) => [r.event, r.decision, r.status, r.decider]),
    [
      ['requested', null, 'pending', null],
      ['decision', 'approved', 'pending', 'alice'],
      ['outcome', 'approved', 'succeeded', 'alice'],
    ],
  );});

test('a confirm tool refuses the wrong phrase, runs nothing, then runs once with the right phrase', async (t) => {
  // About the phrase, in a solo setup: the requester may confirm their own call only with the rule off.
  const { fake, project } = await setup(t, [reply(toolUse('ops__drop_db', { name: 'orders' })), reply('Dropped.')], { extraConfig: '  confirm_requires_second_person: false' });
  const run = await runChat(project, ['drop the orders db', 'order', 'orders'], ['--user', 'alice']);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /Type "orders" to run it/);
  assert.match(run.stdout, /does not match/i);
  assert.deepEqual(project.effects(), ['drop orders']);
  assert.match(resultsOf(fake.requests[1])[0]!.text, /dropped orders/);
  const decisions = project.auditRecords().filter((r) => r.event === 'decision');
  assert.deepEqual(decisions.map((r) => r.decision), ['approved'], 'the wrong phrase recorded no decision');
});

test('an approval with no answer expires, nothing runs, and the model is told it expired rather than denied', async (t) => {
  const { fake, project } = await setup(t, [reply(toolUse('ops__restart', { service: 'web' })), reply('It expired.')], { timeoutSeconds: 1 });
  // Someone is at the keyboard but never answers: stdin stays open until the reply is printed.
  const run = await runChat(project, ['restart web'], [], { until: /testbot> It expired\./, thenWrite: '/quit\n' });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(project.effects(), []);
  const [result] = resultsOf(fake.requests[1]);
  assert.match(result!.text, /expired without a decision/);
  assert.doesNotMatch(result!.text, /was denied|denied by/);
  const decisions = project.auditRecords().filter((r) => r.event === 'decision');
  assert.deepEqual(decisions.map((r) => [r.decision, r.status]), [['expired', 'not_run']]);
  assert.match(run.stdout, /expired/);
});

test('a handler that throws becomes an error result and the turn carries on', async (t) => {
  const { fake, project } = await setup(t, [reply(toolUse('ops__boom', {})), reply(toolUse('ops__status', {})), reply('Boom failed but status is fine.')]);
  const run = await runChat(project, ['try boom']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(project.effects(), ['boom', 'status']);
  const [boom] = resultsOf(fake.requests[1]);
  assert.equal(boom!.isError, true);
  assert.match(boom!.text, /kaput/);
  assert.match(run.stdout, /Boom failed but status is fine/);
  const outcomes = project.auditRecords().filter((r) => r.event === 'outcome');
  assert.deepEqual(outcomes.map((r) => [r.tool, r.status]), [['ops__boom', 'failed'], ['ops__status', 'succeeded']]);
});

test('invalid tool input never reaches the handler or an approver and the error names the field', async (t) => {
  const { fake, project } = await setup(t, [reply(toolUse('ops__restart', { service: 42 })), reply('I sent a bad input.')]);
  const run = await runChat(project, ['restart something']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(project.effects(), []);
  assert.doesNotMatch(run.stdout, /Approve\?/, 'no approval was asked for');
  const [result] = resultsOf(fake.requests[1]);
  assert.equal(result!.isError, true);
  assert.match(result!.text, /service/);
  assert.deepEqual(project.auditRecords(), []);
});

test('several tool calls in one response are all answered, in order', async (t) => {
  const { fake, project } = await setup(t, [reply(toolUse('ops__status', {}), toolUse('ops__boom', {}), toolUse('ops__status', {})), reply('Done.')]);
  const run = await runChat(project, ['do three things']);
  assert.equal(run.code, 0, run.stderr);
  const results = lastToolResults(fake.requests[1]!);
  const uses = (fake.requests[1]!.messages.at(-2)!.content as Array<{ type: string; id?: string }>).filter((b) => b.type === 'tool_use');
  assert.deepEqual(results.map((r) => r.tool_use_id), uses.map((u) => u.id));
  assert.deepEqual(project.effects(), ['status', 'boom', 'status']);
});

test('--unattended denies a gated call at once without asking', async (t) => {
  const { fake, project } = await setup(t, [reply(toolUse('ops__restart', { service: 'api' })), reply('Could not.')]);
  const run = await runChat(project, ['restart api'], ['--unattended']);
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(project.effects(), []);
  assert.match(resultsOf(fake.requests[1])[0]!.text, /unattended/);
  assert.doesNotMatch(run.stdout, /Approve\?/);
});

test('a missing Anthropic key is a one-line error that says where to put it', async (t) => {
  const { project } = await setup(t, []);
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(project.dir, '.env'), 'ANTHROPIC_API_KEY=\n');
  const configText = (await import('node:fs')).readFileSync(project.configPath, 'utf8').replace('${ANTHROPIC_API_KEY}', '${ANTHROPIC_API_KEY:-}');
  writeFileSync(project.configPath, configText);
  const run = await runChat(project, ['hello']);
  assert.equal(run.code, 1);
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
  assert.match(run.stderr, /ANTHROPIC_API_KEY/);
  assert.match(run.stderr, /\.env/);
});

test('when piped input ends during an approval, the approval is cancelled at once instead of waiting out the deadline', async (t) => {
  const { fake, project } = await setup(t, [reply(toolUse('ops__restart', { service: 'web' })), reply('Cancelled.')], { timeoutSeconds: 300 });
  const run = await runChat(project, ['restart web']);
  assert.equal(run.code, EXIT.noAnswer, `piped chat exits ${EXIT.noAnswer} when a gated call was cancelled for lack of an answer; stderr: ${run.stderr}`);
  assert.deepEqual(project.effects(), []);
  const [result] = resultsOf(fake.requests[1]);
  assert.match(result!.text, /cancelled before a decision \(input ended before an answer\)/);
  assert.deepEqual(project.auditRecords().filter((r) => r.event === 'decision').map((r) => r.decision), ['cancelled']);
});

test('mithai chat killed while an approval is pending resumes it: --session shows the request again and the answer runs it once', async (t) => {
  const first = await startChat(t, [reply(toolUse('ops__restart', { service: 'web' })), reply('Restarted after the resume.')]);
  const { fake, project } = first;
  first.write('restart web\n');
  await first.until('no approval prompt', () => /Approve\?/.test(first.out()));
  first.kill('SIGKILL');
  await first.closed;
  assert.deepEqual(project.effects(), []);

  const resumed = await runChat(project, ['y'], ['--session', 'ops-1']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /^Resumed session ops-1: loaded 2 earlier messages\.$/m, 'it says what it loaded: the request and the model\'s call');
  assert.match(resumed.stdout, /Approval needed: ops__restart/, 'the pending request is shown again');
  assert.match(resumed.stdout, /testbot> Restarted after the resume\./);
  assert.deepEqual(project.effects(), ['restart web']);
  assert.equal(fake.calls.length, 2, 'the model was not asked again for the call it made before the kill');
  assert.deepEqual(project.auditRecords().filter((r) => r.event === 'decision').map((r) => r.decision), ['approved']);
});
