import { dataColumns } from '../schema/row-schema.ts';
import type { RowBatch } from '../flatten/row-batch.ts';
import { defaultCodec, type CodecName } from './parquet/compress.ts';
import { encodeParquetFile, ParquetFileWriter } from './parquet/encoder.ts';

/**
 * Rows to Parquet: the single place that does it, for the Lambda, the CLI
 * and npm start. Column order and types come from the row schema; the
 * partition column dt is not stored in the file (it is in the object path).
 */

export const CREATED_BY = 'ddb-flatten version 0.1.0';

/** The batch's column arrays in schema order, optionally restricted to some rows (one dt partition). */
export function columnArrays(batch: RowBatch, rows?: readonly number[]): unknown[][] {
  const pick = <T>(values: readonly T[]): T[] => (rows ? rows.map((i) => values[i]!) : (values as T[]));
  const byName: Record<string, readonly unknown[]> = {
    pk: batch.pk,
    sk: batch.sk,
    attribute: batch.attribute,
    item_index: batch.item_index,
    key: batch.key,
    value: batch.value,
    value_type: batch.value_type,
    event_name: batch.event_name,
    event_time: batch.event_time,
    sequence: batch.sequence,
  };
  batch.carried.forEach((name, c) => (byName[name] = batch.carriedValues[c]!));
  return dataColumns(batch.carried).map((column) => pick(byName[column.name]!));
}

export interface EncodeOptions {
  readonly codec?: CodecName;
}

/** Encodes the batch (or the given row positions of it) as one Parquet file. */
export function encodeParquet(batch: RowBatch, rows?: readonly number[], options: EncodeOptions = {}): Buffer {
  const arrays = columnArrays(batch, rows) as (string | number | null)[][];
  return encodeParquetFile(dataColumns(batch.carried), arrays, rows ? rows.length : batch.length, {
    codec: options.codec ?? defaultCodec(),
    createdBy: CREATED_BY,
  });
}

/** A Parquet file written row group by row group, for inputs that do not fit in memory. */
export function streamingParquetWriter(carried: readonly string[], emit: (chunk: Buffer) => void, options: EncodeOptions = {}) {
  const writer = new ParquetFileWriter(dataColumns(carried), emit, { codec: options.codec ?? defaultCodec(), createdBy: CREATED_BY });
  return {
    writeBatch(batch: RowBatch): void {
      writer.writeRowGroup(columnArrays(batch) as (string | number | null)[][], batch.length);
    },
    finish(): void {
      writer.finish();
    },
  };
}
