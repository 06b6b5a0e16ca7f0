import { shortHash } from '../lake/object-key.ts';
import { NO_BOUND, NO_CHECKPOINT, pointerText, type CheckpointPointer } from './pointer.ts';
import type { LakeStore, StoredObject } from '../lake/lake-store.ts';
import { writeRowGroups } from './external-sort.ts';
import { CHECKPOINT_ENCODING, dayObjects, type CompactionSettings } from './compaction.ts';
import { carriedUnion, latestVersions, layout, type Row } from './rows.ts';
import { describeInputs, mergeTaskRows, type Piece, readSortMarkers, runSortSlice, type SortMarker } from './shuffle.ts';

/**
 * Checkpoints of the current state, so the current-state view reads the
 * latest checkpoint plus the days after it instead of the whole history.
 *
 * A checkpoint with bound B holds, for every (pk, sk, attribute), the rows
 * of its latest version among all rows of the days before B (removed items
 * and attributes left out), with their own event_time, sequence and dt.
 * The view ranks those rows together with the rows of days >= B, exactly as
 * it would rank the whole history: a row of a day before B that is not the
 * latest of its group can never win again, because every day before B is
 * closed (no record can arrive for it; see closedBefore).
 *
 * It is computed from the previous checkpoint and the days between the two
 * bounds (never the whole history, but the first time), split by pk hash
 * into parts when large, and published by one atomic write of the pointer
 * (current.json) once every part is stored. Readers that still use the
 * previous pointer stay exact: a previous checkpoint plus more days is the
 * same state; previous checkpoints are kept (`retention`) for them.
 */

export { NO_BOUND, NO_CHECKPOINT, pointerText, type CheckpointPointer } from './pointer.ts';

export interface CheckpointSettings extends CompactionSettings {
  /** Checkpoints kept: the current one and the ones before it, for readers of an older pointer. */
  readonly retention: number;
}

export interface CheckpointPlan {
  /** 2: split by input slices (0.4.0 on); an unfinished version 1 plan (0.3.0) is dropped and planned again. */
  readonly version: 2;
  readonly id: string;
  readonly bound: string;
  readonly previous: CheckpointPointer;
  readonly days: readonly string[];
  readonly dayInputs: readonly StoredObject[];
  readonly previousParts: readonly StoredObject[];
  /** The previous parts and the days' objects cut into slices of at most maxTaskBytes: a sort task each when there are several. */
  readonly slices: readonly (readonly Piece[])[];
  /** Parts (pk-hash buckets), a merge task each: as many as slices. */
  readonly tasks: number;
  readonly carried: readonly string[];
}

interface PartMarker {
  readonly task: number;
  readonly rowsIn: number;
  readonly rowsOut: number;
}

export interface CheckpointResult {
  readonly status: 'current' | 'written' | 'dispatched';
  readonly pointer: CheckpointPointer;
  readonly days: readonly string[];
  readonly rowsIn: number;
  readonly rowsOut: number;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const root = (s: Pick<CompactionSettings, 'statePrefix'>): string => `${s.statePrefix}/checkpoints/`;
export const pointerKey = (s: Pick<CompactionSettings, 'statePrefix'>): string => `${root(s)}current.json`;
export const checkpointPrefix = (s: Pick<CompactionSettings, 'statePrefix'>, id: string): string => `${root(s)}checkpoint=${id}/`;
const partKey = (s: CompactionSettings, id: string, task: number, tasks: number): string => `${checkpointPrefix(s, id)}part-${String(task).padStart(4, '0')}-of-${String(tasks).padStart(4, '0')}.parquet`;
const planKey = (s: CompactionSettings, id: string): string => `${root(s)}plans/${id}.json`;
const markerKey = (s: CompactionSettings, id: string, task: number): string => `${root(s)}plans/${id}.task-${task}.json`;
const shuffleDir = (s: CompactionSettings, id: string): string => `${root(s)}plans/${id}/`;
const sortMarkerKey = (s: CompactionSettings, id: string, task: number): string => `${shuffleDir(s, id)}sort-${task}.json`;
const stageKey = (s: CompactionSettings, id: string, task: number, bucket: number): string => `${shuffleDir(s, id)}sort-${String(task).padStart(4, '0')}-${String(bucket).padStart(4, '0')}.parquet`;
/** A plan file, plans/<id>.json (markers are <id>.task-N.json, the shuffle's files under <id>/). */
const PLAN_FILE = /\/plans\/([^/.]+)\.json$/;
/** The plan a file under plans/ belongs to. */
const PLAN_OF = /\/plans\/([^/.]+)[./]/;
const json = (bytes: Uint8Array | undefined): unknown => (bytes === undefined ? undefined : JSON.parse(Buffer.from(bytes).toString('utf8')));

export async function readPointer(store: LakeStore, s: Pick<CompactionSettings, 'statePrefix'>): Promise<CheckpointPointer> {
  const p = json(await store.read(pointerKey(s))) as Partial<CheckpointPointer> | undefined;
  if (!p || typeof p.checkpoint !== 'string' || typeof p.bound !== 'string') return { checkpoint: NO_CHECKPOINT, bound: NO_BOUND, parts: 0 };
  return { checkpoint: p.checkpoint, bound: p.bound, parts: Number(p.parts ?? 0) };
}


async function planCheckpoint(store: LakeStore, s: CheckpointSettings, previous: CheckpointPointer, bound: string): Promise<CheckpointPlan | undefined> {
  const days = (await store.folders(`${s.dataPrefix}/`))
    .filter((f) => f.startsWith('dt='))
    .map((f) => f.slice(3))
    .filter((d) => DAY.test(d) && d >= previous.bound && d < bound)
    .sort();
  const dayInputs = (await Promise.all(days.map((d) => dayObjects(store, s, d)))).flat();
  const previousParts = previous.checkpoint === NO_CHECKPOINT ? [] : (await store.list(checkpointPrefix(s, previous.checkpoint))).filter((o) => o.key.endsWith('.parquet'));
  if (dayInputs.length === 0) {
    // Nothing was written in the days between: the checkpoint already is the state; the view reads no more for it.
    return undefined;
  }
  const id = `${bound}-${shortHash(previous.checkpoint, ...dayInputs.map((o) => `${o.key}\t${o.size}`))}`;
  const inputs = [...previousParts, ...dayInputs.map((o) => ({ ...o, dt: /\/dt=(\d{4}-\d{2}-\d{2})\//.exec(o.key)![1]! }))];
  const { columns, slices } = await describeInputs(store, inputs, s.maxTaskBytes);
  return { version: 2, id, bound, previous, days, dayInputs, previousParts, slices, tasks: slices.length, carried: carriedUnion(s.carried, columns) };
}


/** Sort task `task` of a split checkpoint: its slice by bucket, each (pk, sk, attribute) cut to its latest version (removals kept: they hide older versions in other slices). */
async function runSortTask(store: LakeStore, s: CheckpointSettings, plan: CheckpointPlan, task: number): Promise<void> {
  await runSortSlice(store, plan, task, {
    reduce: (rows) => latestVersions(rows, false),
    stageKey: (bucket) => stageKey(s, plan.id, task, bucket),
    markerKey: sortMarkerKey(s, plan.id, task),
    memoryRows: s.memoryRows,
    tempDir: s.tempDir,
  });
}

async function sortMarkers(store: LakeStore, s: CheckpointSettings, plan: CheckpointPlan): Promise<(SortMarker | undefined)[]> {
  return readSortMarkers(store, plan, (t) => sortMarkerKey(s, plan.id, t));
}

async function partMarkers(store: LakeStore, s: CheckpointSettings, plan: Pick<CheckpointPlan, 'id' | 'tasks'>): Promise<(PartMarker | undefined)[]> {
  return Promise.all(Array.from({ length: plan.tasks }, async (_, t) => json(await store.read(markerKey(s, plan.id, t))) as PartMarker | undefined));
}

/** Whether every sort task of the plan is done (a plan that is not split has none). */
export async function checkpointSortsDone(store: LakeStore, s: CheckpointSettings, plan: CheckpointPlan): Promise<boolean> {
  return (await sortMarkers(store, s, plan)).every((m) => m !== undefined);
}

/**
 * One part of a checkpoint (merge task `task`): the latest version of each
 * (pk, sk, attribute) of its pk-hash bucket, removals left out. A split plan
 * merges its bucket's stage objects; one that is not split reads the
 * previous checkpoint and the days itself.
 */
async function runPart(store: LakeStore, s: CheckpointSettings, plan: CheckpointPlan, task: number): Promise<PartMarker> {
  const at = layout(plan.carried);
  const { rows, rowsIn } = await mergeTaskRows(store, plan, task, await sortMarkers(store, s, plan), { at, memoryRows: s.memoryRows, tempDir: s.tempDir, name: `checkpoint ${plan.id}` });
  let rowsOut = 0;
  const counted = async function* (): AsyncGenerator<Row> {
    for await (const row of latestVersions(rows, true)) {
      rowsOut++;
      yield row;
    }
  };
  // Every part is written, an empty one too: the pointer names how many parts the checkpoint has.
  const out = await store.output(partKey(s, plan.id, task, plan.tasks), 'application/vnd.apache.parquet');
  await writeRowGroups(out, at, counted(), s.rowGroupRows, { withDt: true, encoding: CHECKPOINT_ENCODING });
  const marker: PartMarker = { task, rowsIn: rowsIn(), rowsOut };
  await store.write(markerKey(s, plan.id, task), JSON.stringify(marker), 'application/json');
  return marker;
}

export type CheckpointTaskRunner = (plan: CheckpointPlan, phase: 'sort' | 'merge', pending: readonly number[]) => Promise<boolean>;

export const inlineParts =
  (store: LakeStore, s: CheckpointSettings): CheckpointTaskRunner =>
  async (plan, phase, pending) => {
    for (const t of pending) await (phase === 'sort' ? runSortTask(store, s, plan, t) : runPart(store, s, plan, t));
    return true;
  };

export { runPart as runCheckpointPart, runSortTask as runCheckpointSortTask };

/** Runs a plan's sort tasks without a marker, then its parts without one (false: some were handed to other invocations). */
async function runPending(store: LakeStore, s: CheckpointSettings, plan: CheckpointPlan, run: CheckpointTaskRunner): Promise<boolean> {
  const sorting = (await sortMarkers(store, s, plan)).flatMap((m, t) => (m === undefined ? [t] : []));
  if (sorting.length && !(await run(plan, 'sort', sorting))) return false;
  const merging = (await partMarkers(store, s, plan)).flatMap((m, t) => (m === undefined ? [t] : []));
  return !merging.length || run(plan, 'merge', merging);
}

export { runPending as runPendingCheckpointTasks };

/** Once every part is stored: publish the pointer, let the caller follow it (the Glue view), drop old checkpoints, clean up. */
export async function publishIfComplete(
  store: LakeStore,
  s: CheckpointSettings,
  plan: CheckpointPlan,
  onPublished: (pointer: CheckpointPointer) => Promise<void> = async () => {},
): Promise<{ rowsIn: number; rowsOut: number } | undefined> {
  const markers = await partMarkers(store, s, plan);
  if (markers.some((m) => m === undefined)) return undefined;
  const sorted = plan.version === 2 ? await sortMarkers(store, s, plan) : [];
  const rowsIn = sorted.length && sorted.every((m) => m) ? sorted.reduce((n, m) => n + m!.rowsIn, 0) : markers.reduce((n, m) => n + m!.rowsIn, 0);
  const pointer: CheckpointPointer = { checkpoint: plan.id, bound: plan.bound, parts: plan.tasks };
  await store.write(pointerKey(s), pointerText(pointer), 'application/json');
  await onPublished(pointer);
  await pruneCheckpoints(store, s, pointer);
  await store.delete([planKey(s, plan.id)]);
  await removeWorkFiles(store, s, plan);
  return { rowsIn, rowsOut: markers.reduce((n, m) => n + m!.rowsOut, 0) };
}

/** A plan's markers and shuffle files (once it is published or dropped). */
async function removeWorkFiles(store: LakeStore, s: CheckpointSettings, plan: Pick<CheckpointPlan, 'id' | 'tasks'>): Promise<void> {
  await store.delete((await store.list(shuffleDir(s, plan.id))).map((o) => o.key));
  await store.delete(Array.from({ length: plan.tasks }, (_, t) => markerKey(s, plan.id, t)));
}

/** Keeps the current checkpoint and the `retention - 1` before it (by bound), deletes the rest. */
async function pruneCheckpoints(store: LakeStore, s: CheckpointSettings, current: CheckpointPointer): Promise<void> {
  const ids = (await store.folders(root(s))).filter((f) => f.startsWith('checkpoint=')).map((f) => f.slice('checkpoint='.length));
  const older = ids.filter((id) => id !== current.checkpoint && id < current.checkpoint).sort().reverse();
  for (const id of older.slice(Math.max(0, s.retention - 1))) {
    await store.delete((await store.list(checkpointPrefix(s, id))).map((o) => o.key));
  }
}

/**
 * Whether a stored plan can still be completed: its previous checkpoint is
 * still the published one and every object it reads is still there. A plan
 * goes stale when a compaction (by hand, or one that raced it) replaced
 * objects of its days, or when another checkpoint was published meanwhile;
 * then it is dropped and the run plans again from what the lake holds now.
 */
export async function planIsCurrent(store: LakeStore, s: CheckpointSettings, plan: CheckpointPlan): Promise<boolean> {
  const published = await readPointer(store, s);
  if (published.checkpoint !== plan.previous.checkpoint || published.bound !== plan.previous.bound) return false;
  const present = new Set((await Promise.all(plan.days.map((d) => dayObjects(store, s, d)))).flat().map((o) => o.key));
  return plan.dayInputs.every((o) => present.has(o.key));
}

/** Removes a stale plan, its markers and the parts it wrote (never a published checkpoint's). */
async function abandonPlan(store: LakeStore, s: CheckpointSettings, plan: CheckpointPlan): Promise<void> {
  if ((await readPointer(store, s)).checkpoint !== plan.id) await store.delete((await store.list(checkpointPrefix(s, plan.id))).map((o) => o.key));
  await removeWorkFiles(store, s, plan);
  await store.delete([planKey(s, plan.id)]);
}

/**
 * Brings the checkpoint up to `bound` (the first day that is not closed):
 * finishes an interrupted checkpoint first; nothing to do when the pointer
 * is already there.
 */
export async function checkpoint(
  store: LakeStore,
  s: CheckpointSettings,
  bound: string,
  options: { run?: CheckpointTaskRunner; onPublished?: (pointer: CheckpointPointer) => Promise<void> } = {},
): Promise<CheckpointResult> {
  const run = options.run ?? inlineParts(store, s);
  const planFiles = await store.list(`${root(s)}plans/`);
  // Markers and shuffle files left by a publish interrupted after it removed its plan: that checkpoint is complete.
  const live = new Set(planFiles.flatMap((o) => PLAN_FILE.exec(o.key)?.[1] ?? []));
  await store.delete(planFiles.filter((o) => !live.has(PLAN_OF.exec(o.key)?.[1] ?? '')).map((o) => o.key));
  for (const p of planFiles.filter((o) => PLAN_FILE.test(o.key))) {
    const plan = json(await store.read(p.key)) as CheckpointPlan | undefined;
    if (!plan) continue;
    // A 0.3.0 plan is published when its parts are all there, else planned again (its tasks read every day whole).
    const old = plan.version !== 2 && (await partMarkers(store, s, plan)).some((m) => m === undefined);
    if (old || !(await planIsCurrent(store, s, plan))) {
      await abandonPlan(store, s, plan);
      continue;
    }
    if (plan.version === 2 && !(await runPending(store, s, plan, run))) return { status: 'dispatched', pointer: await readPointer(store, s), days: plan.days, rowsIn: 0, rowsOut: 0 };
    await publishIfComplete(store, s, plan, options.onPublished);
  }
  const previous = await readPointer(store, s);
  const current = async (): Promise<CheckpointResult> => {
    // Nothing new: follow the pointer again all the same (cheap when nothing moved). A view that an
    // apply planned before the last checkpoint set back to an older one comes back to the current one.
    if (previous.checkpoint !== NO_CHECKPOINT) await options.onPublished?.(previous);
    return { status: 'current', pointer: previous, days: [], rowsIn: 0, rowsOut: 0 };
  };
  if (bound <= previous.bound) return current();
  const plan = await planCheckpoint(store, s, previous, bound);
  if (!plan) return current();
  await store.write(planKey(s, plan.id), JSON.stringify(plan), 'application/json');
  if (!(await runPending(store, s, plan, run))) return { status: 'dispatched', pointer: previous, days: plan.days, rowsIn: 0, rowsOut: 0 };
  const counts = await publishIfComplete(store, s, plan, options.onPublished);
  return { status: 'written', pointer: await readPointer(store, s), days: plan.days, rowsIn: counts?.rowsIn ?? 0, rowsOut: counts?.rowsOut ?? 0 };
}
