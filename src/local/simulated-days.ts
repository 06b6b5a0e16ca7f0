import type { Item } from '../flatten/attribute-value.ts';
import type { ProgressStream } from '../cli/progress.ts';
import { createProgress, formatCount } from '../cli/progress.ts';
import type { LambdaTotals } from './local-lambda.ts';
import { SEED_DELETE, SEED_ITEMS, SEED_UPDATE, syntheticItem } from './seed.ts';
import type { LocalSession } from './session.ts';

/**
 * --days N: N past days of changes, written through dynalite as on any day
 * of a table's life, their stream records stamped with times spread over
 * each day (ApproximateCreationDateTime decides a row's dt, so each day's
 * records land in that day's partition) and handed to the handler in
 * Lambda-sized batches, one object per batch as the stream writes them.
 *
 * Day 1 inserts the seed's items A1-A3 and the synthetic items; every later
 * day modifies a quarter of the synthetic items, removes one in twenty and
 * puts back the ones removed the day before; the last day also makes the
 * seed's MODIFY of A1 and REMOVE of A3. Which items change is drawn from a
 * fixed seed, so the same N and item count make the same changes (the
 * objects' names differ from run to run: they hash the records, whose
 * eventIDs are random, as in DynamoDB Streams).
 */

export const DAY_MS = 86_400_000;
const MODIFIED = 0.25;
const REMOVED = 0.05;

/** The clock the stream records are stamped with: set by the simulation, read by the session's sequencer. */
export class SimulatedClock {
  private ms: number;
  constructor(ms: number) {
    this.ms = ms;
  }
  now(): number {
    return this.ms;
  }
  set(ms: number): void {
    this.ms = ms;
  }
}

export interface DaysOptions {
  readonly days: number;
  readonly items: number;
  /** Records per handler invocation (the trigger's batch size). */
  readonly batchSize: number;
  /** Midnight UTC of the first simulated day. */
  readonly firstDay: number;
  readonly progress: ProgressStream;
}

export interface DayStats {
  readonly dt: string;
  readonly records: number;
  readonly events: Readonly<Record<'INSERT' | 'MODIFY' | 'REMOVE', number>>;
  readonly objects: number;
  readonly bytes: number;
}

/** One write of the day: a put of a new or changed item, or a delete. */
type Change = { readonly put: Item } | { readonly remove: Item };

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

const dayOf = (ms: number): string => new Date(ms).toISOString().slice(0, 10);

/** Writes the days into the session's table and lake; returns what each day put in the lake. */
export async function simulateDays(session: LocalSession, clock: SimulatedClock, options: DaysOptions): Promise<DayStats[]> {
  const rnd = random(20_261_101);
  const live = new Set<number>();
  const version = new Map<number, number>();
  let removedYesterday: number[] = [];
  const stats: DayStats[] = [];
  const progress = createProgress({ stream: options.progress });
  for (let d = 0; d < options.days; d++) {
    const changes: Change[] = [];
    if (d === 0) {
      for (const item of SEED_ITEMS) changes.push({ put: item });
      for (let i = 0; i < options.items; i++) {
        changes.push({ put: syntheticItem(i) });
        live.add(i);
      }
    } else {
      const removedToday: number[] = [];
      for (let i = 0; i < options.items; i++) {
        if (!live.has(i)) continue;
        const r = rnd();
        if (r < REMOVED) {
          changes.push({ remove: { pk: syntheticItem(i).pk! } });
          live.delete(i);
          removedToday.push(i);
        } else if (r < REMOVED + MODIFIED) {
          const v = (version.get(i) ?? 0) + 1;
          version.set(i, v);
          changes.push({ put: syntheticItem(i, v) });
        }
      }
      for (const i of removedYesterday) {
        changes.push({ put: syntheticItem(i, version.get(i) ?? 0) });
        live.add(i);
      }
      removedYesterday = removedToday;
    }
    const before: LambdaTotals = { ...session.lambda.totals };
    const events = { INSERT: 0, MODIFY: 0, REMOVE: 0 };
    const dayStart = options.firstDay + d * DAY_MS;
    // One Lambda batch per slot of the day, the slots spread evenly from midnight to midnight.
    const slots = Math.max(1, Math.ceil(changes.length / options.batchSize));
    for (let slot = 0; slot < slots; slot++) {
      clock.set(dayStart + Math.floor(((slot + 0.5) * DAY_MS) / slots));
      await write(session, changes.slice(slot * options.batchSize, (slot + 1) * options.batchSize));
      if (d === options.days - 1 && slot === slots - 1) {
        await session.table.update(SEED_UPDATE.key, SEED_UPDATE.input);
        await session.table.delete(SEED_DELETE.key);
      }
      while (session.table.pendingCount > 0) {
        const records = session.table.take(options.batchSize);
        for (const r of records) events[r.eventName]++;
        await session.lambda.invoke(records);
      }
      progress.update((d + (slot + 1) / slots) / options.days, `day ${d + 1}/${options.days} (${dayOf(dayStart)}), ${formatCount(session.lambda.totals.records)} stream records`);
    }
    const t = session.lambda.totals;
    stats.push({ dt: dayOf(dayStart), records: t.records - before.records, events, objects: t.objects - before.objects, bytes: t.bytes - before.bytes });
  }
  progress.done();
  return stats;
}

/** A slot's writes: the puts in one BatchWriteItem round (distinct keys: an item changes once a day), then the deletes. */
async function write(session: LocalSession, changes: readonly Change[]): Promise<void> {
  const puts = changes.flatMap((c) => ('put' in c ? [c.put] : []));
  if (puts.length) await session.table.putMany(puts);
  for (const c of changes) if ('remove' in c) await session.table.delete(c.remove);
}
