import type { LakeStore, StoredObject } from '../lake/lake-store.ts';
import { mapLimit } from '../util/map-limit.ts';

/**
 * Copies a statement's output files to where readers find them (a day's
 * compacted objects, a checkpoint rewritten by an erasure). S3 copies
 * server-side, each copy at about 100 MB/s, so a large output is copied
 * many files at a time, and across invocations: a copy is atomic (the
 * target is whole or absent), so a target already there with the source's
 * size is one an earlier invocation made and is not copied again. The
 * caller stops starting copies when its invocation runs out of time and
 * resumes in the next.
 */

export interface CopyJob {
  readonly from: StoredObject;
  readonly to: string;
}

/** Copies in flight at once: far below S3's 3,500 writes a second per prefix, enough to copy a 1 B-item day within an invocation. */
export const COPY_CONCURRENCY = 16;

/**
 * Copies every job whose target is not in `present` with the source's size.
 * Returns true once every target is there, false when `hasTime` said stop
 * first (the copies started before that are finished).
 */
export async function copyObjects(
  store: Pick<LakeStore, 'copy'>,
  jobs: readonly CopyJob[],
  present: ReadonlyMap<string, number>,
  hasTime: () => boolean = () => true,
  concurrency: number = COPY_CONCURRENCY,
): Promise<boolean> {
  const todo = jobs.filter((job) => present.get(job.to) !== job.from.size);
  let stopped = false;
  await mapLimit(todo, concurrency, async (job) => {
    if (stopped || !hasTime()) {
      stopped = true;
      return;
    }
    await store.copy(job.from, job.to);
  });
  return !stopped;
}

/** The objects under a listing, by key, with their sizes: what `copyObjects` needs to skip copies already made. */
export const sizesByKey = (objects: readonly StoredObject[]): Map<string, number> => new Map(objects.map((o) => [o.key, o.size]));
