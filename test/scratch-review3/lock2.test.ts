import { test } from 'node:test';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { acquireProcessLock, LOCK_DB_FILE } from '../../src/state/process-lock.ts';
import { openDatabase } from '../../src/state/database.ts';
test('lock db contents / garbage lock db / release', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rv3-l2-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const l = acquireProcessLock(dir);
  console.log('lock db header', JSON.stringify(readFileSync(join(dir, LOCK_DB_FILE)).subarray(0, 16).toString('latin1')));
  try { acquireProcessLock(dir); } catch (e) { console.log('same process second:', (e as Error).message.slice(0, 60)); }
  l.release(); l.release();
  console.log('after release', readdirSync(dir));
  writeFileSync(join(dir, LOCK_DB_FILE), Buffer.alloc(4096, 0x41));
  try { acquireProcessLock(dir).release(); console.log('garbage: acquired'); } catch (e) { console.log('garbage lock db:', (e as Error).message); }
  writeFileSync(join(dir, LOCK_DB_FILE), Buffer.alloc(4096, 0));
  try { acquireProcessLock(dir).release(); console.log('zeros: acquired'); } catch (e) { console.log('zeros lock db:', (e as Error).message); }
  writeFileSync(join(dir, LOCK_DB_FILE), Buffer.alloc(0));
  // in-process: state db opened via openDatabase on the same dir as lock: no interference
  const l2 = acquireProcessLock(dir);
  const db = openDatabase(dir); db.close();
  try { acquireProcessLock(dir); console.log('BUG: reacquired after db open/close'); } catch { console.log('still held after db open/close'); }
  l2.release();
});
