/**
 * Program lookup (src/skills/program-resolver.ts) and the command environment
 * (src/skills/command-env.ts): a name is found on the given search path only, never on the
 * runtime's PATH; spellings of one binary compare equal after symlinks and a look-alike in
 * another folder does not; a program anyone could have replaced is never found; code-loading
 * variables never reach the child and its PATH is the search path.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveProgram, SAFE_SEARCH_PATH } from '../../src/skills/program-resolver.ts';
import { commandEnv, isCodeLoadingVariable } from '../../src/skills/command-env.ts';
import { tempDir } from './skill-fixtures.ts';

const echo = realpathSync('/usr/bin/echo');

function fakeProgram(dir: string, name: string, mode = 0o755): string {
  const path = join(dir, name);
  writeFileSync(path, '#!/bin/sh\nexit 0\n');
  chmodSync(path, mode);
  return path;
}

test('a bare name is looked up on the given search path, first folder first, not on process.env.PATH', (t) => {
  const dir = tempDir(t, 'mithai-resolve-');
  fakeProgram(dir, 'echo');
  const saved = process.env.PATH;
  process.env.PATH = `${dir}:${saved}`;
  t.after(() => {
    process.env.PATH = saved;
  });
  const found = resolveProgram('echo', { searchPath: SAFE_SEARCH_PATH, cwd: '/' });
  assert.ok(found.ok);
  assert.equal(found.program.realPath, echo);
  assert.equal(found.program.name, 'echo');
  assert.ok(!found.program.path.startsWith(dir));
  const earlier = resolveProgram('echo', { searchPath: [dir, ...SAFE_SEARCH_PATH], cwd: '/' });
  assert.ok(earlier.ok);
  assert.equal(earlier.program.path, join(dir, 'echo'), 'an operator-chosen folder earlier on the search path wins, as with execvp');
});

test('spellings of one binary share a realPath; the path to execute keeps the name as written', (t) => {
  const dir = tempDir(t, 'mithai-resolve-');
  symlinkSync('/usr/bin/echo', join(dir, 'echo'));
  for (const spelling of ['/usr/bin/echo', '/usr/bin/../bin/echo', join(dir, 'echo')]) {
    const found = resolveProgram(spelling, { searchPath: [], cwd: '/' });
    assert.ok(found.ok, spelling);
    assert.equal(found.program.realPath, echo, spelling);
    assert.equal(found.program.name, 'echo');
    assert.equal(found.program.path, spelling.replace('/../bin', ''), 'the absolute path found, symlinks not followed');
  }
  const relative = resolveProgram('./echo', { searchPath: [], cwd: dir });
  assert.ok(relative.ok);
  assert.equal(relative.program.path, join(dir, 'echo'));
  assert.equal(relative.program.realPath, echo);
});

test('a look-alike in another folder is another binary', (t) => {
  const dir = tempDir(t, 'mithai-resolve-');
  const fake = fakeProgram(dir, 'echo');
  const found = resolveProgram(fake, { searchPath: SAFE_SEARCH_PATH, cwd: '/' });
  assert.ok(found.ok);
  assert.notEqual(found.program.realPath, echo);
});

test('not found: missing, not executable, a folder, an empty name, relative folders on the search path', (t) => {
  const dir = tempDir(t, 'mithai-resolve-');
  fakeProgram(dir, 'noexec', 0o644);
  mkdirSync(join(dir, 'folder'));
  const cases: Array<[string, readonly string[], string]> = [
    ['no-such-program-anywhere', SAFE_SEARCH_PATH, 'not an executable file in any folder'],
    ['noexec', [dir], 'not an executable file in any folder'],
    [join(dir, 'noexec'), [], 'is not an executable file'],
    ['folder', [dir], 'not an executable file in any folder'],
    ['', [dir], 'empty'],
    ['echo', ['usr/bin', '.', ''], 'not an executable file in any folder'],
  ];
  for (const [program, searchPath, reason] of cases) {
    const found = resolveProgram(program, { searchPath, cwd: '/' });
    assert.equal(found.ok, false, program);
    if (!found.ok) assert.ok(found.reason.includes(reason), `${program}: ${found.reason}`);
  }
});

test('a program anyone can write, or one in a folder anyone can write, is never found', (t) => {
  const dir = tempDir(t, 'mithai-resolve-');
  fakeProgram(dir, 'writable', 0o777);
  const open = join(dir, 'open');
  mkdirSync(open);
  chmodSync(open, 0o777);
  fakeProgram(open, 'tool');
  const sticky = join(dir, 'sticky');
  mkdirSync(sticky);
  chmodSync(sticky, 0o1777);
  fakeProgram(sticky, 'tool');
  const linked = join(dir, 'linked');
  mkdirSync(linked);
  symlinkSync(join(open, 'tool'), join(linked, 'tool'));
  for (const [program, searchPath] of [['writable', [dir]], ['tool', [open]], ['tool', [sticky]], ['tool', [linked]]] as const) {
    const found = resolveProgram(program, { searchPath, cwd: '/' });
    assert.equal(found.ok, false, `${program} in ${searchPath[0]}`);
    if (!found.ok) assert.match(found.reason, /writable by every user/);
  }
});

test('the command environment drops code-loading variables and sets PATH to the search path', () => {
  const base = {
    PATH: '/tmp/evil:/usr/bin', HOME: '/home/ops', LANG: 'C.UTF-8', KUBECONFIG: '/home/ops/.kube/config',
    LD_PRELOAD: '/tmp/evil.so', LD_LIBRARY_PATH: '/tmp', DYLD_INSERT_LIBRARIES: '/tmp/x', BASH_ENV: '/tmp/rc', ENV: '/tmp/rc',
    'BASH_FUNC_ls%%': '() { id; }', NODE_OPTIONS: '--require /tmp/x.js', PYTHONSTARTUP: '/tmp/x.py', PYTHONPATH: '/tmp',
    PERL5OPT: '-Mevil', RUBYOPT: '-revil', JAVA_TOOL_OPTIONS: '-javaagent:/tmp/x.jar', GIT_SSH_COMMAND: 'id', PAGER: 'id', IFS: ' ',
    PROMPT_COMMAND: 'id', SHELLOPTS: 'xtrace', PS4: '$(id)',
  };
  const env = commandEnv(base, ['/usr/bin', '/bin']);
  assert.deepEqual(Object.keys(env).sort(), ['HOME', 'KUBECONFIG', 'LANG', 'PATH']);
  assert.equal(env.PATH, '/usr/bin:/bin');
  assert.equal(base.PATH, '/tmp/evil:/usr/bin', 'the input is not changed');
  assert.equal(isCodeLoadingVariable('ld_preload'), true);
  assert.equal(isCodeLoadingVariable('LANG'), false);
  const lowerPath = commandEnv({ Path: '/tmp/evil' }, ['/bin']);
  assert.deepEqual(lowerPath, { PATH: '/bin' }, 'a PATH spelled in another case is replaced too');
});
