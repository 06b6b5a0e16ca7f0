import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { InputError } from './errors.ts';

/**
 * Input files as numbered lines. Plain text and gzip are told apart by the
 * gzip magic bytes, not the file name, so `.json.gz` export files, renamed
 * files and gzip on stdin all work. Lines are cut at the byte level, so a
 * line number is always exact, including for invalid UTF-8 and truncated
 * gzip, and memory holds one read chunk plus one partial line.
 */

export const STDIN_NAME = '<stdin>';

export interface InputSource {
  /** Name used in messages: the path as given, or <stdin>. */
  readonly name: string;
  /** Size in bytes as stored (compressed for gzip), when known. */
  readonly size: number | undefined;
  open(): AsyncIterable<Buffer>;
}

/** A file named on the command line; fails up front, before any output exists, when it cannot be read. */
export async function fileInput(path: string): Promise<InputSource> {
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    throw new Error(`${path}: cannot read: ${(error as Error).message}`);
  }
  if (!info.isFile()) throw new Error(`${path}: cannot read: not a regular file`);
  return { name: path, size: info.size, open: () => createReadStream(path, { highWaterMark: 256 * 1024 }) };
}

export function streamInput(stream: NodeJS.ReadableStream, name = STDIN_NAME): InputSource {
  return { name, size: undefined, open: () => stream as AsyncIterable<Buffer> };
}

/** A run of consecutive lines; `lines[i]` is line number `first + i` (1-based). */
export interface LineChunk {
  readonly first: number;
  readonly lines: readonly string[];
}

export interface ReadOptions {
  /** Called with the count of stored (possibly compressed) bytes as they are read. */
  readonly onBytes?: (n: number) => void;
}

const GZIP_MAGIC_0 = 0x1f;
const GZIP_MAGIC_1 = 0x8b;
const NEWLINE = 0x0a;
const CR = 0x0d;

export async function* readLines(source: InputSource, options: ReadOptions = {}): AsyncGenerator<LineChunk> {
  let line = 0;
  const pending: Buffer[] = [];
  const take = (buf: Buffer, start: number, end: number): string => {
    line++;
    let bytes = buf.subarray(start, end);
    if (pending.length > 0) {
      bytes = Buffer.concat([...pending, bytes]);
      pending.length = 0;
    }
    return decodeLine(bytes, source.name, line);
  };
  try {
    for await (const chunk of decompressed(counted(source.open(), options.onBytes))) {
      const first = line + 1;
      const lines: string[] = [];
      let start = 0;
      for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
        lines.push(take(chunk, start, nl));
        start = nl + 1;
      }
      if (start < chunk.length) pending.push(Buffer.from(chunk.subarray(start)));
      if (lines.length > 0) yield { first, lines };
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(source.name, line + 1, readProblem(error));
  }
  if (pending.length > 0) {
    const rest = Buffer.concat(pending);
    pending.length = 0;
    yield { first: line + 1, lines: [take(rest, 0, rest.length)] };
  }
}

/** A run of whole lines as raw bytes, for a worker to decode: line `first` starts at byte 0. */
export interface LineBlock {
  readonly first: number;
  readonly count: number;
  /** The lines' bytes including their newlines (the last line of the input may have none). */
  readonly bytes: Uint8Array;
}

/**
 * Cuts the (decompressed) input into blocks of whole lines of about
 * `targetBytes` each. Where a block ends depends only on the content, not
 * on how the input arrived in chunks, so the same input always gives the
 * same blocks. Each block's bytes are a buffer of their own (transferable).
 */
export async function* readLineBlocks(source: InputSource, targetBytes: number, options: ReadOptions = {}): AsyncGenerator<LineBlock> {
  let line = 0;
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let pendingLines = 0;
  const cut = (): LineBlock => {
    const bytes = new Uint8Array(pendingBytes);
    let at = 0;
    for (const p of pending) {
      bytes.set(p, at);
      at += p.length;
    }
    const block = { first: line - pendingLines + 1, count: pendingLines, bytes };
    pending = [];
    pendingBytes = 0;
    pendingLines = 0;
    return block;
  };
  try {
    for await (const chunk of decompressed(counted(source.open(), options.onBytes))) {
      let start = 0;
      for (let nl = chunk.indexOf(NEWLINE); nl !== -1; nl = chunk.indexOf(NEWLINE, start)) {
        pending.push(chunk.subarray(start, nl + 1));
        pendingBytes += nl + 1 - start;
        pendingLines++;
        line++;
        start = nl + 1;
        if (pendingBytes >= targetBytes) yield cut();
      }
      if (start < chunk.length) {
        pending.push(Buffer.from(chunk.subarray(start)));
        pendingBytes += chunk.length - start;
      }
    }
  } catch (error) {
    if (error instanceof InputError) throw error;
    throw new InputError(source.name, line + 1, readProblem(error));
  }
  // A last line without a newline still counts.
  if (pendingBytes > 0 && pending.length > 0 && pending[pending.length - 1]![pending[pending.length - 1]!.length - 1] !== NEWLINE) {
    pendingLines++;
    line++;
  }
  if (pendingBytes > 0) yield cut();
}

/** The lines of a block, decoded exactly as readLines decodes them. */
export function blockLines(block: LineBlock, name: string): string[] {
  const bytes = Buffer.from(block.bytes.buffer, block.bytes.byteOffset, block.bytes.byteLength);
  const lines: string[] = [];
  let start = 0;
  for (let i = 0; i < block.count; i++) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1) end = bytes.length;
    lines.push(decodeLine(bytes.subarray(start, end), name, block.first + i));
    start = end + 1;
  }
  return lines;
}

function decodeLine(bytes: Buffer, name: string, line: number): string {
  let end = bytes.length;
  if (end > 0 && bytes[end - 1] === CR) end--;
  const body = bytes.subarray(0, end);
  if (!isUtf8(body)) throw new InputError(name, line, 'the line is not valid UTF-8');
  const text = body.toString('utf8');
  return line === 1 && text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

function readProblem(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  const message = error instanceof Error ? error.message : String(error);
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return `the gzip data is ${code === 'Z_BUF_ERROR' ? 'truncated' : 'corrupt'} (${message}); the file may be incomplete`;
  }
  return `cannot read: ${message}`;
}

async function* counted(raw: AsyncIterable<Buffer | string>, onBytes: ((n: number) => void) | undefined): AsyncGenerator<Buffer> {
  for await (const chunk of raw) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    onBytes?.(buf.length);
    yield buf;
  }
}

/** The bytes as they are, or gunzipped when they start with the gzip magic number. */
async function* decompressed(raw: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const it = raw[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headBytes = 0;
  let done = false;
  while (headBytes < 2 && !done) {
    const next = await it.next();
    if (next.done) done = true;
    else {
      head.push(next.value);
      headBytes += next.value.length;
    }
  }
  const all = async function* (): AsyncGenerator<Buffer> {
    yield* head;
    if (done) return;
    for (let next = await it.next(); !next.done; next = await it.next()) yield next.value;
  };
  const first = head.length === 0 ? undefined : Buffer.concat(head.slice(0, 2));
  if (first && first[0] === GZIP_MAGIC_0 && first[1] === GZIP_MAGIC_1) {
    const gunzip = pipeline(Readable.from(all()), createGunzip(), () => {});
    yield* gunzip as AsyncIterable<Buffer>;
  } else {
    yield* all();
  }
}
