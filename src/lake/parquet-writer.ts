import { dataColumns } from '../schema/row-schema.ts';
import type { RowBatch } from '../flatten/row-batch.ts';
import { defaultCodec, type CodecName } from './parquet/compress.ts';
import { encodeParquetFile, ParquetFileWriter, type ColumnInput, type ColumnValues, type EncodedRowGroup } from './parquet/encoder.ts';

/**
 * Rows to Parquet: the single place that does it, for the Lambda, the CLI
 * and npm start. Column order and types come from the row schema; the
 * partition column dt is not stored in the file (it is in the object path).
 */

export const CREATED_BY = 'ddb-flatten version 0.1.0';

/**
 * The batch's columns in schema order, as the encoder takes them: row-level
 * columns as arrays, version-level columns (pk, event columns, carried
 * attributes) as their per-version values plus each row's version index.
 * `rows` restricts the output to some row positions (one dt partition).
 */
export function columnInputs(batch: RowBatch, rows?: readonly number[]): ColumnInput[] {
  let index: ArrayLike<number> = batch.version;
  let versions: number[] | undefined;
  if (rows) {
    // Keep only the versions these rows use, so dictionaries and statistics describe this file alone.
    const remap = new Map<number, number>();
    versions = [];
    index = rows.map((i) => {
      const v = batch.version[i]!;
      let compact = remap.get(v);
      if (compact === undefined) {
        compact = versions!.length;
        remap.set(v, compact);
        versions!.push(v);
      }
      return compact;
    });
  }
  const perRow = (values: readonly unknown[]): ColumnInput => (rows ? rows.map((i) => values[i]) : values) as ColumnInput;
  const perVersion = (values: readonly unknown[]): ColumnInput => ({
    values: (versions ? versions.map((v) => values[v]) : values) as ColumnValues,
    index,
  });
  const byName: Record<string, ColumnInput> = {
    pk: perVersion(batch.pk),
    sk: perVersion(batch.sk),
    attribute: perRow(batch.attribute),
    item_index: perRow(batch.item_index),
    key: perRow(batch.key),
    value: perRow(batch.value),
    value_type: perRow(batch.value_type),
    event_name: perVersion(batch.event_name),
    event_time: perVersion(batch.event_time),
    sequence: perVersion(batch.sequence),
  };
  batch.carried.forEach((name, c) => (byName[name] = perVersion(batch.carriedValues[c]!)));
  return dataColumns(batch.carried).map((column) => byName[column.name]!);
}

export interface EncodeOptions {
  readonly codec?: CodecName;
}

/** Encodes the batch (or the given row positions of it) as one Parquet file. */
export function encodeParquet(batch: RowBatch, rows?: readonly number[], options: EncodeOptions = {}): Buffer {
  return encodeParquetFile(dataColumns(batch.carried), columnInputs(batch, rows), rows ? rows.length : batch.length, {
    codec: options.codec ?? defaultCodec(),
    createdBy: CREATED_BY,
  });
}

/** A Parquet file written row group by row group, for inputs that do not fit in memory. */
export function streamingParquetWriter(carried: readonly string[], emit: (chunk: Buffer) => void, options: EncodeOptions = {}) {
  const writer = new ParquetFileWriter(dataColumns(carried), emit, {
    codec: options.codec ?? defaultCodec(),
    createdBy: CREATED_BY,
  });
  return {
    writeBatch(batch: RowBatch): void {
      writer.writeRowGroup(columnInputs(batch), batch.length);
    },
    /** A row group encoded elsewhere (a worker thread), appended as is. */
    appendRowGroup(group: EncodedRowGroup): void {
      writer.appendRowGroup(group);
    },
    finish(): void {
      writer.finish();
    },
  };
}
