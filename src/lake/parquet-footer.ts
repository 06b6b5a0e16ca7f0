import * as zlib from 'node:zlib';
import { parquetMetadataAsync, parquetRead, type AsyncBuffer } from 'hyparquet';
import type { LakeStore, StoredObject } from './lake-store.ts';

/**
 * What maintenance reads of the few small Parquet objects an engine wrote
 * for it: the row count from a footer (one or two ranged reads, never the
 * data), and the values of one column of a small result (the days an
 * erasure must rewrite). The lake's own data is only ever read by the engine.
 */

function asyncBuffer(store: LakeStore, object: StoredObject): AsyncBuffer {
  return {
    byteLength: object.size,
    slice: async (start: number, end?: number): Promise<ArrayBuffer> => {
      const bytes = await store.readRange(object.key, start, end ?? object.size);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

function unreadable(store: LakeStore, object: StoredObject, error: unknown): Error {
  return new Error(`${store.describe(object.key)}: not a readable Parquet file (${(error as Error).message})`, { cause: error });
}

export async function parquetRowCount(store: LakeStore, object: StoredObject): Promise<number> {
  try {
    return Number((await parquetMetadataAsync(asyncBuffer(store, object))).num_rows);
  } catch (error) {
    throw unreadable(store, object, error);
  }
}

// Looked up, not imported: node:zlib has zstd from Node 22.15 on (the Lambda runtime nodejs22.x has it).
const zstdDecompressSync = (zlib as { zstdDecompressSync?: (input: Uint8Array) => Buffer }).zstdDecompressSync;
const COMPRESSORS = {
  ZSTD: (input: Uint8Array) => {
    if (!zstdDecompressSync) throw new Error(`this Node.js (${process.version}) cannot read ZSTD Parquet (node:zlib has zstd from Node.js 22.15 on)`);
    return new Uint8Array(zstdDecompressSync(input));
  },
  GZIP: (input: Uint8Array) => new Uint8Array(zlib.gunzipSync(input)),
};

/** The values of one column of a small Parquet object, as text (null stays null). */
export async function parquetColumnText(store: LakeStore, object: StoredObject, column: string): Promise<(string | null)[]> {
  try {
    let rows: unknown[][] = [];
    await parquetRead({ file: asyncBuffer(store, object), columns: [column], compressors: COMPRESSORS, onComplete: (r: unknown[][]) => (rows = r) });
    return rows.map((r) => (r[0] === null || r[0] === undefined ? null : String(r[0])));
  } catch (error) {
    throw unreadable(store, object, error);
  }
}
