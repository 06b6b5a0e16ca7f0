import { parquetMetadataAsync } from 'hyparquet';
import type { LakeStore, StoredObject } from './lake-store.ts';

/**
 * The number of rows a Parquet object holds, from its footer alone (one or
 * two ranged reads, never the data). Maintenance reads it of the few objects
 * an engine wrote, to check a statement's output before the originals go.
 */
export async function parquetRowCount(store: LakeStore, object: StoredObject): Promise<number> {
  const buffer = {
    byteLength: object.size,
    slice: async (start: number, end?: number): Promise<ArrayBuffer> => {
      const bytes = await store.readRange(object.key, start, end ?? object.size);
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
  try {
    return Number((await parquetMetadataAsync(buffer)).num_rows);
  } catch (error) {
    throw new Error(`${store.describe(object.key)}: not a readable Parquet file (${(error as Error).message})`, { cause: error });
  }
}
