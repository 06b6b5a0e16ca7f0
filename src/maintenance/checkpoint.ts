import { shortHash } from '../lake/object-key.ts';
import type { LakeStore, StoredObject } from '../lake/lake-store.ts';
import { parquetRowCount } from '../lake/parquet-footer.ts';
import { NO_BOUND, NO_CHECKPOINT, pointerText, type CheckpointPointer } from './pointer.ts';
import { CHECKPOINT_ZSTD_LEVEL, dayObjects, isDataFile, newNonce, type CompactionSettings } from './compaction.ts';
import { queryToken, type MaintenanceEngine } from './engine.ts';
import type { QueryWait } from './query-wait.ts';
import { checkpointSql } from './statements.ts';

/**
 * Checkpoints of the current state, so the current-state view reads the
 * latest checkpoint plus the days after it instead of the whole history.
 *
 * A checkpoint with bound B holds, for every (pk, sk, attribute), the rows
 * of its latest version among all rows of the days before B (removed items
 * and attributes left out), with their own event_time, sequence and dt. It
 * is one statement (sql/maintenance/checkpoint.sql): the current-state
 * view's own SQL over the previous checkpoint and the days from its bound,
 * cut before B, so checkpoint and view cannot disagree. A row of a day
 * before B that is not the latest of its group can never win again, because
 * every day before B is closed (no record can arrive for it; see closedBefore).
 *
 * Checkpoints are rebuilt when they pay off: once the days since the bound,
 * with the day that opens before the next run (as large as the latest
 * closed day), would hold `rebuildShare` of the checkpoint's bytes, or its
 * bound is `maxAgeDays` old. Until then the view reads the checkpoint plus
 * those days, at most about (1 + share) times the table until the next run,
 * and a day's maintenance costs what its changes cost, not what the table
 * costs.
 *
 * The engine writes a checkpoint straight into its own folder,
 * <state>/checkpoints/checkpoint=<id>/ (the id is new for each plan, so the
 * folder is empty, as UNLOAD needs), which no reader reads until the
 * pointer names it.
 * It is published by moving the pointer (current.json, then the SSM
 * parameter and the Glue view) once the query has succeeded. Readers that
 * still use the previous pointer stay exact: a previous checkpoint plus more
 * days is the same state; previous checkpoints are kept (`retention`) for
 * them.
 */

export { NO_BOUND, NO_CHECKPOINT, pointerText, type CheckpointPointer } from './pointer.ts';

export interface CheckpointSettings extends CompactionSettings {
  /** Checkpoints kept: the current one and the ones before it, for readers of an older pointer. */
  readonly retention: number;
  /** Rebuild once the days since the bound hold this share of the checkpoint's bytes. */
  readonly rebuildShare: number;
  /** ... or once the bound is this many days old. */
  readonly maxAgeDays: number;
}

export interface CheckpointPlan {
  /** 3: one statement run by the engine (0.4.0 on); plans of earlier versions are dropped and planned again. */
  readonly version: 3;
  /** The checkpoint's id (its folder): the bound, and a hash of the previous one, the days' objects and a random nonce. */
  readonly id: string;
  readonly bound: string;
  readonly previous: CheckpointPointer;
  /** The days the statement reads from the table (from the previous bound up to this bound). */
  readonly days: readonly string[];
  /** Bytes the statement reads: the previous checkpoint's and the days' objects, when planned. */
  readonly inputBytes?: number;
  readonly query?: string;
  /** Set once the query has succeeded: the checkpoint's objects are all stored. */
  readonly done?: { readonly parts: number; readonly bytes: number; readonly rows: number };
  readonly bytesScanned?: number;
}

/** Why a checkpoint is or is not rebuilt: the bytes the view reads beyond it, and its age. */
export interface Payoff {
  readonly checkpointBytes: number;
  readonly daysBytes: number;
  /** The day the view will also read before the next run, estimated as the latest closed day's bytes. */
  readonly nextDayBytes: number;
  readonly ageDays: number;
  readonly rebuild: boolean;
  readonly why: string;
}

export interface CheckpointResult {
  readonly status: 'current' | 'deferred' | 'written' | 'running' | 'failed';
  readonly pointer: CheckpointPointer;
  readonly days: readonly string[];
  readonly query?: string;
  readonly reason?: string;
  readonly payoff?: Payoff;
  readonly bytesScanned?: number;
  /** Rows of the checkpoint written. */
  readonly rows?: number;
}

export interface CheckpointContext {
  readonly store: LakeStore;
  readonly engine: MaintenanceEngine;
  readonly settings: CheckpointSettings;
  readonly wait: QueryWait;
  /** Moves the view (the SSM parameter and Glue in the Lambda) to a published pointer. */
  readonly onPublished?: (pointer: CheckpointPointer) => Promise<void>;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;
/** Where checkpoints, their pointer and their plans live. */
export const checkpointsRoot = (s: Pick<CompactionSettings, 'statePrefix'>): string => `${s.statePrefix}/checkpoints/`;
const root = checkpointsRoot;
export const pointerKey = (s: Pick<CompactionSettings, 'statePrefix'>): string => `${root(s)}current.json`;
export const checkpointPrefix = (s: Pick<CompactionSettings, 'statePrefix'>, id: string): string => `${root(s)}checkpoint=${id}/`;
const planKey = (s: Pick<CompactionSettings, 'statePrefix'>, id: string): string => `${root(s)}plans/${id}.json`;
/** A plan file, plans/<id>.json (an earlier version's markers are <id>.task-N.json, its shuffle files under <id>/). */
const PLAN_FILE = /\/plans\/([^/.]+)\.json$/;
/** The plan a file under plans/ belongs to. */
const PLAN_OF = /\/plans\/([^/.]+)[./]/;
const json = (bytes: Uint8Array | undefined): unknown => (bytes === undefined ? undefined : JSON.parse(Buffer.from(bytes).toString('utf8')));
const sum = (objects: readonly StoredObject[]): number => objects.reduce((n, o) => n + o.size, 0);

export async function readPointer(store: LakeStore, s: Pick<CompactionSettings, 'statePrefix'>): Promise<CheckpointPointer> {
  const p = json(await store.read(pointerKey(s))) as Partial<CheckpointPointer> | undefined;
  if (!p || typeof p.checkpoint !== 'string' || typeof p.bound !== 'string') return { checkpoint: NO_CHECKPOINT, bound: NO_BOUND, parts: 0 };
  return { checkpoint: p.checkpoint, bound: p.bound, parts: Number(p.parts ?? 0) };
}

/** The objects of a checkpoint: every data file in its folder (an engine names them; 0.3.0 wrote part-*.parquet). */
export async function checkpointObjects(store: LakeStore, s: Pick<CompactionSettings, 'statePrefix'>, id: string): Promise<StoredObject[]> {
  return id === NO_CHECKPOINT ? [] : (await store.list(checkpointPrefix(s, id))).filter((o) => isDataFile(o.key));
}

/** The table's days from `from` (inclusive) up to `until` (exclusive), oldest first. */
async function daysBetween(store: LakeStore, s: CheckpointSettings, from: string, until: string): Promise<string[]> {
  return (await store.folders(`${s.dataPrefix}/`))
    .filter((f) => f.startsWith('dt='))
    .map((f) => f.slice(3))
    .filter((d) => DAY.test(d) && d >= from && d < until)
    .sort();
}

const dayNumber = (day: string): number => Math.floor(Date.parse(`${day}T00:00:00Z`) / DAY_MS);

/**
 * Whether a new checkpoint pays off: the days since the bound, with the next day, hold the share of its
 * bytes, or it is old. The next day counts because until the next run the view reads it too: without it
 * a current-state query just before a rebuild would read (1 + share + a day) times the state.
 */
export function payoff(s: Pick<CheckpointSettings, 'rebuildShare' | 'maxAgeDays'>, previous: CheckpointPointer, checkpointBytes: number, daysBytes: number, bound: string, nextDayBytes = 0): Payoff {
  const ageDays = previous.checkpoint === NO_CHECKPOINT ? Infinity : dayNumber(bound) - dayNumber(previous.bound);
  const share = checkpointBytes > 0 ? daysBytes / checkpointBytes : Infinity;
  const withNext = checkpointBytes > 0 ? (daysBytes + nextDayBytes) / checkpointBytes : Infinity;
  const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;
  const held = `the days since ${previous.bound} hold ${pct(share)} of the checkpoint's bytes, ${pct(withNext)} with the next day (rebuilt from ${pct(s.rebuildShare)})`;
  const base = { checkpointBytes, daysBytes, nextDayBytes, ageDays };
  if (previous.checkpoint === NO_CHECKPOINT) return { ...base, rebuild: true, why: 'no checkpoint yet' };
  if (checkpointBytes === 0) return { ...base, rebuild: true, why: 'the checkpoint is empty' };
  if (withNext >= s.rebuildShare) return { ...base, rebuild: true, why: held };
  if (ageDays >= s.maxAgeDays) return { ...base, rebuild: true, why: `its bound ${previous.bound} is ${ageDays} days old (rebuilt from ${s.maxAgeDays})` };
  return {
    ...base,
    rebuild: false,
    why: `${held} and it is ${ageDays} of ${s.maxAgeDays} days old: the view reads them beside it`,
  };
}

/** The bytes of the latest day that holds any, of days in order: the estimate of the next day's. */
export function latestDayBytes(byDay: readonly (readonly StoredObject[])[]): number {
  for (let i = byDay.length - 1; i >= 0; i--) if (byDay[i]!.length > 0) return sum(byDay[i]!);
  return 0;
}

const savePlan = (store: LakeStore, s: CheckpointSettings, plan: CheckpointPlan): Promise<void> => store.write(planKey(s, plan.id), JSON.stringify(plan), 'application/json');

/** Removes a plan and what its query wrote (never a published checkpoint). */
async function dropPlan(store: LakeStore, s: CheckpointSettings, plan: CheckpointPlan): Promise<void> {
  // The plan first: a later run never sees a plan whose objects are half gone.
  await store.delete([planKey(s, plan.id)]);
  if ((await readPointer(store, s)).checkpoint !== plan.id) await store.delete((await store.list(checkpointPrefix(s, plan.id))).map((o) => o.key));
}

/** Keeps the current checkpoint and the `retention - 1` before it (by bound), deletes the rest. */
async function pruneCheckpoints(store: LakeStore, s: CheckpointSettings, current: CheckpointPointer): Promise<void> {
  const ids = (await store.folders(root(s))).filter((f) => f.startsWith('checkpoint=')).map((f) => f.slice('checkpoint='.length));
  // A later one (a plan in flight writing its attempt) sorts after the current one and is never pruned here.
  const older = ids.filter((id) => id !== current.checkpoint && id < current.checkpoint).sort().reverse();
  for (const id of older.slice(Math.max(0, s.retention - 1))) {
    await store.delete((await store.list(checkpointPrefix(s, id))).map((o) => o.key));
  }
}

type Step = { status: 'written'; pointer: CheckpointPointer } | { status: 'running'; query: string } | { status: 'failed' | 'stale'; query?: string; reason: string };

/** Takes a plan as far as it goes now: starts its query, waits, publishes. */
async function advance(ctx: CheckpointContext, stored: CheckpointPlan): Promise<Step & { plan: CheckpointPlan }> {
  const { store, settings: s } = ctx;
  let plan = stored;
  const published = await readPointer(store, s);
  if (published.bound >= plan.bound && published.checkpoint !== plan.id) {
    // Another run published a checkpoint at least as far on: this one would move the view back.
    if (plan.query && !plan.done) await ctx.engine.stop(plan.query).catch(() => undefined);
    await dropPlan(store, s, plan);
    return { status: 'stale', reason: `checkpoint ${published.checkpoint} (bound ${published.bound}) was published meanwhile`, plan };
  }
  if (!plan.done) {
    if (!plan.query) {
      const statement = {
        select: checkpointSql(ctx.engine.relations, s.carried, plan.previous, plan.bound),
        destination: checkpointPrefix(s, plan.id),
        zstdLevel: CHECKPOINT_ZSTD_LEVEL,
        targetBytes: s.targetBytes,
      };
      plan = { ...plan, query: await ctx.engine.start(statement, queryToken('checkpoint', plan.id)) };
      await savePlan(store, s, plan);
    }
    const status = await ctx.wait(plan.query!);
    if (status.state === 'QUEUED' || status.state === 'RUNNING') return { status: 'running', query: plan.query!, plan };
    if (status.state !== 'SUCCEEDED') {
      await dropPlan(store, s, plan);
      return { status: 'failed', query: plan.query, reason: `${status.state}: ${status.reason ?? 'no reason given'}`, plan };
    }
    const parts = await checkpointObjects(store, s, plan.id);
    // A statement that "succeeded" without reading anything (the days outside the table's projection
    // range, a wrong location) would publish an empty state. An empty state is possible (every item
    // removed), an engine that scanned nothing of what there is to read is not.
    if ((plan.inputBytes ?? 0) > 0 && status.bytesScanned === 0) {
      await dropPlan(store, s, plan);
      return { status: 'failed', query: plan.query, reason: `the statement scanned 0 bytes of the ${plan.inputBytes} the previous checkpoint and the days hold: are the days inside the Glue table's partition projection range and its location right? Nothing was published.`, plan };
    }
    const rows = (await Promise.all(parts.map((o) => parquetRowCount(store, o)))).reduce((n, r) => n + r, 0);
    plan = { ...plan, done: { parts: parts.length, bytes: sum(parts), rows }, ...(status.bytesScanned !== undefined ? { bytesScanned: status.bytesScanned } : {}) };
    await savePlan(store, s, plan);
  }
  const pointer: CheckpointPointer = { checkpoint: plan.id, bound: plan.bound, parts: plan.done!.parts };
  await store.write(pointerKey(s), pointerText(pointer), 'application/json');
  await ctx.onPublished?.(pointer);
  await pruneCheckpoints(store, s, pointer);
  await store.delete([planKey(s, plan.id)]);
  return { status: 'written', pointer, plan };
}

/**
 * The days a checkpoint query in flight reads (started, not yet succeeded):
 * a compaction must not delete objects of these days under it.
 */
export async function daysBeingCheckpointed(store: LakeStore, s: Pick<CompactionSettings, 'statePrefix'>): Promise<Set<string>> {
  const days = new Set<string>();
  for (const file of (await store.list(`${root(s)}plans/`)).filter((o) => PLAN_FILE.test(o.key))) {
    const plan = json(await store.read(file.key)) as CheckpointPlan | undefined;
    if (plan?.version === 3 && plan.query && !plan.done) for (const d of plan.days) days.add(d);
  }
  return days;
}

/**
 * Brings the checkpoint up to `bound` (the first day that is not closed),
 * when it pays off: takes an interrupted checkpoint on first; plans a new
 * one only when `plan` (a run handed on only advances what is in flight).
 */
export async function checkpoint(ctx: CheckpointContext, bound: string, options: { plan: boolean } = { plan: true }): Promise<CheckpointResult> {
  const { store, settings: s } = ctx;
  const planFiles = await store.list(`${root(s)}plans/`);
  // Markers and shuffle files of an earlier version, left by a publish interrupted after it removed its plan.
  const live = new Set(planFiles.flatMap((o) => PLAN_FILE.exec(o.key)?.[1] ?? []));
  await store.delete(planFiles.filter((o) => !PLAN_FILE.test(o.key) && !live.has(PLAN_OF.exec(o.key)?.[1] ?? '')).map((o) => o.key));
  let written: CheckpointResult | undefined;
  for (const file of planFiles.filter((o) => PLAN_FILE.test(o.key))) {
    const plan = json(await store.read(file.key)) as CheckpointPlan | undefined;
    if (!plan) continue;
    if (plan.version !== 3) {
      await retireOldPlan(store, s, plan);
      continue;
    }
    const step = await advance(ctx, plan);
    const extra = { days: plan.days, query: step.plan.query, ...(step.plan.bytesScanned !== undefined ? { bytesScanned: step.plan.bytesScanned } : {}) };
    if (step.status === 'running') return { status: 'running', pointer: await readPointer(store, s), ...extra };
    if (step.status === 'failed') return { status: 'failed', pointer: await readPointer(store, s), reason: step.reason, ...extra };
    if (step.status === 'written') written = { status: 'written', pointer: step.pointer, rows: step.plan.done?.rows, ...extra };
  }
  const previous = await readPointer(store, s);
  const current = async (status: 'current' | 'deferred', why?: Payoff): Promise<CheckpointResult> => {
    // Nothing new written: follow the pointer again all the same (cheap when nothing moved). A view that an
    // apply planned before the last checkpoint set back to an older one comes back to the current one.
    if (previous.checkpoint !== NO_CHECKPOINT) await ctx.onPublished?.(previous);
    return written ?? { status, pointer: previous, days: [], ...(why ? { payoff: why } : {}) };
  };
  if (!options.plan || bound <= previous.bound) return current('current');
  const days = await daysBetween(store, s, previous.bound, bound);
  const byDay = await Promise.all(days.map((d) => dayObjects(store, s, d)));
  const dayInputs = byDay.flat();
  // Nothing was written in the days between: the checkpoint already is the state; the view reads no more for it.
  if (dayInputs.length === 0) return current('current');
  const checkpointBytes = sum(await checkpointObjects(store, s, previous.checkpoint));
  const why = payoff(s, previous, checkpointBytes, sum(dayInputs), bound, latestDayBytes(byDay));
  if (!why.rebuild) return current('deferred', why);
  const id = `${bound}-${shortHash(previous.checkpoint, newNonce(), ...dayInputs.map((o) => `${o.key}\t${o.size}`))}`;
  const plan: CheckpointPlan = { version: 3, id, bound, previous, days, inputBytes: checkpointBytes + sum(dayInputs) };
  await savePlan(store, s, plan);
  const step = await advance(ctx, plan);
  const extra = { days, payoff: why, query: step.plan.query, ...(step.plan.bytesScanned !== undefined ? { bytesScanned: step.plan.bytesScanned } : {}) };
  if (step.status === 'written') return { status: 'written', pointer: step.pointer, rows: step.plan.done?.rows, ...extra };
  if (step.status === 'running') return { status: 'running', pointer: previous, ...extra };
  return { status: 'failed', pointer: await readPointer(store, s), reason: step.reason, ...extra };
}

/**
 * A checkpoint plan of 0.3.0 or of the unreleased shuffle: its tasks are
 * not run any more. One whose parts are all stored was published by its
 * last task or will never be (this version plans again); either way the
 * plan, its markers and its shuffle files go, and its parts unless the
 * pointer names them. The next run plans a checkpoint from the pointer.
 */
async function retireOldPlan(store: LakeStore, s: CheckpointSettings, plan: { id: string }): Promise<void> {
  await store.delete([planKey(s, plan.id)]);
  await store.delete((await store.list(`${root(s)}plans/${plan.id}`)).map((o) => o.key));
  if ((await readPointer(store, s)).checkpoint !== plan.id) await store.delete((await store.list(checkpointPrefix(s, plan.id))).map((o) => o.key));
}
