import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

/**
 * What Lambda's event source mapping does with one stream shard, closely
 * enough to test against: batches of up to `batchSize` records in order,
 * closed early by the batching window or the 6 MB invocation payload; a
 * partial batch response resumes from the first reported record; a
 * function error or timeout retries the batch, bisecting it when enabled;
 * after `maxRetries` retries the batch's range goes to the on-failure
 * destination, as the record Lambda sends there, and the shard moves on.
 */
export interface MappingOptions {
  readonly batchSize: number;
  readonly bisectOnError: boolean;
  readonly maxRetries: number;
  /** A call that takes longer is abandoned as a timeout (its writes may still land). */
  readonly timeoutMs: number;
  /**
   * MaximumBatchingWindowInSeconds. The records are all there up front, so
   * the window is applied to their ApproximateCreationDateTime: a record
   * created more than this after the batch's first one starts the next
   * batch, as it would have arrived after the poller stopped waiting.
   * Undefined: batches are cut by size and payload only.
   */
  readonly batchingWindowSeconds?: number;
  /** Lambda's synchronous invocation payload limit; default 6 MB. */
  readonly maxPayloadBytes?: number;
  /** A record's share of the payload; default its JSON length. */
  readonly recordBytes?: (record: DynamoDBRecord) => number;
  /** For the on-failure record; defaults name a shard and function that do not exist. */
  readonly shardId?: string;
  readonly functionArn?: string;
  /** Receives each on-failure record as it is produced (e.g. sends it to an SQS queue). */
  readonly onFailure?: (record: OnFailureRecord) => Promise<void>;
}

export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

/**
 * The on-failure destination record Lambda sends for a DynamoDB Streams
 * batch whose retries ran out: the shard and the sequence range, never the
 * records (src/actions/redrive.ts parses DDBStreamBatchInfo).
 */
export interface OnFailureRecord {
  readonly requestContext: {
    readonly requestId: string;
    readonly functionArn: string;
    readonly condition: 'RetryAttemptsExhausted';
    readonly approximateInvokeCount: number;
  };
  readonly responseContext: { readonly statusCode: number; readonly executedVersion: string; readonly functionError?: 'Unhandled' };
  readonly version: '1.0';
  readonly timestamp: string;
  readonly DDBStreamBatchInfo: {
    readonly shardId: string;
    readonly startSequenceNumber: string;
    readonly endSequenceNumber: string;
    readonly approximateArrivalOfFirstRecord: string;
    readonly approximateArrivalOfLastRecord: string;
    readonly batchSize: number;
    readonly streamArn: string;
  };
}

export interface MappingStats {
  /** Batches the poller formed (first deliveries). */
  batches: number;
  invocations: number;
  /** Invocations of records already tried before: invocations − batches. */
  retries: number;
  partialFailures: number;
  errors: number;
  timeouts: number;
  bisections: number;
  /** Records checkpointed: their invocation succeeded, or they came before a reported failure. */
  acknowledged: number;
  /** Records whose range went to the on-failure destination. */
  failedRecords: number;
  /** What closed each batch before the shard's end: BatchSize, the payload limit or the batching window. */
  readonly closedBy: { size: number; payload: number; window: number };
  readonly dlq: OnFailureRecord[];
  /** Invocations abandoned at their timeout and still running: await them before reading the lake. */
  readonly abandoned: Set<Promise<unknown>>;
}

export type Invoke = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

/** Records in shard order, in memory or produced as the poller reads them. */
export type RecordSource = Iterable<DynamoDBRecord> | AsyncIterable<DynamoDBRecord>;

type Outcome = { kind: 'ok' } | { kind: 'partial'; from: number } | { kind: 'error'; functionError: boolean };

const DEFAULT_SHARD = 'shardId-00000000000000000000-00000000';
const DEFAULT_FUNCTION = 'arn:aws:lambda:us-east-1:123456789012:function:ddb-flatten-model:live';

function arrival(record: DynamoDBRecord): string {
  const at = record.dynamodb?.ApproximateCreationDateTime;
  return new Date(typeof at === 'number' ? at * 1000 : 0).toISOString().replace('.000Z', 'Z');
}

async function invokeOnce(invoke: Invoke, batch: readonly DynamoDBRecord[], options: MappingOptions, stats: MappingStats): Promise<Outcome> {
  stats.invocations++;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), options.timeoutMs)));
  const call = invoke({ Records: [...batch] });
  try {
    const result = await Promise.race([call, timeout]);
    if (result === 'timeout') {
      stats.timeouts++;
      // Lambda stops waiting; whatever the call already sent may still land.
      const settled = call.then(
        () => undefined,
        () => undefined,
      );
      stats.abandoned.add(settled);
      void settled.then(() => stats.abandoned.delete(settled));
      return { kind: 'error', functionError: true };
    }
    const failures = result?.batchItemFailures ?? [];
    if (failures.length === 0) return { kind: 'ok' };
    stats.partialFailures++;
    const failed = new Set(failures.map((f) => f.itemIdentifier));
    const from = batch.findIndex((r) => failed.has(r.dynamodb!.SequenceNumber!));
    // An identifier that matches nothing fails the whole batch, as Lambda does.
    return from < 0 ? { kind: 'error', functionError: false } : { kind: 'partial', from };
  } catch {
    stats.errors++;
    return { kind: 'error', functionError: true };
  } finally {
    clearTimeout(timer);
  }
}

function onFailureRecord(batch: readonly DynamoDBRecord[], invokeCount: number, functionError: boolean, options: MappingOptions): OnFailureRecord {
  const first = batch[0]!;
  const last = batch[batch.length - 1]!;
  return {
    requestContext: {
      requestId: `${first.dynamodb!.SequenceNumber}-${invokeCount}`,
      functionArn: options.functionArn ?? DEFAULT_FUNCTION,
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: invokeCount,
    },
    responseContext: { statusCode: 200, executedVersion: '1', ...(functionError ? { functionError: 'Unhandled' as const } : {}) },
    version: '1.0',
    timestamp: new Date().toISOString(),
    DDBStreamBatchInfo: {
      shardId: options.shardId ?? DEFAULT_SHARD,
      startSequenceNumber: first.dynamodb!.SequenceNumber!,
      endSequenceNumber: last.dynamodb!.SequenceNumber!,
      approximateArrivalOfFirstRecord: arrival(first),
      approximateArrivalOfLastRecord: arrival(last),
      batchSize: batch.length,
      streamArn: first.eventSourceARN!,
    },
  };
}

async function processBatch(invoke: Invoke, batch: readonly DynamoDBRecord[], options: MappingOptions, stats: MappingStats, retries = 0): Promise<void> {
  let current = batch;
  let attempts = retries;
  let invokeCount = 0;
  while (current.length > 0) {
    const outcome = await invokeOnce(invoke, current, options, stats);
    invokeCount++;
    if (outcome.kind === 'ok') {
      stats.acknowledged += current.length;
      return;
    }
    if (outcome.kind === 'partial' && outcome.from > 0) {
      // Checkpoint the records before the failure; the retry starts at it.
      stats.acknowledged += outcome.from;
      current = current.slice(outcome.from);
      attempts = 0;
      continue;
    }
    attempts++;
    if (attempts > options.maxRetries) {
      const record = onFailureRecord(current, invokeCount, outcome.kind === 'error' && outcome.functionError, options);
      stats.dlq.push(record);
      stats.failedRecords += current.length;
      await options.onFailure?.(record);
      return;
    }
    if (outcome.kind === 'error' && options.bisectOnError && current.length > 1) {
      stats.bisections++;
      const half = Math.ceil(current.length / 2);
      await processBatch(invoke, current.slice(0, half), options, stats, attempts);
      await processBatch(invoke, current.slice(half), options, stats, attempts);
      return;
    }
  }
}

/** The poller: batches in shard order, each closed by size, payload or batching window. */
export async function* pollBatches(records: RecordSource, options: MappingOptions, closedBy?: MappingStats['closedBy']): AsyncGenerator<DynamoDBRecord[]> {
  const maxBytes = options.maxPayloadBytes ?? MAX_PAYLOAD_BYTES;
  const sizeOf = options.recordBytes ?? ((r: DynamoDBRecord) => JSON.stringify(r).length);
  const window = options.batchingWindowSeconds;
  let batch: DynamoDBRecord[] = [];
  let bytes = 0;
  let opened = 0;
  for await (const record of records) {
    const size = sizeOf(record);
    const at = Number(record.dynamodb?.ApproximateCreationDateTime ?? 0);
    const reason = batch.length >= options.batchSize ? 'size' : bytes + size > maxBytes ? 'payload' : window !== undefined && at - opened > window ? 'window' : undefined;
    if (batch.length > 0 && reason) {
      if (closedBy) closedBy[reason]++;
      yield batch;
      batch = [];
      bytes = 0;
    }
    if (batch.length === 0) opened = at;
    batch.push(record);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

export function emptyStats(): MappingStats {
  return {
    batches: 0,
    invocations: 0,
    retries: 0,
    partialFailures: 0,
    errors: 0,
    timeouts: 0,
    bisections: 0,
    acknowledged: 0,
    failedRecords: 0,
    closedBy: { size: 0, payload: 0, window: 0 },
    dlq: [],
    abandoned: new Set(),
  };
}

export async function drainShard(records: RecordSource, invoke: Invoke, options: MappingOptions): Promise<MappingStats> {
  const stats = emptyStats();
  for await (const batch of pollBatches(records, options, stats.closedBy)) {
    stats.batches++;
    await processBatch(invoke, batch, options, stats);
  }
  stats.retries = stats.invocations - stats.batches;
  return stats;
}

export interface Shard {
  readonly shardId: string;
  readonly records: RecordSource;
  readonly invoke: Invoke;
}

/** One mapping per shard, all shards running at once, as Lambda polls them (ParallelizationFactor 1). */
export async function drainShards(shards: readonly Shard[], options: MappingOptions): Promise<MappingStats[]> {
  return Promise.all(shards.map((s) => drainShard(s.records, s.invoke, { ...options, shardId: s.shardId })));
}
