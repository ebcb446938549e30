/**
 * A tiny HTTP proxy in front of the fake Slack's Web API for failures the fake does not model:
 * a request Slack carried out whose answer was lost (`loseAnswer`, answered 502 after the fake
 * stored the message), and a Slack that accepts connections but never answers (`blackHole`).
 */
import { createServer, request } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createServer as createTcpServer } from 'node:net';
import type { Socket } from 'node:net';

/** A running proxy or black hole; `apiUrl` goes into adapter.slack.api_url. */
export interface TestEndpoint {
  apiUrl: string;
  stop(): Promise<void>;
}

/**
 * Forward everything to `target` (an api URL ending in /api/); when `loseAnswer(method, body)`
 * says so, let the fake handle the request but answer 502 instead of its reply.
 */
export async function startProxy(target: string, loseAnswer: (method: string, body: string) => boolean): Promise<TestEndpoint> {
  const upstream = new URL(target);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const method = (req.url ?? '').replace(/^.*\/api\//, '');
      const up = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (upRes) => {
        const out: Buffer[] = [];
        upRes.on('data', (c: Buffer) => out.push(c));
        upRes.on('end', () => {
          if (loseAnswer(method, body.toString())) res.writeHead(502).end('bad gateway');
          else res.writeHead(upRes.statusCode ?? 500, upRes.headers).end(Buffer.concat(out));
        });
      });
      up.on('error', () => res.writeHead(502).end('bad gateway'));
      up.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    stop: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A server that accepts connections and never answers. */
export async function startBlackHole(): Promise<TestEndpoint> {
  const sockets = new Set<Socket>();
  const server = createTcpServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    apiUrl: `http://127.0.0.1:${port}/api/`,
    stop: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
