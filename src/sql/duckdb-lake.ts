import { readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { prefixProblem } from '../config/validate.ts';
import { dataColumns, PARTITION_COLUMN, rowColumnNames, type ColumnSpec } from '../schema/row-schema.ts';
import { type ElementViews, elementViewName } from '../schema/element-views.ts';
import { FolderStore } from '../lake/lake-store.ts';
import { NO_BOUND, NO_CHECKPOINT, readPointer } from '../maintenance/checkpoint.ts';
import { elementViewSql, expiredItemsSql, querySql, quoteIdent, viewSql, type QueryName, type SqlNames, type ViewPointer } from './views.ts';

/**
 * DuckDB over a local lake folder laid out like the bucket
 * (<root>/<prefix>/dt=YYYY-MM-DD/*.parquet): the flattened table as a view
 * over read_parquet with Hive partitioning, and the current-state and
 * expired-items views from the same SQL files Athena uses. npm start and the tests query through it.
 */

export interface LakeOptions {
  /** The lake folder (the bucket's root). */
  readonly root: string;
  /** Key prefix of the flattened rows inside the bucket. Default "flattened". */
  readonly prefix?: string;
  readonly carried?: readonly string[];
  /** Columns of the table view, in order; default the schema's (e.g. the e2e test passes Glue's). */
  readonly columns?: readonly string[];
  /** SQL name of the table view. Default "flattened". */
  readonly table?: string;
  /** SQL name of the current-state view. Default "current_state". */
  readonly currentView?: string;
  /** SQL name of the expired-items view (the last version of each item Time to Live deleted). Default "expired_items". */
  readonly expiredView?: string;
  /** Key prefix of the maintenance state (checkpoints) inside the bucket. Default "state". */
  readonly statePrefix?: string;
  /**
   * DuckDB's memory cap. The current-state view is a window over every row;
   * past the cap DuckDB spills to a temporary folder instead of growing, so
   * a query's memory does not grow with the lake. Default 256MB.
   */
  readonly memoryLimit?: string;
  /** Per-element views to create beside the current-state view (named `<attribute>_elements`). */
  readonly elementViews?: ElementViews;
}

export type LakeRow = Record<string, unknown>;

/** DuckDB type of a schema column, as DuckDB reads the lake's Parquet. */
function duckType(spec: ColumnSpec | undefined): string {
  switch (spec?.parquet) {
    case 'INT32':
      return 'INTEGER';
    case 'TIMESTAMP_MILLIS':
      // Athena types a Glue timestamp column as timestamp(3), without a time zone; DuckDB would read the
      // files' isAdjustedToUTC = true as TIMESTAMPTZ. The lake's table casts it (session zone UTC) so the
      // same SQL types the same locally and in Athena.
      return 'TIMESTAMP';
    default:
      return 'VARCHAR';
  }
}

function sqlString(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Which files of a partition folder a table reads. The table's own objects end in .parquet; a
 * checkpoint's are named by the engine that wrote it (Athena's UNLOAD gives no extension), so a
 * checkpoint folder is read whole, as Athena reads it: every file but hidden ones (`_…`, `.…`).
 */
export type FilePattern = '*.parquet' | '[!._]*';

function matches(file: string, pattern: FilePattern): boolean {
  return pattern === '*.parquet' ? file.endsWith('.parquet') : !file.startsWith('_') && !file.startsWith('.');
}

/** Whether any data file exists under <folder>/<partition>=*. */
async function folderHasFiles(folder: string, partition: string, pattern: FilePattern): Promise<boolean> {
  const partitions = await readdir(folder, { withFileTypes: true }).catch(() => []);
  for (const p of partitions) {
    if (!p.isDirectory() || !p.name.startsWith(`${partition}=`)) continue;
    const files = await readdir(join(folder, p.name)).catch(() => [] as string[]);
    if (files.some((f) => matches(f, pattern))) return true;
  }
  return false;
}

/** Whether any Parquet object exists under <root>/<prefix>/dt=*. */
export async function lakeHasFiles(root: string, prefix: string): Promise<boolean> {
  return folderHasFiles(join(root, prefix), 'dt', '*.parquet');
}

/** The columns the lake folder's objects have (the union over every file's schema), or none when it has no object yet. */
export async function lakeColumns(root: string, prefix: string): Promise<string[]> {
  const folder = join(resolve(root), prefix);
  if (!(await lakeHasFiles(root, prefix))) return [];
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet(${sqlString(`${folder}/dt=*/*.parquet`)}, union_by_name = true)`);
    return (reader.getRowObjectsJS() as LakeRow[]).map((r) => String(r.column_name));
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

export class DuckDbLake {
  readonly root: string;
  readonly prefix: string;
  readonly columns: readonly string[];
  readonly names: SqlNames;
  readonly statePrefix: string;
  /** SQL name of the expired-items view, quoted. */
  readonly expiredView: string;
  /** The checkpoint the current-state view read at the last refresh(). */
  pointer: ViewPointer = { checkpoint: NO_CHECKPOINT, bound: NO_BOUND };
  readonly elementViews: ElementViews;
  private readonly specs: ReadonlyMap<string, ColumnSpec>;
  private readonly instance: DuckDBInstance;
  private readonly connection: DuckDBConnection;

  private constructor(options: LakeOptions, instance: DuckDBInstance, connection: DuckDBConnection) {
    const carried = options.carried ?? [];
    this.root = resolve(options.root);
    this.prefix = options.prefix ?? 'flattened';
    const problem = prefixProblem(this.prefix);
    if (problem) throw new Error(`lake prefix: ${problem}`);
    this.columns = options.columns ?? rowColumnNames(carried);
    this.names = {
      table: quoteIdent(options.table ?? 'flattened'),
      currentView: quoteIdent(options.currentView ?? 'current_state'),
      checkpoints: quoteIdent('checkpoints'),
      carried,
    };
    this.statePrefix = options.statePrefix ?? 'state';
    this.expiredView = quoteIdent(options.expiredView ?? 'expired_items');
    this.elementViews = options.elementViews ?? {};
    this.specs = new Map([...dataColumns(carried), PARTITION_COLUMN].map((c) => [c.name, c]));
    this.instance = instance;
    this.connection = connection;
  }

  /** Opens an in-memory DuckDB with the table and current-state views over the lake folder. */
  static async open(options: LakeOptions): Promise<DuckDbLake> {
    const instance = await DuckDBInstance.create(':memory:', {
      memory_limit: options.memoryLimit ?? '256MB',
      temp_directory: join(tmpdir(), 'ddb-flatten-duckdb'),
      // Row order across files does not matter to any query here; not keeping it lets operators stream.
      preserve_insertion_order: 'false',
    });
    const connection = await instance.connect();
    let lake: DuckDbLake;
    try {
      lake = new DuckDbLake(options, instance, connection);
      await connection.run("SET TimeZone = 'UTC'");
      await lake.refresh();
    } catch (error) {
      connection.closeSync();
      instance.closeSync();
      throw error;
    }
    return lake;
  }

  /**
   * (Re)creates the views. A lake with no files yet gets an empty table of
   * the right column types, so queries work before the first write. Views
   * are built from the files present when called: call refresh() after the
   * first files arrive.
   */
  async refresh(): Promise<void> {
    await this.relation(this.names.table, join(this.root, this.prefix), 'dt', this.columns, this.columns, '*.parquet');
    // The checkpoints (state/checkpoints/checkpoint=<id>/), with dt stored in the files, partitioned by checkpoint.
    const checkpointColumns = [...this.columns, 'checkpoint'];
    await this.relation(this.names.checkpoints!, join(this.root, this.statePrefix, 'checkpoints'), 'checkpoint', checkpointColumns, this.columns, '[!._]*');
    const pointer = await readPointer(new FolderStore(this.root), { statePrefix: this.statePrefix });
    this.pointer = pointer;
    await this.connection.run(`CREATE OR REPLACE VIEW ${this.names.currentView} AS ${viewSql('current_state', { ...this.names, checkpoints: this.names.checkpoints! }, pointer)}`);
    await this.connection.run(`CREATE OR REPLACE VIEW ${this.expiredView} AS ${expiredItemsSql(this.names)}`);
    for (const [attribute, keys] of Object.entries(this.elementViews)) {
      await this.connection.run(`CREATE OR REPLACE VIEW ${quoteIdent(elementViewName(attribute))} AS ${elementViewSql(attribute, keys, this.names)}`);
    }
  }

  /**
   * A view over the Parquet files of a Hive-partitioned folder (<folder>/<partition>=*\/*.parquet), with
   * the given columns in order: like Athena over Glue, columns are matched by name and a column no file
   * has reads as NULL; a folder with no files yet is an empty relation of the right types.
   */
  private async relation(name: string, folder: string, partition: string, columns: readonly string[], fileColumns: readonly string[], pattern: FilePattern): Promise<void> {
    const files = (await folderHasFiles(folder, partition, pattern))
      ? `read_parquet(${sqlString(`${folder}/${partition}=*/${pattern}`)}, hive_partitioning = true, hive_types = {'${partition}': VARCHAR}, union_by_name = true)`
      : undefined;
    const present = new Set(files ? (await this.query(`DESCRIBE SELECT * FROM ${files}`)).map((r) => String(r.column_name)) : []);
    const select = columns
      .map((c) => {
        const type = c === partition ? 'VARCHAR' : duckType(this.specs.get(c));
        if (!present.has(c) || (!fileColumns.includes(c) && c !== partition)) return `CAST(NULL AS ${type}) AS ${quoteIdent(c)}`;
        return type === 'TIMESTAMP' ? `CAST(${quoteIdent(c)} AS TIMESTAMP) AS ${quoteIdent(c)}` : quoteIdent(c);
      })
      .join(', ');
    const source = files ? `${files} AS lake` : '(SELECT 1) AS lake WHERE false';
    await this.connection.run(`CREATE OR REPLACE VIEW ${name} AS SELECT ${select} FROM ${source}`);
  }

  /** Runs SQL and returns plain row objects (VARCHAR as string, INTEGER as number, BIGINT as bigint, TIMESTAMP as Date). */
  async query(sql: string): Promise<LakeRow[]> {
    const reader = await this.connection.runAndReadAll(sql);
    return reader.getRowObjectsJS() as LakeRow[];
  }

  /** One of the named Athena queries (sql/queries), rendered for this lake. */
  async namedQuery(name: QueryName): Promise<LakeRow[]> {
    return this.query(querySql(name, this.names));
  }

  /** count(*) of a relation: a table or view name, or a parenthesised subquery. */
  async count(relation: string): Promise<number> {
    const [row] = await this.query(`SELECT count(*) AS n FROM ${relation} AS counted`);
    return Number(row?.n ?? 0);
  }

  close(): void {
    this.connection.closeSync();
    this.instance.closeSync();
  }
}
