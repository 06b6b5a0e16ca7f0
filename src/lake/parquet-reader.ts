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

/** A store object as hyparquet's AsyncBuffer (ranged reads). */
export function storeBuffer(store: LakeStore, key: string, size: number): AsyncBuffer {
  return {
    byteLength: size,
    async slice(start: number, end?: number): Promise<ArrayBuffer> {
      const bytes = await store.readRange(key, start, end ?? size);
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

/** Opens a lake object: reads its footer; row groups are read on demand. */
export async function openParquet(store: LakeStore, key: string, size: number): Promise<ParquetObject> {
  const file = storeBuffer(store, key, size);
  let metadata: FileMetaData;
  try {
    metadata = await parquetMetadataAsync(file);
  } catch (error) {
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
