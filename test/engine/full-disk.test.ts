/**
 * The engine under a full disk (PRAGMA max_page_count on the runtime's connection fails a
 * write with SQLITE_FULL, as a full disk does): the disk fills at a chosen moment of a turn,
 * then frees. A failed state write makes the engine try the step again later (it never ends
 * the turn over it), so once the disk frees the turn carries on from its rows. After each: no
 * tool ran twice, none ran without its decision record, the audit chain verifies, every turn
 * finishes, and no result reached the history without its call's outcome.
 */
import { test } from 'node:test';
import BetterSqlite3 from 'better-sqlite3';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import type { Runtime } from '../../src/engine/create-runtime.ts';
import { StateError } from '../../src/errors.ts';
import { verifyAuditLog } from '../../src/audit/verify-audit-log.ts';
import type { AuditEventInput } from '../../src/audit/types.ts';
import type { Database } from '../../src/state/database.ts';
import type { Message } from '../../src/llm/types.ts';
import { restartEngine, startEngine, type EngineHarness } from './engine-harness.ts';

const SKILL = `
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineSkill, defineTool, z } from 'mithai';
const effect = (line) => appendFileSync(join(process.env.MITHAI_ENGINE_TEST_DIR, 'effects.log'), line + '\\n');
export default defineSkill({
  tools: {
    note: defineTool({ description: 'Write a note', human: 'auto',
      input: z.object({ text: z.string(), out: z.number().optional() }), handle: async ({ text, out }) => { effect('note ' + text.slice(0, 20)); await globalThis.__xhook?.('note', text); return 'x'.repeat(out ?? 5); } }),
    gated: defineTool({ description: 'Gated write', human: 'approve',
      input: z.object({ text: z.string(), out: z.number().optional() }), handle: async ({ text, out }) => { effect('gated ' + text.slice(0, 20)); await globalThis.__xhook?.('gated', text); return 'y'.repeat(out ?? 5); } }),
  },
});
`;

type Hook = (tool: string, text: string) => void | Promise<void>;
const g = globalThis as unknown as { __xhook?: Hook };

const UNLIMITED = 1073741823;
/** The disk is full: no new page may be added. Writes that fit in existing pages still succeed. */
function fillDisk(db: Database): void {
  const count = db.pragma('page_count', { simple: true }) as number;
  db.pragma(`max_page_count = ${count}`);
}
/** Full, and the free pages and the filler table's room used up too. */
let fillerKey = 0;
function fillDiskHard(db: Database): void {
  fillDisk(db);
  const insert = db.prepare('INSERT INTO skill_state (skill, key, version, value_json, updated_at) VALUES (?, ?, 1, ?, ?)');
  for (let size = 3000; size >= 8; size = Math.floor(size / 2)) {
    for (;;) {
      try {
        insert.run('filler', String(fillerKey++), JSON.stringify('f'.repeat(size)), 't');
      } catch {
        break;
      }
    }
  }
}
function freeDisk(db: Database): void {
  db.pragma(`max_page_count = ${UNLIMITED}`);
}

async function waitUntil(check: () => boolean, timeoutMs = 20000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Rec { seq: number; event: string; call_id?: string; tool?: string; status?: string; decision?: string }
function records(db: Database): Rec[] {
  return db.prepare<[], { line: string }>('SELECT line FROM audit_records ORDER BY seq').all().map((r) => JSON.parse(r.line) as Rec);
}

/** The safety rules, checked on a runtime whose disk is free. */
function check(h: EngineHarness, runtime: Runtime, label: string): void {
  const db = runtime.db;
  const recs = records(db);
  const effects = h.effects();
  // Each call's text is unique in these tests: an effect seen twice ran twice.
  assert.equal(new Set(effects).size, effects.length, `${label}: a tool ran twice: ${effects.join(', ')}`);
  const decisions = recs.filter((r) => r.event === 'decision' && (r.status === 'executing' || r.decision === 'approved'));
  const starts = recs.filter((r) => r.event === 'decision' && r.status === 'executing');
  const claims = db.prepare<[], { n: number }>("SELECT COUNT(*) AS n FROM approvals WHERE state IN ('executing','succeeded','failed','unknown')").get()!.n;
  const autoEffects = effects.filter((e) => e.startsWith('note ')).length;
  const gatedEffects = effects.filter((e) => e.startsWith('gated ')).length;
  assert.ok(starts.length >= autoEffects, `${label}: ${autoEffects} auto runs but ${starts.length} decision records: ${JSON.stringify(recs)}`);
  assert.ok(claims >= gatedEffects && decisions.length >= autoEffects + gatedEffects, `${label}: gated runs ${gatedEffects} without claims/decisions (${claims}): ${JSON.stringify(recs)}`);
  runtime.audit.flush();
  const verified = verifyAuditLog(join(h.dir, 'memory', 'approvals.json'));
  assert.equal(verified.ok, true, `${label}: audit chain: ${JSON.stringify(verified)}`);
  assert.equal(verified.records, recs.length, `${label}: file and database disagree`);
  const stuck = db.prepare<[], { id: string; state: string }>("SELECT id, state FROM turns WHERE state <> 'done'").all();
  assert.deepEqual(stuck, [], `${label}: turns left unfinished`);
  // Every tool_result in the history has its call's outcome in the audit chain.
  const msgs = db.prepare<[], { message_json: string }>('SELECT message_json FROM session_messages ORDER BY id').all().map((m) => JSON.parse(m.message_json) as { role: string; content: Array<{ type: string; tool_use_id?: string; id?: string; content?: string }> });
  const resultIds = msgs.flatMap((m) => m.content.filter((b) => b.type === 'tool_result').map((b) => b.tool_use_id!));
  const useIds = msgs.flatMap((m) => m.content.filter((b) => b.type === 'tool_use').map((b) => b.id!));
  for (const id of useIds) assert.equal(resultIds.filter((r) => r === id).length, 1, `${label}: tool_use ${id} has ${resultIds.filter((r) => r === id).length} results in the history`);
  for (const id of resultIds) {
    const ran = recs.some((r) => r.call_id === id && r.event === 'decision' && (r.status === 'executing' || r.decision === 'approved'));
    if (!ran) continue;
    const outcome = recs.some((r) => r.call_id === id && r.event === 'outcome');
    assert.ok(outcome, `${label}: result of ${id} is in the history but its outcome record is missing: ${JSON.stringify(recs.filter((r) => r.call_id === id))}`);
  }
}

function onceAt(h: EngineHarness, event: AuditEventInput['event'], status: string | undefined, then: () => void): void {
  const audit = h.runtime.audit;
  const original = audit.append.bind(audit);
  let fired = false;
  audit.append = ((input: AuditEventInput) => {
    if (!fired && input.event === event && (status === undefined || input.status === status)) {
      fired = true;
      then();
    }
    return original(input);
  }) as typeof audit.append;
}

/**
 * Make `object[method]` throw `error()` on its first `times` calls that `when` picks (as a
 * database refusing that write would); returns how many it failed.
 */
function failFirst<O extends object, K extends keyof O>(object: O, method: K, times: number, when: (...args: never[]) => boolean, error: () => Error): () => number {
  const original = (object[method] as (...args: unknown[]) => unknown).bind(object);
  let failed = 0;
  (object as Record<K, unknown>)[method] = (...args: unknown[]) => {
    if (failed < times && (when as (...a: unknown[]) => boolean)(...args)) {
      failed += 1;
      throw error();
    }
    return original(...args);
  };
  return () => failed;
}

test.afterEach(() => {
  delete g.__xhook;
});

const BIG = 'z'.repeat(6000);


const unhandled: unknown[] = [];
const onUnhandled = (e: unknown): void => {
  unhandled.push(e);
};
process.on('unhandledRejection', onUnhandled);
test.after(() => {
  process.off('unhandledRejection', onUnhandled);
});

function turnStates(db: Database): string[] {
  return db.prepare<[], { state: string }>('SELECT state FROM turns').all().map((r) => r.state);
}
const allDone = (db: Database): boolean => turnStates(db).every((s) => s === 'done');

test('the disk fills right before an auto call\'s decision commit: the tool does not run, and the turn answers once it frees', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__note', { text: 'a1' + BIG })), reply('after a'), reply('next')], { skill: SKILL });
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  onceAt(h, 'decision', 'executing', () => fillDisk(h.runtime.db));
  const id = h.runtime.engine.accept(h.turn('go'))!;
  await h.runtime.engine.run(id);
  assert.deepEqual(h.effects(), [], 'no tool ran without its decision record');
  freeDisk(h.runtime.db);
  await waitUntil(() => h.adapter.replies.length >= 1 && allDone(h.runtime.db));
  check(h, h.runtime, 'decision');
  assert.deepEqual(unhandled, []);
});

test('the disk fills while an auto call runs, so its outcome cannot be stored: once it frees the call is answered "unknown" with an outcome record, never run again', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__note', { text: 'b4' + BIG })), reply('after b4'), reply('next b4')], { skill: SKILL });
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  g.__xhook = () => {
    fillDiskHard(h.runtime.db);
    // Frees before the engine tries the step again (a second later).
    setTimeout(() => freeDisk(h.runtime.db), 50);
  };
  const id = h.runtime.engine.accept(h.turn('go'))!;
  const step = await h.runtime.engine.run(id);
  g.__xhook = undefined;
  assert.equal(step.kind, 'paused', 'the failed step is tried again later, not ended');
  await waitUntil(() => allDone(h.runtime.db) && h.adapter.replies.length >= 1);
  assert.deepEqual(h.effects(), ['note ' + ('b4' + BIG).slice(0, 20)]);
  const outcomes = records(h.runtime.db).filter((r) => r.event === 'outcome');
  assert.deepEqual(outcomes.map((r) => r.status), ['unknown']);
  assert.equal(h.adapter.replies.at(-1)?.text, 'after b4');
  check(h, h.runtime, 'outcome');
  assert.deepEqual(unhandled, []);
});

test('the results commit fails on a full disk after an auto call ran: once the disk frees, the recorded result reaches the model and the turn answers', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__note', { text: 'c1', out: 6000 })), reply('after c')], { skill: SKILL });
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  g.__xhook = () => {
    fillDiskHard(h.runtime.db);
    setTimeout(() => freeDisk(h.runtime.db), 50);
  };
  const first = await h.runtime.engine.handleTurn(h.turn('go'), h.adapter);
  g.__xhook = undefined;
  assert.deepEqual(first, { reply: 'after c', status: 'answered' });
  assert.deepEqual(h.effects(), ['note c1']);
  const sent = JSON.stringify(h.fake.calls.at(-1)!.messages);
  assert.match(sent, /"content":"x{6000}"/, 'the tool\'s recorded result was sent to the model');
  assert.doesNotMatch(sent, /Not run, or outcome unknown/);
  assert.deepEqual(records(h.runtime.db).map((r) => [r.event, r.status]), [['decision', 'executing'], ['outcome', 'succeeded']]);
  check(h, h.runtime, 'results');
  assert.deepEqual(unhandled, []);
});

type Phase = 'open' | 'decide' | 'claim' | 'run';
for (const phase of ['open', 'decide', 'claim', 'run'] as Phase[]) {
  test(`a gated call, the disk full at its ${phase}: after the disk frees and a restart, nothing ran twice or unrecorded, and the turn finished`, async (t) => {
    const h = await startEngine(t, [reply(toolUse('t__gated', { text: `d-${phase}`, out: 6000 })), reply(`after d-${phase}`), reply('next d')], { skill: SKILL });
    h.runtime.engine.attach(h.adapter, { platform: 'slack' });
    const db = h.runtime.db;
    if (phase === 'open') onceAt(h, 'requested', undefined, () => fillDiskHard(db));
    if (phase === 'decide') onceAt(h, 'decision', undefined, () => fillDiskHard(db));
    if (phase === 'claim') {
      const gate = h.runtime.gate;
      const original = gate.claimExecution.bind(gate);
      gate.claimExecution = ((approvalId: string, fp?: string) => {
        fillDiskHard(db);
        return original(approvalId, fp);
      }) as typeof gate.claimExecution;
    }
    if (phase === 'run') g.__xhook = () => fillDiskHard(db);
    const decideErrors: unknown[] = [];
    h.adapter.onApproval = (a) => {
      try {
        h.runtime.engine.decide(a.id, 'U1', 'approve');
      } catch (err) {
        decideErrors.push(err);
      }
    };
    const id = h.runtime.engine.accept(h.turn('go'))!;
    await h.runtime.engine.run(id);
    // The approver clicks once the card is shown (just after the step returned).
    const decided = (): boolean => decideErrors.length > 0 || h.runtime.gate.listByState(['pending']).length === 0;
    await waitUntil(decided);
    g.__xhook = undefined;
    if (phase === 'decide') assert.equal(decideErrors.length, 1, 'the decision that could not be stored was refused');
    else assert.deepEqual(decideErrors, []);
    freeDisk(db);
    // What can carry on in this process does (a failed step is tried again a second later).
    if (phase !== 'decide') await waitUntil(() => allDone(db));
    if (phase === 'run') {
      // The outcome fitted, the results commit did not: the retried step sends the recorded result.
      assert.deepEqual(h.runtime.gate.listByTurn(id).map((a) => a.state), ['succeeded']);
      assert.match(JSON.stringify(h.fake.calls.at(-1)!.messages), /y{6000}/);
    }
    h.runtime.close();
    const { runtime, adapter } = await restartEngine(t, h);
    adapter.onApproval = (a) => runtime.engine.decide(a.id, 'U1', 'approve');
    await runtime.engine.resumeAll();
    // An approval left pending (its decision was refused): decided now.
    for (const a of runtime.gate.listByState(['pending'])) runtime.engine.decide(a.id, 'U1', 'approve');
    await waitUntil(() => allDone(runtime.db));
    check(h, runtime, `gated ${phase}`);
    if (phase !== 'open') assert.deepEqual(h.effects(), [`gated d-${phase}`], 'the approved call ran exactly once');
    assert.deepEqual(unhandled, []);
  });
}

test('a raw SQLite error from a commit (SQLITE_FULL at COMMIT, where a real full disk fails in WAL mode) is retried like any state failure: the recorded result reaches the model', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__note', { text: 'raw1', out: 300 })), reply('after raw')], { skill: SKILL });
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const failures = failFirst(h.runtime.sessions, 'append', 1, (_key: string, messages: Message[]) => messages.some((m) => Array.isArray(m.content) && m.content.some((b) => b.type === 'tool_result')), () => new BetterSqlite3.SqliteError('database or disk is full', 'SQLITE_FULL'));
  const result = await h.runtime.engine.handleTurn(h.turn('go'), h.adapter);
  assert.equal(failures(), 1);
  assert.deepEqual(result, { reply: 'after raw', status: 'answered' });
  assert.deepEqual(h.effects(), ['note raw1']);
  const sent = JSON.stringify(h.fake.calls.at(-1)!.messages);
  assert.match(sent, /"content":"x{300}"/, 'the recorded result was sent, not a stand-in');
  check(h, h.runtime, 'raw');
});

test('a reply whose "done" commit fails is posted once, not again at every retry', async (t) => {
  const h = await startEngine(t, [reply('hello once')], { skill: SKILL });
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const failures = failFirst(h.runtime.turns, 'update', 2, (_id: string, state: string) => state === 'done', () => new StateError('the disk is full (test)', { code: 'state_transaction_lost' }));
  const result = await h.runtime.engine.handleTurn(h.turn('hi'), h.adapter);
  assert.equal(failures(), 2, 'the done commit failed twice, then succeeded');
  assert.deepEqual(result, { reply: 'hello once', status: 'answered' });
  assert.deepEqual(h.adapter.replies.map((r) => r.text), ['hello once']);
  assert.deepEqual(turnStates(h.runtime.db), ['done']);
});

test('an approved call whose outcome the database refuses is settled "unknown" with its record by the retried step, and the model is told so, not shown a result', async (t) => {
  const h = await startEngine(t, [reply(toolUse('t__gated', { text: 'fin1', out: 300 })), reply('after fin')], { skill: SKILL });
  h.runtime.engine.attach(h.adapter, { platform: 'slack' });
  const gate = h.runtime.gate;
  const refused = failFirst(gate, 'finish', 1, (_id: string, status: string) => status !== 'unknown', () => new StateError('the disk is full (test)', { code: 'state_transaction_lost' }));
  h.adapter.onApproval = (a) => h.runtime.engine.decide(a.id, 'U1', 'approve');
  const id = h.runtime.engine.accept(h.turn('go'))!;
  await h.runtime.engine.run(id);
  await waitUntil(() => allDone(h.runtime.db));
  assert.equal(refused(), 1);
  assert.deepEqual(h.effects(), ['gated fin1'], 'ran once, not again on the retry');
  assert.deepEqual(gate.listByTurn(id).map((a) => a.state), ['unknown']);
  assert.deepEqual(records(h.runtime.db).filter((r) => r.event === 'outcome').map((r) => r.status), ['unknown']);
  const sent = JSON.stringify(h.fake.calls.at(-1)!.messages);
  assert.match(sent, /outcome is unknown/);
  assert.doesNotMatch(sent, /y{300}/, 'no result reached the model without its outcome record');
  assert.equal(h.adapter.replies.at(-1)?.text, 'after fin');
  check(h, h.runtime, 'finish refused');
});
