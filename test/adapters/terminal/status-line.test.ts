/**
 * The chat spinner draws only on a terminal, never over text: printing clears it, a question
 * suspends it, stopping erases it. Off a terminal it writes nothing at all, so piped output
 * never carries an escape code or a carriage return.
 */
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { StatusLine } from '../../../src/adapters/terminal/status-line.ts';

function stream(isTTY: boolean) {
  const writes: string[] = [];
  return { isTTY, writes, write: (text: string) => writes.push(text) };
}

const CLEAR = '\r\x1b[K';

function started(t: TestContext, line: StatusLine): StatusLine {
  t.after(() => line.stop());
  line.start();
  return line;
}

test('on a terminal it draws a frame at once, and erases it when cleared or stopped', (t) => {
  const out = stream(true);
  const line = started(t, new StatusLine(out));
  assert.equal(out.writes.length, 1);
  assert.match(out.writes[0]!, /^\r\x1b\[K[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] thinking…$/);
  line.clear();
  assert.equal(out.writes.at(-1), CLEAR);
  line.clear();
  assert.equal(out.writes.length, 2, 'clearing what is not shown writes nothing');
  line.start();
  line.stop();
  assert.equal(out.writes.at(-1), CLEAR);
});

test('suspended (a question is on screen), it erases itself and draws nothing until released', (t) => {
  const out = stream(true);
  const line = started(t, new StatusLine(out));
  const release = line.suspend();
  assert.equal(out.writes.at(-1), CLEAR);
  const before = out.writes.length;
  line.start('again');
  assert.equal(out.writes.length, before, 'no frame over the question');
  release();
  line.start('again');
  assert.match(out.writes.at(-1)!, /again$/);
});

test('off a terminal, or disabled because stdout is piped, it writes nothing', (t) => {
  const piped = stream(false);
  const disabled = stream(true);
  for (const line of [new StatusLine(piped), new StatusLine(disabled, false)]) {
    assert.equal(line.isEnabled, false);
    started(t, line);
    line.clear();
    line.suspend()();
    line.stop();
  }
  assert.deepEqual([...piped.writes, ...disabled.writes], []);
});
