import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Item } from '../src/flatten/attribute-value.ts';
import { Flattener } from '../src/flatten/flatten.ts';
import { RowBatch } from '../src/flatten/row-batch.ts';
import { appendStreamRecord } from '../src/flatten/stream-record.ts';
import { FolderStore, type LakeStore, type StoredObject } from '../src/lake/lake-store.ts';
import { readFooter, stitchParquet } from '../src/lake/parquet-stitch.ts';
import { streamingParquetWriter, type EncodeOptions } from '../src/lake/parquet-writer.ts';
import { dataColumns } from '../src/schema/row-schema.ts';
import { readParquetWithDuckdb } from './support/duckdb.ts';
import { pyarrowMissing } from './support/tools.ts';

const root = mkdtempSync(join(tmpdir(), 'ddbf-stitch-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const store: LakeStore = new FolderStore(root);
const CARRY = ['customer_id'];

/** `records` stream records from `first` on, as a RowBatch: strings, numbers, nulls, empty maps, 38-digit numbers. */
function batch(first: number, records: number, carry: readonly string[] = CARRY): RowBatch {
  const flattener = new Flattener({ attributes: ['items'], partitionKey: 'pk', sortKey: 'sk', carry: [...carry] });
  const out = new RowBatch([...carry]);
  for (let r = first; r < first + records; r++) {
    const image: Item = {
      pk: { S: `ORDER#${String(r % 613).padStart(4, '0')}` },
      sk: { N: String(r) },
      ...(carry.length ? { [carry[0]!]: r % 3 === 0 ? { NULL: true } : { S: `C${r % 50}` } } : {}),
      items: { L: [{ M: { sku: { S: `SKU-${r % 41}` }, price: { N: `${r}.${r % 100}` } } }, { M: {} }, { M: { n38: { N: '12345678901234567890123456789012345678' } } }] },
    };
    appendStreamRecord(flattener, out, {
      eventID: `e${r}`,
      eventName: r % 11 === 10 ? 'REMOVE' : 'MODIFY',
      dynamodb: { ApproximateCreationDateTime: 1764201600 + r, Keys: { pk: image.pk, sk: image.sk }, NewImage: image, OldImage: image, SequenceNumber: String(10n ** 25n + BigInt(r)), StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }, `r${r}`);
  }
  return out;
}

/** A file of several row groups (one per batch), written as the compaction writes its outputs. */
async function file(key: string, batches: readonly RowBatch[], options: EncodeOptions): Promise<StoredObject> {
  const parts: Buffer[] = [];
  const writer = streamingParquetWriter(batches[0]!.carried, (chunk) => parts.push(chunk), options);
  for (const b of batches) writer.writeBatch(b);
  writer.finish();
  const bytes = Buffer.concat(parts);
  await store.write(key, bytes, 'application/vnd.apache.parquet');
  return { key, size: bytes.length };
}

/** pyarrow's view of a file: every row, and each row group's rows and per-column statistics. */
function pyarrowView(path: string): { rows: Record<string, unknown>[]; groups: { rows: number; stats: Record<string, [unknown, unknown, number] | null> }[] } {
  const script = `
import json, sys
import pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1])
groups = []
for g in range(f.metadata.num_row_groups):
    rg = f.metadata.row_group(g)
    stats = {}
    for c in range(rg.num_columns):
        col = rg.column(c)
        s = col.statistics
        stats[col.path_in_schema] = [str(s.min), str(s.max), s.null_count] if s is not None and s.has_min_max else None
    groups.append({"rows": rg.num_rows, "stats": stats})
rows = f.read().to_pylist()
for r in rows:
    r["event_time"] = r["event_time"].isoformat(timespec="milliseconds")
print(json.dumps({"rows": rows, "groups": groups}))
`;
  const out = spawnSync('python3', ['-c', script, path], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (out.status !== 0) throw new Error(out.stderr);
  return JSON.parse(out.stdout);
}

describe('stitchParquet: files joined without decoding', async () => {
  const columns = dataColumns(CARRY);
  const inputs = [
    await file('in/a.parquet', [batch(0, 3000), batch(3000, 2500)], { smallestEncoding: true, zstdLevel: 9 }),
    await file('in/b.parquet', [batch(5500, 40)], {}),
    await file('in/c.parquet', [batch(5540, 4000), batch(9540, 1), batch(9541, 1200)], { codec: 'GZIP' }),
  ];
  const joined = await stitchParquet(store, inputs, columns, 'out/joined.parquet');

  it('holds every row of the inputs, in order, as every reader sees them', async () => {
    const duck = async (key: string) => (await readParquetWithDuckdb(join(root, key))).map((r) => ({ ...r, event_time: (r.event_time as Date).toISOString() }));
    const expected = (await Promise.all(inputs.map((o) => duck(o.key)))).flat();
    expect(expected.length).toBeGreaterThan(20_000);
    expect(await duck(joined.key)).toEqual(expected);
    expect(joined.rows).toBe(expected.length);
    expect(joined.size).toBe((await store.list('out/'))[0]!.size);
  });

  it('keeps each row group whole, with the same rows and the same statistics (pyarrow, an independent reader)', (ctx) => {
    const missing = pyarrowMissing();
    if (missing) return ctx.skip(missing);
    const sources = inputs.map((o) => pyarrowView(join(root, o.key)));
    const out = pyarrowView(join(root, joined.key));
    expect(out.groups).toEqual(sources.flatMap((s) => s.groups));
    expect(out.groups.length).toBe(6);
    // Statistics were there to carry: a test of nothing would pass too.
    expect(out.groups.every((g) => g.stats.pk !== null && g.stats.sequence !== null)).toBe(true);
    expect(out.rows).toEqual(sources.flatMap((s) => s.rows));
  });

  it('has the inputs\' row groups and column chunks, byte sizes, encodings and codecs unchanged', async () => {
    const footer = await readFooter(store, joined);
    const sources = await Promise.all(inputs.map((o) => readFooter(store, o)));
    expect(sources.map((f) => f.rowGroups.length)).toEqual([2, 1, 3]);
    expect(footer.rowGroups.map((g) => g.rows)).toEqual(sources.flatMap((f) => f.rowGroups.map((g) => g.rows)));
    // Chunks keep their encodings and sizes; only where they sit moved.
    expect(footer.rowGroups.map((g) => g.chunks.map(({ offset: _o, ...c }) => c))).toEqual(sources.flatMap((f) => f.rowGroups.map((g) => g.chunks.map(({ offset: _o, ...c }) => c))));
    expect(footer.rows).toBe(joined.rows);
    expect(new Set(footer.rowGroups.flatMap((g) => g.chunks.map((c) => c.codecId)))).toEqual(new Set([6, 2])); // ZSTD and GZIP chunks side by side
  });

  it('refuses inputs of another schema, naming the file and both column lists', async () => {
    const other = await file('in/other.parquet', [batch(0, 10, [])], {});
    await expect(stitchParquet(store, [inputs[0]!, other], columns, 'out/bad.parquet')).rejects.toThrow(/in\/other\.parquet: columns .* are not the joined file's .*customer_id/);
    expect(await store.list('out/bad')).toEqual([]);
  });

  it('refuses what is not a Parquet file of this writer, saying why', async (ctx) => {
    await store.write('in/text.parquet', 'not parquet at all, just text', 'text/plain');
    await expect(stitchParquet(store, [{ key: 'in/text.parquet', size: 29 }], columns, 'out/bad.parquet')).rejects.toThrow(/in\/text\.parquet: not a Parquet file/);
    const missing = pyarrowMissing();
    if (missing) return ctx.skip(missing);
    const indexed = join(root, 'in', 'indexed.parquet');
    const made = spawnSync('python3', ['-c', `import pyarrow as pa, pyarrow.parquet as pq, sys\npq.write_table(pq.read_table(sys.argv[1]), sys.argv[2], write_page_index=True)`, join(root, inputs[1]!.key), indexed], { encoding: 'utf8' });
    expect(made.stderr).toBe('');
    const size = (await store.list('in/indexed'))[0]!.size;
    await expect(stitchParquet(store, [{ key: 'in/indexed.parquet', size }], columns, 'out/bad.parquet')).rejects.toThrow(/indexed\.parquet: row group 0, column \w+: has a page index/);
    expect(await store.list('out/bad')).toEqual([]);
  });
});

