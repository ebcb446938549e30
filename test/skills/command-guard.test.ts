/**
 * The command guard (src/skills/command-guard.ts): every rule attacked with hostile argvs, each
 * refused by the rule it breaks, and ordinary ops commands (spaces, non-ASCII text, globs, JSON
 * paths, a lone `$`) let through. A guard that stops refusing any row fails this file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ARGV_LIMITS, checkArgument, checkArgv, CommandRefusedError, describeArgument, isCommandRunner, isInterpreter, looksLikeOption, optionName } from '../../src/skills/command-guard.ts';
import type { GuardRule } from '../../src/skills/command-guard.ts';

/** [argv, the rule that must refuse it, the argv index at fault (when there is one)]. */
const HOSTILE: ReadonlyArray<[string[], GuardRule, number?]> = [
  // Shape.
  [[], 'empty_argv'],
  [[''], 'empty_argv'],
  [Array.from({ length: ARGV_LIMITS.maxArguments + 1 }, () => 'x'), 'too_many_arguments'],
  [Array.from({ length: 100_000 }, () => 'x'), 'too_many_arguments'],
  [['echo', 'a'.repeat(ARGV_LIMITS.maxArgumentLength + 1)], 'argument_too_long', 1],
  [['echo', 'a'.repeat(1_000_000)], 'argument_too_long', 1],
  [['e'.repeat(5000)], 'argument_too_long', 0],
  // Shell syntax, each metacharacter alone and in context.
  [['echo', ';'], 'shell_syntax', 1],
  [['echo', 'hi;touch /tmp/pwned'], 'shell_syntax', 1],
  [['echo', 'a', '&&', 'id'], 'shell_syntax', 2],
  [['echo', 'a', '||', 'id'], 'shell_syntax', 2],
  [['echo', 'a|id'], 'shell_syntax', 1],
  [['echo', '&'], 'shell_syntax', 1],
  [['echo', '`id`'], 'shell_syntax', 1],
  [['echo', '$(id)'], 'shell_syntax', 1],
  [['echo', '${IFS}'], 'shell_syntax', 1],
  [['echo', '>', '/etc/passwd'], 'shell_syntax', 1],
  [['echo', 'x>>/etc/passwd'], 'shell_syntax', 1],
  [['cat', '<', '/etc/shadow'], 'shell_syntax', 1],
  [['echo', '2>&1'], 'shell_syntax', 1],
  [['diff', '<(id)', 'x'], 'shell_syntax', 1],
  [['echo;id'], 'shell_syntax', 0],
  // Compatibility look-alikes that NFKC turns into metacharacters.
  [['echo', 'a\uFF1Bid'], 'shell_syntax', 1], // fullwidth ；
  [['echo', '\uFF06\uFF06'], 'shell_syntax', 1], // fullwidth ＆＆
  [['echo', '\uFF5C'], 'shell_syntax', 1], // fullwidth ｜
  [['echo', '\uFE54'], 'shell_syntax', 1], // small semicolon ﹔
  [['echo', '\u037E'], 'shell_syntax', 1], // Greek question mark, canonically ;
  [['echo', '\uFF04\uFF08id\uFF09'], 'shell_syntax', 1], // fullwidth ＄（
  [['echo', '\uFF1E/etc/passwd'], 'shell_syntax', 1], // fullwidth ＞
  [['echo', '\uFF1C'], 'shell_syntax', 1], // fullwidth ＜
  [['echo', '\uFF40id\uFF40'], 'shell_syntax', 1], // fullwidth ｀
  // Controls, NUL, invisible and bidi characters.
  [['echo', 'a\nid'], 'invisible_character', 1],
  [['echo', 'a\rid'], 'invisible_character', 1],
  [['echo', 'a\tb'], 'invisible_character', 1],
  [['echo', 'a\u0000b'], 'invisible_character', 1],
  [['echo\u0000', 'x'], 'invisible_character', 0],
  [['echo', '\u001b[31mred'], 'invisible_character', 1],
  [['echo', 'a\u0085b'], 'invisible_character', 1], // NEL
  [['echo', 'sys\u200Btemctl'], 'invisible_character', 1], // zero-width space
  [['echo', 'a\u200Cb'], 'invisible_character', 1],
  [['echo', 'a\u200Db'], 'invisible_character', 1],
  [['echo', 'a\u2060b'], 'invisible_character', 1], // word joiner
  [['echo', '\uFEFFx'], 'invisible_character', 1], // BOM
  [['echo', 'txt.\u202Eexe'], 'invisible_character', 1], // right-to-left override
  [['echo', '\u2066x\u2069'], 'invisible_character', 1], // isolates
  [['echo', '\u200Fx'], 'invisible_character', 1], // right-to-left mark
  [['echo', 'a\u2028b'], 'invisible_character', 1], // line separator
  [['echo', 'a\u2029b'], 'invisible_character', 1], // paragraph separator
  [['echo', 'a\uD800b'], 'invisible_character', 1], // lone surrogate
  [['echo', '\uE000'], 'invisible_character', 1], // private use
  [['echo', '\u0378'], 'invisible_character', 1], // unassigned
  [['echo', 'a\u{E0041}'], 'invisible_character', 1], // tag character
  [['systemctl\u200B', 'status'], 'invisible_character', 0],
  // Program names that are not what they look like.
  [['\u0455ystemctl', 'status'], 'program_name', 0], // Cyrillic ѕ
  [['system\u0441tl', 'status'], 'program_name', 0], // Cyrillic с
  [['\uFF53\uFF59\uFF53\uFF54\uFF45\uFF4D\uFF43\uFF54\uFF4C'], 'program_name', 0], // fullwidth systemctl
  [['systemctl\u00A0status'], 'program_name', 0], // no-break space
  [['system ctl'], 'program_name', 0],
  [['~/bin/tool'], 'program_name', 0],
  [['-c', 'id'], 'program_name', 0],
  [['*'], 'program_name', 0],
  // Privilege and shell builtins.
  [['sudo', 'systemctl', 'restart', 'nginx'], 'privilege', 0],
  [['/usr/bin/sudo', 'id'], 'privilege', 0],
  [['su', '-', 'root'], 'privilege', 0],
  [['doas', 'id'], 'privilege', 0],
  [['pkexec', 'id'], 'privilege', 0],
  [['runuser', '-u', 'root', 'id'], 'privilege', 0],
  [['ssh', 'web1', 'sudo', 'reboot'], 'privilege', 2],
  [['kubectl', 'exec', 'pod', '--', 'su'], 'privilege', 4],
  [['echo', 'SUDO'], 'privilege', 1],
  [['echo', '\uFF53\uFF55\uFF44\uFF4F'], 'privilege', 1], // fullwidth ｓｕｄｏ
  [['echo', '/usr/bin/sudo'], 'privilege', 1],
  [['eval', 'id'], 'privilege', 0],
  [['exec', 'id'], 'privilege', 0],
  [['source', '/tmp/x'], 'privilege', 0],
  [['.', '/tmp/x'], 'privilege', 0],
  [['command', 'id'], 'privilege', 0],
  // Interpreters with inline code, as the program and further along.
  [['bash', '-c', 'id'], 'inline_code', 1],
  [['sh', '-c', 'id'], 'inline_code', 1],
  [['/bin/sh', '-c', 'id'], 'inline_code', 1],
  [['dash', '-c', 'id'], 'inline_code', 1],
  [['zsh', '-c', 'id'], 'inline_code', 1],
  [['bash', '-lc', 'id'], 'inline_code', 1],
  [['bash', '-x', '-c', 'id'], 'inline_code', 2],
  [['bash', '\uFF0Dc', 'id'], 'inline_code', 1], // fullwidth hyphen: NFKC -c
  [['python3', '-c', 'import os'], 'inline_code', 1],
  [['python', '-c', 'x'], 'inline_code', 1],
  [['python3.11', '-c', 'x'], 'inline_code', 1],
  [['node', '-e', 'x'], 'inline_code', 1],
  [['node', '--eval', 'x'], 'inline_code', 1],
  [['node', '--eval=x'], 'inline_code', 1],
  [['node', '-p', 'x'], 'inline_code', 1],
  [['node', '-r', '/tmp/x.js'], 'inline_code', 1],
  [['node', '--import=/tmp/x.mjs', 'y'], 'inline_code', 1],
  [['perl', '-e', 'x'], 'inline_code', 1],
  [['perl', '-E', 'x'], 'inline_code', 1],
  [['perl', '-ne', 'x'], 'inline_code', 1],
  [['ruby', '-e', 'x'], 'inline_code', 1],
  [['php', '-r', 'x'], 'inline_code', 1],
  [['lua', '-e', 'x'], 'inline_code', 1],
  [['gawk', '--source', 'x'], 'inline_code', 1],
  [['sed', '-e', '1e id', '/etc/hosts'], 'inline_code', 1],
  [['kubectl', 'exec', 'pod', '--', 'sh', '-c', 'id'], 'inline_code', 5],
  [['ssh', 'web1', 'bash', '-c', 'id'], 'inline_code', 3],
  [['docker', 'run', 'img', '/usr/bin/python3', '-c', 'x'], 'inline_code', 4],
  [['kubectl', 'exec', 'pod', '--', 'bash', '-x', '-c', 'id'], 'inline_code', 6],
  [['docker', 'exec', 'web', 'bash', '-lc', 'id'], 'inline_code', 4],
  [['kubectl', 'exec', 'pod', '--', 'perl', '-ne', 'x'], 'inline_code', 5],
  [['kubectl', 'exec', 'pod', '--', 'node', '--eval=x'], 'inline_code', 5],
  [['python3', '/opt/ops/report.py', '-c', 'x'], 'inline_code', 2],
  // Options that run other commands.
  [['find', '/var/log', '-exec', 'rm', '{}', '+'], 'exec_option', 2],
  [['find', '.', '-execdir', 'id', '+'], 'exec_option', 2],
  [['find', '.', '-ok', 'id'], 'exec_option', 2],
  [['find', '.', '-okdir', 'id'], 'exec_option', 2],
  [['find', '.', '-fprint', '/etc/cron.d/x'], 'exec_option', 2],
  [['fd', 'x', '--exec', 'rm'], 'exec_option', 2],
  [['tar', '-xf', 'a.tar', '--to-command=id'], 'exec_option', 3],
  [['tar', '-cf', 'a.tar', '--checkpoint-action=exec=id', 'x'], 'exec_option', 3],
  [['tar', '--use-compress-program=id', '-cf', 'a', 'x'], 'exec_option', 1],
  [['rsync', '--rsh=id', 'a', 'b'], 'exec_option', 1],
  [['rsync', '--rsync-path', 'id', 'a', 'b'], 'exec_option', 1],
  [['git', 'clone', '--upload-pack=id', 'x'], 'exec_option', 2],
  [['ssh', '-oProxyCommand=id', 'web1'], 'exec_option', 1],
  [['scp', '-o', 'ProxyCommand=id', 'a', 'b'], 'exec_option', 2],
  [['ssh', '-o', 'PermitLocalCommand=yes', '-o', 'LocalCommand=id', 'h'], 'exec_option', 2],
  [['kubectl', 'get', 'pods', '--kubeconfig=/tmp/evil'], 'exec_option', 3],
  [['kubectl', '--kubeconfig', '/tmp/evil', 'get', 'pods'], 'exec_option', 1],
  [['find', '.', '\uFF0Dexec', 'id'], 'exec_option', 2], // fullwidth hyphen
];

test('every hostile argv is refused by the rule it breaks, at the argument at fault', () => {
  for (const [argv, rule, index] of HOSTILE) {
    const refusal = checkArgv(argv);
    const label = describeArgument(argv.slice(0, 6).join(' '));
    assert.ok(refusal, `${label} must be refused`);
    assert.equal(refusal.rule, rule, `${label}: ${refusal.message}`);
    if (index !== undefined) assert.equal(refusal.index, index, `${label}: index`);
    assert.ok(refusal.message.length > 20 && refusal.message.length < 600, `${label}: a bounded message`);
  }
});

test('ordinary ops commands pass: spaces, non-ASCII text, globs, JSON paths, a lone $', () => {
  const ordinary: string[][] = [
    ['systemctl', 'status', 'nginx'],
    ['systemctl', 'status', 'su-backup.service'],
    ['journalctl', '-u', 'nginx', '--since', '10 min ago', '--no-pager'],
    ['/usr/bin/journalctl', '--since=2024-01-01 10:00'],
    ['kubectl', 'get', 'pods', '-o', 'jsonpath={.items[*].metadata.name}'],
    ['kubectl', 'exec', 'pod', '--', 'cat', '/etc/hostname'],
    ['kubectl', 'get', 'node', '-owide'],
    ['kubectl', 'logs', 'web', '-c', 'node', '-p'],
    ['kubectl', 'top', 'node', '--sort-by=cpu'],
    ['kubectl', 'exec', 'pod', '--', 'sh', '/opt/check.sh', '-c'],
    ['grep', '-r', 'café déjà vu', '/var/log'],
    ['echo', 'naïve 日本語 text'],
    ['find', '/var/log', '-name', '*.log', '-mtime', '+7'],
    ['echo', '$HOME', 'costs $5'],
    ['echo', '', '-'],
    ['echo', '#not-a-comment', '"quoted"', "it's", '\\n'],
    ['python3', '/opt/ops/report.py', '--day', 'monday'],
    ['bash', '/opt/ops/check.sh'],
    ['df', '-h'],
    ['./bin/tool', '../relative/arg'],
    ['echo', 'a'.repeat(ARGV_LIMITS.maxArgumentLength)],
    Array.from({ length: ARGV_LIMITS.maxArguments }, (_, i) => (i === 0 ? 'echo' : `arg${i}`)),
  ];
  for (const argv of ordinary) assert.equal(checkArgv(argv), undefined, `${argv.join(' ')} must pass: ${checkArgv(argv)?.message}`);
});

test('a look-alike is reported as such, and messages never carry the invisible character itself', () => {
  const lookAlike = checkArgument('a\uFF1Bid', 1);
  assert.match(lookAlike!.message, /look-alike of ";"/);
  const plain = checkArgument('a;id', 1);
  assert.match(plain!.message, /contains ";"/);
  const bidi = checkArgv(['echo', 'txt.\u202Eexe'])!;
  assert.match(bidi.message, /U\+202E/);
  assert.ok(!/[\u202E\u0000\u200B]/.test(bidi.message));
  const nul = checkArgv(['echo', 'a\u0000b'])!;
  assert.ok(!nul.message.includes('\u0000'));
  assert.match(nul.message, /U\+0000/);
});

test('a non-string element is refused (input that skipped validation)', () => {
  assert.equal(checkArgv(['echo', 5 as unknown as string])?.rule, 'not_a_string');
  assert.equal(checkArgv('echo' as unknown as string[])?.rule, 'empty_argv');
});

test('the shape is checked before the characters, so a huge argument costs no character scan', () => {
  const huge = `${'a'.repeat(5_000_000)};`;
  const started = process.hrtime.bigint();
  assert.equal(checkArgv(['echo', huge])?.rule, 'argument_too_long');
  assert.ok(Number(process.hrtime.bigint() - started) / 1e6 < 100);
});

test('CommandRefusedError names its rule first', () => {
  const err = new CommandRefusedError('shell_syntax', 'argv[1] contains ";"');
  assert.equal(err.message, 'refused (shell_syntax): argv[1] contains ";"');
  assert.equal(err.rule, 'shell_syntax');
  assert.ok(err instanceof Error);
});

test('options, option names, runners and interpreters', () => {
  assert.equal(looksLikeOption('-n'), true);
  assert.equal(looksLikeOption('--'), true);
  assert.equal(looksLikeOption('-'), false);
  assert.equal(looksLikeOption('nginx'), false);
  assert.equal(looksLikeOption('\uFF0D\uFF0Doutput'), true, 'fullwidth hyphens count as an option');
  assert.equal(optionName('--since=10 min ago'), '--since');
  assert.equal(optionName('-n5'), '-n5');
  assert.equal(optionName('--'), '--');
  for (const runner of ['env', 'xargs', 'timeout', 'nice', 'nohup', 'ssh', 'busybox', 'setsid', 'watch']) assert.ok(isCommandRunner(runner), runner);
  for (const interpreter of ['sh', 'bash', 'python3', 'python3.12', 'node', 'perl', 'ruby', 'awk', 'sed', 'pwsh']) assert.ok(isInterpreter(interpreter), interpreter);
  for (const plain of ['systemctl', 'journalctl', 'ls', 'kubectl', 'df', 'r', 'nu']) {
    assert.ok(!isInterpreter(plain) && !isCommandRunner(plain), plain);
  }
});
