import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GlueClient } from '@aws-sdk/client-glue';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createHandler } from '../../handlers/router.ts';
import type { RedriveResult } from '../../src/actions/redrive.ts';
import { loadPipelineConfig, type PipelineConfig } from '../../src/config/pipeline-config.ts';
import { S3Sink } from '../../src/lake/sink.ts';
import { drainShards, type MappingOptions, type MappingStats, type Shard } from '../../test/support/event-source-mapping.ts';
import { startFaultProxy, type FaultProxy } from '../../test/support/fault-proxy.ts';
import { downloadPrefix, listKeys } from '../../test/support/lake.ts';
import { startMoto, type Moto } from '../../test/support/moto.ts';
import { startAthenaStandIn, type AthenaStandIn } from '../../test/support/athena-server.ts';
import { AthenaClient } from '@aws-sdk/client-athena';
import { Maintenance, type CompactionOutcome } from './compaction.ts';
import { ExpectedRows } from './expected.ts';
import { emptyCounts, emptyInterleavings, redriveFaults, ShardFaults, type FaultCounts, type FaultRates, type Interleavings } from './faults.ts';
import { CARRY, EXPLODE } from './items.ts';
import { redriveAll, watchReceipts, type RedriveTotals } from './redrive.ts';
import { startStreamServer } from './stream-server.ts';
import { Truth } from './truth.ts';
import { checkLake, checkQuarantine, type LakeFindings, type QuarantineFindings } from './verify.ts';
import { shardIdOf, ShardWorkload, START, STREAM_ARN, type WorkloadOptions } from './workload.ts';

/**
 * The soak run: a deterministic workload through the real handler (the
 * router the Lambda bundle exports) on moto's S3 behind fault proxies, one
 * event source mapping per shard, all shards at once; then redrive of the
 * on-failure queue through the function's redrive action; then the lake's
 * maintenance through the function's compact action (compaction.ts: once in
 * the middle of the workload, racing the stream, and daily after the
 * redrive until the lake is done); then the checks in DuckDB on the
 * compacted lake. Nothing here asserts a time.
 */

export interface SoakOptions {
  readonly records: number;
  readonly keys: number;
  readonly shards: number;
  readonly seed: number;
  /** Lambda's BatchSize; the batching window usually closes batches first. */
  readonly batchSize: number;
  readonly rates: FaultRates;
  /** Progress lines (stderr in the script), none by default. */
  readonly log?: (line: string) => void;
  /** Keep the downloaded lake, the expected rows and the truth here instead of deleting them. */
  readonly keep?: string;
}

/**
 * What the run fixes besides the flags: the trigger as the module deploys it
 * (5 s batching window, 10 retries, bisect, partial batch responses), a
 * stream function timeout far above a batch's normal second (short, so
 * that hung writes cost little wall time), the workload's span
 * and its share of items near 400 KB outside the bulk imports.
 */
export const SETTINGS = {
  batchingWindowSeconds: 5,
  maxRetries: 10,
  timeoutMs: 5_000,
  /** The redrive is an invocation of the same function with the module's default timeout (2 minutes). */
  redriveTimeoutMs: 120_000,
  /** A hung PutObject is forwarded this long after it arrived: after its invocation timed out. */
  hangMs: 6_500,
  days: 3.5,
  bigRate: 0.0002,
  /**
   * The maintenance run in the middle of the workload has this clock (the workload's time, days after
   * its start at 18:00): 2 days in, the days before the one 7 hours earlier (record age 6 h plus the
   * 1 h margin) are closed, two of the five, while 1.5 days of records are still to stream.
   */
  midRunAfterDays: 2,
  /**
   * A maintenance invocation's timeout: shorter than the module's 2 minutes, so that the stand-in Athena's
   * checkpoint queries (held CHECKPOINT_QUERY_MS) outlast it and the run hands itself on, as a large
   * checkpoint's query outlasts an invocation in AWS.
   */
  maintenanceTimeoutMs: 8_000,
} as const;

const BUCKET = 'soak-lake';
const QUEUE = 'orders-flatten-dlq';
const FUNCTION_ARN = 'arn:aws:lambda:us-east-1:123456789012:function:orders-flatten:live';

export interface SoakReport {
  readonly options: { records: number; keys: number; shards: number; seed: number; batchSize: number; rates: FaultRates };
  readonly workload: {
    records: number;
    nearLimitVersions: number;
    inserts: number;
    modifies: number;
    removes: number;
    reinserts: number;
    poison: number;
    itemsSeen: number;
    sharedSeconds: number;
    expectedRows: number;
    expectedVersions: number;
  };
  readonly faults: FaultCounts & { poison: number; landedLate: number; redriveSlowdown: number; redriveReset: number };
  readonly interleavings: Interleavings;
  readonly mapping: { batches: number; closedBySize: number; closedByPayload: number; closedByWindow: number; invocations: number; retries: number; partialFailures: number; errors: number; timeouts: number; functionTimeouts: number; bisections: number; acknowledged: number; sentToQueue: number; queueMessages: number };
  readonly handler: { rowsWritten: number; objectsWritten: number; bytesWritten: number; recordsQuarantined: number; batchFailures: number };
  readonly redrive: Omit<RedriveTotals, 'problems'> & { problems: string[]; streamRecordsServed: number };
  readonly compaction: CompactionOutcome;
  readonly lake: LakeFindings & { objects: number };
  readonly quarantine: QuarantineFindings;
  /** Valid records the engine rejected when computing the expected rows (always 0 unless the workload is wrong). */
  readonly expectedRejected: number;
  readonly seconds: { total: number; pipeline: number; redrive: number; verify: number };
  readonly memory: { peakRssBytes: number; pipelinePeakRssBytes: number; motoPeakRssBytes: number | undefined };
  /** 0 lost, 0 doubled, nothing missing or wrongly quarantined, nothing left in the queue. */
  readonly ok: boolean;
}

/** Middy's early-timeout response (timeoutEarlyResponse), which it gives just before the context's deadline. */
function isEarlyTimeout(error: unknown): boolean {
  return error instanceof Error && error.name === 'TimeoutError';
}

const peakRss = (): number => process.resourceUsage().maxRSS * 1024;

function motoPeakRss(moto: Moto): number | undefined {
  try {
    const status = readFileSync(`/proc/${moto.pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * A fresh invocation's context: the time left counts down from the function
 * timeout, and Middy ends the handler just before it, as Lambda does.
 */
function lambdaContext(timeoutMs: number): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    functionName: 'orders-flatten',
    functionVersion: '1',
    invokedFunctionArn: FUNCTION_ARN,
    awsRequestId: 'soak',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  } as unknown as Context;
}

const CHECKPOINT_PARAMETER = '/ddb-flatten/orders/checkpoint';

function pipelineConfig(queueUrl: string, records: number): PipelineConfig {
  return loadPipelineConfig({
    LAKE_BUCKET: BUCKET,
    LAKE_PREFIX: 'flattened',
    QUARANTINE_PREFIX: 'quarantine',
    EXPLODE_ATTRIBUTES: EXPLODE,
    PARTITION_KEY: 'pk',
    SORT_KEY: 'sk',
    CARRY_ATTRIBUTES: CARRY,
    STREAM_ARN,
    DLQ_URL: queueUrl,
    CHECKPOINT_PARAMETER,
    GLUE_DATABASE: 'orders',
    GLUE_VIEW: 'current_state',
    GLUE_TABLE: 'flattened',
    GLUE_CHECKPOINTS_TABLE: 'checkpoints',
    ATHENA_WORKGROUP: 'orders-maintenance',
  });
}

interface HandlerTotals {
  rowsWritten: number;
  objectsWritten: number;
  bytesWritten: number;
  recordsQuarantined: number;
  batchFailures: number;
}

/** The handler's EMF lines, summed: what CloudWatch would chart. */
function metricsSink(totals: HandlerTotals): (line: string) => void {
  return (line) => {
    const m = JSON.parse(line) as Record<string, number>;
    totals.rowsWritten += m.RowsWritten ?? 0;
    totals.objectsWritten += m.ObjectsWritten ?? 0;
    totals.bytesWritten += m.BytesWritten ?? 0;
    totals.recordsQuarantined += m.RecordsQuarantined ?? 0;
    totals.batchFailures += m.BatchFailures ?? 0;
  };
}

export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const log = options.log ?? (() => {});
  const started = performance.now();
  const work = options.keep ?? mkdtempSync(join(tmpdir(), 'ddbf-soak-'));
  const lakeRoot = join(work, 'lake');
  const expectedRoot = join(work, 'expected');
  mkdirSync(lakeRoot, { recursive: true });
  const workload: WorkloadOptions = {
    seed: options.seed,
    records: options.records,
    keys: options.keys,
    shards: options.shards,
    days: SETTINGS.days,
    poisonRate: options.rates.poison,
    bigRate: SETTINGS.bigRate,
  };
  const proxies: FaultProxy[] = [];
  let moto: Moto | undefined;
  let athena: AthenaStandIn | undefined;
  let stream: Awaited<ReturnType<typeof startStreamServer>> | undefined;
  let stopMaintenance: (() => Promise<void>) | undefined;
  try {
    moto = await startMoto();
    athena = await startAthenaStandIn({ moto: moto.clientConfig, concurrency: 2 });
    const s3 = new S3Client(moto.clientConfig);
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    const sqs = new SQSClient(moto.clientConfig);
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: QUEUE }))).QueueUrl!.replace('localhost', '127.0.0.1');
    const config = pipelineConfig(queueUrl, options.records);
    const logger = new Logger({ serviceName: 'ddb-flatten-soak', logLevel: 'SILENT' });
    const unused = async (): Promise<never> => {
      throw new Error('a stream batch uses no action clients');
    };
    stream = await startStreamServer(workload);
    const streams = new DynamoDBStreamsClient({ ...moto.clientConfig, endpoint: stream.endpoint });
    const maintenance = await Maintenance.start({
      moto,
      athena,
      bucket: BUCKET,
      config,
      queueUrl,
      rates: options.rates,
      seed: options.seed,
      functionArn: FUNCTION_ARN,
      timeoutMs: SETTINGS.maintenanceTimeoutMs,
      streams,
      logger,
      context: lambdaContext,
      log,
    });
    stopMaintenance = () => maintenance.close();

    // ---- the pipeline: every shard at once
    const truth = new Truth(workload);
    const expected = new ExpectedRows(expectedRoot, config);
    const counts = emptyCounts();
    const interleavings = emptyInterleavings();
    const handlerTotals: HandlerTotals = { rowsWritten: 0, objectsWritten: 0, bytesWritten: 0, recordsQuarantined: 0, batchFailures: 0 };
    let produced = 0;
    let nextReport = 0;
    let functionTimeouts = 0;
    // The mid-workload maintenance run starts once every shard has delivered every record before its clock
    // (a shard's records before the one it yields last are all acknowledged or in the queue: the mapping
    // pulls the next record only after the batch before it is done), so the days it closes are closed.
    const midSeconds = START + SETTINGS.midRunAfterDays * 86_400;
    const settled: number[] = new Array<number>(options.shards).fill(Number.NEGATIVE_INFINITY);
    let lastEventSeconds = 0;
    let midRun: Promise<void> | undefined;
    const landedLate = (): number => proxies.reduce((n, p) => n + p.landedLate, 0);
    const maybeStartMidRun = (): void => {
      if (midRun || Math.min(...settled) < midSeconds) return;
      midRun = maintenance.midRun(midSeconds * 1000, { produced: () => produced, total: options.records, objectsWritten: () => handlerTotals.objectsWritten, landedLate });
    };
    const shards: Shard[] = [];
    for (let s = 0; s < options.shards; s++) {
      const shard = new ShardWorkload(workload, s);
      truth.addShard(s, shard.keys);
      const proxy = await startFaultProxy(moto.endpoint, { hangMs: SETTINGS.hangMs });
      proxies.push(proxy);
      const faults = new ShardFaults({
        seed: options.seed,
        shard: s,
        rates: options.rates,
        outageInvocations: SETTINGS.maxRetries + 2,
        isPoison: (sequence) => truth.poison.has(sequence),
        counts,
        interleavings,
      });
      proxy.decide = faults.decide;
      // Each shard's function instance has its own S3 client (SDK defaults: 3 attempts, standard retries).
      const shardS3 = new S3Client({ ...moto.clientConfig, endpoint: proxy.endpoint });
      const handler = createHandler({ config, sink: new S3Sink(shardS3, BUCKET), s3: shardS3, clients: unused, logger, writeMetrics: metricsSink(handlerTotals) });
      const invoke = faults.wrap(async (event) => {
        // The deadline starts with the invocation, as the mapping's own timeout does.
        const context = lambdaContext(SETTINGS.timeoutMs);
        try {
          // A JSON round trip: the handler gets what Lambda would deliver, never the workload's own objects.
          return (await handler(JSON.parse(JSON.stringify(event)) as DynamoDBStreamEvent, context)) as DynamoDBBatchResponse;
        } catch (error) {
          // Middy answers just before the deadline, so a hung write usually ends as this error, not the mapping's cut-off.
          if (isEarlyTimeout(error)) functionTimeouts++;
          throw error;
        }
      });
      const records = async function* (): AsyncGenerator<DynamoDBRecord> {
        for (;;) {
          const planned = shard.plan();
          if (!planned) {
            settled[s] = Number.POSITIVE_INFINITY;
            maybeStartMidRun();
            return;
          }
          if (planned.time > lastEventSeconds) lastEventSeconds = planned.time;
          truth.observe(s, planned);
          const record = shard.build(planned);
          if (!planned.poison) await expected.add(record);
          if (++produced >= nextReport) {
            log(`pipeline: ${produced.toLocaleString('en-US')} / ${options.records.toLocaleString('en-US')} records, rss ${(process.memoryUsage.rss() / 2 ** 20).toFixed(0)} MB`);
            nextReport += Math.max(10_000, Math.ceil(options.records / 20));
          }
          yield record;
          // Asked for the next record: every record of this shard before `planned` has been delivered.
          settled[s] = planned.time;
          maybeStartMidRun();
        }
      };
      shards.push({ shardId: shardIdOf(s), records: records(), invoke });
    }
    const mapping: MappingOptions = {
      batchSize: options.batchSize,
      bisectOnError: true,
      maxRetries: SETTINGS.maxRetries,
      timeoutMs: SETTINGS.timeoutMs,
      batchingWindowSeconds: SETTINGS.batchingWindowSeconds,
      recordBytes: (r) => Number(r.dynamodb?.SizeBytes ?? 0) + 400,
      functionArn: FUNCTION_ARN,
      onFailure: async (record) => void (await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: JSON.stringify(record) }))),
    };
    const stats = await drainShards(shards, mapping);
    // Timed-out invocations still running: their late writes land before anything is read.
    await Promise.allSettled(stats.flatMap((s) => [...s.abandoned]));
    await expected.flush();
    // The mid-workload run and the tasks it dispatched finish (they raced the stream until it ended).
    await midRun;
    await maintenance.quiesce();
    const pipelineSeconds = (performance.now() - started) / 1000;
    const total = (pick: (s: MappingStats) => number): number => stats.reduce((n, s) => n + pick(s), 0);
    const queueMessages = total((s) => s.dlq.length);
    log(`pipeline done in ${pipelineSeconds.toFixed(0)} s: ${total((s) => s.invocations)} invocations, ${queueMessages} batches to the on-failure queue`);

    // ---- redrive, with S3 still failing at the configured rates (no hangs: nothing times a redrive out)
    const redriveStarted = performance.now();
    const redriveCounts = { slowdown: 0, reset: 0 };
    const redriveProxy = await startFaultProxy(moto.endpoint);
    proxies.push(redriveProxy);
    redriveProxy.decide = redriveFaults(options.seed, options.rates, redriveCounts);
    const redriveS3 = new S3Client({ ...moto.clientConfig, endpoint: redriveProxy.endpoint });
    const redriveSqs = new SQSClient(moto.clientConfig);
    const receipts = watchReceipts(redriveSqs);
    const actionClients = {
      ddb: new DynamoDBClient(moto.clientConfig),
      streams,
      sqs: redriveSqs,
      s3: redriveS3,
      glue: new GlueClient(moto.clientConfig),
      lambda: new LambdaClient(moto.clientConfig),
      ssm: new SSMClient(moto.clientConfig),
      athena: new AthenaClient(athena.clientConfig),
    };
    const functionForRedrive = createHandler({ config, sink: new S3Sink(redriveS3, BUCKET), s3: redriveS3, clients: async () => actionClients, logger, writeMetrics: () => {} });
    const redrive = await redriveAll(
      async (maxMessages) => (await functionForRedrive({ action: 'redrive', maxMessages }, lambdaContext(SETTINGS.redriveTimeoutMs))) as RedriveResult,
      redriveSqs,
      queueUrl,
      receipts,
    );
    const redriveSeconds = (performance.now() - redriveStarted) / 1000;
    log(`redrive done in ${redriveSeconds.toFixed(0)} s: ${redrive.deleted} messages, ${redrive.records} records, in ${redrive.rounds} rounds`);

    // ---- the maintenance, daily with every day closed, until the lake is done; S3 failing at the rates
    // A run or task out of attempts leaves its on-failure record in the queue: the redrive deletes it, as
    // an operator answering the queue's alarm would, and the next run resumes the work.
    const redriveMaintenanceFailures = async (): Promise<number> => {
      const sqsForRedrive = new SQSClient(moto!.clientConfig);
      const seen = watchReceipts(sqsForRedrive);
      const clients = { ...actionClients, sqs: sqsForRedrive };
      const fn = createHandler({ config, sink: new S3Sink(redriveS3, BUCKET), s3: redriveS3, clients: async () => clients, logger, writeMetrics: () => {} });
      const totals = await redriveAll(async (maxMessages) => (await fn({ action: 'redrive', maxMessages }, lambdaContext(SETTINGS.redriveTimeoutMs))) as RedriveResult, sqsForRedrive, queueUrl, seen);
      return totals.deleted;
    };
    await maintenance.finalRuns(lastEventSeconds, redriveMaintenanceFailures);
    const compaction = await maintenance.report();
    log(`maintenance done in ${compaction.seconds.toFixed(0)} s: ${compaction.invocations.runs} runs, ${compaction.invocations.attempts} attempts, ${compaction.daysCompacted} days compacted, ${compaction.complete ? 'complete' : `NOT complete: ${compaction.leftovers.join('; ')}`}`);

    // ---- the checks
    const pipelinePeakRssBytes = peakRss();
    const verifyStarted = performance.now();
    const objects = await downloadPrefix(s3, BUCKET, `${config.dataPrefix}/`, lakeRoot, 8);
    // The checkpoints and their pointer: what the current-state view reads besides the days after its bound.
    await downloadPrefix(s3, BUCKET, `${config.maintenance.statePrefix}/checkpoints/`, lakeRoot, 8);
    const quarantineKeys = await listKeys(s3, BUCKET, `${config.quarantinePrefix}/`);
    const latestCsv = join(work, 'latest.csv');
    await truth.writeLatestCsv(latestCsv);
    log(`checking ${objects.length} objects in DuckDB`);
    const lake = await checkLake(lakeRoot, expectedRoot, latestCsv, { prefix: config.dataPrefix, statePrefix: config.maintenance.statePrefix, carried: config.flatten.carry }, log);
    const quarantine = checkQuarantine(quarantineKeys, truth.poison);
    const verifySeconds = (performance.now() - verifyStarted) / 1000;

    const { problems, ...redriveTotals } = redrive;
    const report: SoakReport = {
      options: { records: options.records, keys: options.keys, shards: options.shards, seed: options.seed, batchSize: options.batchSize, rates: options.rates },
      workload: {
        records: truth.records,
        nearLimitVersions: truth.nearLimit,
        inserts: truth.ops.INSERT,
        modifies: truth.ops.MODIFY,
        removes: truth.ops.REMOVE,
        reinserts: truth.ops.reinserts,
        poison: truth.poison.size,
        itemsSeen: truth.itemsSeen(),
        sharedSeconds: truth.sharedSeconds(),
        expectedRows: expected.rows,
        expectedVersions: expected.versions,
      },
      faults: { ...counts, poison: truth.poison.size, landedLate: landedLate(), redriveSlowdown: redriveCounts.slowdown, redriveReset: redriveCounts.reset },
      interleavings,
      mapping: {
        batches: total((s) => s.batches),
        closedBySize: total((s) => s.closedBy.size),
        closedByPayload: total((s) => s.closedBy.payload),
        closedByWindow: total((s) => s.closedBy.window),
        invocations: total((s) => s.invocations),
        retries: total((s) => s.retries),
        partialFailures: total((s) => s.partialFailures),
        errors: total((s) => s.errors),
        timeouts: total((s) => s.timeouts),
        functionTimeouts,
        bisections: total((s) => s.bisections),
        acknowledged: total((s) => s.acknowledged),
        sentToQueue: total((s) => s.failedRecords),
        queueMessages,
      },
      handler: handlerTotals,
      redrive: { ...redriveTotals, problems: [...new Set(problems)].slice(0, 10), streamRecordsServed: stream.served.records },
      compaction,
      lake: { ...lake, objects: objects.length },
      quarantine,
      expectedRejected: expected.rejected.length,
      seconds: { total: (performance.now() - started) / 1000, pipeline: pipelineSeconds, redrive: redriveSeconds, verify: verifySeconds },
      memory: { peakRssBytes: peakRss(), pipelinePeakRssBytes, motoPeakRssBytes: motoPeakRss(moto) },
      ok:
        lake.lost === 0 &&
        lake.doubled === 0 &&
        lake.recomputed.lost === 0 &&
        lake.recomputed.doubled === 0 &&
        lake.rawLostRows === 0 &&
        lake.phantomRows === 0 &&
        // Every day compacted: what at-least-once delivery wrote twice is folded in the table too.
        lake.rawDuplicateRows === 0 &&
        compaction.complete &&
        compaction.checkpoint.ssmMatches &&
        compaction.checkpoint.glueMatches &&
        lake.pointer.checkpoint === compaction.checkpoint.checkpoint &&
        quarantine.poisonMissing === 0 &&
        quarantine.validQuarantined === 0 &&
        quarantine.quarantinedTwice === 0 &&
        redrive.leftInQueue === 0 &&
        expected.rejected.length === 0 &&
        total((s) => s.acknowledged + s.failedRecords) === truth.records,
    };
    return report;
  } finally {
    await stopMaintenance?.();
    await stream?.close();
    for (const p of proxies) {
      p.releaseHung();
      await p.close();
    }
    await athena?.stop();
    await moto?.stop();
    if (!options.keep) rmSync(work, { recursive: true, force: true });
  }
}
