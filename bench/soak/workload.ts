import type { DynamoDBRecord } from 'aws-lambda';
import { STREAM_ARN, streamRecord } from '../../test/support/stream-events.ts';
import { itemImage, keyAttributes, partitionIndex, poisonImage, poisonKind, type PoisonKind } from './items.ts';
import { below, random, type Random } from './random.ts';
import { Schedule } from './schedule.ts';

/**
 * The soak's stream: inserts, modifies, removes and re-inserts over K items
 * split into S shards by partition key, some items hot, some records poison.
 *
 * Memory does not grow with the record count: a shard keeps, per item, its
 * version counter and whether it exists, and an image is regenerated from
 * (seed, item, version) whenever it is needed (NewImage now, OldImage at the
 * item's next change). Deciding the next record (the plan) is separate from
 * building it, so a shard can be replayed cheaply from its start to any
 * sequence number: that is how the redrive's stream reader serves ranges.
 */

export interface WorkloadOptions {
  readonly seed: number;
  readonly records: number;
  readonly keys: number;
  readonly shards: number;
  /** Days the traffic spans (it crosses each midnight in them). */
  readonly days: number;
  /** Share of INSERT/MODIFY records that are malformed (quarantined by the handler). */
  readonly poisonRate: number;
  /** Share of item versions near the 400 KB limit, besides the bulk imports (schedule.ts). */
  readonly bigRate: number;
}

/** 2026-11-20T18:00:00Z: the first midnight comes six hours in. */
export const START = Date.UTC(2026, 10, 20, 18) / 1000;
/** Sequence numbers of every shard interleave: record j of shard s is BASE + j·S + s. */
const BASE = 4_421_584_500_000_000_017_450_000_000n;
const REMOVE_RATE = 0.15;
const HOT_RATE = 0.2;
const FORCED_POISON_AT: readonly ((count: number) => number)[] = [() => 11, (count) => Math.floor(count / 2)];

export type Op = 'INSERT' | 'MODIFY' | 'REMOVE';

/** One planned record: what it is, before its images are built. */
export interface Planned {
  readonly j: number;
  readonly k: number;
  readonly op: Op;
  /** Version of NewImage (INSERT/MODIFY), or of the would-be version a poison record corrupts. */
  readonly newVersion: number;
  /** Version of OldImage (MODIFY/REMOVE), 0 for none. */
  readonly oldVersion: number;
  /** Whether NewImage / OldImage are near 400 KB. */
  readonly newBig: boolean;
  readonly oldBig: boolean;
  readonly poison: PoisonKind | undefined;
  readonly time: number;
  readonly sequence: bigint;
}

export function shardIdOf(shard: number): string {
  return `shardId-00000001763661600000-${(0x5a0c0000 + shard).toString(16)}`;
}

export function shardOfId(shardId: string): number | undefined {
  const m = /^shardId-00000001763661600000-([0-9a-f]{8})$/.exec(shardId);
  const n = m ? parseInt(m[1]!, 16) - 0x5a0c0000 : NaN;
  return Number.isInteger(n) && n >= 0 ? n : undefined;
}

export function recordsOfShard(options: WorkloadOptions, shard: number): number {
  return Math.floor(options.records / options.shards) + (shard < options.records % options.shards ? 1 : 0);
}

/** Item ids of a shard: those whose partition key hashes to it (here: pk index mod S). */
export function keysOfShard(options: WorkloadOptions, shard: number): Int32Array {
  const out: number[] = [];
  for (let k = 0; k < options.keys; k++) if (partitionIndex(k) % options.shards === shard) out.push(k);
  return Int32Array.from(out);
}

export function sequenceOf(options: WorkloadOptions, shard: number, j: number): bigint {
  return BASE + BigInt(j) * BigInt(options.shards) + BigInt(shard);
}

export class ShardWorkload {
  readonly shard: number;
  readonly count: number;
  readonly keys: Int32Array;
  private readonly options: WorkloadOptions;
  private readonly rnd: Random;
  private readonly schedule: Schedule;
  /** Per local item: versions written so far (0: never), and whether it exists now. */
  private readonly version: Uint32Array;
  private readonly live: Uint8Array;
  /** Whether the item's current version is near 400 KB (its next OldImage). */
  private readonly big: Uint8Array;
  private readonly hot: number;
  private j = 0;
  /** How many of the forced poison records were placed. */
  private forcedPoison = 0;

  constructor(options: WorkloadOptions, shard: number) {
    this.options = options;
    this.shard = shard;
    this.count = recordsOfShard(options, shard);
    this.keys = keysOfShard(options, shard);
    if (this.keys.length === 0) throw new Error(`shard ${shard} has no keys: use at least ${options.shards * 2} keys for ${options.shards} shards`);
    this.rnd = random(options.seed, 0x9a7e, shard);
    this.schedule = new Schedule({ seed: options.seed, recordsPerShard: recordsOfShard(options, 0), start: START, days: options.days });
    this.version = new Uint32Array(this.keys.length);
    this.live = new Uint8Array(this.keys.length);
    this.big = new Uint8Array(this.keys.length);
    this.hot = Math.max(1, Math.floor(this.keys.length / 100));
  }

  /** Index of the next record. */
  get position(): number {
    return this.j;
  }

  /** Decides the next record and advances the shard's state; undefined at the shard's end. */
  plan(): (Planned & { local: number }) | undefined {
    if (this.j >= this.count) return undefined;
    const r = this.rnd;
    const j = this.j++;
    const local = r() < HOT_RATE ? below(r, this.hot) : below(r, this.keys.length);
    const k = this.keys[local]!;
    const exists = this.live[local] === 1;
    const op: Op = !exists ? 'INSERT' : r() < REMOVE_RATE ? 'REMOVE' : 'MODIFY';
    // Besides its rate, the first INSERT/MODIFY from index 11 on and from the middle of the shard on is
    // poison, so every shard has poison early and in a batch that the outage forced there can hit (faults.ts).
    const forced = this.forcedPoison < FORCED_POISON_AT.length && j >= FORCED_POISON_AT[this.forcedPoison]!(this.count);
    const poison = (r() < this.options.poisonRate || forced) && op !== 'REMOVE';
    if (poison && forced) this.forcedPoison++;
    const before = this.version[local]!;
    const oldVersion = exists ? before : 0;
    const oldBig = exists && this.big[local] === 1;
    const time = this.schedule.next();
    const newBig = (r() < this.options.bigRate || this.schedule.bulk) && op !== 'REMOVE' && !poison;
    const sequence = sequenceOf(this.options, this.shard, j);
    if (poison) {
      // A malformed record changes nothing: the item stays as it was (and the lake shows that version).
      return { j, k, local, op, newVersion: before + 1, oldVersion, newBig, oldBig, poison: poisonKind(this.options.seed, k, before + 1), time, sequence };
    }
    if (op === 'REMOVE') this.live[local] = 0;
    else {
      this.version[local] = before + 1;
      this.live[local] = 1;
      this.big[local] = newBig ? 1 : 0;
    }
    return { j, k, local, op, newVersion: op === 'REMOVE' ? 0 : before + 1, oldVersion, newBig, oldBig, poison: undefined, time, sequence };
  }

  /** Plans (without building) up to index j. */
  skipTo(j: number): void {
    while (this.j < Math.min(j, this.count)) this.plan();
  }

  /** The record as Lambda delivers it, with its SizeBytes (keys and images, about their JSON length). */
  build(p: Planned): DynamoDBRecord {
    const { seed } = this.options;
    const keys = keyAttributes(p.k);
    const next = p.poison ? poisonImage(seed, p.k, p.newVersion, { big: false }) : p.op === 'REMOVE' ? undefined : itemImage(seed, p.k, p.newVersion, { big: p.newBig });
    const old = p.oldVersion > 0 ? itemImage(seed, p.k, p.oldVersion, { big: p.oldBig }) : undefined;
    return streamRecord({
      eventName: p.op,
      keys,
      newImage: next?.item,
      oldImage: old?.item,
      at: p.time,
      sequence: p.sequence,
      sizeBytes: 60 + (next?.bytes ?? 0) + (old?.bytes ?? 0),
    });
  }
}

export { STREAM_ARN };
