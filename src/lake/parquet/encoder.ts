import type { ColumnSpec } from '../../schema/row-schema.ts';
import { ByteBuffer } from './byte-buffer.ts';
import { CODEC_IDS, compress, type CodecName } from './compress.ts';
import { bitWidthFor, encodeHybrid } from './rle.ts';
import { binary, bool, encodeStruct, i32, i64, list, struct, type EncodedStruct, type ThriftStruct } from './thrift.ts';

/**
 * A column-fed Parquet encoder for the flat row schema. It takes the
 * engine's column arrays as they are (no row objects, no per-value
 * conversion), dictionary-encodes every column whose values repeat (pk,
 * sequence, event columns repeat for every leaf of an item), writes levels
 * and indices with the RLE/bit-packing hybrid and compresses pages with
 * ZSTD. Output is Parquet format 1 data pages, which every reader supports.
 */

const MAGIC = Buffer.from('PAR1', 'ascii');

// parquet.thrift enums
const TYPE = { INT32: 1, INT64: 2, BYTE_ARRAY: 6 } as const;
const REPETITION = { REQUIRED: 0, OPTIONAL: 1 } as const;
const CONVERTED = { UTF8: 0, TIMESTAMP_MILLIS: 9 } as const;
const ENCODING = { PLAIN: 0, RLE: 3, RLE_DICTIONARY: 8 } as const;
const PAGE = { DATA_PAGE: 0, DICTIONARY_PAGE: 2 } as const;

/** Rows per data page: keeps pages around a megabyte so readers never hold a whole chunk. */
const PAGE_ROWS = 64 * 1024;
/** Exact min/max statistics are written only for values up to this many bytes. */
const MAX_STAT_BYTES = 256;

export interface ParquetWriterOptions {
  readonly codec: CodecName;
  readonly createdBy?: string;
  readonly keyValueMetadata?: Readonly<Record<string, string>>;
}

export type ColumnValues = ArrayLike<string | number | null | undefined>;
/**
 * A column's values, either one per row or, for columns that repeat for
 * every row of an item version, one per version plus each row's version.
 */
export type ColumnInput = ColumnValues | { readonly values: ColumnValues; readonly index: ArrayLike<number> };

/**
 * One column chunk, encoded, as plain data: page offsets are relative to
 * the chunk's start, so a row group can be encoded anywhere (a worker
 * thread) and placed in the file later. Everything here is structured-
 * clonable and its buffers transferable.
 */
export interface EncodedChunk {
  /** The chunk's pages, back to back, in a buffer of its own (transferable). */
  readonly bytes: Uint8Array;
  readonly encodings: number[];
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly numValues: number;
  /** Relative to the chunk's first byte. */
  readonly dataPageOffset: number;
  readonly hasDictionaryPage: boolean;
  readonly nullCount: number;
  readonly min?: Uint8Array;
  readonly max?: Uint8Array;
  /** The chunk's compression codec id, when it is not the file writer's (a chunk copied from another file). */
  readonly codecId?: number;
}

export interface EncodedRowGroup {
  readonly rowCount: number;
  readonly chunks: EncodedChunk[];
}

function physicalType(spec: ColumnSpec): number {
  switch (spec.parquet) {
    case 'STRING':
      return TYPE.BYTE_ARRAY;
    case 'INT32':
      return TYPE.INT32;
    case 'TIMESTAMP_MILLIS':
      return TYPE.INT64;
  }
}

function schemaElement(spec: ColumnSpec): ThriftStruct {
  const logical =
    spec.parquet === 'STRING'
      ? struct([[1, struct([])]])
      : spec.parquet === 'TIMESTAMP_MILLIS'
        ? struct([[8, struct([[1, bool(true)], [2, struct([[1, struct([])]])]])]])
        : undefined;
  const converted = spec.parquet === 'STRING' ? CONVERTED.UTF8 : spec.parquet === 'TIMESTAMP_MILLIS' ? CONVERTED.TIMESTAMP_MILLIS : undefined;
  return [
    [1, i32(physicalType(spec))],
    [3, i32(spec.nullable ? REPETITION.OPTIONAL : REPETITION.REQUIRED)],
    [4, binary(spec.name)],
    converted === undefined ? undefined : [6, i32(converted)],
    logical === undefined ? undefined : [10, logical],
  ];
}

/** Writes PLAIN values of the column's physical type; returns nothing, appends to `out`. */
function writePlain(spec: ColumnSpec, value: string | number, out: ByteBuffer): void {
  switch (spec.parquet) {
    case 'STRING':
      out.lengthPrefixedUtf8(value as string);
      return;
    case 'INT32':
      out.i32le(value as number);
      return;
    case 'TIMESTAMP_MILLIS':
      out.i64le(value as number);
      return;
  }
}

/** A statistic's bytes in a buffer of their own: a slice of Node's shared pool would pin a whole 8 KB block until the footer is written. */
function plainBytes(spec: ColumnSpec, value: string | number): Uint8Array {
  const b = new ByteBuffer(16);
  writePlain(spec, value, b);
  return new Uint8Array(spec.parquet === 'STRING' ? b.view().subarray(4) : b.view());
}

/** UTF-8 byte order of two strings. Below the surrogates UTF-16 code unit order is the same, and needs no encoding. */
function compareUtf8(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    if (x < 0xd800 && y < 0xd800) return x - y;
    return Buffer.compare(Buffer.from(a.slice(i), 'utf8'), Buffer.from(b.slice(i), 'utf8'));
  }
  return a.length - b.length;
}

/** Parquet orders BYTE_ARRAY statistics by unsigned bytes and ints by signed value. */
function compareForStats(spec: ColumnSpec, a: string | number, b: string | number): number {
  if (spec.parquet === 'STRING') return compareUtf8(a as string, b as string);
  return (a as number) - (b as number);
}

/** Dictionary ids of values (-1 for null), with consecutive repeats skipping the hash lookup. */
function dictionaryIds(values: ColumnValues, count: number, dict: Map<string | number, number>, dictValues: (string | number)[]): Int32Array {
  const ids = new Int32Array(count);
  let prev: unknown = undefined;
  let prevId = -1;
  for (let i = 0; i < count; i++) {
    const v = values[i];
    if (v === null || v === undefined) {
      ids[i] = -1;
      continue;
    }
    if (v !== prev) {
      let id = dict.get(v);
      if (id === undefined) {
        id = dictValues.length;
        dict.set(v, id);
        dictValues.push(v);
      }
      prev = v;
      prevId = id;
    }
    ids[i] = prevId;
  }
  return ids;
}

interface Pages {
  readonly useDictionary: boolean;
  readonly parts: Uint8Array[];
  readonly compressedSize: number;
  readonly uncompressedSize: number;
  readonly dataPageOffset: number;
}

/** A chunk's pages: a dictionary page and RLE_DICTIONARY data pages, or PLAIN data pages. */
function writePages(
  spec: ColumnSpec,
  codec: CodecName,
  rowCount: number,
  defs: Uint8Array | undefined,
  ids: Int32Array,
  dictValues: readonly (string | number)[],
  useDictionary: boolean,
): Pages {
  const parts: Uint8Array[] = [];
  let compressedSize = 0;
  let uncompressedSize = 0;
  const emitPage = (headerFields: (uncompressed: number, compressed: number) => ThriftStruct, body: Buffer): void => {
    const packed = Buffer.from(compress(codec, body));
    const header = encodeStruct(headerFields(body.length, packed.length));
    parts.push(header, packed);
    compressedSize += header.length + packed.length;
    uncompressedSize += header.length + body.length;
  };

  const scratch = new ByteBuffer(64 * 1024);
  if (useDictionary) {
    for (const v of dictValues) writePlain(spec, v, scratch);
    emitPage(
      (u, c) => [
        [1, i32(PAGE.DICTIONARY_PAGE)],
        [2, i32(u)],
        [3, i32(c)],
        [7, struct([[1, i32(dictValues.length)], [2, i32(ENCODING.PLAIN)]])],
      ],
      Buffer.from(scratch.view()),
    );
  }
  const dataPageOffset = compressedSize;
  const bitWidth = bitWidthFor(dictValues.length);
  let idCursor = 0;
  for (let start = 0; start < rowCount || start === 0; start += PAGE_ROWS) {
    const end = Math.min(rowCount, start + PAGE_ROWS);
    scratch.reset();
    let pageNonNull = end - start;
    if (defs) {
      pageNonNull = 0;
      for (let r = start; r < end; r++) pageNonNull += defs[r]!;
      const lengthAt = scratch.pos;
      scratch.u32le(0);
      encodeHybrid(defs.subarray(start, end), end - start, 1, scratch);
      scratch.buf.writeUInt32LE(scratch.pos - lengthAt - 4, lengthAt);
    }
    if (useDictionary) {
      scratch.u8(bitWidth);
      encodeHybrid(ids.subarray(idCursor, idCursor + pageNonNull), pageNonNull, bitWidth, scratch);
    } else {
      for (let k = idCursor; k < idCursor + pageNonNull; k++) writePlain(spec, dictValues[ids[k]!]!, scratch);
    }
    idCursor += pageNonNull;
    emitPage(
      (u, c) => [
        [1, i32(PAGE.DATA_PAGE)],
        [2, i32(u)],
        [3, i32(c)],
        [
          5,
          struct([
            [1, i32(end - start)],
            [2, i32(useDictionary ? ENCODING.RLE_DICTIONARY : ENCODING.PLAIN)],
            [3, i32(ENCODING.RLE)],
            [4, i32(ENCODING.RLE)],
          ]),
        ],
      ],
      Buffer.from(scratch.view()),
    );
    if (end >= rowCount) break;
  }

  return { useDictionary, parts, compressedSize, uncompressedSize, dataPageOffset };
}

function encodeChunk(spec: ColumnSpec, input: ColumnInput, rowCount: number, codec: CodecName): EncodedChunk {
  // Pass 1: dictionary ids per row (per version first for version-level columns), then definition levels.
  const dict = new Map<string | number, number>();
  const dictValues: (string | number)[] = [];
  let rowIds: Int32Array;
  if ('index' in input) {
    const versionIds = dictionaryIds(input.values, input.values.length, dict, dictValues);
    rowIds = new Int32Array(rowCount);
    for (let r = 0; r < rowCount; r++) rowIds[r] = versionIds[input.index[r]!]!;
  } else {
    rowIds = dictionaryIds(input, rowCount, dict, dictValues);
  }
  const defs = spec.nullable ? new Uint8Array(rowCount) : undefined;
  const ids = defs ? new Int32Array(rowCount) : rowIds;
  let nonNull = 0;
  for (let r = 0; r < rowCount; r++) {
    const id = rowIds[r]!;
    if (id < 0) {
      if (!defs) throw new Error(`column "${spec.name}" is not nullable but row ${r} has no value`);
      continue;
    }
    if (defs) {
      defs[r] = 1;
      ids[nonNull] = id;
    }
    nonNull++;
  }

  // A column of mostly distinct values is smaller and faster PLAIN; an all-null chunk has no dictionary.
  const canDictionary = nonNull > 0 && dictValues.length <= Math.max(64, nonNull / 2);
  const pages = writePages(spec, codec, rowCount, defs, ids, dictValues, canDictionary);
  const useDictionary = pages.useDictionary;
  const { parts, compressedSize, uncompressedSize, dataPageOffset } = pages;

  const { min, max } = statistics(spec, dictValues);
  const bytes = new Uint8Array(compressedSize);
  let at = 0;
  for (const part of parts) {
    bytes.set(part, at);
    at += part.length;
  }
  return {
    bytes,
    encodings: useDictionary ? [ENCODING.PLAIN, ENCODING.RLE, ENCODING.RLE_DICTIONARY] : [ENCODING.PLAIN, ENCODING.RLE],
    compressedSize,
    uncompressedSize,
    numValues: rowCount,
    dataPageOffset,
    hasDictionaryPage: useDictionary,
    nullCount: rowCount - nonNull,
    ...(min && max ? { min, max } : {}),
  };
}

/** Exact min and max of a chunk's distinct values, when both are short enough to store. */
function statistics(spec: ColumnSpec, distinct: readonly (string | number)[]): { min?: Uint8Array; max?: Uint8Array } {
  let min: string | number | undefined;
  let max: string | number | undefined;
  for (const v of distinct) {
    if (min === undefined || compareForStats(spec, v, min) < 0) min = v;
    if (max === undefined || compareForStats(spec, v, max) > 0) max = v;
  }
  if (min === undefined || max === undefined) return {};
  const minBytes = plainBytes(spec, min);
  const maxBytes = plainBytes(spec, max);
  return minBytes.length <= MAX_STAT_BYTES && maxBytes.length <= MAX_STAT_BYTES ? { min: minBytes, max: maxBytes } : {};
}

/** Encodes one row group's columns; `arrays[c]` holds the values of `columns[c]`, `rowCount` of them. */
export function encodeRowGroup(columns: readonly ColumnSpec[], arrays: readonly ColumnInput[], rowCount: number, codec: CodecName): EncodedRowGroup {
  if (arrays.length !== columns.length) throw new Error(`expected ${columns.length} column arrays, got ${arrays.length}`);
  return { rowCount, chunks: columns.map((spec, c) => encodeChunk(spec, arrays[c]!, rowCount, codec)) };
}

/** The footer's ColumnMetaData of an encoded chunk placed at `chunkOffset`. */
function columnMetaData(spec: ColumnSpec, chunk: EncodedChunk, codec: CodecName, chunkOffset: number): ThriftStruct {
  return [
    [1, i32(physicalType(spec))],
    [2, list('i32', chunk.encodings)],
    [3, list('binary', [spec.name])],
    [4, i32(chunk.codecId ?? CODEC_IDS[codec])],
    [5, i64(chunk.numValues)],
    [6, i64(chunk.uncompressedSize)],
    [7, i64(chunk.compressedSize)],
    [9, i64(chunkOffset + chunk.dataPageOffset)],
    chunk.hasDictionaryPage ? [11, i64(chunkOffset)] : undefined,
    [12, struct([[3, i64(chunk.nullCount)], chunk.max ? [5, binary(chunk.max)] : undefined, chunk.min ? [6, binary(chunk.min)] : undefined])],
  ];
}

/**
 * Streams a Parquet file as a sequence of byte chunks: the magic, then one
 * row group per call to writeRowGroup, then the footer. Memory is bounded by
 * one row group, which is what lets the CLI flatten exports of any size.
 */
export class ParquetFileWriter {
  private readonly columns: readonly ColumnSpec[];
  private readonly options: ParquetWriterOptions;
  private readonly emit: (chunk: Buffer) => void;
  private offset = 0;
  private numRows = 0;
  /** Each row group's footer entry, encoded as soon as it is written: a long file keeps bytes, not object trees. */
  private readonly rowGroups: EncodedStruct[] = [];

  constructor(columns: readonly ColumnSpec[], emit: (chunk: Buffer) => void, options: ParquetWriterOptions) {
    this.columns = columns;
    this.emit = emit;
    this.options = options;
    this.write(MAGIC);
  }

  private write(chunk: Buffer): void {
    this.offset += chunk.length;
    this.emit(chunk);
  }

  /** `arrays[c]` holds the values of `columns[c]`, `rowCount` of them. */
  writeRowGroup(arrays: readonly ColumnInput[], rowCount: number): void {
    if (rowCount === 0) return;
    this.appendRowGroup(encodeRowGroup(this.columns, arrays, rowCount, this.options.codec));
  }

  /** Places a row group encoded elsewhere (e.g. by a worker thread) at the current end of the file. */
  appendRowGroup(group: EncodedRowGroup): void {
    if (group.rowCount === 0) return;
    if (group.chunks.length !== this.columns.length) throw new Error(`expected ${this.columns.length} column chunks, got ${group.chunks.length}`);
    const groupOffset = this.offset;
    const chunks: ThriftStruct[] = [];
    let totalUncompressed = 0;
    let totalCompressed = 0;
    group.chunks.forEach((chunk, c) => {
      const chunkOffset = this.offset;
      this.write(Buffer.from(chunk.bytes.buffer, chunk.bytes.byteOffset, chunk.bytes.byteLength));
      totalUncompressed += chunk.uncompressedSize;
      totalCompressed += chunk.compressedSize;
      chunks.push([[2, i64(chunkOffset)], [3, struct(columnMetaData(this.columns[c]!, chunk, this.options.codec, chunkOffset))]]);
    });
    const entry = encodeStruct([
      [1, list('struct', chunks)],
      [2, i64(totalUncompressed)],
      [3, i64(group.rowCount)],
      [5, i64(groupOffset)],
      [6, i64(totalCompressed)],
      [7, { t: 'i32', v: this.rowGroups.length }],
    ]);
    this.rowGroups.push({ encoded: new Uint8Array(entry) });
    this.numRows += group.rowCount;
  }

  /** Writes the footer; the file is complete after this. */
  finish(): void {
    const kv = Object.entries(this.options.keyValueMetadata ?? {});
    const footer = encodeStruct([
      [1, i32(1)],
      [2, list('struct', [[[4, binary('schema')], [5, i32(this.columns.length)]], ...this.columns.map(schemaElement)])],
      [3, i64(this.numRows)],
      [4, list('struct', this.rowGroups)],
      kv.length ? [5, list('struct', kv.map(([k, v]) => [[1, binary(k)], [2, binary(v)]] as ThriftStruct))] : undefined,
      [6, binary(this.options.createdBy ?? 'ddb-flatten')],
      // TypeDefinedOrder for every column: without it readers ignore string min/max statistics.
      [7, list('struct', this.columns.map(() => [[1, struct([])]] as ThriftStruct))],
    ]);
    const tail = Buffer.allocUnsafe(8);
    tail.writeUInt32LE(footer.length, 0);
    MAGIC.copy(tail, 4);
    this.write(footer);
    this.write(tail);
  }
}

/** One whole file in memory: the Lambda's case, where one batch becomes one object. */
export function encodeParquetFile(
  columns: readonly ColumnSpec[],
  arrays: readonly ColumnInput[],
  rowCount: number,
  options: ParquetWriterOptions,
): Buffer {
  const parts: Buffer[] = [];
  const writer = new ParquetFileWriter(columns, (chunk) => parts.push(chunk), options);
  writer.writeRowGroup(arrays, rowCount);
  writer.finish();
  return Buffer.concat(parts);
}
