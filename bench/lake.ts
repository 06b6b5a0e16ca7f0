import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createStreamHandler } from '../handlers/stream.ts';
import { DEFAULTS } from '../modules/props.ts';
import { runMaintenance, runMaintenanceTask, type MaintenanceTaskRequest } from '../src/actions/maintenance.ts';
import { loadPipelineConfig, type PipelineConfig } from '../src/config/pipeline-config.ts';
import type { Item } from '../src/flatten/attribute-value.ts';
import type { ByteOutput } from '../src/io/byte-output.ts';
import { FolderStore, type LakeStore, type StoredObject } from '../src/lake/lake-store.ts';
import { openParquet } from '../src/lake/parquet-reader.ts';
import { PART_BYTES } from '../src/lake/s3-output.ts';
import { DirectorySink, type LakeSink } from '../src/lake/sink.ts';
import { COMPACTION_DEFAULTS } from '../src/maintenance/compaction.ts';
import { currentStateInputs, tableObjects } from '../src/maintenance/view-inputs.ts';
import { streamRecord } from '../test/support/stream-events.ts';
import { median } from './measure.ts';
import { count } from './report.ts';

/**
 * The lake's life cycle, measured: stream batches written by the real
 * handler, compaction and checkpoints run by the real maintenance action on
 * a lake folder, and what that costs per GB of DynamoDB JSON at the
 * module's settings (read from modules/props.ts DEFAULTS, so the figures
 * follow a change of the defaults) and at candidate settings.
 *
 * What is measured and what is derived:
 * - measured, in this process: the handler's time per batch (JSON.parse of
 *   the payload, as the runtime does, plus the handler), every S3 request
 *   the stream path and maintenance would make (counted by wrappers around
 *   the sink and the store), object counts and sizes, maintenance time;
 * - derived: a whole day from a scaled one (the same batches, fewer of
 *   them: counts and bytes scale with the day's records), Lambda billed
 *   time from the measured CPU time and an assumed S3 request latency, and
 *   dollars from the published prices below.
 * Firehose is priced on the same records the pipeline is priced on (their
 * mean size as measured in the defaults' day), so the two $/GB compare the
 * same data.
 *
 * Not counted, on either side: CloudWatch Logs and metrics, S3 storage,
 * data transfer, Athena; for the pipeline also the few Glue, SSM and SQS
 * calls a maintenance run makes (a handful a day), for Firehose the stream
 * that would feed it (DynamoDB to Kinesis Data Streams). DynamoDB Streams
 * reads by a Lambda trigger are free.
 */

/**
 * us-east-1 on-demand prices, as published on each page named (the rates the issue works with).
 * Firehose bills ingestion per GB ingested with every record rounded up to a multiple of 5 KB (the
 * pricing page: a 3 KB record is billed as 5 KB, a 12 KB one as 15 KB; the rounding is per record,
 * not per PutRecordBatch call), so a 600-byte record is billed as 5 KB. Format conversion is billed
 * per GB too; the bench applies it to the same rounded volume (`total`, as the issue reads it) and,
 * as the lower bound, to the records' own bytes (`totalConversionUnrounded`): the one reading that
 * moves Firehose's figure much, so a setting is also checked against the lower figure.
 */
export const PRICES = {
  /** https://aws.amazon.com/lambda/pricing/ — Arm, first 7.5 billion GB-seconds a month: $0.0000133334 per GB-s. */
  lambdaGbSecond: 0.0000133334,
  /** https://aws.amazon.com/lambda/pricing/ — $0.20 per 1M requests. */
  lambdaRequest: 0.2 / 1e6,
  /** https://aws.amazon.com/s3/pricing/ — S3 Standard, PUT, COPY, POST, LIST requests: $0.005 per 1,000. */
  s3PutOrList: 0.005 / 1000,
  /** https://aws.amazon.com/s3/pricing/ — S3 Standard, GET, SELECT and all other requests: $0.0004 per 1,000. */
  s3Get: 0.0004 / 1000,
  /** https://aws.amazon.com/firehose/pricing/ — Direct PUT ingestion, first 500 TB a month: $0.029 per GB, in 5 KB increments a record. */
  firehoseIngestGb: 0.029,
  /** Same page — format conversion (JSON to Parquet or ORC): $0.018 per GB ingested. */
  firehoseConversionGb: 0.018,
  firehoseIncrementBytes: 5 * 1024,
} as const;

/** Every $/GB here is per 2^30 bytes of DynamoDB JSON; per 10^9 bytes every figure, Firehose's and the pipeline's alike, is 7% lower. */
export const GB = 2 ** 30;

/**
 * At 1,769 MB a function has the equivalent of one vCPU
 * (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html); CPU is allocated in
 * proportion to memory, so below that a CPU-bound millisecond measured here on one core takes
 * 1769/memory ms in the function. (This machine's core is not a Graviton core either: the factor is
 * a model, not a measurement.)
 */
export const FULL_VCPU_MB = 1769;

/**
 * Time the function waits for one S3 request. Not measured (the bench has no S3): AWS's S3
 * performance guidance puts the median latency of small requests (under 512 KB) in the tens of
 * milliseconds
 * (https://docs.aws.amazon.com/whitepapers/latest/s3-optimizing-performance-best-practices/timeouts-and-retries-for-latency-sensitive-applications.html).
 * Requests are counted as if sent one after the other, an upper bound for maintenance (which
 * reads some footers 32 at a time).
 */
export const S3_REQUEST_SECONDS = 0.03;

/**
 * Bytes a second the function moves to or from S3 in one stream, for the stitch tasks, which copy
 * what the merge tasks wrote. Not measured (no S3 here): a conservative figure for one connection
 * of a 512 MB function, well under what AWS's S3 performance guidance gives per connection (around
 * 85-90 MB/s, https://docs.aws.amazon.com/whitepapers/latest/s3-optimizing-performance-best-practices/horizontal-scaling-and-request-parallelization-for-high-throughput.html).
 * Reading and writing are counted one after the other.
 */
export const S3_BYTES_PER_SECOND = 40 * 1024 * 1024;

/** A batch of the event source mapping is also cut at the 6 MB invocation payload. */
export const PAYLOAD_LIMIT_BYTES = 6 * 1024 * 1024;
/** With no batching window Lambda polls a DynamoDB stream shard four times a second. */
const POLL_SECONDS = 0.25;
const DAY_SECONDS = 86_400;

/** "Data in the lake within a minute": the latency bound a setting must meet. */
export const LATENCY_TARGET_SECONDS = 60;
/** The pipeline's target: at most this share of Firehose's $/GB. */
export const COST_TARGET_SHARE = 0.1;
/** The "a handful of objects per day" after compaction. */
export const OBJECTS_AFTER_TARGET = 5;

export interface TriggerSetting {
  readonly batchSize: number;
  readonly windowSeconds: number;
  readonly memoryMb: number;
}

/** The module's defaults, as synthesised (modules/props.ts DEFAULTS: the figures follow a change of them). */
export const DEFAULT_SETTING: TriggerSetting = {
  batchSize: DEFAULTS.eventSourceMapping.batchSize,
  windowSeconds: DEFAULTS.eventSourceMapping.maximumBatchingWindowInSeconds,
  memoryMb: DEFAULTS.lambda.memorySize,
};

/**
 * The setting this bench recommends as the module's defaults (issue 13: at most a tenth of
 * Firehose's $/GB at steady traffic, data in the lake within a minute). At steady traffic a stream
 * object and its PUT, an invocation and the compaction's reads of the object are paid per batch,
 * so the cost per GB falls with the records a batch holds; the window caps that, and the wait.
 * Batch size 10,000 is the most a DynamoDB stream trigger takes, so below 333 records/s a shard the
 * 30-second window alone cuts the batches: no record waits much more than 30 s, half the minute,
 * which leaves the stream's own delay and a retried batch room within it. The 60 s window halves a
 * quiet shard's objects but spends the whole minute (its wait is the window plus the invocation);
 * batch size 1,000 fills in 10 s at 100 records/s and writes three times the objects, PUTs and
 * compaction reads. 512 MB stays: at these batches the function waits on S3 about as long as it
 * computes, and more memory bills those waits at a higher rate (the 1,024 MB candidate). Once the
 * module's defaults are this, the defaults' row is this row.
 */
export const RECOMMENDED_SETTING: TriggerSetting = { batchSize: 10_000, windowSeconds: 30, memoryMb: 512 };

/**
 * Settings measured beside the defaults (one equal to the defaults is measured once, as the
 * defaults): the module's defaults before issue 13, larger batches, windows up to the minute, the
 * memory knob.
 */
export const CANDIDATE_SETTINGS: readonly TriggerSetting[] = [
  { batchSize: 100, windowSeconds: 5, memoryMb: 512 },
  { batchSize: 1_000, windowSeconds: 10, memoryMb: 512 },
  { batchSize: 1_000, windowSeconds: 30, memoryMb: 512 },
  RECOMMENDED_SETTING,
  { batchSize: 10_000, windowSeconds: 30, memoryMb: 1024 },
  { batchSize: 10_000, windowSeconds: 60, memoryMb: 512 },
];

/**
 * Steady traffic per stream shard the cost figures are stated for (the "steady traffic of
 * 100 writes/s"), and quieter shards to show the window's effect (the "one write per
 * second"): there a batch never fills, and the window alone sets the objects a day.
 */
export const TRAFFIC_PER_SHARD = 100;
export const QUIET_TRAFFIC_PER_SHARD = [10, 1] as const;

export const describeSetting = (s: TriggerSetting): string => `batch ${s.batchSize.toLocaleString('en-US')}, window ${s.windowSeconds} s, ${s.memoryMb} MB`;
export const sameSetting = (a: TriggerSetting, b: TriggerSetting): boolean => a.batchSize === b.batchSize && a.windowSeconds === b.windowSeconds && a.memoryMb === b.memoryMb;

/** Records the batch size or the window lets into one invocation at steady `traffic` records/s (the 6 MB payload may cut it shorter: `cutBatches`). */
export function recordsPerWindow(s: TriggerSetting, traffic: number): number {
  const window = Math.max(s.windowSeconds, POLL_SECONDS);
  return Math.max(1, Math.min(s.batchSize, Math.floor(traffic * window)));
}

/**
 * The stream's records as the event source mapping hands them to invocations: at most `n` a
 * batch, and no batch whose payload ({"Records":[...]}) passes PAYLOAD_LIMIT_BYTES.
 */
export function* cutBatches(records: Iterable<DynamoDBRecord>, n: number): Generator<DynamoDBRecord[]> {
  const envelope = '{"Records":[]}'.length;
  let batch: DynamoDBRecord[] = [];
  let bytes = envelope;
  for (const r of records) {
    const size = JSON.stringify(r).length + 1;
    if (batch.length > 0 && (batch.length >= n || bytes + size > PAYLOAD_LIMIT_BYTES)) {
      yield batch;
      batch = [];
      bytes = envelope;
    }
    batch.push(r);
    bytes += size;
  }
  if (batch.length > 0) yield batch;
}

const cpuScale = (memoryMb: number): number => Math.max(1, FULL_VCPU_MB / memoryMb);

/**
 * Milliseconds of CPU this process spent (every thread: the handler, the file system's threads, the
 * garbage collector) since `from`. CPU time rather than wall time: what Lambda's share of a vCPU
 * has to provide, and much less moved by other processes on a busy machine than a wall clock.
 */
function cpuMsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

// ---------------------------------------------------------------------------------------------
// Workload

const REMOVE_SHARE = 0.1;

/**
 * A table of `keys` orders changing at random, as its NEW_AND_OLD_IMAGES
 * stream carries the changes (the module's stream view): INSERT, MODIFY
 * with both images, REMOVE with the old one; about 650 bytes of DynamoDB
 * JSON a record (the "about 600").
 */
export class TableChanges {
  readonly table = new Map<string, Item>();
  private readonly keys: number;
  private state: number;
  private sequence = 4_421_584_500_000_000_017_450_000_000n;
  private n = 0;
  constructor(keys: number, seed: number) {
    this.keys = keys;
    this.state = seed >>> 0;
  }
  private random(): number {
    this.state = (Math.imul(this.state, 1664525) + 1013904223) >>> 0;
    return this.state / 2 ** 32;
  }
  /** The next change, made at epoch second `at`, to a random item (or to item `index`). */
  next(at: number, index = Math.floor(this.random() * this.keys)): DynamoDBRecord {
    const pk = `ORDER#${String(index).padStart(7, '0')}`;
    const keys: Item = { pk: { S: pk } };
    const old = this.table.get(pk);
    const sequence = this.sequence++;
    if (old && this.random() < REMOVE_SHARE) {
      this.table.delete(pk);
      return streamRecord({ eventName: 'REMOVE', keys, oldImage: old, at, sequence });
    }
    const n = this.n++;
    const item: Item = {
      pk: { S: pk },
      customer_id: { S: `C${n % 1000}` },
      items: { L: [{ M: { sku: { S: `SKU-${(n * 7) % 5000}` }, qty: { N: String((n % 9) + 1) } } }] },
    };
    this.table.set(pk, item);
    return streamRecord({ eventName: old ? 'MODIFY' : 'INSERT', keys, newImage: item, oldImage: old, at, sequence });
  }
}

// ---------------------------------------------------------------------------------------------
// Counting S3 requests

export interface Requests {
  /** PUT, COPY, POST (multipart steps, DeleteObjects) and LIST requests: one price. */
  put: number;
  list: number;
  get: number;
}

const noRequests = (): Requests => ({ put: 0, list: 0, get: 0 });
const addRequests = (...rs: Requests[]): Requests => rs.reduce((a, b) => ({ put: a.put + b.put, list: a.list + b.list, get: a.get + b.get }), noRequests());

/** Rows of some objects, from their footers. */
async function rowsOf(store: LakeStore, objects: readonly StoredObject[]): Promise<number> {
  let rows = 0;
  for (const o of objects) rows += (await openParquet(store, o.key, o.size)).rows;
  return rows;
}
/** ListObjectsV2 returns at most 1,000 keys a page. */
const listPages = (keys: number): number => Math.max(1, Math.ceil(keys / 1000));
/** What S3Store sends for an object of `bytes` written in chunks of up to a part: one PutObject, or a multipart upload (create, parts, complete). For derived objects. */
const uploadRequests = (bytes: number): number => (bytes < PART_BYTES ? 1 : 2 + Math.ceil(bytes / PART_BYTES));

/** The requests s3Output sends for a stream of chunks: a part each time its buffer reaches PART_BYTES; at commit one PutObject, or the last part and complete. */
class UploadCounter {
  private buffered = 0;
  private parts = 0;
  write(bytes: number): void {
    this.buffered += bytes;
    if (this.buffered >= PART_BYTES) {
      this.parts++;
      this.buffered = 0;
    }
  }
  commit(): number {
    if (this.parts === 0) return 1;
    return 1 + this.parts + (this.buffered > 0 ? 1 : 0) + 1;
  }
}

/** A LakeStore that counts the S3 requests S3Store would send for each call, and passes it on. */
export class CountingStore implements LakeStore {
  readonly requests = noRequests();
  private readonly inner: LakeStore;
  constructor(inner: LakeStore) {
    this.inner = inner;
  }
  describe(key: string): string {
    return this.inner.describe(key);
  }
  async list(prefix: string): Promise<StoredObject[]> {
    const out = await this.inner.list(prefix);
    this.requests.list += listPages(out.length);
    return out;
  }
  async folders(prefix: string): Promise<string[]> {
    const out = await this.inner.folders(prefix);
    this.requests.list += listPages(out.length);
    return out;
  }
  read(key: string): Promise<Uint8Array | undefined> {
    this.requests.get++; // a GET answered NoSuchKey is billed too
    return this.inner.read(key);
  }
  readRange(key: string, start: number, end: number): Promise<Uint8Array> {
    this.requests.get++;
    return this.inner.readRange(key, start, end);
  }
  async write(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    // S3Store.write is one write of the whole body to s3Output, then commit.
    const upload = new UploadCounter();
    upload.write(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    await this.inner.write(key, body, contentType);
    this.requests.put += upload.commit();
  }
  async output(key: string, contentType: string): Promise<ByteOutput> {
    const out = await this.inner.output(key, contentType);
    const upload = new UploadCounter();
    return {
      name: out.name,
      streaming: out.streaming,
      write: (chunk) => {
        upload.write(typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length);
        return out.write(chunk);
      },
      commit: async () => {
        await out.commit();
        this.requests.put += upload.commit();
      },
      abort: () => out.abort(),
      abortSync: () => out.abortSync(),
    };
  }
  async delete(keys: readonly string[]): Promise<void> {
    // DeleteObjects, 1,000 keys a request, is a POST; S3Store sends none for no keys.
    this.requests.put += Math.ceil(keys.length / 1000);
    await this.inner.delete(keys);
  }
}

/** The stream path's sink, counting its PutObject requests and bytes. */
class CountingSink implements LakeSink {
  puts = 0;
  bytes = 0;
  private readonly inner: LakeSink;
  constructor(inner: LakeSink) {
    this.inner = inner;
  }
  describe(key: string): string {
    return this.inner.describe(key);
  }
  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    this.puts++;
    this.bytes += body.byteLength;
    await this.inner.put(key, body, contentType);
  }
}

// ---------------------------------------------------------------------------------------------
// Usage and price

/** What a piece of work uses that AWS bills: invocations, GB-seconds, S3 requests. */
export interface Usage {
  readonly invocations: number;
  readonly gbSeconds: number;
  readonly put: number;
  readonly list: number;
  readonly get: number;
}

export interface Cost {
  readonly lambdaRequests: number;
  readonly lambdaCompute: number;
  readonly s3PutList: number;
  readonly s3Get: number;
  readonly total: number;
}

export function priceOf(u: Usage): Cost {
  const lambdaRequests = u.invocations * PRICES.lambdaRequest;
  const lambdaCompute = u.gbSeconds * PRICES.lambdaGbSecond;
  const s3PutList = (u.put + u.list) * PRICES.s3PutOrList;
  const s3Get = u.get * PRICES.s3Get;
  return { lambdaRequests, lambdaCompute, s3PutList, s3Get, total: lambdaRequests + lambdaCompute + s3PutList + s3Get };
}

const scaleUsage = (u: Usage, k: number): Usage => ({ invocations: u.invocations * k, gbSeconds: u.gbSeconds * k, put: u.put * k, list: u.list * k, get: u.get * k });
const addUsage = (...us: Usage[]): Usage => us.reduce((a, b) => ({ invocations: a.invocations + b.invocations, gbSeconds: a.gbSeconds + b.gbSeconds, put: a.put + b.put, list: a.list + b.list, get: a.get + b.get }));

/**
 * Maintenance work in the function: `rowMs` of CPU measured here for the rows it handles (stretched
 * to the memory's CPU share), plus the wait for its requests, over `invocations` invocations.
 */
function maintenanceUsage(rowMs: number, r: Requests, memoryMb: number, invocations: number): Usage {
  const seconds = (rowMs / 1000) * cpuScale(memoryMb) + (r.put + r.list + r.get) * S3_REQUEST_SECONDS;
  return { invocations, gbSeconds: seconds * (memoryMb / 1024), ...r };
}

/**
 * Firehose Direct PUT with conversion to Parquet, per GB of records of `recordBytes`: each record is
 * billed rounded up to 5 KB, for ingestion and (`total`) for conversion; `totalConversionUnrounded`
 * bills conversion on the records' own bytes.
 */
export function firehosePerGb(recordBytes: number): { billedGbPerGb: number; ingestion: number; conversion: number; total: number; totalConversionUnrounded: number } {
  const billedGbPerGb = (Math.ceil(recordBytes / PRICES.firehoseIncrementBytes) * PRICES.firehoseIncrementBytes) / recordBytes;
  const ingestion = billedGbPerGb * PRICES.firehoseIngestGb;
  const conversion = billedGbPerGb * PRICES.firehoseConversionGb;
  return { billedGbPerGb, ingestion, conversion, total: ingestion + conversion, totalConversionUnrounded: ingestion + PRICES.firehoseConversionGb };
}

// ---------------------------------------------------------------------------------------------
// The stream path, timed

const ENV = {
  LAKE_BUCKET: 'bench-lake',
  LAKE_PREFIX: DEFAULTS.lake.dataPrefix,
  STATE_PREFIX: DEFAULTS.lake.statePrefix,
  QUARANTINE_PREFIX: DEFAULTS.lake.quarantinePrefix,
  EXPLODE_ATTRIBUTES: 'items',
  PARTITION_KEY: 'pk',
  CARRY_ATTRIBUTES: 'customer_id',
  MAXIMUM_RECORD_AGE_SECONDS: String(DEFAULTS.eventSourceMapping.maximumRecordAgeInSeconds),
  COMPACTION_MARGIN_SECONDS: String(DEFAULTS.compaction.marginSeconds),
  COMPACTION_LOOKBACK_DAYS: String(DEFAULTS.compaction.lookbackDays),
  COMPACTION_TARGET_BYTES: String(DEFAULTS.compaction.targetBytes),
  COMPACTION_MAX_TASK_BYTES: String(DEFAULTS.compaction.maxTaskBytes),
  CHECKPOINT_RETENTION: String(DEFAULTS.compaction.checkpointRetention),
};
const config = (): PipelineConfig => loadPipelineConfig(ENV);

const CONTEXT = {
  functionName: 'bench-flatten',
  functionVersion: '1',
  invokedFunctionArn: 'arn:aws:lambda:us-east-1:123456789012:function:bench-flatten:live',
  memoryLimitInMB: String(DEFAULTS.lambda.memorySize),
  awsRequestId: 'bench',
  logGroupName: '/aws/lambda/bench-flatten',
  logStreamName: 'bench',
  callbackWaitsForEmptyEventLoop: false,
  getRemainingTimeInMillis: () => 120_000,
  done: () => {},
  fail: () => {},
  succeed: () => {},
} as unknown as Context;

/** The Lambda's stream handler (Middy, Powertools logger, EMF metrics) over a counting sink into a folder. */
function streamWriter(root: string): { write: (records: readonly DynamoDBRecord[]) => Promise<BatchRun>; sink: CountingSink } {
  const sink = new CountingSink(new DirectorySink(root));
  const handler = createStreamHandler({ config: config(), sink, logger: new Logger({ serviceName: 'ddb-flatten', logLevel: 'SILENT' }), writeMetrics: () => {} });
  return {
    sink,
    async write(records) {
      // The event source mapping serialises the batch; the runtime parses it inside the billed invocation.
      const payload = JSON.stringify({ Records: records });
      const puts = sink.puts;
      const t = process.cpuUsage();
      const event = JSON.parse(payload) as DynamoDBStreamEvent;
      const response = await handler(event, CONTEXT);
      const ms = cpuMsSince(t);
      if (response.batchItemFailures.length > 0) throw new Error('bench: the stream handler reported a failed batch');
      return { records: records.length, payloadBytes: payload.length, puts: sink.puts - puts, ms };
    },
  };
}

interface BatchRun {
  readonly records: number;
  readonly payloadBytes: number;
  readonly puts: number;
  readonly ms: number;
}

function streamUsage(batches: readonly BatchRun[], memoryMb: number): Usage {
  let gbSeconds = 0;
  let put = 0;
  for (const b of batches) {
    // Lambda bills each invocation's duration rounded up to the millisecond.
    const ms = Math.ceil(b.ms * cpuScale(memoryMb) + b.puts * S3_REQUEST_SECONDS * 1000);
    gbSeconds += (ms / 1000) * (memoryMb / 1024);
    put += b.puts;
  }
  return { invocations: batches.length, gbSeconds, put, list: 0, get: 0 };
}

// ---------------------------------------------------------------------------------------------
// One day of stream batches, scaled, and its compaction

/** A maintenance run as measured here (one day's compaction, or one checkpoint). */
/** One phase of a maintenance run as measured: CPU, requests, tasks, and the input bytes its tasks read. */
export interface PhaseRun {
  readonly ms: number;
  readonly tasks: number;
  readonly requests: Requests;
}

export interface MaintenanceRun {
  readonly ms: number;
  /** The run itself (listing, footers, the plan, the commit), then the split's sort, merge and stitch tasks, each measured on its own. */
  readonly phases?: { readonly run: PhaseRun; readonly sort: PhaseRun; readonly merge: PhaseRun; readonly stitch: PhaseRun };
  readonly rowsIn: number;
  readonly rowsOut: number;
  readonly objectsBefore: number;
  readonly objectsAfter: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly requests: Requests;
}

/** The same work at full scale, derived, in the function at the setting's memory. */
export interface FullScaleRun {
  readonly rows: number;
  /** Tasks (invocations besides the run) it is split into: its input over maxTaskBytes. */
  readonly tasks: number;
  readonly objectsAfter: number;
  readonly requests: Requests;
  /** Seconds of one task in the function (CPU stretched to the memory, request waits), to compare with the function's timeout. */
  readonly taskSeconds: number;
  readonly usage: Usage;
}

export interface DaySimulation {
  readonly setting: TriggerSetting;
  /** Records per second on the shard. */
  readonly traffic: number;
  /** Records per invocation, as the batches were cut (the median batch). */
  readonly recordsPerInvocation: number;
  /** What ran for real: the first `records` records of the day, in batches of recordsPerInvocation, then the day's compaction. */
  readonly measured: {
    readonly records: number;
    readonly seconds: number;
    readonly jsonBytes: number;
    readonly invocations: number;
    readonly objects: number;
    readonly objectBytes: number;
    readonly handlerMsMedian: number;
    readonly handlerMsTotal: number;
    /** rowsPerSecond: rows per CPU-second of this process (every thread); wallMs beside it. */
    readonly compaction: MaintenanceRun & { readonly rowsPerSecond: number; readonly wallMs: number };
  };
  /** The whole day, derived: the day's records over the measured ones is `scale`. */
  readonly day: {
    readonly scale: number;
    readonly records: number;
    readonly invocations: number;
    readonly objectsBefore: number;
    readonly compaction: FullScaleRun;
  };
  /** One invocation in the function at the setting's memory (the median batch), and the latency bound: the batch's fill time plus that. */
  readonly invocationSeconds: number;
  readonly latencySeconds: number;
  readonly perGb: { readonly stream: Usage; readonly compaction: Usage };
}

const dayOf = (epochSeconds: number): string => new Date(epochSeconds * 1000).toISOString().slice(0, 10);

/** When the daily schedule runs (UTC) after a day closes, from the module's default cron(M H * * ? *); 07:30 otherwise. */
export function scheduleSecondsOfDay(expression: string = DEFAULTS.compaction.scheduleExpression): number {
  const m = /^cron\((\d+) (\d+) \* \* \? \*\)$/.exec(expression);
  return m ? Number(m[2]) * 3600 + Number(m[1]) * 60 : 7.5 * 3600;
}

/**
 * The compaction of a whole day from the measured compaction of its first
 * part, which ran split the way a full day is (MEASURED_SLICES sort tasks,
 * as many merge tasks, each timed on its own). At full scale the day is cut
 * into one sort task per maxTaskBytes of input and as many merge tasks; a
 * task's time is the measured CPU per input byte of its phase for
 * maxTaskBytes (stretched to the memory's CPU share) plus its requests, as
 * if sent one after the other (an upper bound: inputs are read ahead side by
 * side). The run itself reads every input's footer, 32 at a time. The
 * merge outputs (one per bucket) are then stitched, undecoded, into
 * objects of up to the target size: a stitch task's time is the bytes it
 * reads and writes at S3_BYTES_PER_SECOND, its requests, and the measured
 * CPU per byte (one invocation each, as every task).
 * Requests: the measured ones per input object or per task, the stage
 * objects (one per sort task and bucket), the merge outputs and the
 * full-size objects stitched from them, one DeleteObjects per 1,000 keys.
 */
function fullDayCompaction(m: MaintenanceRun, scale: number, objectsDay: number, memoryMb: number): FullScaleRun {
  const p = m.phases!;
  const rows = m.rowsIn * scale;
  const bytesIn = m.bytesBefore * scale;
  const taskBytes = DEFAULTS.compaction.maxTaskBytes;
  const tasks = Math.max(1, Math.ceil(bytesIn / taskBytes));
  const bytesOut = m.bytesAfter * scale;
  const target = DEFAULTS.compaction.targetBytes;
  // A merge task's output (its bucket) is cut at the target size; stitching packs consecutive ones up to it.
  const mergeOutputs = tasks * Math.max(1, Math.ceil(bytesOut / tasks / target));
  const mergeOutputBytes = bytesOut / mergeOutputs;
  const perObject = tasks > 1 ? Math.max(1, Math.floor(target / mergeOutputBytes)) : 1;
  const objectsAfter = tasks > 1 ? Math.ceil(mergeOutputs / perObject) : mergeOutputs;
  const perByte = (phase: PhaseRun): number => phase.ms / m.bytesBefore;
  const sortTaskGets = (p.sort.requests.get / m.bytesBefore) * Math.min(taskBytes, bytesIn);
  // A merge task reads its bucket's stage object of every sort task, and the sort tasks' markers.
  const mergeTaskGets = (p.merge.requests.get / (p.merge.tasks * p.sort.tasks)) * tasks;
  const runGets = (p.run.requests.get / m.objectsBefore) * objectsDay;
  // A stitch task reads each merge output's footer and row groups (as measured, per output and per byte) and the markers.
  const stitches = tasks > 1 ? objectsAfter : 0;
  const stitchBytes = Math.min(target, bytesOut);
  const stitchTaskGets = stitches ? (p.stitch.requests.get / m.bytesAfter) * stitchBytes + tasks : 0;
  const get = runGets + tasks * (sortTaskGets + mergeTaskGets) + stitches * stitchTaskGets;
  const list = p.run.requests.list * listPages(objectsDay) + tasks + stitches;
  const stageObjects = tasks * tasks;
  const stitched = stitches ? mergeOutputs * uploadRequests(mergeOutputBytes) + stitches : 0;
  const put = 1 + stageObjects + 2 * tasks + stitched + objectsAfter * uploadRequests(bytesOut / objectsAfter) + Math.ceil(objectsDay / 1000) + Math.ceil((stageObjects + mergeOutputs) / 1000) + 2;
  const requests = { put, list, get };
  const sortSeconds = ((perByte(p.sort) * Math.min(taskBytes, bytesIn)) / 1000) * cpuScale(memoryMb) + sortTaskGets * S3_REQUEST_SECONDS;
  const mergeSeconds = ((perByte(p.merge) * Math.min(taskBytes, bytesIn)) / 1000) * cpuScale(memoryMb) + mergeTaskGets * S3_REQUEST_SECONDS;
  const stitchSeconds = stitches
    ? ((p.stitch.ms / m.bytesAfter) * stitchBytes / 1000) * cpuScale(memoryMb) + (2 * stitchBytes) / S3_BYTES_PER_SECOND + stitchTaskGets * S3_REQUEST_SECONDS
    : 0;
  const runSeconds = ((p.run.ms / m.objectsBefore) * objectsDay / 1000) * cpuScale(memoryMb) + (runGets / 32 + list) * S3_REQUEST_SECONDS;
  const cpuMs = (m.ms / m.rowsIn) * rows;
  return {
    rows,
    tasks,
    objectsAfter,
    requests,
    taskSeconds: Math.max(sortSeconds, mergeSeconds, stitchSeconds, runSeconds),
    usage: maintenanceUsage(cpuMs, requests, memoryMb, 1 + 2 * tasks + stitches),
  };
}

/** The measured part of a day is compacted in this many sort tasks (and merge tasks): the phases a full day has, measured apart. */
export const MEASURED_SLICES = 4;

/** Full batches a simulated day has at least, so that its batches are the setting's and not cut short by the end of what is written. */
const MIN_BATCHES = 3;

/**
 * The records a simulated day writes for real: its first part, `records` or at most `invocations`
 * batches of the setting, but at least MIN_BATCHES of them, and never more than the day holds.
 */
export function measuredRecords(setting: TriggerSetting, traffic: number, records: number, invocations: number): number {
  const n = recordsPerWindow(setting, traffic);
  return Math.min(traffic * DAY_SECONDS, Math.max(MIN_BATCHES * n, Math.min(records, invocations * n)));
}

/**
 * The first `records` records of a day at `traffic` records/s through the
 * handler in the setting's batches, then the day's compaction by the
 * maintenance run of the next morning; the whole day derived from it.
 */
export async function simulateDay(setting: TriggerSetting, traffic: number, records: number, tempDir: string): Promise<DaySimulation> {
  const root = mkdtempSync(join(tempDir, 'day-'));
  try {
    const start = Date.UTC(2026, 10, 20) / 1000;
    if (records > traffic * DAY_SECONDS) throw new Error(`bench: ${records} records are more than a day at ${traffic} records/s`);
    const changes = new TableChanges(records, 17);
    const writer = streamWriter(root);
    const batches: BatchRun[] = [];
    function* stream(): Generator<DynamoDBRecord> {
      for (let i = 0; i < records; i++) yield changes.next(start + Math.floor(i / traffic));
    }
    for (const batch of cutBatches(stream(), recordsPerWindow(setting, traffic))) batches.push(await writer.write(batch));
    const now = (start + DAY_SECONDS + scheduleSecondsOfDay()) * 1000;
    const folder = new FolderStore(root);
    const inputs = (await folder.list(`${config().dataPrefix}/dt=${dayOf(start)}/`)).filter((o) => o.key.endsWith('.parquet'));
    const dayBytes = inputs.reduce((n, o) => n + o.size, 0);
    const rowsIn = await rowsOf(folder, inputs);
    // The measured part split as a full day is: the run plans and dispatches, then each task runs as its own invocation would.
    const split = { ...config(), maintenance: { ...config().maintenance, maxTaskBytes: Math.ceil(dayBytes / MEASURED_SLICES) } };
    const queued: MaintenanceTaskRequest[] = [];
    const phase = (): { ms: number; tasks: number; store: CountingStore } => ({ ms: 0, tasks: 0, store: new CountingStore(folder) });
    const phases = { run: phase(), sort: phase(), merge: phase(), stitch: phase() };
    const wall = performance.now();
    let t = process.cpuUsage();
    const run = await runMaintenance({ action: 'compact', checkpoint: false }, { store: phases.run.store, config: split, now, tempDir, dispatch: async (task) => void queued.push(task) });
    phases.run.ms += cpuMsSince(t);
    let result = run.days.find((d) => d.dt === dayOf(start));
    while (queued.length) {
      const task = queued.shift()!;
      const p = phases[task.phase];
      t = process.cpuUsage();
      await runMaintenanceTask(task, { store: p.store, config: split, now, tempDir, dispatch: async (next) => void queued.push(next) });
      p.ms += cpuMsSince(t);
      p.tasks++;
    }
    // The next run finds the day compacted (the last merge task committed) and reports it.
    t = process.cpuUsage();
    const after = await runMaintenance({ action: 'compact', checkpoint: false }, { store: phases.run.store, config: split, now, tempDir });
    phases.run.ms += cpuMsSince(t);
    const wallMs = performance.now() - wall;
    const objectsAfter = (await folder.list(`${config().dataPrefix}/dt=${dayOf(start)}/`)).filter((o) => o.key.endsWith('.parquet'));
    // A measured part too small to cut (one object of one row group: the --quick sizes) compacts in the run's one task;
    // then that task stands for a sort task and for a merge task alike (an upper bound for the merge).
    const unsplit = result?.status === 'compacted';
    if (!result || (!unsplit && (result.status !== 'dispatched' || phases.sort.tasks < 2)) || after.days.find((d) => d.dt === dayOf(start))?.status !== 'already-compact') {
      throw new Error(`bench: the day was not compacted (${JSON.stringify(run.days)}, ${phases.sort.tasks} sort tasks)`);
    }
    result = { ...result, rowsIn, rowsOut: await rowsOf(folder, objectsAfter), objectsAfter: objectsAfter.length, bytesAfter: objectsAfter.reduce((n, o) => n + o.size, 0) };
    const requests = addRequests(phases.run.store.requests, phases.sort.store.requests, phases.merge.store.requests, phases.stitch.store.requests);
    const measuredPhase = (p: ReturnType<typeof phase>): PhaseRun => ({ ms: p.ms, tasks: p.tasks, requests: { ...p.store.requests } });
    const ms = phases.run.ms + phases.sort.ms + phases.merge.ms + phases.stitch.ms;
    const whole: PhaseRun = { ...measuredPhase(phases.run), tasks: 1 };
    const compaction: MaintenanceRun = {
      ms,
      phases: unsplit
        ? { run: whole, sort: whole, merge: whole, stitch: { ms: 0, tasks: 0, requests: { put: 0, list: 0, get: 0 } } }
        : { run: measuredPhase(phases.run), sort: measuredPhase(phases.sort), merge: measuredPhase(phases.merge), stitch: measuredPhase(phases.stitch) },
      rowsIn: result.rowsIn,
      rowsOut: result.rowsOut,
      objectsBefore: result.objectsBefore,
      objectsAfter: result.objectsAfter,
      bytesBefore: result.bytesBefore,
      bytesAfter: result.bytesAfter,
      requests,
    };

    const jsonBytes = batches.reduce((sum, b) => sum + b.payloadBytes, 0);
    const dayRecords = DAY_SECONDS * traffic;
    const scale = dayRecords / records;
    // Records per invocation as the batches were cut (the median: the last batch is what was left), objects per batch as
    // measured (a batch across midnight writes two).
    const n = median(batches.map((b) => b.records));
    const invocations = Math.ceil(dayRecords / n);
    const objectsBefore = Math.round(invocations * (writer.sink.puts / batches.length));
    const handlerMsMedian = median(batches.map((b) => b.ms));
    const invocationSeconds = (handlerMsMedian / 1000) * cpuScale(setting.memoryMb) + (writer.sink.puts / batches.length) * S3_REQUEST_SECONDS;
    // The first record of a batch waits for the batch to fill or the window to end, then for the invocation.
    const fill = Math.min(Math.max(setting.windowSeconds, POLL_SECONDS), n / traffic);
    const full = fullDayCompaction(compaction, scale, objectsBefore, setting.memoryMb);
    return {
      setting,
      traffic,
      recordsPerInvocation: n,
      measured: {
        records,
        seconds: records / traffic,
        jsonBytes,
        invocations: batches.length,
        objects: writer.sink.puts,
        objectBytes: writer.sink.bytes,
        handlerMsMedian,
        handlerMsTotal: batches.reduce((sum, b) => sum + b.ms, 0),
        compaction: { ...compaction, wallMs, rowsPerSecond: compaction.rowsIn / (ms / 1000) },
      },
      day: { scale, records: dayRecords, invocations, objectsBefore, compaction: full },
      invocationSeconds,
      latencySeconds: fill + invocationSeconds,
      perGb: {
        stream: scaleUsage(streamUsage(batches, setting.memoryMb), GB / jsonBytes),
        compaction: scaleUsage(full.usage, GB / (jsonBytes * scale)),
      },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// Days of changes over one table, with the daily maintenance: what the current-state query reads

export interface DayOfLake {
  readonly day: string;
  readonly jsonBytes: number;
  readonly streamObjects: number;
  /** At the end of the day, before that night's maintenance: the pointer's checkpoint, and the objects of the days from its bound. */
  readonly checkpointBytes: number;
  readonly checkpointParts: number;
  readonly recentBytes: number;
  readonly queryBytes: number;
  readonly queryObjects: number;
  /** Every object of the table (compacted days and the open one): what a query that the view does not prune reads. */
  readonly tableBytes: number;
  readonly tableObjects: number;
  /** What the query reads the morning after, once that night's compaction and checkpoint are done (the checkpoint alone: the next day has no records yet). */
  readonly afterMaintenanceBytes: number;
  /** Every stream object written so far: what the view read before checkpoints, with no maintenance at all. */
  readonly allStreamBytes: number;
  readonly compaction: { readonly ms: number; readonly requests: Requests; readonly bytesAfter: number; readonly objectsAfter: number };
  readonly checkpoint: { readonly ms: number; readonly requests: Requests; readonly rowsIn: number; readonly rowsOut: number; readonly bytes: number };
}

export interface LakeDaysResult {
  /** Its batches are this setting's at the stated traffic. */
  readonly setting: TriggerSetting;
  readonly keys: number;
  readonly changesPerDay: number;
  readonly recordsPerInvocation: number;
  readonly days: readonly DayOfLake[];
  /** queryBytes at the end of the last day / at the end of the first. */
  readonly scanRatio: number;
  /** The same the morning after the last day's maintenance / the morning after the first day's. */
  readonly scanRatioAfterMaintenance: number;
  /** queryBytes at the end of the last day / at the end of the second (the first day with a checkpoint): growth with history alone. */
  readonly growthSinceDay2: number;
  readonly scanRatioWithoutMaintenance: number;
  /** A checkpoint at full scale (the table and the day scaled to the stated traffic), from the runs after the first. */
  readonly checkpoint: { readonly scale: number; readonly jsonBytesPerDay: number; readonly full: FullScaleRun };
}

/**
 * A checkpoint at full scale from the measured ones (every run but the
 * first, which has no previous checkpoint; each ran as one task, the table
 * being small). At full scale its inputs (the previous checkpoint and the
 * new day) are cut into one sort task per maxTaskBytes and as many merge
 * tasks: a task's time is the measured CPU per input byte for maxTaskBytes
 * (a one-task checkpoint reads, sorts and writes, as a sort task does; a
 * merge task merges instead of sorting, and is faster), stretched to the
 * memory's CPU share, plus its requests one after the other; the CPU in
 * all is counted twice, once per phase (an upper bound). GETs per input
 * object as measured, where a full-size input has a row group per
 * rowGroupRows rows instead of the one a small object has, and the stage
 * objects: one per sort task and bucket.
 */
function fullCheckpoint(runs: readonly DayOfLake[], scale: number, memoryMb: number): FullScaleRun {
  const mean = (f: (d: DayOfLake) => number): number => runs.reduce((sum, d) => sum + f(d), 0) / runs.length;
  const rowsIn = mean((d) => d.checkpoint.rowsIn);
  const rows = rowsIn * scale;
  const measuredBytes = mean((d) => d.checkpointBytes + d.compaction.bytesAfter);
  const inputBytes = measuredBytes * scale;
  const taskBytes = Math.min(DEFAULTS.compaction.maxTaskBytes, inputBytes);
  const tasks = Math.max(1, Math.ceil(inputBytes / DEFAULTS.compaction.maxTaskBytes));
  const inputObjects = mean((d) => d.checkpointParts + d.compaction.objectsAfter);
  const rowGroups = Math.max(inputObjects, rows / COMPACTION_DEFAULTS.rowGroupRows);
  const inputGets = mean((d) => d.checkpoint.requests.get) * (rowGroups / inputObjects);
  const stageObjects = tasks > 1 ? tasks * tasks : 0;
  const get = inputGets + 2 * stageObjects;
  const list = mean((d) => d.checkpoint.requests.list) + tasks;
  const bytesOut = mean((d) => d.checkpoint.bytes) * scale;
  // One part per task (a multipart upload when large) and its marker, the stage objects and the sort markers, beside the run's own writes.
  const put = mean((d) => d.checkpoint.requests.put) - 2 + tasks * (uploadRequests(bytesOut / tasks) + 1) + (tasks > 1 ? stageObjects + tasks : 0);
  const requests = { put, list, get };
  const msPerByte = mean((d) => d.checkpoint.ms) / measuredBytes;
  const cpuMs = msPerByte * inputBytes * (tasks > 1 ? 2 : 1);
  const taskSeconds = ((msPerByte * taskBytes) / 1000) * cpuScale(memoryMb) + (get / Math.max(1, tasks)) * S3_REQUEST_SECONDS;
  return { rows, tasks, objectsAfter: tasks, requests, taskSeconds, usage: maintenanceUsage(cpuMs, requests, memoryMb, tasks > 1 ? 1 + 2 * tasks : 1) };
}

/**
 * `days` days of `changesPerDay` changes over a table of `keys` items (the
 * first day loads every item, so the table is the same from the end of day 1
 * on; later days change items at random, a tenth of the changes removes an
 * item: with as many changes a day as items, each day writes about what the
 * first did, so a lake without maintenance grows with the days, the issue's
 * "about 30x"), written by the handler in the setting's batches at the
 * stated traffic (a scaled day: the batches of that traffic, fewer of them).
 * At the end of each day, before that night's maintenance, the bytes the
 * current-state query must read, as Athena would (the objects under the
 * pointer's checkpoint partition, and the objects of the days >= its bound:
 * src/maintenance/view-inputs.ts); then the run the schedule starts the
 * next morning: compaction, then a checkpoint; then the bytes again.
 */
export async function simulateDays(setting: TriggerSetting, keys: number, changesPerDay: number, days: number, tempDir: string): Promise<LakeDaysResult> {
  const root = mkdtempSync(join(tempDir, 'days-'));
  try {
    const cfg = config();
    const s = { dataPrefix: cfg.dataPrefix, statePrefix: cfg.maintenance.statePrefix };
    const start = Date.UTC(2026, 9, 1) / 1000;
    const n = recordsPerWindow(setting, TRAFFIC_PER_SHARD);
    const changes = new TableChanges(keys, 29);
    // Day 1 inserts every item once, in an order of its own (a fixed shuffle), before changing any.
    const load = Array.from({ length: keys }, (_, i) => i);
    for (let i = load.length - 1; i > 0; i--) {
      const j = (i * 7919 + 13) % (i + 1);
      [load[i], load[j]] = [load[j]!, load[i]!];
    }
    const writer = streamWriter(root);
    const lake = new FolderStore(root);
    const out: DayOfLake[] = [];
    let changed = 0;
    for (let d = 0; d < days; d++) {
      const dayStart = start + d * DAY_SECONDS;
      let jsonBytes = 0;
      const objects = writer.sink.puts;
      function* stream(): Generator<DynamoDBRecord> {
        for (let i = 0; i < changesPerDay; i++, changed++) {
          const at = dayStart + Math.floor((i * DAY_SECONDS) / changesPerDay);
          yield changed < keys ? changes.next(at, load[changed]) : changes.next(at);
        }
      }
      for (const batch of cutBatches(stream(), n)) jsonBytes += (await writer.write(batch)).payloadBytes;
      // What the current-state query reads now, selected as Athena selects it (src/maintenance/view-inputs.ts, as npm start and ddb-flatten compact count it).
      const view = await currentStateInputs(lake, s);
      const table = await tableObjects(lake, s);

      const now = (dayStart + DAY_SECONDS + scheduleSecondsOfDay()) * 1000;
      const compactStore = new CountingStore(lake);
      let t = process.cpuUsage();
      const compacted = await runMaintenance({ action: 'compact', checkpoint: false }, { store: compactStore, config: cfg, now, tempDir });
      const compactMs = cpuMsSince(t);
      const today = compacted.days.find((x) => x.dt === dayOf(dayStart));
      const checkpointStore = new CountingStore(lake);
      t = process.cpuUsage();
      const run = await runMaintenance({ action: 'checkpoint', checkpoint: true }, { store: checkpointStore, config: cfg, now, tempDir });
      const checkpointMs = cpuMsSince(t);
      const c = run.checkpoint!;
      if (c.status !== 'written' || today?.status !== 'compacted') throw new Error(`bench: day ${dayOf(dayStart)} was not compacted and checkpointed (${today?.status}, ${c.status})`);
      // The morning after, the run done: what `npm start -- --days N` prints (the open day has no records yet here).
      const after = await currentStateInputs(lake, s);
      const written = after.checkpoint;
      out.push({
        day: dayOf(dayStart),
        jsonBytes,
        streamObjects: writer.sink.puts - objects,
        checkpointBytes: view.checkpoint.bytes,
        checkpointParts: view.checkpoint.objects,
        recentBytes: view.table.bytes,
        queryBytes: view.bytes,
        queryObjects: view.objects,
        tableBytes: table.bytes,
        tableObjects: table.objects,
        afterMaintenanceBytes: after.bytes,
        allStreamBytes: writer.sink.bytes,
        compaction: { ms: compactMs, requests: { ...compactStore.requests }, bytesAfter: today.bytesAfter, objectsAfter: today.objectsAfter },
        checkpoint: { ms: checkpointMs, requests: { ...checkpointStore.requests }, rowsIn: c.rowsIn, rowsOut: c.rowsOut, bytes: written.bytes },
      });
    }
    const first = out[0]!;
    const last = out[out.length - 1]!;
    const steady = out.length > 1 ? out.slice(1) : out;
    // At full scale the day has the stated traffic's records, and the table as many more items.
    const scale = (DAY_SECONDS * TRAFFIC_PER_SHARD) / changesPerDay;
    const jsonBytesPerDay = (steady.reduce((sum, d) => sum + d.jsonBytes, 0) / steady.length) * scale;
    return {
      setting,
      keys,
      changesPerDay,
      recordsPerInvocation: n,
      days: out,
      scanRatio: last.queryBytes / first.queryBytes,
      scanRatioAfterMaintenance: last.afterMaintenanceBytes / first.afterMaintenanceBytes,
      growthSinceDay2: last.queryBytes / (out[1] ?? first).queryBytes,
      scanRatioWithoutMaintenance: last.allStreamBytes / first.allStreamBytes,
      checkpoint: { scale, jsonBytesPerDay, full: fullCheckpoint(steady, scale, setting.memoryMb) },
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** The full-scale checkpoint's usage per GB of the day's JSON, at `memoryMb`. */
export function checkpointPerGb(l: LakeDaysResult, memoryMb: number): Usage {
  const full = fullCheckpoint(l.days.length > 1 ? l.days.slice(1) : l.days, l.checkpoint.scale, memoryMb);
  return scaleUsage(full.usage, GB / l.checkpoint.jsonBytesPerDay);
}

// ---------------------------------------------------------------------------------------------
// The whole lake bench

export interface LakeSizes {
  /** Records of the scaled day each setting writes for real (the first part of the day)... */
  readonly dayRecords: number;
  /** ...in at most this many invocations (a quiet shard's batches are small: fewer records do). */
  readonly dayInvocations: number;
  readonly tableKeys: number;
  readonly changesPerDay: number;
  readonly days: number;
}

export interface SettingCost {
  readonly setting: TriggerSetting;
  readonly isDefault: boolean;
  readonly isRecommended: boolean;
  readonly traffic: number;
  readonly recordsPerInvocation: number;
  readonly objectsPerDay: number;
  readonly objectsAfterCompaction: number;
  readonly latencySeconds: number;
  readonly compactionTaskSeconds: number;
  readonly perGb: { readonly stream: Cost; readonly compaction: Cost; readonly checkpoint: Cost; readonly total: number };
  /** At most COST_TARGET_SHARE of Firehose's $/GB, and the latency within LATENCY_TARGET_SECONDS. */
  readonly meetsTarget: boolean;
  /** The same against Firehose with its conversion billed on the records' own bytes (the lower Firehose figure). */
  readonly meetsTargetConversionUnrounded: boolean;
}

export interface LakeResult {
  /** Mean DynamoDB JSON bytes a record in the defaults' day (the records every $/GB here is of). */
  readonly recordBytes: number;
  readonly prices: typeof PRICES;
  readonly model: {
    readonly s3RequestSeconds: number;
    readonly fullVcpuMb: number;
    readonly trafficPerShard: number;
    readonly quietTrafficPerShard: readonly number[];
    readonly functionTimeoutSeconds: number;
    readonly latencyTargetSeconds: number;
    readonly costTargetShare: number;
  };
  readonly defaults: TriggerSetting;
  readonly recommended: TriggerSetting;
  /** The defaults at the stated traffic. */
  readonly day: DaySimulation;
  readonly lakeDays: LakeDaysResult;
  /** The same days at the recommended setting, when it is not the defaults. */
  readonly recommendedDays?: LakeDaysResult;
  readonly firehose: ReturnType<typeof firehosePerGb>;
  readonly settings: readonly SettingCost[];
  readonly simulations: readonly DaySimulation[];
}

export async function runLakeBench(sizes: LakeSizes, tempDir: string, log: (line: string) => void = () => {}): Promise<LakeResult> {
  // Warm the handler and the maintenance code up (JIT) before anything is timed.
  await simulateDay(DEFAULT_SETTING, TRAFFIC_PER_SHARD, Math.min(2_000, sizes.dayRecords), tempDir);

  const settings = [DEFAULT_SETTING, ...CANDIDATE_SETTINGS.filter((c) => !sameSetting(c, DEFAULT_SETTING))];
  const traffics = [TRAFFIC_PER_SHARD, ...QUIET_TRAFFIC_PER_SHARD];
  log(`lake: the first part of a day (up to ${count(sizes.dayRecords)} records in ${count(sizes.dayInvocations)} invocations) at ${settings.length} settings, ${traffics.join(', ')} records/s, each day compacted`);
  const simulations: DaySimulation[] = [];
  for (const traffic of traffics) {
    for (const setting of settings) simulations.push(await simulateDay(setting, traffic, measuredRecords(setting, traffic, sizes.dayRecords, sizes.dayInvocations), tempDir));
  }
  const days = (setting: TriggerSetting): Promise<LakeDaysResult> => {
    log(`lake: ${sizes.days} days of ${count(sizes.changesPerDay)} changes over ${count(sizes.tableKeys)} items at ${describeSetting(setting)}, with the daily compaction and checkpoint`);
    return simulateDays(setting, sizes.tableKeys, sizes.changesPerDay, sizes.days, tempDir);
  };
  const lakeDays = await days(DEFAULT_SETTING);
  const recommendedDays = sameSetting(RECOMMENDED_SETTING, DEFAULT_SETTING) ? undefined : await days(RECOMMENDED_SETTING);

  // Firehose is priced on the records the pipeline is priced on.
  const day = simulations[0]!;
  const recordBytes = day.measured.jsonBytes / day.measured.records;
  const firehose = firehosePerGb(recordBytes);
  const costs: SettingCost[] = simulations.map((sim) => {
    const stream = priceOf(sim.perGb.stream);
    const compaction = priceOf(sim.perGb.compaction);
    // Checkpoints read the compacted days, so their cost does not depend on the trigger; it does on memory.
    const checkpoint = priceOf(checkpointPerGb(lakeDays, sim.setting.memoryMb));
    const total = stream.total + compaction.total + checkpoint.total;
    const fast = sim.latencySeconds <= LATENCY_TARGET_SECONDS;
    return {
      setting: sim.setting,
      isDefault: sameSetting(sim.setting, DEFAULT_SETTING),
      isRecommended: sameSetting(sim.setting, RECOMMENDED_SETTING),
      traffic: sim.traffic,
      recordsPerInvocation: sim.recordsPerInvocation,
      objectsPerDay: sim.day.objectsBefore,
      objectsAfterCompaction: sim.day.compaction.objectsAfter,
      latencySeconds: sim.latencySeconds,
      compactionTaskSeconds: sim.day.compaction.taskSeconds,
      perGb: { stream, compaction, checkpoint, total },
      meetsTarget: fast && total <= firehose.total * COST_TARGET_SHARE,
      meetsTargetConversionUnrounded: fast && total <= firehose.totalConversionUnrounded * COST_TARGET_SHARE,
    };
  });
  return {
    recordBytes,
    prices: PRICES,
    model: {
      s3RequestSeconds: S3_REQUEST_SECONDS,
      fullVcpuMb: FULL_VCPU_MB,
      trafficPerShard: TRAFFIC_PER_SHARD,
      quietTrafficPerShard: QUIET_TRAFFIC_PER_SHARD,
      functionTimeoutSeconds: DEFAULTS.lambda.timeout,
      latencyTargetSeconds: LATENCY_TARGET_SECONDS,
      costTargetShare: COST_TARGET_SHARE,
    },
    defaults: DEFAULT_SETTING,
    recommended: RECOMMENDED_SETTING,
    day,
    lakeDays,
    recommendedDays,
    firehose,
    settings: costs,
    simulations,
  };
}
