import { describe, FlattenError, type Item } from '../flatten/attribute-value.ts';
import type { Flattener } from '../flatten/flatten.ts';
import { RowBatch } from '../flatten/row-batch.ts';
import { appendSnapshotItem } from '../flatten/stream-record.ts';
import { InputError } from './errors.ts';
import { readLines, type InputSource } from './lines.ts';

/**
 * DynamoDB export files (DYNAMODB_JSON: one `{"Item": {...}}` per line) to
 * SNAPSHOT rows, in batches of bounded size. Used by `flatten`, and meant
 * for `backfill`, which reads the same lines from an export's data files.
 */

/** Rows per batch: a Parquet row group, and the most rows held in memory (plus one item's). */
export const DEFAULT_BATCH_ROWS = 65_536;

export interface ExportStats {
  items: number;
  rows: number;
  /** Stored bytes read so far (compressed for gzip). */
  bytes: number;
}

export interface ExportFlattenOptions {
  readonly flattener: Flattener;
  /** event_time of every row, epoch ms (already floored to the second). */
  readonly snapshotMs: number;
  readonly batchRows?: number;
  /** Updated as lines are read and flattened. */
  readonly stats?: ExportStats;
  /** Called after each chunk of input lines, e.g. to draw progress. */
  readonly onChunk?: (source: InputSource) => void;
}

export function newExportStats(): ExportStats {
  return { items: 0, rows: 0, bytes: 0 };
}

/**
 * Yields full batches of rows, then the last partial one. The same RowBatch
 * is reused: consume each one before asking for the next. Any bad line
 * throws an InputError naming the file and line.
 */
export async function* flattenExportLines(sources: readonly InputSource[], options: ExportFlattenOptions): AsyncGenerator<RowBatch> {
  const { flattener, snapshotMs } = options;
  const batchRows = options.batchRows ?? DEFAULT_BATCH_ROWS;
  const stats = options.stats ?? newExportStats();
  const batch = new RowBatch(flattener.config.carry);
  for (const source of sources) {
    for await (const chunk of readLines(source, { onBytes: (n) => (stats.bytes += n) })) {
      for (let i = 0; i < chunk.lines.length; i++) {
        appendExportLine(flattener, batch, chunk.lines[i]!, source.name, chunk.first + i, snapshotMs, stats);
        if (batch.length >= batchRows) {
          yield batch;
          batch.truncate(0);
        }
      }
      options.onChunk?.(source);
    }
  }
  if (batch.length > 0) yield batch;
}

/** Appends the rows of one export line (none for a blank line); bad input is an InputError naming file and line. */
export function appendExportLine(flattener: Flattener, batch: RowBatch, text: string, file: string, line: number, snapshotMs: number, stats: ExportStats): void {
  const item = parseExportLine(text, file, line, flattener);
  if (item === undefined) return;
  const before = batch.length;
  try {
    appendSnapshotItem(flattener, batch, item, snapshotMs, '');
  } catch (error) {
    if (error instanceof FlattenError) throw new InputError(file, line, error.message.trim());
    throw error;
  }
  stats.items++;
  stats.rows += batch.length - before;
}

/** The item of one export line, undefined for a blank line, or an InputError saying what is wrong. */
export function parseExportLine(text: string, file: string, line: number, flattener: Flattener): Item | undefined {
  if (text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new InputError(file, line, `the line is not JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new InputError(file, line, `expected a DynamoDB export line such as {"Item": {...}}, got ${describe(parsed)}`);
  }
  if (!('Item' in parsed)) {
    const keys = Object.keys(parsed).slice(0, 5).map((k) => `"${k}"`);
    throw new InputError(file, line, `the line has no "Item" (expected {"Item": {...}}, found ${keys.length ? keys.join(', ') : 'an empty object'})`);
  }
  const item = (parsed as { Item: unknown }).Item;
  if (item === null || typeof item !== 'object' || Array.isArray(item)) {
    throw new InputError(file, line, `"Item" must be an object of attributes, got ${describe(item)}`);
  }
  const { partitionKey, sortKey } = flattener.config;
  if (!(partitionKey in item)) throw new InputError(file, line, `the item has no "${partitionKey}" attribute, which --partition-key names`);
  if (sortKey !== undefined && !(sortKey in item)) throw new InputError(file, line, `the item has no "${sortKey}" attribute, which --sort-key names`);
  return item as Item;
}
