import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ConfigError } from '../../src/errors.ts';
import { chooseLogFormat, createLogger } from '../../src/audit/logger.ts';
import { Redactor } from '../../src/security/redactor.ts';
import { tempDir } from './audit-fixtures.ts';

/** A destination that keeps what was written; `isTTY` makes it look like a terminal. */
function capture(isTTY = false): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  if (isTTY) Object.assign(stream, { isTTY: true });
  const chunks: string[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk.toString('utf8')));
  return { stream, text: () => chunks.join('') };
}

function parsedLines(text: string): Array<Record<string, unknown>> {
  return text.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
}

const SECRET = 'sup3r-s3cret-token-value';

describe('createLogger', () => {
  test('writes JSON lines named mithai at the configured level', () => {
    const out = capture();
    const logger = createLogger({ level: 'warn', redactor: new Redactor(), destination: out.stream });
    logger.info('dropped');
    logger.warn({ user: 'U1' }, 'kept');
    const lines = parsedLines(out.text());
    assert.equal(lines.length, 1);
    assert.equal(lines[0]!.name, 'mithai');
    assert.equal(lines[0]!.msg, 'kept');
    assert.equal(lines[0]!.user, 'U1');
  });

  // Redaction happens on the serialised line, so it cannot depend on which field the secret is in.
  test('redacts a known secret in any field: message, nested object, child binding, error', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', redactor: new Redactor([SECRET]), destination: out.stream });
    logger.info(`message with ${SECRET}`);
    logger.info({ deep: { list: [`x ${SECRET}`] } }, 'nested');
    logger.child({ token: SECRET }).info('child');
    logger.error(new Error(`failed with ${SECRET}`));
    const text = out.text();
    assert.ok(!text.includes(SECRET), 'the secret must not reach the destination');
    const lines = parsedLines(text);
    assert.equal(lines[0]!.msg, 'message with [REDACTED]');
    assert.deepEqual(lines[1]!.deep, { list: ['x [REDACTED]'] });
    assert.equal(lines[2]!.token, '[REDACTED]');
    assert.equal((lines[3]!.err as { message: string }).message, 'failed with [REDACTED]');
  });

  test('redacts well-known token shapes it was never told about', () => {
    const out = capture();
    const logger = createLogger({ level: 'info', redactor: new Redactor(), destination: out.stream });
    logger.info({ header: 'Bearer abc123def456ghi' }, 'sent xoxb-1-2-abcdef');
    const [line] = parsedLines(out.text());
    assert.equal(line!.msg, 'sent [REDACTED]');
    assert.equal(line!.header, 'Bearer [REDACTED]');
  });

  test('also appends redacted lines to a file created with mode 0600', (t) => {
    const file = join(tempDir(t), 'logs', 'mithai.log');
    const out = capture();
    const logger = createLogger({ level: 'info', file, redactor: new Redactor([SECRET]), destination: out.stream });
    logger.info({ value: SECRET }, 'to file');
    const text = readFileSync(file, 'utf8');
    assert.equal(parsedLines(text)[0]!.value, '[REDACTED]');
    assert.ok(!text.includes(SECRET));
    assert.equal(statSync(file).mode & 0o777, 0o600);
  });

  test('refuses an unknown level with a ConfigError naming logging.level', () => {
    assert.throws(
      () => createLogger({ level: 'loud', redactor: new Redactor(), destination: capture().stream }),
      (err: unknown) => err instanceof ConfigError && err.message.startsWith('logging.level:'),
    );
  });

  test('refuses a log file it cannot open with a ConfigError naming logging.file', (t) => {
    const dir = tempDir(t);
    assert.throws(() => createLogger({ level: 'info', file: dir, redactor: new Redactor(), destination: capture().stream }), (err: unknown) => err instanceof ConfigError && err.message.startsWith('logging.file:'));
  });
});

/*
 * Formats (issue #15): people read the lines on a terminal, machines read them everywhere else.
 * A pretty line is made from the redacted JSON line and redacted again after formatting, so the
 * pretty stream can never carry what the JSON stream would not; and it is written synchronously
 * in this thread, so the last line before `process.exit` is not lost in a worker's queue.
 */
describe('createLogger formats', () => {
  const isJsonLines = (text: string): boolean => text.trimEnd().split('\n').every((l) => l.startsWith('{') && typeof JSON.parse(l) === 'object');

  test('chooses pretty for a terminal and JSON for anything else, unless logging.format says otherwise', () => {
    assert.equal(chooseLogFormat(undefined, capture(true).stream), 'pretty');
    assert.equal(chooseLogFormat(undefined, capture(false).stream), 'json');
    assert.equal(chooseLogFormat('json', capture(true).stream), 'json');
    assert.equal(chooseLogFormat('pretty', capture(false).stream), 'pretty');
  });

  test('writes human-readable lines to a terminal: level, event name and fields on one line', () => {
    const out = capture(true);
    const logger = createLogger({ level: 'info', redactor: new Redactor(), destination: out.stream });
    logger.child({ component: 'gate' }).info({ approval_id: 'apr-1', decider: 'U2' }, 'approval.decided');
    const text = out.text();
    assert.equal(text.split('\n').filter(Boolean).length, 1, text);
    assert.ok(!isJsonLines(text), `expected a pretty line, got ${text}`);
    // Colours on a terminal (unless NO_COLOR): strip them to read the words.
    const plain = text.replace(/\x1b\[[0-9;]*m/g, '');
    assert.match(plain, /^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}\] INFO \(mithai\): approval\.decided \{"component":"gate","approval_id":"apr-1","decider":"U2"\}\n$/);
    assert.doesNotMatch(plain, /"pid"|"hostname"/);
  });

  test('writes JSON lines to a stream that is not a terminal', () => {
    const out = capture(false);
    createLogger({ level: 'info', redactor: new Redactor(), destination: out.stream }).info({ approval_id: 'apr-1' }, 'approval.decided');
    assert.ok(isJsonLines(out.text()));
    assert.equal(parsedLines(out.text())[0]!.approval_id, 'apr-1');
  });

  test('logging.format: json on a terminal writes JSON lines', () => {
    const out = capture(true);
    createLogger({ level: 'info', format: 'json', redactor: new Redactor(), destination: out.stream }).info({ approval_id: 'apr-1' }, 'approval.decided');
    assert.equal(parsedLines(out.text())[0]!.msg, 'approval.decided');
  });

  test('logging.format: pretty on a pipe writes pretty lines, without colours', () => {
    const out = capture(false);
    createLogger({ level: 'info', format: 'pretty', redactor: new Redactor(), destination: out.stream }).warn({ call_id: 'toolu_1' }, 'tool.call_refused');
    assert.match(out.text(), /^\[[^\]]+\] WARN \(mithai\): tool\.call_refused \{"call_id":"toolu_1"\}\n$/);
  });

  test('a log file gets JSON lines even when the destination gets pretty ones', (t) => {
    const file = join(tempDir(t), 'mithai.log');
    const out = capture(true);
    createLogger({ level: 'info', file, redactor: new Redactor(), destination: out.stream }).info({ turn_id: 't1' }, 'turn.started');
    assert.ok(!isJsonLines(out.text()));
    assert.equal(parsedLines(readFileSync(file, 'utf8'))[0]!.turn_id, 't1');
  });

  test('pretty lines are as redacted as JSON lines: a seeded secret never reaches them, in any field or form', () => {
    const redactor = new Redactor([SECRET]);
    const base64 = Buffer.from(SECRET).toString('base64');
    const write = (logger: ReturnType<typeof createLogger>): void => {
      logger.info(`message with ${SECRET}`);
      logger.info({ deep: { list: [`x ${SECRET}`] }, header: `Basic ${base64}`, quoted: `say "${SECRET}"` }, 'nested.logged');
      logger.child({ token: SECRET }).info('child.logged');
      logger.error(new Error(`failed with ${SECRET}`));
      logger.warn({ detail: 'sent xoxb-1-2-abcdef and Bearer abc123def456ghi' }, 'shape.logged');
    };
    const pretty = capture(true);
    const json = capture(false);
    write(createLogger({ level: 'info', redactor, destination: pretty.stream }));
    write(createLogger({ level: 'info', redactor, destination: json.stream }));
    for (const text of [pretty.text(), json.text()]) {
      for (const leak of [SECRET, base64, 'xoxb-1-2-abcdef', 'abc123def456ghi']) assert.ok(!text.includes(leak), `${leak} reached ${text}`);
    }
    const plain = pretty.text().replace(/\x1b\[[0-9;]*m/g, '');
    assert.match(plain, /message with \[REDACTED\]/);
    assert.match(plain, /"token":"\[REDACTED\]"/);
    assert.match(plain, /failed with \[REDACTED\]/, 'the error, stack included, is shown redacted');
  });

  // Prettifying unescapes the message: a token that sat behind a JSON escape (`\n`) in the JSON
  // line stands on its own in the pretty one, and is caught by the redaction after formatting.
  test('pretty lines are redacted again after formatting, so an unescaped token is caught', () => {
    const out = capture(false);
    createLogger({ level: 'info', format: 'pretty', redactor: new Redactor(), destination: out.stream }).info('first line\nxoxb-1-2-abcdef');
    assert.ok(!out.text().includes('xoxb-1-2-abcdef'), out.text());
    assert.match(out.text(), /first line\n\[REDACTED\]/);
  });

  // `mithai run` ends with process.exit right after its last line (slack.stopped): pretty lines
  // are written synchronously, so that line is on stdout (a pipe here) when the process is gone.
  test('the last pretty line before process.exit reaches stdout', () => {
    const script = [
      "import { createLogger } from './src/audit/logger.ts';",
      "import { Redactor } from './src/security/redactor.ts';",
      "const logger = createLogger({ level: 'info', format: 'pretty', redactor: new Redactor() });",
      "for (let i = 0; i < 200; i += 1) logger.info({ n: i }, 'test.filled');",
      "logger.info({ reason: 'test' }, 'slack.stopped');",
      'process.exit(0);',
    ].join('\n');
    const child = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' });
    assert.equal(child.status, 0, child.stderr);
    const lines = child.stdout.trimEnd().split('\n');
    assert.equal(lines.length, 201);
    assert.match(lines.at(-1)!, /^\[[^\]]+\] INFO \(mithai\): slack\.stopped \{"reason":"test"\}$/);
  });
});
