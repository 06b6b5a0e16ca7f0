import type { LakeStore, StoredObject } from '../lake/lake-store.ts';
import { checkpointObjects, readPointer, type CheckpointPointer } from './checkpoint.ts';
import { dayObjects, type CompactionSettings } from './compaction.ts';

/**
 * What a current-state query reads, counted the way Athena selects objects:
 * the view reads `checkpoints WHERE checkpoint = <pointer>` (an injected
 * projection: that checkpoint's folder only) and `flattened WHERE dt >=
 * <bound>` (the dt projection: those days' folders only), so the objects are
 * the checkpoint's parts and the objects of the days from the bound on.
 * Bytes are whole objects: Athena reads less of a Parquet object (only the
 * columns and row groups it needs), so this is the bound on what it can
 * scan, counted the same way before and after maintenance.
 */

export interface ObjectSet {
  readonly objects: number;
  readonly bytes: number;
}

export interface ViewInputs extends ObjectSet {
  readonly pointer: CheckpointPointer;
  readonly checkpoint: ObjectSet;
  /** The days the view reads from the table (dt >= bound), oldest first. */
  readonly days: readonly string[];
  readonly table: ObjectSet;
}

type Prefixes = Pick<CompactionSettings, 'dataPrefix' | 'statePrefix'>;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const sum = (objects: readonly StoredObject[]): ObjectSet => ({ objects: objects.length, bytes: objects.reduce((n, o) => n + o.size, 0) });

/** The dt partitions of the table, oldest first. */
export async function lakeDays(store: LakeStore, s: Pick<Prefixes, 'dataPrefix'>): Promise<string[]> {
  return (await store.folders(`${s.dataPrefix}/`)).filter((f) => f.startsWith('dt=')).map((f) => f.slice(3)).filter((d) => DAY.test(d)).sort();
}

/** Every Parquet object of the table (what a query with no pruning, the view before any checkpoint, reads). */
export async function tableObjects(store: LakeStore, s: Pick<Prefixes, 'dataPrefix'>): Promise<ObjectSet> {
  const days = await lakeDays(store, s);
  return sum((await Promise.all(days.map((d) => dayObjects(store, s, d)))).flat());
}

/** The objects the current-state view selects with the pointer as it is stored now. */
export async function currentStateInputs(store: LakeStore, s: Prefixes): Promise<ViewInputs> {
  const pointer = await readPointer(store, s);
  const parts = await checkpointObjects(store, s, pointer.checkpoint);
  const days = (await lakeDays(store, s)).filter((d) => d >= pointer.bound);
  const rows = (await Promise.all(days.map((d) => dayObjects(store, s, d)))).flat();
  const checkpoint = sum(parts);
  const table = sum(rows);
  return { pointer, checkpoint, days, table, objects: checkpoint.objects + table.objects, bytes: checkpoint.bytes + table.bytes };
}
