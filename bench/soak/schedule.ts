import { between, random, type Random } from './random.ts';

/**
 * When records are written. Traffic comes in bursts (a job, a sale), quiet
 * in between, spread over several days. Every shard follows the same
 * bursts, so shards write in the same seconds; inside a burst a shard
 * writes 20 to 200 records a second, so the batching window (5 s) cuts
 * batches of a hundred to a thousand records. A burst is placed across
 * every midnight of the span, so batches, their retries and their bisected
 * halves cross a date partition at any volume. Every 25th burst, from the
 * fourth, starts with a bulk import of items near 400 KB, so batches there
 * are cut by Lambda's 6 MB payload limit.
 */

const DAY = 86_400;
/** Records at the start of a bulk burst that are near 400 KB. */
const BULK_RECORDS = 20;

export interface ScheduleOptions {
  readonly seed: number;
  /** The largest shard's record count: bursts are sized so there are some dozens of them. */
  readonly recordsPerShard: number;
  /** Epoch seconds of the first burst. */
  readonly start: number;
  readonly days: number;
}

interface Burst {
  readonly start: number;
  readonly size: number;
  /** Records per second, per shard. */
  readonly rate: number;
}

/** A cursor over one shard's write times; every shard's cursor gives the same times for the same index. */
export class Schedule {
  private readonly rnd: Random;
  private readonly mean: number;
  private readonly slot: number;
  private readonly options: ScheduleOptions;
  private burst: Burst | undefined;
  private index = -1;
  private inBurst = 0;
  /** Whether the record of the last next() is part of a bulk import of large items. */
  bulk = false;

  constructor(options: ScheduleOptions) {
    this.options = options;
    this.rnd = random(options.seed, 0x5c4ed);
    this.mean = Math.min(3000, Math.max(200, Math.round(options.recordsPerShard / 40)));
    this.slot = (options.days * DAY) / Math.max(1, Math.ceil(options.recordsPerShard / this.mean));
    this.nextBurst();
  }

  private nextBurst(): void {
    this.index++;
    const size = between(this.rnd, Math.ceil(this.mean / 2), Math.floor((this.mean * 3) / 2));
    const drawnRate = between(this.rnd, 20, 200);
    const share = 0.2 + 0.2 * this.rnd();
    const planned = this.options.start + Math.floor(this.index * this.slot);
    // The first midnight at or after the slot's start (a slot may begin exactly at one).
    const nextMidnight = Math.ceil(planned / DAY) * DAY;
    const straddles = nextMidnight < planned + this.slot;
    // The burst of the slot holding a midnight straddles it, a fifth to two fifths in (off the middle,
    // so a batch that crosses it still has a half that crosses it when bisected), and lasts at least
    // 10 s, so some 5 s batch holds seconds on both sides.
    const rate = straddles ? Math.max(1, Math.min(drawnRate, Math.floor(size / 10))) : drawnRate;
    const placed = straddles ? nextMidnight - Math.max(2, Math.floor((size / rate) * share)) : planned;
    // Never before the previous burst's end: a shard's times only go forward, as an item's versions do.
    const previousEnd = this.burst ? this.burst.start + Math.ceil(this.burst.size / this.burst.rate) : -Infinity;
    this.burst = { start: Math.max(placed, previousEnd), size, rate };
    this.inBurst = 0;
  }

  /** Epoch seconds of the next record. */
  next(): number {
    if (this.inBurst >= this.burst!.size) this.nextBurst();
    this.bulk = this.index % 25 === 3 && this.inBurst < BULK_RECORDS;
    return this.burst!.start + Math.floor(this.inBurst++ / this.burst!.rate);
  }
}
