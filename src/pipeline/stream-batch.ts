import type { PipelineConfig } from '../config/pipeline-config.ts';
import { Flattener, isSequenceNumber } from '../flatten/flatten.ts';
import { RowBatch } from '../flatten/row-batch.ts';
import { appendStreamRecord, type StreamRecordLike } from '../flatten/stream-record.ts';
import { writeBatchToLake, type WrittenObject } from '../lake/lake-writer.ts';
import { streamBatchName } from '../lake/object-key.ts';
import type { LakeSink } from '../lake/sink.ts';
import { quarantine } from './quarantine.ts';
import type { ErasedRecordTest } from './erased-keys.ts';

export interface BatchItemFailure {
  itemIdentifier: string;
}

export interface StreamBatchOutcome {
  /** Lambda's partial batch response: retry from the first record listed. */
  readonly batchItemFailures: BatchItemFailure[];
  readonly records: number;
  readonly rows: number;
  readonly objects: readonly WrittenObject[];
  readonly quarantined: readonly string[];
  /** Records dropped as erased history (a key an erasure in flight removes, older than its cutoff). */
  readonly erased?: number;
  /** Why the batch failed, when it did. */
  readonly failure?: string;
}

export interface StreamBatchDeps {
  readonly config: PipelineConfig;
  readonly sink: LakeSink;
  /** Called for each record that goes to quarantine (for logs). */
  readonly onQuarantine?: (key: string, error: unknown) => void;
  /** Whether a record is erased history (erased-keys.ts): it is acknowledged and not written. */
  readonly isErased?: ErasedRecordTest;
}

/**
 * One DynamoDB Streams batch to the lake.
 *
 * - Every record is flattened; one that cannot be (malformed image, unknown
 *   type) goes to the quarantine prefix with its error, and the rest proceed,
 *   so a poison record never blocks its shard.
 * - All rows are written as one object per dt partition with a name derived
 *   from the batch, so a redelivered batch overwrites its own object.
 * - If anything cannot be written, the first record is reported as failed:
 *   Lambda retries the batch (or bisects it), and the deterministic names
 *   make the retry overwrite rather than duplicate. No record is ever
 *   acknowledged without its rows or its quarantine object being stored.
 */
export async function processStreamBatch(records: readonly StreamRecordLike[], deps: StreamBatchDeps): Promise<StreamBatchOutcome> {
  const { config, sink } = deps;
  if (records.length === 0) return { batchItemFailures: [], records: 0, rows: 0, objects: [], quarantined: [] };

  const flattener = new Flattener(config.flatten);
  const batch = new RowBatch(config.flatten.carry);
  const poison: { record: StreamRecordLike; error: unknown }[] = [];
  let erased = 0;
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    if (deps.isErased?.(record)) {
      erased++;
      continue;
    }
    const mark = batch.mark();
    try {
      appendStreamRecord(flattener, batch, record, `record ${i} (${record?.eventID ?? 'no eventID'})`);
    } catch (error) {
      batch.truncate(mark);
      poison.push({ record, error });
    }
  }

  const sequences = records.map((r, i) => r?.dynamodb?.SequenceNumber ?? `#${i}`);
  const identities = records.map((r, i) => `${r?.eventSourceARN ?? ''}/${r?.eventID ?? ''}/${sequences[i]}`);
  const firstFailure = (): BatchItemFailure[] => [{ itemIdentifier: String(sequences[0]) }];

  const quarantined: string[] = [];
  try {
    for (const { record, error } of poison) {
      const key = await quarantine(sink, config.quarantinePrefix, record, error, record?.eventSourceARN ?? 'stream');
      quarantined.push(key);
      deps.onQuarantine?.(key, error);
    }
    const valid = sequences.filter(isSequenceNumber);
    const name = streamBatchName(valid[0] ?? 'none', valid[valid.length - 1] ?? 'none', identities);
    const objects = batch.length === 0 ? [] : await writeBatchToLake(sink, config.dataPrefix, batch, name);
    return { batchItemFailures: [], records: records.length, rows: batch.length, objects, quarantined, ...(erased ? { erased } : {}) };
  } catch (error) {
    return {
      batchItemFailures: firstFailure(),
      records: records.length,
      rows: 0,
      objects: [],
      quarantined,
      failure: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    };
  }
}
