/**
 * `ctx.memory` (MemoryFiles), MEMORY.md and the daily notes: a tool has no way to read or write
 * the audit log (memory/approvals.json) through them, and planted links (the memory folder is
 * checked into git) are refused. Files named by the caller: memory-file-paths.test.ts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { StateError } from '../../src/errors.ts';
import { MemoryFiles } from '../../src/memory/memory-files.ts';

const DAY = new Date('2026-03-04T05:06:07.000Z');
const NOTE = '2026-03-04.md';
const AUDIT = '{"approval_id":"apr-1","hash":"' + 'a'.repeat(64) + '"}\n';

/** A memory folder holding an audit log, and a MemoryFiles over it. */
function memoryDir(t: TestContext) {
  const root = mkdtempSync(join(tmpdir(), 'mithai-memory-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'memory');
  mkdirSync(dir);
  const audit = join(dir, 'approvals.json');
  writeFileSync(audit, AUDIT);
  const memory = new MemoryFiles(dir, { redact: (s) => s.replace(/sk-\w+/g, '[REDACTED]') }, () => DAY);
  return { root, dir, audit, memory };
}

function isRefusal(pattern: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof StateError, `expected a StateError, got ${String(err)}`);
    assert.equal(err.code, 'memory_refused');
    assert.match(err.message, pattern);
    return true;
  };
}

describe('MemoryFiles', () => {
  test('reads MEMORY.md ("" when missing) and appends redacted notes to today\'s file', async (t) => {
    const { dir, memory } = memoryDir(t);
    assert.equal(await memory.readMemory(), '');
    writeFileSync(join(dir, 'MEMORY.md'), 'remember this');
    assert.equal(await memory.readMemory(), 'remember this');
    await memory.appendDailyNote('token sk-abc123 used');
    await memory.appendDailyNote('second');
    const note = readFileSync(join(dir, 'daily', NOTE), 'utf8');
    assert.match(note, /### 2026-03-04T05:06:07.000Z\ntoken \[REDACTED\] used\n/);
    assert.match(note, /second\n$/);
  });

  test('the note methods take no path: path tricks in the note text are only text', async (t) => {
    const { dir, audit, memory } = memoryDir(t);
    // The whole surface a tool gets: the note methods take no path (appendDailyNote takes the
    // note's text); the path-taking methods check their paths (memory-file-paths.test.ts).
    const proto = Object.getOwnPropertyNames(MemoryFiles.prototype).filter((k) => k !== 'constructor');
    assert.deepEqual(proto.sort(), ['appendDailyNote', 'listFiles', 'memoryPath', 'readFile', 'readMemory', 'readMemorySync', 'writeFile']);
    assert.equal(memory.readMemory.length, 0);
    assert.equal(memory.readMemorySync.length, 0);
    assert.equal(memory.appendDailyNote.length, 1);
    const tricks = ['../approvals.json', '/etc/passwd', `${audit}`, 'approvals.json/', 'APPROVALS.JSON', 'Approvals.Json', '%2e%2e%2fapprovals.json', '..%2Fapprovals.json', 'file:///' + audit, '\0approvals.json'];
    for (const trick of tricks) await memory.appendDailyNote(trick);
    assert.equal(readFileSync(audit, 'utf8'), AUDIT, 'the audit log is untouched');
    assert.deepEqual(readdirSync(dir).sort(), ['approvals.json', 'daily']);
    assert.deepEqual(readdirSync(join(dir, 'daily')), [NOTE]);
    const note = readFileSync(join(dir, 'daily', NOTE), 'utf8');
    for (const trick of tricks) assert.ok(note.includes(trick), `${trick} is recorded as text`);
    assert.equal(await memory.readMemory(), '', 'MEMORY.md is still the only file read');
  });

  test('refuses MEMORY.md as a symbolic link to the audit log (absolute or relative)', async (t) => {
    for (const target of ['approvals.json', 'ABSOLUTE', './approvals.json', '../memory/approvals.json']) {
      const { dir, audit, memory } = memoryDir(t);
      symlinkSync(target === 'ABSOLUTE' ? audit : target, join(dir, 'MEMORY.md'));
      await assert.rejects(memory.readMemory(), isRefusal(/symbolic link/), target);
      assert.throws(() => memory.readMemorySync(), isRefusal(/symbolic link/), target);
    }
  });

  test('refuses MEMORY.md as a symbolic link to anything, even an ordinary file', async (t) => {
    const { root, dir, memory } = memoryDir(t);
    writeFileSync(join(root, 'elsewhere.md'), 'secret');
    symlinkSync(join(root, 'elsewhere.md'), join(dir, 'MEMORY.md'));
    await assert.rejects(memory.readMemory(), isRefusal(/symbolic link/));
  });

  test('refuses MEMORY.md as a hard link to the audit log', async (t) => {
    const { dir, audit, memory } = memoryDir(t);
    linkSync(audit, join(dir, 'MEMORY.md'));
    await assert.rejects(memory.readMemory(), isRefusal(/hard link/));
  });

  test('refuses a MEMORY.md that is a folder', async (t) => {
    const { dir, memory } = memoryDir(t);
    mkdirSync(join(dir, 'MEMORY.md'));
    await assert.rejects(memory.readMemory(), isRefusal(/not a regular file/));
  });

  test('refuses today\'s note as a symbolic link to the audit log, writing nothing', async (t) => {
    for (const target of ['../approvals.json', 'ABSOLUTE']) {
      const { dir, audit, memory } = memoryDir(t);
      mkdirSync(join(dir, 'daily'));
      symlinkSync(target === 'ABSOLUTE' ? audit : target, join(dir, 'daily', NOTE));
      await assert.rejects(memory.appendDailyNote('{"forged":true}'), isRefusal(/symbolic link/), target);
      assert.equal(readFileSync(audit, 'utf8'), AUDIT, target);
    }
  });

  test('refuses a dangling symbolic link as today\'s note, creating nothing at its target', async (t) => {
    const { root, dir, memory } = memoryDir(t);
    mkdirSync(join(dir, 'daily'));
    symlinkSync(join(root, 'created-by-a-tool'), join(dir, 'daily', NOTE));
    await assert.rejects(memory.appendDailyNote('x'), isRefusal(/symbolic link/));
    assert.equal(existsSync(join(root, 'created-by-a-tool')), false);
  });

  test('refuses today\'s note as a hard link to the audit log, writing nothing', async (t) => {
    const { dir, audit, memory } = memoryDir(t);
    mkdirSync(join(dir, 'daily'));
    linkSync(audit, join(dir, 'daily', NOTE));
    await assert.rejects(memory.appendDailyNote('{"forged":true}'), isRefusal(/hard link/));
    assert.equal(readFileSync(audit, 'utf8'), AUDIT);
  });

  test('refuses daily/ as a symbolic link (to the memory folder or anywhere else)', async (t) => {
    const { root, dir, audit, memory } = memoryDir(t);
    const outside = join(root, 'outside');
    mkdirSync(outside);
    symlinkSync(outside, join(dir, 'daily'));
    await assert.rejects(memory.appendDailyNote('x'), isRefusal(/daily.*symbolic link/));
    assert.deepEqual(readdirSync(outside), []);
    rmSync(join(dir, 'daily'));
    symlinkSync('.', join(dir, 'daily'));
    await assert.rejects(memory.appendDailyNote('x'), isRefusal(/symbolic link/));
    assert.equal(readFileSync(audit, 'utf8'), AUDIT);
  });

  test('refuses a daily/ that is a file', async (t) => {
    const { dir, memory } = memoryDir(t);
    writeFileSync(join(dir, 'daily'), '');
    await assert.rejects(memory.appendDailyNote('x'));
  });
});
