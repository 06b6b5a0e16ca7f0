import { shortHash } from '../lake/object-key.ts';
import { NO_BOUND, NO_CHECKPOINT, pointerText, type CheckpointPointer } from './pointer.ts';
import type { LakeStore, StoredObject } from '../lake/lake-store.ts';
import { openParquet } from '../lake/parquet-reader.ts';
import { ExternalSorter, writeRowGroups } from './external-sort.ts';
import { dayObjects, KEPT_ENCODING, type CompactionSettings } from './compaction.ts';
import { carriedUnion, I, layout, maintenanceOrder, pkHash, type Row, rowMapper, sameItemAttribute, sameRow } from './rows.ts';

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
  readonly version: 1;
  readonly id: string;
  readonly bound: string;
  readonly previous: CheckpointPointer;
  readonly days: readonly string[];
  readonly dayInputs: readonly StoredObject[];
  readonly previousParts: readonly StoredObject[];
  readonly tasks: number;
  readonly carried: readonly string[];
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
  const columns: string[][] = [];
  for (const o of [...previousParts, ...dayInputs]) columns.push([...(await openParquet(store, o.key, o.size)).columns]);
  const bytes = [...previousParts, ...dayInputs].reduce((n, o) => n + o.size, 0);
  return {
    version: 1,
    id,
    bound,
    previous,
    days,
    dayInputs,
    previousParts,
    tasks: Math.max(1, Math.ceil(bytes / s.maxTaskBytes)),
    carried: carriedUnion(s.carried, columns),
  };
}

/**
 * One part of a checkpoint: its share (by pk hash) of the previous
 * checkpoint's rows and of the new days' rows, sorted, reduced to the latest
 * version of each (pk, sk, attribute), ABSENT rows left out.
 */
async function runPart(store: LakeStore, s: CheckpointSettings, plan: CheckpointPlan, task: number): Promise<{ rowsIn: number; rowsOut: number }> {
  const at = layout(plan.carried);
  const sorter = new ExternalSorter({ layout: at, compare: maintenanceOrder(at.width), memoryRows: s.memoryRows, tempDir: s.tempDir });
  const mine = (row: Row): boolean => plan.tasks === 1 || pkHash(String(row[I.pk])) % plan.tasks === task;
  // The previous checkpoint's parts share this split when they are as many: then only part `task` holds this share.
  const sameSplit = plan.previous.parts === plan.tasks;
  for (const part of plan.previousParts) {
    if (sameSplit && !part.key.includes(`part-${String(task).padStart(4, '0')}-of-`)) continue;
    const file = await openParquet(store, part.key, part.size);
    const map = rowMapper(file.columns, at);
    for (let g = 0; g < file.rowGroups; g++) for (const r of (await file.read(g)).rows) {
      const row = map(r);
      if (mine(row)) await sorter.add(row);
    }
  }
  for (const input of plan.dayInputs) {
    const dt = /\/dt=(\d{4}-\d{2}-\d{2})\//.exec(input.key)![1]!;
    const file = await openParquet(store, input.key, input.size);
    const map = rowMapper(file.columns, at, dt);
    for (let g = 0; g < file.rowGroups; g++) for (const r of (await file.read(g)).rows) {
      const row = map(r);
      if (mine(row)) await sorter.add(row);
    }
  }
  let rowsOut = 0;
  async function* latest(): AsyncGenerator<Row> {
    // Sorted by (pk, sk, attribute, event_time, sequence, ...): a group's last version comes last.
    let group: Row[] = [];
    const emit = function* (): Generator<Row> {
      for (let i = 0; i < group.length; i++) {
        const row = group[i]!;
        if (row[I.value_type] === 'ABSENT') continue;
        if (i > 0 && sameRow(group[i - 1]!, row)) continue;
        rowsOut++;
        yield row;
      }
    };
    for await (const row of sorter.sorted()) {
      const last = group[group.length - 1];
      if (last && !sameItemAttribute(last, row)) {
        yield* emit();
        group = [];
      } else if (last && (last[I.event_time] !== row[I.event_time] || last[I.sequence] !== row[I.sequence])) {
        group = []; // a later version of the same (pk, sk, attribute): the earlier one can never win
      }
      group.push(row);
    }
    yield* emit();
  }
  const out = await store.output(partKey(s, plan.id, task, plan.tasks), 'application/vnd.apache.parquet');
  await writeRowGroups(out, at, latest(), s.rowGroupRows, { withDt: true, encoding: KEPT_ENCODING });
  const marker = { task, rowsIn: sorter.rows, rowsOut };
  await store.write(markerKey(s, plan.id, task), JSON.stringify(marker), 'application/json');
  return marker;
}

export type CheckpointTaskRunner = (plan: CheckpointPlan, pending: readonly number[]) => Promise<boolean>;

export const inlineParts =
  (store: LakeStore, s: CheckpointSettings): CheckpointTaskRunner =>
  async (plan, pending) => {
    for (const t of pending) await runPart(store, s, plan, t);
    return true;
  };

export { runPart as runCheckpointPart };

/** Once every part is stored: publish the pointer, let the caller follow it (the Glue view), drop old checkpoints, clean up. */
export async function publishIfComplete(
  store: LakeStore,
  s: CheckpointSettings,
  plan: CheckpointPlan,
  onPublished: (pointer: CheckpointPointer) => Promise<void> = async () => {},
): Promise<{ rowsIn: number; rowsOut: number } | undefined> {
  const markers = await Promise.all(Array.from({ length: plan.tasks }, async (_, t) => json(await store.read(markerKey(s, plan.id, t))) as { rowsIn: number; rowsOut: number } | undefined));
  if (markers.some((m) => m === undefined)) return undefined;
  const pointer: CheckpointPointer = { checkpoint: plan.id, bound: plan.bound, parts: plan.tasks };
  await store.write(pointerKey(s), pointerText(pointer), 'application/json');
  await onPublished(pointer);
  await pruneCheckpoints(store, s, pointer);
  await store.delete([planKey(s, plan.id)]);
  await store.delete(Array.from({ length: plan.tasks }, (_, t) => markerKey(s, plan.id, t)));
  return { rowsIn: markers.reduce((n, m) => n + m!.rowsIn, 0), rowsOut: markers.reduce((n, m) => n + m!.rowsOut, 0) };
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
  await store.delete(Array.from({ length: plan.tasks }, (_, t) => markerKey(s, plan.id, t)));
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
  // Markers left by a publish interrupted after it removed its plan: that checkpoint is complete.
  const plans = new Set(planFiles.filter((o) => !o.key.includes('.task-')).map((o) => o.key.slice(0, -'.json'.length)));
  await store.delete(planFiles.filter((o) => o.key.includes('.task-') && !plans.has(o.key.slice(0, o.key.indexOf('.task-')))).map((o) => o.key));
  for (const p of (await store.list(`${root(s)}plans/`)).filter((o) => o.key.endsWith('.json') && !o.key.includes('.task-'))) {
    const plan = json(await store.read(p.key)) as CheckpointPlan | undefined;
    if (!plan) continue;
    if (!(await planIsCurrent(store, s, plan))) {
      await abandonPlan(store, s, plan);
      continue;
    }
    const pending = (await Promise.all(Array.from({ length: plan.tasks }, (_, t) => store.read(markerKey(s, plan.id, t))))).flatMap((m, t) => (m === undefined ? [t] : []));
    if (pending.length && !(await run(plan, pending))) return { status: 'dispatched', pointer: await readPointer(store, s), days: plan.days, rowsIn: 0, rowsOut: 0 };
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
  const pending = Array.from({ length: plan.tasks }, (_, t) => t);
  if (!(await run(plan, pending))) return { status: 'dispatched', pointer: previous, days: plan.days, rowsIn: 0, rowsOut: 0 };
  const counts = await publishIfComplete(store, s, plan, options.onPublished);
  return { status: 'written', pointer: await readPointer(store, s), days: plan.days, rowsIn: counts?.rowsIn ?? 0, rowsOut: counts?.rowsOut ?? 0 };
}
