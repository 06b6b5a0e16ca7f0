import { DuckDBInstance } from '@duckdb/node-api';
import { DuckDbLake } from '../../src/sql/duckdb-lake.ts';

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

/** Queries a local lake folder (the bucket's layout) through DuckDbLake: `flattened` is the table, `current_state` the view. */
export async function queryLakeFolder(root: string, prefix: string, carried: readonly string[], sql: string): Promise<Record<string, unknown>[]> {
  const lake = await DuckDbLake.open({ root, prefix, carried });
  try {
    return await lake.query(sql);
  } finally {
    lake.close();
  }
}
