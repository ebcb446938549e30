/**
 * The liveness file `mithai run` keeps for a supervisor's health check. The rule: the file is
 * fresh only while the Socket Mode connection is open (a disconnected or stopped process must go
 * stale, or a health check would call a process that serves nothing healthy), it is gone after a
 * clean stop, and a failed write never throws out of the timer (it is logged once). Each beat
 * asks `isConnected` once, so the tests count beats by counting those calls instead of sleeping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { HEARTBEAT_FILE, startHeartbeat } from '../../src/cli/run-heartbeat.ts';
import { recordingLogger, silentLogger, tempDir } from '../skills/skill-fixtures.ts';

/** A connection switch that counts how often the heartbeat looked at it. */
function connection(isOpen: boolean): { isConnected: () => boolean; set(open: boolean): void; beats(): number } {
  let open = isOpen;
  let calls = 0;
  return {
    isConnected: () => {
      calls += 1;
      return open;
    },
    set: (value) => (open = value),
    beats: () => calls,
  };
}

async function untilBeats(conn: { beats(): number }, n: number): Promise<void> {
  const deadline = Date.now() + 5000;
  while (conn.beats() < n) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for beat ${n} (saw ${conn.beats()})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('while connected the file is written at once and rewritten on every beat; stop removes it', async (t) => {
  const dir = tempDir(t, 'mithai-heartbeat-');
  const file = join(dir, HEARTBEAT_FILE);
  const conn = connection(true);
  const heartbeat = startHeartbeat(dir, conn.isConnected, silentLogger, 10);
  t.after(() => heartbeat.stop());
  assert.equal(readFileSync(file, 'utf8'), `${process.pid}\n`, 'the first beat is immediate and holds the pid only');
  rmSync(file);
  await untilBeats(conn, 3);
  assert.ok(existsSync(file), 'a later beat wrote it again');
  heartbeat.stop();
  assert.ok(!existsSync(file), 'a stopped process leaves no fresh heartbeat behind');
  const after = conn.beats();
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(conn.beats(), after, 'no beat after stop');
  assert.ok(!existsSync(file));
});

test('while the connection is down nothing is written; once it is up again the beats resume', async (t) => {
  const dir = tempDir(t, 'mithai-heartbeat-');
  const file = join(dir, HEARTBEAT_FILE);
  const conn = connection(false);
  const heartbeat = startHeartbeat(dir, conn.isConnected, silentLogger, 10);
  t.after(() => heartbeat.stop());
  await untilBeats(conn, 3);
  assert.ok(!existsSync(file), 'a disconnected process does not look alive');
  conn.set(true);
  const now = conn.beats();
  await untilBeats(conn, now + 1);
  assert.ok(existsSync(file));
});

test('a write that fails is logged once, never thrown, and the next good write clears it', async (t) => {
  const dir = tempDir(t, 'mithai-heartbeat-');
  const state = join(dir, 'state');
  const { logger, records } = recordingLogger();
  const conn = connection(true);
  const heartbeat = startHeartbeat(state, conn.isConnected, logger, 10);
  t.after(() => heartbeat.stop());
  await untilBeats(conn, 4);
  const failures = records.filter((r) => r.msg === 'heartbeat.write_failed');
  assert.equal(failures.length, 1, 'one line for a run of failures, not one per beat');
  assert.equal(failures[0]!.path, join(state, HEARTBEAT_FILE));
  mkdirSync(state);
  const now = conn.beats();
  await untilBeats(conn, now + 1);
  assert.ok(existsSync(join(state, HEARTBEAT_FILE)));
});

test('a beat that finds the process lock no longer intact says so once and tells the process, connected or not', async (t) => {
  const dir = tempDir(t, 'mithai-heartbeat-');
  const conn = connection(false);
  let intact = true;
  let lost = 0;
  const { logger, records } = recordingLogger();
  const heartbeat = startHeartbeat(dir, conn.isConnected, logger, 10, { isIntact: () => intact, onLost: () => void (lost += 1) });
  t.after(() => heartbeat.stop());
  await untilBeats(conn, 2);
  assert.equal(lost, 0);
  intact = false;
  const deadline = Date.now() + 5000;
  while (lost === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  assert.equal(lost, 1, 'told once');
  const seen = conn.beats();
  await new Promise((r) => setTimeout(r, 40));
  assert.equal(lost, 1, 'and only once');
  assert.equal(conn.beats(), seen, 'no more beats once the lock is lost: the file is not written for a process about to stop');
  assert.equal(records.filter((r) => r.msg === 'state.lock_lost').length, 1);
});
