/**
 * Redact before any cut, everywhere text is truncated. Property: for seeded secrets of
 * different shapes and lengths embedded in text, a cut at EVERY offset (through the public
 * rendering functions) leaves no piece of a secret MIN_SECRET_LENGTH characters or longer in
 * the output; only the `[REDACTED]` marker (or a piece of it) may stand where a secret was.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { redactClip, statusLine } from '../../src/adapters/slack/approval-card.ts';
import { THREAD_LIMITS, formatThread } from '../../src/adapters/slack/thread-context.ts';
import { describeApproval } from '../../src/adapters/terminal/approval-text.ts';
import { renderToolResult } from '../../src/engine/tool-result-text.ts';
import { redactThenCut } from '../../src/security/redact-then-cut.ts';
import { MIN_SECRET_LENGTH, REDACTED, Redactor } from '../../src/security/redactor.ts';
import { approval } from '../fixtures/approval.ts';
import { seededRandom } from '../fixtures/seeded-random.ts';

// The same secrets on every run.
const random = seededRandom(20240611);
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const randomSecret = (length: number, alphabet = ALNUM): string => Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');

/** Secrets the redactor is told about: at the floor, just above, digits only, punctuation, long. */
const KNOWN = [
  randomSecret(MIN_SECRET_LENGTH),
  randomSecret(7),
  '482913', // a six-digit PIN
  randomSecret(13),
  'p@ss w0rd/with+specials=',
  randomSecret(40, '0123456789abcdef'),
  randomSecret(120),
];
/** Secrets it is not told about, found by their shape. */
const SHAPED = [
  `sk-ant-api03-${randomSecret(40)}`,
  `xoxb-1234-5678-${randomSecret(24)}`,
  `ghp_${randomSecret(36)}`,
  'AKIAIOSFODNN7EXAMPLE',
];
const ALL = [...KNOWN, ...SHAPED];
const redactor = new Redactor(KNOWN);
const redact = (t: string): string => redactor.redact(t);

// Every piece of a secret exactly MIN_SECRET_LENGTH long: a longer piece contains one.
const PIECES = new Set(ALL.flatMap((s) => Array.from({ length: s.length - MIN_SECRET_LENGTH + 1 }, (_, i) => s.slice(i, i + MIN_SECRET_LENGTH))));

function assertNoPiece(output: string, where: string): void {
  for (let i = 0; i + MIN_SECRET_LENGTH <= output.length; i += 1) {
    const piece = output.slice(i, i + MIN_SECRET_LENGTH);
    if (PIECES.has(piece)) assert.fail(`${where}: a piece of a secret survived: ${JSON.stringify(output.slice(Math.max(0, i - 20), i + 30))}`);
  }
}

/** Filler with no letters or digits, so it shares no piece with a secret and glues to no shape. */
const filler = (n: number): string => Array.from({ length: n }, (_, i) => (i % 17 === 16 ? '\n' : i % 3 === 0 ? ' ' : '.')).join('');

// Each secret in a context it is really met in, separated by filler.
const CONTEXTS = [
  (s: string) => ` ${s} `,
  (s: string) => ` password=${s}&x `,
  (s: string) => ` Authorization: Bearer ${s}\n`,
  (s: string) => ` postgres://app:${s}@db/x `,
];
const TEXT = ALL.map((s, i) => `${filler(11 + (i % 5))}${CONTEXTS[i % CONTEXTS.length]!(s)}`).join('') + filler(9);

test('the seeded text holds every secret in clear before redaction, and none after', () => {
  for (const s of ALL) assert.ok(TEXT.includes(s));
  assertNoPiece(redact(TEXT), 'redact');
});

test('tool results: a cut at every offset leaves no piece of a secret', () => {
  for (let max = 1; max <= TEXT.length + 1; max += 1) {
    const out = renderToolResult(TEXT, { redact, maxChars: max });
    assertNoPiece(out, `maxChars ${max}`);
    if (max < redact(TEXT).length) assert.match(out, /\n\[truncated: \d+ more characters not shown/);
  }
});

test('redactThenCut, in its windowed path (a margin just as long as the longest secret): no piece at any offset', () => {
  const margin = Math.max(...KNOWN.map((s) => Buffer.from(s).toString('base64').length), 64);
  // Long enough that every cut takes the windowed path, and dense in secrets that shrink a lot.
  const long = `${TEXT}${KNOWN.map((s) => ` ${s}`).join('').repeat(6)}${TEXT}`;
  for (let max = 0; max <= long.length; max += 1) {
    const cut = redactThenCut(long, max, redact, margin);
    assert.ok(cut.text.length <= max);
    assertNoPiece(cut.text, `windowed max ${max}`);
    assert.ok(redact(long).startsWith(cut.text), `max ${max}: the cut is a prefix of the redacted text`);
  }
});

test('thread history: a message cut through any offset of a secret leaves no piece of it', () => {
  const readers = { botUserId: 'UBOT', botId: 'BBOT', allowedUsers: ['UALICE'], redact };
  for (const secret of ALL) {
    for (let k = -2; k <= secret.length + 2; k += 1) {
      // The cap falls k characters into the secret.
      const text = `${filler(THREAD_LIMITS.perMessageChars - k - 1)} ${secret} ${filler(50)}`;
      const block = formatThread([{ ts: '1.000001', user: 'UALICE', text }], '2.0', readers).block!;
      assertNoPiece(block, `thread cut ${k} into a secret`);
    }
  }
});

test('terminal approvals: the input cut through any offset of a secret leaves no piece of it', () => {
  for (const secret of ALL) {
    for (let k = -2; k <= secret.length + 2; k += 1) {
      // Pretty JSON puts `{\n  "cmd": "` (12 characters) before the value.
      const input = JSON.stringify({ cmd: `${filler(4000 - 12 - k - 1).replace(/\n/g, ' ')} ${secret} ${filler(200).replace(/\n/g, ' ')}` });
      const shown = describeApproval(approval({ inputJson: input }), redact);
      assertNoPiece(shown, `terminal cut ${k} into a secret`);
      assert.match(shown, /… \(truncated; \d+ more characters\)/);
    }
  }
});

test('approval cards: a clip at every offset, and a status detail cut through any secret, leave no piece', () => {
  for (let max = 1; max <= TEXT.length + 1; max += 1) assertNoPiece(redactClip(TEXT, max, redact), `clip ${max}`);
  for (const secret of ALL) {
    for (let k = -2; k <= secret.length + 2; k += 1) {
      const outcome = `${filler(300 - k - 2)} ${secret} after`;
      const line = statusLine(approval({ state: 'failed', decider: 'U2', decidedAt: '2025-01-01T00:00:00.000Z', outcome }), redact);
      assertNoPiece(line, `card detail cut ${k} into a secret`);
    }
  }
});

test('only the marker stands where a secret was', () => {
  const out = renderToolResult(TEXT, { redact, maxChars: 100_000 });
  assert.ok(out.includes(REDACTED));
  assert.equal(out.split(REDACTED).length - 1, ALL.length);
});
