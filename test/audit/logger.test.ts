import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { ConfigError } from '../../src/errors.ts';
import { createLogger } from '../../src/audit/logger.ts';
import { Redactor } from '../../src/security/redactor.ts';
import { tempDir } from './audit-fixtures.ts';

/** A destination that keeps what was written. */
function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
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
