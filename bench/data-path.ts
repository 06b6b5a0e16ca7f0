import type { DynamoDBStreamEvent } from 'aws-lambda';
import { Flattener } from '../src/flatten/flatten.ts';
import { RowBatch } from '../src/flatten/row-batch.ts';
import { appendStreamRecord, type StreamRecordLike } from '../src/flatten/stream-record.ts';
import { encodeParquet } from '../src/lake/parquet-writer.ts';
import { orderItem, streamEvent, type Change } from '../test/support/stream-events.ts';
import { median } from './measure.ts';

export const CARRY = ['customer_id'];
export const FLATTEN = { attributes: ['items'], partitionKey: 'pk', carry: CARRY };

/** The benchmark's Lambda batch: 10,000 INSERT/MODIFY records of seed-like orders, about 6 MB of JSON. */
export function lambdaBatch(records = 10_000): { json: string; event: DynamoDBStreamEvent } {
  let sequence = 10n ** 24n;
  const changes: Change[] = Array.from({ length: records }, (_, n) => {
    const item = orderItem(n, n % 3 === 0 ? 2 : 1);
    return { eventName: n % 4 === 3 ? 'MODIFY' : 'INSERT', keys: { pk: item.pk }, newImage: item, at: 1764237600 + Math.floor(n / 50), sequence: sequence++ };
  });
  const event = streamEvent(changes);
  return { json: JSON.stringify(event), event };
}

export function flattenEvent(event: DynamoDBStreamEvent): RowBatch {
  const batch = new RowBatch(CARRY);
  const flattener = new Flattener(FLATTEN);
  const records = event.Records as unknown as StreamRecordLike[];
  for (let i = 0; i < records.length; i++) appendStreamRecord(flattener, batch, records[i]!, 'bench');
  return batch;
}

export interface DataPathResult {
  readonly payloadBytes: number;
  readonly records: number;
  readonly rows: number;
  readonly parseMs: number;
  readonly flattenMs: number;
  readonly encodeMs: number;
  /** (flatten + encode) / JSON.parse, the headline figure. */
  readonly ratio: number;
  readonly flattenRatio: number;
  readonly encodeRatio: number;
  readonly parquetBytes: number;
  /** Parquet bytes / input DynamoDB JSON bytes. */
  readonly lakeSizeRatio: number;
  readonly flattenRowsPerSecond: number;
  readonly encodeRowsPerSecond: number;
}

/**
 * The handler's data path, upload excluded: JSON.parse of the payload (what
 * the Lambda runtime does before our code runs) against flatten + Parquet
 * encode of the same payload, interleaved run by run in this process
 * (5 warm-up runs, then the median of `runs`).
 */
export function measureDataPath(runs = 25, records = 10_000): DataPathResult {
  const { json } = lambdaBatch(records);
  const parse: number[] = [];
  const flatten: number[] = [];
  const encode: number[] = [];
  let rows = 0;
  let bytes = 0;
  for (let i = 0; i < runs + 5; i++) {
    let t = performance.now();
    const event = JSON.parse(json) as DynamoDBStreamEvent;
    const p = performance.now() - t;
    t = performance.now();
    const batch = flattenEvent(event);
    const f = performance.now() - t;
    t = performance.now();
    bytes = encodeParquet(batch).length;
    const e = performance.now() - t;
    rows = batch.length;
    if (i >= 5) {
      parse.push(p);
      flatten.push(f);
      encode.push(e);
    }
  }
  const parseMs = median(parse);
  const flattenMs = median(flatten);
  const encodeMs = median(encode);
  return {
    payloadBytes: json.length,
    records,
    rows,
    parseMs,
    flattenMs,
    encodeMs,
    ratio: (flattenMs + encodeMs) / parseMs,
    flattenRatio: flattenMs / parseMs,
    encodeRatio: encodeMs / parseMs,
    parquetBytes: bytes,
    lakeSizeRatio: bytes / json.length,
    flattenRowsPerSecond: rows / (flattenMs / 1000),
    encodeRowsPerSecond: rows / (encodeMs / 1000),
  };
}
