import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';

/**
 * What Lambda's event source mapping does with one stream shard, closely
 * enough to test against: batches of up to `batchSize` records in order;
 * a partial batch response resumes from the first reported record; a
 * function error or timeout retries the batch, bisecting it when enabled;
 * after `maxRetries` retries the batch's range goes to the on-failure
 * destination and the shard moves on.
 */
export interface MappingOptions {
  readonly batchSize: number;
  readonly bisectOnError: boolean;
  readonly maxRetries: number;
  /** A call that takes longer is abandoned as a timeout (its writes may still land). */
  readonly timeoutMs: number;
}

export interface FailureDestinationMessage {
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly batchSize: number;
  readonly condition: 'RetryAttemptsExhausted';
}

export interface MappingStats {
  invocations: number;
  partialFailures: number;
  errors: number;
  timeouts: number;
  bisections: number;
  readonly dlq: FailureDestinationMessage[];
}

export type Invoke = (event: DynamoDBStreamEvent) => Promise<DynamoDBBatchResponse | void>;

type Outcome = { kind: 'ok' } | { kind: 'partial'; from: number } | { kind: 'error' };

async function invokeOnce(invoke: Invoke, batch: readonly DynamoDBRecord[], options: MappingOptions, stats: MappingStats): Promise<Outcome> {
  stats.invocations++;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), options.timeoutMs)));
  try {
    const result = await Promise.race([invoke({ Records: [...batch] }), timeout]);
    if (result === 'timeout') {
      stats.timeouts++;
      return { kind: 'error' };
    }
    const failures = result?.batchItemFailures ?? [];
    if (failures.length === 0) return { kind: 'ok' };
    stats.partialFailures++;
    const failed = new Set(failures.map((f) => f.itemIdentifier));
    const from = batch.findIndex((r) => failed.has(r.dynamodb!.SequenceNumber!));
    // An identifier that matches nothing fails the whole batch, as Lambda does.
    return from < 0 ? { kind: 'error' } : { kind: 'partial', from };
  } catch {
    stats.errors++;
    return { kind: 'error' };
  } finally {
    clearTimeout(timer);
  }
}

async function processBatch(invoke: Invoke, batch: readonly DynamoDBRecord[], options: MappingOptions, stats: MappingStats, retries = 0): Promise<void> {
  let current = batch;
  let attempts = retries;
  while (current.length > 0) {
    const outcome = await invokeOnce(invoke, current, options, stats);
    if (outcome.kind === 'ok') return;
    if (outcome.kind === 'partial' && outcome.from > 0) {
      // Checkpoint the records before the failure; the retry starts at it.
      current = current.slice(outcome.from);
      attempts = 0;
      continue;
    }
    attempts++;
    if (attempts > options.maxRetries) {
      stats.dlq.push({
        startSequenceNumber: current[0]!.dynamodb!.SequenceNumber!,
        endSequenceNumber: current[current.length - 1]!.dynamodb!.SequenceNumber!,
        batchSize: current.length,
        condition: 'RetryAttemptsExhausted',
      });
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

export async function drainShard(records: readonly DynamoDBRecord[], invoke: Invoke, options: MappingOptions): Promise<MappingStats> {
  const stats: MappingStats = { invocations: 0, partialFailures: 0, errors: 0, timeouts: 0, bisections: 0, dlq: [] };
  for (let start = 0; start < records.length; start += options.batchSize) {
    await processBatch(invoke, records.slice(start, start + options.batchSize), options, stats);
  }
  return stats;
}
