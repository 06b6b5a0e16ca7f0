import type { LakeStore } from '../lake/lake-store.ts';
import { checkpointsRoot, readPointer, type CheckpointSettings } from './checkpoint.ts';
import { dayObjects, daysBeingCompacted } from './compaction.ts';
import { NO_CHECKPOINT } from './pointer.ts';
import { lakeDays } from './view-inputs.ts';

/**
 * History retention (`history_retention_days`): the scheduled run deletes
 * the days older than the retention, but only days that every checkpoint
 * still kept covers. The current-state view reads the checkpoint its pointer
 * names and the days from that checkpoint's bound; a reader of an older
 * pointer (a view an apply set back, kept for `checkpoint_retention`) reads
 * from an older bound. So a day goes only when it is before the bound of the
 * OLDEST checkpoint kept: no view, current or kept, reads it any more, and
 * the current state is exactly what it was. A day not yet covered (no
 * checkpoint, or a checkpoint that is not rebuilt yet) is never removed, and
 * neither is a day with a compaction in flight.
 *
 * In a versioned bucket a deleted object stays as a noncurrent version for
 * `noncurrent_version_expiration_days`; only then is that history gone.
 */

export interface RetentionResult {
  readonly status: 'off' | 'nothing-to-delete' | 'deleted';
  /** Days older than this are past the retention. */
  readonly before?: string;
  /** The first day a kept checkpoint does not cover: nothing from it on is deleted. */
  readonly coveredBefore?: string;
  readonly days: readonly string[];
  readonly objects: number;
  readonly bytes: number;
  /** Days past the retention that were kept, and why. */
  readonly kept: readonly string[];
}

const DAY_MS = 86_400_000;
const ID_BOUND = /^(\d{4}-\d{2}-\d{2})-/;

/** The first day the oldest checkpoint kept does not cover (its id starts with its bound), or undefined with no checkpoint. */
export async function oldestCoveredBound(store: LakeStore, s: Pick<CheckpointSettings, 'statePrefix'>): Promise<string | undefined> {
  const pointer = await readPointer(store, s);
  if (pointer.checkpoint === NO_CHECKPOINT) return undefined;
  const bounds = (await store.folders(checkpointsRoot(s)))
    .filter((f) => f.startsWith('checkpoint='))
    .map((f) => ID_BOUND.exec(f.slice('checkpoint='.length))?.[1])
    .filter((b): b is string => b !== undefined && b <= pointer.bound);
  return [pointer.bound, ...bounds].sort()[0];
}

export async function expireHistory(store: LakeStore, s: CheckpointSettings, now: number, retentionDays: number | undefined): Promise<RetentionResult> {
  const none = { days: [], objects: 0, bytes: 0, kept: [] };
  if (!retentionDays) return { status: 'off', ...none };
  const before = new Date(Math.floor(now / DAY_MS) * DAY_MS - retentionDays * DAY_MS).toISOString().slice(0, 10);
  const covered = await oldestCoveredBound(store, s);
  const compacting = new Set(await daysBeingCompacted(store, s));
  const past = (await lakeDays(store, s)).filter((d) => d < before);
  const kept: string[] = [];
  const doomed: string[] = [];
  for (const d of past) {
    if (covered === undefined || d >= covered) kept.push(`${d}: no checkpoint kept covers it yet${covered ? ` (the oldest covers days before ${covered})` : ''}`);
    else if (compacting.has(d)) kept.push(`${d}: its compaction is in flight`);
    else doomed.push(d);
  }
  let objects = 0;
  let bytes = 0;
  for (const d of doomed) {
    const found = await dayObjects(store, s, d);
    // The day's objects only: its compaction state, if any, went with its last commit.
    await store.delete(found.map((o) => o.key));
    objects += found.length;
    bytes += found.reduce((n, o) => n + o.size, 0);
  }
  return { status: doomed.length ? 'deleted' : 'nothing-to-delete', before, ...(covered ? { coveredBefore: covered } : {}), days: doomed, objects, bytes, kept };
}
