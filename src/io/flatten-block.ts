import { Flattener, type FlattenConfig } from '../flatten/flatten.ts';
import { RowBatch } from '../flatten/row-batch.ts';
import { columnInputs } from '../lake/parquet-writer.ts';
import type { CodecName } from '../lake/parquet/compress.ts';
import { encodeRowGroup, type EncodedRowGroup } from '../lake/parquet/encoder.ts';
import { dataColumns } from '../schema/row-schema.ts';
import { appendExportLine, newExportStats } from './export-lines.ts';
import { blockLines, type LineBlock } from './lines.ts';

/**
 * One block of export lines to its encoded output: a Parquet row group, or
 * JSONL bytes. The same function runs in worker threads and, with one
 * thread, in the main thread, so the output is the same for any thread count.
 */

export interface BlockSetup {
  readonly config: FlattenConfig;
  readonly snapshotMs: number;
  readonly format: 'jsonl' | 'parquet';
  readonly codec: CodecName;
}

export interface EncodedBlock {
  readonly items: number;
  readonly rows: number;
  readonly rowGroup?: EncodedRowGroup;
  readonly jsonl?: Uint8Array;
}

export function blockEncoder(setup: BlockSetup): (name: string, block: LineBlock) => EncodedBlock {
  const flattener = new Flattener(setup.config);
  const columns = dataColumns(setup.config.carry);
  return (name, block) => {
    const batch = new RowBatch(setup.config.carry);
    const stats = newExportStats();
    const lines = blockLines(block, name);
    for (let i = 0; i < lines.length; i++) appendExportLine(flattener, batch, lines[i]!, name, block.first + i, setup.snapshotMs, stats);
    if (setup.format === 'parquet') return { items: stats.items, rows: stats.rows, rowGroup: encodeRowGroup(columns, columnInputs(batch), batch.length, setup.codec) };
    let text = '';
    for (const row of batch.rows()) text += `${JSON.stringify(row)}\n`;
    return { items: stats.items, rows: stats.rows, jsonl: new TextEncoder().encode(text) };
  };
}

/** The buffers of an encoded block, to transfer instead of copy. */
export function transferables(block: EncodedBlock): ArrayBuffer[] {
  if (block.rowGroup) return block.rowGroup.chunks.map((c) => c.bytes.buffer as ArrayBuffer);
  return block.jsonl ? [block.jsonl.buffer as ArrayBuffer] : [];
}
