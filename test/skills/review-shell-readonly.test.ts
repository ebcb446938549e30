/**
 * Review finding: a read-only prefix combined with an option that only a broader allowed entry
 * lists ran `auto`. `read_only_commands` is matched as a prefix of the argv and the allowlist
 * separately, so with `{ prefix: [sort], options: [-o, -r] }` (sort may write a file, which an
 * operator means to confirm) and `[sort, /etc/hostname]` read-only, the call
 * `sort /etc/hostname -o FILE` started with the read-only prefix, was allowed by the broad entry,
 * and resolveHuman answered null (auto): it wrote FILE with nobody asked. Same shape as
 * `journalctl -u nginx --vacuum-time=1s` under a read-only `[journalctl, -u, "*"]` and an entry
 * that lists `--vacuum-time` for maintenance.
 *
 * Rule now: options after a read-only prefix keep a call read-only only when an entry that allows
 * the call has a prefix starting with the read-only prefix (the operator scoped those options to
 * the read-only command); otherwise the call is `confirm`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createTestToolContext } from '../../src/testing/index.ts';
import skill from '../../skills/shell/tools.ts';
import { tempDir } from './skill-fixtures.ts';

const level = (config: Record<string, unknown>, argv: string[]) => skill.resolveHuman!('run_command', { argv }, createTestToolContext({ config }));

test('an option only a broader entry allows does not ride a read-only prefix to auto', async (t) => {
  const root = tempDir(t, 'mithai-review-ro-');
  const written = join(root, 'written');
  const config = {
    allowed_commands: [{ prefix: ['sort'], options: ['-o', '-r'] }],
    read_only_commands: [['sort', '/etc/hostname']],
  };
  assert.equal(await level(config, ['sort', '/etc/hostname']), null, 'the read-only command itself stays auto');
  assert.equal(await level(config, ['sort', '/etc/hostname', '/etc/os-release']), null, 'operands after it stay auto');
  assert.equal(await level(config, ['sort', '/etc/hostname', '-o', written]), 'confirm', 'sort -o writes a file: confirm, not auto');
  assert.equal(await level(config, ['sort', '/etc/hostname', '-r']), 'confirm', 'an option of the broad entry is not known read-only');
  assert.equal(await level(config, ['sort', '/etc/hostname', '--', '-o']), 'confirm');
  // The handler still runs it once confirmed (the allowlist allows it): the level was the bug.
  await skill.tools.run_command!.handle({ argv: ['sort', '/etc/hostname', '-o', written] }, createTestToolContext({ config }));
  assert.equal(existsSync(written), true);
});

test('options scoped to the read-only command by its own entry stay auto', async () => {
  const config = {
    allowed_commands: [
      { prefix: ['sort'], options: ['-o', '-r'] },
      { prefix: ['sort', '/etc/hostname'], options: ['-r'] },
      { prefix: ['ls'], options: ['-l'] },
      { prefix: ['journalctl', '-u', '*'], options: ['-n', '--no-pager'] },
    ],
    read_only_commands: [['sort', '/etc/hostname'], ['ls'], ['journalctl', '-u', '*']],
  };
  assert.equal(await level(config, ['sort', '/etc/hostname', '-r']), null, 'the narrower entry lists -r for the read-only command');
  assert.equal(await level(config, ['sort', '/etc/hostname', '-o', '/tmp/x']), 'confirm', '-o only comes from the broad entry');
  assert.equal(await level(config, ['ls', '-l', '/var']), null);
  assert.equal(await level(config, ['journalctl', '-u', 'nginx', '-n', '50', '--no-pager']), null);
});
