/**
 * Retention of approval inputs: once an approval has settled (denied, expired, cancelled,
 * succeeded, failed, unknown) for longer than `state.approval_input_retention_days`, its tool
 * input, which may hold data the redactor never knew was secret, is replaced by a marker.
 * Everything else, the fingerprint included, stays. Pending and running approvals keep theirs.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { configSchema } from '../../src/config/schema.ts';
import type { Approval, ApprovalState } from '../../src/human/types.ts';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ApprovalStore, PURGED_CONFIRM_PHRASE, PURGED_INPUT_JSON } from '../../src/state/approval-store.ts';
import { openDatabase } from '../../src/state/database.ts';
import { openTestDatabase, tempDir } from '../state/open-test-database.ts';
import { approval } from '../fixtures/approval.ts';

const OLD = '2025-01-01T00:00:00.000Z';
const CUTOFF = '2025-02-01T00:00:00.000Z';
const RECENT = '2025-03-01T00:00:00.000Z';

function row(n: number, state: ApprovalState, fields: Partial<Approval> = {}): Approval {
  return approval({ id: `apr_${String(n).padStart(12, '0')}`, callId: `toolu_${n}`, state, inputJson: `{"password":"in-clear-${n}"}`, ...fields });
}

test('settled approvals older than the cutoff lose their input, and only those', (t) => {
  const store = new ApprovalStore(openTestDatabase(t, 'memory'));
  const rows = [
    row(1, 'succeeded', { decidedAt: OLD, finishedAt: OLD }),
    row(2, 'failed', { decidedAt: OLD, finishedAt: OLD }),
    row(3, 'denied', { decidedAt: OLD }),
    row(4, 'cancelled', { decidedAt: OLD }),
    row(5, 'expired', { deadline: OLD }),
    row(6, 'unknown', { decidedAt: OLD, finishedAt: OLD }),
    row(7, 'succeeded', { decidedAt: OLD, finishedAt: RECENT }), // finished recently
    row(8, 'denied', { decidedAt: RECENT }),
    row(9, 'pending', { deadline: OLD }), // not final
    row(10, 'approved', { decidedAt: OLD }),
    row(11, 'executing', { decidedAt: OLD }),
  ];
  for (const r of rows) store.insert(r);
  assert.equal(store.purgeSettledInputs(CUTOFF), 6);
  for (const r of rows) {
    const now = store.get(r.id)!;
    const purged = Number(r.id.slice(-2)) <= 6;
    assert.equal(now.inputJson, purged ? PURGED_INPUT_JSON : r.inputJson, r.id);
    assert.deepEqual({ ...now, inputJson: r.inputJson }, r, 'everything else, the fingerprint included, is kept');
  }
  assert.equal(store.purgeSettledInputs(CUTOFF), 0, 'purging twice counts nothing new');
  assert.deepEqual(JSON.parse(PURGED_INPUT_JSON), { purged: true });
});

test('state.approval_input_retention_days defaults to 30, accepts 0 (keep forever) and ${VAR} strings', () => {
  assert.equal(configSchema.parse({}).state.approval_input_retention_days, 30);
  assert.equal(configSchema.parse({ state: { approval_input_retention_days: 0 } }).state.approval_input_retention_days, 0);
  assert.equal(configSchema.parse({ state: { approval_input_retention_days: '7' } }).state.approval_input_retention_days, 7);
  assert.equal(configSchema.safeParse({ state: { approval_input_retention_days: -1 } }).success, false);
  assert.equal(configSchema.safeParse({ state: { approval_input_retention_days: 1.5 } }).success, false);
});

test('a purge leaves no byte of the input or of a confirmation phrase made from it in the database files', (t) => {
  const dir = tempDir(t);
  const db = openDatabase(join(dir, 'state'));
  const store = new ApprovalStore(db);
  const secret = 'in-clear-secret-4f9a2c';
  // One short input, one long enough for overflow pages (freed to the free list on update).
  const rows = [
    row(1, 'succeeded', { decidedAt: OLD, finishedAt: OLD, level: 'confirm', confirmPhrase: `orders-${secret}`, inputJson: JSON.stringify({ db: `orders-${secret}` }) }),
    row(2, 'denied', { decidedAt: OLD, inputJson: JSON.stringify({ blob: `${secret} `.repeat(400) }) }),
  ];
  for (const r of rows) store.insert(r);
  assert.equal(store.purgeSettledInputs(CUTOFF), 2);
  assert.equal(store.get(rows[0]!.id)!.confirmPhrase, PURGED_CONFIRM_PHRASE);
  assert.equal(store.get(rows[1]!.id)!.confirmPhrase, null, 'no phrase stays none');
  assert.equal(store.purgeSettledInputs(CUTOFF), 0);
  // Scanned while the connection is open, as a crash would leave the files.
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));
  assert.ok(files.some((f) => f.endsWith('-wal')), 'the WAL is among the files scanned');
  const holding = files.filter((f) => readFileSync(f).includes(Buffer.from(secret)));
  db.close();
  assert.deepEqual(holding, []);
});
