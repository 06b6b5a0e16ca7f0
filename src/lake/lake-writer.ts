import type { RowBatch } from '../flatten/row-batch.ts';
import { partitionKey } from './object-key.ts';
import { encodeParquet } from './parquet-writer.ts';
import type { LakeSink } from './sink.ts';

export interface WrittenObject {
  readonly key: string;
  readonly rows: number;
  readonly bytes: number;
}

/**
 * Writes a batch as one Parquet object per dt partition, all with the same
 * deterministic name, so a retried batch overwrites what it wrote before.
 */
export async function writeBatchToLake(sink: LakeSink, prefix: string, batch: RowBatch, name: string): Promise<WrittenObject[]> {
  const partitions = batch.partitions();
  const single = partitions.size === 1;
  const written: WrittenObject[] = [];
  for (const [dt, rows] of partitions) {
    const body = encodeParquet(batch, single ? undefined : rows);
    const key = partitionKey(prefix, dt, name);
    await sink.put(key, body, 'application/vnd.apache.parquet');
    written.push({ key, rows: rows.length, bytes: body.length });
  }
  return written;
}
