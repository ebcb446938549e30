/**
 * Durable turns, engine level. The rule these tests pin down: a turn's progress is its rows,
 * never a promise. A runtime that dies (closed without draining, like a kill) leaves rows that
 * the next runtime carries on: a decision taken after the restart, or by another process while
 * nobody served, runs the tool exactly once and the turn replies; a decided call is re-checked
 * against what is loaded now before it runs, and anything stale cancels it with a reason.
 * Each test counts side effects in effects.log.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFileSync } from 'node:fs';
import type { TestContext } from 'node:test';
import pino from 'pino';
import { apiError, lastToolResults, reply, toolResultText, toolUse } from '../fakes/anthropic/script.ts';
import type { Runtime } from '../../src/engine/create-runtime.ts';
import { ApprovalGate } from '../../src/human/approval-gate.ts';
import { AuditLog } from '../../src/audit/audit-log.ts';
import { verifyAuditLog } from '../../src/audit/verify-audit-log.ts';
import { Redactor } from '../../src/security/redactor.ts';
import { ApprovalStore } from '../../src/state/approval-store.ts';
import { AuditStore } from '../../src/state/audit-store.ts';
import { openDatabase } from '../../src/state/database.ts';
import { systemClock } from '../../src/clock.ts';
import type { Approval } from '../../src/human/types.ts';
import { RecordingAdapter } from '../fixtures/recording-adapter.ts';
import { restartEngine, startEngine, type EngineHarness } from './engine-harness.ts';

const APPROVE_SKILL_TOOL = 't__undeclared';

/** A second runtime on the same project, as a restarted process would build it. */
async function restart(t: TestContext, h: EngineHarness, yaml = ''): Promise<{ runtime: Runtime; adapter: RecordingAdapter }> {
  if (yaml) writeFileSync(join(h.dir, 'config.yaml'), `${readConfig(h)}\n${yaml}`);
  return restartEngine(t, h);
}

function readConfig(h: EngineHarness): string {
  return [
    'llm:',
    '  model: claude-test',
    `  anthropic: { api_key: "\${ANTHROPIC_API_KEY}", base_url: "${h.fake.url}", max_retries: 0 }`,
    'logging: { level: debug }',
  ].join('\n');
}

/** Run a turn until it waits on its approval, then "kill" the runtime (no drain, no cancel). */
async function waitingThenKilled(h: EngineHarness, text: string): Promise<Approval> {
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const id = h.runtime.engine.accept(h.turn(text))!;
  const step = await h.runtime.engine.run(id);
  assert.equal(step.kind, 'waiting');
  const approval = h.adapter.requested.at(-1);
  assert.ok(approval);
  h.runtime.close();
  return approval;
}

/** Decide from another process's point of view: its own connection and gate, no engine. */
function decideElsewhere(h: EngineHarness, id: string, decision: 'approve' | 'deny', reason?: string, approvedValidSeconds?: number): void {
  const db = openDatabase(join(h.dir, '.mithai', 'state'));
  try {
    const store = new ApprovalStore(db);
    const audit = AuditLog.open(join(h.dir, 'memory', 'approvals.json'), { redactor: new Redactor(), store: new AuditStore(db) });
    const gate = new ApprovalGate({ store, audit, clock: systemClock, timeoutSeconds: 300, ...(approvedValidSeconds === undefined ? {} : { approvedValidSeconds }), approvers: ['local:*'], confirmRequiresSecondPerson: false, taintedRequiresSecondPerson: true, logger: pino({ level: 'silent' }) });
    const result = gate.decide(id, 'local:ops', decision, { via: 'cli', ...(reason ? { reason } : {}) });
    assert.equal(result.ok, true, result.ok ? '' : result.message);
  } finally {
    db.close();
  }
}

function resultTexts(h: EngineHarness, index: number): string[] {
  const request = h.fake.requests.filter((r) => r.stepIndex !== undefined)[index];
  assert.ok(request, `model call ${index} was made`);
  return lastToolResults(request).map(toolResultText);
}

test('a turn waiting on an approval survives a restart: a click after it runs the tool once and the turn replies', async (t) => {
  const h = await startEngine(t, [reply(toolUse(APPROVE_SKILL_TOOL, {})), reply('Done after the restart.')]);
  const approval = await waitingThenKilled(h, 'run it');
  const { runtime, adapter } = await restart(t, h);
  await runtime.engine.resumeAll();
  assert.equal(runtime.approvals.get(approval.id)?.state, 'pending', 'a restart does not touch a live approval');
  assert.equal(runtime.engine.decide(approval.id, 'U1', 'approve').ok, true);
  await waitUntil(() => adapter.replies.length === 1);
  assert.equal(adapter.replies[0]!.text, 'Done after the restart.');
  assert.deepEqual(h.effects(), ['undeclared']);
  assert.equal(runtime.approvals.get(approval.id)?.state, 'succeeded');
  assert.equal(h.fake.calls.length, 2, 'the model was not asked again for the call it already made');
  assert.deepEqual(verifyAuditLog(join(h.dir, 'memory', 'approvals.json')).ok, true);
});

test('a decision made by another process while nobody served is carried on at the next start, once', async (t) => {
  const h = await startEngine(t, [reply(toolUse(APPROVE_SKILL_TOOL, {})), reply('Ran it.')], { yaml: 'human: { approvers: ["local:*"] }' });
  const approval = await waitingThenKilled(h, 'run it');
  decideElsewhere(h, approval.id, 'approve');
  const { runtime, adapter } = await restart(t, h, 'human: { approvers: ["local:*"] }');
  await runtime.engine.resumeAll();
  await waitUntil(() => adapter.replies.length === 1);
  assert.deepEqual(h.effects(), ['undeclared']);
  assert.match(resultTexts(h, 1)[0]!, /approved by local:ops/);
});

test('a decision made by another process while this one serves is picked up by the poll and the turn replies', async (t) => {
  const h = await startEngine(t, [reply(toolUse(APPROVE_SKILL_TOOL, {})), reply('Denied, so I stopped.')], { yaml: 'human: { approvers: ["local:*"] }' });
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const id = h.runtime.engine.accept(h.turn('run it'))!;
  assert.equal((await h.runtime.engine.run(id)).kind, 'waiting');
  decideElsewhere(h, h.adapter.requested[0]!.id, 'deny', 'not during the freeze');
  assert.equal(h.runtime.engine.pollDecisions(), 1);
  await waitUntil(() => h.adapter.replies.length === 1);
  assert.deepEqual(h.effects(), []);
  assert.match(resultTexts(h, 1)[0]!, /denied by local:ops.*Reason: not during the freeze/);
  assert.equal(h.runtime.engine.pollDecisions(), 0, 'nothing is picked up twice');
});

test('an approved call that could not start before the restart runs once after it, inside its validity window', async (t) => {
  const h = await startEngine(t, [reply(toolUse(APPROVE_SKILL_TOOL, {})), reply('ok')], { yaml: 'human: { approvers: ["local:*"] }' });
  const approval = await waitingThenKilled(h, 'run it');
  decideElsewhere(h, approval.id, 'approve');
  const { runtime, adapter } = await restart(t, h, 'human: { approvers: ["local:*"] }');
  const report = await runtime.engine.resumeAll();
  assert.deepEqual(report.cancelled, []);
  await waitUntil(() => adapter.replies.length === 1);
  assert.deepEqual(h.effects(), ['undeclared']);
});

test('an approved call past its validity window at start is cancelled, the thread is told, and the model hears why', async (t) => {
  const h = await startEngine(t, [reply(toolUse(APPROVE_SKILL_TOOL, {})), reply('ok')], { yaml: 'human: { approvers: ["local:*"], approval_valid_seconds: 0.05 }' });
  const approval = await waitingThenKilled(h, 'run it');
  decideElsewhere(h, approval.id, 'approve', undefined, 0.05);
  await new Promise((r) => setTimeout(r, 80));
  const { runtime, adapter } = await restart(t, h, 'human: { approvers: ["local:*"], approval_valid_seconds: 0.05 }');
  const report = await runtime.engine.resumeAll();
  assert.deepEqual(report.cancelled.map((a) => a.id), [approval.id]);
  assert.match(adapter.notices.map((n) => n.text).join('\n'), /cancelled at restart: approved, but it could not start within its validity window/);
  await waitUntil(() => adapter.replies.length === 1);
  assert.deepEqual(h.effects(), [], 'never run on a stale approval');
  assert.match(resultTexts(h, 1)[0]!, /approved by local:ops but cancelled before it started \(approved, but it could not start within its validity window/);
});

test('a decided call is re-checked against what is loaded now: a stricter level after a restart cancels it with the reason', async (t) => {
  const h = await startEngine(t, [reply(toolUse(APPROVE_SKILL_TOOL, {})), reply('ok')], { yaml: 'human: { approvers: ["local:*"] }' });
  const approval = await waitingThenKilled(h, 'run it');
  decideElsewhere(h, approval.id, 'approve');
  const { runtime, adapter } = await restart(t, h, `human: { approvers: ["local:*"], overrides: { ${APPROVE_SKILL_TOOL}: confirm } }`);
  await runtime.engine.resumeAll();
  await waitUntil(() => adapter.replies.length === 1);
  assert.deepEqual(h.effects(), []);
  const row = runtime.approvals.get(approval.id);
  assert.equal(row?.state, 'cancelled');
  assert.match(row?.reason ?? '', /now needs confirm .* stricter than the approve it was approved with/);
  assert.match(resultTexts(h, 1)[0]!, /did not run: it now needs confirm/);
  assert.ok(adapter.shown.some((a) => a.id === approval.id && a.state === 'cancelled'), 'the card is told too');
});

test('a decided call whose tool is no longer loaded after a restart is cancelled, never run, and the earlier auto call is not run again', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__write_note', { text: 'hello' }), toolUse('t__dyn', { mode: 'x' })), reply('ok')], { yaml: 'human: { approvers: ["local:*"] }' });
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const id = h.runtime.engine.accept(h.turn('note then dyn'))!;
  assert.equal((await h.runtime.engine.run(id)).kind, 'waiting');
  const approval = h.adapter.requested[0]!;
  assert.equal(approval.tool, 't__dyn');
  h.runtime.close();
  decideElsewhere(h, approval.id, 'approve');
  const { runtime, adapter } = await restart(t, h, 'human: { approvers: ["local:*"] }\nskills: { enabled: [] }');
  await runtime.engine.resumeAll();
  await waitUntil(() => adapter.replies.length === 1);
  assert.deepEqual(h.effects(), ['note hello'], 'the earlier auto call was not run again; the stale one never ran');
  assert.match(runtime.approvals.get(approval.id)?.reason ?? '', /no longer loaded/);
});

test('a model failure after a decided call ran leaves a valid session: the thread is told and the next message continues', async (t) => {
  const h = await startEngine(t, [
    reply(toolUse(APPROVE_SKILL_TOOL, {})),
    apiError(529, { type: 'overloaded_error', message: 'Overloaded' }),
    reply('Continuing: the earlier call ran.'),
  ]);
  h.adapter.onApproval = (a) => h.runtime.engine.decide(a.id, 'U1', 'approve');
  const first = await h.runtime.engine.handleTurn(h.turn('run it'), h.adapter);
  assert.equal(first.status, 'model_error');
  assert.match(first.reply, /could not finish/);
  assert.deepEqual(h.effects(), ['undeclared']);
  const next = await h.runtime.engine.handleTurn(h.turn('and now?'), h.adapter);
  assert.equal(next.reply, 'Continuing: the earlier call ran.');
  const sent = h.fake.calls.at(-1)!.messages;
  assert.ok(JSON.stringify(sent).includes('tool_result'), 'the tool result stayed in the history');
});

test('a message the model rejects is kept on record but never sent again, so its thread keeps working', async (t) => {
  const h = await startEngine(t, [apiError(400, { type: 'invalid_request_error', message: 'bad request' }), reply('Fine now.')]);
  const first = await h.runtime.engine.handleTurn(h.turn('POISON'), h.adapter);
  assert.equal(first.status, 'model_error');
  const next = await h.runtime.engine.handleTurn(h.turn('hello'), h.adapter);
  assert.equal(next.reply, 'Fine now.');
  assert.doesNotMatch(JSON.stringify(h.fake.calls.at(-1)!.messages), /POISON/);
  const stored = h.runtime.db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM session_messages WHERE message_json LIKE '%POISON%'").get();
  assert.equal(stored?.n, 1, 'the failed message is still on record');
});

test('a second message in a thread waits behind a turn that waits on an approval, and both are answered in order', async (t) => {
  const h = await startEngine(t, [reply(toolUse(APPROVE_SKILL_TOOL, {})), reply('first done'), reply('second done')]);
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const a = h.runtime.engine.accept(h.turn('first'))!;
  assert.equal((await h.runtime.engine.run(a)).kind, 'waiting');
  const b = h.runtime.engine.accept(h.turn('second'))!;
  assert.equal((await h.runtime.engine.run(b)).kind, 'queued');
  assert.equal(h.fake.calls.length, 1, 'the second turn did not reach the model while a tool_use waits for its result');
  h.runtime.engine.decide(h.adapter.requested[0]!.id, 'U1', 'approve');
  await waitUntil(() => h.adapter.replies.length === 2);
  assert.deepEqual(h.adapter.replies.map((r) => r.text), ['first done', 'second done']);
});

test('an auto call cut off by a crash is answered unknown after the restart and never re-run', async (t) => {
  const h = await startEngine(t, [reply('Checked.')]);
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const id = h.runtime.engine.accept(h.turn('write'))!;
  // The crash window: the call is marked executing (committed), and the process died before
  // the handler returned.
  const turns = h.runtime.turns;
  turns.update(id, 'running');
  turns.setCalls(id, [{ callId: 'toolu_cut', name: 't__write_note', inputJson: '{"text":"once"}', state: 'executing' }]);
  h.runtime.sessions.append(h.runtime.turns.get(id)!.sessionKey, [
    { role: 'user', content: [{ type: 'text', text: 'write' }] },
    { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_cut', name: 't__write_note', input: { text: 'once' } }] },
  ], id);
  h.runtime.close();
  const { runtime, adapter } = await restart(t, h);
  await runtime.engine.resumeAll();
  await waitUntil(() => adapter.replies.length === 1);
  assert.deepEqual(h.effects(), []);
  const results = lastToolResults(h.fake.calls.at(-1)!).map(toolResultText);
  assert.match(results[0]!, /outcome is unknown and it was not re-run/);
});

async function waitUntil(check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('a process serving one platform never carries on (or answers) a turn of another platform', async (t) => {
  const h = await startEngine(t, [reply(toolUse(APPROVE_SKILL_TOOL, {})), reply('answered in the wrong place')]);
  const terminalTurn = { ...h.turn('run it'), conversation: { platform: 'terminal' as const, team: 'local', channel: 'terminal', thread: 'chat-1' } };
  h.runtime.engine.attach(h.adapter, { platform: 'terminal' });
  const id = h.runtime.engine.accept(terminalTurn)!;
  assert.equal((await h.runtime.engine.run(id)).kind, 'waiting');
  h.runtime.close();
  const { runtime, adapter } = await restart(t, h); // serves 'slack'
  const report = await runtime.engine.resumeAll();
  assert.equal(report.resumed, 0);
  runtime.engine.decide(h.adapter.requested[0]!.id, 'U1', 'approve');
  assert.equal(runtime.engine.running, 0, 'the decision started no step here');
  assert.deepEqual(adapter.replies, []);
  assert.deepEqual(h.effects(), [], 'the terminal session runs it when it is resumed, not the Slack process');
});
