import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { writeEmitted, type ByteOutput } from '../io/byte-output.ts';
import { streamingParquetWriter, type EncodeOptions } from '../lake/parquet-writer.ts';
import { FolderStore, type LakeStore, type StoredObject } from '../lake/lake-store.ts';
import { openParquet, type ParquetObject } from '../lake/parquet-reader.ts';
import { type Layout, type Row, rowMapper, toBatch } from './rows.ts';

/**
 * Sorting more rows than memory holds: rows are gathered up to a budget,
 * sorted and spilled to a local folder as Parquet runs (the lake's own
 * format: compact, and read back a row group at a time), then merged. At
 * most `fanIn` runs are merged at once; with more, runs are merged into
 * longer runs first. Memory stays about `memoryRows` rows whatever the
 * input size; disk holds about one copy of the input, compressed.
 */

export interface SortOptions {
  readonly layout: Layout;
  readonly compare: (a: Row, b: Row) => number;
  /** Rows held before a run is spilled. */
  readonly memoryRows: number;
  /** Where runs go (the Lambda's /tmp, the system temp folder). */
  readonly tempDir: string;
}

/** Rows per row group in a spilled run: small, so a merge holds one row group of each of many runs. */
function runRowGroupRows(memoryRows: number, fanIn: number): number {
  return Math.max(500, Math.floor(memoryRows / (2 * fanIn)));
}

export const FAN_IN = 32;

/** A sorted Parquet object read row group by row group, the next group fetched while this one is merged. */
class RunReader {
  private group = 0;
  private rows: Row[] = [];
  private at = 0;
  private ahead?: Promise<Row[]>;
  private readonly map: (r: unknown[]) => Row;
  private readonly file: ParquetObject;
  private constructor(file: ParquetObject, layout: Layout) {
    this.file = file;
    this.map = rowMapper(file.columns, layout);
  }
  static async open(store: LakeStore, key: string, size: number, layout: Layout): Promise<RunReader> {
    const r = new RunReader(await openParquet(store, key, size), layout);
    await r.fill();
    return r;
  }
  private fetch(): Promise<Row[]> | undefined {
    if (this.group >= this.file.rowGroups) return undefined;
    return this.file.read(this.group++).then((g) => g.rows.map(this.map));
  }
  private async fill(): Promise<void> {
    while (this.at >= this.rows.length) {
      const next = this.ahead ?? this.fetch();
      if (!next) return;
      this.rows = await next;
      this.at = 0;
      // S3 answers in tens of milliseconds: ask for the next group now, not when this one is used up.
      this.ahead = this.fetch();
    }
  }
  get head(): Row | undefined {
    return this.at < this.rows.length ? this.rows[this.at] : undefined;
  }
  async next(): Promise<void> {
    this.at++;
    if (this.at >= this.rows.length) await this.fill();
  }
}

/** Sorted objects (sort runs, a shuffle's stage objects) merged into one sorted stream. */
export async function* mergeSorted(store: LakeStore, objects: readonly StoredObject[], layout: Layout, compare: (a: Row, b: Row) => number): AsyncGenerator<Row> {
  const heap = new Heap(compare);
  const readers = await Promise.all(objects.map((o) => RunReader.open(store, o.key, o.size, layout)));
  for (const reader of readers) if (reader.head !== undefined) heap.push(reader);
  while (heap.size) {
    const top = heap.peek();
    yield top.head!;
    await top.next();
    heap.fix();
  }
}

/** A binary heap of run readers ordered by their head row. */
class Heap {
  private readonly items: RunReader[] = [];
  private readonly compare: (a: Row, b: Row) => number;
  constructor(compare: (a: Row, b: Row) => number) {
    this.compare = compare;
  }
  get size(): number {
    return this.items.length;
  }
  push(r: RunReader): void {
    this.items.push(r);
    this.up(this.items.length - 1);
  }
  peek(): RunReader {
    return this.items[0]!;
  }
  /** After the top reader advanced: drop it if exhausted, else restore the order. */
  fix(): void {
    if (this.peek().head === undefined) {
      const last = this.items.pop()!;
      if (this.items.length) {
        this.items[0] = last;
        this.down(0);
      }
    } else this.down(0);
  }
  private less(i: number, j: number): boolean {
    return this.compare(this.items[i]!.head!, this.items[j]!.head!) < 0;
  }
  private up(i: number): void {
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(i, p)) return;
      [this.items[i], this.items[p]] = [this.items[p]!, this.items[i]!];
      i = p;
    }
  }
  private down(i: number): void {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < this.items.length && this.less(l, m)) m = l;
      if (r < this.items.length && this.less(r, m)) m = r;
      if (m === i) return;
      [this.items[i], this.items[m]] = [this.items[m]!, this.items[i]!];
      i = m;
    }
  }
}

export class ExternalSorter {
  private buffer: Row[] = [];
  private readonly runs: { key: string; size: number }[] = [];
  private readonly dir: string;
  private readonly store: FolderStore;
  private runCount = 0;
  /** Rows added so far. */
  rows = 0;

  private readonly options: SortOptions;
  constructor(options: SortOptions) {
    this.options = options;
    this.dir = mkdtempSync(join(options.tempDir, 'ddb-flatten-sort-'));
    this.store = new FolderStore(this.dir);
  }

  async add(row: Row): Promise<void> {
    this.buffer.push(row);
    this.rows++;
    if (this.buffer.length >= this.options.memoryRows) await this.spill();
  }

  /** Writes rows (sorted) as one run: a Parquet file with small row groups, encoded group by group. */
  private async writeRun(rows: Iterable<Row> | AsyncIterable<Row>): Promise<{ key: string; size: number }> {
    const key = `run-${String(this.runCount++).padStart(6, '0')}.parquet`;
    const perGroup = runRowGroupRows(this.options.memoryRows, FAN_IN);
    const out = await this.store.output(key);
    const { layout } = this.options;
    const size = await writeRowGroups(out, layout, rows, perGroup);
    return { key, size };
  }

  private async spill(): Promise<void> {
    if (!this.buffer.length) return;
    this.buffer.sort(this.options.compare);
    this.runs.push(await this.writeRun(this.buffer));
    this.buffer = [];
  }

  /** Merges runs into one sorted stream. */
  private merge(runs: readonly { key: string; size: number }[]): AsyncGenerator<Row> {
    return mergeSorted(this.store, runs, this.options.layout, this.options.compare);
  }

  /** Every row added, in order. Call once; the temporary runs are removed at the end. */
  async *sorted(): AsyncGenerator<Row> {
    try {
      if (this.runs.length === 0) {
        // Everything fitted in memory: no disk at all.
        this.buffer.sort(this.options.compare);
        yield* this.buffer;
        return;
      }
      await this.spill();
      let runs = [...this.runs];
      // More runs than can be merged at once: merge groups of them into longer runs first.
      while (runs.length > FAN_IN) {
        const next: { key: string; size: number }[] = [];
        for (let i = 0; i < runs.length; i += FAN_IN) {
          const group = runs.slice(i, i + FAN_IN);
          next.push(await this.writeRun(this.merge(group)));
          await this.store.delete(group.map((r) => r.key));
        }
        runs = next;
      }
      yield* this.merge(runs);
    } finally {
      rmSync(this.dir, { recursive: true, force: true });
    }
  }

}


/**
 * Streams rows into a Parquet file on `out`, `perGroup` rows per row group,
 * each group encoded and written before the next is gathered (memory: one
 * row group). `withDt`: the rows' dt as a column (runs and checkpoints; lake
 * objects have it in their path instead); `encoding`: how hard to work for size
 * (CHECKPOINT_ENCODING for a checkpoint; runs are read once and deleted). Returns the bytes written.
 */
export async function writeRowGroups(
  out: ByteOutput,
  layout: Layout,
  rows: Iterable<Row> | AsyncIterable<Row>,
  perGroup: number,
  options: { withDt: boolean; encoding?: EncodeOptions } = { withDt: true },
): Promise<number> {
  return writeEmitted(out, async (emit, flush) => {
    const writer = streamingParquetWriter(layout.carried, emit, { ...options.encoding, withDt: options.withDt });
    let group: Row[] = [];
    for await (const row of rows) {
      group.push(row);
      if (group.length >= perGroup) {
        writer.writeBatch(toBatch(group, layout));
        group = [];
        await flush();
      }
    }
    if (group.length) writer.writeBatch(toBatch(group, layout));
    writer.finish();
  });
}
