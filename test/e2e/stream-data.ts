import { rmSync } from 'node:fs';
import { DeleteItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { GetTableCommand } from '@aws-sdk/client-glue';
import { GetFunctionConfigurationCommand } from '@aws-sdk/client-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBRecord } from 'aws-lambda';
import { createHandler } from '../../handlers/router.ts';
import { asTriggerRecord } from '../../src/actions/redrive.ts';
import { loadPipelineConfig, type PipelineConfig } from '../../src/config/pipeline-config.ts';
import { Flattener } from '../../src/flatten/flatten.ts';
import { RowBatch } from '../../src/flatten/row-batch.ts';
import { appendSnapshotItem, appendStreamRecord, type StreamRecordLike } from '../../src/flatten/stream-record.ts';
import { S3Sink } from '../../src/lake/sink.ts';
import { DuckDbLake } from '../../src/sql/duckdb-lake.ts';
import { drainShard, type MappingOptions, type MappingStats } from '../support/event-source-mapping.ts';
import { downloadPrefix } from '../support/lake.ts';
import type { LocalAws } from './local-aws.ts';
import type { PipelineOutputs } from './verify.ts';

/**
 * Phase 2's data: the seed's items and the hard cases written through the
 * DynamoDB API, the real stream read back, the deployed function's own
 * configuration, the handler fed batch by batch as Lambda would, and the
 * lake queried with DuckDB through the Glue table's columns and view SQL.
 */

type Item = Record<string, AttributeValue>;
const S = (s: string): AttributeValue => ({ S: s });
const N = (n: string): AttributeValue => ({ N: n });
const M = (m: Item): AttributeValue => ({ M: m });
const L = (...l: AttributeValue[]): AttributeValue => ({ L: l });
const seed = (pk: string, status: string, ...pairs: [string, string][]): Item => ({ pk: S(pk), status: S(status), items: L(...pairs.map(([k, v]) => M({ [k]: S(v) }))) });

/** 38 significant digits: the most DynamoDB keeps; a double would lose them. */
export const BIG = '12345678901234567890123456789012345678';
export const TINY = '-0.00000000000000000000000000000000000000000000000000000000012345678901234567890123456789012345678';
export const BYTES = Uint8Array.from([0, 255, 1, 128, 10, 13]);

/** The seed's A1 to A3 and the hard cases. */
export const ITEMS: readonly Item[] = [
  seed('A1', 'new', ['key1', 'value1'], ['key2', 'value2']),
  seed('A2', 'new', ['key1', 'value3'], ['key2', 'value4']),
  seed('A3', 'new', ['key1', 'value5'], ['key2', 'value6']),
  { pk: S('numbers'), items: L(M({ big: N(BIG), negative: N(`-${BIG}`), tiny: N(TINY), exp: N('1E+125') }), N(BIG)) },
  { pk: S('sets'), items: L(M({ ss: { SS: ['b', 'a', 'ç'] }, ns: { NS: ['10', '2', BIG] }, bs: { BS: [BYTES, Uint8Array.from([1])] } })) },
  { pk: S('deep'), items: L(M({ a: M({ b: L(M({ c: M({ d: L(L(M({ e: M({ f: S('deepest') }) }))) }) })) }) })) },
  { pk: S('empty'), status: S('empty containers'), items: L(L(), M({}), M({ none: L(), nothing: M({}) })) },
  { pk: S('empty-list'), items: L() },
  { pk: S('binary'), items: L(M({ bin: { B: BYTES }, empty: { B: new Uint8Array(0) } })) },
  { pk: S('scalars'), items: L(M({ t: { BOOL: true }, f: { BOOL: false }, n: { NULL: true }, text: S('zß水🙂 "quoted"'), 'dotted.key[0]': S('escaped path') })) },
  { pk: S('no-items'), status: S('nothing to explode') },
];

/** Puts every item, then updates A1, deletes A2 and changes the hard cases: the writes the stream must carry. */
export async function writeItems(aws: LocalAws, table: string): Promise<number> {
  let writes = 0;
  for (const Item of ITEMS) {
    await aws.ddb.send(new PutItemCommand({ TableName: table, Item }));
    writes++;
  }
  await aws.ddb.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { pk: S('A1') },
      UpdateExpression: 'SET #items = :items, #status = :status',
      ExpressionAttributeNames: { '#items': 'items', '#status': 'status' },
      ExpressionAttributeValues: { ':items': L(M({ key1: S('value1-updated') })), ':status': S('shipped') },
    }),
  );
  await aws.ddb.send(new DeleteItemCommand({ TableName: table, Key: { pk: S('A2') } }));
  await aws.ddb.send(
    new UpdateItemCommand({
      TableName: table,
      Key: { pk: S('empty-list') },
      UpdateExpression: 'SET #items = list_append(#items, :more)',
      ExpressionAttributeNames: { '#items': 'items' },
      ExpressionAttributeValues: { ':more': L(M({ added: N('0.1') })) },
    }),
  );
  await aws.ddb.send(new UpdateItemCommand({ TableName: table, Key: { pk: S('deep') }, UpdateExpression: 'REMOVE #items', ExpressionAttributeNames: { '#items': 'items' } }));
  return writes + 4;
}

/**
 * GetRecords records as Lambda delivers them: the stream's JSON, where the
 * SDK's Date is epoch seconds and its bytes are base64, plus eventSourceARN
 * (the redrive's own conversion).
 */
export function asLambdaEventRecords(records: readonly _Record[], streamArn: string): DynamoDBRecord[] {
  return records.map((r) => asTriggerRecord(r, streamArn) as unknown as DynamoDBRecord);
}

/** The configuration the deployed function reads at cold start, from its environment as Lambda reports it. */
export async function deployedConfig(aws: LocalAws, functionName: string): Promise<PipelineConfig> {
  const fn = await aws.lambda.send(new GetFunctionConfigurationCommand({ FunctionName: functionName, Qualifier: 'live' }));
  return loadPipelineConfig(fn.Environment!.Variables!);
}

/** The Lambda entry point's handler (handlers/router.ts) on moto's S3, fed batch by batch like the event source mapping. */
export async function runHandler(aws: LocalAws, config: PipelineConfig, records: readonly DynamoDBRecord[], mapping: MappingOptions): Promise<{ stats: MappingStats; metrics: Record<string, number>[] }> {
  const metrics: Record<string, number>[] = [];
  const handler = createHandler({
    config,
    sink: new S3Sink(aws.s3, config.bucket),
    s3: aws.s3,
    clients: async () => ({ ddb: aws.ddb, streams: aws.streams, sqs: aws.sqs, s3: aws.s3, glue: aws.glue, lambda: aws.lambda, ssm: aws.ssm, athena: aws.athena }),
    // E2E_LOG_LEVEL=INFO shows the handler's own log lines.
    logger: new Logger({ serviceName: 'ddb-flatten-e2e', logLevel: (process.env.E2E_LOG_LEVEL ?? 'SILENT') as 'SILENT' }),
    writeMetrics: (line) => metrics.push(JSON.parse(line) as Record<string, number>),
  });
  const context = { functionName: 'orders-flatten', functionVersion: '1', awsRequestId: 'e2e', getRemainingTimeInMillis: () => 120_000 } as unknown as Context;
  const stats = await drainShard(records, async (event) => (await handler(event, context)) as never, mapping);
  return { stats, metrics };
}

/** The rows the lake must hold: the same records flattened in-process by the engine. */
export function expectedStreamRows(config: PipelineConfig, records: readonly DynamoDBRecord[]): Record<string, unknown>[] {
  const batch = new RowBatch(config.flatten.carry);
  const flattener = new Flattener(config.flatten);
  records.forEach((r, i) => appendStreamRecord(flattener, batch, r as unknown as StreamRecordLike, `record ${i}`));
  return [...batch.rows()];
}

/** The current state the view must show: every item now in the table, flattened (ABSENT rows leave nothing). */
export async function expectedCurrentRows(aws: LocalAws, config: PipelineConfig, table: string): Promise<Record<string, unknown>[]> {
  const items = (await aws.ddb.send(new ScanCommand({ TableName: table }))).Items ?? [];
  const batch = new RowBatch(config.flatten.carry);
  const flattener = new Flattener(config.flatten);
  items.forEach((item, i) => appendSnapshotItem(flattener, batch, item as never, 0, `item ${i}`));
  return [...batch.rows()].filter((r) => r.value_type !== 'ABSENT');
}

/** Rows as sorted JSON lines (timestamps as ISO text), optionally only some columns, for exact comparison. */
export function canonicalRows(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string[] {
  return rows
    .map((r) => (columns ? Object.fromEntries(columns.map((c) => [c, r[c]])) : r))
    .map((r) => JSON.stringify(r, (_k, v) => (v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? Number(v) : v)))
    .sort();
}

/** The Glue table's columns (data columns, then partition keys) and the view's SQL, as the Glue API reports them. */
export async function catalogOf(aws: LocalAws, out: PipelineOutputs): Promise<{ columns: string[]; viewSql: string }> {
  const DatabaseName = out.glue_catalog_database_name as string;
  const table = (await aws.glue.send(new GetTableCommand({ DatabaseName, Name: out.glue_catalog_table_name }))).Table!;
  const columns = [...table.StorageDescriptor!.Columns!, ...(table.PartitionKeys ?? [])].map((c) => c.Name!);
  const view = (await aws.glue.send(new GetTableCommand({ DatabaseName, Name: out.glue_catalog_view_name }))).Table!;
  const envelope = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(view.ViewOriginalText ?? '');
  if (!envelope) throw new Error(`the view's ViewOriginalText is not a Presto view: ${view.ViewOriginalText}`);
  return { columns, viewSql: (JSON.parse(Buffer.from(envelope[1]!, 'base64').toString('utf8')) as { originalSql: string }).originalSql };
}

/**
 * The lake bucket's objects downloaded from moto into a folder with the
 * bucket's layout (under `root`), opened in DuckDB with the Glue table's columns; the
 * Glue database is a schema there, so the deployed view SQL runs as is.
 */
export async function openLake(aws: LocalAws, out: PipelineOutputs, config: PipelineConfig, columns: readonly string[], root: string): Promise<{ lake: DuckDbLake; keys: string[] }> {
  rmSync(root, { recursive: true, force: true });
  const keys = await downloadPrefix(aws.s3, out.s3_bucket_name, `${config.dataPrefix}/`, root);
  // The maintenance state too: the view reads the checkpoint its pointer names.
  await downloadPrefix(aws.s3, out.s3_bucket_name, `${config.maintenance.statePrefix}/`, root);
  const lake = await DuckDbLake.open({ root, prefix: config.dataPrefix, statePrefix: config.maintenance.statePrefix, carried: config.flatten.carry, columns, table: out.glue_catalog_table_name });
  const db = `"${String(out.glue_catalog_database_name).replaceAll('"', '""')}"`;
  await lake.query(`CREATE SCHEMA ${db}`);
  await lake.query(`CREATE VIEW ${db}.${lake.names.table} AS SELECT * FROM main.${lake.names.table}`);
  await lake.query(`CREATE VIEW ${db}."${String(out.glue_catalog_checkpoints_table_name).replaceAll('"', '""')}" AS SELECT * FROM main.${lake.names.checkpoints}`);
  return { lake, keys };
}

/**
 * An action invocation of the deployed configuration's handler (as the alias runs it), on moto, at the
 * given clock, with `remainingMs` of its time left (the maintenance run waits for its queries until a
 * quarter of it is left).
 */
export async function invokeAction(aws: LocalAws, config: PipelineConfig, payload: Record<string, unknown>, now: () => number = Date.now, remainingMs = 900_000): Promise<Record<string, any>> {
  const handler = createHandler({
    config,
    sink: new S3Sink(aws.s3, config.bucket),
    s3: aws.s3,
    clients: async () => ({ ddb: aws.ddb, streams: aws.streams, sqs: aws.sqs, s3: aws.s3, glue: aws.glue, lambda: aws.lambda, ssm: aws.ssm, athena: aws.athena }),
    logger: new Logger({ serviceName: 'ddb-flatten-e2e', logLevel: (process.env.E2E_LOG_LEVEL ?? 'SILENT') as 'SILENT' }),
    now,
  });
  const deadline = Date.now() + remainingMs;
  const context = { functionName: 'orders-flatten', functionVersion: '1', awsRequestId: 'e2e-action', getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()) } as unknown as Context;
  return (await handler(payload, context)) as Record<string, any>;
}
