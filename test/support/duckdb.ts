import { DuckDBInstance } from '@duckdb/node-api';

/** Runs SQL in a fresh in-memory DuckDB and returns plain JS row objects (timestamps as Date). */
export async function duckdbQuery(sql: string): Promise<Record<string, unknown>[]> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** Every row of a Parquet file, as DuckDB reads it. */
export function readParquetWithDuckdb(path: string): Promise<Record<string, unknown>[]> {
  return duckdbQuery(`SELECT * FROM read_parquet(${sqlString(path)})`);
}

/**
 * Queries a local lake folder (the bucket's layout) with the same view SQL
 * Athena runs: `flattened` is the table, `current_state` the view.
 */
export async function queryLakeFolder(root: string, prefix: string, carried: readonly string[], sql: string): Promise<Record<string, unknown>[]> {
  const { rowColumnNames } = await import('../../src/schema/row-schema.ts');
  const { viewSql } = await import('../../src/sql/views.ts');
  const columns = rowColumnNames(carried).map((c) => `"${c}"`).join(', ');
  const glob = sqlString(`${root}/${prefix}/dt=*/*.parquet`);
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    await connection.run(`CREATE VIEW flattened AS SELECT ${columns} FROM read_parquet(${glob}, hive_partitioning = true, hive_types = {'dt': VARCHAR})`);
    await connection.run(`CREATE VIEW current_state AS ${viewSql('current_state', { table: 'flattened', currentView: 'current_state', carried })}`);
    const reader = await connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as Record<string, unknown>[];
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}
