import type { IncomingMessage } from 'node:http';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { AthenaClient } from '@aws-sdk/client-athena';
import { GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { Context } from 'aws-lambda';
import { createHandler } from '../../handlers/router.ts';
import { currentStateSql } from '../../modules/glue-catalog.ts';
import type { MaintenanceResult } from '../../src/actions/maintenance.ts';
import type { PipelineConfig } from '../../src/config/pipeline-config.ts';
import { S3Store, type StoredObject } from '../../src/lake/lake-store.ts';
import { S3Sink } from '../../src/lake/sink.ts';
import { checkpointObjects, latestDayBytes, payoff, pointerText, readPointer, type CheckpointPointer } from '../../src/maintenance/checkpoint.ts';
import { closedBefore } from '../../src/maintenance/compaction.ts';
import { decodePrestoView } from '../../src/sql/presto-view.ts';
import { startFaultProxy } from '../../test/support/fault-proxy.ts';
import type { Moto } from '../../test/support/moto.ts';
import type { AthenaStandIn } from '../../test/support/athena-server.ts';
import { createModuleCatalog } from '../../test/support/module-catalog.ts';
import { ASYNC_RETRIES, AsyncLambda, type AsyncEvent, type AttemptOutcome } from './async-lambda.ts';
import type { FaultRates } from './faults.ts';
import { below, random } from './random.ts';

/**
 * The lake's maintenance (issues 13 and 22) in the soak, through the
 * function's own {"action":"compact"}: the same createHandler as the stream
 * and the redrive, invoked as the module's daily schedule invokes it (an
 * asynchronous invocation of the alias, retried twice, then the DLQ;
 * async-lambda.ts). Its statements run in the tests' stand-in Athena
 * (test/support/athena-server.ts: DuckDB over moto's S3 and Glue), which
 * fails a share of them as Athena can, and holds every checkpoint query
 * longer than an invocation lasts, so the run hands itself on to later
 * invocations of the alias ({"action":"compact","continuation":N}). Every attempt runs in a fresh
 * environment whose S3 goes through its own fault proxy at the soak's
 * rates (every request: maintenance reads as much as it writes), and some
 * attempts die right after one of their changes (a write or a delete
 * stored): the next attempt, or the next day's run, must finish what it
 * left. The clock the function sees is the workload's (`now`), not the
 * wall clock, so which days are closed follows the event times.
 *
 * Two phases: one scheduled run in the middle of the workload (run.ts
 * starts it once every shard has delivered every record before its clock,
 * so the days it closes really get no more stream records) while later
 * records keep streaming into the open days; and, after the redrive, daily
 * runs with every day closed until the lake is done (every day one
 * compacted set, no plan left, the checkpoint at the last closed day).
 */

/** Scheduled runs of the final phase at most (one a day): a run that fails all its attempts is resumed by the next. */
const MAX_FINAL_RUNS = 6;
/** Events Lambda runs at once (the machine has two cores; on AWS each would have its own). */
const CONCURRENCY = 2;
/** Chance that an attempt other than the last dies after one of its changes (the last one: the crash rate). */
const RETRIED_CRASH = 0.25;
/** A scheduled run makes some 7 changes per day it compacts and about 6 for the checkpoint; a continuation the commits left. */
const RUN_CHANGES = 36;
const CONTINUATION_CHANGES = 8;
/** Share of the statements the stand-in Athena fails (an object gone under a query, a throttle): each leaves the lake as it was. */
const ATHENA_FAILURE_RATE = 0.15;
/** A checkpoint query stays RUNNING this long, past an invocation's time: the run hands itself on while it runs. */
export const CHECKPOINT_QUERY_MS = 12_000;
const DAY_MS = 86_400_000;
const COMPACTED = /\/compacted-([0-9a-f]{16})-[\d-]+\.parquet$/;
const WORKGROUP = 'orders-maintenance';

/** What a request does to the bucket: a write or a delete that is stored (parts of a multipart upload are not, until it completes). */
function changeOf(req: IncomingMessage): string | undefined {
  const url = new URL(req.url ?? '/', 'http://x');
  const key = url.pathname.split('/').slice(2).join('/');
  if (req.method === 'PUT' && !url.searchParams.has('uploadId') && !url.searchParams.has('partNumber')) return `PUT ${key}`;
  if (req.method === 'POST' && url.searchParams.has('uploadId')) return `PUT ${key}`;
  if (req.method === 'DELETE') return `DELETE ${key}`;
  if (req.method === 'POST' && url.searchParams.has('delete')) return 'DELETE (DeleteObjects)';
  return undefined;
}

export interface MaintenanceFaults {
  /** Over every S3 request of every maintenance attempt. */
  requests: number;
  slowdown: number;
  reset: number;
  /** Attempts that died right after one of their changes, and what that change was. */
  kills: number;
  killedAfter: string[];
}

export interface RunReport {
  readonly phase: 'mid' | 'final';
  /** The clock of the run (the workload's time), and the first day it leaves open. */
  readonly now: string;
  readonly closedBefore: string;
  readonly ok: boolean;
  readonly attempts: number;
  readonly errors: readonly string[];
  /** Of the successful attempt: what it did to each day, and to the checkpoint. */
  readonly days: Record<string, number>;
  readonly checkpoint?: { status: string; bound: string; heldBy: readonly string[] };
}

export interface PhaseReport {
  /** Data objects of the days this phase closed, before its first run and after its last. */
  readonly objectsBefore: number;
  readonly objectsAfter: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** Days that were not one compacted set before and are after. */
  readonly daysCompacted: readonly string[];
  readonly runs: readonly RunReport[];
}

export interface CompactionOutcome {
  readonly ran: boolean;
  readonly settings?: { lookbackDays: number; maximumRecordAgeSeconds: number; marginSeconds: number; rebuildShare: number; maxAgeDays: number; timeoutSeconds: number; asyncRetries: number; checkpointQueryMs: number; athenaFailureRate: number };
  readonly mid?: PhaseReport & {
    /** Records the stream still had to deliver when the run started, and what landed while it ran. */
    readonly recordsStillToStream: number;
    readonly streamObjectsWhileRunning: number;
    readonly lateLandingsWhileRunning: number;
    /** Events of this phase that ran out of attempts: their on-failure records wait in the queue for the redrive. */
    readonly onFailureMessages: number;
    /** Wall time of this run and what it set off (part of the pipeline's). */
    readonly seconds: number;
  };
  readonly final?: PhaseReport;
  /** Days compacted by either phase, distinct. */
  readonly daysCompacted: number;
  /** Every day is one compacted set, no plan or marker is left, the checkpoint covers every closed day. */
  readonly complete: boolean;
  readonly leftovers: readonly string[];
  /** The published checkpoint; whether Terraform's SSM parameter and the Glue view (its SQL) both name it. */
  readonly checkpoint: { checkpoint: string; bound: string; parts: number; objects: number; ssmMatches: boolean; glueMatches: boolean };
  /**
   * Asynchronous invocations: scheduled runs and the continuations they handed on to; the attempts after an
   * event's first (Lambda's retries, runs and continuations apart), and the events that ran out of attempts (to the DLQ).
   */
  readonly invocations: {
    runs: number;
    continuations: number;
    attempts: number;
    runRetries: number;
    continuationRetries: number;
    failedAttempts: number;
    killed: number;
    timeouts: number;
    errors: number;
    exhausted: number;
    onFailureRedriven: number;
  };
  readonly faults: MaintenanceFaults;
  /** The statements the stand-in Athena ran: how many, failed (injected), held past an invocation. */
  readonly athena: { queries: number; succeeded: number; failed: number; cancelled: number; injectedFailures: number; checkpointsHeld: number; bytesScanned: number };
  readonly seconds: number;
}

export interface MaintenanceSetup {
  readonly moto: Moto;
  /** The stand-in Athena the function's Athena client talks to. */
  readonly athena: AthenaStandIn;
  readonly bucket: string;
  /** The function's configuration (the same as the stream's). */
  readonly config: PipelineConfig;
  readonly queueUrl: string;
  readonly rates: FaultRates;
  readonly seed: number;
  readonly functionArn: string;
  readonly timeoutMs: number;
  readonly streams: DynamoDBStreamsClient;
  readonly logger: Logger;
  readonly context: (timeoutMs: number) => Context;
  readonly log: (line: string) => void;
}

export class Maintenance {
  private readonly setup: MaintenanceSetup;
  private readonly lambda: AsyncLambda;
  private readonly direct: S3Store;
  private readonly sqs: SQSClient;
  private readonly ssm: SSMClient;
  private readonly glue: GlueClient;
  private readonly faults: MaintenanceFaults = { requests: 0, slowdown: 0, reset: 0, kills: 0, killedAfter: [] };
  private readonly calls = { attempts: 0, failedAttempts: 0, killed: 0, timeouts: 0, errors: 0 };
  /** Attempts that timed out keep running until their next S3 request fails: awaited before the checks. */
  private readonly zombies = new Set<Promise<unknown>>();
  private clock = 0;
  private scheduledRuns = 0;
  /** The first scheduled run and the first continuation (by event id): forced to fail (see decider). */
  private firstRunId = -1;
  private firstContinuationId = -1;
  private injectedFailures = 0;
  private onFailureRedriven = 0;
  private seconds = 0;
  private mid?: CompactionOutcome['mid'];
  private final?: PhaseReport;

  private constructor(setup: MaintenanceSetup) {
    this.setup = setup;
    this.direct = new S3Store(new S3Client(setup.moto.clientConfig), setup.bucket);
    this.sqs = new SQSClient(setup.moto.clientConfig);
    this.ssm = new SSMClient(setup.moto.clientConfig);
    this.glue = new GlueClient(setup.moto.clientConfig);
    this.lambda = new AsyncLambda({
      functionArn: setup.functionArn,
      concurrency: CONCURRENCY,
      run: (event, attempt, clock) => this.attempt(event, attempt, clock),
      onFailure: async (record) => void (await this.sqs.send(new SendMessageCommand({ QueueUrl: setup.queueUrl, MessageBody: JSON.stringify(record) }))),
      // Lambda runs queued asynchronous events in no set order: continuations and retries start in a seeded shuffle.
      pick: ((rnd) => (waiting: number) => below(rnd, waiting))(random(setup.seed, 0x0a5c)),
    });
  }

  static async start(setup: MaintenanceSetup): Promise<Maintenance> {
    const m = new Maintenance(setup);
    await m.createCatalog();
    await m.lambda.listen(() => m.clock);
    // Athena, as the soak has it: a share of the statements fail (seeded), and every checkpoint query
    // outlasts the invocation that started it.
    const rnd = random(setup.seed, 0xa7e4a);
    setup.athena.failWhen(() => {
      const fail = rnd() < ATHENA_FAILURE_RATE;
      if (fail) m.injectedFailures++;
      return fail;
    }, 'HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split (injected by the soak: a failure Athena can return)');
    setup.athena.slowDown(CHECKPOINT_QUERY_MS, (q) => q.statement.destination.includes('/checkpoints/'));
    return m;
  }

  /** The view's SQL as the module renders it for a pointer (none: no checkpoint yet). */
  private viewSql(pointer?: CheckpointPointer): string {
    const { config } = this.setup;
    return currentStateSql(this.m.glueDatabase!, config.dataPrefix, config.flatten.carry, pointer ? { pointer } : {});
  }

  /**
   * The module's catalog in moto's Glue (the flattened table with its dt projection, the checkpoints
   * table with its injected one, the current-state view pointing at no checkpoint) and its maintenance
   * workgroup in moto's Athena, as Terraform creates them.
   */
  private async createCatalog(): Promise<void> {
    const { glueDatabase: database, glueView: view, glueTable: table, glueCheckpointsTable: checkpointsTable } = this.m;
    if (!database || !view || !table || !checkpointsTable) throw new Error('the soak config names the Glue database, table, checkpoints table and view');
    const { bucket, config } = this.setup;
    await createModuleCatalog(this.setup.moto, { bucket, database, carried: config.flatten.carry, dataPrefix: config.dataPrefix, statePrefix: this.m.statePrefix, table, checkpointsTable, view, viewSql: this.viewSql(), workgroup: WORKGROUP });
  }

  /** Whether the Glue view's SQL is the module's SQL for this pointer. */
  private async viewFollows(pointer: CheckpointPointer): Promise<boolean> {
    const { glueDatabase: database, glueView: view } = this.m;
    if (!database || !view) return false;
    const { Table } = await this.glue.send(new GetTableCommand({ DatabaseName: database, Name: view }));
    return decodePrestoView(Table?.ViewOriginalText ?? '').originalSql === this.viewSql(pointer);
  }

  private get m(): PipelineConfig['maintenance'] {
    return this.setup.config.maintenance;
  }

  /** The faults of one attempt: S3 errors at the rates on every request, and maybe death right after its k-th change. */
  private decider(event: AsyncEvent, attempt: number): { decide: (req: IncomingMessage) => 'pass' | 'slowdown' | 'reset'; killed: () => boolean } {
    const { rates, seed } = this.setup;
    const rnd = random(seed, 0x3a17, event.id, attempt);
    const isRun = event.payload.action === 'compact' && event.payload.continuation === undefined;
    const last = attempt === ASYNC_RETRIES + 1;
    // The first scheduled run's first attempt always dies, and the first continuation dies in every attempt
    // (its event goes to the DLQ), both right after their first change, so each soak has both; after that, at
    // the rates, after any of their changes.
    // (A continuation that only waits makes no change: the first continuation that makes one is the one that always dies.)
    const forcedRun = isRun && event.id === this.firstRunId && attempt === 1;
    const forcedContinuation = (): boolean => !isRun && (this.firstContinuationId < 0 || this.firstContinuationId === event.id);
    const dies = forcedRun || rnd() < (last ? rates.crash : RETRIED_CRASH);
    const killAfter = forcedRun ? 1 : dies ? 1 + below(rnd, isRun ? RUN_CHANGES : CONTINUATION_CHANGES) : Number.POSITIVE_INFINITY;
    let changes = 0;
    let dead = false;
    const decide = (req: IncomingMessage): 'pass' | 'slowdown' | 'reset' => {
      // A dead environment does nothing more: its connections fail (the SDK gives up after its attempts).
      if (dead) return 'reset';
      this.faults.requests++;
      const x = rnd();
      const fault = x < rates.slowdown ? 'slowdown' : x < rates.slowdown + rates.reset ? 'reset' : 'pass';
      if (fault !== 'pass') {
        this.faults[fault]++;
        return fault;
      }
      const change = changeOf(req);
      if (change && (++changes >= killAfter || forcedContinuation())) {
        if (!isRun && this.firstContinuationId < 0) this.firstContinuationId = event.id;
        // This change is stored; the function dies right after it.
        dead = true;
        this.faults.kills++;
        if (this.faults.killedAfter.length < 16) this.faults.killedAfter.push(`${isRun ? 'run' : `continuation ${String(event.payload.continuation)}`} attempt ${attempt}: after change ${changes}, ${change.replace(/^(PUT|DELETE) [^/]+\//, '$1 ')}`);
      }
      return fault;
    };
    return { decide, killed: () => dead };
  }

  /** One attempt of an event in a fresh environment (its own S3 client through its own fault proxy), with the function's timeout. */
  private async attempt(event: AsyncEvent, attempt: number, clock: number): Promise<AttemptOutcome> {
    const { setup } = this;
    this.calls.attempts++;
    const proxy = await startFaultProxy(setup.moto.endpoint);
    const faults = this.decider(event, attempt);
    proxy.decide = faults.decide;
    const s3 = new S3Client({ ...setup.moto.clientConfig, endpoint: proxy.endpoint });
    const clients = {
      ddb: new DynamoDBClient(setup.moto.clientConfig),
      streams: setup.streams,
      sqs: this.sqs,
      s3,
      glue: this.glue,
      // The function's own LambdaClient: the run's hand-on Invoke comes to the async model over HTTP.
      lambda: new LambdaClient({ ...setup.moto.clientConfig, endpoint: this.lambda.endpoint }),
      ssm: this.ssm,
      athena: new AthenaClient(setup.athena.clientConfig),
    };
    const fn = createHandler({ config: setup.config, sink: new S3Sink(s3, setup.bucket), s3, clients: async () => clients, logger: setup.logger, writeMetrics: () => {}, now: () => clock });
    this.clock = clock;
    const call = fn(event.payload, setup.context(setup.timeoutMs));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), setup.timeoutMs)));
    try {
      const outcome = await Promise.race([
        call.then(
          (result): AttemptOutcome => ({ ok: true, result }),
          (error: unknown): AttemptOutcome => ({ ok: false, error: (error as Error).message ?? String(error) }),
        ),
        timeout,
      ]);
      if (outcome === 'timeout') {
        this.calls.timeouts++;
        this.calls.failedAttempts++;
        const zombie = call.catch(() => undefined);
        this.zombies.add(zombie);
        void zombie.then(() => this.zombies.delete(zombie));
        return { ok: false, error: `Task timed out after ${setup.timeoutMs / 1000} seconds` };
      }
      if (!outcome.ok) {
        this.calls.failedAttempts++;
        if (faults.killed()) this.calls.killed++;
        else this.calls.errors++;
      }
      return outcome;
    } finally {
      clearTimeout(timer);
      // The environment ends with the attempt (a crash or a timeout resets the runtime): its S3 endpoint goes away.
      await proxy.close();
      s3.destroy();
    }
  }

  /** Data objects by day (direct, not through a fault proxy: this is the soak looking, not the function). */
  private async days(): Promise<Map<string, StoredObject[]>> {
    const prefix = `${this.setup.config.dataPrefix}/`;
    const out = new Map<string, StoredObject[]>();
    for (const folder of await this.direct.folders(prefix)) {
      if (!folder.startsWith('dt=')) continue;
      out.set(folder.slice(3), (await this.direct.list(`${prefix}${folder}/`)).filter((o) => o.key.endsWith('.parquet')));
    }
    return out;
  }

  private async queueDepth(): Promise<number> {
    const { Attributes: a = {} } = await this.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: this.setup.queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }),
    );
    return Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0);
  }

  /** One scheduled run: the Invoke the schedule makes, then everything it set off, retries included. */
  private async scheduledRun(now: number, phase: 'mid' | 'final'): Promise<RunReport> {
    this.scheduledRuns++;
    this.clock = now;
    const event = this.lambda.invoke({ action: 'compact' }, now);
    if (this.firstRunId < 0) this.firstRunId = event.id;
    await this.lambda.settle();
    const outcome = this.lambda.outcomes.find((o) => o.event.id === event.id)!;
    const result = outcome.result as MaintenanceResult | undefined;
    const days: Record<string, number> = {};
    for (const d of result?.days ?? []) days[d.status] = (days[d.status] ?? 0) + 1;
    const run: RunReport = {
      phase,
      now: new Date(now).toISOString(),
      closedBefore: closedBefore(now, this.m.maximumRecordAgeSeconds, this.m.marginSeconds),
      ok: outcome.ok,
      attempts: outcome.attempts,
      errors: outcome.errors.map((e) => e.slice(0, 200)),
      days,
      ...(result?.checkpoint ? { checkpoint: { status: result.checkpoint.status, bound: result.checkpoint.pointer.bound, heldBy: result.checkpoint.heldBy } } : {}),
    };
    this.setup.log(
      `maintenance (${phase}): run at ${run.now} ${run.ok ? 'done' : 'FAILED'} in ${run.attempts} attempt(s); days ${JSON.stringify(days)}; checkpoint ${run.checkpoint ? `${run.checkpoint.status} at ${run.checkpoint.bound}${run.checkpoint.heldBy.length ? `, held: ${run.checkpoint.heldBy.join('; ')}` : ''}` : 'not reached'}`,
    );
    return run;
  }

  private static phase(before: Map<string, StoredObject[]>, after: Map<string, StoredObject[]>, closed: (day: string) => boolean, runs: RunReport[]): PhaseReport {
    const sum = (m: Map<string, StoredObject[]>, f: (o: StoredObject[]) => number): number => [...m].filter(([d]) => closed(d)).reduce((n, [, o]) => n + f(o), 0);
    const compactSet = (objects: readonly StoredObject[] | undefined): string | undefined => {
      const ids = new Set((objects ?? []).map((o) => COMPACTED.exec(o.key)?.[1]));
      return objects && objects.length > 0 && ids.size === 1 && !ids.has(undefined) ? [...ids][0] : undefined;
    };
    const daysCompacted = [...after.keys()].filter((d) => closed(d) && compactSet(after.get(d)) !== undefined && compactSet(after.get(d)) !== compactSet(before.get(d))).sort();
    return {
      objectsBefore: sum(before, (o) => o.length),
      objectsAfter: sum(after, (o) => o.length),
      bytesBefore: sum(before, (o) => o.reduce((n, x) => n + x.size, 0)),
      bytesAfter: sum(after, (o) => o.reduce((n, x) => n + x.size, 0)),
      daysCompacted,
      runs,
    };
  }

  /**
   * The run in the middle of the workload, at the workload's time `now`
   * (every shard has delivered every record before it): it compacts the
   * days that closed and checkpoints them, while the stream goes on.
   */
  async midRun(now: number, progress: { produced: () => number; total: number; objectsWritten: () => number; landedLate: () => number }): Promise<void> {
    const started = performance.now();
    const firstOpen = closedBefore(now, this.m.maximumRecordAgeSeconds, this.m.marginSeconds);
    const recordsStillToStream = progress.total - progress.produced();
    const objects = progress.objectsWritten();
    const late = progress.landedLate();
    this.setup.log(`maintenance (mid): days before ${firstOpen} are closed at ${new Date(now).toISOString()}; ${recordsStillToStream.toLocaleString('en-US')} records still to stream`);
    const before = await this.days();
    const run = await this.scheduledRun(now, 'mid');
    const after = await this.days();
    const seconds = (performance.now() - started) / 1000;
    this.mid = {
      ...Maintenance.phase(before, after, (d) => d < firstOpen, [run]),
      recordsStillToStream,
      streamObjectsWhileRunning: progress.objectsWritten() - objects,
      lateLandingsWhileRunning: progress.landedLate() - late,
      onFailureMessages: this.lambda.outcomes.filter((o) => !o.ok).length,
      seconds,
    };
    this.seconds += seconds;
  }

  /** Whether the lake is done: no plan or marker left, every closed day one compacted set, the checkpoint at `firstOpen`. */
  private async leftovers(firstOpen: string): Promise<string[]> {
    const left: string[] = [];
    const prefix = this.m.statePrefix;
    for (const o of await this.direct.list(`${prefix}/compaction/`)) left.push(o.key);
    for (const o of await this.direct.list(`${prefix}/checkpoints/plans/`)) left.push(o.key);
    for (const [day, objects] of await this.days()) {
      const ids = new Set(objects.map((o) => COMPACTED.exec(o.key)?.[1]));
      if (day < firstOpen && (ids.size !== 1 || ids.has(undefined))) left.push(`dt=${day}: ${objects.length} objects, not one compacted set`);
    }
    const pointer = await readPointer(this.direct, this.m);
    if (pointer.bound !== firstOpen) {
      // Behind the closed days is right only while a new checkpoint would not pay off (share and age).
      const byDay = [...(await this.days())].filter(([d]) => d >= pointer.bound && d < firstOpen).sort(([a], [b]) => a.localeCompare(b)).map(([, o]) => o);
      const size = (objects: readonly StoredObject[]): number => objects.reduce((n, o) => n + o.size, 0);
      const why = payoff(this.m, pointer, size(await checkpointObjects(this.direct, this.m, pointer.checkpoint)), size(byDay.flat()), firstOpen, latestDayBytes(byDay));
      if (why.rebuild) left.push(`checkpoint bound ${pointer.bound}, not ${firstOpen}, though ${why.why}`);
    }
    const depth = await this.queueDepth();
    if (depth > 0) left.push(`${depth} message(s) in the on-failure queue`);
    return left;
  }

  /**
   * After the redrive: daily runs with every day closed until the lake is
   * done. A message in the on-failure queue (a run or task that ran out of
   * attempts) is answered as the operator would, by the redrive action,
   * which deletes it; the next run resumes that work.
   */
  async finalRuns(lastEventSeconds: number, redrive: () => Promise<number>): Promise<void> {
    const started = performance.now();
    // Every day closed: the last record's time plus the maximum record age and the margin, then the next day.
    const first = lastEventSeconds * 1000 + (this.m.maximumRecordAgeSeconds + this.m.marginSeconds) * 1000 + DAY_MS;
    const before = await this.days();
    const runs: RunReport[] = [];
    let firstOpen = closedBefore(first, this.m.maximumRecordAgeSeconds, this.m.marginSeconds);
    for (let r = 0; r < MAX_FINAL_RUNS; r++) {
      if ((await this.queueDepth()) > 0) this.onFailureRedriven += await redrive();
      const now = first + r * DAY_MS;
      firstOpen = closedBefore(now, this.m.maximumRecordAgeSeconds, this.m.marginSeconds);
      runs.push(await this.scheduledRun(now, 'final'));
      if ((await this.leftovers(firstOpen)).filter((l) => !l.includes('on-failure queue')).length === 0) break;
    }
    if ((await this.queueDepth()) > 0) this.onFailureRedriven += await redrive();
    const after = await this.days();
    this.final = Maintenance.phase(before, after, (d) => d < firstOpen, runs);
    this.finalFirstOpen = firstOpen;
    this.seconds += (performance.now() - started) / 1000;
  }

  private finalFirstOpen = '';

  /** Waits for attempts that timed out to stop (their next S3 request fails), so nothing runs during the checks. */
  async quiesce(): Promise<void> {
    await this.lambda.settle();
    while (this.zombies.size > 0) await Promise.allSettled([...this.zombies]);
  }

  async report(): Promise<CompactionOutcome> {
    await this.quiesce();
    const pointer: CheckpointPointer = await readPointer(this.direct, this.m);
    let ssmValue: string | undefined;
    if (this.m.checkpointParameter) {
      ssmValue = await this.ssm
        .send(new GetParameterCommand({ Name: this.m.checkpointParameter }))
        .then((r) => r.Parameter?.Value)
        .catch(() => undefined);
    }
    const objectsOfCheckpoint = await checkpointObjects(this.direct, this.m, pointer.checkpoint);
    const leftovers = this.finalFirstOpen ? await this.leftovers(this.finalFirstOpen) : ['the final runs did not happen'];
    const outcomes = this.lambda.outcomes;
    const continuations = outcomes.filter((o) => o.event.payload.continuation !== undefined);
    const retries = (events: typeof outcomes): number => events.reduce((n, o) => n + o.attempts - 1, 0);
    const m = this.m;
    const queries = this.setup.athena.queries();
    return {
      ran: this.scheduledRuns > 0,
      settings: {
        lookbackDays: m.lookbackDays,
        maximumRecordAgeSeconds: m.maximumRecordAgeSeconds,
        marginSeconds: m.marginSeconds,
        rebuildShare: m.rebuildShare,
        maxAgeDays: m.maxAgeDays,
        timeoutSeconds: this.setup.timeoutMs / 1000,
        asyncRetries: ASYNC_RETRIES,
        checkpointQueryMs: CHECKPOINT_QUERY_MS,
        athenaFailureRate: ATHENA_FAILURE_RATE,
      },
      ...(this.mid ? { mid: this.mid } : {}),
      ...(this.final ? { final: this.final } : {}),
      daysCompacted: new Set([...(this.mid?.daysCompacted ?? []), ...(this.final?.daysCompacted ?? [])]).size,
      complete: leftovers.length === 0,
      leftovers: leftovers.slice(0, 10),
      checkpoint: { ...pointer, objects: objectsOfCheckpoint.length, ssmMatches: ssmValue === pointerText(pointer).trim(), glueMatches: await this.viewFollows(pointer) },
      invocations: {
        runs: this.scheduledRuns,
        continuations: continuations.length,
        runRetries: retries(outcomes.filter((o) => o.event.payload.continuation === undefined)),
        continuationRetries: retries(continuations),
        ...this.calls,
        exhausted: outcomes.filter((o) => !o.ok).length,
        onFailureRedriven: this.onFailureRedriven,
      },
      faults: this.faults,
      athena: {
        queries: queries.length,
        succeeded: queries.filter((q) => q.state === 'SUCCEEDED').length,
        failed: queries.filter((q) => q.state === 'FAILED').length,
        cancelled: queries.filter((q) => q.state === 'CANCELLED').length,
        injectedFailures: this.injectedFailures,
        checkpointsHeld: queries.filter((q) => q.hooks.includes('slow')).length,
        bytesScanned: queries.reduce((n, q) => n + q.bytesScanned, 0),
      },
      seconds: this.seconds,
    };
  }

  async close(): Promise<void> {
    await this.quiesce().catch(() => undefined);
    await this.lambda.close();
  }
}
