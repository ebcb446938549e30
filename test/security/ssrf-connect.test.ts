/**
 * The SSRF guard on real sockets, all on 127.0.0.1: DNS rebinding cannot move the connection
 * off the checked address, every redirect is checked again, and the success paths (status,
 * redirects, body cap, time limit, TLS) behave; no proxy from the environment is used.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Socket } from 'node:net';
import { ProxyAgent, getGlobalDispatcher, setGlobalDispatcher } from 'undici';
import {
  compileAllowedHosts,
  guardedGet,
  GUARDED_USER_AGENT,
  HttpRequestError,
  SsrfBlockedError,
} from '../../src/index.ts';
import {
  hasOpenssl,
  rebindingResolver,
  redirect,
  selfSignedCertificate,
  startServer,
  startTlsServer,
  tableResolver,
  text,
  type TestServer,
} from './ssrf-fixtures.ts';

/**
 * Records the address of every outgoing TCP connection attempt while `run` runs (Node
 * publishes each new client socket on `net.client.socket`), calling `onAttempt` for each.
 */
async function watchConnections<T>(run: () => Promise<T>, onAttempt: (ip: string) => void = () => {}): Promise<{ result: T | undefined; error: unknown; attempts: string[] }> {
  const attempts: string[] = [];
  const onSocket = (message: unknown): void => {
    const socket = (message as { socket: Socket }).socket;
    socket.on('connectionAttempt', (ip: string) => {
      attempts.push(ip);
      onAttempt(ip);
    });
  };
  subscribe('net.client.socket', onSocket);
  try {
    return { result: await run(), error: undefined, attempts };
  } catch (error) {
    return { result: undefined, error, attempts };
  } finally {
    unsubscribe('net.client.socket', onSocket);
  }
}

describe('DNS rebinding', () => {
  let a: TestServer;
  let b: TestServer;
  before(async () => {
    a = await startServer((_req, res) => text(res, 200, 'server A'));
    // The same port on another loopback address: where a second lookup would send us.
    b = await startServer((_req, res) => text(res, 200, 'server B'), { host: '127.0.0.2', port: a.port });
  });
  after(async () => {
    await a.close();
    await b.close();
  });

  test('the connection goes to the checked answer, never to a second lookup', async () => {
    const resolver = rebindingResolver([['127.0.0.1'], ['127.0.0.2']]);
    const allowedHosts = compileAllowedHosts(['rebind.test']);
    const { result, attempts } = await watchConnections(() => guardedGet(`http://rebind.test:${a.port}/`, { resolver, allowedHosts }));
    assert.ok(result);
    assert.equal(result.body.toString(), 'server A');
    assert.deepEqual(resolver.calls, ['rebind.test'], 'resolved exactly once');
    assert.deepEqual(attempts, ['127.0.0.1']);
    assert.equal(result.hops[0]!.address, '127.0.0.1');
    assert.equal(a.requests.at(-1)!.headers.host, `rebind.test:${a.port}`, 'Host keeps the name');
    assert.equal(b.connections, 0, 'the second answer was never used');
  });

  test('public on the first lookup, 127.0.0.1 on the second: the socket goes to the public address only', async () => {
    const resolver = rebindingResolver([['93.184.215.14'], ['127.0.0.1']]);
    const controller = new AbortController();
    const before = a.connections;
    // No network here: stop as soon as the attempt is seen instead of waiting for a timeout
    // (on the next turn: Node cannot destroy a socket inside its own 'connectionAttempt').
    const { error, attempts } = await watchConnections(
      () => guardedGet(`http://rebind.test:${a.port}/`, { resolver, signal: controller.signal }),
      () => setImmediate(() => controller.abort(new Error('attempt seen'))),
    );
    assert.ok(error, 'the request cannot have succeeded');
    assert.deepEqual(resolver.calls, ['rebind.test']);
    assert.deepEqual(attempts, ['93.184.215.14']);
    assert.equal(a.connections, before, 'nothing reached 127.0.0.1');
  });

  test('a redirect is resolved again, and its new answer checked again', async () => {
    const hop = await startServer((req, res) => (req.url === '/start' ? redirect(res, `http://rebind.test:${a.port}/next`) : text(res, 200, 'hop')));
    try {
      // rebind.test is listed: its first answer (127.0.0.1) is allowed. The redirect asks
      // again and gets 169.254.169.254, which no list opens.
      const resolver = rebindingResolver([['127.0.0.1'], ['169.254.169.254']]);
      const allowedHosts = compileAllowedHosts(['rebind.test']);
      const start = `http://rebind.test:${hop.port}/start`;
      const before = a.requests.length;
      await assert.rejects(guardedGet(start, { resolver, allowedHosts }), (err: unknown) => {
        assert.ok(err instanceof SsrfBlockedError);
        assert.match(err.message, /^redirect 1 from http:\/\/rebind\.test:\d+\/start to http:\/\/rebind\.test:\d+\/next refused: rebind\.test resolves to 169\.254\.169\.254, which is cloud metadata/);
        assert.equal(err.hops.length, 1);
        return true;
      });
      assert.deepEqual(resolver.calls, ['rebind.test', 'rebind.test'], 'once per hop');
      assert.equal(a.requests.length, before);
    } finally {
      await hop.close();
    }
  });

  test('an answer with one public and one private address is refused before any connection', async () => {
    const resolver = tableResolver({ 'split.test': ['93.184.215.14', '127.0.0.1'] });
    const before = a.connections;
    const { error, attempts } = await watchConnections(() => guardedGet(`http://split.test:${a.port}/`, { resolver }));
    assert.ok(error instanceof SsrfBlockedError);
    assert.deepEqual(attempts, []);
    assert.equal(a.connections, before);
  });

  test('when a checked address refuses the connection, the next checked address is tried (and only those)', async () => {
    const resolver = tableResolver({ 'dual.test': ['::1', '127.0.0.1'] }); // nothing listens on [::1]:port
    const allowedHosts = compileAllowedHosts(['dual.test']);
    const { result, attempts } = await watchConnections(() => guardedGet(`http://dual.test:${a.port}/`, { resolver, allowedHosts }));
    assert.ok(result);
    assert.equal(result.body.toString(), 'server A');
    assert.deepEqual(attempts, ['::1', '127.0.0.1']);
    assert.equal(result.hops[0]!.address, '127.0.0.1');
  });
});

describe('redirects', () => {
  let server: TestServer;
  const allowedHosts = compileAllowedHosts(['127.0.0.1', 'localhost']);
  before(async () => {
    server = await startServer((req, res) => {
      const port = server.port;
      const routes: Record<string, () => void> = {
        '/to-metadata': () => redirect(res, 'http://169.254.169.254/latest/meta-data/'),
        '/to-mapped': () => redirect(res, `http://[::ffff:127.0.0.1]:${port}/landing`),
        '/to-decimal-private': () => redirect(res, 'http://167772161/'),
        '/to-decimal-loopback': () => redirect(res, `http://2130706433:${port}/landing`),
        '/to-decimal-metadata': () => redirect(res, 'http://2852039166/latest/meta-data/'),
        '/to-file': () => redirect(res, 'file:///etc/passwd'),
        '/to-gopher': () => redirect(res, `gopher://127.0.0.1:${port}/_flushall`),
        '/to-userinfo': () => redirect(res, `http://admin:hunter2-secret@127.0.0.1:${port}/landing`),
        '/to-smtp': () => redirect(res, 'http://127.0.0.1:25/'),
        '/loop': () => redirect(res, '/loop'),
        '/chain': () => redirect(res, '/chain2', 301, { 'set-cookie': 'session=abc; Path=/' }),
        '/chain2': () => redirect(res, `http://localhost:${port}/chain3`, 307),
        '/chain3': () => redirect(res, '/landing?x=1', 308),
        '/see-other': () => redirect(res, '/landing', 303),
        '/no-location': () => {
          res.writeHead(302, { 'content-length': 2 });
          res.end('no');
        },
        '/bad-location': () => redirect(res, 'http://[::1'),
        '/landing': () => text(res, 200, 'landed'),
        '/landing?x=1': () => text(res, 200, 'landed with query'),
      };
      (routes[req.url ?? ''] ?? (() => text(res, 404, 'not found')))();
    });
  });
  after(() => server.close());

  const landings = (): number => server.requests.filter((r) => r.url.startsWith('/landing')).length;

  const refused: ReadonlyArray<readonly [string, RegExp]> = [
    ['/to-metadata', /^redirect 1 from http:\/\/127\.0\.0\.1:\d+\/to-metadata to http:\/\/169\.254\.169\.254\/latest\/meta-data\/ refused: 169\.254\.169\.254 is cloud metadata \(169\.254\.169\.254\/32\), never allowed$/],
    ['/to-mapped', /^redirect 1 from .*\/to-mapped to http:\/\/\[::ffff:7f00:1\]:\d+\/landing refused: ::ffff:7f00:1 is IPv4-mapped 127\.0\.0\.1: loopback/],
    ['/to-decimal-private', /^redirect 1 from .*\/to-decimal-private to http:\/\/10\.0\.0\.1\/ refused: 10\.0\.0\.1 is private/],
    ['/to-decimal-metadata', /to http:\/\/169\.254\.169\.254\/latest\/meta-data\/ refused: .*cloud metadata/],
    ['/to-file', /^redirect 1 from .*\/to-file to file:\/\/\/etc\/passwd refused: only http and https URLs are allowed, not file:$/],
    ['/to-gopher', /to gopher:\/\/127\.0\.0\.1:\d+\/_flushall refused: only http and https/],
    ['/to-userinfo', /refused: URLs with user info/],
    ['/to-smtp', /refused: port 25 is not allowed/],
  ];
  for (const [path, message] of refused) {
    test(`a redirect ${path} is refused, naming the hop`, async () => {
      const before = landings();
      await assert.rejects(guardedGet(server.url(path), { allowedHosts }), (err: unknown) => {
        assert.ok(err instanceof SsrfBlockedError, String(err));
        assert.match(err.message, message);
        assert.doesNotMatch(err.message, /hunter2/);
        assert.equal(err.hops[0]!.status, 302);
        return true;
      });
      assert.equal(landings(), before, 'the refused target was never requested');
    });
  }

  test('a decimal loopback redirect is refused when only the name localhost is listed', async () => {
    const only = compileAllowedHosts(['localhost']);
    const start = `http://localhost:${server.port}/to-decimal-loopback`;
    await assert.rejects(guardedGet(start, { allowedHosts: only, resolver: tableResolver({ localhost: ['127.0.0.1'] }) }), /to http:\/\/127\.0\.0\.1:\d+\/landing refused: 127\.0\.0\.1 is loopback/);
  });

  test('redirects are followed by hand, each hop recorded; cookies are not sent back', async () => {
    const response = await guardedGet(server.url('/chain'), { allowedHosts });
    assert.equal(response.status, 200);
    assert.equal(response.body.toString(), 'landed with query');
    assert.equal(response.url, `http://localhost:${server.port}/landing?x=1`);
    assert.deepEqual(response.hops.map((h) => [h.url.replace(String(server.port), 'P'), h.status]), [
      ['http://127.0.0.1:P/chain', 301],
      ['http://127.0.0.1:P/chain2', 307],
      ['http://localhost:P/chain3', 308],
      ['http://localhost:P/landing?x=1', 200],
    ]);
    for (const request of server.requests.slice(-4)) {
      assert.equal(request.headers.cookie, undefined);
      assert.equal(request.headers.authorization, undefined);
      assert.equal(request.headers['user-agent'], GUARDED_USER_AGENT);
      assert.equal(request.method, 'GET');
    }
    assert.equal(server.requests.at(-2)!.headers.host, `localhost:${server.port}`);
    assert.equal(server.requests.at(-3)!.headers.host, `127.0.0.1:${server.port}`);
  });

  test('303 is followed; a 3xx without Location is the final response', async () => {
    assert.equal((await guardedGet(server.url('/see-other'), { allowedHosts })).status, 200);
    const noLocation = await guardedGet(server.url('/no-location'), { allowedHosts });
    assert.equal(noLocation.status, 302);
    assert.equal(noLocation.body.toString(), 'no');
  });

  test('an unreadable Location is a protocol failure, with the hop', async () => {
    await assert.rejects(guardedGet(server.url('/bad-location'), { allowedHosts }), (err: unknown) => {
      assert.ok(err instanceof HttpRequestError);
      assert.equal(err.failure, 'protocol');
      assert.match(err.message, /redirected to an unreadable Location "http:\/\/\[::1"/);
      assert.equal(err.hops.length, 1);
      return true;
    });
  });

  test('bad options are refused before anything is sent', async () => {
    await assert.rejects(guardedGet(server.url('/landing'), { allowedHosts, timeoutMs: 0 }), RangeError);
    await assert.rejects(guardedGet(server.url('/landing'), { allowedHosts, maxBodyBytes: -1 }), RangeError);
    await assert.rejects(guardedGet(server.url('/landing'), { allowedHosts, maxRedirects: 1.5 }), RangeError);
  });

  test('more than maxRedirects redirects fail, after exactly maxRedirects + 1 requests', async () => {
    const before = server.requests.length;
    await assert.rejects(guardedGet(server.url('/loop'), { allowedHosts, maxRedirects: 3 }), (err: unknown) => {
      assert.ok(err instanceof HttpRequestError);
      assert.equal(err.failure, 'too_many_redirects');
      assert.match(err.message, /more than 3 redirects/);
      return true;
    });
    assert.equal(server.requests.length - before, 4);
    // maxRedirects 0 returns the redirect itself.
    assert.equal((await guardedGet(server.url('/loop'), { allowedHosts, maxRedirects: 0 })).status, 302);
  });
});

describe('limits and responses', () => {
  let server: TestServer;
  const allowedHosts = compileAllowedHosts(['127.0.0.1']);
  const big = { written: 0, finished: false, closed: false };
  let closeBig: () => void = () => {};
  const bigClosed = new Promise<void>((resolve) => (closeBig = resolve));

  before(async () => {
    server = await startServer((req, res) => {
      if (req.url === '/big') {
        // 10 MB, written with backpressure; records how much the socket took.
        const total = 10 * 1024 * 1024;
        const chunk = Buffer.alloc(64 * 1024, 'a');
        res.writeHead(200, { 'content-type': 'text/plain', 'content-length': total });
        res.on('finish', () => (big.finished = true));
        res.on('close', () => {
          big.closed = true;
          closeBig();
        });
        const pump = (): void => {
          while (big.written < total && !res.destroyed) {
            big.written += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', pump);
              return;
            }
          }
          if (big.written >= total) res.end();
        };
        pump();
      } else if (req.url === '/slow-headers') {
        // Never answers; the client's time limit must end it.
      } else if (req.url === '/slow-body') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first part;');
      } else if (req.url === '/binary') {
        res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 4 });
        res.end(Buffer.from([0, 1, 2, 3]));
      } else if (req.url === '/json-404') {
        text(res, 404, '{"error":"nope"}', 'application/json');
      } else {
        text(res, 200, 'ok');
      }
    });
  });
  after(() => server.close());

  test('status, headers, latency and the address used', async () => {
    const response = await guardedGet(server.url('/json-404'), { allowedHosts });
    assert.equal(response.status, 404);
    assert.equal(response.headers['content-type'], 'application/json');
    assert.equal(response.body.toString(), '{"error":"nope"}');
    assert.equal(response.bodyEnd, 'complete');
    assert.equal(response.contentLength, 16);
    assert.ok(response.latencyMs >= 0 && response.latencyMs < 5000);
    assert.equal(response.hops.length, 1);
    assert.equal(response.hops[0]!.address, '127.0.0.1');
    assert.equal(response.tls, undefined);
    const seen = server.requests.at(-1)!;
    assert.equal(seen.headers['accept-encoding'], 'identity');
    assert.equal(seen.headers.host, `127.0.0.1:${server.port}`);
  });

  test('a 10 MB body stops being read at the cap and the connection is dropped', async () => {
    const before = process.memoryUsage().rss;
    const response = await guardedGet(server.url('/big'), { allowedHosts, maxBodyBytes: 64 * 1024 });
    assert.equal(response.body.length, 64 * 1024);
    assert.equal(response.bodyEnd, 'cap');
    assert.equal(response.contentLength, 10 * 1024 * 1024);
    await bigClosed;
    assert.equal(big.finished, false, 'the server never got to send all of it');
    assert.ok(big.written < 10 * 1024 * 1024, `server wrote ${big.written} bytes`);
    assert.ok(process.memoryUsage().rss - before < 8 * 1024 * 1024, 'memory stayed bounded');
  });

  test('maxBodyBytes 0 reads no body', async () => {
    const response = await guardedGet(server.url('/'), { allowedHosts, maxBodyBytes: 0 });
    assert.equal(response.status, 200);
    assert.equal(response.body.length, 0);
    assert.equal(response.bodyEnd, 'not-read');
  });

  test('a server that never answers hits the time limit', async () => {
    const started = performance.now();
    await assert.rejects(guardedGet(server.url('/slow-headers'), { allowedHosts, timeoutMs: 200 }), (err: unknown) => {
      assert.ok(err instanceof HttpRequestError, String(err));
      assert.equal(err.failure, 'timeout');
      assert.match(err.message, /timed out after 0\.2 s/);
      return true;
    });
    assert.ok(performance.now() - started < 2000);
  });

  test('a body that stops arriving is cut at the time limit, keeping what came', async () => {
    const response = await guardedGet(server.url('/slow-body'), { allowedHosts, timeoutMs: 200 });
    assert.equal(response.status, 200);
    assert.equal(response.body.toString(), 'first part;');
    assert.equal(response.bodyEnd, 'timeout');
  });

  test("the caller's signal aborts with the caller's reason", async () => {
    const controller = new AbortController();
    const pending = guardedGet(server.url('/slow-headers'), { allowedHosts, signal: controller.signal });
    controller.abort(new Error('turn cancelled'));
    await assert.rejects(pending, /turn cancelled/);
  });

  test('binary bodies are returned as bytes with their type (the skill decides what to show)', async () => {
    const response = await guardedGet(server.url('/binary'), { allowedHosts });
    assert.equal(response.headers['content-type'], 'application/octet-stream');
    assert.deepEqual([...response.body], [0, 1, 2, 3]);
  });

  test('a closed port is a connection failure naming the address', async () => {
    const closed = await startServer(() => {});
    const port = closed.port;
    await closed.close();
    await assert.rejects(guardedGet(`http://127.0.0.1:${port}/`, { allowedHosts }), (err: unknown) => {
      assert.ok(err instanceof HttpRequestError, String(err));
      assert.equal(err.failure, 'connect');
      assert.match(err.message, /could not connect to 127\.0\.0\.1 port \d+ \(127\.0\.0\.1\): ECONNREFUSED/);
      return true;
    });
  });

  test('an IPv6 literal URL connects to that address (when this machine has ::1)', async (t) => {
    const v6 = await startServer((_req, res) => text(res, 200, 'over ipv6'), { host: '::1' }).catch(() => undefined);
    if (v6 === undefined) return t.skip('no IPv6 loopback here');
    try {
      const url = `http://[::1]:${v6.port}/`;
      await assert.rejects(guardedGet(url), /::1 is loopback/);
      const response = await guardedGet(url, { allowedHosts: compileAllowedHosts(['::1']) });
      assert.equal(response.body.toString(), 'over ipv6');
      assert.equal(response.hops[0]!.address, '::1');
      assert.equal(v6.requests[0]!.headers.host, `[::1]:${v6.port}`);
    } finally {
      await v6.close();
    }
  });

  test('without allowed_hosts the local server is unreachable', async () => {
    const before = server.connections;
    await assert.rejects(guardedGet(server.url('/')), SsrfBlockedError);
    await assert.rejects(guardedGet(`http://localhost:${server.port}/`, { resolver: tableResolver({ localhost: ['127.0.0.1'] }) }), /localhost resolves to 127\.0\.0\.1, which is loopback/);
    assert.equal(server.connections, before);
  });

  test('proxies from the environment and the global dispatcher are not used', async () => {
    const proxy = await startServer((_req, res) => text(res, 200, 'from the proxy'));
    const saved = { ...process.env };
    const savedDispatcher = getGlobalDispatcher();
    try {
      for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) process.env[name] = proxy.url('/');
      delete process.env.NO_PROXY;
      delete process.env.no_proxy;
      setGlobalDispatcher(new ProxyAgent(proxy.url('/')));
      const response = await guardedGet(server.url('/'), { allowedHosts });
      assert.equal(response.body.toString(), 'ok');
      assert.equal(proxy.connections, 0);
    } finally {
      setGlobalDispatcher(savedDispatcher);
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
      await proxy.close();
    }
  });
});

describe('TLS', { skip: hasOpenssl() ? false : 'openssl is not installed; certificate days-left is tested in ssrf-guard.test.ts' }, () => {
  let valid: { cert: string; key: string };
  let expired: { cert: string; key: string };
  let server: TestServer;
  let expiredServer: TestServer;
  const resolver = tableResolver({ localhost: ['127.0.0.1'], 'other.test': ['127.0.0.1'], 'expired.test': ['127.0.0.1'] });
  const allowedHosts = compileAllowedHosts(['localhost', '127.0.0.1', 'other.test', 'expired.test']);

  before(async () => {
    valid = selfSignedCertificate({ cn: 'localhost', sans: 'DNS:localhost,IP:127.0.0.1', days: 30 });
    server = await startTlsServer(valid, (_req, res) => text(res, 200, 'secure'));
    expired = selfSignedCertificate({ cn: 'expired.test', sans: 'DNS:expired.test', startDate: '20200101000000Z', endDate: '20200201000000Z' });
    expiredServer = await startTlsServer(expired, (_req, res) => text(res, 200, 'expired'));
  });
  after(async () => {
    await server.close();
    await expiredServer.close();
  });

  test('a trusted certificate: days left, names, SNI for the URL host', async () => {
    const response = await guardedGet(`https://localhost:${server.port}/`, { resolver, allowedHosts, ca: valid.cert });
    assert.equal(response.status, 200);
    assert.equal(response.body.toString(), 'secure');
    assert.ok(response.tls);
    assert.equal(response.tls.trusted, true);
    assert.ok(response.tls.daysLeft === 29 || response.tls.daysLeft === 30, `daysLeft ${response.tls.daysLeft}`);
    assert.equal(response.tls.subjectCN, 'localhost');
    assert.equal(response.tls.issuerCN, 'localhost');
    assert.match(response.tls.validTo ?? '', /^\d{4}-\d\d-\d\dT/);
    assert.equal(server.servernames.at(-1), 'localhost');
    assert.equal(response.hops[0]!.address, '127.0.0.1');
  });

  test('a literal address gets no SNI and is verified against the IP in the certificate', async () => {
    const before = server.servernames.length;
    const response = await guardedGet(`https://127.0.0.1:${server.port}/`, { allowedHosts, ca: valid.cert });
    assert.equal(response.tls?.trusted, true);
    assert.equal(server.servernames.length, before, 'no SNI sent');
  });

  test('an untrusted (self-signed) certificate is described, and no request is sent', async () => {
    const before = server.requests.length;
    await assert.rejects(guardedGet(`https://localhost:${server.port}/`, { resolver, allowedHosts }), (err: unknown) => {
      assert.ok(err instanceof HttpRequestError, String(err));
      assert.equal(err.failure, 'tls_untrusted');
      assert.match(err.message, /TLS certificate of localhost is not trusted: DEPTH_ZERO_SELF_SIGNED_CERT/);
      assert.equal(err.tls?.trusted, false);
      assert.ok(err.tls?.daysLeft === 29 || err.tls?.daysLeft === 30);
      return true;
    });
    assert.equal(server.requests.length, before);
  });

  test('a certificate for another name is refused even when its CA is trusted', async () => {
    const before = server.requests.length;
    await assert.rejects(guardedGet(`https://other.test:${server.port}/`, { resolver, allowedHosts, ca: valid.cert }), (err: unknown) => {
      assert.ok(err instanceof HttpRequestError, String(err));
      assert.equal(err.failure, 'tls_untrusted');
      assert.match(err.message, /ERR_TLS_CERT_ALTNAME_INVALID/);
      return true;
    });
    assert.equal(server.servernames.at(-1), 'other.test', 'SNI carried the URL host');
    assert.equal(server.requests.length, before);
  });

  test('an expired certificate: negative days left, refused', async () => {
    await assert.rejects(guardedGet(`https://expired.test:${expiredServer.port}/`, { resolver, allowedHosts, ca: expired.cert }), (err: unknown) => {
      assert.ok(err instanceof HttpRequestError, String(err));
      assert.equal(err.failure, 'tls_untrusted');
      assert.match(err.message, /not trusted: CERT_HAS_EXPIRED/);
      assert.ok((err.tls?.daysLeft ?? 0) < -2000, `daysLeft ${err.tls?.daysLeft}`);
      assert.equal(err.tls?.validTo, '2020-02-01T00:00:00.000Z');
      assert.equal(err.tls?.subjectCN, 'expired.test');
      return true;
    });
    assert.equal(expiredServer.requests.length, 0);
  });
});
