import { randomBytes } from 'node:crypto';
import { shortHash } from '../lake/object-key.ts';
import type { LakeStore, StoredObject } from '../lake/lake-store.ts';
import { parquetRowCount } from '../lake/parquet-footer.ts';
import { copyObjects, sizesByKey } from './copy-objects.ts';
import { queryToken, type MaintenanceEngine, type QueryStatus } from './engine.ts';
import type { QueryWait } from './query-wait.ts';
import { compactDaySql } from './statements.ts';

/**
 * Compaction of a closed day: the day's many small objects (one per stream
 * batch and day) become a few large ones, rows in key order (so row-group
 * statistics prune by key), rows that at-least-once delivery wrote twice
 * folded to one. The work is one statement (sql/maintenance/compact_day.sql)
 * that the engine runs: Athena in AWS, DuckDB locally. The function plans,
 * starts the query, waits, and commits.
 *
 * Safe at every moment, and resumable after a crash at any step:
 * 1. plan: the day's objects are listed; the plan, named after a hash of
 *    that set, is stored under <state>/compaction/dt=<day>/<id>.json;
 * 2. query: the statement is started (its token names the plan, so starting
 *    it again finds the same query) and its id stored in the plan; the engine
 *    writes the day's rows under the plan's staging prefix
 *    <state>/compaction/dt=<day>/<id>/<nonce>/, which the table never reads;
 * 3. once the query succeeded, its staged objects are stored in the plan,
 *    then copied into the day as compacted-<id>-<nnnn>.parquet;
 * 4. commit: the plan's inputs are deleted (a missing one is fine), then
 *    the plan, then the staging prefix.
 * Readers between 3 and 4 see every row twice (old and new objects): the
 * current-state view folds identical rows (DISTINCT), so it stays exact.
 * An object that lands during or after a compaction (a late write) is not
 * in the plan, so it is never deleted; the next run compacts it with the
 * day's compacted objects (if the query read it, its rows are there twice
 * until then, which the view folds). A failed or cancelled query leaves the
 * day as it was: its staged output and the plan are dropped, and the next
 * run plans the day again.
 */

export interface CompactionSettings {
  /** Key prefix of the flattened rows (the table's location). */
  readonly dataPrefix: string;
  /** Key prefix of the maintenance state (plans, staging, checkpoints). */
  readonly statePrefix: string;
  /** The configured carried attributes: the columns the table has beyond the schema's. */
  readonly carried: readonly string[];
  /** Size of a compacted object: the DuckDB engine cuts its files there; Athena decides its own. */
  readonly targetBytes: number;
}

/**
 * ZSTD levels of the files the lake keeps: written once and read by every
 * query after, so the engine spends CPU on size there. Compacted days take
 * 9 (the bench measured it against 3); checkpoints, which every
 * current-state query reads, 16 (3.7 KB less than 9 on the bench's
 * checkpoint). Athena bills bytes scanned, not CPU, so a higher level costs
 * it nothing but time.
 */
export const COMPACTED_ZSTD_LEVEL = 9;
export const CHECKPOINT_ZSTD_LEVEL = 16;

export const COMPACTION_DEFAULTS = { targetBytes: 128 * 1024 * 1024 } as const;

export function compactionSettings(partial: Partial<CompactionSettings> & Pick<CompactionSettings, 'dataPrefix' | 'statePrefix' | 'carried'>): CompactionSettings {
  return { ...COMPACTION_DEFAULTS, ...partial };
}

export interface DayPlan {
  /** 3: one statement run by the engine (0.4.0 on). Plans of 0.3.0 (1) and of the unreleased shuffle (2) are retired. */
  readonly version: 3;
  readonly dt: string;
  /** Hash of the input set: the plan's name and the prefix of its outputs. */
  readonly id: string;
  readonly inputs: readonly StoredObject[];
  /**
   * Random, per plan: names its query token and staging prefix. A plan dropped after a failed query
   * and made again from the same objects has the same id but another nonce, so it starts a new query
   * (the same token would return the failed one) into an empty prefix (as UNLOAD needs).
   */
  readonly nonce: string;
  /** An erasure's rewrite of the day: the rows it removes (erasedRowsSql), and the erasure. */
  readonly exclude?: string;
  readonly erasure?: string;
  /** The engine's query id, once started. */
  readonly query?: string;
  /** The staged objects of the succeeded query: set before anything is copied or deleted. */
  readonly outputs?: readonly StoredObject[];
  /** The rows they hold (from their footers). */
  readonly rowsOut?: number;
  readonly bytesScanned?: number;
}

export type DayStatus = 'empty' | 'already-compact' | 'compacted' | 'running' | 'waiting' | 'failed';

export interface DayResult {
  readonly dt: string;
  readonly status: DayStatus;
  readonly plan?: string;
  readonly query?: string;
  /** Why the query failed, as the engine said it. */
  readonly reason?: string;
  readonly objectsBefore: number;
  readonly objectsAfter: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  /** Bytes the engine scanned (Athena bills them). */
  readonly bytesScanned?: number;
  /** Rows of the compacted objects. */
  readonly rowsOut?: number;
}

/** What a compaction step needs: the lake, the engine, how to wait for a query, and whether a checkpoint query is reading a day. */
export interface CompactionContext {
  readonly store: LakeStore;
  readonly engine: MaintenanceEngine;
  readonly settings: CompactionSettings;
  readonly wait: QueryWait;
  /** Whether a checkpoint query in flight reads the day: its commit would delete objects under the query. */
  readonly checkpointReads: (dt: string) => Promise<boolean>;
  /** Whether this run may plan new work (a run handed on only advances what is in flight). */
  readonly plan: boolean;
  /** Whether the invocation has time to start another copy (absent: always); the next invocation resumes the commit. */
  readonly hasTime?: () => boolean;
}

const COMPACTED = /^compacted-([0-9a-f]{16})-[\d-]+\.parquet$/;
/** A day's plan under its state folder, <state>/compaction/dt=<day>/<id>.json (its staging is under <id>/, a 0.3.0 plan's markers <id>.task-N.json). */
const PLAN_FILE = /\/dt=(\d{4}-\d{2}-\d{2})\/([0-9a-f]{16})\.json$/;
/** The plan a file of a day's state folder belongs to. */
const PLAN_OF = /\/dt=\d{4}-\d{2}-\d{2}\/([0-9a-f]{16})[./]/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export const dayPrefix = (s: Pick<CompactionSettings, 'dataPrefix'>, dt: string): string => `${s.dataPrefix}/dt=${dt}/`;
const stateDir = (s: Pick<CompactionSettings, 'statePrefix'>, dt: string): string => `${s.statePrefix}/compaction/dt=${dt}/`;
export const dayPlanKey = (s: Pick<CompactionSettings, 'statePrefix'>, plan: Pick<DayPlan, 'dt' | 'id'>): string => `${stateDir(s, plan.dt)}${plan.id}.json`;
const planDir = (s: Pick<CompactionSettings, 'statePrefix'>, plan: Pick<DayPlan, 'dt' | 'id'>): string => `${stateDir(s, plan.dt)}${plan.id}/`;
/** Where an attempt's query writes: under the plan's state folder, empty until the query runs. */
export const stagingPrefix = (s: Pick<CompactionSettings, 'statePrefix'>, plan: Pick<DayPlan, 'dt' | 'id' | 'nonce'>): string => `${planDir(s, plan)}${plan.nonce}/`;
/** A plan's nonce: 8 random hex digits. */
export const newNonce = (): string => randomBytes(4).toString('hex');
export const outputKey = (s: Pick<CompactionSettings, 'dataPrefix'>, plan: Pick<DayPlan, 'dt' | 'id'>, part: number): string =>
  `${dayPrefix(s, plan.dt)}compacted-${plan.id}-${String(part).padStart(4, '0')}.parquet`;

const baseName = (key: string): string => key.slice(key.lastIndexOf('/') + 1);
const json = (text: Uint8Array | undefined): unknown => (text === undefined ? undefined : JSON.parse(Buffer.from(text).toString('utf8')));
const sum = (objects: readonly StoredObject[]): number => objects.reduce((n, o) => n + o.size, 0);
/** An engine's data file: hidden names (`_…`, `.…`) are not data, as Athena reads a Hive table. */
export const isDataFile = (key: string): boolean => !/^[_.]/.test(baseName(key));

/** The Parquet objects of a day (what the table reads there). */
export async function dayObjects(store: LakeStore, s: Pick<CompactionSettings, 'dataPrefix'>, dt: string): Promise<StoredObject[]> {
  return (await store.list(dayPrefix(s, dt))).filter((o) => o.key.endsWith('.parquet'));
}

/** Whether the day is already one compacted set and nothing else. */
function alreadyCompact(objects: readonly StoredObject[]): boolean {
  const ids = new Set(objects.map((o) => COMPACTED.exec(baseName(o.key))?.[1]));
  return objects.length > 0 && ids.size === 1 && !ids.has(undefined);
}

const savePlan = (store: LakeStore, s: CompactionSettings, plan: DayPlan): Promise<void> => store.write(dayPlanKey(s, plan), JSON.stringify(plan), 'application/json');

/** Drops a plan whose query failed: its staged output and the plan go; the day is as it was. */
async function dropPlan(store: LakeStore, s: CompactionSettings, plan: Pick<DayPlan, 'dt' | 'id'>): Promise<void> {
  // The plan first: a plan without its staging would start a fresh attempt, never copy a partial one.
  await store.delete([dayPlanKey(s, plan)]);
  await store.delete((await store.list(planDir(s, plan))).map((o) => o.key));
}

type Step = { status: 'compacted' } | { status: 'running' | 'waiting'; query: string } | { status: 'failed'; query?: string; reason: string };

/**
 * Takes a plan as far as it goes now: starts its query, waits for it (as
 * the context allows), stores its outputs, copies them into the day and
 * deletes the inputs.
 */
async function advance(ctx: CompactionContext, stored: DayPlan): Promise<Step & { plan: DayPlan }> {
  const { store, settings: s } = ctx;
  let plan = stored;
  if (!plan.outputs) {
    if (!plan.query) {
      const statement = { select: compactDaySql(ctx.engine.relations, s.carried, plan.dt, plan.exclude), destination: stagingPrefix(s, plan), zstdLevel: COMPACTED_ZSTD_LEVEL, targetBytes: s.targetBytes };
      plan = { ...plan, query: await ctx.engine.start(statement, queryToken('compaction', plan.dt, plan.id, plan.nonce)) };
      await savePlan(store, s, plan);
    }
    const status: QueryStatus = await ctx.wait(plan.query!);
    if (status.state === 'QUEUED' || status.state === 'RUNNING') return { status: 'running', query: plan.query!, plan };
    if (status.state !== 'SUCCEEDED') {
      await dropPlan(store, s, plan);
      return { status: 'failed', query: plan.query, reason: `${status.state}: ${status.reason ?? 'no reason given'}`, plan };
    }
    const outputs = (await store.list(stagingPrefix(s, plan))).filter((o) => isDataFile(o.key));
    const rowsOut = (await Promise.all(outputs.map((o) => parquetRowCount(store, o)))).reduce((n, r) => n + r, 0);
    // A statement that "succeeded" without reading the day (the day outside the table's partition
    // projection range, a wrong location) would write nothing: its commit would delete the day. Every
    // stream object holds rows, so no rows out of a day with objects is a failure, never a commit (but
    // for an erasure's rewrite of a day that held only the erased keys' rows).
    if (sum(plan.inputs) > 0 && ((rowsOut === 0 && plan.exclude === undefined) || status.bytesScanned === 0)) {
      await dropPlan(store, s, plan);
      const read = status.bytesScanned === undefined ? '' : ` and scanned ${status.bytesScanned} bytes`;
      return {
        status: 'failed',
        query: plan.query,
        reason: `the statement wrote ${rowsOut} rows${read} for the ${plan.inputs.length} objects (${sum(plan.inputs)} bytes) of dt=${plan.dt}: is the day inside the Glue table's partition projection range (projection.dt.range) and its location right? Nothing was deleted.`,
        plan,
      };
    }
    plan = { ...plan, outputs, rowsOut, ...(status.bytesScanned !== undefined ? { bytesScanned: status.bytesScanned } : {}) };
    await savePlan(store, s, plan);
  }
  if (await ctx.checkpointReads(plan.dt)) return { status: 'waiting', query: plan.query!, plan };
  // Out of time already: hand on before listing the day (a large day's listing takes seconds).
  if (ctx.hasTime && !ctx.hasTime()) return { status: 'running', query: plan.query!, plan };
  const outputs = plan.outputs!;
  const copies = outputs.map((o, part) => ({ from: o, to: outputKey(s, plan, part) }));
  // Out of time with copies left: the run hands on and the next invocation copies the rest, then deletes.
  if (!(await copyObjects(store, copies, sizesByKey(await dayObjects(store, s, plan.dt)), ctx.hasTime))) return { status: 'running', query: plan.query!, plan };
  const written = new Set(copies.map((c) => c.to));
  // Originals go only after every replacement is stored; an input that is also an output is kept.
  await store.delete(plan.inputs.map((o) => o.key).filter((k) => !written.has(k)));
  // The plan before its staging: a plan never outlives the objects it would copy.
  await store.delete([dayPlanKey(s, plan)]);
  await store.delete((await store.list(planDir(s, plan))).map((o) => o.key));
  return { status: 'compacted', plan };
}

/**
 * A plan of 0.3.0 (version 1) or of the unreleased shuffle (version 2): its
 * outputs are compacted-<id>-… objects in the day, written by tasks that
 * this version no longer runs. Its commit deleted inputs only once every
 * output was stored, so: while every input is still there, its outputs go
 * (copies of rows the inputs hold) and the day is planned again; once an
 * input is gone, the outputs are complete and the rest of the inputs go.
 */
async function retireOldPlan(store: LakeStore, s: CompactionSettings, plan: Pick<DayPlan, 'dt' | 'id' | 'inputs'>): Promise<'dropped' | 'committed'> {
  const present = await dayObjects(store, s, plan.dt);
  const keys = new Set(present.map((o) => o.key));
  const complete = plan.inputs.some((o) => !keys.has(o.key));
  const own = present.filter((o) => COMPACTED.exec(baseName(o.key))?.[1] === plan.id);
  if (complete) await store.delete(plan.inputs.map((o) => o.key).filter((k) => !own.some((o) => o.key === k)));
  else await store.delete(own.map((o) => o.key));
  await store.delete([dayPlanKey(s, plan)]);
  await store.delete((await store.list(`${stateDir(s, plan.dt)}${plan.id}`)).map((o) => o.key));
  return complete ? 'committed' : 'dropped';
}

/**
 * Compacts one day: takes an interrupted compaction on first (its query may
 * still run), then, when the run may plan, compacts what the day holds now.
 * With `rewrite` (an erasure), the day is rewritten without the rows it
 * removes even when it is already compact, once the compactions in flight
 * are done.
 */
export async function compactDay(ctx: CompactionContext, dt: string, rewrite?: { readonly exclude: string; readonly erasure: string }): Promise<DayResult> {
  if (!DAY.test(dt)) throw new Error(`compaction: "${dt}" is not a day (YYYY-MM-DD)`);
  const { store, settings: s } = ctx;
  const before = await dayObjects(store, s, dt);
  const result = async (status: DayStatus, extra: Partial<DayResult> = {}): Promise<DayResult> => {
    const after = status === 'compacted' ? await dayObjects(store, s, dt) : before;
    return { dt, status, objectsBefore: before.length, objectsAfter: after.length, bytesBefore: sum(before), bytesAfter: sum(after), ...extra };
  };
  const state = await store.list(stateDir(s, dt));
  const planFiles = state.filter((o) => PLAN_FILE.test(o.key));
  // Staging and markers left by a commit interrupted after it deleted its plan: that compaction is complete.
  const live = new Set(planFiles.map((o) => PLAN_FILE.exec(o.key)![2]));
  await store.delete(state.filter((o) => !PLAN_FILE.test(o.key) && !live.has(PLAN_OF.exec(o.key)?.[1] ?? '')).map((o) => o.key));
  let resumed: DayResult | undefined;
  for (const file of planFiles) {
    const plan = json(await store.read(file.key)) as DayPlan | undefined;
    if (!plan) continue;
    if (plan.version !== 3) {
      await retireOldPlan(store, s, plan);
      continue;
    }
    const step = await advance(ctx, plan);
    const extra = { plan: plan.id, query: step.plan.query, ...(step.plan.bytesScanned !== undefined ? { bytesScanned: step.plan.bytesScanned } : {}), ...(step.plan.rowsOut !== undefined ? { rowsOut: step.plan.rowsOut } : {}) };
    if (step.status !== 'compacted') return result(step.status, { ...extra, ...(step.status === 'failed' ? { reason: step.reason } : {}) });
    resumed = await result('compacted', extra);
    // The erasure's own rewrite, interrupted and finished here: the day is done for it.
    if (rewrite && plan.erasure === rewrite.erasure) return resumed;
  }
  if (!ctx.plan && !rewrite) return resumed ?? result(before.length === 0 ? 'empty' : 'already-compact');
  const objects = await dayObjects(store, s, dt);
  if (objects.length === 0) return resumed ?? result('empty');
  // An interrupted compaction finished here, and nothing new arrived: this run compacted the day.
  if (alreadyCompact(objects) && !rewrite) return resumed ?? result('already-compact');
  const plan: DayPlan = {
    version: 3,
    dt,
    id: shortHash(...objects.map((o) => `${o.key}\t${o.size}`), ...(rewrite ? [rewrite.erasure] : [])),
    inputs: objects,
    nonce: newNonce(),
    ...(rewrite ? { exclude: rewrite.exclude, erasure: rewrite.erasure } : {}),
  };
  await savePlan(store, s, plan);
  const step = await advance(ctx, plan);
  const extra = { plan: plan.id, query: step.plan.query, ...(step.plan.bytesScanned !== undefined ? { bytesScanned: step.plan.bytesScanned } : {}), ...(step.plan.rowsOut !== undefined ? { rowsOut: step.plan.rowsOut } : {}) };
  return result(step.status, { ...extra, ...(step.status === 'failed' ? { reason: step.reason } : {}) });
}

/**
 * Days with a compaction in flight (a plan stored, its inputs not yet
 * deleted). A checkpoint must not be planned over such a day: the commit
 * deletes objects the checkpoint's query would read.
 */
export async function daysBeingCompacted(store: LakeStore, s: Pick<CompactionSettings, 'statePrefix'>): Promise<string[]> {
  const days = (await store.list(`${s.statePrefix}/compaction/`)).flatMap((o) => PLAN_FILE.exec(o.key)?.[1] ?? []);
  return [...new Set(days)].sort();
}

/**
 * When a day is closed: no stream record can still arrive for it. A record
 * is delivered (or sent to the on-failure queue) within the trigger's
 * maximum record age of its creation, so a day is closed once that age plus
 * a margin (a batch in flight, clock skew) has passed since its end.
 */
export function closedBefore(now: number, maximumRecordAgeSeconds: number, marginSeconds: number): string {
  const cutoff = now - (maximumRecordAgeSeconds + marginSeconds) * 1000;
  // Days whose end (next midnight UTC) is at or before the cutoff are closed; return the first day that is not.
  const day = new Date(cutoff);
  return day.toISOString().slice(0, 10);
}

/** The days of the lake (dt partitions) before `firstOpenDay`, newest first, at most `lookbackDays` of them. */
export async function closedDays(store: LakeStore, s: Pick<CompactionSettings, 'dataPrefix'>, firstOpenDay: string, lookbackDays: number): Promise<string[]> {
  const days = (await store.folders(`${s.dataPrefix}/`)).filter((f) => f.startsWith('dt=')).map((f) => f.slice(3)).filter((d) => DAY.test(d) && d < firstOpenDay);
  return days.sort().reverse().slice(0, lookbackDays);
}
