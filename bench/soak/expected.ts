import type { DynamoDBRecord } from 'aws-lambda';
import type { PipelineConfig } from '../../src/config/pipeline-config.ts';
import { Flattener } from '../../src/flatten/flatten.ts';
import { RowBatch } from '../../src/flatten/row-batch.ts';
import { appendStreamRecord, type StreamRecordLike } from '../../src/flatten/stream-record.ts';
import { writeBatchToLake } from '../../src/lake/lake-writer.ts';
import { DirectorySink } from '../../src/lake/sink.ts';

/**
 * The rows every valid record must leave in the raw lake, written as the
 * workload produces the records (the engine flattening the record as
 * generated, before any delivery), to a folder laid out like the lake:
 * <root>/expected/dt=…/*.parquet. DuckDB then compares it with the lake in
 * SQL, so no record's rows are held in memory past its chunk.
 */
export const EXPECTED_PREFIX = 'expected';
const FLUSH_ROWS = 100_000;

export class ExpectedRows {
  private readonly sink: DirectorySink;
  private readonly flattener: Flattener;
  private readonly carried: readonly string[];
  private batch: RowBatch;
  private files = 0;
  rows = 0;
  versions = 0;
  /** Records the workload calls valid but the engine rejects (a workload bug, or a handler that quarantines them). */
  readonly rejected: string[] = [];

  constructor(root: string, config: PipelineConfig) {
    this.sink = new DirectorySink(root);
    this.flattener = new Flattener(config.flatten);
    this.carried = config.flatten.carry;
    this.batch = new RowBatch(this.carried);
  }

  async add(record: DynamoDBRecord): Promise<void> {
    const mark = this.batch.mark();
    try {
      appendStreamRecord(this.flattener, this.batch, record as unknown as StreamRecordLike, 'expected');
      this.versions++;
    } catch (error) {
      this.batch.truncate(mark);
      this.rejected.push(`${record.dynamodb?.SequenceNumber}: ${(error as Error).message}`);
    }
    if (this.batch.length >= FLUSH_ROWS) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.batch.length === 0) return;
    // Shards add concurrently: the full batch is swapped out before the first await, so rows added meanwhile go to the next file.
    const full = this.batch;
    this.batch = new RowBatch(this.carried);
    this.rows += full.length;
    await writeBatchToLake(this.sink, EXPECTED_PREFIX, full, `expected-${String(this.files++).padStart(6, '0')}`);
  }
}
