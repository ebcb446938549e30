import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { REDACTED, Redactor } from '../../src/security/redactor.ts';

describe('known secrets', () => {
  const secret = 'p@ss w0rd/with+specials=';
  const redactor = new Redactor([secret]);
  const forms: Array<[string, string]> = [
    ['raw', secret],
    ['base64', Buffer.from(secret).toString('base64')],
    ['base64 without padding', Buffer.from(secret).toString('base64').replace(/=+$/, '')],
    ['base64url', Buffer.from(secret).toString('base64url')],
    ['URL-encoded', encodeURIComponent(secret)],
    ['URL-encoded in lower case', encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase())],
    ['form-encoded', encodeURIComponent(secret).replace(/%20/g, '+')],
  ];
  for (const [what, form] of forms) {
    test(`replaces the ${what} form of a secret`, () => {
      const out = redactor.redact(`before ${form} after`);
      assert.equal(out, `before ${REDACTED} after`);
    });
  }

  test('replaces the JSON-escaped form of a secret inside a serialised log line', () => {
    const quoted = new Redactor(['say "hi" \\ back']);
    const line = JSON.stringify({ msg: 'x say "hi" \\ back y' });
    assert.equal(quoted.redact(line), JSON.stringify({ msg: `x ${REDACTED} y` }));
  });

  test('replaces every occurrence', () => {
    assert.equal(new Redactor(['abcdef123']).redact('abcdef123 and abcdef123'), `${REDACTED} and ${REDACTED}`);
  });

  test('replaces the longer of two overlapping secrets completely', () => {
    const redactor = new Redactor(['secret-1', 'secret-1-and-more']);
    assert.equal(redactor.redact('x secret-1-and-more y'), `x ${REDACTED} y`);
  });

  test('ignores secrets shorter than 6 characters', () => {
    assert.equal(new Redactor(['admin']).redact('the admin user'), 'the admin user');
  });

  test('learns secrets added after construction', () => {
    const redactor = new Redactor();
    assert.equal(redactor.redact('late-secret-value'), 'late-secret-value');
    redactor.addSecret('late-secret-value');
    assert.equal(redactor.redact('late-secret-value'), REDACTED);
  });

  test('treats regex characters in secrets literally', () => {
    const redactor = new Redactor(['a.b*c+d?']);
    assert.equal(redactor.redact('a.b*c+d? axbbbcd'), `${REDACTED} axbbbcd`);
  });
});

describe('token shapes', () => {
  const redactor = new Redactor();
  const shapes: Array<[string, string, string]> = [
    ['Anthropic key', 'key sk-ant-api03-abc_DEF-123 end', `key ${REDACTED} end`],
    ['Slack bot token', 'xoxb-123-456-abcDEF', REDACTED],
    ['Slack user token', 'xoxp-123-456-abc', REDACTED],
    ['Slack app token', 'token=x1 no: xapp-1-A0-123-abc', `token=${REDACTED} no: ${REDACTED}`],
    ['a placeholder of dots is not a secret', 'put SLACK_APP_TOKEN=... in .env, or password=…', 'put SLACK_APP_TOKEN=... in .env, or password=…'],
    ['AWS access key id', 'id AKIAIOSFODNN7EXAMPLE.', `id ${REDACTED}.`],
    ['GitHub token', `ghp_${'a1'.repeat(18)}`, REDACTED],
    ['GitHub server token', `ghs_${'B2'.repeat(12)}`, REDACTED],
    ['GitHub fine-grained token', 'github_pat_11AAA_bbb', REDACTED],
    ['Bearer token', 'Authorization: Bearer eyJhbGciOi.J9.sig', `Authorization: Bearer ${REDACTED}`],
    ['bare Bearer token', 'sent Bearer abc123def456 upstream', `sent Bearer ${REDACTED} upstream`],
    ['Basic auth header in JSON', '{"authorization":"Basic dXNlcjpwYXNz"}', `{"authorization":"Basic ${REDACTED}"}`],
    ['password in a query string', 'https://x.example/cb?user=bob&password=hunter2&x=1', `https://x.example/cb?user=bob&password=${REDACTED}&x=1`],
    ['token in a query string', 'GET /api?access_token=abc.def', `GET /api?access_token=${REDACTED}`],
    ['password in URL user info', 'postgres://app:s3cret@db:5432/x', `postgres://app:${REDACTED}@db:5432/x`],
    ['key=value in an env dump', 'DB_PASSWORD=hunter2 HOME=/root', `DB_PASSWORD=${REDACTED} HOME=/root`],
  ];
  for (const [what, input, expected] of shapes) {
    test(`replaces a ${what}`, () => {
      assert.equal(redactor.redact(input), expected);
    });
  }

  test('replaces a whole PEM private key block', () => {
    const pem = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nabcdef\n-----END RSA PRIVATE KEY-----';
    assert.equal(redactor.redact(`key:\n${pem}\ndone`), `key:\n${REDACTED}\ndone`);
  });

  test('replaces a PEM private key cut off before its END line up to the end', () => {
    assert.equal(redactor.redact('x -----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC'), `x ${REDACTED}`);
  });

  test('leaves ordinary prose alone', () => {
    const prose = 'Bearer authentication is described in RFC 6750; the task-ant-farm author=bob.';
    assert.equal(redactor.redact(prose), prose);
  });

  test('stays fast on large adversarial input', () => {
    const started = performance.now();
    redactor.redact('a.'.repeat(200_000));
    redactor.redact('x://a:'.repeat(50_000));
    assert.ok(performance.now() - started < 2000);
  });
});

describe('redactDeep', () => {
  test('redacts strings at any depth, keys included, keeps other values, and does not mutate the input', () => {
    const redactor = new Redactor(['deep-secret-value']);
    const input = { deep: { list: ['ok', 'has deep-secret-value'], n: 3, flag: true, nothing: null }, 'deep-secret-value': 'key kept' };
    const out = redactor.redactDeep(input);
    assert.deepEqual(out, { deep: { list: ['ok', `has ${REDACTED}`], n: 3, flag: true, nothing: null }, [REDACTED]: 'key kept' });
    assert.equal(input.deep.list[1], 'has deep-secret-value');
  });

  test('redacts a top-level string', () => {
    assert.equal(new Redactor(['top-level-secret']).redactDeep('top-level-secret'), REDACTED);
  });

  test('handles cycles without recursing forever', () => {
    const redactor = new Redactor(['cyclic-secret']);
    const node: { name: string; self?: unknown } = { name: 'cyclic-secret' };
    node.self = node;
    const out = redactor.redactDeep(node) as { name: string; self: unknown };
    assert.equal(out.name, REDACTED);
    assert.equal(out.self, out);
  });
});

describe('token shapes right after a JSON escape (log lines are JSON)', () => {
  const r = new Redactor();
  const slack = `xoxb-1-2-${'a'.repeat(24)}`;
  const github = `ghp_${'A1'.repeat(18)}`;
  const cases: Array<[string, string]> = [
    ['a newline', `line one\n${slack}`],
    ['a tab', `key:\t${github}`],
    ['a carriage return', `x\r${slack}`],
    ['a \\u escape (a control character)', `bell\u0007${slack}`],
    ['a newline before Bearer', `curl -H\nBearer ${'q9'.repeat(16)}`],
  ];
  for (const [what, text] of cases) {
    test(`after ${what} inside JSON.stringify`, () => {
      const line = JSON.stringify({ msg: 'tool.finished', output: text });
      const out = r.redact(line);
      assert.ok(!out.includes(slack) && !out.includes(github) && !out.includes('q9'.repeat(16)), out);
      assert.ok(out.includes(REDACTED), out);
      assert.doesNotThrow(() => JSON.parse(out), 'the line stays valid JSON');
    });
  }
  test('a shape inside a longer word is still left alone', () => {
    assert.equal(r.redact('task-ant-abc and mysk-ant-xyz'), 'task-ant-abc and mysk-ant-xyz');
    assert.equal(r.redact(JSON.stringify({ m: 'noxoxb-1-2' })), JSON.stringify({ m: 'noxoxb-1-2' }));
  });
});
