import { writeEmitted } from '../io/byte-output.ts';
import type { ColumnSpec } from '../schema/row-schema.ts';
import type { LakeStore, StoredObject } from './lake-store.ts';
import { LakeReadError } from './parquet-reader.ts';
import { CREATED_BY } from './parquet-writer.ts';
import { ParquetFileWriter, type EncodedChunk } from './parquet/encoder.ts';
import { readThriftStruct, type ThriftFields, type ThriftRead } from './parquet/thrift-reader.ts';

/**
 * Parquet files joined into one without decoding a value: the column
 * chunks' bytes are copied as they are and only the footer is written anew
 * (offsets moved, everything else carried over, statistics byte for byte).
 * It costs a read and a write of the bytes, no CPU to speak of, which is
 * what lets one invocation turn a split day's per-bucket outputs into
 * objects of the target size.
 *
 * Only files of this project's writer are joined (one schema, flat
 * columns, no page indexes or bloom filters): anything else is refused
 * with the reason, never copied half-understood.
 */

/** One column chunk as the footer describes it; `offset` is where its bytes start in the file. */
export interface FooterChunk extends Omit<EncodedChunk, 'bytes'> {
  readonly offset: number;
}

export interface FooterRowGroup {
  readonly rows: number;
  /** The byte range [start, end) that holds the row group's chunks. */
  readonly start: number;
  readonly end: number;
  readonly chunks: readonly FooterChunk[];
}

export interface ParquetFooter {
  readonly columns: readonly string[];
  readonly rowGroups: readonly FooterRowGroup[];
  readonly rows: number;
}

/** Bytes read from the end of a file for its footer: one request for the footers this writer makes. */
const FOOTER_GUESS = 64 * 1024;

const field = (s: ThriftFields, id: number, what: string): ThriftRead => {
  const v = s.get(id);
  if (v === undefined) throw new Error(`${what} (field ${id}) is missing`);
  return v;
};
const num = (v: ThriftRead | undefined): number => (typeof v === 'bigint' ? Number(v) : (v as number));
const text = (v: ThriftRead): string => Buffer.from(v as Uint8Array).toString('utf8');

async function readRange(store: LakeStore, key: string, start: number, end: number): Promise<Uint8Array> {
  try {
    return await store.readRange(key, start, end);
  } catch (error) {
    throw new LakeReadError(store.describe(key), start, end, error);
  }
}

/** A file's footer, read as raw Thrift (no value converted): its columns and each chunk's place and metadata. */
export async function readFooter(store: LakeStore, object: StoredObject): Promise<ParquetFooter> {
  const where = store.describe(object.key);
  if (object.size < 12) throw new Error(`${where}: not a Parquet file (${object.size} bytes)`);
  const guess = Math.min(object.size, FOOTER_GUESS);
  let tail = await readRange(store, object.key, object.size - guess, object.size);
  const magic = Buffer.from(tail.subarray(tail.length - 4)).toString('latin1');
  if (magic !== 'PAR1') throw new Error(`${where}: not a Parquet file (no PAR1 at its end)`);
  const length = Buffer.from(tail.buffer, tail.byteOffset, tail.byteLength).readUInt32LE(tail.length - 8);
  if (length + 12 > object.size) throw new Error(`${where}: footer of ${length} bytes does not fit in the file`);
  if (length + 8 > tail.length) tail = await readRange(store, object.key, object.size - 8 - length, object.size);
  let meta: ThriftFields;
  try {
    meta = readThriftStruct(tail.subarray(tail.length - 8 - length, tail.length - 8)).fields;
  } catch (error) {
    throw new Error(`${where}: the footer does not decode (${(error as Error).message})`);
  }
  try {
    return footerOf(meta);
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
}

function footerOf(meta: ThriftFields): ParquetFooter {
  const schema = field(meta, 2, 'schema') as ThriftFields[];
  const columns = schema.slice(1).map((e) => {
    if (e.has(5)) throw new Error(`column ${text(field(e, 4, 'name'))} is nested: only flat files are joined`);
    return text(field(e, 4, 'name'));
  });
  const rowGroups = (field(meta, 4, 'row_groups') as ThriftFields[]).map((g, i) => {
    const chunks = (field(g, 1, 'columns') as ThriftFields[]).map((c, j): FooterChunk => {
      const name = columns[j];
      if (c.has(4) || c.has(6)) throw new Error(`row group ${i}, column ${name}: has a page index, which joining does not carry over`);
      if (c.has(1)) throw new Error(`row group ${i}, column ${name}: its data is in another file`);
      const m = field(c, 3, 'meta_data') as ThriftFields;
      if (m.has(14)) throw new Error(`row group ${i}, column ${name}: has a bloom filter, which joining does not carry over`);
      const data = num(field(m, 9, 'data_page_offset'));
      const dictionary = m.has(11) ? num(m.get(11)) : undefined;
      const offset = dictionary ?? data;
      const stats = m.get(12) as ThriftFields | undefined;
      return {
        offset,
        codecId: num(field(m, 4, 'codec')),
        encodings: (field(m, 2, 'encodings') as number[]).slice(),
        numValues: num(field(m, 5, 'num_values')),
        uncompressedSize: num(field(m, 6, 'total_uncompressed_size')),
        compressedSize: num(field(m, 7, 'total_compressed_size')),
        dataPageOffset: data - offset,
        hasDictionaryPage: dictionary !== undefined,
        nullCount: num(stats?.get(3) ?? 0n),
        ...(stats?.has(5) && stats.has(6) ? { max: stats.get(5) as Uint8Array, min: stats.get(6) as Uint8Array } : {}),
      };
    });
    if (chunks.length !== columns.length) throw new Error(`row group ${i} has ${chunks.length} column chunks for ${columns.length} columns`);
    const start = Math.min(...chunks.map((c) => c.offset));
    const end = Math.max(...chunks.map((c) => c.offset + c.compressedSize));
    return { rows: num(field(g, 3, 'num_rows')), start, end, chunks };
  });
  return { columns, rowGroups, rows: num(field(meta, 3, 'num_rows')) };
}

/** Row groups read ahead while one is written: the copy waits on S3, not on itself. */
const READ_AHEAD_GROUPS = 4;

/**
 * Writes `inputs`, in order, as one Parquet file at `key` with the given
 * columns (every input must have exactly these), row group by row group;
 * nothing is visible at `key` until the whole file is stored.
 */
export async function stitchParquet(store: LakeStore, inputs: readonly StoredObject[], columns: readonly ColumnSpec[], key: string): Promise<StoredObject & { rows: number }> {
  const names = columns.map((c) => c.name);
  const footers: ParquetFooter[] = [];
  for (let i = 0; i < inputs.length; i += 16) footers.push(...(await Promise.all(inputs.slice(i, i + 16).map((o) => readFooter(store, o)))));
  footers.forEach((f, i) => {
    if (f.columns.join(',') !== names.join(',')) {
      throw new Error(`${store.describe(inputs[i]!.key)}: columns ${f.columns.join(', ')} are not the joined file's ${names.join(', ')}`);
    }
  });
  const groups = footers.flatMap((f, i) => f.rowGroups.map((g) => ({ object: inputs[i]!, group: g })));
  const fetch = (i: number): Promise<Uint8Array> => {
    const { object, group } = groups[i]!;
    const read = readRange(store, object.key, group.start, group.end);
    read.catch(() => {}); // awaited in order below
    return read;
  };
  let rows = 0;
  const size = await writeEmitted(await store.output(key, 'application/vnd.apache.parquet'), async (emit, flush) => {
    const writer = new ParquetFileWriter(columns, emit, { codec: 'ZSTD', createdBy: CREATED_BY });
    const ahead: Promise<Uint8Array>[] = [];
    for (let i = 0; i < Math.min(READ_AHEAD_GROUPS, groups.length); i++) ahead.push(fetch(i));
    for (let i = 0; i < groups.length; i++) {
      const bytes = await ahead.shift()!;
      if (i + READ_AHEAD_GROUPS < groups.length) ahead.push(fetch(i + READ_AHEAD_GROUPS));
      const { object, group } = groups[i]!;
      if (bytes.length !== group.end - group.start) throw new Error(`${store.describe(object.key)}: read ${bytes.length} bytes of row group bytes ${group.start}-${group.end}`);
      writer.appendRowGroup({
        rowCount: group.rows,
        chunks: group.chunks.map(({ offset, ...chunk }) => ({ ...chunk, bytes: bytes.subarray(offset - group.start, offset - group.start + chunk.compressedSize) })),
      });
      rows += group.rows;
      await flush();
    }
    writer.finish();
  });
  return { key, size, rows };
}
