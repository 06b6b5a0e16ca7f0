import { createServer, request } from 'node:http';
import type { Socket } from 'node:net';

/**
 * An HTTP proxy in front of moto that records every request it forwards:
 * what the AWS provider actually sent, as evidence for what the module asks
 * of AWS (the Glue/Athena contract test) and for what is moto's doing and
 * what is ours (docs/e2e.md).
 */
export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  /** The JSON protocol's operation, e.g. "AWSGlue.CreateTable" (from X-Amz-Target). */
  readonly target?: string;
  readonly body: string;
  /** The response status moto gave. */
  status?: number;
}

export interface RecordingProxy {
  readonly endpoint: string;
  readonly requests: RecordedRequest[];
  /** The parsed JSON bodies of one operation, e.g. calls('AWSGlue.CreateTable'). */
  calls(target: string): Record<string, any>[];
  close(): Promise<void>;
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const recorded: RecordedRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        target: typeof req.headers['x-amz-target'] === 'string' ? req.headers['x-amz-target'] : undefined,
        body: body.toString('utf8'),
      };
      requests.push(recorded);
      const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
        recorded.status = answer.statusCode;
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    endpoint: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    requests,
    calls: (t) => requests.filter((r) => r.target === t).map((r) => JSON.parse(r.body || '{}') as Record<string, any>),
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
