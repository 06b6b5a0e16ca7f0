import { tmpdir } from 'node:os';
import type { ByteOutput } from '../io/byte-output.ts';
import { shortHash } from '../lake/object-key.ts';
import type { LakeStore, StoredObject } from '../lake/lake-store.ts';
import { streamingParquetWriter, type EncodeOptions } from '../lake/parquet-writer.ts';
import { openParquet } from '../lake/parquet-reader.ts';
import { ExternalSorter } from './external-sort.ts';
import { carriedUnion, I, layout, maintenanceOrder, pkHash, type Row, rowMapper, sameRow, toBatch } from './rows.ts';

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
 * Any size: a day larger than one task takes is split into tasks by a hash
 * of pk (each task reads the whole day and keeps its share; duplicates, which
 * share their pk, meet in the same task), and a task sorts more rows than
 * memory holds through ExternalSorter. Tasks run in one process (the CLI)
 * or one invocation each (the Lambda dispatches them).
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
  /** Input bytes one task takes; a bigger day is split by pk hash. Default 256 MiB. */
  readonly maxTaskBytes: number;
  /** Rows per row group in compacted objects. */
  readonly rowGroupRows: number;
  /** Rows a task holds in memory before spilling a sorted run to disk. */
  readonly memoryRows: number;
  readonly tempDir: string;
}

/**
 * How the files the lake keeps are encoded (compacted days, checkpoints): they are written once and
 * read by every query after, so the writer spends CPU on size there, not in the stream handler.
 * Each column chunk takes PLAIN or the dictionary, whichever is smaller (rows sorted by key
 * repeat values in short runs, which PLAIN with ZSTD stores for less than dictionary indices do).
 */
export const KEPT_ENCODING: EncodeOptions = { smallestEncoding: true };

export const COMPACTION_DEFAULTS = {
  targetBytes: 128 * 1024 * 1024,
  maxTaskBytes: 256 * 1024 * 1024,
  rowGroupRows: 100_000,
  memoryRows: 250_000,
} as const;

export function compactionSettings(partial: Partial<CompactionSettings> & Pick<CompactionSettings, 'dataPrefix' | 'statePrefix' | 'carried'>): CompactionSettings {
  return { ...COMPACTION_DEFAULTS, tempDir: tmpdir(), ...partial };
}

export interface DayPlan {
  readonly version: 1;
  readonly dt: string;
  /** Hash of the input set: the plan's name and the prefix of its outputs. */
  readonly id: string;
  readonly inputs: readonly StoredObject[];
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
/** A day's plan under its state folder, <state>/compaction/dt=<day>/<id>.json (markers are <id>.task-N.json). */
const PLAN_FILE = /\/dt=(\d{4}-\d{2}-\d{2})\/[0-9a-f]{16}\.json$/;
const DAY = /^\d{4}-\d{2}-\d{2}$/;

export const dayPrefix = (s: Pick<CompactionSettings, 'dataPrefix'>, dt: string): string => `${s.dataPrefix}/dt=${dt}/`;
const stateDir = (s: Pick<CompactionSettings, 'statePrefix'>, dt: string): string => `${s.statePrefix}/compaction/dt=${dt}/`;
const planKey = (s: CompactionSettings, plan: Pick<DayPlan, 'dt' | 'id'>): string => `${stateDir(s, plan.dt)}${plan.id}.json`;
const markerKey = (s: CompactionSettings, plan: Pick<DayPlan, 'dt' | 'id'>, task: number): string => `${stateDir(s, plan.dt)}${plan.id}.task-${task}.json`;
export const outputKey = (s: CompactionSettings, plan: Pick<DayPlan, 'dt' | 'id'>, task: number, part: number): string =>
  `${dayPrefix(s, plan.dt)}compacted-${plan.id}-${String(task).padStart(3, '0')}-${String(part).padStart(4, '0')}.parquet`;

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
  const columns: string[][] = [];
  // Footers only (ranged reads), side by side: a day can hold thousands of small objects.
  for (let i = 0; i < objects.length; i += 32) {
    const batch = await Promise.all(objects.slice(i, i + 32).map((o) => openParquet(store, o.key, o.size)));
    for (const f of batch) columns.push([...f.columns]);
  }
  const bytes = objects.reduce((n, o) => n + o.size, 0);
  return { version: 1, dt, id, inputs: objects, tasks: Math.max(1, Math.ceil(bytes / s.maxTaskBytes)), carried: carriedUnion(s.carried, columns) };
}

/** Output objects of one task, cut at the target size, each a complete Parquet file of whole row groups. */
class PartWriter {
  private out?: ByteOutput;
  private writer?: ReturnType<typeof streamingParquetWriter>;
  private pending: Buffer[] = [];
  private bytes = 0;
  private part = 0;
  private key = '';
  readonly outputs: StoredObject[] = [];
  private readonly store: LakeStore;
  private readonly keyOf: (part: number) => string;
  private readonly carried: readonly string[];
  private readonly targetBytes: number;
  constructor(store: LakeStore, keyOf: (part: number) => string, carried: readonly string[], targetBytes: number) {
    this.store = store;
    this.keyOf = keyOf;
    this.carried = carried;
    this.targetBytes = targetBytes;
  }
  async writeGroup(rows: readonly Row[], at: ReturnType<typeof layout>): Promise<void> {
    if (!this.writer) {
      this.key = this.keyOf(this.part++);
      this.out = await this.store.output(this.key, 'application/vnd.apache.parquet');
      this.writer = streamingParquetWriter(this.carried, (chunk) => this.pending.push(chunk), KEPT_ENCODING);
      this.bytes = 0;
    }
    this.writer.writeBatch(toBatch(rows, at));
    await this.flush();
    if (this.bytes >= this.targetBytes) await this.close();
  }
  private async flush(): Promise<void> {
    for (const chunk of this.pending) {
      this.bytes += chunk.length;
      await this.out!.write(chunk);
    }
    this.pending = [];
  }
  async close(): Promise<void> {
    if (!this.writer) return;
    this.writer.finish();
    await this.flush();
    await this.out!.commit();
    this.outputs.push({ key: this.key, size: this.bytes });
    this.writer = undefined;
    this.out = undefined;
  }
  async abort(): Promise<void> {
    await this.out?.abort();
  }
}

/** Runs one task of a plan: its share of the day's rows, sorted, folded, written as objects of the target size, then its marker. */
export async function runTask(store: LakeStore, s: CompactionSettings, plan: DayPlan, task: number): Promise<TaskMarker> {
  const at = layout(plan.carried);
  const compare = maintenanceOrder(at.width);
  const sorter = new ExternalSorter({ layout: at, compare, memoryRows: s.memoryRows, tempDir: s.tempDir });
  for (const input of plan.inputs) {
    const file = await openParquet(store, input.key, input.size);
    const map = rowMapper(file.columns, at, plan.dt);
    for (let g = 0; g < file.rowGroups; g++) {
      for (const source of (await file.read(g)).rows) {
        const row = map(source);
        if (plan.tasks > 1 && pkHash(String(row[I.pk])) % plan.tasks !== task) continue;
        await sorter.add(row);
      }
    }
  }
  const parts = new PartWriter(store, (part) => outputKey(s, plan, task, part), plan.carried, s.targetBytes);
  let rowsOut = 0;
  try {
    let group: Row[] = [];
    let previous: Row | undefined;
    for await (const row of sorter.sorted()) {
      if (previous && sameRow(previous, row)) continue; // written twice by at-least-once delivery
      previous = row;
      group.push(row);
      rowsOut++;
      if (group.length >= s.rowGroupRows) {
        await parts.writeGroup(group, at);
        group = [];
      }
    }
    if (group.length) await parts.writeGroup(group, at);
    await parts.close();
  } catch (error) {
    await parts.abort();
    throw error;
  }
  const marker: TaskMarker = { task, outputs: parts.outputs, rowsIn: sorter.rows, rowsOut };
  await store.write(markerKey(s, plan, task), JSON.stringify(marker), 'application/json');
  return marker;
}

async function markers(store: LakeStore, s: CompactionSettings, plan: DayPlan): Promise<(TaskMarker | undefined)[]> {
  return Promise.all(Array.from({ length: plan.tasks }, async (_, t) => json(await store.read(markerKey(s, plan, t))) as TaskMarker | undefined));
}

/** Deletes the plan's inputs once every task is done; returns the markers, or undefined when tasks are missing. */
export async function commitIfComplete(store: LakeStore, s: CompactionSettings, plan: DayPlan): Promise<TaskMarker[] | undefined> {
  const done = await markers(store, s, plan);
  if (done.some((m) => m === undefined)) return undefined;
  const outputs = new Set(done.flatMap((m) => m!.outputs.map((o) => o.key)));
  // Originals go only after every replacement is stored; an input that is also an output (never the case:
  // output names carry this plan's id) would be kept.
  await store.delete(plan.inputs.map((o) => o.key).filter((k) => !outputs.has(k)));
  // The plan goes before its markers: a plan without all markers must never meet inputs already deleted.
  await store.delete([planKey(s, plan)]);
  await store.delete(Array.from({ length: plan.tasks }, (_, t) => markerKey(s, plan, t)));
  return done as TaskMarker[];
}

/** How a plan's tasks are run: in this process, or handed to other invocations (returns false when not all ran here). */
export type TaskRunner = (plan: DayPlan, pending: readonly number[]) => Promise<boolean>;

export const inlineTasks =
  (store: LakeStore, s: CompactionSettings): TaskRunner =>
  async (plan, pending) => {
    for (const task of pending) await runTask(store, s, plan, task);
    return true;
  };

/** Finishes a plan: runs the tasks without a marker, then commits. */
async function finishPlan(store: LakeStore, s: CompactionSettings, plan: DayPlan, run: TaskRunner): Promise<TaskMarker[] | undefined> {
  const done = await markers(store, s, plan);
  const pending = done.flatMap((m, t) => (m === undefined ? [t] : []));
  if (pending.length && !(await run(plan, pending))) return undefined;
  return commitIfComplete(store, s, plan);
}

/** Compacts one day: finishes an interrupted compaction first, then compacts what the day holds now. */
export async function compactDay(store: LakeStore, s: CompactionSettings, dt: string, run: TaskRunner = inlineTasks(store, s)): Promise<DayResult> {
  const before = await dayObjects(store, s, dt);
  const stats = (status: DayResult['status'], after: readonly StoredObject[], rows: { rowsIn: number; rowsOut: number }, plan?: string): DayResult => ({
    dt,
    status,
    plan,
    objectsBefore: before.length,
    objectsAfter: after.length,
    bytesBefore: before.reduce((n, o) => n + o.size, 0),
    bytesAfter: after.reduce((n, o) => n + o.size, 0),
    ...rows,
  });
  const state = await store.list(stateDir(s, dt));
  const interrupted = state.filter((o) => PLAN_FILE.test(o.key));
  // Markers left by a commit interrupted after it deleted its plan: that compaction is complete.
  const plans = new Set(interrupted.map((o) => o.key.slice(0, -'.json'.length)));
  await store.delete(state.filter((o) => o.key.includes('.task-') && !plans.has(o.key.slice(0, o.key.indexOf('.task-')))).map((o) => o.key));
  let resumed: { plan: string; rowsIn: number; rowsOut: number } | undefined;
  for (const p of interrupted) {
    const plan = json(await store.read(p.key)) as DayPlan | undefined;
    if (!plan) continue;
    const done = await finishPlan(store, s, plan, run);
    if (!done) return stats('dispatched', before, { rowsIn: 0, rowsOut: 0 }, plan.id);
    resumed = { plan: plan.id, rowsIn: done.reduce((n, m) => n + m.rowsIn, 0), rowsOut: done.reduce((n, m) => n + m.rowsOut, 0) };
  }
  const objects = await dayObjects(store, s, dt);
  if (objects.length === 0) return stats('empty', objects, { rowsIn: 0, rowsOut: 0 });
  // An interrupted compaction finished here, and nothing new arrived: this run compacted the day.
  if (alreadyCompact(objects)) return resumed ? stats('compacted', objects, resumed, resumed.plan) : stats('already-compact', objects, { rowsIn: 0, rowsOut: 0 });
  const plan = await planDay(store, s, dt, objects);
  await store.write(planKey(s, plan), JSON.stringify(plan), 'application/json');
  const done = await finishPlan(store, s, plan, run);
  if (!done) return stats('dispatched', objects, { rowsIn: 0, rowsOut: 0 }, plan.id);
  const after = await dayObjects(store, s, dt);
  return stats('compacted', after, { rowsIn: done.reduce((n, m) => n + m.rowsIn, 0), rowsOut: done.reduce((n, m) => n + m.rowsOut, 0) }, plan.id);
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
