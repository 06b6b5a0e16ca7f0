import * as zlib from 'node:zlib';
import { parquetMetadataAsync, parquetRead, type AsyncBuffer, type FileMetaData } from 'hyparquet';
import type { LakeStore } from './lake-store.ts';

/**
 * Reading lake objects back, row group by row group, for the maintenance
 * jobs (compaction, checkpoints). hyparquet (pure JavaScript) decodes; the
 * codecs come from node:zlib, as in the writer. An object is read through
 * ranged reads, so a large one never sits in memory whole: the footer
 * first, then one row group at a time.
 */

/** One decoded row group: the file's column names and its rows as arrays in that order. */
export interface RowGroupRows {
  readonly columns: readonly string[];
  readonly rows: unknown[][];
}

// Looked up, not imported: node:zlib has zstd from Node 22.15 only, and a named import of it would
// stop the bundled CLI from loading at all on Node 20 (where the writer falls back to GZIP).
const zstdDecompressSync = (zlib as { zstdDecompressSync?: (input: Uint8Array) => Buffer }).zstdDecompressSync;

const COMPRESSORS = {
  ZSTD: (input: Uint8Array) => {
    if (!zstdDecompressSync) {
      throw new Error(`this Node.js (${process.version}) cannot read ZSTD Parquet, which the lake's objects are (node:zlib has zstd from Node.js 22.15 on): run ddb-flatten on Node.js 22.15 or newer`);
    }
    return new Uint8Array(zstdDecompressSync(input));
  },
  GZIP: (input: Uint8Array) => new Uint8Array(zlib.gunzipSync(input)),
};

/**
 * A ranged read of a lake object failed (S3 out of retries, the disk): says
 * nothing about the object's contents, unlike "not a readable Parquet file".
 * The store's error is the cause.
 */
export class LakeReadError extends Error {
  constructor(location: string, start: number, end: number, cause: unknown) {
    const e = cause as Error;
    super(`${location}: reading bytes ${start}-${end} failed: ${e?.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e?.message ?? String(cause)}`, { cause });
    this.name = 'LakeReadError';
  }
}

/** A store object as hyparquet's AsyncBuffer (ranged reads). */
export function storeBuffer(store: LakeStore, key: string, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      let bytes: Uint8Array;
      try {
        bytes = await store.readRange(key, start, end ?? size);
      } catch (error) {
        throw new LakeReadError(store.describe(key), start, end ?? size, error);
      }
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

export interface ParquetObject {
  readonly key: string;
  readonly metadata: FileMetaData;
  readonly columns: readonly string[];
  readonly rowGroups: number;
  readonly rows: number;
  read(rowGroup: number): Promise<RowGroupRows>;
}

/**
 * Objects up to this size are read whole, in one request: a stream batch's
 * object is a few KB to a few hundred, and its footer read (hyparquet asks
 * for the last 512 KB) would fetch it all anyway before a second request
 * for the row group.
 */
export const WHOLE_OBJECT_BYTES = 1024 * 1024;

async function wholeBuffer(store: LakeStore, key: string, size: number): Promise<AsyncBuffer> {
  let bytes: Uint8Array;
  try {
    bytes = await store.readRange(key, 0, size);
  } catch (error) {
    throw new LakeReadError(store.describe(key), 0, size, error);
  }
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return { byteLength: buffer.byteLength, slice: async (start: number, end?: number) => buffer.slice(start, end ?? buffer.byteLength) };
}

/** Opens a lake object: reads its footer; row groups are read on demand (a small object is read whole at once). */
export async function openParquet(store: LakeStore, key: string, size: number): Promise<ParquetObject> {
  const file = size <= WHOLE_OBJECT_BYTES ? await wholeBuffer(store, key, size) : storeBuffer(store, key, size);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
    // A read that failed is retried by whoever runs this (the next attempt, the next run); only bytes
    // that do not decode make a bad file.
    if (error instanceof LakeReadError) throw error;
    throw new Error(`${store.describe(key)}: not a readable Parquet file (${(error as Error).message})`);
  }
  const columns = metadata.schema.slice(1).map((s) => s.name);
  const starts: number[] = [];
  let at = 0;
  for (const g of metadata.row_groups) {
    starts.push(at);
    at += Number(g.num_rows);
  }
  return {
    key,
    metadata,
    columns,
    rowGroups: metadata.row_groups.length,
    rows: Number(metadata.num_rows),
    async read(rowGroup: number): Promise<RowGroupRows> {
      const rowStart = starts[rowGroup]!;
      const rowEnd = rowStart + Number(metadata.row_groups[rowGroup]!.num_rows);
      let rows: unknown[][] = [];
      await parquetRead({ file, metadata, rowStart, rowEnd, compressors: COMPRESSORS, onComplete: (r: unknown[][]) => (rows = r) });
      // Timestamps come back as Date; the lake's rows carry epoch milliseconds.
      const time = columns.indexOf('event_time');
      if (time >= 0) for (const row of rows) if (row[time] instanceof Date) row[time] = (row[time] as Date).getTime();
      return { columns, rows };
    },
  };
}
