import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TrinoSQL } from 'dt-sql-parser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentStateSql, elementSql, expiredItemsViewSql } from '../modules/glue-catalog.ts';
import type { Item } from '../src/flatten/attribute-value.ts';
import { Flattener, SNAPSHOT_SEQUENCE } from '../src/flatten/flatten.ts';
import { RowBatch } from '../src/flatten/row-batch.ts';
import { writeBatchToLake } from '../src/lake/lake-writer.ts';
import { DirectorySink } from '../src/lake/sink.ts';
import { elementViewColumns, elementViewName } from '../src/schema/element-views.ts';
import { currentStateColumns, expiredItemsColumns } from '../src/schema/row-schema.ts';
import { DuckDbLake } from '../src/sql/duckdb-lake.ts';
import { QUERIES, querySql, quoteIdent } from '../src/sql/views.ts';
import { athenaUnloadSql, duckdbCopySql, parseAthenaUnload } from '../src/maintenance/engine.ts';
import { checkpointSql, compactDaySql } from '../src/maintenance/statements.ts';
import { rowColumnNames } from '../src/schema/row-schema.ts';

/**
 * Every SQL text the module registers in Athena is in the common subset of
 * Trino (Athena engine 3) and DuckDB: it parses with a parser generated from
 * Trino's own ANTLR grammar (dt-sql-parser's TrinoSQL), so DuckDB-only
 * syntax cannot slip in, and it runs in DuckDB over a real lake with the
 * column names and types the Glue catalog declares.
 */

const trino = new TrinoSQL();
const parseErrors = (sql: string): string[] => trino.validate(sql).map((e) => `${e.startLine}:${e.startColumn} ${e.message}`);

const CARRIED = ['status'];
const VIEWS = { items: ['sku', 'qty', 'unit.price'] };
const DB = 'orders';

/** The texts Athena receives: the views' SQL (as in their Glue envelope) and the named queries. */
function athenaTexts(): [string, string][] {
  const names = { table: `${quoteIdent(DB)}.${quoteIdent('flattened')}`, currentView: `${quoteIdent(DB)}.${quoteIdent('current_state')}`, carried: CARRIED };
  return [
    ['view current_state', currentStateSql(DB, 'flattened', CARRIED)],
    ['view current_state (after a checkpoint)', currentStateSql(DB, 'flattened', CARRIED, { pointer: { checkpoint: '2026-11-30-0123456789abcdef', bound: '2026-11-30' } })],
    ['view expired_items', expiredItemsViewSql(DB, 'flattened', CARRIED)],
    ['view items_elements', elementSql(DB, 'current_state', 'items', VIEWS.items, CARRIED)],
    ...Object.keys(QUERIES).map((q): [string, string] => [`query ${q}`, querySql(q as keyof typeof QUERIES, names)]),
  ];
}

/** The maintenance statements' SELECTs as Athena receives them: over the Glue tables, before and after a first checkpoint. */
function maintenanceSelects(): [string, string][] {
  const relations = { table: `${quoteIdent(DB)}.${quoteIdent('flattened')}`, checkpoints: `${quoteIdent(DB)}.${quoteIdent('checkpoints')}` };
  return [
    ['maintenance compact_day', compactDaySql(relations, CARRIED, '2026-11-30')],
    ['maintenance checkpoint (the first)', checkpointSql(relations, CARRIED, { checkpoint: 'none', bound: '0000-01-01' }, '2026-12-01')],
    ['maintenance checkpoint (from a previous one)', checkpointSql(relations, CARRIED, { checkpoint: "2026-11-30-0123456789abcdef", bound: '2026-11-30' }, '2026-12-07')],
  ];
}

describe('the Athena SQL parses as Trino', () => {
  for (const [what, sql] of [...athenaTexts(), ...maintenanceSelects()]) {
    it(`${what}`, () => {
      expect(parseErrors(sql), sql).toEqual([]);
    });
  }
  it("each maintenance statement is Athena's documented UNLOAD around a Trino SELECT, read back as it was written", () => {
    for (const [what, select] of maintenanceSelects()) {
      const statement = { select, destination: 'state/compaction/dt=2026-11-30/0123456789abcdef/a1b2c3d4/', zstdLevel: 9, targetBytes: 1 };
      const sql = athenaUnloadSql(statement, 'orders-lake');
      // UNLOAD (SELECT ...) TO 's3://bucket/folder/' WITH (format = 'PARQUET', compression = 'ZSTD', compression_level = '4'):
      // the form of Athena's documentation (UNLOAD; Use ZSTD compression levels), not Trino's grammar.
      expect(sql, what).toMatch(/^UNLOAD \(\n[\s\S]+\n\) TO 's3:\/\/orders-lake\/state\/[^']+\/'\nWITH \(format = 'PARQUET', compression = 'ZSTD', compression_level = '9'\)$/);
      expect(parseAthenaUnload(sql), what).toEqual({ bucket: 'orders-lake', statement: { ...statement, targetBytes: Number.MAX_SAFE_INTEGER } });
    }
    expect(() => athenaUnloadSql({ select: 'SELECT 1', destination: 'state/x', zstdLevel: 9, targetBytes: 1 }, 'b')).toThrow(/must be a key prefix ending in "\/"/);
    expect(() => athenaUnloadSql({ select: 'SELECT 1', destination: 'state/x/', zstdLevel: 23, targetBytes: 1 }, 'b')).toThrow(/ZSTD level 23 is not allowed: use an integer from 1 to 22/);
    expect(() => parseAthenaUnload("UNLOAD (SELECT 1) TO 's3://b/x/' WITH (format = 'JSON')")).toThrow(/PARQUET only/);
  });
  it('the parser refuses DuckDB-only syntax and typos, so the checks above can fail', () => {
    for (const sql of [
      'SELECT * FROM t QUALIFY rank() OVER (ORDER BY a) = 1',
      'SELECT value::DOUBLE FROM t',
      'SELECT * EXCLUDE (a) FROM t',
      "SELECT * FROM t WHERE a ILIKE 'x'",
      'SELECT a, count(*) FROM t GROUP BY ALL',
      'FROM t SELECT a',
      'SELEC a FROM t',
    ]) {
      expect(parseErrors(sql), sql).not.toEqual([]);
    }
  });
});

describe('the same SQL runs in DuckDB with the catalog’s columns and types', () => {
  let root: string;
  let lake: DuckDbLake;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ddbf-sql-dialect-'));
    const flattener = new Flattener({ attributes: ['items'], partitionKey: 'pk', sortKey: undefined, carry: CARRIED });
    const batch = new RowBatch(CARRIED);
    const at = Date.UTC(2026, 10, 30, 12);
    const items: Item[] = [
      { pk: { S: 'A1' }, status: { S: 'new' }, items: { L: [{ M: { sku: { S: 'x-1' }, qty: { N: '2' }, unit: { M: { price: { N: '12345678901234567890123456789012345678' } } } } }, { M: { sku: { S: 'x-2' } } }] } },
      { pk: { S: 'A2' }, items: { L: [] } },
      { pk: { S: 'A3' }, items: { L: [{ M: { qty: { N: '-1.5' }, flag: { BOOL: true } } }] } },
    ];
    for (const [i, item] of items.entries()) flattener.appendImage(batch, item, { eventName: 'SNAPSHOT', eventTime: at + i * 1000, sequence: SNAPSHOT_SEQUENCE }, `item ${i}`);
    await writeBatchToLake(new DirectorySink(root), 'flattened', batch, 'sql-dialect');
    lake = await DuckDbLake.open({ root, carried: CARRIED, elementViews: VIEWS });
  });
  afterAll(() => {
    lake?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });

  const duckTypes: Record<string, string> = { string: 'VARCHAR', int: 'INTEGER', timestamp: 'TIMESTAMP', double: 'DOUBLE', boolean: 'BOOLEAN' };
  const describeView = async (name: string) => (await lake.query(`DESCRIBE ${quoteIdent(name)}`)).map((r) => [r.column_name, r.column_type]);

  it('current_state has the Glue view columns in order, with the types Athena gives them', async () => {
    expect(await describeView('current_state')).toEqual(currentStateColumns(CARRIED).map((c) => [c.name, duckTypes[c.glue]]));
  });
  it('expired_items has the same columns, in order, with the same types', async () => {
    expect(await describeView('expired_items')).toEqual(expiredItemsColumns(CARRIED).map((c) => [c.name, duckTypes[c.glue]]));
    expect(expiredItemsColumns(CARRIED)).toEqual(currentStateColumns(CARRIED));
    expect(await lake.count('expired_items')).toBe(0);
  });
  it('the typed conveniences: value_number only for numbers, value_bool only for booleans', async () => {
    const rows = await lake.query("SELECT pk, key, value, value_type, value_number, value_bool FROM current_state WHERE key IN ('qty', 'flag') ORDER BY pk, key");
    expect(rows).toEqual([
      { pk: 'A1', key: 'qty', value: '2', value_type: 'N', value_number: 2, value_bool: null },
      { pk: 'A3', key: 'flag', value: 'true', value_type: 'BOOL', value_number: null, value_bool: true },
      { pk: 'A3', key: 'qty', value: '-1.5', value_type: 'N', value_number: -1.5, value_bool: null },
    ]);
    const [sku] = await lake.query("SELECT value_number FROM current_state WHERE key = 'sku' LIMIT 1");
    expect(sku!.value_number).toBeNull();
  });
  it(`${elementViewName('items')}: one row per element, a column per key path, numbers beside the exact text; no row for an empty list`, async () => {
    expect(await describeView('items_elements')).toEqual(elementViewColumns(VIEWS.items, CARRIED).map((c) => [c.name, duckTypes[c.glue]]));
    const rows = await lake.query('SELECT pk, item_index, sku, qty, qty_number, unit_price, unit_price_number, status FROM items_elements ORDER BY pk, item_index');
    expect(rows).toEqual([
      { pk: 'A1', item_index: 0, sku: 'x-1', qty: '2', qty_number: 2, unit_price: '12345678901234567890123456789012345678', unit_price_number: 1.2345678901234568e37, status: 'new' },
      { pk: 'A1', item_index: 1, sku: 'x-2', qty: null, qty_number: null, unit_price: null, unit_price_number: null, status: 'new' },
      { pk: 'A3', item_index: 0, sku: null, qty: '-1.5', qty_number: -1.5, unit_price: null, unit_price_number: null, status: null },
    ]);
  });
  it('the maintenance statements run in DuckDB as COPY: a compacted day holds the distinct rows, a checkpoint the current state', async () => {
    const relations = { table: lake.names.table, checkpoints: lake.names.checkpoints! };
    const columns = rowColumnNames(CARRIED).map((c) => quoteIdent(c)).join(', ');
    const out = (name: string) => join(root, 'out', name);
    mkdirSync(join(root, 'out'), { recursive: true });
    await lake.query(duckdbCopySql({ select: compactDaySql(relations, CARRIED, '2026-11-30'), destination: 'out/day/', zstdLevel: 9, targetBytes: 1 << 30 }, root));
    const day = await lake.query(`SELECT count(*) AS n FROM read_parquet('${out('day')}/*.parquet')`);
    const distinct = await lake.query(`SELECT count(*) AS n FROM (SELECT DISTINCT * EXCLUDE (dt) FROM flattened WHERE dt = '2026-11-30')`);
    expect(Number(day[0]!.n)).toBe(Number(distinct[0]!.n));
    await lake.query(duckdbCopySql({ select: checkpointSql(relations, CARRIED, lake.pointer, '2026-12-01'), destination: 'out/checkpoint/', zstdLevel: 16, targetBytes: 1 << 30 }, root));
    const checkpoint = await lake.query(`SELECT ${columns} FROM read_parquet('${out('checkpoint')}/*.parquet') ORDER BY ALL`);
    const view = await lake.query(`SELECT ${columns} FROM current_state ORDER BY ALL`);
    expect(checkpoint.length).toBeGreaterThan(0);
    expect(checkpoint).toEqual(view);
  });
  it('every named query runs', async () => {
    for (const q of Object.keys(QUERIES)) expect((await lake.namedQuery(q as keyof typeof QUERIES)).length, q).toBeGreaterThan(0);
  });
});
