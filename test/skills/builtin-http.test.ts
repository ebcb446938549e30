/**
 * The built-in `http` skill, driven through its tools with `createTestToolContext`, against a
 * local server on 127.0.0.1 that only `allowed_hosts` opens.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createTestToolContext } from 'mithai/testing';
import { SsrfBlockedError, type ToolContext } from 'mithai';
import skill from '../../skills/http/tools.ts';
import { pino } from 'pino';
import { loadSkills } from '../../src/skills/load-skills.ts';
import { parseSkillMd } from '../../src/skills/parse-skill-md.ts';
import { hasOpenssl, redirect, selfSignedCertificate, startServer, startTlsServer, text, type TestServer } from '../security/ssrf-fixtures.ts';

const checkUrl = skill.tools.check_url!;
const httpGet = skill.tools.http_get!;

function ctx(config: Record<string, unknown>, overrides: Partial<ToolContext> = {}): ToolContext {
  return createTestToolContext({ config, ...overrides });
}

const open = { allowed_hosts: ['127.0.0.1'] };

describe('http skill: declarations', () => {
  test('both tools run at once and change nothing; http_get output is untrusted', () => {
    assert.equal(checkUrl.human, 'auto');
    assert.equal(checkUrl.readOnly, true);
    assert.notEqual(checkUrl.untrustedOutput, true);
    assert.equal(httpGet.human, 'auto');
    assert.equal(httpGet.readOnly, true);
    assert.equal(httpGet.untrustedOutput, true);
    assert.deepEqual(Object.keys(skill.tools).sort(), ['check_url', 'http_get']);
  });

  test('input is one URL, bounded', () => {
    for (const tool of [checkUrl, httpGet]) {
      assert.equal(tool.input.safeParse({ url: 'https://example.com/' }).success, true);
      assert.equal(tool.input.safeParse({}).success, false);
      assert.equal(tool.input.safeParse({ url: `https://example.com/${'a'.repeat(3000)}` }).success, false);
    }
  });

  test('the runtime loads it as the built-in http skill, with these levels', async () => {
    const { skills, errors } = await loadSkills({ paths: [], builtin: ['http'], defaultTimeoutMs: 60_000, logger: pino({ level: 'silent' }) });
    assert.deepEqual(errors, []);
    assert.equal(skills.length, 1);
    const tools = Object.fromEntries(skills[0]!.tools.map((t) => [t.name, t]));
    assert.deepEqual(Object.keys(tools).sort(), ['http__check_url', 'http__http_get']);
    assert.equal(tools.http__check_url!.declared, 'auto');
    assert.equal(tools.http__check_url!.readOnly, true);
    assert.equal(tools.http__check_url!.untrustedOutput, false);
    assert.equal(tools.http__http_get!.declared, 'auto');
    assert.equal(tools.http__http_get!.untrustedOutput, true);
  });

  test('SKILL.md names the skill and tells the model about refusals and untrusted content', () => {
    const path = new URL('../../skills/http/SKILL.md', import.meta.url);
    const md = parseSkillMd(readFileSync(path, 'utf8'), path.pathname);
    assert.equal(md.name, 'http');
    assert.ok(md.description.length > 20);
    assert.match(md.instructions, /http__check_url/);
    assert.match(md.instructions, /allowed_hosts/);
    assert.match(md.instructions, /never as instructions/);
  });
});

describe('http skill: config', () => {
  const problems = async (config: Record<string, unknown>): Promise<string> => {
    const err = await Promise.resolve(checkUrl.handle({ url: 'https://example.com/' }, ctx(config))).then(() => undefined, (e: unknown) => e);
    assert.ok(err instanceof Error, 'expected a config error');
    return err.message;
  };

  test('a bad allowed_hosts entry is named by index', async () => {
    const message = await problems({ allowed_hosts: ['grafana.internal', '*.svc.cluster.local', 'http://x.example', '*', 42] });
    assert.match(message, /^skills\.config\.http\.allowed_hosts\[2\]: expected a host name or \*\.suffix, got "http:\/\/x\.example"$/m);
    assert.match(message, /^skills\.config\.http\.allowed_hosts\[3\]: "\*" would open every host/m);
    assert.match(message, /^skills\.config\.http\.allowed_hosts\[4\]: expected a host name or \*\.suffix$/m);
    assert.doesNotMatch(message, /allowed_hosts\[[01]\]/);
  });

  test('metadata addresses cannot be listed', async () => {
    assert.match(await problems({ allowed_hosts: ['169.254.169.254'] }), /allowed_hosts\[0\]: "169\.254\.169\.254" is cloud metadata .*never opens/);
  });

  test('wrong types, ranges and unknown keys are named', async () => {
    assert.match(await problems({ allowed_hosts: 'grafana.internal' }), /skills\.config\.http\.allowed_hosts: expected a list of host names/);
    assert.match(await problems({ timeout_seconds: 0 }), /skills\.config\.http\.timeout_seconds: /);
    assert.match(await problems({ timeout_seconds: 600 }), /skills\.config\.http\.timeout_seconds: /);
    assert.match(await problems({ max_body_bytes: -1 }), /skills\.config\.http\.max_body_bytes: /);
    assert.match(await problems({ max_redirects: 1.5 }), /skills\.config\.http\.max_redirects: /);
    assert.match(await problems({ allowed_host: ['x.example'] }), /skills\.config\.http: unknown key "allowed_host"; expected allowed_hosts, timeout_seconds, max_body_bytes, max_redirects/);
  });

  test('the startup hook reports a bad block early', () => {
    const context = createTestToolContext({ config: { allowed_hosts: ['*'] } });
    assert.throws(() => skill.startup!(context), /allowed_hosts\[0\]/);
    assert.doesNotThrow(() => skill.startup!(createTestToolContext({ config: {} })));
  });
});

describe('http skill: tools', () => {
  let server: TestServer;
  before(async () => {
    server = await startServer((req, res) => {
      switch (req.url) {
        case '/':
          return text(res, 200, 'hello from the test server');
        case '/down':
          return text(res, 503, 'maintenance');
        case '/moved':
          return redirect(res, '/', 301);
        case '/to-metadata':
          return redirect(res, 'http://169.254.169.254/latest/meta-data/iam/security-credentials/');
        case '/json':
          return text(res, 200, '{"status":"green"}', 'application/json; charset=utf-8');
        case '/latin1':
          res.writeHead(200, { 'content-type': 'text/plain; charset=iso-8859-1' });
          return res.end(Buffer.from('caf\u00e9', 'latin1')); // 4 bytes; é is 0xe9
        case '/binary':
          res.writeHead(200, { 'content-type': 'image/png', 'content-length': 2048 });
          return res.end(Buffer.alloc(2048, 0x89));
        case '/gzip':
          res.writeHead(200, { 'content-type': 'text/plain', 'content-encoding': 'gzip', 'content-length': 3 });
          return res.end(Buffer.from([0x1f, 0x8b, 0x08]));
        case '/big':
          res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 10 * 1024 * 1024 });
          return res.end(Buffer.alloc(10 * 1024 * 1024, 'x'));
        case '/hang':
          return; // never answers
        default:
          return text(res, 404, 'not found');
      }
    });
  });
  after(() => server.close());

  test('without allowed_hosts the guard refuses a loopback URL and nothing connects', async () => {
    const before = server.connections;
    await assert.rejects(Promise.resolve(checkUrl.handle({ url: server.url('/') }, ctx({}))), SsrfBlockedError);
    await assert.rejects(Promise.resolve(httpGet.handle({ url: server.url('/') }, ctx({}))), /127\.0\.0\.1 is loopback .*allowed_hosts/);
    await assert.rejects(Promise.resolve(httpGet.handle({ url: `http://2130706433:${server.port}/` }, ctx({}))), /loopback/);
    assert.equal(server.connections, before);
  });

  test('check_url: status, latency, redirects, final URL', async () => {
    const report = (await checkUrl.handle({ url: server.url('/moved') }, ctx(open))) as Record<string, unknown>;
    assert.equal(report.ok, true);
    assert.equal(report.status, 200);
    assert.equal(typeof report.latency_ms, 'number');
    assert.equal(report.url, server.url('/moved'));
    assert.equal(report.final_url, server.url('/'));
    assert.deepEqual((report.redirects as Array<{ url: string; status: number }>).map((r) => [r.url, r.status]), [[server.url('/moved'), 301]]);
    assert.equal(report.tls, undefined);
    // The body is not part of a check.
    assert.doesNotMatch(JSON.stringify(report), /hello from the test server/);
  });

  test('check_url: an error status is a failed check, not an error', async () => {
    const report = (await checkUrl.handle({ url: server.url('/down') }, ctx(open))) as Record<string, unknown>;
    assert.equal(report.ok, false);
    assert.equal(report.status, 503);
  });

  test('check_url: a closed port and a time-out are failed checks with the reason', async () => {
    const closed = await startServer(() => {});
    const port = closed.port;
    await closed.close();
    const refused = (await checkUrl.handle({ url: `http://127.0.0.1:${port}/` }, ctx(open))) as Record<string, unknown>;
    assert.equal(refused.ok, false);
    assert.match(String(refused.error), /ECONNREFUSED/);
    const slow = (await checkUrl.handle({ url: server.url('/hang') }, ctx({ ...open, timeout_seconds: 0.2 }))) as Record<string, unknown>;
    assert.equal(slow.ok, false);
    assert.match(String(slow.error), /timed out after 0\.2 s/);
  });

  test('check_url and http_get: a redirect to cloud metadata is refused, naming the hop', async () => {
    for (const tool of [checkUrl, httpGet]) {
      await assert.rejects(Promise.resolve(tool.handle({ url: server.url('/to-metadata') }, ctx(open))), (err: unknown) => {
        assert.ok(err instanceof SsrfBlockedError);
        assert.match(err.message, /^redirect 1 from http:\/\/127\.0\.0\.1:\d+\/to-metadata to http:\/\/169\.254\.169\.254\/latest\/meta-data\/iam\/security-credentials\/ refused: .*cloud metadata/);
        return true;
      });
    }
  });

  test('http_get: text and JSON bodies with status and type', async () => {
    const out = String(await httpGet.handle({ url: server.url('/json') }, ctx(open)));
    assert.match(out, /^HTTP 200 from http:\/\/127\.0\.0\.1:\d+\/json in \d+ ms$/m);
    assert.match(out, /^content-type: application\/json; charset=utf-8; 18 bytes$/m);
    assert.match(out, /\n\n\{"status":"green"\}$/);
    const notFound = String(await httpGet.handle({ url: server.url('/nope') }, ctx(open)));
    assert.match(notFound, /^HTTP 404 /);
    assert.match(notFound, /not found$/);
    assert.match(String(await httpGet.handle({ url: server.url('/latin1') }, ctx(open))), /café$/);
  });

  test('http_get: redirects are listed', async () => {
    const out = String(await httpGet.handle({ url: server.url('/moved') }, ctx(open)));
    assert.match(out, /^redirects: http:\/\/127\.0\.0\.1:\d+\/moved \(301\) -> http:\/\/127\.0\.0\.1:\d+\/$/m);
  });

  test('http_get: binary and compressed bodies are described, not shown', async () => {
    const png = String(await httpGet.handle({ url: server.url('/binary') }, ctx(open)));
    assert.match(png, /\[body not shown: not text \(image\/png\), 2048 bytes\]/);
    assert.doesNotMatch(png, /\uFFFD|\x89/);
    const gz = String(await httpGet.handle({ url: server.url('/gzip') }, ctx(open)));
    assert.match(gz, /\[body not shown: gzip-encoded \(text\/plain\), 3 bytes\]/);
  });

  test('http_get: a 10 MB body is cut at max_body_bytes, saying how much', async () => {
    const out = String(await httpGet.handle({ url: server.url('/big') }, ctx({ ...open, max_body_bytes: 1000 })));
    assert.ok(out.includes(`\n\n${'x'.repeat(1000)}\n\n`));
    assert.doesNotMatch(out, /x{1001}/);
    assert.match(out, /\[cut: showed the first 1000 bytes of 10485760 \(10484760 bytes cut\); the limit is max_body_bytes = 1000\]$/);
  });

  test('http_get: the default cap is 64 KiB', async () => {
    const out = String(await httpGet.handle({ url: server.url('/big') }, ctx(open)));
    assert.match(out, /showed the first 65536 bytes of 10485760/);
  });

  test('http_get: a server that never answers hits timeout_seconds', async () => {
    await assert.rejects(Promise.resolve(httpGet.handle({ url: server.url('/hang') }, ctx({ ...open, timeout_seconds: '0.2' }))), /timed out after 0\.2 s/);
  });

  test("http_get: ctx.signal cancels the request", async () => {
    const controller = new AbortController();
    const pending = Promise.resolve(httpGet.handle({ url: server.url('/hang') }, ctx(open, { signal: controller.signal })));
    controller.abort(new Error('tool time limit'));
    await assert.rejects(pending, /tool time limit/);
  });

  test('http_get: refuses file:, gopher: and user info', async () => {
    await assert.rejects(Promise.resolve(httpGet.handle({ url: 'file:///etc/passwd' }, ctx(open))), /only http and https URLs are allowed, not file:/);
    await assert.rejects(Promise.resolve(httpGet.handle({ url: 'gopher://127.0.0.1:70/' }, ctx(open))), /not gopher:/);
    await assert.rejects(Promise.resolve(httpGet.handle({ url: `http://u:pw@127.0.0.1:${server.port}/` }, ctx(open))), /user info/);
  });
});

describe('http skill: TLS', { skip: hasOpenssl() ? false : 'openssl is not installed' }, () => {
  let server: TestServer;
  before(async () => {
    const cert = selfSignedCertificate({ cn: 'localhost', sans: 'DNS:localhost,IP:127.0.0.1', days: 30 });
    server = await startTlsServer(cert, (_req, res) => text(res, 200, 'secure'));
  });
  after(() => server.close());

  test('check_url reports an untrusted certificate with its days left, and the check fails', async () => {
    const report = (await checkUrl.handle({ url: server.url('/') }, ctx(open))) as Record<string, unknown>;
    assert.equal(report.ok, false);
    assert.match(String(report.error), /not trusted: DEPTH_ZERO_SELF_SIGNED_CERT/);
    const tls = report.tls as Record<string, unknown>;
    assert.equal(tls.trusted, false);
    assert.equal(tls.problem, 'DEPTH_ZERO_SELF_SIGNED_CERT');
    assert.ok(tls.days_left === 29 || tls.days_left === 30, `days_left ${String(tls.days_left)}`);
    assert.equal(tls.subject_cn, 'localhost');
    assert.equal(tls.issuer_cn, 'localhost');
    assert.equal(server.requests.length, 0, 'no request over an untrusted connection');
  });

  test('http_get refuses an untrusted certificate', async () => {
    await assert.rejects(Promise.resolve(httpGet.handle({ url: server.url('/') }, ctx(open))), /not trusted/);
    assert.equal(server.requests.length, 0);
  });
});
