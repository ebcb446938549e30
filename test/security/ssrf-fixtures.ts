/**
 * Local servers, resolvers and certificates for the SSRF guard's tests. Everything listens on
 * 127.0.0.1 (or 127.0.0.2) and records what reached it, so a test can prove that a refused
 * request never arrived.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import type { HostResolver, ResolvedAddress } from '../../src/index.ts';

/** What a test server saw. */
export interface SeenRequest {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
}

export interface TestServer {
  port: number;
  host: string;
  /** `http(s)://host:port` + path. */
  url(path?: string): string;
  requests: SeenRequest[];
  /** TCP connections accepted (TLS or not), whether or not a request followed. */
  connections: number;
  /** For TLS servers: the SNI name of each TLS handshake that sent one, as the server read it. */
  servernames: string[];
  close(): Promise<void>;
}

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

/** An HTTP server on `host` (default 127.0.0.1), port `port` (default any free one). */
export async function startServer(handler: Handler, options: { host?: string; port?: number } = {}): Promise<TestServer> {
  return listen(http.createServer(), handler, options, 'http');
}

/** An HTTPS server with `cert`/`key` (PEM). */
export async function startTlsServer(tls: { cert: string; key: string }, handler: Handler, options: { host?: string; port?: number } = {}): Promise<TestServer> {
  const servernames: string[] = [];
  // SNICallback runs while the server reads the ClientHello, before the client has judged the
  // certificate, so it sees the name even when the client then drops the connection.
  const sniCallback = (name: string, done: (err: Error | null) => void): void => {
    servernames.push(name);
    done(null);
  };
  const server = await listen(https.createServer({ cert: tls.cert, key: tls.key, SNICallback: sniCallback }), handler, options, 'https');
  server.servernames = servernames;
  return server;
}

async function listen(server: http.Server, handler: Handler, options: { host?: string; port?: number }, scheme: string): Promise<TestServer> {
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<Socket>();
  const state: TestServer = {
    port: 0,
    host,
    url: (path = '/') => `${scheme}://${host.includes(':') ? `[${host}]` : host}:${state.port}${path}`,
    requests: [],
    connections: 0,
    servernames: [],
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  server.on('connection', (socket: Socket) => {
    state.connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    state.requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    handler(req, res);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  state.port = (server.address() as AddressInfo).port;
  return state;
}

/** A resolver answering from a table; records each name it was asked. Unknown names fail. */
export function tableResolver(table: Record<string, readonly string[]>): HostResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = async (hostname: string): Promise<ResolvedAddress[]> => {
    calls.push(hostname);
    const answers = table[hostname];
    if (answers === undefined) throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return answers.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolver, { calls });
}

/** A resolver whose answer changes on every lookup (DNS rebinding): answers[0], answers[1], … then the last. */
export function rebindingResolver(answers: ReadonlyArray<readonly string[]>): HostResolver & { calls: string[] } {
  const calls: string[] = [];
  const resolver = async (hostname: string): Promise<ResolvedAddress[]> => {
    const answer = answers[Math.min(calls.length, answers.length - 1)]!;
    calls.push(hostname);
    return answer.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(resolver, { calls });
}

/** A resolver that must not be called (literal addresses are never resolved). */
export const forbiddenResolver: HostResolver = async (hostname) => {
  throw new Error(`resolver called for ${hostname}`);
};

/** Whether `openssl` can be run here (the TLS tests need it to make certificates). */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/**
 * A self-signed certificate made now with openssl: valid for `days` from now, or between
 * `startDate` and `endDate` (`YYYYMMDDHHMMSSZ`, for an already expired one).
 */
export function selfSignedCertificate(options: { cn: string; sans: string; days?: number; startDate?: string; endDate?: string }): { cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'mithai-ssrf-cert-'));
  try {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    if (options.startDate === undefined) {
      execFileSync('openssl', [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
        '-keyout', key, '-out', cert, '-days', String(options.days ?? 30),
        '-subj', `/CN=${options.cn}`, '-addext', `subjectAltName=${options.sans}`,
      ], { stdio: 'ignore' });
    } else {
      // `openssl req -x509` cannot backdate; a one-off self-signing CA database can.
      writeFileSync(join(dir, 'index.txt'), '');
      writeFileSync(join(dir, 'serial'), '01\n');
      writeFileSync(join(dir, 'ca.cnf'), [
        '[ca]', 'default_ca = d', '[d]', `database = ${join(dir, 'index.txt')}`, `serial = ${join(dir, 'serial')}`,
        `new_certs_dir = ${dir}`, 'default_md = sha256', 'policy = p', 'copy_extensions = copy', 'unique_subject = no',
        '[p]', 'commonName = supplied', '[req]', 'distinguished_name = dn', 'prompt = no', '[dn]', `CN = ${options.cn}`, '',
      ].join('\n'));
      const csr = join(dir, 'req.csr');
      execFileSync('openssl', [
        'req', '-new', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr,
        '-config', join(dir, 'ca.cnf'), '-addext', `subjectAltName=${options.sans}`,
      ], { stdio: 'ignore' });
      execFileSync('openssl', [
        'ca', '-batch', '-config', join(dir, 'ca.cnf'), '-selfsign', '-keyfile', key, '-in', csr, '-out', cert,
        '-startdate', options.startDate, '-enddate', options.endDate ?? options.startDate,
      ], { stdio: 'ignore' });
    }
    return { cert: readFileSync(cert, 'utf8'), key: readFileSync(key, 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Respond with `status` and a text body. */
export function text(res: http.ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** Redirect with `status` to `location`. */
export function redirect(res: http.ServerResponse, location: string, status = 302, headers: Record<string, string> = {}): void {
  res.writeHead(status, { location, 'content-length': 0, ...headers });
  res.end();
}
