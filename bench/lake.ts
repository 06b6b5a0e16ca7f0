import { createReadStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { DuckDBInstance } from '@duckdb/node-api';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { S3Client } from '@aws-sdk/client-s3';
import { createStreamHandler } from '../handlers/stream.ts';
import { DEFAULTS } from '../modules/props.ts';
import { MAX_CONTINUATIONS, runMaintenance, type MaintenanceResult } from '../src/actions/maintenance.ts';
import { parseExportDataKey } from '../src/backfill/export-layout.ts';
import { flattenExportFile } from '../src/backfill/flatten-export-file.ts';
import { loadPipelineConfig, type PipelineConfig } from '../src/config/pipeline-config.ts';
import type { AttributeValue, Item } from '../src/flatten/attribute-value.ts';
import type { ByteOutput } from '../src/io/byte-output.ts';
import { FolderStore, type LakeStore, type StoredObject } from '../src/lake/lake-store.ts';
import { PART_BYTES } from '../src/lake/s3-output.ts';
import { DirectorySink, type LakeSink } from '../src/lake/sink.ts';
import { readPointer } from '../src/maintenance/checkpoint.ts';
import { CHECKPOINT_ZSTD_LEVEL, isDataFile } from '../src/maintenance/compaction.ts';
import { COPY_CONCURRENCY } from '../src/maintenance/copy-objects.ts';
import { DuckDbEngine } from '../src/maintenance/duckdb-engine.ts';
import type { MaintenanceEngine, QueryStatus, UnloadStatement } from '../src/maintenance/engine.ts';
import { checkpointSql } from '../src/maintenance/statements.ts';
import { currentStateInputs } from '../src/maintenance/view-inputs.ts';
import { streamRecord } from '../test/support/stream-events.ts';
import { exportItem } from './export-file.ts';
import {
  addRequests,
  addUsage,
  ATHENA_MODEL,
  checkpointCadence,
  checkpointExtraRequests,
  compactionExtraRequests,
  DAY_SECONDS,
  DYNAMODB,
  EVENT_SOURCE,
  firehosePerGb,
  fitLine,
  GB,
  NO_REQUESTS,
  partitionsOf,
  priceOf,
  runCost,
  S3_REQUEST_SECONDS,
  scaleUsage,
  statement,
  streamDay,
  type Cadence,
  type Cost,
  type FunctionSetting,
  type ModelInput,
  type Partitions,
  type Requests,
  type RunCost,
  type Statement,
  type StreamDay,
  type StreamMeasure,
  type TriggerSetting,
  type Usage,
} from './lake-model.ts';
import { median } from './measure.ts';
import { count } from './report.ts';

/**
 * The lake at the sizes users have (issue 22): what the stream path and the
 * maintenance (src/maintenance/: one Athena statement a compacted day, one a
 * checkpoint, rebuilt when it pays off) cost per GB of DynamoDB JSON, for
 * tables of 10 M, 100 M and 1 B items changing 1%, 10% and 100% of their
 * items a day, and the morning after a backfill of each.
 *
 * Measured in this run (the real code, at a size this machine runs):
 * - the stream path: batches of the table's changes through the Lambda's
 *   stream handler (Middy, JSON.parse of the payload included) at several
 *   batch sizes: CPU per batch and bytes of the object it writes;
 * - the backfill: export data files through the backfill's own code
 *   (flattenExportFile, over an S3 stand-in), one SNAPSHOT object a file;
 * - the lake's life: a backfill, then 30 days of changes at 1% and 10% of
 *   the items a day, each morning the real runMaintenance with the DuckDB
 *   engine at the module's defaults (share 0.25, max age 30 days): bytes a row of
 *   what DuckDB writes (compacted days, checkpoints: a stand-in for
 *   Athena's Parquet writer), DuckDB's bytes per CPU-second for each
 *   statement, the function's own S3 requests (counted on the store), and
 *   what a current-state query reads each morning against a checkpoint
 *   written then (query.currentState.scanRatio).
 * Modelled (bench/lake-model.ts): everything at full size, from those
 * measurements and from published prices and limits, with assumptions
 * where nothing is published (each in the model's inputs, with why).
 */

const DAY_MS = DAY_SECONDS * 1000;

/** "a tenth of Firehose": the target of every $/GB figure. */
export const COST_TARGET_SHARE = 0.1;

export const TABLE_ITEMS = [1e7, 1e8, 1e9] as const;
export const CHURNS = [0.01, 0.1, 1] as const;
/** Churns the simulated lake lives through for 30 days (the scan ratio); 100% is modelled only. */
export const SIMULATED_CHURNS = [0.01, 0.1] as const;

/** The module's defaults, as synthesised (modules/props.ts DEFAULTS: the figures follow a change of them). */
export const DEFAULT_TRIGGER: TriggerSetting = {
  batchSize: DEFAULTS.eventSourceMapping.batchSize,
  windowSeconds: DEFAULTS.eventSourceMapping.maximumBatchingWindowInSeconds,
};
/** The longest window a DynamoDB stream's event source mapping allows. */
export const LONGEST_WINDOW_TRIGGER: TriggerSetting = { ...DEFAULT_TRIGGER, windowSeconds: EVENT_SOURCE.maxWindowSeconds };

/** handlers/actions.ts RESERVE_MS: a quarter of the remaining time, at most 30 s. */
const reserveSeconds = (timeout: number): number => Math.min(30, timeout * 0.25);
/**
 * DeleteObjects requests S3Store.delete keeps in flight (src/lake/lake-store.ts PARALLEL_REQUESTS, not
 * exported): test/bench.test.ts drives the real S3Store and fails when this is not what it does.
 */
export const DELETE_CONCURRENCY = 8;
export const DEFAULT_FUNCTION: FunctionSetting = {
  memoryMb: DEFAULTS.lambda.memorySize,
  timeoutSeconds: DEFAULTS.lambda.timeout,
  reserveSeconds: reserveSeconds(DEFAULTS.lambda.timeout),
  copyConcurrency: COPY_CONCURRENCY,
  deleteConcurrency: DELETE_CONCURRENCY,
  maxContinuations: MAX_CONTINUATIONS,
};

export const REBUILD = { share: DEFAULTS.compaction.checkpointRebuildShare, maxAgeDays: DEFAULTS.compaction.checkpointMaxAgeDays } as const;

export const caseId = (items: number, churn: number | 'backfill'): string =>
  `items${items.toExponential(0).replace('+', '')}.${churn === 'backfill' ? 'backfill' : `churn${Math.round(churn * 100)}`}`;

// ---------------------------------------------------------------------------------------------
// The table and its changes

/** mulberry32, as bench/export-file.ts seeds it. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STATUSES = ['PLACED', 'PAID', 'PACKED', 'SHIPPED', 'DELIVERED', 'RETURNED'];

/** Order `index` at version `version`: the export's seed-shaped order (bench/export-file.ts), its status moved on and a line's quantity changed. */
export function orderVersion(index: number, version: number): Item {
  const item = structuredClone(exportItem(index));
  if (version === 0) return item;
  const status = (item.status as { S: string }).S;
  item.status = { S: STATUSES[(STATUSES.indexOf(status) + version) % STATUSES.length]! };
  const lines = (item.items as { L: { M: Record<string, AttributeValue> }[] }).L;
  const line = lines[version % lines.length];
  if (line) line.M.qty = { N: String(((Number((line.M.qty as { N: string }).N) + version) % 6) + 1) };
  return item;
}

/** Share of changes to a present item that remove it; a change to an absent item inserts it. */
export const REMOVE_SHARE = 0.05;

/**
 * A table of `items` orders (seed-shaped: about 28 rows each) changing at
 * random, as its NEW_AND_OLD_IMAGES stream delivers the changes: MODIFY
 * with both images, REMOVE with the old one, INSERT of an order that was
 * removed. The table's size stays about constant (about 95% of the orders
 * are present at any time).
 */
export class OrderTable {
  readonly items: number;
  /** Version of each order; -1 while it is removed. */
  private readonly versions: Int32Array;
  private readonly random: () => number;
  private sequence = 4_421_584_500_000_000_017_450_000_000n;
  constructor(items: number, seed: number) {
    this.items = items;
    this.versions = new Int32Array(items);
    this.random = rng(seed);
  }
  present(index: number): boolean {
    return this.versions[index]! >= 0;
  }
  /** The export line of every present order, in index order, as DynamoDB's export writes them. */
  *exportLines(from = 0, to = this.items): Generator<string> {
    for (let i = from; i < to; i++) if (this.present(i)) yield `${JSON.stringify({ Item: orderVersion(i, this.versions[i]!) })}\n`;
  }
  /** The next change, made at epoch second `at`, to a random order. */
  next(at: number): DynamoDBRecord {
    const index = Math.floor(this.random() * this.items);
    const pk = `ORDER#${String(index).padStart(10, '0')}`;
    const keys: Item = { pk: { S: pk } };
    const sequence = this.sequence++;
    const version = this.versions[index]!;
    if (version < 0) {
      this.versions[index] = 0;
      return streamRecord({ eventName: 'INSERT', keys, newImage: orderVersion(index, 0), at, sequence });
    }
    const old = orderVersion(index, version);
    if (this.random() < REMOVE_SHARE) {
      this.versions[index] = -1;
      return streamRecord({ eventName: 'REMOVE', keys, oldImage: old, at, sequence });
    }
    this.versions[index] = version + 1;
    return streamRecord({ eventName: 'MODIFY', keys, newImage: orderVersion(index, version + 1), oldImage: old, at, sequence });
  }
}

/**
 * DynamoDB's size of a value, by its published rules
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html):
 * strings their UTF-8 bytes, numbers one byte a two significant digits plus one, booleans and
 * nulls one byte, lists and maps 3 bytes plus a byte an element plus their elements (and the
 * names of a map's attributes); sets are counted as their elements' sizes (the page gives no
 * overhead for them).
 */
export function attributeValueBytes(v: AttributeValue): number {
  const value = v as Record<string, unknown>;
  if ('S' in value) return Buffer.byteLength(value.S as string);
  if ('N' in value) {
    const digits = String(value.N).replace(/^[-+]/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '').length;
    return Math.ceil(Math.max(1, digits) / 2) + 1;
  }
  if ('B' in value) return Buffer.from(value.B as string, 'base64').length;
  if ('BOOL' in value || 'NULL' in value) return 1;
  if ('SS' in value) return (value.SS as string[]).reduce((n, s) => n + Buffer.byteLength(s), 0);
  if ('NS' in value) return (value.NS as string[]).reduce((n, s) => n + attributeValueBytes({ N: s }), 0);
  if ('BS' in value) return (value.BS as string[]).reduce((n, s) => n + Buffer.from(s, 'base64').length, 0);
  if ('L' in value) return 3 + (value.L as AttributeValue[]).reduce((n, e) => n + 1 + attributeValueBytes(e), 0);
  if ('M' in value) return 3 + Object.entries(value.M as Record<string, AttributeValue>).reduce((n, [k, e]) => n + 1 + Buffer.byteLength(k) + attributeValueBytes(e), 0);
  throw new Error(`not an attribute value: ${JSON.stringify(v)}`);
}

/** An item's size as DynamoDB counts it: its attributes' names and values. */
export const itemBytes = (item: Item): number => Object.entries(item).reduce((n, [k, v]) => n + Buffer.byteLength(k) + attributeValueBytes(v), 0);

// ---------------------------------------------------------------------------------------------
// Counting S3 requests

/** What S3Store sends for an object of `bytes`: one PutObject, or a multipart upload in PART_BYTES parts. */
const storeUploadRequests = (bytes: number): number => (bytes < PART_BYTES ? 1 : 2 + Math.ceil(bytes / PART_BYTES));

/** A LakeStore that counts the S3 requests S3Store would send for each call, and passes it on. */
export class CountingStore implements LakeStore {
  requests: { -readonly [K in keyof Requests]: number } = { ...NO_REQUESTS };
  private readonly inner: LakeStore;
  constructor(inner: LakeStore) {
    this.inner = inner;
  }
  describe(key: string): string {
    return this.inner.describe(key);
  }
  async list(prefix: string): Promise<StoredObject[]> {
    const out = await this.inner.list(prefix);
    this.requests.list += Math.max(1, Math.ceil(out.length / 1000));
    return out;
  }
  async folders(prefix: string): Promise<string[]> {
    const out = await this.inner.folders(prefix);
    this.requests.list += Math.max(1, Math.ceil(out.length / 1000));
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
    await this.inner.write(key, body, contentType);
    this.requests.put += storeUploadRequests(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  }
  async output(key: string, contentType: string): Promise<ByteOutput> {
    const out = await this.inner.output(key, contentType);
    let bytes = 0;
    return {
      name: out.name,
      streaming: out.streaming,
      write: (chunk) => {
        bytes += typeof chunk === 'string' ? Buffer.byteLength(chunk) : chunk.length;
        return out.write(chunk);
      },
      commit: async () => {
        await out.commit();
        this.requests.put += storeUploadRequests(bytes);
      },
      abort: () => out.abort(),
      abortSync: () => out.abortSync(),
    };
  }
  async delete(keys: readonly string[]): Promise<void> {
    // DeleteObjects, 1,000 keys a request (a POST); S3Store sends none for no keys.
    this.requests.delete += Math.ceil(keys.length / 1000);
    await this.inner.delete(keys);
  }
  async copy(from: StoredObject, to: string): Promise<void> {
    // CopyObject up to 5 GiB; a larger object is copied in 1 GiB parts (create, parts, complete).
    this.requests.copy += from.size <= 5 * 1024 ** 3 ? 1 : 2 + Math.ceil(from.size / 1024 ** 3);
    await this.inner.copy(from, to);
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
// The function's configuration and the stream handler

const ENV = {
  LAKE_BUCKET: 'bench-lake',
  LAKE_PREFIX: DEFAULTS.lake.dataPrefix,
  STATE_PREFIX: DEFAULTS.lake.statePrefix,
  QUARANTINE_PREFIX: DEFAULTS.lake.quarantinePrefix,
  EXPORT_PREFIX: DEFAULTS.backfill.exportPrefix,
  EXPLODE_ATTRIBUTES: 'items',
  PARTITION_KEY: 'pk',
  CARRY_ATTRIBUTES: 'customer_id',
  MAXIMUM_RECORD_AGE_SECONDS: String(DEFAULTS.eventSourceMapping.maximumRecordAgeInSeconds),
  COMPACTION_MARGIN_SECONDS: String(DEFAULTS.compaction.marginSeconds),
  COMPACTION_LOOKBACK_DAYS: String(DEFAULTS.compaction.lookbackDays),
  COMPACTION_TARGET_BYTES: String(DEFAULTS.compaction.targetBytes),
  CHECKPOINT_RETENTION: String(DEFAULTS.compaction.checkpointRetention),
  CHECKPOINT_REBUILD_SHARE: String(DEFAULTS.compaction.checkpointRebuildShare),
  CHECKPOINT_MAX_AGE_DAYS: String(DEFAULTS.compaction.checkpointMaxAgeDays),
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

/**
 * Milliseconds of CPU this process spent (every thread: the handler, the file system's threads,
 * DuckDB's threads, the garbage collector) since `from`: what a share of a vCPU has to provide,
 * and much less moved by other processes on a busy machine than a wall clock.
 */
function cpuMsSince(from: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(from);
  return (d.user + d.system) / 1000;
}

interface BatchRun {
  readonly records: number;
  readonly payloadBytes: number;
  readonly rows: number;
  readonly objects: number;
  readonly objectBytes: number;
  readonly ms: number;
}

/** The Lambda's stream handler (Middy, Powertools logger, EMF metrics) over a counting sink into a folder. */
function streamWriter(root: string): { write: (records: readonly DynamoDBRecord[]) => Promise<BatchRun>; sink: CountingSink } {
  const sink = new CountingSink(new DirectorySink(root));
  let rows = 0;
  const handler = createStreamHandler({
    config: config(),
    sink,
    logger: new Logger({ serviceName: 'ddb-flatten', logLevel: 'SILENT' }),
    // The handler's own metric line says how many rows the batch wrote.
    writeMetrics: (line) => void (rows = Number((JSON.parse(line) as { RowsWritten?: number }).RowsWritten ?? 0)),
  });
  return {
    sink,
    async write(records) {
      // The event source mapping serialises the batch; the runtime parses it inside the billed invocation.
      const payload = JSON.stringify({ Records: records });
      const puts = sink.puts;
      const bytes = sink.bytes;
      const t = process.cpuUsage();
      const event = JSON.parse(payload) as DynamoDBStreamEvent;
      const response = await handler(event, CONTEXT);
      const ms = cpuMsSince(t);
      if (response.batchItemFailures.length > 0) throw new Error('bench: the stream handler reported a failed batch');
      return { records: records.length, payloadBytes: payload.length, rows, objects: sink.puts - puts, objectBytes: sink.bytes - bytes, ms };
    },
  };
}

/** The records of a change stream in batches of at most `n`. */
function* batchesOf<T>(items: Iterable<T>, n: number): Generator<T[]> {
  let batch: T[] = [];
  for (const x of items) {
    batch.push(x);
    if (batch.length >= n) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

// ---------------------------------------------------------------------------------------------
// The stream path, measured at several batch sizes

export interface StreamPoint {
  readonly recordsPerBatch: number;
  readonly batches: number;
  readonly handlerMsMedian: number;
  readonly objectBytesMean: number;
  readonly rowsPerRecord: number;
}

export interface StreamMeasurement extends StreamMeasure {
  readonly points: readonly StreamPoint[];
  readonly rowsPerRecord: number;
  readonly recordBytesByEvent: Readonly<Record<string, number>>;
}

/**
 * Batches of `n` changes of a table through the real stream handler, for each n: the
 * handler's CPU (median batch) and the bytes of the object it writes; a line through them
 * gives the model any batch size. The table's changes are what the lake simulation writes:
 * MODIFY mostly, some REMOVE and INSERT.
 */
export async function measureStream(batchSizes: readonly number[], recordsPerSize: number, tempDir: string, log: (line: string) => void): Promise<StreamMeasurement> {
  const root = mkdtempSync(join(tempDir, 'stream-'));
  try {
    const table = new OrderTable(50_000, 11);
    const writer = streamWriter(root);
    const start = Date.UTC(2026, 9, 1, 1) / 1000;
    const points: StreamPoint[] = [];
    const runs: BatchRun[] = [];
    const bytesByEvent: Record<string, { n: number; bytes: number }> = {};
    let second = 0;
    // Warm the handler up (JIT) before anything is timed.
    for (let i = 0; i < 5; i++) await writer.write(Array.from({ length: 200 }, () => table.next(start + second++)));
    for (const n of batchSizes) {
      const batches = Math.max(3, Math.min(400, Math.ceil(recordsPerSize / n)));
      const at: BatchRun[] = [];
      for (let b = 0; b < batches; b++) {
        const records = Array.from({ length: n }, () => table.next(start + second++ % 80_000));
        for (const r of records) {
          const e = (bytesByEvent[r.eventName!] ??= { n: 0, bytes: 0 });
          e.n++;
          e.bytes += JSON.stringify(r).length + 1;
        }
        at.push(await writer.write(records));
      }
      runs.push(...at);
      const objects = at.reduce((s, r) => s + r.objects, 0);
      points.push({
        recordsPerBatch: n,
        batches,
        handlerMsMedian: median(at.map((r) => r.ms)),
        objectBytesMean: at.reduce((s, r) => s + r.objectBytes, 0) / at.length,
        rowsPerRecord: at.reduce((s, r) => s + r.rows, 0) / at.reduce((s, r) => s + r.records, 0),
      });
      log(`lake: stream batches of ${count(n)} records: ${points.at(-1)!.handlerMsMedian.toFixed(1)} ms CPU, ${Math.round(points.at(-1)!.objectBytesMean)} B an object (${objects} objects)`);
    }
    const records = runs.reduce((s, r) => s + r.records, 0);
    // A record's share of the payload: {"Records":[...]} less the envelope, a comma each.
    const recordBytes = runs.reduce((s, r) => s + r.payloadBytes - 14, 0) / records;
    return {
      points,
      handlerMs: points.map((p) => ({ x: p.recordsPerBatch, y: p.handlerMsMedian })),
      objectBytes: points.map((p) => ({ x: p.recordsPerBatch, y: p.objectBytesMean })),
      objectsPerBatch: runs.reduce((s, r) => s + r.objects, 0) / runs.length,
      recordBytes,
      rowsPerRecord: runs.reduce((s, r) => s + r.rows, 0) / records,
      recordBytesByEvent: Object.fromEntries(Object.entries(bytesByEvent).map(([k, v]) => [k, v.bytes / v.n])),
    };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The backfill's code path over an S3 stand-in

/**
 * Just enough of S3 for flattenExportFile: GetObject of an export data file from a folder, and
 * the PutObject and multipart upload of its SNAPSHOT object into the same folder (the bucket).
 */
class FolderS3 {
  readonly requests = { get: 0, put: 0 };
  private readonly root: string;
  private readonly uploads = new Map<string, Buffer[]>();
  constructor(root: string) {
    this.root = root;
  }
  private path(key: string): string {
    const p = join(this.root, key);
    mkdirSync(dirname(p), { recursive: true });
    return p;
  }
  async send(command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<unknown> {
    const input = command.input;
    switch (command.constructor.name) {
      case 'GetObjectCommand':
        this.requests.get++;
        return { Body: createReadStream(join(this.root, input.Key as string)) };
      case 'PutObjectCommand':
        this.requests.put++;
        writeFileSync(this.path(input.Key as string), input.Body as Buffer | string);
        return {};
      case 'CreateMultipartUploadCommand': {
        this.requests.put++;
        const id = `upload-${this.uploads.size + 1}`;
        this.uploads.set(id, []);
        return { UploadId: id };
      }
      case 'UploadPartCommand':
        this.requests.put++;
        this.uploads.get(input.UploadId as string)!.push(Buffer.from(input.Body as Buffer));
        return { ETag: `"${input.PartNumber}"` };
      case 'CompleteMultipartUploadCommand':
        this.requests.put++;
        writeFileSync(this.path(input.Key as string), Buffer.concat(this.uploads.get(input.UploadId as string)!));
        this.uploads.delete(input.UploadId as string);
        return {};
      case 'AbortMultipartUploadCommand':
        this.uploads.delete(input.UploadId as string);
        return {};
      default:
        throw new Error(`bench: the S3 stand-in does not answer ${command.constructor.name}`);
    }
  }
}

export interface BackfillRun {
  readonly files: number;
  readonly items: number;
  readonly rows: number;
  /** DynamoDB JSON of the export (its lines, before gzip). */
  readonly jsonBytes: number;
  readonly objects: number;
  readonly objectBytes: number;
  readonly ms: number;
}

/**
 * A backfill of the table as it is now: an export at `exportSeconds` of `files` data files (the
 * orders cut into ranges, gzipped DYNAMODB_JSON lines, where DynamoDB's export puts them), each
 * flattened by the backfill's own function into one SNAPSHOT object of the export's day.
 */
async function writeBackfill(root: string, table: OrderTable, files: number, exportSeconds: number): Promise<BackfillRun> {
  const cfg = config();
  const s3 = new FolderS3(root);
  const exportId = '01790000000000-bench001';
  let jsonBytes = 0;
  let items = 0;
  let rows = 0;
  let objectBytes = 0;
  let ms = 0;
  for (let f = 0; f < files; f++) {
    const from = Math.floor((f * table.items) / files);
    const to = Math.floor(((f + 1) * table.items) / files);
    const text = [...table.exportLines(from, to)].join('');
    jsonBytes += Buffer.byteLength(text);
    const key = `${cfg.actions.exportPrefix}/t=${exportSeconds}/AWSDynamoDB/${exportId}/data/part-${String(f).padStart(5, '0')}.json.gz`;
    mkdirSync(dirname(join(root, key)), { recursive: true });
    writeFileSync(join(root, key), gzipSync(text));
    const file = parseExportDataKey(key, cfg.actions.exportPrefix);
    if (!file) throw new Error(`bench: ${key} is not an export data file`);
    const t = process.cpuUsage();
    const result = await flattenExportFile(s3 as unknown as S3Client, cfg, file);
    ms += cpuMsSince(t);
    items += result.items;
    rows += result.rows;
    for (const o of result.objects) objectBytes += readFileSync(join(root, o)).length;
  }
  rmSync(join(root, cfg.actions.exportPrefix), { recursive: true, force: true });
  return { files, items, rows, jsonBytes, objects: files, objectBytes, ms };
}

// ---------------------------------------------------------------------------------------------
// The DuckDB engine, timed

interface TimedStatement {
  readonly kind: 'compaction' | 'checkpoint' | 'other';
  readonly ms: number;
  readonly destination: string;
}

/** The DuckDB engine, with the CPU of each statement it runs (it runs them inside start()). */
class TimedEngine implements MaintenanceEngine {
  readonly kind = 'duckdb' as const;
  readonly relations: MaintenanceEngine['relations'];
  readonly statements: TimedStatement[] = [];
  readonly inner: DuckDbEngine;
  constructor(inner: DuckDbEngine) {
    this.inner = inner;
    this.relations = inner.relations;
  }
  async start(statement: UnloadStatement, token: string): Promise<string> {
    const t = process.cpuUsage();
    const id = await this.inner.start(statement, token);
    const kind = statement.destination.includes('/compaction/') ? 'compaction' : statement.destination.includes('/checkpoints/') ? 'checkpoint' : 'other';
    this.statements.push({ kind, ms: cpuMsSince(t), destination: statement.destination });
    return id;
  }
  status(queryId: string): Promise<QueryStatus> {
    return this.inner.status(queryId);
  }
  stop(queryId: string): Promise<void> {
    void queryId;
    return this.inner.stop();
  }
  carried(configured: readonly string[]): Promise<string[]> {
    return this.inner.carried(configured);
  }
}

/** Rows of some Parquet files, from their footers (DuckDB). */
async function rowsOf(root: string, keys: readonly string[]): Promise<number> {
  if (keys.length === 0) return 0;
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const list = keys.map((k) => `'${join(root, k).replaceAll("'", "''")}'`).join(', ');
    const [row] = (await c.runAndReadAll(`SELECT sum(num_rows)::BIGINT AS n FROM parquet_file_metadata([${list}])`)).getRowObjectsJS() as { n: bigint }[];
    return Number(row?.n ?? 0);
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

// ---------------------------------------------------------------------------------------------
// The lake's life: a backfill, then days of changes, the real maintenance each morning

export interface Morning {
  /** The morning's number: 1 is the morning after the backfill. */
  readonly morning: number;
  readonly day: string;
  /** Changes written since the previous morning, and their DynamoDB JSON. */
  readonly changes: number;
  readonly jsonBytes: number;
  readonly streamObjects: number;
  /** The run: the day it compacted (bytes before and after, rows after), whether it rebuilt the checkpoint and why. */
  readonly compacted: { readonly objectsBefore: number; readonly bytesBefore: number; readonly objectsAfter: number; readonly bytesAfter: number; readonly rows: number; readonly ms: number };
  readonly checkpoint: { readonly status: string; readonly why?: string; readonly inputBytes: number; readonly bytes: number; readonly objects: number; readonly rows: number; readonly ms: number; readonly daysSinceBound: number };
  /** The function's S3 requests in the run, counted on the store. */
  readonly requests: Requests;
  /** What a current-state query reads now: the pointer's checkpoint and the objects of the days from its bound (the open day's morning included). */
  readonly read: { readonly bytes: number; readonly checkpointBytes: number; readonly daysBytes: number; readonly days: number; readonly openDayBytes: number };
  /** The table's current state: a checkpoint written now over everything, at the checkpoint's ZSTD level. */
  readonly stateBytes: number;
  readonly stateRows: number;
  readonly stateObjects: number;
  readonly scanRatio: number;
}

export interface LakeLife {
  readonly items: number;
  readonly churn: number;
  readonly recordsPerBatch: number;
  readonly backfill: BackfillRun;
  readonly mornings: readonly Morning[];
  /** max and median over the mornings; closedMax without the open day's objects (the rebuild rule bounds the closed days with the next day, estimated as the latest); day30OverDay1: bytes read the last morning / the first. */
  readonly scanRatio: { readonly max: number; readonly median: number; readonly closedMax: number; readonly day30OverDay1: number };
}

const dayText = (ms: number): string => new Date(ms).toISOString().slice(0, 10);
const FAR_BOUND = '9999-12-31';

/** When the daily schedule runs (UTC) after a day closes, from the module's default cron(M H * * ? *). */
export function scheduleSecondsOfDay(expression: string = DEFAULTS.compaction.scheduleExpression): number {
  const m = /^cron\((\d+) (\d+) \* \* \? \*\)$/.exec(expression);
  return m ? Number(m[2]) * 3600 + Number(m[1]) * 60 : 7.5 * 3600;
}

/**
 * A table of `items` orders, backfilled on day 0 (`files` export data files into one day of
 * SNAPSHOT objects), then changing `churn` of its items a day for `days` days, written by the
 * stream handler in batches of `recordsPerBatch`. Every morning at the schedule's time the
 * records of the open day so far are in the lake, and the real maintenance run (compaction and
 * checkpoint, {"action":"compact"}) runs with the DuckDB engine at the module's defaults; then
 * what a current-state query reads is counted as Athena selects it (view-inputs.ts) and set
 * against the bytes of a checkpoint written at that moment: the table's current state.
 */
export async function simulateLake(items: number, churn: number, days: number, recordsPerBatch: number, files: number, tempDir: string, log: (line: string) => void): Promise<LakeLife> {
  const root = mkdtempSync(join(tempDir, 'life-'));
  const duck = new DuckDbEngine({ root, prefix: DEFAULTS.lake.dataPrefix, statePrefix: DEFAULTS.lake.statePrefix, carried: ['customer_id'] });
  const engine = new TimedEngine(duck);
  try {
    const cfg = config();
    const prefixes = { dataPrefix: cfg.dataPrefix, statePrefix: cfg.maintenance.statePrefix };
    const day0 = Date.UTC(2026, 9, 1);
    const table = new OrderTable(items, 97);
    const backfill = await writeBackfill(root, table, files, (day0 + DAY_MS / 2) / 1000);
    const writer = streamWriter(root);
    const lake = new FolderStore(root);
    const schedule = scheduleSecondsOfDay() * 1000;
    const perDay = Math.max(1, Math.round(churn * items));
    // Changes from day 1 on, evenly in time; each morning writes those before it.
    let written = 0;
    const changeAt = (i: number): number => day0 + DAY_MS + Math.floor((i * DAY_MS) / perDay);
    const mornings: Morning[] = [];
    for (let m = 1; m <= days; m++) {
      const now = day0 + m * DAY_MS + schedule;
      const from = written;
      while (changeAt(written) < now) written++;
      let jsonBytes = 0;
      const objectsBefore = writer.sink.puts;
      const changes = function* (): Generator<DynamoDBRecord> {
        for (let i = from; i < written; i++) yield table.next(Math.floor(changeAt(i) / 1000));
      };
      for (const batch of batchesOf(changes(), recordsPerBatch)) jsonBytes += (await writer.write(batch)).payloadBytes - 14;

      const store = new CountingStore(lake);
      const statements = engine.statements.length;
      const result: MaintenanceResult = await runMaintenance({ action: 'compact', checkpoint: true }, { store, engine, config: cfg, now });
      const closed = dayText(now - DAY_MS);
      const today = result.days.find((d) => d.dt === closed);
      if (today?.status !== 'compacted') throw new Error(`bench: morning ${m}: ${closed} was not compacted (${JSON.stringify(result.days)})`);
      const c = result.checkpoint;
      if (!c || (c.status !== 'written' && c.status !== 'deferred' && c.status !== 'current')) throw new Error(`bench: morning ${m}: the checkpoint ${c?.status}: ${c?.reason ?? ''}`);
      const ran = engine.statements.slice(statements);
      const cpu = (kind: TimedStatement['kind']): number => ran.filter((s) => s.kind === kind).reduce((n, s) => n + s.ms, 0);
      const compactedKeys = (await lake.list(`${cfg.dataPrefix}/dt=${closed}/`)).filter((o) => o.key.endsWith('.parquet')).map((o) => o.key);

      const after = await currentStateInputs(lake, prefixes);
      // The open day's stream objects so far (midnight to the schedule): read beside the closed days; the rule counts a day for it.
      const openDayBytes = (await lake.list(`${cfg.dataPrefix}/dt=${dayText(now)}/`)).filter((o) => o.key.endsWith('.parquet')).reduce((n, o) => n + o.size, 0);
      const pointer = await readPointer(lake, prefixes);
      const checkpointKeys = (await lake.list(`${cfg.maintenance.statePrefix}/checkpoints/checkpoint=${pointer.checkpoint}/`)).filter((o) => isDataFile(o.key)).map((o) => o.key);
      const written_ = c.status === 'written';

      // The current state now: the checkpoint statement over everything the view reads, into a scratch folder.
      const carried = await engine.carried(cfg.flatten.carry);
      const scratch = `bench-now/${m}/`;
      const id = await duck.start({ select: checkpointSql(duck.relations, carried, pointer, FAR_BOUND), destination: scratch, zstdLevel: CHECKPOINT_ZSTD_LEVEL, targetBytes: cfg.maintenance.targetBytes }, `bench-now-${m}`.padEnd(32, '.'));
      const status = await duck.status(id);
      if (status.state !== 'SUCCEEDED') throw new Error(`bench: morning ${m}: the current state could not be written: ${status.reason}`);
      const stateFiles = (await lake.list(scratch)).filter((o) => isDataFile(o.key));
      const stateBytes = stateFiles.reduce((n, o) => n + o.size, 0);
      const stateRows = await rowsOf(root, stateFiles.map((o) => o.key));
      rmSync(join(root, 'bench-now'), { recursive: true, force: true });

      mornings.push({
        morning: m,
        day: closed,
        changes: written - from,
        jsonBytes,
        streamObjects: writer.sink.puts - objectsBefore,
        compacted: {
          objectsBefore: today.objectsBefore,
          bytesBefore: today.bytesBefore,
          objectsAfter: today.objectsAfter,
          bytesAfter: today.bytesAfter,
          rows: await rowsOf(root, compactedKeys),
          ms: cpu('compaction'),
        },
        checkpoint: {
          status: c.status,
          ...(c.payoff ? { why: c.payoff.why } : {}),
          inputBytes: written_ && c.payoff ? c.payoff.checkpointBytes + c.payoff.daysBytes : 0,
          bytes: after.checkpoint.bytes,
          objects: after.checkpoint.objects,
          rows: written_ ? await rowsOf(root, checkpointKeys) : 0,
          ms: cpu('checkpoint'),
          daysSinceBound: written_ ? c.days.length : 0,
        },
        requests: { ...store.requests },
        read: { bytes: after.bytes, checkpointBytes: after.checkpoint.bytes, daysBytes: after.table.bytes, days: after.days.length, openDayBytes },
        stateBytes,
        stateRows,
        stateObjects: stateFiles.length,
        scanRatio: after.bytes / stateBytes,
      });
      const last = mornings.at(-1)!;
      if (m === 1 || m % 10 === 0 || m === days) log(`lake: ${(churn * 100).toFixed(0)}% a day, morning ${m}: reads ${count(last.read.bytes)} B for a state of ${count(stateBytes)} B (${last.scanRatio.toFixed(3)}), checkpoint ${last.checkpoint.status}`);
    }
    const ratios = mornings.map((x) => x.scanRatio);
    return {
      items,
      churn,
      recordsPerBatch,
      backfill,
      mornings,
      scanRatio: { max: Math.max(...ratios), median: median(ratios), closedMax: Math.max(...mornings.map((x) => (x.read.bytes - x.read.openDayBytes) / x.stateBytes)), day30OverDay1: mornings.at(-1)!.read.bytes / mornings[0]!.read.bytes },
    };
  } finally {
    duck.close();
    rmSync(root, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The model's measured inputs, from the runs above

export interface Measured {
  readonly stream: StreamMeasurement;
  /** DynamoDB JSON bytes of an item in the export (its line). */
  readonly exportBytesPerItem: number;
  readonly itemStorageBytes: number;
  readonly writeUnitsPerChange: number;
  readonly rowsPerItem: number;
  /**
   * Bytes a row of what the lake holds: SNAPSHOT objects (the backfill's writer), the backfill's day
   * compacted and its first checkpoint (morning 1), a day of changes compacted and a checkpoint of a
   * table most of whose items have changed since the backfill (the busiest simulated lake's last
   * checkpoint: a row of a changed item carries its own event_time and sequence, which compress
   * less than a snapshot's; the steady state of any table after enough days). Checkpoints are what
   * sql/maintenance/checkpoint.sql writes: rows in key order (its ORDER BY).
   */
  readonly bytesPerRow: {
    readonly snapshot: number;
    readonly compactedSnapshot: number;
    readonly checkpointAfterBackfill: number;
    readonly compactedChanges: number;
    readonly checkpoint: number;
  };
  /** Input bytes per CPU-second of the DuckDB engine, by statement. */
  readonly engine: { readonly compaction: number; readonly checkpoint: number };
  /** The function's S3 requests a run, counted: a morning that compacts only, one that also rebuilds the checkpoint, the backfill's morning. */
  readonly requests: { readonly compactOnly: Requests; readonly rebuild: Requests; readonly backfill: Requests; readonly rebuildDays: number };
}

const meanRequests = (rs: readonly Requests[]): Requests => {
  const sum = addRequests(...rs);
  const n = Math.max(1, rs.length);
  return { list: sum.list / n, put: sum.put / n, copy: sum.copy / n, delete: sum.delete / n, get: sum.get / n };
};

/** An item's size and write units as DynamoDB counts them, over a sample of the table's orders at their versions. */
export function itemShape(sample = 2_000): { storageBytes: number; writeUnits: number; exportBytes: number } {
  let storage = 0;
  let units = 0;
  let exportBytes = 0;
  for (let i = 0; i < sample; i++) {
    const item = orderVersion(i * 7919, i % 5);
    const size = itemBytes(item);
    storage += size + DYNAMODB.itemOverheadBytes;
    // A MODIFY consumes the larger of its images; the versions are the same size to a few bytes.
    units += Math.max(1, Math.ceil(size / DYNAMODB.writeUnitBytes));
    exportBytes += JSON.stringify({ Item: item }).length + 1;
  }
  return { storageBytes: storage / sample, writeUnits: units / sample, exportBytes: exportBytes / sample };
}

/**
 * Bytes a CPU-second of a statement's input, from statements of many sizes: the slope of a line
 * through (input bytes, CPU ms), so that what every statement costs whatever its size (DuckDB
 * binding the lake's files, planning) is not charged to its bytes; the model adds a statement's
 * overhead on its own (ATHENA_MODEL.overheadSeconds). When the slope is not positive (a noisy
 * machine, statements all of one size), the statements' bytes over their CPU time.
 */
export function engineRate(points: readonly { x: number; y: number }[]): number {
  const line = fitLine(points);
  if (line.b > 0) return 1000 / line.b;
  return points.reduce((s, p) => s + p.x, 0) / (points.reduce((s, p) => s + p.y, 0) / 1000);
}

export function measuredInputs(stream: StreamMeasurement, lives: readonly LakeLife[]): Measured {
  const shape = itemShape();
  const first = lives[0]!;
  const busiest = lives.reduce((a, l) => (l.churn > a.churn ? l : a));
  const b = first.backfill;
  const firstMornings = lives.map((l) => l.mornings[0]!);
  const later = lives.flatMap((l) => l.mornings.slice(1));
  const rebuilds = lives.flatMap((l) => l.mornings.filter((m) => m.checkpoint.status === 'written'));
  const sum = (xs: readonly number[]): number => xs.reduce((s, x) => s + x, 0);
  const compactions = lives.flatMap((l) => l.mornings);
  const busiestDays = busiest.mornings.slice(1);
  const lastCheckpoint = busiest.mornings.filter((m) => m.checkpoint.status === 'written').at(-1)!;
  return {
    stream,
    exportBytesPerItem: b.jsonBytes / b.items,
    itemStorageBytes: shape.storageBytes,
    writeUnitsPerChange: shape.writeUnits,
    rowsPerItem: b.rows / b.items,
    bytesPerRow: {
      snapshot: sum(lives.map((l) => l.backfill.objectBytes)) / sum(lives.map((l) => l.backfill.rows)),
      compactedSnapshot: sum(firstMornings.map((m) => m.compacted.bytesAfter)) / sum(firstMornings.map((m) => m.compacted.rows)),
      checkpointAfterBackfill: sum(firstMornings.map((m) => m.checkpoint.bytes)) / sum(firstMornings.map((m) => m.checkpoint.rows)),
      compactedChanges: sum(busiestDays.map((m) => m.compacted.bytesAfter)) / sum(busiestDays.map((m) => m.compacted.rows)),
      checkpoint: lastCheckpoint.checkpoint.bytes / lastCheckpoint.checkpoint.rows,
    },
    engine: {
      compaction: engineRate(compactions.map((m) => ({ x: m.compacted.bytesBefore, y: m.compacted.ms }))),
      checkpoint: engineRate(rebuilds.map((m) => ({ x: m.checkpoint.inputBytes, y: m.checkpoint.ms }))),
    },
    requests: {
      compactOnly: meanRequests(later.filter((m) => m.checkpoint.status !== 'written').map((m) => m.requests)),
      rebuild: meanRequests(later.filter((m) => m.checkpoint.status === 'written').map((m) => m.requests)),
      backfill: meanRequests(lives.map((l) => l.mornings[0]!.requests)),
      rebuildDays: sum(later.filter((m) => m.checkpoint.status === 'written').map((m) => m.checkpoint.daysSinceBound)) / Math.max(1, later.filter((m) => m.checkpoint.status === 'written').length),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// The cases at full size

export interface WindowCost {
  readonly trigger: TriggerSetting;
  readonly stream: StreamDay;
  readonly compaction: Statement;
  /** The morning's run without and with a checkpoint rebuild. */
  readonly runs: { readonly compactOnly: RunCost; readonly rebuild: RunCost };
  /** $ a GB of DynamoDB JSON changes: the stream path, the maintenance (compaction and checkpoints), the whole. */
  readonly perGb: { readonly stream: Cost; readonly compaction: Cost; readonly checkpoint: Cost; readonly maintenance: Cost; readonly total: number };
  /** The same maintenance with every Athena statement taking ATHENA_MODEL.slowdown times as long. */
  readonly maintenanceSlow: number;
}

export interface ChurnCase {
  readonly id: string;
  readonly items: number;
  readonly churn: number;
  readonly changesPerDay: number;
  readonly jsonBytesPerDay: number;
  readonly partitions: Partitions;
  readonly checkpointBytes: number;
  readonly checkpointObjects: number;
  readonly compactedDayBytes: number;
  readonly cadence: Omit<Cadence, 'days'>;
  readonly checkpoint: Statement;
  readonly windows: { readonly defaults: WindowCost; readonly longest: WindowCost };
}

export interface BackfillCase {
  readonly id: string;
  readonly items: number;
  readonly jsonBytes: number;
  readonly partitions: Partitions;
  readonly compaction: Statement;
  readonly checkpoint: Statement;
  readonly run: RunCost;
  readonly perGb: Cost;
  readonly perGbSlow: number;
}

/** A morning's usage as a share of a day: the rebuild's runs weighted by how often the rule rebuilds. */
function mix(a: Usage, b: Usage, share: number): Usage {
  return addUsage(scaleUsage(a, 1 - share), scaleUsage(b, share));
}

export function churnCase(items: number, churn: number, m: Measured, fn: FunctionSetting = DEFAULT_FUNCTION): ChurnCase {
  const changesPerDay = items * churn;
  const jsonBytesPerDay = changesPerDay * m.stream.recordBytes;
  const partitions = partitionsOf({ items, itemStorageBytes: m.itemStorageBytes, writeUnitsPerChange: m.writeUnitsPerChange, changesPerDay });
  const checkpointBytes = items * m.rowsPerItem * m.bytesPerRow.checkpoint;
  const checkpointObjects = Math.max(1, Math.ceil(checkpointBytes / ATHENA_MODEL.outputObjectBytes));
  const compactedDayBytes = changesPerDay * m.stream.rowsPerRecord * m.bytesPerRow.compactedChanges;
  const compactedDayObjects = Math.max(1, Math.ceil(compactedDayBytes / ATHENA_MODEL.outputObjectBytes));
  const { days: _days, ...cadence } = checkpointCadence(checkpointBytes, compactedDayBytes, REBUILD.share, REBUILD.maxAgeDays);
  const rebuildShare = cadence.rebuilds / 364;
  const daysAtRebuild = cadence.meanDaysBetween;
  const checkpointInput = { objects: checkpointObjects + daysAtRebuild * compactedDayObjects, bytes: checkpointBytes + daysAtRebuild * compactedDayBytes, partitions: 1 + daysAtRebuild };
  const checkpointAt = (slowdown: number): Statement => statement(checkpointInput, checkpointBytes, m.engine.checkpoint, slowdown);
  const checkpoint = checkpointAt(1);
  const window = (trigger: TriggerSetting): WindowCost => {
    const stream = streamDay(changesPerDay, partitions.partitions, trigger, fn, m.stream);
    const compactionAt = (slowdown: number): Statement => statement({ objects: stream.objects, bytes: stream.objectBytes, partitions: 1 }, compactedDayBytes, m.engine.compaction, slowdown);
    const compaction = compactionAt(1);
    const requests = (rebuild: boolean): Requests =>
      addRequests(
        rebuild ? m.requests.rebuild : m.requests.compactOnly,
        compactionExtraRequests(stream.objects, compaction.outputObjects),
        rebuild ? checkpointExtraRequests(checkpointObjects, daysAtRebuild, m.requests.rebuildDays) : NO_REQUESTS,
      );
    const runsAt = (slowdown: number) => {
      const c = compactionAt(slowdown);
      const k = checkpointAt(slowdown);
      return { compactOnly: runCost({ compaction: c, requests: requests(false) }, fn), rebuild: runCost({ compaction: c, checkpoint: k, requests: requests(true) }, fn) };
    };
    const runs = runsAt(1);
    const perDay = mix(runs.compactOnly.usage, runs.rebuild.usage, rebuildShare);
    const toGb = GB / jsonBytesPerDay;
    const maintenance = priceOf(scaleUsage(perDay, toGb));
    // The parts: the checkpoint's own statement and its extra function time and requests, the rest is compaction.
    const checkpointPart = priceOf(scaleUsage(addUsage(scaleUsage(runs.rebuild.usage, rebuildShare), scaleUsage(runs.compactOnly.usage, -rebuildShare)), toGb));
    const compactionPart: Cost = {
      lambda: maintenance.lambda - checkpointPart.lambda,
      s3: maintenance.s3 - checkpointPart.s3,
      athena: maintenance.athena - checkpointPart.athena,
      total: maintenance.total - checkpointPart.total,
    };
    const streamCost = priceOf(scaleUsage(stream.usage, toGb));
    const slow = runsAt(ATHENA_MODEL.slowdown);
    return {
      trigger,
      stream,
      compaction,
      runs,
      perGb: { stream: streamCost, compaction: compactionPart, checkpoint: checkpointPart, maintenance, total: streamCost.total + maintenance.total },
      maintenanceSlow: priceOf(scaleUsage(mix(slow.compactOnly.usage, slow.rebuild.usage, rebuildShare), toGb)).total,
    };
  };
  return {
    id: caseId(items, churn),
    items,
    churn,
    changesPerDay,
    jsonBytesPerDay,
    partitions,
    checkpointBytes,
    checkpointObjects,
    compactedDayBytes,
    cadence,
    checkpoint,
    windows: { defaults: window(DEFAULT_TRIGGER), longest: window(LONGEST_WINDOW_TRIGGER) },
  };
}

/**
 * The morning after a backfill of `items` items: the export's day holds one SNAPSHOT object per
 * export data file (at least one per partition: S3DataExport.Output.html), the run compacts it
 * and writes the first checkpoint of the whole table. Per GB of the table's DynamoDB JSON.
 */
export function backfillCase(items: number, m: Measured, fn: FunctionSetting = DEFAULT_FUNCTION): BackfillCase {
  const partitions = partitionsOf({ items, itemStorageBytes: m.itemStorageBytes, writeUnitsPerChange: m.writeUnitsPerChange, changesPerDay: 0 });
  const rows = items * m.rowsPerItem;
  const snapshotBytes = rows * m.bytesPerRow.snapshot;
  const compactedBytes = rows * m.bytesPerRow.compactedSnapshot;
  const checkpointBytes = rows * m.bytesPerRow.checkpointAfterBackfill;
  const at = (slowdown: number) => {
    const compaction = statement({ objects: partitions.partitions, bytes: snapshotBytes, partitions: 1 }, compactedBytes, m.engine.compaction, slowdown);
    const checkpoint = statement({ objects: compaction.outputObjects, bytes: compactedBytes, partitions: 1 }, checkpointBytes, m.engine.checkpoint, slowdown);
    const requests = addRequests(m.requests.backfill, compactionExtraRequests(partitions.partitions, compaction.outputObjects), checkpointExtraRequests(checkpoint.outputObjects, 1, 1));
    return { compaction, checkpoint, run: runCost({ compaction, checkpoint, requests }, fn) };
  };
  const base = at(1);
  const jsonBytes = items * m.exportBytesPerItem;
  return {
    id: caseId(items, 'backfill'),
    items,
    jsonBytes,
    partitions,
    ...base,
    perGb: priceOf(scaleUsage(base.run.usage, GB / jsonBytes)),
    perGbSlow: priceOf(scaleUsage(at(ATHENA_MODEL.slowdown).run.usage, GB / jsonBytes)).total,
  };
}

/** A quiet shard at a window: what its stream path and the compaction of its objects cost a GB. */
export interface QuietShard {
  readonly recordsPerSecond: number;
  readonly windowSeconds: number;
  readonly recordsPerObject: number;
  readonly objectsPerDay: number;
  readonly latencySeconds: number;
  /** $ a GB: the stream path (invocations, GB-seconds, PUTs) and the compaction of its objects (Athena's GETs and bytes, the deletes). */
  readonly streamPerGb: number;
  readonly compactionPerGb: number;
}

/**
 * One shard at `recordsPerSecond` a day, at each window: the stream path and the compaction of the
 * objects it writes (Athena reads each with a GET, the function deletes them), per GB of its
 * changes. The checkpoint is the table's, not the shard's: left out here.
 */
export function quietShard(recordsPerSecond: number, windowSeconds: number, m: Measured, fn: FunctionSetting = DEFAULT_FUNCTION): QuietShard {
  const records = recordsPerSecond * DAY_SECONDS;
  const stream = streamDay(records, 1, { ...DEFAULT_TRIGGER, windowSeconds }, fn, m.stream);
  const compaction = statement({ objects: stream.objects, bytes: stream.objectBytes, partitions: 1 }, records * m.stream.rowsPerRecord * m.bytesPerRow.compactedChanges, m.engine.compaction);
  const deletes: Usage = { invocations: 0, gbSeconds: 0, putList: Math.ceil(stream.objects / 1000), get: 0, athenaBilledBytes: 0 };
  const toGb = GB / (records * m.stream.recordBytes);
  // Athena's 10 MB minimum is the table's day, not the shard's: its bytes are counted as they are.
  const compactionUsage = { ...addUsage(compaction.usage, deletes), athenaBilledBytes: stream.objectBytes };
  return {
    recordsPerSecond,
    windowSeconds,
    recordsPerObject: stream.recordsPerBatch,
    objectsPerDay: stream.objects,
    latencySeconds: stream.latencySeconds,
    streamPerGb: priceOf(scaleUsage(stream.usage, toGb)).total,
    compactionPerGb: priceOf(scaleUsage(compactionUsage, toGb)).total,
  };
}

export const QUIET_WINDOWS = [30, 60, 120, 300] as const;

// ---------------------------------------------------------------------------------------------
// The whole lake bench

export interface LakeSizes {
  /** Records a batch size gets through the stream handler. */
  readonly streamRecordsPerSize: number;
  /** Items of the simulated table, its days of changes, the export's data files. */
  readonly lifeItems: number;
  readonly lifeDays: number;
  readonly lifeFiles: number;
}

export interface LakeResult {
  readonly measured: Measured;
  readonly lives: readonly LakeLife[];
  readonly inputs: readonly ModelInput[];
  readonly firehose: ReturnType<typeof firehosePerGb>;
  readonly targetPerGb: number;
  readonly cases: readonly ChurnCase[];
  readonly backfills: readonly BackfillCase[];
  /** A shard at 1 record/s at several windows. */
  readonly quietShard: readonly QuietShard[];
  readonly defaults: { readonly trigger: TriggerSetting; readonly longest: TriggerSetting; readonly fn: FunctionSetting; readonly rebuild: typeof REBUILD };
}

/** Batch sizes the stream path is measured at: 1 record to the most a 6 MB payload holds. */
export function streamBatchSizes(recordBytes: number): number[] {
  const cap = Math.min(EVENT_SOURCE.maxBatchSize, Math.floor(EVENT_SOURCE.payloadBytes / (recordBytes * 1.02)));
  return [...[1, 4, 16, 64, 256, 1024].filter((n) => n < cap), cap];
}

/** The stream record's size, from a sample of the table's changes (before anything is measured). */
function sampleRecordBytes(): number {
  const t = new OrderTable(10_000, 3);
  let bytes = 0;
  for (let i = 0; i < 2_000; i++) bytes += JSON.stringify(t.next(1_790_000_000 + i)).length + 1;
  return bytes / 2_000;
}

/**
 * Records a batch of the 100 M-item table holds at the module's defaults, at a churn: the
 * simulated lake writes its stream in batches of that size, so its stream objects have the
 * size a real table's have (the shards' traffic, not the small table's).
 */
export function referenceBatch(churn: number, recordBytes: number): number {
  const shape = itemShape(500);
  const changesPerDay = 1e8 * churn;
  const p = partitionsOf({ items: 1e8, itemStorageBytes: shape.storageBytes, writeUnitsPerChange: shape.writeUnits, changesPerDay });
  const perShard = changesPerDay / DAY_SECONDS / p.partitions;
  return Math.max(1, Math.round(Math.min(DEFAULT_TRIGGER.batchSize, Math.floor(EVENT_SOURCE.payloadBytes / recordBytes), perShard * DEFAULT_TRIGGER.windowSeconds)));
}

export async function runLakeBench(sizes: LakeSizes, tempDir: string, log: (line: string) => void = () => {}): Promise<LakeResult> {
  const recordBytes = sampleRecordBytes();
  const batchSizes = streamBatchSizes(recordBytes);
  log(`lake: the stream handler at ${batchSizes.length} batch sizes (${batchSizes.join(', ')} records), ${count(sizes.streamRecordsPerSize)} records each`);
  const stream = await measureStream(batchSizes, sizes.streamRecordsPerSize, tempDir, log);
  const lives: LakeLife[] = [];
  for (const churn of SIMULATED_CHURNS) {
    const batch = referenceBatch(churn, stream.recordBytes);
    log(`lake: a backfill of ${count(sizes.lifeItems)} orders (${sizes.lifeFiles} export files), then ${sizes.lifeDays} days of ${(churn * 100).toFixed(0)}% a day in batches of ${batch}, the real maintenance each morning (DuckDB)`);
    lives.push(await simulateLake(sizes.lifeItems, churn, sizes.lifeDays, batch, sizes.lifeFiles, tempDir, log));
  }
  const measured = measuredInputs(stream, lives);
  const firehose = firehosePerGb(measured.stream.recordBytes);
  const cases = TABLE_ITEMS.flatMap((items) => CHURNS.map((churn) => churnCase(items, churn, measured)));
  const backfills = TABLE_ITEMS.map((items) => backfillCase(items, measured));
  return {
    measured,
    lives,
    inputs: modelInputs(measured, lives),
    firehose,
    targetPerGb: firehose.total * COST_TARGET_SHARE,
    cases,
    backfills,
    quietShard: QUIET_WINDOWS.map((w) => quietShard(1, w, measured)),
    defaults: { trigger: DEFAULT_TRIGGER, longest: LONGEST_WINDOW_TRIGGER, fn: DEFAULT_FUNCTION, rebuild: REBUILD },
  };
}

// ---------------------------------------------------------------------------------------------
// The model's inputs, each with its source

export function modelInputs(m: Measured, lives: readonly LakeLife[]): ModelInput[] {
  const life = lives[0]!;
  const busiestChurn = Math.max(...lives.map((l) => l.churn));
  const s = m.stream;
  const measured = (id: string, label: string, value: number, unit: string, source: string): ModelInput => ({ id, label, value, unit, kind: 'measured', source });
  const published = (id: string, label: string, value: number, unit: string, source: string): ModelInput => ({ id, label, value, unit, kind: 'published', source });
  const assumed = (id: string, label: string, value: number, unit: string, source: string): ModelInput => ({ id, label, value, unit, kind: 'assumed', source });
  const module = (id: string, label: string, value: number, unit: string, source: string): ModelInput => ({ id, label, value, unit, kind: 'module', source });
  return [
    published('athena.perTB', 'Athena, per TB scanned (each query rounded up to a MB)', 5, '$', 'https://aws.amazon.com/athena/pricing/ ("$5 per TB of data scanned, rounded up to the nearest megabyte, 10MB minimum per query", as https://rcpedia.stanford.edu/services/athena.html quotes it)'),
    published('athena.minimum', 'Athena, least bytes billed a query', 10, 'MB', 'https://aws.amazon.com/athena/pricing/'),
    published('lambda.gbSecond', 'Lambda, Arm, per GB-second', 0.0000133334, '$', 'https://aws.amazon.com/lambda/pricing/'),
    published('lambda.request', 'Lambda, per invocation', 0.0000002, '$', 'https://aws.amazon.com/lambda/pricing/'),
    published('s3.putList', 'S3 PUT, COPY, POST (DeleteObjects), LIST', 0.000005, '$ a request', 'https://aws.amazon.com/s3/pricing/'),
    published('s3.get', 'S3 GET', 0.0000004, '$ a request', 'https://aws.amazon.com/s3/pricing/'),
    published('firehose.perGb', 'Firehose Direct PUT + Parquet conversion, per GB billed (5 KB a record at least)', 0.047, '$', 'https://aws.amazon.com/firehose/pricing/'),
    published('dynamodb.partitionBytes', 'DynamoDB partition: data', 10, 'GB', 'https://aws.amazon.com/blogs/database/part-3-scaling-dynamodb-how-partitions-hot-keys-and-split-for-heat-impact-performance/'),
    published('dynamodb.partitionWriteUnits', 'DynamoDB partition: write units a second', 1000, 'WCU', 'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html'),
    published('dynamodb.shardsPerPartition', 'DynamoDB Streams shards a partition (export data files: at least one a partition)', 1, '', 'the issue; https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport.Output.html'),
    published('lambda.maxWindow', 'Longest batching window of a DynamoDB stream trigger', EVENT_SOURCE.maxWindowSeconds, 's', 'https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html'),
    published('athena.dmlTimeout', "Athena's DML query timeout (quota; up to 240 min on request)", ATHENA_MODEL.dmlTimeoutSeconds / 60, 'min', 'https://docs.aws.amazon.com/athena/latest/ug/service-limits.html'),
    module('function.memory', "The function's memory", DEFAULT_FUNCTION.memoryMb, 'MB', 'modules/props.ts DEFAULTS.lambda.memorySize'),
    module('function.timeout', "The function's timeout (each invocation waits up to it less the reserve)", DEFAULT_FUNCTION.timeoutSeconds, 's', `modules/props.ts DEFAULTS.lambda.timeout, handlers/actions.ts RESERVE_MS (${DEFAULT_FUNCTION.reserveSeconds} s)`),
    module('function.copyConcurrency', "A commit's copies in flight (out of time, the run hands on and the next invocation copies the rest)", DEFAULT_FUNCTION.copyConcurrency, 'copies', 'src/maintenance/copy-objects.ts COPY_CONCURRENCY'),
    module('function.deleteConcurrency', 'DeleteObjects requests in flight', DEFAULT_FUNCTION.deleteConcurrency, 'requests', 'src/lake/lake-store.ts S3Store.delete (PARALLEL_REQUESTS; test/bench.test.ts checks it on the real S3Store)'),
    module('function.maxContinuations', 'Hand-ons a run makes at most', DEFAULT_FUNCTION.maxContinuations, 'invocations', 'src/actions/maintenance.ts MAX_CONTINUATIONS'),
    module('trigger.batch', 'Batch size, window', DEFAULT_TRIGGER.batchSize, 'records', `modules/props.ts DEFAULTS.eventSourceMapping (window ${DEFAULT_TRIGGER.windowSeconds} s)`),
    module('checkpoint.rule', 'Checkpoint rebuilt at a share of its bytes, or at an age', REBUILD.share, '', `modules/props.ts DEFAULTS.compaction (max age ${REBUILD.maxAgeDays} days)`),
    measured('record.bytes', 'DynamoDB JSON a change (stream record, both images)', s.recordBytes, 'B', 'bench/lake.ts measureStream: the payloads handed to the stream handler'),
    measured('item.exportBytes', 'DynamoDB JSON an item (export line)', m.exportBytesPerItem, 'B', 'bench/lake.ts writeBackfill: the export data files'),
    measured('item.storageBytes', "An item's size in DynamoDB, with its 100-byte overhead", m.itemStorageBytes, 'B', 'bench/lake.ts itemBytes over the table\'s orders, by https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CapacityUnitCalculations.html'),
    measured('item.rows', 'Rows an item', m.rowsPerItem, 'rows', 'flattenExportFile (the backfill) on the simulated table'),
    measured('record.rows', 'Rows a change (REMOVE: tombstones)', s.rowsPerRecord, 'rows', 'the stream handler (its RowsWritten metric)'),
    measured('stream.objectBytes', `Bytes of a stream object of n records (n = ${s.objectBytes.map((p) => count(p.x)).join(', ')})`, s.objectBytes[0]!.y, `B … ${count(Math.round(s.objectBytes.at(-1)!.y))} B (${s.objectBytes.map((p) => count(Math.round(p.y))).join(', ')})`, 'the stream handler at each batch size (bench/lake.ts measureStream); read between the points on straight lines'),
    measured('stream.handlerMs', 'CPU of an invocation of n records (JSON.parse and the handler)', s.handlerMs[0]!.y, `ms … ${s.handlerMs.at(-1)!.y.toFixed(0)} ms (${s.handlerMs.map((p) => p.y.toFixed(1)).join(', ')})`, "the stream handler at each batch size, the median batch; × 1769/512 for the memory's CPU share"),
    measured('bytesPerRow.snapshot', 'Bytes a row: SNAPSHOT object (backfill)', m.bytesPerRow.snapshot, 'B', 'flattenExportFile on the simulated table'),
    measured('bytesPerRow.compactedSnapshot', "Bytes a row: the backfill's day compacted (ZSTD 9)", m.bytesPerRow.compactedSnapshot, 'B', "runMaintenance + DuckDbEngine (a stand-in for Athena's Parquet writer), morning 1"),
    measured('bytesPerRow.checkpointAfterBackfill', 'Bytes a row: the first checkpoint, after the backfill (ZSTD 16)', m.bytesPerRow.checkpointAfterBackfill, 'B', 'runMaintenance + DuckDbEngine, morning 1'),
    measured('bytesPerRow.compactedChanges', 'Bytes a row: a day of changes compacted (ZSTD 9)', m.bytesPerRow.compactedChanges, 'B', `runMaintenance + DuckDbEngine, the ${(busiestChurn * 100).toFixed(0)}% lake's mornings 2-${life.mornings.length} (days of ${count(Math.round(life.items * busiestChurn))} changes, under one 100,000-row row group: likely more bytes a row than a full-size day)`),
    measured('bytesPerRow.checkpoint', 'Bytes a row: a checkpoint once most items have changed (ZSTD 16)', m.bytesPerRow.checkpoint, 'B', `runMaintenance + DuckDbEngine, the ${(busiestChurn * 100).toFixed(0)}% lake's last checkpoint (rows in key order: sql/maintenance/checkpoint.sql ORDER BY pk, sk, attribute, …)`),
    measured('engine.compaction', 'DuckDB: compaction input bytes per CPU-second', m.engine.compaction, 'B/s', 'DuckDbEngine, the compaction statements of the simulated lakes: the slope of CPU over input bytes'),
    measured('engine.checkpoint', 'DuckDB: checkpoint input bytes per CPU-second', m.engine.checkpoint, 'B/s', 'DuckDbEngine, the checkpoint statements of the simulated lakes: the slope of CPU over input bytes'),
    measured('function.requests', "The function's S3 requests a run (compaction only / with a rebuild)", totalRequestsOf(m.requests.compactOnly), `requests / ${totalRequestsOf(m.requests.rebuild).toFixed(1)}`, 'runMaintenance on a counting store, the simulated lake; what grows with the objects added by compactionExtraRequests'),
    assumed('athena.vcpus', 'vCPUs a maintenance statement gets in Athena, each as fast as a core here running DuckDB', ATHENA_MODEL.vcpus, 'vCPU', '4 DPUs, the least a DML query gets (https://docs.aws.amazon.com/athena/latest/ug/capacity-management-requirements.html); Athena publishes no throughput. Also shown 10× slower'),
    assumed('athena.overhead', 'Seconds a statement adds: queue, planning, commit, the poll', ATHENA_MODEL.overheadSeconds, 's', 'a few seconds of queue and planning; the poll backs off to 5 s (src/maintenance/query-wait.ts)'),
    assumed('athena.smallObject', 'Objects Athena reads with one GET (larger: a GET per 8 MiB and the footer)', ATHENA_MODEL.smallObjectBytes / 1e6, 'MB', "Trino's parquet.small-file-threshold (https://trino.io/docs/current/release/release-428.html); Athena engine 3 is Trino-based"),
    assumed('athena.outputObject', 'Size of the objects Athena writes (16 MiB parts)', ATHENA_MODEL.outputObjectBytes / 2 ** 20, 'MiB', 'as the DuckDB engine cuts them (COMPACTION_TARGET_BYTES); Athena decides its own'),
    assumed('s3.copyRate', 'CopyObject of a compacted file, bytes a second (plus a request)', ATHENA_MODEL.copyBytesPerSecond / 1e6, 'MB/s', 'S3 publishes no copy rate'),
    assumed('s3.deleteSeconds', 'Seconds a DeleteObjects of 1,000 keys', ATHENA_MODEL.deleteSeconds, 's', 'S3 publishes no rate; a request of 1,000 keys'),
    assumed('s3.requestSeconds', "Seconds the function waits for a small S3 request", S3_REQUEST_SECONDS, 's', 'https://docs.aws.amazon.com/whitepapers/latest/s3-optimizing-performance-best-practices/timeouts-and-retries-for-latency-sensitive-applications.html'),
    assumed('traffic.even', 'Changes spread evenly over the day and the shards', 1, '', 'peaks only add partitions (they never merge), which makes shards quieter: the expensive direction'),
  ];
}

const totalRequestsOf = (r: Requests): number => r.list + r.put + r.copy + r.delete + r.get;

