/**
 * The cost model of the lake at the sizes users have (issue 22): the stream
 * path, the daily compaction (one Athena UNLOAD a closed day, its output
 * copied into the day) and the checkpoints (one Athena UNLOAD, rebuilt when
 * the rule in src/maintenance/checkpoint.ts payoff() says so), for a table of
 * N items changing at a share of its items a day, or the morning after a
 * backfill of it.
 *
 * Pure arithmetic: every number it works from is an input (bench/lake.ts
 * measures some in the run, the rest are published figures or assumptions,
 * each in MODEL_INPUTS with its source), so test/bench.test.ts can check it
 * on small known inputs.
 */

export const GB = 2 ** 30;
export const MiB = 2 ** 20;
export const DAY_SECONDS = 86_400;

export type SourceKind = 'measured' | 'published' | 'assumed' | 'module';

/** One input of the model, as the bench reports it: its value and where it comes from. */
export interface ModelInput {
  readonly id: string;
  readonly label: string;
  readonly value: number;
  readonly unit: string;
  readonly kind: SourceKind;
  /** A URL (published), the code path that measured it (measured), or why (assumed). */
  readonly source: string;
}

// ---------------------------------------------------------------------------------------------
// Published figures (us-east-1), with where they are published

export const PRICES = {
  /** https://aws.amazon.com/lambda/pricing/ — Arm (the module deploys arm64), first 7.5 billion GB-seconds a month. */
  lambdaGbSecond: 0.0000133334,
  /** https://aws.amazon.com/lambda/pricing/ — $0.20 per 1M requests. */
  lambdaRequest: 0.2 / 1e6,
  /** https://aws.amazon.com/s3/pricing/ — S3 Standard PUT, COPY, POST, LIST: $0.005 per 1,000 (DeleteObjects is a POST). */
  s3PutOrList: 0.005 / 1000,
  /** https://aws.amazon.com/s3/pricing/ — S3 Standard GET, SELECT and all other requests: $0.0004 per 1,000. */
  s3Get: 0.0004 / 1000,
  /** https://aws.amazon.com/athena/pricing/ — SQL queries: $5 per TB scanned. */
  athenaPerTB: 5,
  /** https://aws.amazon.com/firehose/pricing/ — Direct PUT ingestion, first 500 TB a month, per GB, each record rounded up to 5 KB. */
  firehoseIngestGb: 0.029,
  /** Same page — format conversion to Parquet or ORC, per GB ingested. */
  firehoseConversionGb: 0.018,
  firehoseIncrementBytes: 5 * 1024,
} as const;

/**
 * Athena bills each query's bytes scanned, "$5 per TB of data scanned, rounded up to the nearest
 * megabyte, 10MB minimum per query" (https://aws.amazon.com/athena/pricing/, as
 * https://rcpedia.stanford.edu/services/athena.html quotes it; https://athena.guide/articles/athena-basics-pricing-model/:
 * "rounded to the nearest MB, with a 10 MB minimum"; the bench rounds up).
 * The bench counts binary units (a TB of 2^40 bytes, a MB of 2^20), as AWS bills data; in decimal
 * units every Athena dollar here is 10% higher.
 */
export const ATHENA_BILLING = { bytesPerTB: 2 ** 40, roundBytes: MiB, minimumBytes: 10 * MiB } as const;

/**
 * DynamoDB: a partition holds about 10 GB and serves at most 1,000 write units a second
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/bp-partition-key-design.html:
 * "every partition ... 3,000 read units per second and 1,000 write units per second"; a partition
 * splits when it "gets close to 10 GB in size",
 * https://aws.amazon.com/blogs/database/part-3-scaling-dynamodb-how-partitions-hot-keys-and-split-for-heat-impact-performance/);
 * "one write unit represents one write ... for an item up to 1 KB". DynamoDB counts binary units.
 */
export const DYNAMODB = { partitionBytes: 10 * GB, partitionWriteUnits: 1000, writeUnitBytes: 1024, itemOverheadBytes: 100 } as const;

/**
 * The Lambda event source mapping of a DynamoDB stream: batches of at most 10,000 records, a
 * payload of at most 6 MB, a batching window "from 0 seconds to 300 seconds"
 * (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html,
 * https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-params.html); without a window Lambda
 * polls a shard four times a second.
 */
export const EVENT_SOURCE = { maxBatchSize: 10_000, payloadBytes: 6 * 1024 * 1024, maxWindowSeconds: 300, pollSeconds: 0.25 } as const;

/** At 1,769 MB a function has one vCPU; below, CPU in proportion (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html). */
export const FULL_VCPU_MB = 1769;

/**
 * Time the function waits for one small S3 request. Not measured (no S3 here): AWS's S3
 * performance guidance puts small requests in the tens of milliseconds
 * (https://docs.aws.amazon.com/whitepapers/latest/s3-optimizing-performance-best-practices/timeouts-and-retries-for-latency-sensitive-applications.html).
 */
export const S3_REQUEST_SECONDS = 0.03;

/**
 * How the model runs Athena's statements. Athena publishes no throughput, so each is an
 * assumption, stated with its reasoning (docs/performance.md repeats them):
 * - vcpus: a DML query "consumes between 4 and 124 DPUs", a DPU is 4 vCPU and 16 GB
 *   (https://docs.aws.amazon.com/athena/latest/ug/capacity-management-requirements.html,
 *   https://docs.aws.amazon.com/athena/latest/ug/capacity-management.html): the model gives a
 *   statement the least, 4 DPUs, 16 vCPUs, each as fast as DuckDB measured on one core of this machine
 *   for the same SELECT (Trino is usually slower a core than DuckDB: hence also `slowdown` below);
 * - overheadSeconds: queueing, planning and UNLOAD's commit, a few seconds a statement (Athena reports
 *   QueryQueueTime and QueryPlanningTime in seconds for small queries), plus half the function's
 *   longest poll interval (src/maintenance/query-wait.ts POLL.maxMs, 5 s);
 * - openSeconds: each input object costs one S3 first byte (S3_REQUEST_SECONDS) on one of the
 *   16 readers;
 * - smallObjectBytes, getBytes: Athena reads an object of up to 3 MB with one GET (Trino's
 *   parquet.small-file-threshold, 3 MB since Trino 428, https://trino.io/docs/current/release/release-428.html;
 *   Athena engine 3 is Trino-based), a larger one with a GET for its footer and one per 8 MiB;
 * - outputPartBytes: Athena uploads its output in 16 MiB parts (a multipart upload: create, parts,
 *   complete); outputObjectBytes: its files are 128 MiB, as the DuckDB engine cuts them
 *   (Athena decides its own file sizes; fewer, larger files are fewer copies);
 * - copyBytesPerSecond: a CopyObject of a compacted file runs at 100 MB/s, plus a request's wait
 *   (S3 publishes no copy rate); deleteSeconds: a DeleteObjects of 1,000 keys takes 0.2 s;
 * - slowdown: the table also gives each case as if every statement took this many times longer.
 */
export const ATHENA_MODEL = {
  vcpus: 16,
  overheadSeconds: 5 + 2.5,
  openSeconds: S3_REQUEST_SECONDS,
  smallObjectBytes: 3 * 1000 * 1000,
  getBytes: 8 * MiB,
  outputPartBytes: 16 * MiB,
  outputObjectBytes: 128 * MiB,
  copyBytesPerSecond: 100e6,
  deleteSeconds: 0.2,
  slowdown: 10,
  /**
   * Athena's DML query timeout quota: 30 minutes unless raised; "You can request an increase in this
   * timeout up to a maximum of 240 minutes" (https://docs.aws.amazon.com/athena/latest/ug/service-limits.html,
   * through the Service Quotas console; defaults: https://docs.aws.amazon.com/general/latest/gr/athena.html).
   */
  dmlTimeoutSeconds: 30 * 60,
  dmlTimeoutMaxSeconds: 240 * 60,
} as const;

/** What the maintenance run in the function is (modules/props.ts DEFAULTS, handlers/actions.ts RESERVE_MS, the commit's concurrency in src/). */
export interface FunctionSetting {
  readonly memoryMb: number;
  readonly timeoutSeconds: number;
  /** Seconds of each invocation kept for the commit and the hand-on: a quarter of the remaining time, at most 30 s. */
  readonly reserveSeconds: number;
  /** CopyObject requests a commit keeps in flight (src/maintenance/copy-objects.ts COPY_CONCURRENCY). */
  readonly copyConcurrency: number;
  /** DeleteObjects requests in flight (src/lake/lake-store.ts S3Store.delete). */
  readonly deleteConcurrency: number;
  /** Invocations a run hands itself on to at most (src/actions/maintenance.ts MAX_CONTINUATIONS). */
  readonly maxContinuations: number;
}

export interface TriggerSetting {
  readonly batchSize: number;
  readonly windowSeconds: number;
}

// ---------------------------------------------------------------------------------------------
// Prices of usage

/** What a piece of work uses that AWS bills. */
export interface Usage {
  readonly invocations: number;
  readonly gbSeconds: number;
  /** PUT, COPY, POST (DeleteObjects, multipart steps) and LIST requests: one price. */
  readonly putList: number;
  readonly get: number;
  /** Bytes Athena bills (each query's scanned bytes rounded up to a MB, 10 MB at least). */
  readonly athenaBilledBytes: number;
}

export const NO_USAGE: Usage = { invocations: 0, gbSeconds: 0, putList: 0, get: 0, athenaBilledBytes: 0 };

export const addUsage = (...us: readonly Usage[]): Usage =>
  us.reduce((a, b) => ({
    invocations: a.invocations + b.invocations,
    gbSeconds: a.gbSeconds + b.gbSeconds,
    putList: a.putList + b.putList,
    get: a.get + b.get,
    athenaBilledBytes: a.athenaBilledBytes + b.athenaBilledBytes,
  }), NO_USAGE);

export const scaleUsage = (u: Usage, k: number): Usage => ({
  invocations: u.invocations * k,
  gbSeconds: u.gbSeconds * k,
  putList: u.putList * k,
  get: u.get * k,
  athenaBilledBytes: u.athenaBilledBytes * k,
});

export interface Cost {
  readonly lambda: number;
  readonly s3: number;
  readonly athena: number;
  readonly total: number;
}

export function priceOf(u: Usage): Cost {
  const lambda = u.invocations * PRICES.lambdaRequest + u.gbSeconds * PRICES.lambdaGbSecond;
  const s3 = u.putList * PRICES.s3PutOrList + u.get * PRICES.s3Get;
  const athena = (u.athenaBilledBytes / ATHENA_BILLING.bytesPerTB) * PRICES.athenaPerTB;
  return { lambda, s3, athena, total: lambda + s3 + athena };
}

/** The bytes Athena bills for one query that scans `scanned` bytes. */
export function athenaBilledBytes(scanned: number): number {
  const rounded = Math.ceil(scanned / ATHENA_BILLING.roundBytes) * ATHENA_BILLING.roundBytes;
  return Math.max(ATHENA_BILLING.minimumBytes, rounded);
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
// S3 request arithmetic

/** ListObjectsV2 returns at most 1,000 keys a page. */
export const listPages = (keys: number): number => Math.max(1, Math.ceil(keys / 1000));
/** DeleteObjects takes at most 1,000 keys; no request for none. */
export const deleteRequests = (keys: number): number => Math.ceil(keys / 1000);
/** An upload of `bytes` in parts of `part`: one PutObject, or create + parts + complete. */
export const uploadRequests = (bytes: number, part: number): number => (bytes <= part ? 1 : 2 + Math.ceil(bytes / part));
/** GETs Athena sends to read an object of `bytes` (ATHENA_MODEL). */
export const athenaGets = (bytes: number): number => (bytes <= ATHENA_MODEL.smallObjectBytes ? 1 : 1 + Math.ceil(bytes / ATHENA_MODEL.getBytes));

// ---------------------------------------------------------------------------------------------
// The table: partitions, shards, traffic

export interface TableShape {
  readonly items: number;
  /** DynamoDB's size of an item, with its 100-byte overhead (CapacityUnitCalculations). */
  readonly itemStorageBytes: number;
  /** Write units a change consumes (its item's size in KB, rounded up). */
  readonly writeUnitsPerChange: number;
  /** Changes a day. */
  readonly changesPerDay: number;
}

export interface Partitions {
  readonly partitions: number;
  readonly bySize: number;
  readonly byWrites: number;
}

/**
 * The fewest partitions the table can have: enough for its size at 10 GB a partition and for its
 * writes at 1,000 units a second (the day's changes spread evenly: peaks only add partitions, which
 * never merge again). DynamoDB Streams has one shard per partition, so this is also the stream's
 * shard count, and an export writes at least one data file per partition.
 */
export function partitionsOf(t: TableShape): Partitions {
  const bySize = Math.ceil((t.items * t.itemStorageBytes) / DYNAMODB.partitionBytes);
  const byWrites = Math.ceil(((t.changesPerDay / DAY_SECONDS) * t.writeUnitsPerChange) / DYNAMODB.partitionWriteUnits);
  return { partitions: Math.max(1, bySize, byWrites), bySize, byWrites };
}

// ---------------------------------------------------------------------------------------------
// The stream path

/** A least-squares line y = a + b·x through measured points. */
export interface Line {
  readonly a: number;
  readonly b: number;
}

export const at = (l: Line, x: number): number => l.a + l.b * x;

/** Measured points (x ascending); read between them on straight lines, and beyond the ends on the end segments. */
export type Curve = readonly { readonly x: number; readonly y: number }[];

export function interpolate(curve: Curve, x: number): number {
  if (curve.length === 0) throw new Error('interpolate: no points');
  if (curve.length === 1) return curve[0]!.y;
  let i = 1;
  while (i < curve.length - 1 && curve[i]!.x < x) i++;
  const p = curve[i - 1]!;
  const q = curve[i]!;
  return p.y + ((q.y - p.y) * (x - p.x)) / (q.x - p.x);
}

export function fitLine(points: readonly { x: number; y: number }[]): Line {
  const n = points.length;
  if (n === 0) throw new Error('fitLine: no points');
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  const b = sxx === 0 ? 0 : points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
  return { a: my - b * mx, b };
}

/** What the stream path's batches measured in this run. */
export interface StreamMeasure {
  /** CPU ms of one invocation (JSON.parse of the payload and the handler) for a batch of n records, measured at several n. */
  readonly handlerMs: Curve;
  /** Bytes of the Parquet object a batch of n records writes, measured at several n. */
  readonly objectBytes: Curve;
  /** Objects a batch writes (a batch across midnight writes two). */
  readonly objectsPerBatch: number;
  /** DynamoDB JSON bytes a record, as the stream delivers it (NEW_AND_OLD_IMAGES). */
  readonly recordBytes: number;
}

export interface StreamDay {
  readonly recordsPerShardSecond: number;
  /** Records an invocation holds: the window's worth, at most the batch size and the 6 MB payload, at least one. */
  readonly recordsPerBatch: number;
  readonly batches: number;
  readonly objects: number;
  readonly objectBytes: number;
  /** Seconds of one invocation in the function (the handler's CPU at the memory's share, its PUTs). */
  readonly invocationSeconds: number;
  /** A record's wait until its object is in the lake: the batch's fill (the window at most), then the invocation. */
  readonly latencySeconds: number;
  readonly usage: Usage;
}

const cpuScale = (memoryMb: number): number => Math.max(1, FULL_VCPU_MB / memoryMb);

/** A day of the stream path for `records` changes spread evenly over `shards` shards. */
export function streamDay(records: number, shards: number, trigger: TriggerSetting, fn: Pick<FunctionSetting, 'memoryMb'>, m: StreamMeasure): StreamDay {
  const perShard = records / DAY_SECONDS / shards;
  const payloadRecords = Math.max(1, Math.floor(EVENT_SOURCE.payloadBytes / m.recordBytes));
  const window = Math.max(trigger.windowSeconds, EVENT_SOURCE.pollSeconds);
  const n = Math.max(1, Math.min(trigger.batchSize, payloadRecords, perShard * window));
  const batches = records / n;
  const objects = batches * m.objectsPerBatch;
  const objectBytes = objects * (interpolate(m.objectBytes, n) / m.objectsPerBatch);
  // Lambda bills an invocation's duration rounded up to the millisecond.
  const ms = Math.ceil(interpolate(m.handlerMs, n) * cpuScale(fn.memoryMb) + m.objectsPerBatch * S3_REQUEST_SECONDS * 1000);
  const invocationSeconds = ms / 1000;
  const fill = Math.min(window, n / perShard);
  return {
    recordsPerShardSecond: perShard,
    recordsPerBatch: n,
    batches,
    objects,
    objectBytes,
    invocationSeconds,
    latencySeconds: fill + invocationSeconds,
    usage: { invocations: batches, gbSeconds: batches * invocationSeconds * (fn.memoryMb / 1024), putList: objects, get: 0, athenaBilledBytes: 0 },
  };
}

// ---------------------------------------------------------------------------------------------
// Maintenance statements in Athena

/** Bytes a CPU-second the DuckDB engine measured for each statement (input bytes over CPU time). */
export interface EngineRate {
  readonly compaction: number;
  readonly checkpoint: number;
}

export interface Statement {
  /** Objects and bytes the statement reads. */
  readonly inputObjects: number;
  readonly inputBytes: number;
  /** Its output: bytes and objects (ATHENA_MODEL.outputObjectBytes each). */
  readonly outputBytes: number;
  readonly outputObjects: number;
  /** The time the model gives it in Athena (on ATHENA_MODEL.vcpus). */
  readonly seconds: number;
  /** Its work in CPU-seconds (at the measured rate, times the slowdown), and the vCPUs it needs to end within Athena's DML timeout. */
  readonly cpuSeconds: number;
  readonly vcpusForTimeout: number;
  /** Athena's bill and its S3 requests: the LISTs and GETs of its reading, the uploads of its output. */
  readonly usage: Usage;
}

export function statement(input: { objects: number; bytes: number; partitions: number }, outputBytes: number, bytesPerCpuSecond: number, slowdown = 1): Statement {
  const outputObjects = Math.max(1, Math.ceil(outputBytes / ATHENA_MODEL.outputObjectBytes));
  const perObject = input.objects > 0 ? input.bytes / input.objects : 0;
  const get = input.objects * athenaGets(perObject);
  const list = input.partitions * listPages(input.objects / Math.max(1, input.partitions));
  const put = outputObjects * uploadRequests(outputBytes / outputObjects, ATHENA_MODEL.outputPartBytes);
  const cpuSeconds = (input.bytes / bytesPerCpuSecond + input.objects * ATHENA_MODEL.openSeconds) * slowdown;
  const seconds = ATHENA_MODEL.overheadSeconds + cpuSeconds / ATHENA_MODEL.vcpus;
  const vcpusForTimeout = cpuSeconds / (ATHENA_MODEL.dmlTimeoutSeconds - ATHENA_MODEL.overheadSeconds);
  return {
    inputObjects: input.objects,
    inputBytes: input.bytes,
    outputBytes,
    outputObjects,
    seconds,
    cpuSeconds,
    vcpusForTimeout,
    usage: { ...NO_USAGE, putList: list + put, get, athenaBilledBytes: athenaBilledBytes(input.bytes) },
  };
}

// ---------------------------------------------------------------------------------------------
// The function's own S3 requests in a maintenance run

/** S3 requests, as the function sends them. */
export interface Requests {
  readonly list: number;
  readonly put: number;
  readonly copy: number;
  readonly delete: number;
  readonly get: number;
}

export const NO_REQUESTS: Requests = { list: 0, put: 0, copy: 0, delete: 0, get: 0 };
export const addRequests = (...rs: readonly Requests[]): Requests =>
  rs.reduce((a, b) => ({ list: a.list + b.list, put: a.put + b.put, copy: a.copy + b.copy, delete: a.delete + b.delete, get: a.get + b.get }), NO_REQUESTS);
export const totalRequests = (r: Requests): number => r.list + r.put + r.copy + r.delete + r.get;

/** Bytes of a compaction plan's JSON per input object (its key and size), as src/maintenance/compaction.ts stores it. */
export const PLAN_BYTES_PER_OBJECT = 140;
/** S3Store writes an object in parts of 8 MiB (src/lake/s3-output.ts PART_BYTES). */
export const STORE_PART_BYTES = 8 * MiB;

/**
 * The requests of a day's compaction that grow with its objects, as src/maintenance/compaction.ts
 * sends them, beyond what a day of at most 1,000 inputs and one output sends (which the bench
 * counts for real on the simulated lake): the day listed twice when the run plans (pages of 1,000
 * keys), the staging and the day's outputs listed (three times), the plan written three times (its
 * JSON grows with the inputs: a multipart upload past 8 MiB), one footer GET and one CopyObject per
 * output, the inputs and the staging deleted 1,000 keys a request. The commit's own listing of the
 * day, and what Athena's longer statements add (a pass that waits, continuations), are runCost's.
 */
export function compactionExtraRequests(inputs: number, outputs: number): Requests {
  const planBytes = inputs * PLAN_BYTES_PER_OBJECT;
  return {
    list: 2 * (listPages(inputs) - 1) + 3 * (listPages(outputs) - 1),
    put: 3 * (uploadRequests(planBytes, STORE_PART_BYTES) - 1),
    copy: outputs - 1,
    delete: deleteRequests(inputs) - 1 + deleteRequests(outputs) - 1,
    get: outputs - 1,
  };
}
/**
 * The same for a checkpoint: its inputs are the previous checkpoint's objects and the days since its
 * bound (one listing each), it lists its own objects when done, and the pruning lists and deletes
 * the oldest kept checkpoint's objects.
 */
export function checkpointExtraRequests(checkpointObjects: number, days: number, measuredDays: number): Requests {
  return {
    list: Math.max(0, days - measuredDays) + 2 * (listPages(checkpointObjects) - 1),
    put: 0,
    copy: 0,
    delete: deleteRequests(checkpointObjects) - 1,
    get: 0,
  };
}

/** A run handed on to another invocation looks at its plans again: the state listed, the plans read (src/actions/maintenance.ts). */
export const CONTINUATION_REQUESTS: Requests = { list: 5, put: 0, copy: 0, delete: 0, get: 2 };

// ---------------------------------------------------------------------------------------------
// Checkpoint cadence: the rebuild rule, day by day

export interface CadenceDay {
  readonly day: number;
  readonly rebuilt: boolean;
  /** Bytes the rebuild scanned: the checkpoint and the days since its bound. */
  readonly scannedBytes: number;
  /** Days since the bound, and their bytes, after the morning's run (what the view reads beside the checkpoint). */
  readonly daysSinceBound: number;
  readonly daysBytes: number;
}

export interface Cadence {
  readonly days: readonly CadenceDay[];
  readonly rebuilds: number;
  readonly meanDaysBetween: number;
  readonly scannedPerDay: number;
  /** (checkpoint + days since its bound) / checkpoint, the most over the days: what the view reads at most, closed days only. */
  readonly maxReadShare: number;
}

/**
 * The rebuild rule of src/maintenance/checkpoint.ts payoff(), run day by day: each morning a
 * closed day of `dayBytes` (compacted) joins the days since the bound; the checkpoint is rebuilt
 * when those days, with the next one (estimated as this one), would hold at least `share` of its
 * bytes, or when its bound is `maxAgeDays` old. The
 * checkpoint itself stays `checkpointBytes` (a table of constant size). Day 0 is the first
 * checkpoint (the backfill's morning, or the first run), not counted.
 */
export function checkpointCadence(checkpointBytes: number, dayBytes: number, share: number, maxAgeDays: number, days = 364): Cadence {
  const out: CadenceDay[] = [];
  let daysBytes = 0;
  let age = 0;
  let scanned = 0;
  let rebuilds = 0;
  let maxReadShare = 1;
  for (let d = 1; d <= days; d++) {
    daysBytes += dayBytes;
    age += 1;
    // The rule counts the next day too (the view reads it before the next run), estimated as this one.
    const rebuild = checkpointBytes === 0 || (daysBytes + dayBytes) / checkpointBytes >= share || age >= maxAgeDays;
    let scannedBytes = 0;
    if (rebuild) {
      scannedBytes = checkpointBytes + daysBytes;
      scanned += scannedBytes;
      rebuilds++;
      daysBytes = 0;
      age = 0;
    }
    maxReadShare = Math.max(maxReadShare, checkpointBytes > 0 ? (checkpointBytes + daysBytes) / checkpointBytes : 1);
    out.push({ day: d, rebuilt: rebuild, scannedBytes, daysSinceBound: age, daysBytes });
  }
  return { days: out, rebuilds, meanDaysBetween: days / Math.max(1, rebuilds), scannedPerDay: scanned / days, maxReadShare };
}

// ---------------------------------------------------------------------------------------------
// A maintenance run in the function: it starts the queries, waits while they run, commits

export interface RunShape {
  /** The day's compaction: its statement and its commit (copies of the outputs, deletes of the inputs). */
  readonly compaction?: Statement;
  /** A checkpoint rebuilt this morning. */
  readonly checkpoint?: Statement;
  /** The function's S3 requests, counted on the simulated lake plus what grows with the objects. */
  readonly requests: Requests;
}

export interface RunCost {
  /** Seconds the run waits for its queries (one after the other: the checkpoint waits for the day's compaction). */
  readonly waitSeconds: number;
  /** Seconds of the commit after the compaction's query: its listings, the copies (fn.copyConcurrency at a time) and the deletes, over every invocation it takes. */
  readonly commitSeconds: number;
  /** Invocations the commit's copies run in: 1 when they fit in what is left of one, more when it runs out of time and hands on. */
  readonly commitInvocations: number;
  /** Whether the commit ends: false when an invocation's listings alone use up its time (no copy would ever start). */
  readonly commitCompletes: boolean;
  /** The most seconds an invocation runs past its deadline (its timeout less the reserve): copies in flight, the listings of the pass that hands on, the deletes. */
  readonly overrunSeconds: number;
  /** Whether every invocation ends within its timeout (the overrun within the reserve). */
  readonly withinTimeout: boolean;
  /** Whether the run ends within fn.maxContinuations hand-ons (else the next scheduled run takes it on). */
  readonly withinContinuations: boolean;
  readonly invocations: number;
  readonly requests: Requests;
  readonly usage: Usage;
}

/** Seconds of one CopyObject of one of a statement's output files (a request plus its bytes at the assumed copy rate). */
export const copySeconds = (c: Statement): number => S3_REQUEST_SECONDS + c.outputBytes / c.outputObjects / ATHENA_MODEL.copyBytesPerSecond;

/** Seconds of the DeleteObjects of a compaction's inputs and staged outputs, fn.deleteConcurrency requests at a time. */
export const deleteSeconds = (c: Statement, fn: Pick<FunctionSetting, 'deleteConcurrency'>): number =>
  (Math.ceil(deleteRequests(c.inputObjects) / fn.deleteConcurrency) + Math.ceil(deleteRequests(c.outputObjects) / fn.deleteConcurrency)) * ATHENA_MODEL.deleteSeconds;

/**
 * The run in the function, invocation by invocation (src/actions/maintenance.ts, handlers/actions.ts):
 * - the first invocation sends the run's requests (S3_REQUEST_SECONDS each, one after the other;
 *   the copies and deletes are the commit's, below), then, Athena's query still running, a second pass
 *   lists the day again, reads its plan and waits;
 * - an invocation waits until its deadline (its timeout less the reserve) and hands the run on to a
 *   new invocation, which lists the day twice while its compaction is in flight (the pass that looks
 *   and the pass that waits) and reads the plan (CONTINUATION_REQUESTS);
 * - once the compaction's query is done: the day listed (inputs and outputs, to skip copies already
 *   made), then the copies, fn.copyConcurrency at a time, each started only before the deadline; out
 *   of time with copies left, the copies in flight end and the run hands on. The query ends in the
 *   pass that waits, so in that invocation the commit is its last step for the day; the next
 *   invocation lists the day, its plan and the commit again in its first pass and copies the rest;
 *   when that runs out of time too, its pass that waits lists the day and reads the plan, finds no
 *   time and hands on before listing the commit (src/maintenance/compaction.ts advance); after the
 *   last copy, the deletes, fn.deleteConcurrency at a time, in the same invocation;
 * - then the checkpoint's query is waited for the same way (it waits for the day's compaction).
 * Billed at fn.memoryMb for every second of every invocation.
 */
export function runCost(run: RunShape, fn: FunctionSetting): RunCost {
  const budget = fn.timeoutSeconds - fn.reserveSeconds;
  const c = run.compaction;
  const serial = (r: Requests): number => (r.list + r.put + r.get) * S3_REQUEST_SECONDS;
  const dayPages = c ? listPages(c.inputObjects) : 0;
  const commitPages = c ? listPages(c.inputObjects + c.outputObjects) : 0;
  const list = (n: number, get = 0): Requests => ({ ...NO_REQUESTS, list: n, get });
  // Athena's query is still running when the run first looks at it: the pass that waits lists the day again and reads the plan.
  let requests = addRequests(run.requests, c ? list(dayPages + 1, 1) : NO_REQUESTS);
  let t = serial(requests);
  let seconds = 0;
  let invocations = 1;
  let overrun = 0;
  const handOn = (more: Requests): void => {
    overrun = Math.max(overrun, t - budget);
    seconds += t;
    invocations++;
    requests = addRequests(requests, more);
    t = serial(more);
  };
  const wait = (s: number, more: Requests): void => {
    let left = s;
    while (left > 0) {
      if (t >= budget) handOn(more);
      const take = Math.min(left, Math.max(budget - t, 1));
      t += take;
      left -= take;
    }
  };
  const waitSeconds = (c?.seconds ?? 0) + (run.checkpoint?.seconds ?? 0);
  let commitSeconds = 0;
  let commitInvocations = 0;
  let commitCompletes = true;
  if (c) {
    wait(c.seconds, addRequests(CONTINUATION_REQUESTS, list(2 * (dayPages - 1))));
    const step = (s: number): void => {
      t += s;
      commitSeconds += s;
    };
    // The day listed before the copies (the measured run counts one page of it).
    requests = addRequests(requests, list(commitPages - 1));
    step(commitPages * S3_REQUEST_SECONDS);
    commitInvocations = 1;
    const perCopy = copySeconds(c);
    let waves = Math.ceil(c.outputObjects / fn.copyConcurrency);
    while (waves > 0) {
      if (t < budget) {
        step(perCopy);
        waves--;
        continue;
      }
      // Out of time. Where the query ended, the copies ran in the pass that waits: the run hands on
      // straight away. In a continuation they ran in its first pass: the pass that waits lists the day
      // and its state and reads the plan, then hands on before the commit's listing.
      if (commitInvocations > 1) {
        const again = list(dayPages + 1, 1);
        requests = addRequests(requests, again);
        step(serial(again));
      }
      const next = addRequests(CONTINUATION_REQUESTS, list(dayPages - 1 + commitPages));
      handOn(next);
      commitSeconds += t;
      commitInvocations++;
      if (t >= budget) {
        commitCompletes = false;
        break;
      }
    }
    if (commitCompletes) step(deleteSeconds(c, fn));
  }
  if (run.checkpoint) wait(run.checkpoint.seconds, CONTINUATION_REQUESTS);
  overrun = Math.max(overrun, t - budget);
  seconds += t;
  const fnUsage: Usage = {
    invocations,
    gbSeconds: seconds * (fn.memoryMb / 1024),
    putList: requests.list + requests.put + requests.copy + requests.delete,
    get: requests.get,
    athenaBilledBytes: 0,
  };
  return {
    waitSeconds,
    commitSeconds,
    commitInvocations,
    commitCompletes,
    overrunSeconds: Math.max(0, overrun),
    withinTimeout: overrun <= fn.reserveSeconds,
    withinContinuations: invocations <= fn.maxContinuations + 1,
    invocations,
    requests,
    usage: addUsage(fnUsage, c?.usage ?? NO_USAGE, run.checkpoint?.usage ?? NO_USAGE),
  };
}
