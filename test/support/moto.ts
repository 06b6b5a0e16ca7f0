import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * A real AWS API server for the tests: moto, started on a free loopback
 * port and stopped when the test is done, whatever the outcome.
 */
export interface Moto {
  readonly endpoint: string;
  readonly port: number;
  /** The server's process id (to read its memory use, for example). */
  readonly pid: number | undefined;
  /** SDK client settings pointing at this server. */
  readonly clientConfig: {
    endpoint: string;
    region: string;
    credentials: { accessKeyId: string; secretAccessKey: string };
    forcePathStyle: boolean;
  };
  /** The tail of moto's request log, to explain a failure. */
  log(): string;
  /** Drops every resource (POST /moto-api/reset). */
  reset(): Promise<void>;
  stop(): Promise<void>;
}

export const MOTO_REGION = 'us-east-1';
export const MOTO_ACCOUNT = '123456789012';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

async function waitUntilUp(endpoint: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`moto exited with code ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`moto did not answer on ${endpoint} within 60 s:\n${log()}`);
}

export async function startMoto(env: Record<string, string> = {}): Promise<Moto> {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  // moto's request log goes to a file, not a pipe: a pipe is only drained while this
  // process's event loop runs, so a test blocked in spawnSync (terraform) would let it
  // fill up and moto would hang on its next log line.
  const logDir = mkdtempSync(join(tmpdir(), 'ddb-flatten-moto-'));
  const logPath = join(logDir, 'moto.log');
  const logFd = openSync(logPath, 'a');
  const child = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
    env: { ...process.env, MOTO_IAM_LOAD_MANAGED_POLICIES: 'true', ...env },
    stdio: ['ignore', logFd, logFd],
  });
  closeSync(logFd);
  // The tail of moto's request log: enough to explain a failure.
  const log = (): string => {
    try {
      return readFileSync(logPath, 'utf8').slice(-20_000);
    } catch {
      return '';
    }
  };
  const kill = () => child.kill('SIGKILL');
  process.once('exit', kill);
  try {
    await waitUntilUp(endpoint, child, log);
  } catch (err) {
    kill();
    throw err;
  }
  return {
    endpoint,
    port,
    pid: child.pid,
    clientConfig: {
      endpoint,
      region: MOTO_REGION,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      forcePathStyle: true,
    },
    log,
    async reset() {
      const res = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!res.ok) throw new Error(`moto reset failed: ${res.status}`);
    },
    async stop() {
      process.removeListener('exit', kill);
      if (child.exitCode === null && child.signalCode === null) {
        await new Promise<void>((resolve) => {
          child.once('exit', () => resolve());
          child.kill('SIGTERM');
          setTimeout(() => child.kill('SIGKILL'), 5_000).unref();
        });
      }
      rmSync(logDir, { recursive: true, force: true });
    },
  };
}
