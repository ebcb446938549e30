/**
 * Review finding (src/engine/tool-call-router.ts dispatchDecided's guard `audit.write()` before
 * claimExecution, with src/audit/audit-log.ts write()'s hold-back, ab621fa): "The decision
 * record must be in the audit file before the side effect"; dispatchDecided calls write() and
 * refuses the call when it throws. But while this process holds back a record of its own
 * (any session's auto-call outcome committed with its results, sync: false, for up to
 * AUDIT_SYNC_DELAY_MS), write() only looks at records before #unsyncedFrom and returns early
 * without touching the file. A decision committed by another process (`mithai approvals
 * approve`) has a higher seq, so it is neither written nor checked: a file that refuses every
 * write (here a torn tail; the CLI's own write failed and was swallowed by the gate's
 * #writeQuietly) is not noticed. The claim commit's writeAfterCommit has nothing "dirty" to
 * write (approved→executing appends no record) and would swallow a failure anyway, so the tool
 * runs while its decision record is not in approvals.json.
 *
 * What must hold: a gated tool never starts unless its decision record is in the audit file
 * (the tool handler here reads approvals.json when it runs and records what it found).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { reply, toolUse } from '../fakes/anthropic/script.ts';
import { decideFromCli } from '../../src/cli/approval-decision.ts';
import { startEngine } from '../engine/engine-harness.ts';
import { waitFor } from '../fixtures/wait-for.ts';

const SKILL = `
import { appendFileSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { defineSkill, defineTool, z } from 'mithai';
const dir = process.env.MITHAI_ENGINE_TEST_DIR;
const effect = (line) => appendFileSync(join(dir, 'effects.log'), line + '\\n');
export default defineSkill({
  tools: {
    restart: defineTool({ description: 'Restart a service', human: 'approve', input: z.object({}), handle: async (_input, ctx) => {
      const file = join(dir, 'memory', 'approvals.json');
      const lines = existsSync(file) ? readFileSync(file, 'utf8').split('\\n') : [];
      const found = lines.some((l) => l.includes('"call_id":"' + ctx.callId + '"') && l.includes('"decision":"approved"'));
      effect('restart ran, decision in approvals.json: ' + found);
      return 'restarted';
    } }),
    write_note: defineTool({ description: 'Write a note', human: 'auto', input: z.object({ text: z.string() }), handle: async ({ text }) => { effect('note ' + text); return 'noted'; } }),
  },
});
`;

test('a call approved from the command line does not run while its decision is not in approvals.json', async (t) => {
  const h = await startEngine(
    t,
    [reply(toolUse('t__restart', {}, 'toolu_restart')), reply(toolUse('t__write_note', { text: 'x' }, 'toolu_note')), reply('Noted.'), (_req) => reply('Restart handled.')],
    { skill: SKILL, yaml: 'human: { approvers: ["local:*", "U1"] }' },
  );
  const { engine } = h.runtime;
  engine.attach(h.adapter, { platform: 'slack' });
  // Thread A: a gated call waits for its approval.
  const a = engine.accept(h.turn('restart it'))!;
  assert.equal((await engine.run(a)).kind, 'waiting');
  const approval = h.adapter.requested[0]!;
  // Thread B: an auto call runs; its outcome commits with B's results (held back for up to a second).
  const b = engine.accept(h.turn('note x', { conversation: { platform: 'slack', team: 'T1', channel: 'C1', thread: '1700000000.000200' } }))!;
  assert.equal((await engine.run(b)).kind, 'finished');

  // The audit file now refuses every write (a torn tail) ...
  appendFileSync(join(h.dir, 'memory', 'approvals.json'), '{"v":1,"seq":');
  // ... so the operator's approval from the command line commits, but its record never reaches the file.
  const cli = decideFromCli(h.runtime.loaded, approval.id, 'approve', {});
  assert.equal(cli.code, 0, cli.stderr);

  assert.equal(engine.pollDecisions(), 1);
  await waitFor('thread A to reply', () => h.adapter.replies.length === 2);
  assert.deepEqual(
    h.effects().filter((e) => e.startsWith('restart')),
    [],
    'the approved restart ran although the audit file could not be written (its decision record was not in approvals.json when it started)',
  );
});
