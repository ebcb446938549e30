/**
 * Files a tool names in the memory folder (`readFile`, `writeFile`, `listFiles`): whatever path
 * it gives, nothing outside the memory folder is read or written, the audit log and secrets
 * files are never opened, daily notes are never written by a tool, and written text is redacted.
 * Attacked with `..`, absolute paths, symbolic links (file and folder, to outside and to the
 * audit log), hard links to outside files, case tricks, hidden files and odd characters.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { MemoryFiles } from '../../src/memory/memory-files.ts';
import { MemoryPathError, isMemoryMd, readablePath, writablePath } from '../../src/memory/memory-paths.ts';

const AUDIT = '{"approval_id":"apr-1"}\n';
const OUTSIDE = 'outside secret file\n';

function memoryDir(t: TestContext) {
  const root = mkdtempSync(join(tmpdir(), 'mithai-memfiles-'));
  t.after(() => rmSync(root, { recursive: true, force: true }));
  const dir = join(root, 'memory');
  mkdirSync(dir);
  writeFileSync(join(dir, 'approvals.json'), AUDIT);
  const outside = join(root, 'outside.txt');
  writeFileSync(outside, OUTSIDE);
  const memory = new MemoryFiles(dir, { redact: (s) => s.replace(/sk-\w+/g, '[REDACTED]') });
  return { root, dir, outside, memory };
}

const HOSTILE_PATHS = [
  '', '/etc/passwd', '../outside.txt', 'a/../../outside.txt', 'runbooks/../../outside.txt', './MEMORY.md', '.', '..',
  'a//b.md', 'a/', '\\\\server\\share', 'C:\\x.md', 'C:x.md', 'approvals.json', 'APPROVALS.JSON', 'sub/approvals.json', 'Approvals.Json',
  '.env', 'prod.env', 'env', '.git/config', '.hidden.md', 'keys/server.pem', 'id_rsa', 'ID_ED25519', 'tls.key', 'vault.kdbx', 'credentials',
  'a\u0000.md', 'a\n.md', 'r\u00e9sum\u00e9.md', 'a b.md', 'a%2e%2e/x.md', 'a/b/c/d/e.md', 'x'.repeat(300),
  'runbook\u202emd.txt', 'mem\u200bory.md',
];

describe('memory paths', () => {
  test('hostile paths are refused for reading and writing, each with a reason', () => {
    for (const path of HOSTILE_PATHS) {
      assert.throws(() => readablePath(path), MemoryPathError, `read ${JSON.stringify(path)}`);
      assert.throws(() => writablePath(path), MemoryPathError, `write ${JSON.stringify(path)}`);
    }
  });

  test('daily notes can be read but never written; only text files are written', () => {
    assert.equal(readablePath('daily/2026-01-01.md').path, 'daily/2026-01-01.md');
    for (const path of ['daily/2026-01-01.md', 'Daily/x.md', 'DAILY/x.md', 'daily', 'notes/x.sh', 'x.js', 'tool.ts', 'x']) {
      assert.throws(() => writablePath(path), MemoryPathError, path);
    }
    assert.equal(writablePath('runbooks/db-failover.md').path, 'runbooks/db-failover.md');
    assert.ok(isMemoryMd(writablePath('MEMORY.md')) && isMemoryMd(writablePath('memory.md')) && !isMemoryMd(writablePath('notes/MEMORY.md')));
  });
});

describe('MemoryFiles.readFile / writeFile / listFiles', () => {
  test('writes, reads and lists text files in sub-folders, redacted', async (t) => {
    const { dir, memory } = memoryDir(t);
    await memory.writeFile('runbooks/db.md', 'failover with key sk-live123\n');
    assert.equal(readFileSync(join(dir, 'runbooks', 'db.md'), 'utf8'), 'failover with key [REDACTED]\n');
    assert.equal(await memory.readFile('runbooks/db.md'), 'failover with key [REDACTED]\n');
    await memory.writeFile('runbooks/db.md', 'replaced');
    assert.equal(await memory.readFile('runbooks/db.md'), 'replaced');
    assert.deepEqual(await memory.listFiles(), ['runbooks/db.md']);
    assert.deepEqual(readdirSync(join(dir, 'runbooks')), ['db.md'], 'no temporary file is left behind');
  });

  test('a name with a secret in it is refused, in a folder name too, and the error does not repeat it', async (t) => {
    const { dir, memory } = memoryDir(t);
    for (const path of ['notes/sk-live123.md', 'sk-live123/notes.md']) {
      await assert.rejects(memory.writeFile(path, 'text'), (err: Error) => err instanceof MemoryPathError && !err.message.includes('sk-live123') && /secret/.test(err.message), path);
    }
    assert.deepEqual(readdirSync(dir), ['approvals.json'], 'nothing was created');
  });

  test('never reads or lists the audit log or secrets files, whatever the case', async (t) => {
    const { dir, memory } = memoryDir(t);
    writeFileSync(join(dir, '.env'), 'TOKEN=x');
    writeFileSync(join(dir, 'id_rsa'), 'key');
    writeFileSync(join(dir, 'notes.md'), 'ok');
    for (const path of ['approvals.json', 'APPROVALS.json', '.env', 'id_rsa']) await assert.rejects(memory.readFile(path), MemoryPathError, path);
    assert.deepEqual(await memory.listFiles(), ['notes.md']);
  });

  test('a symbolic link to outside or to the audit log is refused, as a file or as a folder on the way', async (t) => {
    const { root, dir, outside, memory } = memoryDir(t);
    symlinkSync(outside, join(dir, 'leak.md'));
    symlinkSync(join(dir, 'approvals.json'), join(dir, 'audit.md'));
    symlinkSync(root, join(dir, 'up'));
    for (const path of ['leak.md', 'audit.md', 'up/outside.txt']) await assert.rejects(memory.readFile(path), /symbolic link/, path);
    for (const path of ['leak.md', 'audit.md', 'up/new.md', 'up/outside.txt']) await assert.rejects(memory.writeFile(path, 'x'), /symbolic link/, path);
    assert.equal(readFileSync(outside, 'utf8'), OUTSIDE);
    assert.equal(readFileSync(join(dir, 'approvals.json'), 'utf8'), AUDIT);
    assert.ok(!existsSync(join(root, 'new.md')));
    assert.deepEqual(await memory.listFiles(), [], 'links are not listed');
  });

  test('a hard link to an outside file is not read, and writing replaces the name, never the outside file', async (t) => {
    const { dir, outside, memory } = memoryDir(t);
    linkSync(outside, join(dir, 'hard.md'));
    linkSync(join(dir, 'approvals.json'), join(dir, 'audit-copy.md'));
    await assert.rejects(memory.readFile('hard.md'), /hard link/);
    await assert.rejects(memory.readFile('audit-copy.md'), /hard link|audit log/);
    await memory.writeFile('hard.md', 'new text');
    await memory.writeFile('audit-copy.md', 'new text');
    assert.equal(readFileSync(outside, 'utf8'), OUTSIDE, 'the outside file is unchanged');
    assert.equal(readFileSync(join(dir, 'approvals.json'), 'utf8'), AUDIT, 'the audit log is unchanged');
    assert.equal(await memory.readFile('hard.md'), 'new text');
  });

  test('a folder and a missing file are named, not opened', async (t) => {
    const { dir, memory } = memoryDir(t);
    mkdirSync(join(dir, 'folder.md'));
    await assert.rejects(memory.readFile('folder.md'), /not a regular file/);
    await assert.rejects(memory.writeFile('folder.md', 'x'), /not a regular file/);
    await assert.rejects(memory.readFile('missing.md'), /does not exist/);
    await assert.rejects(memory.readFile('nowhere/missing.md'), /does not exist/);
  });

  test('a file on the way that is not a folder is refused', async (t) => {
    const { dir, memory } = memoryDir(t);
    writeFileSync(join(dir, 'notes.md'), 'x');
    await assert.rejects(memory.writeFile('notes.md/inner.md', 'x'), /not a folder/);
  });

  test('content over the size limit is refused and nothing is written', async (t) => {
    const { dir, memory } = memoryDir(t);
    await assert.rejects(memory.writeFile('big.md', 'x'.repeat(300 * 1024)), /larger than/);
    assert.ok(!existsSync(join(dir, 'big.md')));
  });
});
