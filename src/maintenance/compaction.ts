import { tmpdir } from 'node:os';
import { shortHash } from '../lake/object-key.ts';
import type { EncodeOptions } from '../lake/parquet-writer.ts';
import type { LakeStore, StoredObject } from '../lake/lake-store.ts';
import { stitchParquet } from '../lake/parquet-stitch.ts';
import { dataColumns } from '../schema/row-schema.ts';
import { carriedUnion, distinct, layout } from './rows.ts';
import { describeInputs, mergeTaskRows, PartWriter, type Piece, readSortMarkers, runSortSlice, type SortMarker, writeParts } from './shuffle.ts';

/**
 * Compaction of a closed day: the day's many small objects (one per stream
 * batch and day) become a few large ones, rows sorted by pk, sk,
 * attribute, event_time, sequence (so row-group statistics prune by key)
 * and rows that at-least-once delivery wrote twice folded to one.
 *
 * Safe at every moment, and resumable after a crash at any step:
 * 1. plan: the day's objects are listed; the plan, named after a hash of
 *    that set, is written under <state>/compaction/dt=<day>/;
 * 2. tasks: each task writes its output objects (compacted-<plan>-<task>-<part>,
 *    names fixed by the plan) and then its marker; a task run again
 *    overwrites the same objects with the same rows;
 * 3. commit: once every task's marker is there, the plan's inputs are
 *    deleted (a missing one is fine), then the plan and markers.
 * Readers between 2 and 3 see every row twice (old and new objects): the
 * current-state view folds identical rows (DISTINCT), so it stays exact.
 * An object that lands during or after a compaction (a late write) is not
 * in the plan, so it is never deleted, and the next run compacts it with
 * the day's compacted objects.
 *
 * Any size: a day with more than maxTaskBytes of input is split by the
 * shuffle of shuffle.ts: a sort task per slice of the inputs writes its rows
 * by pk-hash bucket to stage objects under the plan's state folder, then a
 * merge task per bucket merges them into that bucket's outputs (duplicates,
 * which share their pk, meet there). No task reads more than about one
 * slice, and a task sorts more rows than memory holds through
 * ExternalSorter. The merge tasks of a split day write their bucket's rows
 * under the plan's state folder; a stitch task then joins consecutive
 * bucket outputs into one object of up to the target size without decoding
 * them (parquet-stitch.ts), so a split day still ends as a few large
 * objects. Tasks run in one process (the CLI) or one invocation each (the
 * Lambda dispatches them; the last sort task dispatches the merges, the
 * last merge task the stitches).
 */

export interface CompactionSettings {
  /** Key prefix of the flattened rows (the table's location). */
  readonly dataPrefix: string;
  /** Key prefix of the maintenance state (plans, markers, checkpoints). */
  readonly statePrefix: string;
  /** The configured carried attributes (an object with more keeps its own). */
  readonly carried: readonly string[];
  /** Size of a compacted object (the last one of a task is smaller). Default 128 MiB. */
  readonly targetBytes: number;
  /** Input bytes one task reads; a bigger day is split into sort and merge tasks. */
  readonly maxTaskBytes: number;
  /** Rows per row group in compacted objects. */
  readonly rowGroupRows: number;
  /** Rows a task holds in memory before spilling a sorted run to disk. */
  readonly memoryRows: number;
  readonly tempDir: string;
}

/**
 * How the files the lake keeps are encoded (compacted days, checkpoints): they are written once and
 * read by every query after, so the writer spends CPU on size there, not in the stream handler or on
 * a shuffle's stage objects (read once). Each column chunk takes PLAIN or the dictionary, whichever is
 * smaller (rows sorted by key repeat values in short runs, which PLAIN with ZSTD stores for less than
 * dictionary indices do), and ZSTD works harder.
 */
/** ZSTD level of compacted days; the bench measured 9 against 3 (bytes, encode time). */
const KEPT_ZSTD_LEVEL = 9;
export const KEPT_ENCODING: EncodeOptions = { smallestEncoding: true, zstdLevel: KEPT_ZSTD_LEVEL };
/**
 * A checkpoint is what every current-state query reads, so it gets more: ZSTD 16 (btopt) stores the
 * checkpoint of the bench's lake in 37.1 KB instead of 41.3 KB (level 9), mostly the sequence and value
 * columns, for about three times the encode CPU of that one file; levels 17 to 22 gain nothing more
 * there and cost up to 20 times. Compacted days, read by history queries, stay at 9.
 */
export const CHECKPOINT_ENCODING: EncodeOptions = { smallestEncoding: true, zstdLevel: 16 };

export const COMPACTION_DEFAULTS = {
  targetBytes: 128 * 1024 * 1024,
  maxTaskBytes: 6 * 1024 * 1024,
  rowGroupRows: 100_000,
  memoryRows: 250_000,
} as const;

export function compactionSettings(partial: Partial<CompactionSettings> & Pick<CompactionSettings, 'dataPrefix' | 'statePrefix' | 'carried'>): CompactionSettings {
  return { ...COMPACTION_DEFAULTS, tempDir: tmpdir(), ...partial };
}

export interface DayPlan {
  /** 2: split by input slices (0.4.0 on); a version 1 plan (0.3.0, every task read the whole day) is re-planned. */
  readonly version: 2;
  readonly dt: string;
  /** Hash of the input set: the plan's name and the prefix of its outputs. */
  readonly id: string;
  readonly inputs: readonly StoredObject[];
  /** The inputs cut into slices of at most maxTaskBytes: one sort task each when there are several. */
  readonly slices: readonly (readonly Piece[])[];
  /** Merge tasks (pk-hash buckets), one output set each: as many as slices. */
  readonly tasks: number;
  /** The columns every output has: the configured carried attributes and any other an input has. */
  readonly carried: readonly string[];
}

export interface TaskMarker {
  readonly task: number;
  readonly outputs: readonly StoredObject[];
  readonly rowsIn: number;
  readonly rowsOut: number;
}

/** A stitch task's marker: the day object it wrote from its group of merge outputs. */
export interface StitchMarker {
  readonly group: number;
  readonly output: StoredObject;
  readonly rows: number;
}

export interface DayResult {
  readonly dt: string;
  readonly status: 'empty' | 'already-compact' | 'compacted' | 'dispatched';
  readonly plan?: string;
  readonly objectsBefore: number;
  readonly objectsAfter: number;
  readonly bytesBefore: number;
  readonly bytesAfter: number;
  readonly rowsIn: number;
  readonly rowsOut: number;
}

const COMPACTED = /^compacted-([0-9a-f]{16})-\d+-\d+\.parquet$/;
/** A day's plan under its state folder, <state>/compaction/dt=<day>/<id>.json (markers are <id>.task-N.json, the shuffle's files under <id>/). */
const PLAN_FILE = /\/dt=(\d{4}-\d{2}-\d{2})\/[0-9a-f]{16}\.json$/;
/** The plan a file of a day's state folder belongs to. */
const PLAN_OF = /\/dt=\d{4}-\d{2}-\d{2}\/([0-9a-f]{16})[./]/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export const dayPrefix = (s: Pick<CompactionSettings, 'dataPrefix'>, dt: string): string => `${s.dataPrefix}/dt=${dt}/`;
const stateDir = (s: Pick<CompactionSettings, 'statePrefix'>, dt: string): string => `${s.statePrefix}/compaction/dt=${dt}/`;
export const dayPlanKey = (s: Pick<CompactionSettings, 'statePrefix'>, plan: Pick<DayPlan, 'dt' | 'id'>): string => `${stateDir(s, plan.dt)}${plan.id}.json`;
const markerKey = (s: CompactionSettings, plan: Pick<DayPlan, 'dt' | 'id'>, task: number): string => `${stateDir(s, plan.dt)}${plan.id}.task-${task}.json`;
const stitchMarkerKey = (s: CompactionSettings, plan: Pick<DayPlan, 'dt' | 'id'>, group: number): string => `${stateDir(s, plan.dt)}${plan.id}.stitch-${group}.json`;
const shuffleDir = (s: CompactionSettings, plan: Pick<DayPlan, 'dt' | 'id'>): string => `${stateDir(s, plan.dt)}${plan.id}/`;
const sortMarkerKey = (s: CompactionSettings, plan: Pick<DayPlan, 'dt' | 'id'>, task: number): string => `${shuffleDir(s, plan)}sort-${task}.json`;
const stageKey = (s: CompactionSettings, plan: Pick<DayPlan, 'dt' | 'id'>, task: number, bucket: number): string =>
  `${shuffleDir(s, plan)}sort-${String(task).padStart(4, '0')}-${String(bucket).padStart(4, '0')}.parquet`;
/** A split plan's merge output: under the state folder (the table never reads it); the stitch tasks join these into the day's objects. */
const mergeOutputKey = (s: CompactionSettings, plan: Pick<DayPlan, 'dt' | 'id'>, task: number, part: number): string =>
  `${shuffleDir(s, plan)}merge-${String(task).padStart(4, '0')}-${String(part).padStart(4, '0')}.parquet`;
export const outputKey = (s: CompactionSettings, plan: Pick<DayPlan, 'dt' | 'id'>, task: number, part: number): string =>
  `${dayPrefix(s, plan.dt)}compacted-${plan.id}-${String(task).padStart(3, '0')}-${String(part).padStart(4, '0')}.parquet`;

/** Whether a plan is split into sort, merge and stitch tasks (a plan of one slice has one task, which writes the day's objects). */
const isSplit = (plan: Pick<DayPlan, 'slices'>): boolean => plan.slices.length > 1;

const baseName = (key: string): string => key.slice(key.lastIndexOf('/') + 1);
const json = (text: Uint8Array | undefined): unknown => (text === undefined ? undefined : JSON.parse(Buffer.from(text).toString('utf8')));

/** The Parquet objects of a day (what the table reads there). */
export async function dayObjects(store: LakeStore, s: Pick<CompactionSettings, 'dataPrefix'>, dt: string): Promise<StoredObject[]> {
  return (await store.list(dayPrefix(s, dt))).filter((o) => o.key.endsWith('.parquet'));
}

/** Whether the day is already one compacted set and nothing else. */
function alreadyCompact(objects: readonly StoredObject[]): boolean {
  const ids = new Set(objects.map((o) => COMPACTED.exec(baseName(o.key))?.[1]));
  return objects.length > 0 && ids.size === 1 && !ids.has(undefined);
}

/** Plans the compaction of the given objects (every object of the day, now). */
export async function planDay(store: LakeStore, s: CompactionSettings, dt: string, objects: readonly StoredObject[]): Promise<DayPlan> {
  if (!DAY.test(dt)) throw new Error(`compaction: "${dt}" is not a day (YYYY-MM-DD)`);
  const id = shortHash(...objects.map((o) => `${o.key}\t${o.size}`));
  // Footers only (ranged reads), side by side: a day can hold thousands of small objects.
  const { columns, slices } = await describeInputs(store, objects.map((o) => ({ ...o, dt })), s.maxTaskBytes);
  return { version: 2, dt, id, inputs: objects, slices, tasks: slices.length, carried: carriedUnion(s.carried, columns) };
}


/** Sort task `task` of a split day: its slice sorted by bucket, duplicates folded, one stage object per bucket, then its marker. */
export async function runSortTask(store: LakeStore, s: CompactionSettings, plan: DayPlan, task: number): Promise<void> {
  await runSortSlice(store, plan, task, { reduce: distinct, stageKey: (bucket) => stageKey(s, plan, task, bucket), markerKey: sortMarkerKey(s, plan, task), memoryRows: s.memoryRows, tempDir: s.tempDir });
}

async function sortMarkers(store: LakeStore, s: CompactionSettings, plan: DayPlan): Promise<(SortMarker | undefined)[]> {
  return readSortMarkers(store, plan, (t) => sortMarkerKey(s, plan, t));
}

/** Whether every merge task of the plan is done. */
export async function mergesDone(store: LakeStore, s: CompactionSettings, plan: DayPlan): Promise<boolean> {
  return (await markers(store, s, plan)).every((m) => m !== undefined);
}

/** Whether every sort task of the plan is done (a plan that is not split has none). */
export async function sortsDone(store: LakeStore, s: CompactionSettings, plan: DayPlan): Promise<boolean> {
  return (await sortMarkers(store, s, plan)).every((m) => m !== undefined);
}

/**
 * Merge task `task` (pk-hash bucket) of a plan: its rows sorted, folded,
 * written as objects of the target size, then its marker; a plan that is
 * not split has one, which reads the inputs themselves.
 */
export async function runTask(store: LakeStore, s: CompactionSettings, plan: DayPlan, task: number): Promise<TaskMarker> {
  const at = layout(plan.carried);
  const { rows, rowsIn } = await mergeTaskRows(store, plan, task, await sortMarkers(store, s, plan), { at, memoryRows: s.memoryRows, tempDir: s.tempDir, name: `compaction ${plan.dt}/${plan.id}` });
  const keyOf = (part: number): string => (isSplit(plan) ? mergeOutputKey(s, plan, task, part) : outputKey(s, plan, task, part));
  const written = await writeParts(distinct(rows), new PartWriter(store, keyOf, at, { targetBytes: s.targetBytes, withDt: false, encoding: KEPT_ENCODING }), s.rowGroupRows);
  const marker: TaskMarker = { task, outputs: written.outputs, rowsIn: rowsIn(), rowsOut: written.rows };
  await store.write(markerKey(s, plan, task), JSON.stringify(marker), 'application/json');
  return marker;
}

async function markers(store: LakeStore, s: CompactionSettings, plan: Pick<DayPlan, 'dt' | 'id' | 'tasks'>): Promise<(TaskMarker | undefined)[]> {
  return Promise.all(Array.from({ length: plan.tasks }, async (_, t) => json(await store.read(markerKey(s, plan, t))) as TaskMarker | undefined));
}

/**
 * The stitch groups of a split plan whose merge tasks are all done: the merge outputs in bucket order,
 * consecutive ones together up to targetBytes (one larger than that alone). Fixed by the markers, so
 * every invocation that asks gets the same groups.
 */
export function stitchGroups(done: readonly TaskMarker[], targetBytes: number): StoredObject[][] {
  const groups: StoredObject[][] = [];
  let bytes = 0;
  for (const output of done.flatMap((m) => m.outputs)) {
    const last = groups[groups.length - 1];
    if (last && bytes + output.size <= targetBytes) {
      last.push(output);
      bytes += output.size;
    } else {
      groups.push([output]);
      bytes = output.size;
    }
  }
  return groups;
}

/** The stitch groups of a split plan, or undefined while a merge task is not done. */
async function groupsOf(store: LakeStore, s: CompactionSettings, plan: DayPlan): Promise<StoredObject[][] | undefined> {
  const done = await markers(store, s, plan);
  return done.every((m) => m !== undefined) ? stitchGroups(done as TaskMarker[], s.targetBytes) : undefined;
}

async function stitchMarkers(store: LakeStore, s: CompactionSettings, plan: DayPlan, groups: number): Promise<(StitchMarker | undefined)[]> {
  return Promise.all(Array.from({ length: groups }, async (_, g) => json(await store.read(stitchMarkerKey(s, plan, g))) as StitchMarker | undefined));
}

/** Stitch task `group` of a split plan: its merge outputs joined, undecoded, into day object `group`, then its marker. */
export async function runStitchTask(store: LakeStore, s: CompactionSettings, plan: DayPlan, group: number): Promise<StitchMarker> {
  const groups = await groupsOf(store, s, plan);
  if (!groups) throw new Error(`compaction ${plan.dt}/${plan.id}: stitch task ${group} started before every merge task was done`);
  const inputs = groups[group];
  if (!inputs) throw new Error(`compaction ${plan.dt}/${plan.id}: there is no stitch task ${group} (the plan has ${groups.length})`);
  const written = await stitchParquet(store, inputs, dataColumns(layout(plan.carried).carried), outputKey(s, plan, group, 0));
  const marker: StitchMarker = { group, output: { key: written.key, size: written.size }, rows: written.rows };
  await store.write(stitchMarkerKey(s, plan, group), JSON.stringify(marker), 'application/json');
  return marker;
}

/** Stitch tasks of a split plan without a marker; none for a plan that is not split. */
async function pendingStitches(store: LakeStore, s: CompactionSettings, plan: DayPlan): Promise<number[]> {
  if (!isSplit(plan)) return [];
  const groups = await groupsOf(store, s, plan);
  if (!groups) return [];
  return (await stitchMarkers(store, s, plan, groups.length)).flatMap((m, g) => (m === undefined ? [g] : []));
}

/** Rows the compaction read and wrote: the sort tasks read the inputs when it is split. */
export interface Committed {
  readonly rowsIn: number;
  readonly rowsOut: number;
}

/** Deletes the plan's inputs once every task is done; returns the counts, or undefined when tasks are missing. */
export async function commitIfComplete(store: LakeStore, s: CompactionSettings, plan: DayPlan): Promise<Committed | undefined> {
  const done = await markers(store, s, plan);
  if (done.some((m) => m === undefined)) return undefined;
  let outputs = new Set(done.flatMap((m) => m!.outputs.map((o) => o.key)));
  if (isSplit(plan)) {
    // The day's objects of a split plan are the stitched ones; the merge outputs are work files.
    const stitched = await stitchMarkers(store, s, plan, stitchGroups(done as TaskMarker[], s.targetBytes).length);
    if (stitched.some((m) => m === undefined)) return undefined;
    outputs = new Set(stitched.map((m) => m!.output.key));
  }
  const sorted = await sortMarkers(store, s, plan);
  const rowsOut = done.reduce((n, m) => n + m!.rowsOut, 0);
  const rowsIn = sorted.length && sorted.every((m) => m) ? sorted.reduce((n, m) => n + m!.rowsIn, 0) : done.reduce((n, m) => n + m!.rowsIn, 0);
  // Originals go only after every replacement is stored; an input that is also an output (never the case:
  // output names carry this plan's id) would be kept.
  await store.delete(plan.inputs.map((o) => o.key).filter((k) => !outputs.has(k)));
  // The plan goes before its markers: a plan without all markers must never meet inputs already deleted.
  await store.delete([dayPlanKey(s, plan)]);
  await removeWorkFiles(store, s, plan);
  return { rowsIn, rowsOut };
}

/** A plan's shuffle files and markers (once the plan is committed or dropped); the merge markers last, as they fix the stitch groups. */
async function removeWorkFiles(store: LakeStore, s: CompactionSettings, plan: Pick<DayPlan, 'dt' | 'id' | 'tasks'>): Promise<void> {
  await store.delete((await store.list(shuffleDir(s, plan))).map((o) => o.key));
  await store.delete((await store.list(`${stateDir(s, plan.dt)}${plan.id}.stitch-`)).map((o) => o.key));
  await store.delete(Array.from({ length: plan.tasks }, (_, t) => markerKey(s, plan, t)));
}

/**
 * A 0.3.0 plan (version 1: every task read the whole day) that is not
 * complete is dropped: no task finished means no input was deleted, so its
 * outputs (copies of rows the inputs still hold) go, and the day is planned
 * again. A complete one is committed as it stands.
 */
async function retireOldPlan(store: LakeStore, s: CompactionSettings, plan: Pick<DayPlan, 'dt' | 'id' | 'tasks' | 'inputs'>): Promise<Committed | undefined> {
  const done = await markers(store, s, plan);
  if (done.every((m) => m !== undefined)) return commitIfComplete(store, s, { ...plan, version: 2, slices: [], carried: [] });
  const own = (await dayObjects(store, s, plan.dt)).filter((o) => COMPACTED.exec(baseName(o.key))?.[1] === plan.id);
  await store.delete(own.map((o) => o.key));
  await store.delete([dayPlanKey(s, plan)]);
  await removeWorkFiles(store, s, plan);
  return undefined;
}

/** How a plan's tasks are run: in this process, or handed to other invocations (returns false when not all ran here). */
export type TaskPhase = 'sort' | 'merge' | 'stitch';
export type TaskRunner = (plan: DayPlan, phase: TaskPhase, pending: readonly number[]) => Promise<boolean>;

/** Runs task `task` of a phase of a plan here. */
export async function runPhaseTask(store: LakeStore, s: CompactionSettings, plan: DayPlan, phase: TaskPhase, task: number): Promise<void> {
  if (phase === 'sort') await runSortTask(store, s, plan, task);
  else if (phase === 'merge') await runTask(store, s, plan, task);
  else await runStitchTask(store, s, plan, task);
}

export const inlineTasks =
  (store: LakeStore, s: CompactionSettings): TaskRunner =>
  async (plan, phase, pending) => {
    for (const task of pending) await runPhaseTask(store, s, plan, phase, task);
    return true;
  };

/** Finishes a plan: runs the sort tasks without a marker, then the merge tasks, then the stitch tasks, then commits. */
export async function finishPlan(store: LakeStore, s: CompactionSettings, plan: DayPlan, run: TaskRunner): Promise<Committed | undefined> {
  const sorting = (await sortMarkers(store, s, plan)).flatMap((m, t) => (m === undefined ? [t] : []));
  if (sorting.length && !(await run(plan, 'sort', sorting))) return undefined;
  const merging = (await markers(store, s, plan)).flatMap((m, t) => (m === undefined ? [t] : []));
  if (merging.length && !(await run(plan, 'merge', merging))) return undefined;
  const stitching = await pendingStitches(store, s, plan);
  if (stitching.length && !(await run(plan, 'stitch', stitching))) return undefined;
  return commitIfComplete(store, s, plan);
}

/** Compacts one day: finishes an interrupted compaction first, then compacts what the day holds now. */
export async function compactDay(store: LakeStore, s: CompactionSettings, dt: string, run: TaskRunner = inlineTasks(store, s)): Promise<DayResult> {
  const before = await dayObjects(store, s, dt);
  const stats = (status: DayResult['status'], after: readonly StoredObject[], rows: Committed, plan?: string): DayResult => ({
    dt,
    status,
    plan,
    objectsBefore: before.length,
    objectsAfter: after.length,
    bytesBefore: before.reduce((n, o) => n + o.size, 0),
    bytesAfter: after.reduce((n, o) => n + o.size, 0),
    ...rows,
  });
  const none = { rowsIn: 0, rowsOut: 0 };
  const state = await store.list(stateDir(s, dt));
  const interrupted = state.filter((o) => PLAN_FILE.test(o.key));
  // Markers and shuffle files left by a commit interrupted after it deleted its plan: that compaction is complete.
  const live = new Set(interrupted.map((o) => PLAN_OF.exec(o.key)?.[1]));
  await store.delete(state.filter((o) => !live.has(PLAN_OF.exec(o.key)?.[1])).map((o) => o.key));
  let resumed: (Committed & { plan: string }) | undefined;
  for (const p of interrupted) {
    const plan = json(await store.read(p.key)) as DayPlan | undefined;
    if (!plan) continue;
    if (plan.version !== 2) {
      const done = await retireOldPlan(store, s, plan);
      if (done) resumed = { plan: plan.id, ...done };
      continue;
    }
    const done = await finishPlan(store, s, plan, run);
    if (!done) return stats('dispatched', before, none, plan.id);
    resumed = { plan: plan.id, ...done };
  }
  const objects = await dayObjects(store, s, dt);
  if (objects.length === 0) return stats('empty', objects, none);
  // An interrupted compaction finished here, and nothing new arrived: this run compacted the day.
  if (alreadyCompact(objects)) return resumed ? stats('compacted', objects, resumed, resumed.plan) : stats('already-compact', objects, none);
  const plan = await planDay(store, s, dt, objects);
  await store.write(dayPlanKey(s, plan), JSON.stringify(plan), 'application/json');
  const done = await finishPlan(store, s, plan, run);
  if (!done) return stats('dispatched', objects, none, plan.id);
  return stats('compacted', await dayObjects(store, s, dt), done, plan.id);
}

/**
 * Days with a compaction in flight (a plan stored, its inputs not yet
 * deleted). A checkpoint must not be planned over such a day: the commit
 * deletes the objects the checkpoint would read.
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
