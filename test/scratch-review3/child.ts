import { existsSync, mkdtempSync, rmSync, writeFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inWriteTransaction, openDatabase, syncCommittedInBackground } from '../../src/state/database.ts';

const mode = process.argv[2];
const trigger = process.env.FAILWAL_TRIGGER ?? '';
const dir = mkdtempSync(join(tmpdir(), 'rv3-sync-'));
const db = openDatabase(join(dir, 'state'));
const out: Record<string, unknown> = { mode };
let key = 0;
const insert = (sync: boolean): void => {
  inWriteTransaction(db, () => db.prepare('INSERT INTO event_dedupe (key, seen_at) VALUES (?, 0)').run(`k${++key}`), { sync });
};
const attempt = (name: string, fn: () => unknown): void => {
  try { fn(); out[name] = 'ok'; } catch (err) { out[name] = `threw ${(err as { code?: string }).code ?? (err as Error).message}`; }
};
insert(false);
if (mode === 'dbfile-checkpoint') {
  for (let i = 0; i < 200; i++) insert(false);
  writeFileSync(trigger, '');
  await new Promise<void>((r) => setImmediate(r));
  out.failing = existsSync(trigger) ? 'no fsync of the db file failed' : 'checkpoint db-file fsync failed';
} else if (mode === 'returning-autocommit') {
  writeFileSync(trigger, '');
  attempt('failing', () => db.prepare("INSERT INTO event_dedupe (key, seen_at) VALUES ('ret', 0) RETURNING key").get());
} else if (mode === 'returning-after-failure') {
  writeFileSync(trigger, '');
  attempt('failing', () => insert(true));
  attempt('returningAfterFailure', () => db.prepare("INSERT INTO event_dedupe (key, seen_at) VALUES ('ret2', 0) RETURNING key").get());
}
out.shimFired = !existsSync(trigger);
try { await syncCommittedInBackground(db); out.backgroundSync = 'resolved'; } catch (err) { out.backgroundSync = `rejected ${(err as { code?: string }).code ?? ''}`; }
attempt('syncedCommit', () => insert(true));
process.stdout.write(`${JSON.stringify(out)}\n`);
db.close();
rmSync(dir, { recursive: true, force: true });
