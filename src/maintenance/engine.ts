/**
 * The seam between the lake's maintenance and the SQL engine that does its
 * work. Compaction and checkpoints are each one SELECT over the lake's
 * tables (src/maintenance/statements.ts); an engine writes the SELECT's rows
 * as Parquet objects under an empty prefix of the lake, and the function
 * only plans, starts, waits and commits.
 *
 * Two engines implement it:
 * - Athena (athena-engine.ts), in AWS: `UNLOAD (<select>) TO 's3://…'`,
 *   in the maintenance workgroup;
 * - DuckDB (duckdb-engine.ts), locally: `COPY (<select>) TO '<folder>'` over
 *   a lake folder (npm start, `ddb-flatten compact --lake`, the tests), and
 *   inside the tests' stand-in Athena server.
 *
 * The SELECT is the same text for both (the common subset of Trino and
 * DuckDB; test/sql-dialect.test.ts parses it with a Trino grammar and runs
 * it in DuckDB). Only the statement around it differs, and both spellings
 * are written here, once.
 */

/** What maintenance asks an engine to do: the rows of `select`, as Parquet objects under `destination`. */
export interface UnloadStatement {
  /** The SELECT, with the engine's names of the lake's relations (MaintenanceEngine.relations). */
  readonly select: string;
  /**
   * Key prefix in the lake bucket (or folder), ending in "/", that holds
   * nothing yet: Athena's UNLOAD refuses a location that has data.
   */
  readonly destination: string;
  /** ZSTD level of the written files (1 to 22). */
  readonly zstdLevel: number;
  /** Approximate size of one written object (DuckDB cuts files there; Athena decides its files itself). */
  readonly targetBytes: number;
}

/** Athena's query states (QueryExecutionStatus.State). */
export type QueryState = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'CANCELLED';

export interface QueryStatus {
  readonly state: QueryState;
  /** Why a query failed or was cancelled, as the engine says it. */
  readonly reason?: string;
  /** Bytes the query scanned (Athena bills these: $5 per TB, 10 MB at least). */
  readonly bytesScanned?: number;
}

export const TERMINAL_STATES: readonly QueryState[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];
export const isTerminal = (s: QueryStatus): boolean => TERMINAL_STATES.includes(s.state);

export interface MaintenanceEngine {
  /** Which engine: for the run's report and the README's tables. */
  readonly kind: 'athena' | 'duckdb';
  /** The lake's two relations as this engine names them in SQL: the flattened table and the checkpoints table. */
  readonly relations: { readonly table: string; readonly checkpoints: string };
  /**
   * Starts a statement and returns its query id. The same `token` returns
   * the same query instead of starting another (Athena's ClientRequestToken,
   * 32 to 128 characters): a run that crashed after starting a query and
   * before storing its id finds the same query again.
   */
  start(statement: UnloadStatement, token: string): Promise<string>;
  status(queryId: string): Promise<QueryStatus>;
  /** Cancels a running query (a plan given up); a finished one stays as it was. */
  stop(queryId: string): Promise<void>;
  /**
   * The carried columns the statements keep: the table's. Athena's table is the Glue table, whose
   * columns the module sets from the configured ones; a local lake has no catalog, so its engine
   * adds any column its files have beyond the schema's (nothing a file holds is dropped).
   */
  carried(configured: readonly string[]): Promise<string[]>;
}

/** A query token of the length Athena accepts (32 to 128 characters), from a plan's identity and attempt. */
export function queryToken(...parts: readonly (string | number)[]): string {
  const token = ['ddb-flatten', ...parts].join(':');
  if (token.length > 128) throw new Error(`query token too long (${token.length} > 128): ${token}`);
  return token.padEnd(32, '.');
}

const LEVEL = { min: 1, max: 22 } as const;

function checkLevel(level: number): void {
  if (!Number.isInteger(level) || level < LEVEL.min || level > LEVEL.max) throw new Error(`ZSTD level ${level} is not allowed: use an integer from ${LEVEL.min} to ${LEVEL.max}`);
}

function checkDestination(destination: string): void {
  if (!destination.endsWith('/') || destination.startsWith('/') || destination.includes("'") || destination.includes('..')) {
    throw new Error(`unload destination "${destination}" must be a key prefix ending in "/" (no leading "/", no quote, no "..")`);
  }
}

/**
 * Athena's spelling: UNLOAD with Parquet and ZSTD at a level. Athena's
 * documentation: UNLOAD (https://docs.aws.amazon.com/athena/latest/ug/unload.html):
 * "The TO destination must specify a location in Amazon S3 that has no data";
 * results are "written to multiple files in parallel", each file sorted when
 * the SELECT sorts; a failure leaves "orphaned data" that Athena does not
 * delete. ZSTD levels (compression-support-zstd-levels.html): "In the UNLOAD
 * statement WITH clause, specify compression = 'ZSTD', and then use
 * compression_level", a string from 1 to 22 (engine version 3).
 */
export function athenaUnloadSql(statement: UnloadStatement, bucket: string): string {
  checkLevel(statement.zstdLevel);
  checkDestination(statement.destination);
  return `UNLOAD (\n${statement.select}\n) TO 's3://${bucket}/${statement.destination}'\nWITH (format = 'PARQUET', compression = 'ZSTD', compression_level = '${statement.zstdLevel}')`;
}

/**
 * DuckDB's spelling: COPY … TO a folder, cut into files of about the target
 * size (https://duckdb.org/docs/sql/statements/copy: FILE_SIZE_BYTES writes
 * a directory of data_<n>.parquet files; like Athena's, each file keeps the
 * SELECT's order but the files are not ordered among themselves).
 */
export function duckdbCopySql(statement: UnloadStatement, folder: string): string {
  checkLevel(statement.zstdLevel);
  checkDestination(statement.destination);
  const path = `${folder.replace(/\/+$/, '')}/${statement.destination}`.replace(/\/+$/, '');
  // Files are cut between row groups: a row group is at most 100,000 rows and at most the target's bytes.
  const target = Math.max(1, Math.floor(Math.min(statement.targetBytes, Number.MAX_SAFE_INTEGER)));
  return `COPY (\n${statement.select}\n) TO '${path.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION zstd, COMPRESSION_LEVEL ${statement.zstdLevel}, FILE_SIZE_BYTES ${target}, ROW_GROUP_SIZE 100000, ROW_GROUP_SIZE_BYTES ${Math.min(target, 128 * 1024 * 1024)})`;
}

const UNLOAD = /^\s*UNLOAD\s*\(\s*([\s\S]*)\s*\)\s*TO\s*'s3:\/\/([^/']+)\/([^']*)'\s*WITH\s*\(([^)]*)\)\s*;?\s*$/i;

/**
 * Athena's spelling read back: what the tests' stand-in Athena server runs
 * (with DuckDB). It accepts the statements athenaUnloadSql writes and names
 * what is wrong with anything else.
 */
export function parseAthenaUnload(sql: string): { bucket: string; statement: UnloadStatement } {
  const m = UNLOAD.exec(sql);
  if (!m) throw new Error(`not an UNLOAD statement of the form UNLOAD (<select>) TO 's3://<bucket>/<prefix>/' WITH (...): ${sql.slice(0, 120)}`);
  const [, select, bucket, destination, withClause] = m as unknown as [string, string, string, string, string];
  const properties = Object.fromEntries(
    withClause
      .split(',')
      .map((p) => /^\s*([a-z_]+)\s*=\s*'([^']*)'\s*$/i.exec(p))
      .map((p, i) => {
        if (!p) throw new Error(`UNLOAD WITH property ${i + 1} is not of the form name = 'value': ${withClause}`);
        return [p[1]!.toLowerCase(), p[2]!];
      }),
  );
  if (properties.format?.toUpperCase() !== 'PARQUET') throw new Error(`UNLOAD format '${properties.format}' is not supported here: PARQUET only`);
  const compression = properties.compression?.toUpperCase() ?? 'GZIP';
  if (compression !== 'ZSTD') throw new Error(`UNLOAD compression '${compression}' is not supported here: ZSTD only`);
  const level = Number(properties.compression_level ?? 3);
  checkLevel(level);
  checkDestination(destination);
  return { bucket, statement: { select: select.trim(), destination, zstdLevel: level, targetBytes: Number.MAX_SAFE_INTEGER } };
}
