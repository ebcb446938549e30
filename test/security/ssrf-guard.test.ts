/**
 * The SSRF guard's decisions, without sockets: address classification (every range, both
 * families, IPv4 hidden in IPv6, the boundaries), URL forms WHATWG normalises, refused schemes,
 * user info and ports, hosts that resolve to private addresses, and allowed_hosts.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  allowedHostProblem,
  certificateDaysLeft,
  checkTarget,
  classifyAddress,
  compileAllowedHosts,
  HttpRequestError,
  isHostAllowed,
  SsrfBlockedError,
  type AddressKind,
} from '../../src/index.ts';
import { summarizeCertificate } from '../../src/security/tls-certificate.ts';
import { forbiddenResolver, rebindingResolver, tableResolver } from './ssrf-fixtures.ts';

describe('classifyAddress', () => {
  // [address, kind, openable by allowed_hosts]
  const table: ReadonlyArray<readonly [string, AddressKind, boolean]> = [
    // IPv4, each range with its edges and the addresses just outside.
    ['8.8.8.8', 'public', true],
    ['1.1.1.1', 'public', true],
    ['0.0.0.0', 'unspecified', false],
    ['0.255.255.255', 'unspecified', false],
    ['1.0.0.0', 'public', true],
    ['9.255.255.255', 'public', true],
    ['10.0.0.0', 'private', true],
    ['10.255.255.255', 'private', true],
    ['11.0.0.0', 'public', true],
    ['100.63.255.255', 'public', true],
    ['100.64.0.0', 'shared', true],
    ['100.127.255.255', 'shared', true],
    ['100.128.0.0', 'public', true],
    ['100.100.100.200', 'metadata', false],
    ['126.255.255.255', 'public', true],
    ['127.0.0.0', 'loopback', true],
    ['127.0.0.1', 'loopback', true],
    ['127.255.255.255', 'loopback', true],
    ['128.0.0.0', 'public', true],
    ['169.253.255.255', 'public', true],
    ['169.254.0.0', 'link-local', false],
    ['169.254.255.255', 'link-local', false],
    ['169.255.0.0', 'public', true],
    ['169.254.169.254', 'metadata', false],
    ['169.254.170.2', 'metadata', false],
    ['169.254.170.23', 'metadata', false],
    ['169.254.0.23', 'metadata', false],
    ['172.15.255.255', 'public', true],
    ['172.16.0.0', 'private', true],
    ['172.31.255.255', 'private', true],
    ['172.32.0.0', 'public', true],
    ['192.0.0.8', 'reserved', true],
    ['192.0.0.192', 'metadata', false],
    ['192.0.2.1', 'documentation', true],
    ['192.88.99.1', 'reserved', true],
    ['192.167.255.255', 'public', true],
    ['192.168.0.0', 'private', true],
    ['192.168.255.255', 'private', true],
    ['192.169.0.0', 'public', true],
    ['198.17.255.255', 'public', true],
    ['198.18.0.0', 'benchmarking', true],
    ['198.19.255.255', 'benchmarking', true],
    ['198.20.0.0', 'public', true],
    ['198.51.100.7', 'documentation', true],
    ['203.0.113.9', 'documentation', true],
    ['223.255.255.255', 'public', true],
    ['224.0.0.0', 'multicast', false],
    ['239.255.255.255', 'multicast', false],
    ['240.0.0.0', 'reserved', true],
    ['255.255.255.254', 'reserved', true],
    ['255.255.255.255', 'broadcast', false],
    // IPv6.
    ['::', 'unspecified', false],
    ['::1', 'loopback', true],
    ['[::1]', 'loopback', true],
    ['0:0:0:0:0:0:0:1', 'loopback', true],
    ['::2', 'reserved', true], // IPv4-compatible (deprecated) space
    ['::7f00:1', 'reserved', true],
    ['::127.0.0.1', 'reserved', true],
    ['2001:4860:4860::8888', 'public', true],
    ['2606:4700:4700::1111', 'public', true],
    ['2001::1', 'reserved', true], // Teredo
    ['2001:2::1', 'benchmarking', true],
    ['2001:10::1', 'reserved', true],
    ['2001:20::1', 'reserved', true],
    ['2001:db8::1', 'documentation', true],
    ['3fff::1', 'documentation', true],
    ['100::1', 'reserved', true],
    ['fbff:ffff::1', 'reserved', true], // just below fc00::/7: outside global unicast
    ['fc00::', 'unique-local', true],
    ['fd12:3456:789a::1', 'unique-local', true],
    ['fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 'unique-local', true],
    ['fd00:ec2::254', 'metadata', false],
    ['fd00:ec2::23', 'metadata', false],
    ['fd20:ce::254', 'metadata', false],
    ['fe80::', 'link-local', false],
    ['fe80::1%eth0', 'link-local', false],
    ['febf:ffff::1', 'link-local', false],
    ['fec0::1', 'site-local', true],
    ['ff02::1', 'multicast', false],
    ['ff0e::1', 'multicast', false],
    ['1fff:ffff::1', 'reserved', true], // below 2000::/3
    ['4000::1', 'reserved', true], // above 2000::/3
    ['64:ff9b:1::1', 'reserved', true], // local-use NAT64
    ['::ffff:0:7f00:1', 'reserved', true], // IPv4-translated (SIIT)
    // IPv4 inside IPv6: judged by the IPv4 address.
    ['::ffff:127.0.0.1', 'loopback', true],
    ['::ffff:7f00:1', 'loopback', true],
    ['0:0:0:0:0:ffff:7f00:1', 'loopback', true],
    ['::FFFF:7F00:0001', 'loopback', true],
    ['::ffff:10.1.2.3', 'private', true],
    ['::ffff:a9fe:a9fe', 'metadata', false],
    ['::ffff:169.254.1.1', 'link-local', false],
    ['::ffff:0.0.0.0', 'unspecified', false],
    ['::ffff:8.8.8.8', 'public', true],
    ['64:ff9b::7f00:1', 'loopback', true],
    ['64:ff9b::10.0.0.1', 'private', true],
    ['64:ff9b::a9fe:a9fe', 'metadata', false],
    ['64:ff9b::8.8.8.8', 'public', true],
    ['2002:7f00:1::', 'loopback', true],
    ['2002:c0a8:101::1', 'private', true],
    ['2002:a9fe:a9fe::1', 'metadata', false],
    ['2002:6440:1::', 'shared', true],
    ['2002:808:808::1', 'public', true],
  ];

  for (const [address, kind, openable] of table) {
    test(`${address} is ${kind}${openable ? '' : ', never openable'}`, () => {
      const cls = classifyAddress(address);
      assert.ok(cls, `${address} should parse`);
      assert.equal(cls.kind, kind);
      assert.equal(cls.openable, openable);
    });
  }

  test('IPv4 inside IPv6 names the embedding and the IPv4 address', () => {
    const mapped = classifyAddress('::ffff:127.0.0.1')!;
    assert.equal(mapped.address, '::ffff:7f00:1');
    assert.equal(mapped.family, 6);
    assert.deepEqual(mapped.embedded?.via, 'ipv4-mapped');
    assert.equal(mapped.embedded?.ipv4.address, '127.0.0.1');
    assert.match(mapped.description, /^IPv4-mapped 127\.0\.0\.1: loopback \(127\.0\.0\.0\/8\)$/);
    assert.equal(classifyAddress('64:ff9b::a9fe:a9fe')!.embedded?.ipv4.address, '169.254.169.254');
    assert.equal(classifyAddress('2002:c0a8:101::1')!.embedded?.ipv4.address, '192.168.1.1');
    assert.equal(classifyAddress('2002:c0a8:101::1')!.embedded?.via, '6to4');
  });

  test('addresses come out in canonical form', () => {
    assert.equal(classifyAddress('0:0:0:0:0:0:0:1')!.address, '::1');
    assert.equal(classifyAddress('2001:0db8:0000:0000:0001:0000:0000:0001')!.address, '2001:db8::1:0:0:1');
    assert.equal(classifyAddress('FE80::1%eth0')!.address, 'fe80::1');
    assert.equal(classifyAddress('2001:db8:0:1:1:1:1:1')!.address, '2001:db8:0:1:1:1:1:1');
  });

  test('non-standard IPv4 forms and names are not addresses (undefined: the guard refuses them)', () => {
    for (const text of ['0177.0.0.1', '127.1', '2130706433', '0x7f.0.0.1', '0x7f000001', '127.000.000.001', 'localhost', '', '1.2.3.4.5', '::ffff:1.2.3', '[::1', 'example.com', '::1::1', '12345::1']) {
      assert.equal(classifyAddress(text), undefined, text);
    }
  });
});

describe('checkTarget: URL forms', () => {
  // Literal addresses, in every form WHATWG parsing accepts, are judged without DNS.
  const refused: ReadonlyArray<readonly [string, RegExp]> = [
    ['http://127.0.0.1/', /127\.0\.0\.1 is loopback/],
    ['http://2130706433/', /127\.0\.0\.1 is loopback/],
    ['http://0177.0.0.1/', /127\.0\.0\.1 is loopback/],
    ['http://0x7f.1/', /127\.0\.0\.1 is loopback/],
    ['http://127.1/', /127\.0\.0\.1 is loopback/],
    ['http://0x7f000001/', /127\.0\.0\.1 is loopback/],
    ['http://017700000001/', /127\.0\.0\.1 is loopback/],
    ['http://%31%32%37.0.0.1/', /127\.0\.0\.1 is loopback/],
    ['http://\uff11\uff12\uff17.\uff10.\uff10.\uff11/', /127\.0\.0\.1 is loopback/], // full-width digits
    ['http://127.0.0.1.:8080/', /127\.0\.0\.1 is loopback/],
    ['http://[::1]/', /::1 is loopback/],
    ['http://[0:0:0:0:0:0:0:1]:8080/', /::1 is loopback/],
    ['http://[::ffff:127.0.0.1]/', /::ffff:7f00:1 is IPv4-mapped 127\.0\.0\.1: loopback/],
    ['http://[::ffff:7f00:1]/', /IPv4-mapped 127\.0\.0\.1: loopback/],
    ['http://[0:0:0:0:0:ffff:127.0.0.1]/', /IPv4-mapped 127\.0\.0\.1: loopback/],
    ['http://[64:ff9b::127.0.0.1]/', /NAT64 127\.0\.0\.1: loopback/],
    ['http://[64:ff9b::a9fe:a9fe]/', /NAT64 169\.254\.169\.254: cloud metadata .*never allowed/],
    ['http://[2002:7f00:1::]/', /6to4 127\.0\.0\.1: loopback/],
    ['http://[2002:c0a8:101::1]/', /6to4 192\.168\.1\.1: private/],
    ['http://[::127.0.0.1]/', /::7f00:1 is reserved/],
    ['http://0/', /0\.0\.0\.0 is unspecified .*never allowed/],
    ['http://0.0.0.0:8080/', /0\.0\.0\.0 is unspecified/],
    ['http://[::]/', /:: is unspecified/],
    ['http://169.254.169.254/latest/meta-data/', /169\.254\.169\.254 is cloud metadata \(169\.254\.169\.254\/32\), never allowed/],
    ['http://2852039166/latest/meta-data/', /169\.254\.169\.254 is cloud metadata/], // decimal
    ['http://0xa9fea9fe/', /169\.254\.169\.254 is cloud metadata/], // hex
    ['http://0251.0376.0251.0376/', /169\.254\.169\.254 is cloud metadata/], // octal
    ['http://[::ffff:169.254.169.254]/', /IPv4-mapped 169\.254\.169\.254: cloud metadata/],
    ['http://[fd00:ec2::254]/latest/meta-data/', /fd00:ec2::254 is cloud metadata/],
    ['http://100.100.100.200/latest/meta-data/', /100\.100\.100\.200 is cloud metadata/],
    ['http://169.254.1.1/', /link-local/],
    ['http://[fe80::1]/', /fe80::1 is link-local/],
    ['http://10.0.0.1/', /10\.0\.0\.1 is private \(10\.0\.0\.0\/8\)/],
    ['http://167772161/', /10\.0\.0\.1 is private/],
    ['http://172.16.0.1/', /172\.16\.0\.1 is private \(172\.16\.0\.0\/12\)/],
    ['http://192.168.1.1/', /192\.168\.1\.1 is private/],
    ['http://100.64.0.1/', /carrier-grade NAT/],
    ['http://[fd00::1]/', /unique-local/],
    ['http://224.0.0.1/', /multicast/],
    ['http://255.255.255.255/', /broadcast/],
    ['https://[ff02::1]/', /multicast/],
  ];
  for (const [url, message] of refused) {
    test(`refuses ${url}`, async () => {
      const err = await checkTarget(url, { resolver: forbiddenResolver }).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof SsrfBlockedError, `${url}: expected SsrfBlockedError, got ${String(err)}`);
      assert.match(err.message, message);
      assert.equal(err.code, 'ssrf_blocked');
    });
  }

  test('accepts public literal addresses without DNS, in any form', async () => {
    for (const [url, address] of [
      ['http://8.8.8.8/', '8.8.8.8'],
      ['https://134744072/', '8.8.8.8'],
      ['http://0x8.0x8.0x8.0x8:8080/', '8.8.8.8'],
      ['http://[2606:4700:4700::1111]/', '2606:4700:4700::1111'],
      ['http://[::ffff:8.8.8.8]/', '::ffff:808:808'],
    ] as const) {
      const target = await checkTarget(url, { resolver: forbiddenResolver });
      assert.deepEqual(target.addresses.map((a) => a.address), [address], url);
    }
  });

  test('the port defaults by scheme and is kept otherwise', async () => {
    const resolver = tableResolver({ 'example.com': ['93.184.215.14'] });
    assert.equal((await checkTarget('http://example.com/', { resolver })).port, 80);
    assert.equal((await checkTarget('https://example.com/', { resolver })).port, 443);
    assert.equal((await checkTarget('http://example.com:8443/', { resolver })).port, 8443);
  });

  for (const url of ['file:///etc/passwd', 'gopher://127.0.0.1:70/_GET', 'ftp://example.com/x', 'data:text/plain,hello', 'javascript:alert(1)', 'ws://example.com/', 'dict://127.0.0.1:11211/stat']) {
    test(`refuses the scheme of ${url}`, async () => {
      await assert.rejects(checkTarget(url, { resolver: forbiddenResolver }), (err: unknown) => {
        assert.ok(err instanceof SsrfBlockedError);
        assert.match(err.message, /only http and https URLs are allowed, not [a-z]+:/);
        return true;
      });
    });
  }

  test('refuses what is not an absolute URL', async () => {
    for (const url of ['example.com/x', '/relative', '', 'http://', 'http://[::1/', 'http://1.2.3.4.5/', 'http://[fe80::1%25eth0]/']) {
      await assert.rejects(checkTarget(url, { resolver: forbiddenResolver }), /not a valid absolute URL/, url);
    }
  });

  test('refuses user info and never repeats it', async () => {
    for (const url of ['http://user:s3cret-pw@example.com/', 'http://user@example.com/', 'http://:s3cret-pw@example.com/', 'https://a%40b:s3cret-pw@example.com/']) {
      const err = await checkTarget(url, { resolver: forbiddenResolver }).then(() => undefined, (e: unknown) => e);
      assert.ok(err instanceof SsrfBlockedError, url);
      assert.match(err.message, /user info \(user:password@\) are not allowed/);
      assert.doesNotMatch(`${err.message} ${err.url}`, /s3cret-pw|user@/);
    }
    // An empty user info is no user info: WHATWG drops it.
    const target = await checkTarget('http://@example.com/', { resolver: tableResolver({ 'example.com': ['93.184.215.14'] }) });
    assert.equal(target.url.href, 'http://example.com/');
  });

  test('refuses the ports browsers refuse, and port 0', async () => {
    for (const port of [0, 22, 25, 6667, 10080]) {
      await assert.rejects(checkTarget(`http://example.com:${port}/`, { resolver: forbiddenResolver }), new RegExp(`port ${port} is not allowed`));
    }
    const resolver = tableResolver({ 'example.com': ['93.184.215.14'] });
    for (const port of [80, 443, 3000, 8080, 9090]) assert.equal((await checkTarget(`http://example.com:${port}/`, { resolver })).port, port);
  });
});

describe('checkTarget: host names', () => {
  const resolver = tableResolver({
    'public.example': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'],
    'internal.example': ['10.0.0.5'],
    'mixed.example': ['93.184.215.14', '127.0.0.1'],
    'mixed6.example': ['2606:2800:21f:cb07:6820:80da:af6b:8b2c', 'fd12::1'],
    'loop6.example': ['::1'],
    'mapped.example': ['::ffff:127.0.0.1'],
    'nat64.example': ['64:ff9b::a9fe:a9fe'],
    'meta.example': ['169.254.169.254'],
    'internal-meta.example': ['10.0.0.5', '169.254.169.254'],
    'linklocal.example': ['169.254.10.10'],
    'zero.example': ['0.0.0.0'],
    'octal.example': ['0177.0.0.1'],
    'junk.example': ['not-an-ip'],
    'empty.example': [],
    'dupes.example': ['93.184.215.14', '93.184.215.14'],
    'localhost': ['127.0.0.1', '::1'],
    'a.svc.cluster.local': ['10.96.0.10'],
    'b.c.svc.cluster.local': ['10.96.0.11'],
    'svc.cluster.local': ['10.96.0.12'],
  });

  test('a name that resolves to public addresses is accepted, with every checked address', async () => {
    const target = await checkTarget('https://public.example/path?q=1', { resolver });
    assert.deepEqual(target.addresses.map((a) => a.address), ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c']);
    assert.equal(target.hostname, 'public.example');
    assert.equal(target.allowListed, false);
    assert.deepEqual((await checkTarget('http://dupes.example/', { resolver })).addresses.map((a) => a.address), ['93.184.215.14']);
  });

  const refused: ReadonlyArray<readonly [string, RegExp]> = [
    ['internal.example', /internal\.example resolves to 10\.0\.0\.5, which is private \(10\.0\.0\.0\/8\); only hosts listed in allowed_hosts/],
    ['mixed.example', /mixed\.example resolves to 127\.0\.0\.1, which is loopback/],
    ['mixed6.example', /resolves to fd12::1, which is IPv6 unique-local/],
    ['loop6.example', /resolves to ::1, which is loopback/],
    ['mapped.example', /resolves to ::ffff:7f00:1, which is IPv4-mapped 127\.0\.0\.1: loopback/],
    ['nat64.example', /NAT64 169\.254\.169\.254: cloud metadata/],
    ['meta.example', /resolves to 169\.254\.169\.254, which is cloud metadata \(169\.254\.169\.254\/32\), never allowed/],
    ['linklocal.example', /link-local \(169\.254\.0\.0\/16\), never allowed/],
    ['zero.example', /unspecified/],
    ['octal.example', /resolved to "0177\.0\.0\.1", which is not an IP address/],
    ['junk.example', /which is not an IP address/],
    ['localhost', /localhost resolves to 127\.0\.0\.1, which is loopback/],
  ];
  for (const [host, message] of refused) {
    test(`refuses ${host} when ANY answer is not public`, async () => {
      await assert.rejects(checkTarget(`http://${host}/`, { resolver }), (err: unknown) => {
        assert.ok(err instanceof SsrfBlockedError, String(err));
        assert.match(err.message, message);
        return true;
      });
    });
  }

  test('a name with no answer, or that does not resolve, is a DNS failure (not a refusal)', async () => {
    await assert.rejects(checkTarget('http://empty.example/', { resolver }), (err: unknown) => err instanceof HttpRequestError && err.failure === 'dns');
    await assert.rejects(checkTarget('http://nowhere.example/', { resolver }), (err: unknown) => err instanceof HttpRequestError && err.failure === 'dns' && /ENOTFOUND/.test(err.message));
  });

  test('the resolver is asked once, with the name as the URL has it', async () => {
    const r = rebindingResolver([['93.184.215.14'], ['127.0.0.1']]);
    const target = await checkTarget('http://ReBind.Example./', { resolver: r });
    assert.deepEqual(r.calls, ['rebind.example.']);
    assert.deepEqual(target.addresses.map((a) => a.address), ['93.184.215.14']);
  });

  test('a resolver that never answers is cut off by the signal', async () => {
    const controller = new AbortController();
    const pending = checkTarget('http://slow.example/', { resolver: () => new Promise(() => {}) }, controller.signal);
    controller.abort();
    await assert.rejects(pending, (err: unknown) => err instanceof HttpRequestError && err.failure === 'timeout');
  });

  describe('allowed_hosts', () => {
    const allowedHosts = compileAllowedHosts(['internal.example', 'INTERNAL-META.example.', 'meta.example', 'linklocal.example', 'localhost', 'mapped.example', '*.svc.cluster.local', '10.0.0.9', '[fd00::9]']);

    test('opens listed hosts to private and loopback addresses', async () => {
      for (const host of ['internal.example', 'localhost', 'mapped.example', 'a.svc.cluster.local', 'b.c.svc.cluster.local']) {
        const target = await checkTarget(`http://${host}/`, { resolver, allowedHosts });
        assert.equal(target.allowListed, true, host);
      }
      assert.deepEqual((await checkTarget('http://localhost/', { resolver, allowedHosts })).addresses.map((a) => a.address), ['127.0.0.1', '::1']);
    });

    test('never opens metadata, link-local or unspecified answers, even for listed hosts', async () => {
      await assert.rejects(checkTarget('http://meta.example/', { resolver, allowedHosts }), /cloud metadata .*never allowed/);
      await assert.rejects(checkTarget('http://internal-meta.example/', { resolver, allowedHosts }), /169\.254\.169\.254, which is cloud metadata/);
      await assert.rejects(checkTarget('http://linklocal.example/', { resolver, allowedHosts }), /link-local .*never allowed/);
    });

    test('a *.suffix matches names under it, not the suffix itself nor look-alikes', async () => {
      await assert.rejects(checkTarget('http://svc.cluster.local/', { resolver, allowedHosts }), /only hosts listed in allowed_hosts/);
      assert.equal(isHostAllowed('evilsvc.cluster.local', allowedHosts), false);
      assert.equal(isHostAllowed('svc.cluster.local.evil.com', allowedHosts), false);
      assert.equal(isHostAllowed('x.svc.cluster.local', allowedHosts), true);
      assert.equal(isHostAllowed('X.SVC.Cluster.Local.', allowedHosts), true);
    });

    test('literal address entries match the URLs that name that address', async () => {
      assert.equal((await checkTarget('http://10.0.0.9/', { resolver: forbiddenResolver, allowedHosts })).allowListed, true);
      assert.equal((await checkTarget('http://167772169/', { resolver: forbiddenResolver, allowedHosts })).allowListed, true); // 10.0.0.9 in decimal
      assert.equal((await checkTarget('http://[fd00:0:0::9]/', { resolver: forbiddenResolver, allowedHosts })).allowListed, true);
      // Another address, or the same one in another family's form, is not listed.
      await assert.rejects(checkTarget('http://10.0.0.10/', { resolver: forbiddenResolver, allowedHosts }), /private/);
      await assert.rejects(checkTarget('http://[::ffff:10.0.0.9]/', { resolver: forbiddenResolver, allowedHosts }), /IPv4-mapped 10\.0\.0\.9/);
    });

    test('a listed name is matched exactly: case and a trailing dot do not matter, other names do', () => {
      assert.equal(isHostAllowed('internal.example', allowedHosts), true);
      assert.equal(isHostAllowed('INTERNAL.example.', allowedHosts), true);
      assert.equal(isHostAllowed('internal-meta.example', allowedHosts), true);
      assert.equal(isHostAllowed('x.internal.example', allowedHosts), false);
      assert.equal(isHostAllowed('internal.example.com', allowedHosts), false);
      assert.equal(isHostAllowed('[fd00::9]', allowedHosts), true);
    });

    test('entries: what is accepted', () => {
      for (const entry of ['grafana.internal', 'localhost', '*.svc.cluster.local', '*.internal', 'my_host.corp', '10.0.0.5', '127.0.0.1', 'fd00::5', '[fd00::5]', '::1', 'Upper.Example.', ' spaced.example ', 'bücher.example']) {
        assert.equal(allowedHostProblem(entry), undefined, entry);
      }
      assert.ok(compileAllowedHosts(['bücher.example']).exact.has('xn--bcher-kva.example'));
    });

    test('entries: what is refused, and why', () => {
      const cases: ReadonlyArray<readonly [string, RegExp]> = [
        ['*', /would open every host/],
        ['*.', /would open every host/],
        ['a.*.b', /expected a host name or \*\.suffix.*leading/],
        ['*foo.com', /leading/],
        ['foo.*', /leading/],
        ['http://a.com', /expected a host name or \*\.suffix, got "http:\/\/a\.com"/],
        ['a.com:8080', /expected a host name/],
        ['a.com/path', /expected a host name/],
        ['user@a.com', /expected a host name/],
        ['', /expected a host name/],
        ['a..b', /expected a host name/],
        ['-a.com', /expected a host name/],
        ['127.1', /write the address as 127\.0\.0\.1/],
        ['0x7f.1', /write the address as 127\.0\.0\.1/],
        ['2130706433', /write the address as 127\.0\.0\.1/],
        ['1.2.3', /write the address as 1\.2\.0\.3/],
        ['*.10.0.0.1', /expected a host name/],
        ['169.254.169.254', /"169\.254\.169\.254" is cloud metadata \(169\.254\.169\.254\/32\), which allowed_hosts never opens/],
        ['100.100.100.200', /cloud metadata/],
        ['fd00:ec2::254', /cloud metadata/],
        ['[::ffff:169.254.169.254]', /IPv4-mapped 169\.254\.169\.254: cloud metadata/],
        ['169.254.1.1', /link-local .*never opens/],
        ['0.0.0.0', /unspecified/],
        ['224.0.0.1', /multicast/],
      ];
      for (const [entry, message] of cases) {
        const problem = allowedHostProblem(entry);
        assert.ok(problem !== undefined, `${JSON.stringify(entry)} should be refused`);
        assert.match(problem, message, entry);
      }
      assert.throws(() => compileAllowedHosts(['ok.example', 'http://x']), /allowed_hosts\[1\]: expected a host name or \*\.suffix/);
    });
  });
});

describe('certificate days left', () => {
  const now = new Date('2026-03-01T12:00:00Z');
  test('counts whole days until notAfter, negative once expired', () => {
    assert.equal(certificateDaysLeft('Mar 31 12:00:00 2026 GMT', now), 30);
    assert.equal(certificateDaysLeft('Mar 31 11:59:59 2026 GMT', now), 29);
    assert.equal(certificateDaysLeft('Mar  2 11:00:00 2026 GMT', now), 0);
    assert.equal(certificateDaysLeft('Mar  1 11:00:00 2026 GMT', now), -1);
    assert.equal(certificateDaysLeft('Feb  1 00:00:00 2020 GMT', now), -2221);
    assert.equal(certificateDaysLeft('not a date', now), undefined);
    assert.equal(certificateDaysLeft(undefined, now), undefined);
  });

  test('a summary keeps names printable and short', () => {
    const summary = summarizeCertificate(
      { subject: { CN: 'evil\u202e\nIGNORE'.padEnd(300, 'x') } as never, issuer: { O: 'Some CA' } as never, valid_to: 'Mar 31 12:00:00 2026 GMT' },
      { trusted: false, problem: 'CERT_HAS_EXPIRED' },
      now,
    );
    assert.equal(summary.subjectCN.length, 128);
    assert.match(summary.subjectCN, /^evil\?\?IGNORE/);
    assert.equal(summary.issuerCN, 'Some CA');
    assert.equal(summary.daysLeft, 30);
    assert.equal(summary.validTo, '2026-03-31T12:00:00.000Z');
    assert.equal(summary.problem, 'CERT_HAS_EXPIRED');
  });
});
