import type { ByteOutput } from '../io/byte-output.ts';
import type { LakeStore, StoredObject } from '../lake/lake-store.ts';
import { streamingParquetWriter, type EncodeOptions } from '../lake/parquet-writer.ts';
import { openParquet, type ParquetObject } from '../lake/parquet-reader.ts';
import { ExternalSorter, mergeSorted } from './external-sort.ts';
import { type Layout, layout, maintenanceOrder, pkHash, type Row, rowMapper, toBatch, I } from './rows.ts';

/**
 * How a maintenance job larger than one invocation is split so that no task
 * reads more than `maxTaskBytes` (a shuffle, as a MapReduce does it):
 *
 * - the job's inputs are cut into slices of at most maxTaskBytes (by row
 *   group, so a large object is cut too);
 * - a sort task reads one slice, sorts its rows by (pk-hash bucket, the
 *   maintenance order), reduces what it can (duplicates, superseded
 *   versions) and writes one stage object per bucket;
 * - a merge task reads its bucket's stage object of every sort task (each
 *   already sorted: a k-way merge, no sort) and writes the job's output.
 *
 * A pk lands in one bucket, so every version of an item (and every copy of a
 * row written twice) meets in one merge task. Each task reads about one
 * slice: its time is bounded whatever the day or table size.
 */

/** Row groups [from, to) of one object; dt for an object of a day folder (its rows carry no dt column). */
export interface Piece {
  readonly key: string;
  readonly size: number;
  readonly dt?: string;
  readonly from: number;
  readonly to: number;
  /** Compressed bytes of those row groups. */
  readonly bytes: number;
}

export interface JobInput extends StoredObject {
  readonly dt?: string;
}

export interface DescribedInputs {
  /** Each object's column names (for the union of carried columns). */
  readonly columns: readonly (readonly string[])[];
  /** The inputs in order, cut into slices of at most maxTaskBytes. */
  readonly slices: readonly (readonly Piece[])[];
}

const chunkBytes = (file: ParquetObject, g: number): number => file.metadata.row_groups[g]!.columns.reduce((n, c) => n + Number(c.meta_data?.total_compressed_size ?? 0), 0);

/** Reads the inputs' footers (ranged reads, 32 side by side) and cuts the inputs into slices. */
export async function describeInputs(store: LakeStore, inputs: readonly JobInput[], maxTaskBytes: number): Promise<DescribedInputs> {
  const columns: string[][] = [];
  const slices: Piece[][] = [];
  let slice: Piece[] = [];
  let sliceBytes = 0;
  const add = (piece: Piece): void => {
    if (slice.length && sliceBytes + piece.bytes > maxTaskBytes) {
      slices.push(slice);
      slice = [];
      sliceBytes = 0;
    }
    slice.push(piece);
    sliceBytes += piece.bytes;
  };
  for (let i = 0; i < inputs.length; i += 32) {
    const batch = inputs.slice(i, i + 32);
    const files = await Promise.all(batch.map((o) => openParquet(store, o.key, o.size)));
    files.forEach((file, j) => {
      const o = batch[j]!;
      columns.push([...file.columns]);
      // Consecutive row groups of an object go in one piece until the slice is full.
      let from = 0;
      let bytes = 0;
      for (let g = 0; g < file.rowGroups; g++) {
        const b = chunkBytes(file, g);
        if (g > from && sliceBytes + bytes + b > maxTaskBytes) {
          add({ key: o.key, size: o.size, ...(o.dt ? { dt: o.dt } : {}), from, to: g, bytes });
          from = g;
          bytes = 0;
        }
        bytes += b;
      }
      // An object taken whole is read whole (its footer too): its size is what the task reads.
      if (file.rowGroups > from) add({ key: o.key, size: o.size, ...(o.dt ? { dt: o.dt } : {}), from, to: file.rowGroups, bytes: from === 0 ? o.size : bytes });
    });
  }
  if (slice.length) slices.push(slice);
  return { columns, slices };
}

/**
 * Compressed bytes of row groups read ahead at most (several small objects side by side, one large row
 * group alone). Decoded rows take 10 to 20 times their Parquet bytes in memory, so this stays small:
 * a megabyte is a dozen or more stream objects in flight, which hides S3's latency.
 */
const READ_AHEAD_BYTES = 1024 * 1024;

/**
 * The rows of some pieces in the layout, in order, row group by row group;
 * row groups are fetched ahead (up to READ_AHEAD_BYTES) because a small
 * stream object costs a round trip or two to S3 and decodes in far less.
 */
export async function* pieceRows(store: LakeStore, pieces: readonly Piece[], at: Layout): AsyncGenerator<Row[]> {
  const files = new Map<string, Promise<ParquetObject>>();
  const open = (p: Piece): Promise<ParquetObject> => {
    let f = files.get(p.key);
    if (!f) files.set(p.key, (f = openParquet(store, p.key, p.size)));
    return f;
  };
  const units = pieces.flatMap((p) => Array.from({ length: p.to - p.from }, (_, i) => ({ piece: p, group: p.from + i, bytes: p.bytes / (p.to - p.from) })));
  const load = async (u: (typeof units)[number]): Promise<Row[]> => {
    const file = await open(u.piece);
    const map = rowMapper(file.columns, at, u.piece.dt);
    const rows = (await file.read(u.group)).rows.map(map);
    if (u.group === u.piece.to - 1) files.delete(u.piece.key); // its footer is not needed again
    return rows;
  };
  const inFlight: { rows: Promise<Row[]>; bytes: number }[] = [];
  let next = 0;
  let aheadBytes = 0;
  const topUp = (): void => {
    while (next < units.length && (inFlight.length === 0 || aheadBytes + units[next]!.bytes <= READ_AHEAD_BYTES)) {
      const u = units[next++]!;
      const rows = load(u);
      rows.catch(() => {}); // awaited in order below; a failure surfaces there
      inFlight.push({ rows, bytes: u.bytes });
      aheadBytes += u.bytes;
    }
  };
  topUp();
  while (inFlight.length) {
    const head = inFlight.shift()!;
    aheadBytes -= head.bytes;
    const rows = await head.rows;
    topUp();
    yield rows;
  }
}

/** Output objects of one stream of rows, cut at a target size, each a complete Parquet file of whole row groups. */
export class PartWriter {
  private out?: ByteOutput;
  private writer?: ReturnType<typeof streamingParquetWriter>;
  private pending: Buffer[] = [];
  private bytes = 0;
  private part = 0;
  private key = '';
  readonly outputs: StoredObject[] = [];
  private readonly store: LakeStore;
  private readonly keyOf: (part: number) => string;
  private readonly at: Layout;
  private readonly targetBytes: number;
  private readonly withDt: boolean;
  private readonly encoding: EncodeOptions;
  constructor(store: LakeStore, keyOf: (part: number) => string, at: Layout, options: { targetBytes?: number; withDt: boolean; encoding?: EncodeOptions }) {
    this.store = store;
    this.keyOf = keyOf;
    this.at = at;
    this.targetBytes = options.targetBytes ?? Number.POSITIVE_INFINITY;
    this.withDt = options.withDt;
    this.encoding = options.encoding ?? {};
  }
  async writeGroup(rows: readonly Row[]): Promise<void> {
    if (!rows.length) return;
    if (!this.writer) {
      this.key = this.keyOf(this.part++);
      this.out = await this.store.output(this.key, 'application/vnd.apache.parquet');
      this.writer = streamingParquetWriter(this.at.carried, (chunk) => this.pending.push(chunk), { ...this.encoding, withDt: this.withDt });
      this.bytes = 0;
    }
    this.writer.writeBatch(toBatch(rows, this.at));
    await this.flush();
    if (this.bytes >= this.targetBytes) await this.close();
  }
  private async flush(): Promise<void> {
    for (const chunk of this.pending) {
      this.bytes += chunk.length;
      await this.out!.write(chunk);
    }
    this.pending = [];
  }
  async close(): Promise<void> {
    if (!this.writer) return;
    this.writer.finish();
    await this.flush();
    await this.out!.commit();
    this.outputs.push({ key: this.key, size: this.bytes });
    this.writer = undefined;
    this.out = undefined;
  }
  async abort(): Promise<void> {
    await this.out?.abort();
    this.writer = undefined;
    this.out = undefined;
  }
}

/** Writes a sorted stream of rows through a PartWriter, `rowGroupRows` rows a row group; returns the outputs and the rows written. */
export async function writeParts(rows: AsyncIterable<Row>, parts: PartWriter, rowGroupRows: number): Promise<{ outputs: StoredObject[]; rows: number }> {
  let count = 0;
  try {
    let group: Row[] = [];
    for await (const row of rows) {
      group.push(row);
      count++;
      if (group.length >= rowGroupRows) {
        await parts.writeGroup(group);
        group = [];
      }
    }
    await parts.writeGroup(group);
    await parts.close();
  } catch (error) {
    await parts.abort();
    throw error;
  }
  return { outputs: parts.outputs, rows: count };
}

/** A reduction of a sorted stream (duplicates folded, superseded versions dropped), the same for a slice and for the whole. */
export type Reduce = (rows: AsyncIterable<Row>) => AsyncIterable<Row>;

export interface StageObject extends StoredObject {
  readonly bucket: number;
}

export interface SortTaskOptions {
  readonly at: Layout;
  readonly compare: (a: Row, b: Row) => number;
  readonly buckets: number;
  readonly reduce: Reduce;
  readonly stageKey: (bucket: number) => string;
  readonly memoryRows: number;
  readonly tempDir: string;
  readonly rowGroupRows: number;
}

export const bucketOf = (row: Row, buckets: number): number => pkHash(String(row[I.pk])) % buckets;

/** Rows with the same pk-hash bucket together, then in the maintenance order. */
function bucketOrder(at: Layout, buckets: number, compare: (a: Row, b: Row) => number): (a: Row, b: Row) => number {
  // The bucket is kept past the layout's last column (rows read back from a spilled run compute it again).
  const slot = at.width;
  const bucket = (r: Row): number => (r[slot] as number | undefined) ?? (r[slot] = bucketOf(r, buckets));
  return (a, b) => bucket(a) - bucket(b) || compare(a, b);
}

/** Sort task: one slice's rows, sorted by bucket then key, reduced, one stage object per bucket that has rows. */
export async function sortSlice(store: LakeStore, pieces: readonly Piece[], o: SortTaskOptions): Promise<{ rowsIn: number; stage: StageObject[] }> {
  const sorter = new ExternalSorter({ layout: o.at, compare: bucketOrder(o.at, o.buckets, o.compare), memoryRows: o.memoryRows, tempDir: o.tempDir });
  for await (const rows of pieceRows(store, pieces, o.at)) for (const row of rows) await sorter.add(row);
  const stage: StageObject[] = [];
  const sorted = sorter.sorted();
  let pending: IteratorResult<Row> = await sorted.next();
  while (!pending.done) {
    const bucket = bucketOf(pending.value, o.buckets);
    // The rows of this bucket, handed on until the first row of the next one (kept for the next round).
    async function* ofBucket(): AsyncGenerator<Row> {
      while (!pending.done && bucketOf(pending.value, o.buckets) === bucket) {
        yield pending.value;
        pending = await sorted.next();
      }
    }
    const written = await writeParts(o.reduce(ofBucket()), new PartWriter(store, () => o.stageKey(bucket), o.at, { withDt: true }), o.rowGroupRows);
    for (const out of written.outputs) stage.push({ ...out, bucket });
  }
  return { rowsIn: sorter.rows, stage };
}

/**
 * Rows per row group of a stage object: small enough that a merge, which holds a row group of each
 * sort task's object and fetches the next one ahead, holds about memoryRows rows in all.
 */
export function stageRowGroupRows(memoryRows: number, sortTasks: number): number {
  return Math.max(500, Math.floor(memoryRows / (2 * Math.max(1, sortTasks))));
}

/** What a sort task leaves: its row count and its stage objects, by bucket. */
export interface SortMarker {
  readonly task: number;
  readonly rowsIn: number;
  readonly stage: readonly StageObject[];
}

/** Every sort task's marker of a job (undefined where a task is not done); a job of one slice has none. */
export async function readSortMarkers(store: LakeStore, job: { readonly slices: readonly unknown[] }, markerKey: (task: number) => string): Promise<(SortMarker | undefined)[]> {
  if (job.slices.length <= 1) return [];
  return Promise.all(job.slices.map(async (_, t) => {
    const bytes = await store.read(markerKey(t));
    return bytes === undefined ? undefined : (JSON.parse(Buffer.from(bytes).toString('utf8')) as SortMarker);
  }));
}

/** Sort task `task` of a split job: its slice through sortSlice, then its marker (the merge tasks read the stage from the markers). */
export async function runSortSlice(
  store: LakeStore,
  job: { readonly slices: readonly (readonly Piece[])[]; readonly tasks: number; readonly carried: readonly string[] },
  task: number,
  o: { readonly reduce: Reduce; readonly stageKey: (bucket: number) => string; readonly markerKey: string; readonly memoryRows: number; readonly tempDir: string },
): Promise<void> {
  const at = layout(job.carried);
  const { rowsIn, stage } = await sortSlice(store, job.slices[task]!, {
    at,
    compare: maintenanceOrder(at.width),
    buckets: job.tasks,
    reduce: o.reduce,
    stageKey: o.stageKey,
    memoryRows: o.memoryRows,
    tempDir: o.tempDir,
    rowGroupRows: stageRowGroupRows(o.memoryRows, job.slices.length),
  });
  const marker: SortMarker = { task, rowsIn, stage };
  await store.write(o.markerKey, JSON.stringify(marker), 'application/json');
}

/**
 * A merge task's rows in the maintenance order: its bucket's stage objects
 * merged (`sorted`: every sort task's marker, of a split job), or the job's
 * inputs sorted here (a job of one slice). `rowsIn()` counts what was read.
 */
export async function mergeTaskRows(
  store: LakeStore,
  job: { readonly slices: readonly (readonly Piece[])[] },
  task: number,
  sorted: readonly (SortMarker | undefined)[],
  o: { readonly at: Layout; readonly memoryRows: number; readonly tempDir: string; readonly name: string },
): Promise<{ rows: AsyncIterable<Row>; rowsIn: () => number }> {
  const compare = maintenanceOrder(o.at.width);
  if (job.slices.length > 1) {
    if (sorted.some((m) => m === undefined)) throw new Error(`${o.name}: merge task ${task} started before every sort task was done`);
    const stage = sorted.flatMap((m) => m!.stage.filter((s) => s.bucket === task));
    let count = 0;
    const rows = (async function* () {
      for await (const row of mergeSorted(store, stage, o.at, compare)) {
        count++;
        yield row;
      }
    })();
    return { rows, rowsIn: () => count };
  }
  const sorter = new ExternalSorter({ layout: o.at, compare, memoryRows: o.memoryRows, tempDir: o.tempDir });
  for await (const group of pieceRows(store, job.slices.flat(), o.at)) for (const row of group) await sorter.add(row);
  return { rows: sorter.sorted(), rowsIn: () => sorter.rows };
}
