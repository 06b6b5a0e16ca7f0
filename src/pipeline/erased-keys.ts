import { createHash } from 'node:crypto';
import type { FlattenConfig } from '../flatten/flatten.ts';
import { keyText } from '../flatten/flatten.ts';
import { eventTimeMs, type StreamRecordLike } from '../flatten/stream-record.ts';

/**
 * The erasures in flight, as the stream handler sees them: for each, the
 * SHA-256 hashes of its keys (never the keys) and its cutoff. A record of an
 * erased key older than the cutoff (a batch retried late, a redrive) would
 * bring erased history back: the handler drops it instead of writing it.
 * A record newer than the cutoff is new data and is written.
 *
 * The maintenance keeps the list in <state>/erasures/active.json
 * (src/maintenance/erasure.ts); the handler reads it at most once a minute.
 * Rows a container writes in that minute, and any other late path, are
 * removed by the erasure's sweep.
 */

export interface ActiveErasure {
  readonly id: string;
  /** Epoch ms: records of the keys before it are erased. */
  readonly cutoff: number;
  readonly keyHashes: readonly string[];
}

export interface ActiveErasures {
  readonly erasures: readonly ActiveErasure[];
}

/** The hash an erasure names a key by: SHA-256 of pk, NUL, sk (empty for a pk alone: every item of the pk). */
export function keyHashOf(pk: string, sk: string | undefined): string {
  return createHash('sha256').update(`${pk}\0${sk ?? ''}`).digest('hex');
}

/** Whether a stream record is erased history: its key's (or its pk's) hash in an erasure whose cutoff is after it. */
export type ErasedRecordTest = (record: StreamRecordLike) => boolean;

export function erasedRecordTest(active: ActiveErasures, flatten: Pick<FlattenConfig, 'partitionKey' | 'sortKey'>): ErasedRecordTest | undefined {
  if (active.erasures.length === 0) return undefined;
  const cutoffs = new Map<string, number>();
  for (const e of active.erasures) for (const h of e.keyHashes) cutoffs.set(h, Math.max(cutoffs.get(h) ?? 0, e.cutoff));
  return (record) => {
    try {
      const keys = record.dynamodb?.Keys;
      if (!keys) return false;
      const pk = keyText(keys[flatten.partitionKey], flatten.partitionKey, 'erasure');
      const sk = flatten.sortKey === undefined ? undefined : keyText(keys[flatten.sortKey], flatten.sortKey, 'erasure');
      const cutoff = Math.max(cutoffs.get(keyHashOf(pk, sk)) ?? 0, cutoffs.get(keyHashOf(pk, undefined)) ?? 0);
      return cutoff > 0 && eventTimeMs(record.dynamodb?.ApproximateCreationDateTime, 'erasure') < cutoff;
    } catch {
      // A record whose key or time cannot be read is not judged here: it is flattened (or quarantined) as any other.
      return false;
    }
  };
}

/** The list read through `read` (undefined: none), kept for `ttlMs`; a failed read keeps the last list (a batch is never failed for it). */
export function cachedErasures(read: () => Promise<Uint8Array | undefined>, ttlMs = 60_000, clock: () => number = Date.now): () => Promise<ActiveErasures> {
  let last: ActiveErasures = { erasures: [] };
  let readAt = Number.NEGATIVE_INFINITY;
  return async () => {
    if (clock() - readAt < ttlMs) return last;
    try {
      const bytes = await read();
      last = bytes === undefined ? { erasures: [] } : (JSON.parse(Buffer.from(bytes).toString('utf8')) as ActiveErasures);
      readAt = clock();
    } catch {
      // Kept: the sweep removes what a stale list lets through.
    }
    return last;
  };
}
