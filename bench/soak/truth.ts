import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { padSequence } from '../../src/flatten/flatten.ts';
import { keyNames, POISON_KINDS, type PoisonKind } from './items.ts';
import { sequenceOf, type Planned, type WorkloadOptions } from './workload.ts';

/**
 * What the lake must end up showing, kept as the workload is generated and
 * independent of anything the pipeline does: for every item the sequence
 * number of its latest valid record (the current view must show exactly
 * that version's rows, or nothing if it is a REMOVE), and the sequence
 * numbers of the poison records (the quarantine must hold exactly those).
 * Per item, not per record: memory grows with the keys, not the records.
 */
export class Truth {
  readonly options: WorkloadOptions;
  /** Per shard, per local item: index j of its latest valid record, -1 for none. */
  private readonly latest: Int32Array[] = [];
  private readonly keys: Int32Array[] = [];
  /** Sequence numbers of poison records (a small share of the records). */
  readonly poison = new Set<string>();
  readonly poisonByKind: Record<PoisonKind, number> = Object.fromEntries(POISON_KINDS.map((k) => [k, 0])) as Record<PoisonKind, number>;
  readonly ops = { INSERT: 0, MODIFY: 0, REMOVE: 0, reinserts: 0 };
  /** Write seconds, as a bit mask of the shards that wrote in them. */
  private readonly seconds = new Map<number, number>();
  records = 0;
  /** Valid versions near 400 KB. */
  nearLimit = 0;

  constructor(options: WorkloadOptions) {
    this.options = options;
  }

  /** Registers a shard's items (ShardWorkload.keys) before its first record. */
  addShard(shard: number, keys: Int32Array): void {
    this.keys[shard] = keys;
    this.latest[shard] = new Int32Array(keys.length).fill(-1);
  }

  observe(shard: number, p: Planned & { local: number }): void {
    this.records++;
    this.seconds.set(p.time, (this.seconds.get(p.time) ?? 0) | (1 << shard));
    if (p.poison) {
      this.poison.add(p.sequence.toString());
      this.poisonByKind[p.poison]++;
      return;
    }
    this.ops[p.op]++;
    if (p.newBig) this.nearLimit++;
    if (p.op === 'INSERT' && p.newVersion > 1) this.ops.reinserts++;
    this.latest[shard]![p.local] = p.j;
  }

  /** Seconds in which two or more shards wrote. */
  sharedSeconds(): number {
    let n = 0;
    for (const mask of this.seconds.values()) if (mask & (mask - 1)) n++;
    return n;
  }

  /** Items with at least one valid record. */
  itemsSeen(): number {
    let n = 0;
    for (const latest of this.latest) for (const j of latest) if (j >= 0) n++;
    return n;
  }

  /** Writes (pk, sk, sequence) of every item's latest valid version as CSV, for DuckDB. */
  async writeLatestCsv(path: string): Promise<void> {
    const out = createWriteStream(path);
    const quote = (s: string): string => `"${s.replaceAll('"', '""')}"`;
    out.write('pk,sk,sequence\n');
    for (let shard = 0; shard < this.latest.length; shard++) {
      const latest = this.latest[shard]!;
      const keys = this.keys[shard]!;
      for (let local = 0; local < latest.length; local++) {
        const j = latest[local]!;
        if (j < 0) continue;
        const { pk, sk } = keyNames(keys[local]!);
        if (!out.write(`${quote(pk)},${quote(sk)},${padSequence(sequenceOf(this.options, shard, j).toString())}\n`)) await once(out, 'drain');
      }
    }
    out.end();
    await once(out, 'finish');
  }
}
