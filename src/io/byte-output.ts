import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { open, rename, rm, type FileHandle } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { RowBatch } from '../flatten/row-batch.ts';
import { streamingParquetWriter } from '../lake/parquet-writer.ts';
import type { BlockOutput } from './parallel-export.ts';
import { OutputClosedError } from './errors.ts';

/**
 * Where output bytes go. A file is written to a temporary name beside it
 * and renamed into place only when everything succeeded, so a failed or
 * interrupted run leaves nothing behind. Standard output cannot be taken
 * back: it is streamed as rows are flattened, and a failure says how much
 * was already written.
 */
export interface ByteOutput {
  /** Human-readable destination for messages. */
  readonly name: string;
  /** True when bytes written cannot be withdrawn on failure (stdout). */
  readonly streaming: boolean;
  write(chunk: Buffer | string): Promise<void>;
  /** Makes the output final (rename into place / flush). */
  commit(): Promise<void>;
  /** Discards whatever was written, if it can. Safe to call more than once. */
  abort(): Promise<void>;
  /** Synchronous last-resort cleanup for signal handlers. */
  abortSync(): void;
}

/**
 * `onInterrupt` registers a synchronous cleanup for SIGINT/SIGTERM. It is
 * registered before the temporary file is created, so there is no moment
 * at which an interrupt can leave it behind.
 */
export async function atomicFileOutput(path: string, onInterrupt?: (cleanup: () => void) => () => void): Promise<ByteOutput> {
  const temp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.partial`);
  const unregister = onInterrupt?.(() => rmSync(temp, { force: true })) ?? (() => {});
  let handle: FileHandle | undefined;
  try {
    handle = await open(temp, 'wx');
  } catch (error) {
    unregister();
    throw new Error(`--out ${path}: cannot create a file in ${dirname(path)}: ${(error as Error).message}`);
  }
  let finished = false;
  const fh = handle;
  return {
    name: path,
    streaming: false,
    async write(chunk) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      for (let offset = 0; offset < bytes.length; ) {
        const { bytesWritten } = await fh.write(bytes, offset, bytes.length - offset);
        offset += bytesWritten;
      }
    },
    async commit() {
      await fh.sync();
      await fh.close();
      await rename(temp, path);
      finished = true;
      unregister();
    },
    async abort() {
      if (finished) return;
      finished = true;
      await fh.close().catch(() => {});
      await rm(temp, { force: true });
      unregister();
    },
    abortSync() {
      if (finished) return;
      finished = true;
      rmSync(temp, { force: true });
      unregister();
    },
  };
}

/** Standard output with back-pressure; a reader that goes away (`| head`) ends the run quietly. */
export function streamOutput(stream: NodeJS.WritableStream & { isTTY?: boolean }, name = 'standard output'): ByteOutput {
  let closed = false;
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE' || error.code === 'ERR_STREAM_DESTROYED') closed = true;
  });
  return {
    name,
    streaming: true,
    async write(chunk) {
      if (closed) throw new OutputClosedError();
      if (!stream.write(chunk)) {
        await Promise.race([once(stream, 'drain'), once(stream, 'close')]);
        if (closed) throw new OutputClosedError();
      }
    },
    async commit() {},
    async abort() {},
    abortSync() {},
  };
}

export const FORMATS = ['jsonl', 'parquet'] as const;
export type OutputFormat = (typeof FORMATS)[number];

/** Rows to bytes in one format; `write` is called once per batch, `finish` once at the end. */
export interface RowWriter {
  write(batch: RowBatch): Promise<void>;
  /** Output a worker thread already encoded in this format. */
  writeEncoded(block: BlockOutput): Promise<void>;
  finish(): Promise<void>;
}

/** One JSON object per row, keys exactly the schema's column names in schema order. */
export function jsonlWriter(out: ByteOutput): RowWriter {
  return {
    async write(batch) {
      if (batch.length === 0) return;
      let text = '';
      for (const row of batch.rows()) text += `${JSON.stringify(row)}\n`;
      await out.write(text);
    },
    async writeEncoded(block) {
      if (!('jsonl' in block)) throw new Error('expected JSONL output from the worker');
      await out.write(Buffer.from(block.jsonl.buffer, block.jsonl.byteOffset, block.jsonl.byteLength));
    },
    async finish() {},
  };
}

/** A Parquet file with one row group per batch, from the same writer as the Lambda. */
export function parquetWriter(out: ByteOutput, carried: readonly string[]): RowWriter {
  let pending: Buffer[] = [];
  const writer = streamingParquetWriter(carried, (chunk) => pending.push(chunk));
  const flush = async (): Promise<void> => {
    const chunks = pending;
    pending = [];
    if (chunks.length > 0) await out.write(Buffer.concat(chunks));
  };
  return {
    async write(batch) {
      writer.writeBatch(batch);
      await flush();
    },
    async writeEncoded(block) {
      if (!('rowGroup' in block)) throw new Error('expected a Parquet row group from the worker');
      writer.appendRowGroup(block.rowGroup);
      await flush();
    },
    async finish() {
      writer.finish();
      await flush();
    },
  };
}

export function rowWriter(format: OutputFormat, out: ByteOutput, carried: readonly string[]): RowWriter {
  return format === 'parquet' ? parquetWriter(out, carried) : jsonlWriter(out);
}
