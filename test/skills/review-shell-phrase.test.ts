/**
 * Review finding (low, fixed: an argv that does not read back from its join, or is long, gets
 * the program name and a code made from the whole argv): the confirmation phrase does not identify the argv. It is
 * the elements joined with single spaces, so `["rm", "/srv/old files"]` (one path) and
 * `["rm", "/srv/old", "files"]` (two) ask for the same phrase, and an argv whose join is longer
 * than 100 characters asks only for the program's name (`rm`), whatever follows. The approval
 * itself is bound to the exact input by its fingerprint (the card shows it), so what runs is
 * what was shown; but the typed phrase, the one thing the approver is made to read closely, can
 * describe a different command. Suggested fix: quote (JSON) elements that are empty or hold
 * whitespace, and for long argvs use a short digest-like phrase that changes with every element
 * rather than the bare name (straight quotes can be typed in Slack, but macOS smart-quote
 * substitution would need the gate to fold “ ” to ").
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { confirmPhrase } from '../../skills/shell/tools.ts';

test('different argvs never share a confirmation phrase', () => {
  const pairs: Array<[string[], string[]]> = [
    [['rm', '/srv/old files'], ['rm', '/srv/old', 'files']],
    [['systemctl', 'restart', 'nginx '], ['systemctl', 'restart', 'nginx']],
    [['rm', '-r', `/srv/${'a'.repeat(100)}`], ['rm', '-r', `/srv/${'b'.repeat(100)}`]],
  ];
  for (const [a, b] of pairs) assert.notEqual(confirmPhrase(a).trim(), confirmPhrase(b).trim(), `${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
});
