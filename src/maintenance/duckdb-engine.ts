import { mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { DuckDbLake, lakeColumns, type LakeOptions } from '../sql/duckdb-lake.ts';
import { ROW_COLUMNS } from '../schema/row-schema.ts';
import { duckdbCopySql, type MaintenanceEngine, type QueryStatus, type UnloadStatement } from './engine.ts';

/**
 * The maintenance engine on a lake folder: DuckDB runs the statement over
 * the folder's objects, laid out like the bucket, as Athena would over the
 * bucket. A statement runs to its end inside start() (DuckDB is in the
 * process), so status() knows every query this engine started; a query id
 * it does not know (one an earlier process started before it crashed) is
 * reported FAILED, and the run starts that work again.
 */
export class DuckDbEngine implements MaintenanceEngine {
  readonly kind = 'duckdb' as const;
  readonly relations: { readonly table: string; readonly checkpoints: string };
  private options: LakeOptions;
  private readonly queries = new Map<string, QueryStatus>();
  private lake?: DuckDbLake;

  constructor(options: LakeOptions) {
    this.options = options;
    // DuckDbLake's names: the views it creates over the folder.
    this.relations = { table: `"${options.table ?? 'flattened'}"`, checkpoints: '"checkpoints"' };
  }

  /** One statement at a time: the engine has one connection, and a statement refreshes the views it reads. */
  private queue: Promise<unknown> = Promise.resolve();

  async start(statement: UnloadStatement, token: string): Promise<string> {
    const run = this.queue.then(() => this.run(statement, token));
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async run(statement: UnloadStatement, token: string): Promise<string> {
    const known = this.queries.get(token);
    if (known) return token;
    // Athena refuses a destination that has data; here a crashed earlier attempt may have left some.
    const target = join(this.options.root, statement.destination);
    await rm(target, { recursive: true, force: true });
    try {
      // DuckDB creates the destination folder, not its parents; S3 has no folders to create.
      await mkdir(dirname(target), { recursive: true });
      const lake = await this.open();
      // The views see the files present now (a new day, a new checkpoint).
      await lake.refresh();
      await lake.query(duckdbCopySql(statement, this.options.root));
      this.queries.set(token, { state: 'SUCCEEDED' });
    } catch (error) {
      await rm(join(this.options.root, statement.destination), { recursive: true, force: true });
      this.queries.set(token, { state: 'FAILED', reason: (error as Error).message });
    }
    return token;
  }

  async status(queryId: string): Promise<QueryStatus> {
    return this.queries.get(queryId) ?? { state: 'FAILED', reason: `query ${queryId} is not known to this DuckDB engine (an earlier process started it)` };
  }

  async carried(configured: readonly string[]): Promise<string[]> {
    const fixed = new Set<string>([...ROW_COLUMNS.map((c) => c.name), 'dt', 'checkpoint']);
    const found = (await lakeColumns(this.options.root, this.options.prefix ?? 'flattened')).filter((c) => !fixed.has(c) && !configured.includes(c)).sort();
    const carried = [...configured, ...found];
    if (carried.join() !== (this.options.carried ?? []).join()) {
      // The views must show every carried column: reopen them with the full list.
      this.close();
      this.options = { ...this.options, carried };
    }
    return carried;
  }

  async stop(): Promise<void> {
    // Nothing runs in the background: a statement is done when start() returns.
  }

  private async open(): Promise<DuckDbLake> {
    this.lake ??= await DuckDbLake.open(this.options);
    return this.lake;
  }

  close(): void {
    this.lake?.close();
    this.lake = undefined;
  }
}
