import { GetQueryExecutionCommand, StartQueryExecutionCommand, StopQueryExecutionCommand, type AthenaClient } from '@aws-sdk/client-athena';
import { GetTableCommand, type GlueClient } from '@aws-sdk/client-glue';
import { ROW_COLUMNS } from '../schema/row-schema.ts';
import { quoteIdent } from '../sql/views.ts';
import { athenaUnloadSql, type MaintenanceEngine, type QueryState, type QueryStatus, type UnloadStatement } from './engine.ts';

export interface AthenaEngineSettings {
  /** The maintenance workgroup: its own bytes-scanned cutoff, results location and encryption (enforced). */
  readonly workgroup: string;
  /** The lake bucket the statements write to. */
  readonly bucket: string;
  readonly database: string;
  readonly table: string;
  readonly checkpointsTable: string;
}

/** How Athena words a statement it cancelled at the account's DML query timeout ("Query timeout", "...timed out..."). */
const TIMED_OUT = /time ?out|timed out/i;

/**
 * Said with a statement that timed out: the same statement fails the same way in the next run, so the
 * quota is what has to change. Athena's Service Quotas page: "DML query timeout – ... You can request an
 * increase in this timeout up to a maximum of 240 minutes" (https://docs.aws.amazon.com/athena/latest/ug/service-limits.html).
 */
export const DML_TIMEOUT_HINT =
  " (Athena's DML query timeout, 30 minutes by default: the next run starts the same statement and fails the same way. Request an increase of the 'DML query timeout' quota for Amazon Athena in Service Quotas, up to 240 minutes; see docs/performance.md, 'What the model says about running the maintenance at 1 B items')";

/**
 * The maintenance engine in AWS: Athena, the engine the module provisions,
 * runs each statement as UNLOAD in the maintenance workgroup; Athena reads
 * the lake through Glue and writes the output objects itself. The function
 * only starts the query, stores its id and polls it.
 */
export class AthenaEngine implements MaintenanceEngine {
  readonly kind = 'athena' as const;
  readonly relations: { readonly table: string; readonly checkpoints: string };
  private readonly athena: AthenaClient;
  private readonly settings: AthenaEngineSettings;
  private readonly glue?: GlueClient;

  /** With `glue`, the carried columns are read from the Glue table (what Athena reads); without, the configured ones are trusted. */
  constructor(athena: AthenaClient, settings: AthenaEngineSettings, glue?: GlueClient) {
    this.athena = athena;
    this.settings = settings;
    this.glue = glue;
    const db = quoteIdent(settings.database);
    this.relations = { table: `${db}.${quoteIdent(settings.table)}`, checkpoints: `${db}.${quoteIdent(settings.checkpointsTable)}` };
  }

  async start(statement: UnloadStatement, token: string): Promise<string> {
    const { QueryExecutionId } = await this.athena.send(
      new StartQueryExecutionCommand({
        QueryString: athenaUnloadSql(statement, this.settings.bucket),
        WorkGroup: this.settings.workgroup,
        QueryExecutionContext: { Database: this.settings.database },
        // Idempotent: the same token returns the same query (StartQueryExecution, ClientRequestToken).
        ClientRequestToken: token,
      }),
    );
    if (!QueryExecutionId) throw new Error(`Athena started no query for ${token} (no QueryExecutionId in the response)`);
    return QueryExecutionId;
  }

  async status(queryId: string): Promise<QueryStatus> {
    const { QueryExecution: q } = await this.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: queryId }));
    const state = (q?.Status?.State ?? 'QUEUED') as QueryState;
    const given = q?.Status?.StateChangeReason ?? q?.Status?.AthenaError?.ErrorMessage;
    const reason = given && state === 'FAILED' && TIMED_OUT.test(given) ? `${given}${DML_TIMEOUT_HINT}` : given;
    return { state, ...(reason ? { reason } : {}), ...(q?.Statistics?.DataScannedInBytes !== undefined ? { bytesScanned: q.Statistics.DataScannedInBytes } : {}) };
  }

  async carried(configured: readonly string[]): Promise<string[]> {
    if (!this.glue) return [...configured];
    // Athena reads the table as Glue declares it: its columns beyond the schema's are the carried ones.
    const { Table } = await this.glue.send(new GetTableCommand({ DatabaseName: this.settings.database, Name: this.settings.table }));
    const fixed = new Set<string>(ROW_COLUMNS.map((c) => c.name));
    const declared = (Table?.StorageDescriptor?.Columns ?? []).map((c) => c.Name!.toLowerCase()).filter((c) => !fixed.has(c));
    const missing = configured.filter((c) => !declared.includes(c));
    if (missing.length) throw new Error(`the Glue table ${this.settings.database}.${this.settings.table} has no column ${missing.join(', ')} of the carried attributes given: the statements would drop it`);
    return declared;
  }

  async stop(queryId: string): Promise<void> {
    await this.athena.send(new StopQueryExecutionCommand({ QueryExecutionId: queryId }));
  }
}
