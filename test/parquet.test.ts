import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Item } from '../src/flatten/attribute-value.ts';
import { Flattener } from '../src/flatten/flatten.ts';
import { RowBatch, type FlatRow } from '../src/flatten/row-batch.ts';
import { appendStreamRecord } from '../src/flatten/stream-record.ts';
import { columnInputs, encodeParquet } from '../src/lake/parquet-writer.ts';
import { encodeRowGroup } from '../src/lake/parquet/encoder.ts';
import { dataColumns } from '../src/schema/row-schema.ts';
import { duckdbQuery, readParquetWithDuckdb, sqlString } from './support/duckdb.ts';
import { pyarrowMissing } from './support/tools.ts';

const tmp = mkdtempSync(join(tmpdir(), 'ddbf-parquet-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

/** A batch with every kind of value, nulls in every nullable column, and enough rows for several data pages. */
function variedBatch(records: number): RowBatch {
  const carry = ['customer_id', 'region'];
  const flattener = new Flattener({ attributes: ['items', 'tags'], partitionKey: 'pk', sortKey: 'sk', carry });
  const batch = new RowBatch(carry);
  for (let r = 0; r < records; r++) {
    const image: Item = {
      pk: { S: `ORDER#${r % 997}` },
      sk: { N: String(r) },
      customer_id: r % 3 === 0 ? { NULL: true } : { S: `C${r % 50}` },
      items: {
        L: [
          { M: { sku: { S: `SKU-${r % 41}` }, price: { N: `${r}.${r % 100}` }, name: { S: `Ünïcödé ${r % 7} 🚀` }, gift: { BOOL: r % 2 === 0 } } },
          { M: {} },
          { M: { n38: { N: '12345678901234567890123456789012345678' }, nothing: { NULL: true }, bin: { B: 'AAEC' } } },
        ],
      },
    };
    if (r % 5 === 0) image.tags = { SS: ['b', 'a'] };
    appendStreamRecord(flattener, batch, {
      eventID: `e${r}`,
      eventName: r % 11 === 10 ? 'REMOVE' : r % 2 ? 'MODIFY' : 'INSERT',
      dynamodb: {
        ApproximateCreationDateTime: 1764201600 + r * 7,
        Keys: { pk: image.pk, sk: image.sk },
        NewImage: image,
        OldImage: image,
        SequenceNumber: String(10n ** 25n + BigInt(r)),
        StreamViewType: 'NEW_AND_OLD_IMAGES',
      },
    }, `r${r}`);
  }
  return batch;
}

/** What a reader should return for a row: the partition column lives in the path, not the file. */
function expectedRows(batch: RowBatch): Record<string, unknown>[] {
  return [...batch.rows()].map((row: FlatRow) => {
    const { dt: _dt, ...rest } = row;
    return rest;
  });
}

describe('Parquet files read back exactly', () => {
  const batch = variedBatch(16_000);
  const file = join(tmp, 'varied.parquet');
  writeFileSync(file, encodeParquet(batch));

  it('holds enough rows to span several data pages', () => {
    expect(batch.length).toBeGreaterThan(2 * 64 * 1024);
  });

  it('with DuckDB', async () => {
    const rows = await readParquetWithDuckdb(file);
    const normalized = rows.map((r) => ({ ...r, event_time: (r.event_time as Date).toISOString() }));
    expect(normalized).toEqual(expectedRows(batch));
  });

  it('with pyarrow, with the logical types Athena (Trino) reads', (ctx) => {
    const missing = pyarrowMissing();
    if (missing) return ctx.skip(missing);
    const script = `
import json, sys
import pyarrow.parquet as pq
f = pq.ParquetFile(sys.argv[1])
schema = f.schema
cols = []
for i in range(len(schema)):
    c = schema.column(i)
    cols.append({"name": c.name, "physical": c.physical_type, "logical": str(c.logical_type), "converted": c.converted_type, "max_def": c.max_definition_level})
rg = f.metadata.row_group(0)
stats = {rg.column(i).path_in_schema: [rg.column(i).statistics.has_min_max, rg.column(i).compression] for i in range(rg.num_columns)}
table = f.read()
rows = table.to_pylist()
for r in rows:
    r["event_time"] = r["event_time"].isoformat(timespec="milliseconds").replace("+00:00", "Z")
print(json.dumps({"columns": cols, "stats": stats, "rows": rows}))
`;
    const out = spawnSync('python3', ['-c', script, file], { encoding: 'utf8', maxBuffer: 1 << 30 });
    expect(out.stderr).toBe('');
    const parsed = JSON.parse(out.stdout) as {
      columns: { name: string; physical: string; logical: string; converted: string; max_def: number }[];
      stats: Record<string, [boolean, string]>;
      rows: Record<string, unknown>[];
    };
    const schema = dataColumns(batch.carried);
    expect(parsed.columns.map((c) => c.name)).toEqual(schema.map((c) => c.name));
    for (const [i, spec] of schema.entries()) {
      const col = parsed.columns[i]!;
      expect(col.max_def, spec.name).toBe(spec.nullable ? 1 : 0);
      if (spec.parquet === 'STRING') {
        expect([col.physical, col.logical, col.converted], spec.name).toEqual(['BYTE_ARRAY', 'String', 'UTF8']);
      } else if (spec.parquet === 'TIMESTAMP_MILLIS') {
        expect(col.physical).toBe('INT64');
        expect(col.logical).toMatch(/^Timestamp\(isAdjustedToUTC=true, timeUnit=milliseconds/);
      } else {
        expect(col.physical).toBe('INT32');
      }
    }
    expect(parsed.stats.pk).toEqual([true, 'ZSTD']);
    expect(parsed.rows).toEqual(expectedRows(batch));
  });
});

describe('column statistics', () => {
  it('are the exact min and max in UTF-8 byte order, including characters above the surrogates', async () => {
    const batch = new RowBatch();
    const flattener = new Flattener({ attributes: ['items'], partitionKey: 'pk', carry: [] });
    // U+FF21 sorts before U+1F600 in UTF-8 bytes (EF BC A1 < F0 9F 98 80) but after it in UTF-16 code units.
    for (const pk of ['b', 'Ａ', '😀', 'a', 'é']) appendStreamRecord(flattener, batch, { eventName: 'INSERT', dynamodb: { ApproximateCreationDateTime: 1, Keys: { pk: { S: pk } }, NewImage: { pk: { S: pk }, items: { S: pk } }, SequenceNumber: '1' } }, 'r');
    const file = join(tmp, 'stats.parquet');
    writeFileSync(file, encodeParquet(batch));
    const sorted = ['b', 'Ａ', '😀', 'a', 'é'].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    const [stats] = await duckdbQuery(`SELECT stats_min_value AS min, stats_max_value AS max FROM parquet_metadata(${sqlString(file)}) WHERE path_in_schema = 'pk'`);
    expect(stats).toEqual({ min: sorted[0], max: sorted[sorted.length - 1] });
  });
});
