/**
 * `mithai approvals list` through the real CLI over a seeded state database: a header and the
 * reason and decider columns, newest first, `--limit` (default 50) and `--since`, clear errors
 * for bad values, redacted reasons, and no input in the output.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { FAKE_API_KEY } from '../fakes/anthropic/fake-anthropic.ts';
import { approval } from '../fixtures/approval.ts';
import { ApprovalStore } from '../../src/state/approval-store.ts';
import { openDatabase } from '../../src/state/database.ts';
import type { Approval } from '../../src/human/types.ts';
import { makeProject, runCli } from './chat-harness.ts';
import type { Project } from './chat-harness.ts';

const HOUR = 3_600_000;

/** A project whose state database holds `rows` (no model is needed to list). */
function seeded(t: TestContext, rows: Approval[]): Project {
  const project = makeProject('http://127.0.0.1:9');
  t.after(() => project.cleanup());
  const db = openDatabase(join(project.dir, '.mithai', 'state'));
  try {
    const store = new ApprovalStore(db);
    db.transaction(() => rows.forEach((r) => store.insert(r)))();
  } finally {
    db.close();
  }
  return project;
}

const list = (project: Project, args: string[] = []) => runCli(['approvals', 'list', '--config', project.configPath, ...args], { cwd: project.dir });
const ago = (ms: number): string => new Date(Date.now() - ms).toISOString();

test('approvals list prints a header and one row per approval, newest first, with the decider and the reason', async (t) => {
  const project = seeded(t, [
    approval({ id: 'apr_old000000001', callId: 'c1', createdAt: ago(5 * HOUR), state: 'denied', decider: 'UBOB000001', decidedAt: ago(4 * HOUR), reason: `not now, key ${FAKE_API_KEY}` }),
    approval({ id: 'apr_new000000002', callId: 'c2', createdAt: ago(1 * HOUR), inputJson: JSON.stringify({ service: 'payments-secret-input' }), taint: [{ kind: 'tool_output', source: 'ops__fetch' }] }),
  ]);
  const run = await list(project);
  assert.equal(run.code, 0, run.stderr);
  const [header, first, second, ...rest] = run.stdout.trimEnd().split('\n');
  assert.deepEqual(header!.split(/\s+/), ['CREATED', 'ID', 'STATE', 'LEVEL', 'TOOL', 'REQUESTER', 'DECIDER', 'UNTRUSTED', 'REASON']);
  assert.deepEqual(rest, []);
  assert.deepEqual(first!.split(/\s+/).slice(1), ['apr_new000000002', 'pending', 'approve', 'ops__restart', 'UALICE0001', '-', 'yes', '-'], 'newest first; empty cells are "-"');
  assert.deepEqual(second!.split(/\s+/).slice(1, 8), ['apr_old000000001', 'denied', 'approve', 'ops__restart', 'UALICE0001', 'UBOB000001', '-']);
  assert.match(second!, /  not now, key \[REDACTED\]$/, 'the reason is the last column, redacted');
  assert.equal(header!.indexOf('REASON'), first!.lastIndexOf('-'), 'columns line up under the header');
  assert.doesNotMatch(run.stdout, new RegExp(FAKE_API_KEY));
  assert.doesNotMatch(run.stdout, /payments-secret-input/, 'the input stays in the database');
  assert.equal(run.stderr, '');
});

test('approvals list shows the newest 50 by default, --limit N the newest N, and says on stderr that more match', async (t) => {
  const rows = Array.from({ length: 60 }, (_, i) => approval({ id: `apr_${String(i).padStart(12, '0')}`, callId: `c${i}`, createdAt: ago((60 - i) * 60_000) }));
  const project = seeded(t, rows);
  const byDefault = await list(project);
  assert.equal(byDefault.code, 0, byDefault.stderr);
  assert.equal(byDefault.stdout.trimEnd().split('\n').length, 1 + 50);
  assert.match(byDefault.stderr, /^\(showing the newest 50; more match: raise --limit, or narrow with --since or --state\)\n$/);
  const three = await list(project, ['--limit', '3', '--json']);
  assert.equal(three.code, 0, three.stderr);
  assert.deepEqual(three.stdout.trimEnd().split('\n').map((l) => (JSON.parse(l) as { id: string }).id), ['apr_000000000059', 'apr_000000000058', 'apr_000000000057']);
  assert.ok(three.stdout.split('\n').every((l) => !l.includes('inputJson')), 'no input in the JSON either');
  const all = await list(project, ['--limit', '60']);
  assert.equal(all.stdout.trimEnd().split('\n').length, 1 + 60);
  assert.equal(all.stderr, '', 'nothing left out, nothing said');
});

test('approvals list --since takes a duration or an ISO date and shows only what was created since', async (t) => {
  const project = seeded(t, [
    approval({ id: 'apr_tendaysago01', callId: 'c1', createdAt: ago(240 * HOUR) }),
    approval({ id: 'apr_threedays001', callId: 'c2', createdAt: ago(72 * HOUR) }),
    approval({ id: 'apr_twohours0001', callId: 'c3', createdAt: ago(2 * HOUR) }),
  ]);
  const ids = (stdout: string): string[] => stdout.trimEnd().split('\n').slice(1).map((l) => l.split(/\s+/)[1]!);
  assert.deepEqual(ids((await list(project, ['--since', '24h'])).stdout), ['apr_twohours0001']);
  assert.deepEqual(ids((await list(project, ['--since', '7d'])).stdout), ['apr_twohours0001', 'apr_threedays001']);
  const fourDaysAgo = ago(96 * HOUR).slice(0, 10);
  assert.deepEqual(ids((await list(project, ['--since', `${fourDaysAgo}T00:00:00Z`, '--state', 'pending'])).stdout), ['apr_twohours0001', 'apr_threedays001']);
  const none = await list(project, ['--since', '30m']);
  assert.equal(none.stdout, 'no approvals\n');
});

test('a bad --limit or --since is a usage error (exit 2) that names the option and what it takes', async (t) => {
  const project = seeded(t, []);
  for (const [args, expected] of [
    [['--limit', '0'], /option '--limit <n>' argument '0' is invalid\. Expected a positive whole number, such as 50\./],
    [['--limit', 'ten'], /option '--limit <n>' argument 'ten' is invalid/],
    [['--limit', '2.5'], /option '--limit <n>' argument '2\.5' is invalid/],
    [['--since', 'yesterday'], /option '--since <when>' argument 'yesterday' is invalid\. Expected a duration \(30m, 24h, 7d, 2w\) or an ISO date or time/],
    [['--since', '2025-13-45'], /argument '2025-13-45' is invalid/],
  ] as const) {
    const run = await list(project, [...args]);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.match(run.stderr, expected);
    assert.equal(run.stdout, '');
  }
});
