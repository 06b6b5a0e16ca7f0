import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';

/**
 * A small HTTP proxy in front of moto that injects the faults a real S3
 * produces and moto never does: 503 SlowDown, connections reset mid-request,
 * and requests that hang until the caller gives up (a Lambda timeout), then
 * are dropped or, with hangMs, land late.
 */
export type Fault = 'pass' | 'slowdown' | 'reset' | 'hang';

export interface FaultProxyOptions {
  /**
   * How long a hung request is held. Unset: until releaseHung(), and it
   * never reaches moto. Set: it is then forwarded, so a write whose caller
   * gave up (a timed-out invocation) lands late, as a request already on
   * its way to S3 does.
   */
  readonly hangMs?: number;
}

export interface FaultProxy {
  readonly endpoint: string;
  /** Requests seen, by the fault applied. */
  readonly counts: Record<Fault, number>;
  /** Decides the fault for each request; PutObject requests only by default. */
  decide: (req: IncomingMessage) => Fault;
  /** Hung requests that were forwarded after hangMs (writes that landed late). */
  readonly landedLate: number;
  /** Drops every hanging request (their writes never reach moto). */
  releaseHung(): void;
  close(): Promise<void>;
}

/** A path-style S3 PutObject: PUT /bucket/key with no multipart or subresource query. */
export function isPutObject(req: IncomingMessage): boolean {
  if (req.method !== 'PUT') return false;
  const url = new URL(req.url ?? '/', 'http://x');
  return url.pathname.split('/').filter(Boolean).length >= 2 && !url.search.includes('uploadId') && !url.search.includes('tagging');
}

const SLOW_DOWN = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>FAULTPROXY</RequestId></Error>`;

export async function startFaultProxy(target: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const upstream = new URL(target);
  const counts: Record<Fault, number> = { pass: 0, slowdown: 0, reset: 0, hang: 0 };
  const hung = new Set<Socket>();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const proxy: FaultProxy = {
    endpoint: '',
    counts,
    landedLate: 0,
    decide: () => 'pass',
    releaseHung() {
      for (const s of hung) s.destroy();
      hung.clear();
    },
    close: () =>
      new Promise((resolve) => {
        for (const t of timers) clearTimeout(t);
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };

  const forward = (req: IncomingMessage, res: ServerResponse, body?: Buffer): void => {
    const out = request(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    out.on('error', () => res.destroy());
    if (body) out.end(body);
    else req.pipe(out);
  };

  /** Holds the request (body read, nothing answered), then forwards it after hangMs unless released first. */
  const hold = (req: IncomingMessage, res: ServerResponse): void => {
    hung.add(req.socket);
    const hangMs = options.hangMs;
    if (hangMs === undefined) {
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        // Released meanwhile: it never lands. Otherwise it does, even if the caller has gone.
        if (!hung.delete(req.socket)) return;
        (proxy as { landedLate: number }).landedLate++;
        forward(req, res, Buffer.concat(chunks));
      }, hangMs);
      timers.add(timer);
    });
  };

  const server = createServer((req, res) => {
    const fault = proxy.decide(req);
    counts[fault]++;
    switch (fault) {
      case 'pass':
        forward(req, res);
        return;
      case 'slowdown':
        req.resume();
        req.on('end', () => {
          res.writeHead(503, { 'content-type': 'application/xml', 'content-length': Buffer.byteLength(SLOW_DOWN) });
          res.end(SLOW_DOWN);
        });
        return;
      case 'reset':
        req.resume();
        req.on('end', () => req.socket.destroy());
        return;
      case 'hang':
        hold(req, res);
        return;
    }
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  (proxy as { endpoint: string }).endpoint = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  return proxy;
}
