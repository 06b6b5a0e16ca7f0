import { GetTableCommand, UpdateTableCommand, type GlueClient, type TableInput } from '@aws-sdk/client-glue';
import { InvokeCommand, type LambdaClient } from '@aws-sdk/client-lambda';
import { GetParameterCommand, ParameterNotFound, PutParameterCommand, type SSMClient } from '@aws-sdk/client-ssm';
import { GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../config/pipeline-config.ts';
import type { LakeStore } from '../lake/lake-store.ts';
import { pointerText, type CheckpointPointer } from '../maintenance/checkpoint.ts';
import { decodePrestoView, PRESTO_VIEW, terraformJsonEncode } from '../sql/presto-view.ts';
import { repointViewSql } from '../sql/views.ts';
import { backfillStatus } from './backfill.ts';
import type { AthenaClient } from '@aws-sdk/client-athena';
import { AthenaEngine } from '../maintenance/athena-engine.ts';
import type { Hold, MaintenanceRequest } from './maintenance.ts';
import type { EraseRequest } from './payload.ts';

/**
 * The maintenance run's AWS side: moving the Glue view to a checkpoint,
 * what holds a checkpoint back, and handing tasks to other invocations.
 */

/**
 * Points the current-state view at a checkpoint. Only the SQL's two pointer
 * literals change; the envelope is encoded as Terraform's jsonencode() does,
 * so the text is exactly what Terraform renders from the same pointer, and
 * its next plan has nothing to change. Every other field Terraform manages
 * is sent back as Glue returned it.
 */
export async function repointGlueView(glue: GlueClient, database: string, view: string, pointer: CheckpointPointer): Promise<void> {
  const { Table: table } = await glue.send(new GetTableCommand({ DatabaseName: database, Name: view }));
  if (!table || table.TableType !== 'VIRTUAL_VIEW' || !table.ViewOriginalText) throw new Error(`Glue ${database}.${view} is not an Athena view`);
  const decoded = decodePrestoView(table.ViewOriginalText);
  const originalSql = repointViewSql(decoded.originalSql, pointer);
  if (originalSql === decoded.originalSql) return;
  const json = terraformJsonEncode({ catalog: decoded.catalog, columns: decoded.columns.map((c) => ({ name: c.name, type: c.type })), originalSql, schema: decoded.schema });
  const input: TableInput = {
    Name: table.Name,
    Description: table.Description,
    Owner: table.Owner,
    Retention: table.Retention,
    StorageDescriptor: table.StorageDescriptor,
    PartitionKeys: table.PartitionKeys,
    TableType: table.TableType,
    Parameters: table.Parameters,
    TargetTable: table.TargetTable,
    ViewExpandedText: table.ViewExpandedText,
    ViewOriginalText: `${PRESTO_VIEW.prefix}${Buffer.from(json, 'utf8').toString('base64')}${PRESTO_VIEW.suffix}`,
  };
  await glue.send(new UpdateTableCommand({ DatabaseName: database, TableInput: input }));
}

/**
 * Moves the SSM parameter Terraform reads the pointer from (the module
 * renders the view's text from it). Written before the view moves: a plan
 * made in between renders the new pointer, which the view gets next anyway.
 * Unchanged values are not rewritten (each PutParameter makes a version).
 */
export async function movePointerParameter(ssm: SSMClient, name: string, pointer: CheckpointPointer): Promise<void> {
  const value = pointerText(pointer).trim();
  try {
    const { Parameter } = await ssm.send(new GetParameterCommand({ Name: name }));
    if (Parameter?.Value === value) return;
  } catch (error) {
    if (!(error instanceof ParameterNotFound)) throw error;
  }
  await ssm.send(new PutParameterCommand({ Name: name, Value: value, Type: 'String', Overwrite: true }));
}

/** Failures waiting in the on-failure queue: a redrive may still write rows of any recent day. */
export async function dlqHold(sqs: SQSClient, queueUrl: string, currentBound: string): Promise<Hold[]> {
  const { Attributes: a = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'] }),
  );
  const waiting = Number(a.ApproximateNumberOfMessages ?? 0) + Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) + Number(a.ApproximateNumberOfMessagesDelayed ?? 0);
  return waiting > 0 ? [{ before: currentBound, reason: `${waiting} message(s) in the on-failure queue (redrive them first)`, kind: 'dlq' as const }] : [];
}

/** Backfills whose export is still running or whose files are not all flattened: their SNAPSHOT rows belong to the export's day. */
export async function backfillHolds(store: LakeStore, ddb: DynamoDBClient, s3: S3Client, config: PipelineConfig): Promise<Hold[]> {
  const holds: Hold[] = [];
  for (const folder of await store.folders(`${config.actions.exportPrefix}/`)) {
    const started = await store.read(`${config.actions.exportPrefix}/${folder}/ddb-flatten/started.json`);
    if (!started) continue;
    const { exportArn, exportTime } = JSON.parse(Buffer.from(started).toString('utf8')) as { exportArn: string; exportTime: string };
    const status = await backfillStatus(ddb, s3, config, exportArn);
    if (!status.done) holds.push({ before: exportTime.slice(0, 10), reason: `backfill ${exportArn} is ${status.exportStatus} with ${status.pending.length} file(s) to flatten`, kind: 'backfill' });
  }
  return holds;
}

/**
 * Hands a run on to a later invocation of the function's own alias, asynchronously (bounded retries,
 * then the DLQ), while a query outlasts this one. Chosen over Athena's "Query State Change" events on
 * EventBridge, which Athena emits "on a best effort basis" (Athena User Guide, "Monitor Athena query
 * events with EventBridge"; EventBridge's reference lists their delivery as best effort): a lost
 * event would leave the run to the next day's schedule. An invocation that polls is also one path
 * to test, with no rule, target or permission to add.
 */
export function lambdaHandOn(lambda: LambdaClient, qualifiedArn: string): (request: MaintenanceRequest | EraseRequest) => Promise<void> {
  return async (request) => {
    await lambda.send(new InvokeCommand({ FunctionName: qualifiedArn, InvocationType: 'Event', Payload: Buffer.from(JSON.stringify(request)) }));
  };
}

/** The engine of the scheduled run: Athena, in the maintenance workgroup, over the lake's Glue tables. */
export function athenaEngine(athena: AthenaClient, config: PipelineConfig, glue?: GlueClient): AthenaEngine {
  const m = config.maintenance;
  const missing = (
    [
      ['ATHENA_WORKGROUP', m.athenaWorkgroup],
      ['GLUE_DATABASE', m.glueDatabase],
      ['GLUE_TABLE', m.glueTable],
      ['GLUE_CHECKPOINTS_TABLE', m.glueCheckpointsTable],
    ] as const
  ).flatMap(([name, value]) => (value ? [] : [name]));
  if (missing.length) throw new Error(`the maintenance run needs ${missing.join(', ')} in the function's environment (the module sets them): it runs its statements in Athena`);
  return new AthenaEngine(athena, { workgroup: m.athenaWorkgroup!, bucket: config.bucket, database: m.glueDatabase!, table: m.glueTable!, checkpointsTable: m.glueCheckpointsTable! }, glue);
}
