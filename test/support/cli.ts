import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { CliIO } from '../../src/cli/io.ts';

export const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const CLI_MAIN = join(REPO, 'src/cli/run.ts');
export const CLI_BIN = join(REPO, 'bin/ddb-flatten.mjs');
export const START_MAIN = join(REPO, 'src/local/main.ts');

export interface ProcessResult {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

/** Runs a Node script (with the Node running the tests, i.e. Node 22) and collects its output. */
export function runNode(script: string, args: readonly string[], options: { input?: Buffer | string; cwd?: string } = {}): Promise<ProcessResult> {
  return runProcess(process.execPath, [script, ...args], options);
}

export function runProcess(
  command: string,
  args: readonly string[],
  options: { input?: Buffer | string; cwd?: string; env?: Readonly<Record<string, string>> } = {},
): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd ?? REPO,
      env: { ...process.env, DDB_FLATTEN_DEBUG: '', ...options.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => err.push(c));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString('utf8') }));
    child.stdin.on('error', () => {}); // the child may exit before reading all of its input
    child.stdin.end(options.input ?? '');
  });
}

export interface InProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Streams for running a command in-process (faster than a child for flag handling). */
export function testIO(input: Buffer | string = '', options: { stdinTTY?: boolean; now?: number } = {}) {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (c: Buffer) => out.push(c));
  stderr.on('data', (c: Buffer) => err.push(c));
  const stdin = Object.assign(Readable.from([Buffer.from(input)]), { isTTY: options.stdinTTY ?? false });
  const io: CliIO = {
    stdin,
    stdout,
    stderr,
    env: {},
    now: () => options.now ?? Date.UTC(2024, 4, 1, 12, 0, 0, 500),
    onInterrupt: () => () => {},
  };
  return { io, stdout: () => Buffer.concat(out).toString('utf8'), stderr: () => Buffer.concat(err).toString('utf8') };
}

export function tempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `ddb-flatten-${label}-`));
}

/** DynamoDB export lines (DYNAMODB_JSON) for some items. */
export function exportLines(items: readonly unknown[]): string {
  return items.map((Item) => `${JSON.stringify({ Item })}\n`).join('');
}

export function parseJsonl(text: string | Buffer): Record<string, unknown>[] {
  return text
    .toString()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
