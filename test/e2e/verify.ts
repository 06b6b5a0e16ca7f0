import { DescribeContinuousBackupsCommand, DescribeTableCommand, DescribeTimeToLiveCommand, ListTagsOfResourceCommand } from '@aws-sdk/client-dynamodb';
import { GetDatabaseCommand, GetTableCommand } from '@aws-sdk/client-glue';
import {
  GetAliasCommand,
  GetFunctionCommand,
  GetFunctionEventInvokeConfigCommand,
  GetPolicyCommand,
  ListEventSourceMappingsCommand,
  ListVersionsByFunctionCommand,
} from '@aws-sdk/client-lambda';
import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetBucketTaggingCommand,
  GetBucketVersioningCommand,
  GetPublicAccessBlockCommand,
} from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { expect } from 'vitest';
import { EXPORT_DATA_SUFFIX } from '../../modules/backfill-notification.ts';
import { currentStateSql, elementSql, expiredItemsViewSql, expiredViewColumns, glueColumns, PARQUET, projectionParameters, viewColumns } from '../../modules/glue-catalog.ts';
import { PRESTO_VIEW, prestoViewOriginalText, viewColumn } from '../../modules/presto-view.ts';
import { elementViewColumns, elementViewName } from '../../src/schema/element-views.ts';
import { WILDCARD_RESOURCE_ACTIONS } from '../../modules/iam.ts';
import { DEFAULTS } from '../../modules/props.ts';
import { ARCHITECTURE, RUNTIME } from '../../modules/stream-function.ts';
import { HANDLER_NAME } from '../../modules/lambda-bundle.ts';
import { PIPELINE_TAG } from '../../modules/naming.ts';
import { loadPipelineConfig } from '../../src/config/pipeline-config.ts';
import { QUERIES } from '../../src/sql/views.ts';
import { MOTO_REGION } from '../support/moto.ts';
import { xmlValue, xmlValues, type LocalAws } from './local-aws.ts';

/** moto's account. */
const ACCOUNT = '123456789012';

/**
 * Every resource of a deployed pipeline, read back through the AWS APIs
 * (never through Terraform's state) and compared with what the module
 * means to create: its own constants, the row schema and the view SQL.
 */

/** The module's outputs (names of FlatteningPipeline.outputs()), as applied. */
export type PipelineOutputs = Record<string, any>;

export interface Expected {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly explode: readonly string[];
  readonly carried: readonly string[];
  /** The customer managed key, when the pipeline has one. */
  readonly kmsKeyArn?: string;
  /** base64 sha256 of the zip the function must run. */
  readonly codeSha256: string;
  /** Tags every taggable resource must carry (module tags plus provider default_tags). */
  readonly tags: Readonly<Record<string, string>>;
  /** Whether the stream trigger exists. */
  readonly mapping: boolean;
  /** The configured per-element views. */
  readonly elementViews?: Readonly<Record<string, readonly string[]>>;
  /** The table's Time to Live attribute, when the deployment sets one (ttl_attribute); otherwise TTL must be off. */
  readonly ttlAttribute?: string;
}

export interface CheckContext {
  readonly aws: LocalAws;
  readonly out: PipelineOutputs;
  readonly expected: Expected;
}

type Statement = { Sid?: string; Effect: string; Action: string | string[]; Resource: string | string[]; Principal?: unknown; Condition?: Record<string, Record<string, unknown>> };
const list = <T>(v: T | T[] | undefined): T[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function expectTags(actual: Record<string, string | undefined>, expected: Expected, what: string): void {
  expect(actual, `${what} tags`).toMatchObject({ [PIPELINE_TAG]: expected.name, ...expected.tags });
}

export async function checkTable({ aws, out, expected }: CheckContext): Promise<void> {
  const table = (await aws.ddb.send(new DescribeTableCommand({ TableName: out.dynamodb_table_name }))).Table!;
  expect(table.TableArn).toBe(out.dynamodb_table_arn);
  expect(table.TableArn).toMatch(/^arn:aws:dynamodb:us-east-1:\d{12}:table\//);
  expect(table.StreamSpecification).toEqual({ StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' });
  expect(table.LatestStreamArn).toBe(out.dynamodb_table_stream_arn);
  expect(table.BillingModeSummary?.BillingMode).toBe('PAY_PER_REQUEST');
  expect(table.KeySchema).toEqual([
    { AttributeName: expected.partitionKey, KeyType: 'HASH' },
    ...(expected.sortKey ? [{ AttributeName: expected.sortKey, KeyType: 'RANGE' }] : []),
  ]);
  expect(table.DeletionProtectionEnabled).toBe(true);
  expect(table.SSEDescription?.Status).toBe('ENABLED');
  if (expected.kmsKeyArn) expect(table.SSEDescription).toMatchObject({ SSEType: 'KMS', KMSMasterKeyArn: expected.kmsKeyArn });
  const backups = await aws.ddb.send(new DescribeContinuousBackupsCommand({ TableName: out.dynamodb_table_name }));
  expect(backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription?.PointInTimeRecoveryStatus).toBe('ENABLED');
  const tags = await aws.ddb.send(new ListTagsOfResourceCommand({ ResourceArn: table.TableArn }));
  expectTags(Object.fromEntries((tags.Tags ?? []).map((t) => [t.Key!, t.Value])), expected, 'table');
  // Time to Live: on the configured attribute, or off (the module writes ttl { enabled = false } without one).
  const ttl = (await aws.ddb.send(new DescribeTimeToLiveCommand({ TableName: out.dynamodb_table_name }))).TimeToLiveDescription;
  if (expected.ttlAttribute) expect(ttl).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: expected.ttlAttribute });
  else expect(ttl?.TimeToLiveStatus).toBe('DISABLED');
}

export async function checkBucket({ aws, out, expected }: CheckContext): Promise<void> {
  const Bucket = out.s3_bucket_name as string;
  const arn = `arn:aws:s3:::${Bucket}`;
  expect(out.s3_bucket_arn).toBe(arn);

  const sse = (await aws.s3.send(new GetBucketEncryptionCommand({ Bucket }))).ServerSideEncryptionConfiguration!.Rules!;
  expect(sse).toHaveLength(1);
  if (expected.kmsKeyArn) {
    expect(sse[0]).toMatchObject({ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: expected.kmsKeyArn }, BucketKeyEnabled: true });
  } else {
    expect(sse[0]!.ApplyServerSideEncryptionByDefault?.SSEAlgorithm).toBe('AES256');
  }

  const pab = (await aws.s3.send(new GetPublicAccessBlockCommand({ Bucket }))).PublicAccessBlockConfiguration;
  expect(pab).toEqual({ BlockPublicAcls: true, IgnorePublicAcls: true, BlockPublicPolicy: true, RestrictPublicBuckets: true });
  const ownership = (await aws.s3.send(new GetBucketOwnershipControlsCommand({ Bucket }))).OwnershipControls?.Rules;
  expect(ownership).toEqual([{ ObjectOwnership: 'BucketOwnerEnforced' }]);
  expect((await aws.s3.send(new GetBucketVersioningCommand({ Bucket }))).Status).toBe('Enabled');

  // TLS only: deny plain HTTP and TLS older than 1.2, for the bucket and every object, to everyone.
  const policy = JSON.parse((await aws.s3.send(new GetBucketPolicyCommand({ Bucket }))).Policy!) as { Statement: Statement[] };
  const denies = policy.Statement.filter((s) => s.Effect === 'Deny');
  const insecure = denies.find((s) => s.Condition?.Bool?.['aws:SecureTransport'] !== undefined);
  const oldTls = denies.find((s) => s.Condition?.NumericLessThan?.['s3:TlsVersion'] !== undefined);
  for (const [what, s] of [['plain HTTP', insecure], ['TLS < 1.2', oldTls]] as const) {
    expect(s, `a Deny statement for ${what}`).toBeDefined();
    expect(list(s!.Action)).toEqual(['s3:*']);
    expect(list(s!.Resource).sort()).toEqual([arn, `${arn}/*`]);
    expect(JSON.stringify(s!.Principal)).toMatch(/"\*"/);
  }
  expect(String(list(insecure!.Condition!.Bool!['aws:SecureTransport'] as string)[0])).toBe('false');
  expect(String(list(oldTls!.Condition!.NumericLessThan!['s3:TlsVersion'] as string)[0])).toBe('1.2');
  expect(policy.Statement.filter((s) => s.Effect === 'Allow'), 'the bucket policy grants nothing').toEqual([]);

  const rules = (await aws.s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket }))).Rules!;
  const byId = Object.fromEntries(rules.map((r) => [r.ID!, r]));
  const lake = DEFAULTS.lake;
  expect(byId['abort-incomplete-multipart-uploads']?.AbortIncompleteMultipartUpload?.DaysAfterInitiation).toBe(lake.abortIncompleteMultipartUploadDays);
  expect(byId['expire-athena-results']).toMatchObject({ Status: 'Enabled', Expiration: { Days: lake.athenaResultsExpirationDays }, Filter: { Prefix: `${lake.athenaResultsPrefix}/` } });
  expect(byId['expire-noncurrent-versions']?.NoncurrentVersionExpiration?.NoncurrentDays).toBe(lake.noncurrentVersionExpirationDays);

  // Backfill: S3 notifies the alias of every export data file.
  const notification = await aws.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket }));
  const toLambda = notification.LambdaFunctionConfigurations ?? [];
  expect(toLambda).toHaveLength(1);
  expect(toLambda[0]).toMatchObject({ LambdaFunctionArn: out.lambda_alias_arn, Events: ['s3:ObjectCreated:*'] });
  const filter = Object.fromEntries((toLambda[0]!.Filter?.Key?.FilterRules ?? []).map((r) => [String(r.Name).toLowerCase(), r.Value]));
  expect(filter).toEqual({ prefix: `${DEFAULTS.backfill.exportPrefix}/`, suffix: EXPORT_DATA_SUFFIX });

  const tags = (await aws.s3.send(new GetBucketTaggingCommand({ Bucket }))).TagSet ?? [];
  expectTags(Object.fromEntries(tags.map((t) => [t.Key!, t.Value])), expected, 'bucket');
}

/** The `${dt}` placeholder arrives in Glue unescaped (the module writes Terraform's `$${dt}`). */
export function expectedProjection(bucket: string): Record<string, string> {
  const params = projectionParameters(`s3://${bucket}/${DEFAULTS.lake.dataPrefix}/`, DEFAULTS.glue.projectionStartDate);
  return Object.fromEntries(Object.entries(params).map(([k, v]) => [k, v.replaceAll('$${', '${')]));
}

export async function checkCatalog({ aws, out, expected }: CheckContext): Promise<void> {
  const DatabaseName = out.glue_catalog_database_name as string;
  expect((await aws.glue.send(new GetDatabaseCommand({ Name: DatabaseName }))).Database?.Name).toBe(DatabaseName);

  const table = (await aws.glue.send(new GetTableCommand({ DatabaseName, Name: out.glue_catalog_table_name }))).Table!;
  expect(table.TableType).toBe('EXTERNAL_TABLE');
  const sd = table.StorageDescriptor!;
  expect(sd.Columns!.map((c) => ({ name: c.Name, type: c.Type, comment: c.Comment }))).toEqual(glueColumns(expected.carried));
  expect(table.PartitionKeys!.map((c) => [c.Name, c.Type])).toEqual([['dt', 'string']]);
  expect(sd.Location).toBe(`s3://${out.s3_bucket_name}/${DEFAULTS.lake.dataPrefix}/`);
  expect(sd.InputFormat).toBe(PARQUET.inputFormat);
  expect(sd.OutputFormat).toBe(PARQUET.outputFormat);
  expect(sd.SerdeInfo?.SerializationLibrary).toBe(PARQUET.serde);
  expect(table.Parameters).toMatchObject({ classification: 'parquet', EXTERNAL: 'TRUE', ...expectedProjection(out.s3_bucket_name) });

  const view = (await aws.glue.send(new GetTableCommand({ DatabaseName, Name: out.glue_catalog_view_name }))).Table!;
  expect(view.TableType).toBe('VIRTUAL_VIEW');
  expect(view.Parameters).toMatchObject(PRESTO_VIEW.parameters);
  expect(view.StorageDescriptor!.SerdeInfo).toEqual({ Name: '-', SerializationLibrary: '-' });
  const sql = currentStateSql(DatabaseName, out.glue_catalog_table_name, expected.carried);
  expect(view.ViewOriginalText).toBe(prestoViewOriginalText(DatabaseName, sql, viewColumns(expected.carried)));
  expect(view.StorageDescriptor!.Columns!.map((c) => [c.Name, c.Type])).toEqual(viewColumns(expected.carried).map((c) => [c.name, c.glue]));

  // The expired-items view: the last version of each item Time to Live deleted, over the table (no checkpoint).
  expect(out.glue_catalog_expired_items_view_name).toBe(DEFAULTS.glue.expiredItemsViewName);
  const expired = (await aws.glue.send(new GetTableCommand({ DatabaseName, Name: out.glue_catalog_expired_items_view_name }))).Table!;
  expect(expired.TableType).toBe('VIRTUAL_VIEW');
  expect(expired.Parameters).toMatchObject(PRESTO_VIEW.parameters);
  expect(expired.StorageDescriptor!.SerdeInfo).toEqual({ Name: '-', SerializationLibrary: '-' });
  expect(expired.ViewOriginalText).toBe(prestoViewOriginalText(DatabaseName, expiredItemsViewSql(DatabaseName, out.glue_catalog_table_name, expected.carried), expiredViewColumns(expected.carried)));
  expect(expired.StorageDescriptor!.Columns!.map((c) => [c.Name, c.Type])).toEqual(expiredViewColumns(expected.carried).map((c) => [c.name, c.glue]));

  for (const [attribute, keys] of Object.entries(expected.elementViews ?? {})) {
    const element = (await aws.glue.send(new GetTableCommand({ DatabaseName, Name: elementViewName(attribute) }))).Table!;
    const columns = elementViewColumns(keys, expected.carried).map(viewColumn);
    expect(element.TableType).toBe('VIRTUAL_VIEW');
    expect(element.Parameters).toMatchObject(PRESTO_VIEW.parameters);
    expect(element.ViewOriginalText).toBe(prestoViewOriginalText(DatabaseName, elementSql(DatabaseName, out.glue_catalog_view_name, attribute, keys, expected.carried), columns));
    expect(element.StorageDescriptor!.Columns!.map((c) => [c.Name, c.Type])).toEqual(columns.map((c) => [c.name, c.glue]));
  }
}

/**
 * The daily maintenance: the schedule on the alias, its role, the checkpoints table, the pointer parameter the view
 * follows, the maintenance workgroup its UNLOAD statements run in, and what the function is told of them.
 */
export async function checkMaintenance({ aws, out, expected }: CheckContext): Promise<void> {
  const DatabaseName = out.glue_catalog_database_name as string;
  const checkpoints = (await aws.glue.send(new GetTableCommand({ DatabaseName, Name: out.glue_catalog_checkpoints_table_name }))).Table!;
  expect(checkpoints.TableType).toBe('EXTERNAL_TABLE');
  expect(checkpoints.PartitionKeys!.map((c) => [c.Name, c.Type])).toEqual([['checkpoint', 'string']]);
  expect(checkpoints.StorageDescriptor!.Location).toBe(`s3://${out.s3_bucket_name}/${DEFAULTS.lake.statePrefix}/checkpoints/`);
  expect(checkpoints.Parameters).toMatchObject({ 'projection.enabled': 'true', 'projection.checkpoint.type': 'injected', 'storage.location.template': `s3://${out.s3_bucket_name}/${DEFAULTS.lake.statePrefix}/checkpoints/checkpoint=\${checkpoint}/` });

  const name = `/ddb-flatten/${String(out.lambda_function_name).replace(/-flatten$/, '')}/checkpoint-pointer`;
  const { Parameter } = await aws.json('ssm', 'AmazonSSM.GetParameter', { Name: name });
  expect(Parameter).toMatchObject({ Type: 'String' });
  expect(JSON.parse(Parameter.Value)).toMatchObject({ checkpoint: 'none', bound: '0000-01-01' });

  // EventBridge Scheduler is a REST API: GET /schedules/<name>.
  const schedule = await aws.rest<Record<string, any>>('scheduler', 'GET', `/schedules/${encodeURIComponent(out.scheduler_schedule_name as string)}`);
  expect(schedule).toMatchObject({
    ScheduleExpression: DEFAULTS.compaction.scheduleExpression,
    ScheduleExpressionTimezone: 'UTC',
    State: 'ENABLED',
    FlexibleTimeWindow: { Mode: 'OFF' },
    Target: { Arn: out.lambda_alias_arn, Input: '{"action":"compact"}', RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 3600 } },
  });
  const RoleName = String(schedule.Target.RoleArn).split('/').at(-1)!;
  const trust = JSON.parse(decodeURIComponent(xmlValue(await aws.query('iam', '2010-05-08', 'GetRole', { RoleName }), 'AssumeRolePolicyDocument'))) as { Statement: Statement[] };
  expect(trust.Statement).toEqual([expect.objectContaining({ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'scheduler.amazonaws.com' } })]);
  const policy = JSON.parse(decodeURIComponent(xmlValue(await aws.query('iam', '2010-05-08', 'GetRolePolicy', { RoleName, PolicyName: 'ddb-flatten-scheduler' }), 'PolicyDocument'))) as { Statement: Statement[] };
  expect(policy.Statement).toEqual([expect.objectContaining({ Effect: 'Allow', Action: 'lambda:InvokeFunction', Resource: out.lambda_alias_arn })]);

  // The maintenance workgroup: its own cutoff (a checkpoint reads the whole current state), its results under their own
  // prefix, encrypted as the analysts' ones, the configuration enforced on every statement.
  const WorkGroup = out.athena_maintenance_workgroup_name as string;
  expect(WorkGroup).toBe(`${out.athena_workgroup_name}-maintenance`);
  const { WorkGroup: wg } = await aws.json('athena', 'AmazonAthena.GetWorkGroup', { WorkGroup });
  expect(wg.State).toBe('ENABLED');
  expect(wg.Configuration).toMatchObject({
    EnforceWorkGroupConfiguration: true,
    PublishCloudWatchMetricsEnabled: true,
    BytesScannedCutoffPerQuery: DEFAULTS.athena.maintenanceBytesScannedCutoffPerQuery,
    EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
    ResultConfiguration: {
      OutputLocation: `s3://${out.s3_bucket_name}/${DEFAULTS.lake.athenaResultsPrefix}/maintenance/`,
      EncryptionConfiguration: expected.kmsKeyArn ? { EncryptionOption: 'SSE_KMS', KmsKey: expected.kmsKeyArn } : { EncryptionOption: 'SSE_S3' },
    },
  });
  // No named queries there: it is the function's, not the analysts'.
  expect((await aws.json('athena', 'AmazonAthena.ListNamedQueries', { WorkGroup })).NamedQueryIds ?? []).toEqual([]);

  // What the function reads at cold start: the workgroup, the tables its statements read, the checkpoint policy.
  const fn = await aws.lambda.send(new GetFunctionCommand({ FunctionName: out.lambda_function_name }));
  const variables = fn.Configuration!.Environment!.Variables!;
  expect(variables).not.toHaveProperty('COMPACTION_MAX_TASK_BYTES');
  // No history retention unless history_retention_days is set (none of the e2e's deployments sets it); the erasure knows the query results.
  expect(variables).not.toHaveProperty('HISTORY_RETENTION_DAYS');
  expect(variables.ATHENA_RESULTS_PREFIX).toBe(DEFAULTS.lake.athenaResultsPrefix);
  expect(loadPipelineConfig(variables).maintenance).toMatchObject({
    athenaWorkgroup: WorkGroup,
    glueDatabase: out.glue_catalog_database_name,
    glueTable: out.glue_catalog_table_name,
    glueCheckpointsTable: out.glue_catalog_checkpoints_table_name,
    glueView: out.glue_catalog_view_name,
    rebuildShare: DEFAULTS.compaction.checkpointRebuildShare,
    maxAgeDays: DEFAULTS.compaction.checkpointMaxAgeDays,
    retention: DEFAULTS.compaction.checkpointRetention,
  });
}

export async function checkWorkgroup({ aws, out, expected }: CheckContext): Promise<void> {
  const WorkGroup = out.athena_workgroup_name as string;
  const { WorkGroup: wg } = await aws.json('athena', 'AmazonAthena.GetWorkGroup', { WorkGroup });
  expect(wg.State).toBe('ENABLED');
  expect(wg.Configuration).toMatchObject({
    EnforceWorkGroupConfiguration: true,
    PublishCloudWatchMetricsEnabled: true,
    BytesScannedCutoffPerQuery: DEFAULTS.athena.bytesScannedCutoffPerQuery,
    EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
    ResultConfiguration: {
      OutputLocation: `s3://${out.s3_bucket_name}/${DEFAULTS.lake.athenaResultsPrefix}/`,
      EncryptionConfiguration: expected.kmsKeyArn ? { EncryptionOption: 'SSE_KMS', KmsKey: expected.kmsKeyArn } : { EncryptionOption: 'SSE_S3' },
    },
  });
  const { NamedQueryIds: ids } = await aws.json('athena', 'AmazonAthena.ListNamedQueries', { WorkGroup });
  const queries = await Promise.all((ids as string[]).map(async (NamedQueryId) => (await aws.json('athena', 'AmazonAthena.GetNamedQuery', { NamedQueryId })).NamedQuery));
  const db = out.glue_catalog_database_name as string;
  const elementViews = Object.keys(expected.elementViews ?? {}).map(elementViewName);
  expect(queries.map((q) => q.Name).sort()).toEqual(
    [
      `${expected.name} ${out.glue_catalog_view_name} view`,
      `${expected.name} ${out.glue_catalog_expired_items_view_name} view`,
      ...elementViews.map((v) => `${expected.name} ${v} view`),
      ...Object.keys(QUERIES).map((q) => `${expected.name} ${q}`),
    ].sort(),
  );
  for (const q of queries) expect(q, q.Name).toMatchObject({ Database: db, WorkGroup });
  const viewQuery = queries.find((q) => q.Name === `${expected.name} ${out.glue_catalog_view_name} view`);
  const sql = currentStateSql(db, out.glue_catalog_table_name, expected.carried);
  // A read-only copy of the view's SQL: Terraform owns the view, so the query must not re-create it.
  expect(viewQuery.QueryString.endsWith(`\n${sql}`)).toBe(true);
  expect(viewQuery.QueryString).not.toMatch(/^\s*CREATE/m);
  const expiredQuery = queries.find((q) => q.Name === `${expected.name} ${out.glue_catalog_expired_items_view_name} view`);
  expect(expiredQuery.QueryString.endsWith(`\n${expiredItemsViewSql(db, out.glue_catalog_table_name, expected.carried)}`)).toBe(true);
  expect(expiredQuery.QueryString).not.toMatch(/^\s*CREATE/m);
}

/** The function, its published versions and the alias; returns the alias's version. */
export async function checkFunction({ aws, out, expected }: CheckContext): Promise<void> {
  const FunctionName = out.lambda_function_name as string;
  const fn = await aws.lambda.send(new GetFunctionCommand({ FunctionName }));
  const c = fn.Configuration!;
  expect(c.FunctionArn).toBe(out.lambda_function_arn);
  expect(c).toMatchObject({
    Runtime: RUNTIME,
    Architectures: [ARCHITECTURE],
    Handler: HANDLER_NAME,
    Role: out.iam_role_arn,
    CodeSha256: expected.codeSha256,
    MemorySize: DEFAULTS.lambda.memorySize,
    Timeout: DEFAULTS.lambda.timeout,
    TracingConfig: { Mode: 'Active' },
  });
  expect(out.lambda_function_code_sha256).toBe(expected.codeSha256);
  expectTags(fn.Tags ?? {}, expected, 'function');

  // The environment, as the deployed function would read it at cold start.
  const config = loadPipelineConfig(c.Environment!.Variables!);
  expect(config.bucket).toBe(out.s3_bucket_name);
  expect(config.dataPrefix).toBe(DEFAULTS.lake.dataPrefix);
  expect(config.quarantinePrefix).toBe(DEFAULTS.lake.quarantinePrefix);
  expect(config.flatten).toEqual({ attributes: expected.explode, partitionKey: expected.partitionKey, sortKey: expected.sortKey, carry: expected.carried });
  expect(config.actions).toMatchObject({ tableArn: out.dynamodb_table_arn, streamArn: out.dynamodb_table_stream_arn, dlqUrl: out.sqs_dlq_url });

  // Published as version 1, the alias on it.
  const versions = (await aws.lambda.send(new ListVersionsByFunctionCommand({ FunctionName }))).Versions!.map((v) => v.Version);
  expect(versions).toEqual(['$LATEST', '1']);
  expect(out.lambda_function_version).toBe('1');
  const alias = await aws.lambda.send(new GetAliasCommand({ FunctionName, Name: DEFAULTS.alias.name }));
  expect(alias).toMatchObject({ AliasArn: out.lambda_alias_arn, FunctionVersion: '1', Name: 'live' });
  expect(alias.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
  expect(out.lambda_alias_arn).toBe(`${out.lambda_function_arn}:live`);

  // Asynchronous invocations (S3 export notifications) through the alias: bounded retries, then the DLQ.
  const invokeConfig = await aws.lambda.send(new GetFunctionEventInvokeConfigCommand({ FunctionName, Qualifier: 'live' }));
  expect(invokeConfig).toMatchObject({
    MaximumRetryAttempts: DEFAULTS.backfill.maximumRetryAttempts,
    MaximumEventAgeInSeconds: DEFAULTS.backfill.maximumEventAgeInSeconds,
    DestinationConfig: { OnFailure: { Destination: out.sqs_dlq_arn } },
  });
  // Only the lake bucket, in this account, may invoke the alias.
  const permission = JSON.parse((await aws.lambda.send(new GetPolicyCommand({ FunctionName, Qualifier: 'live' }))).Policy!) as { Statement: Statement[] };
  expect(permission.Statement).toHaveLength(1);
  expect(permission.Statement[0]).toMatchObject({ Effect: 'Allow', Action: 'lambda:InvokeFunction', Principal: { Service: 's3.amazonaws.com' }, Resource: out.lambda_alias_arn });
  expect(JSON.stringify(permission.Statement[0]!.Condition)).toContain(out.s3_bucket_arn);
}

/** The stream trigger: on the alias, from the table's stream, bounded retries into the DLQ. */
export async function checkTrigger({ aws, out, expected }: CheckContext): Promise<void> {
  const mappings = (await aws.lambda.send(new ListEventSourceMappingsCommand({ EventSourceArn: out.dynamodb_table_stream_arn }))).EventSourceMappings ?? [];
  if (!expected.mapping) {
    expect(mappings).toEqual([]);
    expect(out.lambda_event_source_mapping_uuid ?? null).toBeNull();
    return;
  }
  expect(mappings).toHaveLength(1);
  const m = mappings[0]!;
  const e = DEFAULTS.eventSourceMapping;
  expect(m).toMatchObject({
    UUID: out.lambda_event_source_mapping_uuid,
    EventSourceArn: out.dynamodb_table_stream_arn,
    StartingPosition: 'TRIM_HORIZON',
    BatchSize: e.batchSize,
    MaximumBatchingWindowInSeconds: e.maximumBatchingWindowInSeconds,
    ParallelizationFactor: e.parallelizationFactor,
    BisectBatchOnFunctionError: true,
    MaximumRetryAttempts: e.maximumRetryAttempts,
    MaximumRecordAgeInSeconds: e.maximumRecordAgeInSeconds,
    FunctionResponseTypes: ['ReportBatchItemFailures'],
    DestinationConfig: { OnFailure: { Destination: out.sqs_dlq_arn } },
  });
  // On the alias. Moto gap: it reports the ARN of the version the alias points to (never $LATEST or unqualified).
  expect([out.lambda_alias_arn, `${out.lambda_function_arn}:${out.lambda_alias_function_version}`]).toContain(m.FunctionArn);
}

export async function checkDlq({ aws, out, expected }: CheckContext): Promise<void> {
  const QueueName = String(out.sqs_dlq_arn).split(':').at(-1)!;
  expect((await aws.sqs.send(new GetQueueUrlCommand({ QueueName }))).QueueUrl).toBe(out.sqs_dlq_url);
  const attributes = (await aws.sqs.send(new GetQueueAttributesCommand({ QueueUrl: out.sqs_dlq_url, AttributeNames: ['All'] }))).Attributes!;
  expect(attributes.QueueArn).toBe(out.sqs_dlq_arn);
  expect(attributes.MessageRetentionPeriod).toBe(String(DEFAULTS.deadLetterQueue.messageRetentionSeconds));
  if (expected.kmsKeyArn) expect(attributes.KmsMasterKeyId).toBe(expected.kmsKeyArn);
  else expect(attributes.SqsManagedSseEnabled).toBe('true');
}

/** The execution role: assumed by Lambda only, no managed policies, every resource scoped to this pipeline. */
export async function checkRole({ aws, out, expected }: CheckContext): Promise<void> {
  const RoleName = String(out.iam_role_arn).split('/').at(-1)!;
  const iam = (action: string, params: Record<string, string> = {}) => aws.query('iam', '2010-05-08', action, { RoleName, ...params });
  const role = await iam('GetRole');
  expect(xmlValue(role, 'Arn')).toBe(out.iam_role_arn);
  const trust = JSON.parse(decodeURIComponent(xmlValue(role, 'AssumeRolePolicyDocument'))) as { Statement: Statement[] };
  expect(trust.Statement).toEqual([expect.objectContaining({ Effect: 'Allow', Action: 'sts:AssumeRole', Principal: { Service: 'lambda.amazonaws.com' } })]);
  expect(xmlValues(await iam('ListAttachedRolePolicies'), 'PolicyArn')).toEqual([]);

  const names = xmlValues(await iam('ListRolePolicies'), 'member').sort();
  expect(names).toEqual(['ddb-flatten', 'ddb-flatten-backfill', 'ddb-flatten-maintenance']);
  const statements: Statement[] = [];
  for (const PolicyName of names) {
    const doc = JSON.parse(decodeURIComponent(xmlValue(await iam('GetRolePolicy', { PolicyName }), 'PolicyDocument'))) as { Statement: Statement[] };
    statements.push(...doc.Statement);
  }
  expect(statements.every((s) => s.Effect === 'Allow')).toBe(true);
  const resourcesOf = (action: string) => statements.filter((s) => list(s.Action).includes(action)).flatMap((s) => list(s.Resource)).sort();

  // Wildcard resources only for the actions AWS authorizes on "*" alone.
  for (const s of statements) {
    if (list(s.Resource).includes('*')) expect(list(s.Action).filter((a) => !(a in WILDCARD_RESOURCE_ACTIONS)), s.Sid).toEqual([]);
  }
  const bucket = out.s3_bucket_arn as string;
  const table = out.dynamodb_table_arn as string;
  expect(resourcesOf('dynamodb:GetRecords')).toEqual([out.dynamodb_table_stream_arn]);
  expect(resourcesOf('dynamodb:BatchGetItem')).toEqual([table]);
  expect(resourcesOf('dynamodb:ExportTableToPointInTime')).toEqual([table]);
  const lake = DEFAULTS.lake;
  // Athena runs the maintenance statements with the role's rights: it writes their results (UNLOAD manifests, metadata) here.
  const results = `${bucket}/${lake.athenaResultsPrefix}/maintenance/*`;
  // The stream writes the data and quarantine prefixes; maintenance rewrites data and state and its results; backfill its export prefix.
  const exports = `${bucket}/${DEFAULTS.backfill.exportPrefix}/*`;
  const quarantine = `${bucket}/${lake.quarantinePrefix}/*`;
  const allResults = `${bucket}/${lake.athenaResultsPrefix}/*`;
  // ... and the data lifecycle's erasure rewrites quarantine records and export files and deletes query results.
  expect(resourcesOf('s3:PutObject')).toEqual(
    [exports, `${bucket}/${lake.dataPrefix}/*`, quarantine, `${bucket}/${lake.dataPrefix}/*`, `${bucket}/${lake.statePrefix}/*`, results, quarantine, exports].sort(),
  );
  expect(resourcesOf('s3:GetObject')).toEqual([exports, `${bucket}/${lake.dataPrefix}/*`, `${bucket}/${lake.statePrefix}/*`, results, quarantine, exports].sort());
  expect(resourcesOf('s3:DeleteObject')).toEqual([`${bucket}/${lake.dataPrefix}/*`, `${bucket}/${lake.statePrefix}/*`, quarantine, exports, allResults].sort());
  // Noncurrent versions: deleted under the lake's prefixes only, found by listing versions there only.
  expect(resourcesOf('s3:DeleteObjectVersion')).toEqual([`${bucket}/${lake.dataPrefix}/*`, `${bucket}/${lake.statePrefix}/*`, quarantine, allResults, exports].sort());
  expect(resourcesOf('s3:ListMultipartUploadParts')).toEqual([results]);
  expect(resourcesOf('s3:GetBucketLocation')).toEqual([bucket]);
  expect(resourcesOf('s3:ListBucket')).toEqual([bucket, bucket, bucket]);
  expect(resourcesOf('s3:ListBucketVersions')).toEqual([bucket]);
  const prefixesOf = (action: string) => statements.filter((s) => list(s.Action).includes(action)).flatMap((s) => list(s.Condition?.StringLike?.['s3:prefix'] as string | string[] | undefined)).sort();
  const lifecycle = [`${lake.dataPrefix}/*`, `${lake.statePrefix}/*`, `${lake.quarantinePrefix}/*`, `${lake.athenaResultsPrefix}/*`, `${DEFAULTS.backfill.exportPrefix}/*`];
  expect(prefixesOf('s3:ListBucket')).toEqual([`${DEFAULTS.backfill.exportPrefix}/*`, `${lake.dataPrefix}/*`, `${lake.statePrefix}/*`, `${lake.athenaResultsPrefix}/maintenance/*`, ...lifecycle].sort());
  expect(prefixesOf('s3:ListBucketVersions')).toEqual([...lifecycle].sort());
  const glue = (resource: string) => `arn:aws:glue:${MOTO_REGION}:${ACCOUNT}:${resource}`;
  const db = out.glue_catalog_database_name as string;
  const view = glue(`table/${db}/${out.glue_catalog_view_name}`);
  // Moves the view only; reads the two tables its statements read (Athena resolves them with the role's rights).
  expect(resourcesOf('glue:UpdateTable')).toEqual([glue('catalog'), glue(`database/${db}`), view].sort());
  const tables = [glue('catalog'), glue(`database/${db}`), glue(`table/${db}/${out.glue_catalog_table_name}`), glue(`table/${db}/${out.glue_catalog_checkpoints_table_name}`)];
  expect(resourcesOf('glue:GetPartitions')).toEqual([...tables].sort());
  expect(resourcesOf('glue:GetDatabase')).toEqual([...tables].sort());
  expect(resourcesOf('glue:GetTable')).toEqual([...tables, glue('catalog'), glue(`database/${db}`), view].sort());
  // Queries in the maintenance workgroup only, not the analysts' one.
  const workgroup = `arn:aws:athena:${MOTO_REGION}:${ACCOUNT}:workgroup/${out.athena_maintenance_workgroup_name}`;
  for (const action of ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution']) expect(resourcesOf(action), action).toEqual([workgroup]);
  expect(statements.flatMap((s) => list(s.Action)).filter((a) => a.startsWith('athena:')).sort()).toEqual(['athena:GetQueryExecution', 'athena:StartQueryExecution', 'athena:StopQueryExecution']);
  expect(resourcesOf('lambda:InvokeFunction')).toEqual([out.lambda_alias_arn]);
  expect(resourcesOf('ssm:PutParameter')).toEqual([expect.stringMatching(/^arn:aws:ssm:[^:]+:\d{12}:parameter\/ddb-flatten\/[^/]+\/checkpoint-pointer$/)]);
  expect(resourcesOf('sqs:GetQueueAttributes')).toEqual([out.sqs_dlq_arn]);
  expect(resourcesOf('sqs:SendMessage')).toEqual([out.sqs_dlq_arn]);
  expect(resourcesOf('logs:PutLogEvents')).toEqual([expect.stringMatching(new RegExp(`:log-group:${String(out.cloudwatch_log_group_name).replaceAll('/', '\\/')}:\\*$`))]);
  expect(resourcesOf('kms:Decrypt')).toEqual(expected.kmsKeyArn ? [expected.kmsKeyArn] : []);
  // Nothing outside this pipeline.
  const ours = [
    table,
    bucket,
    out.sqs_dlq_arn,
    `:log-group:${out.cloudwatch_log_group_name}`,
    out.lambda_alias_arn,
    `:glue:${MOTO_REGION}:${ACCOUNT}:catalog`,
    `:database/${out.glue_catalog_database_name}`,
    `:table/${out.glue_catalog_database_name}/${out.glue_catalog_view_name}`,
    `:table/${out.glue_catalog_database_name}/${out.glue_catalog_table_name}`,
    `:table/${out.glue_catalog_database_name}/${out.glue_catalog_checkpoints_table_name}`,
    `:athena:${MOTO_REGION}:${ACCOUNT}:workgroup/${out.athena_maintenance_workgroup_name}`,
    ':parameter/ddb-flatten/',
    ...(expected.kmsKeyArn ? [expected.kmsKeyArn] : []),
  ];
  for (const r of statements.flatMap((s) => list(s.Resource))) {
    if (r !== '*') expect(ours.some((o) => r.startsWith(o) || r.includes(o)), `resource ${r}`).toBe(true);
  }
}

export async function checkLogsAndAlarms({ aws, out }: CheckContext): Promise<void> {
  const groups = await aws.json('logs', 'Logs_20140328.DescribeLogGroups', { logGroupNamePrefix: out.cloudwatch_log_group_name });
  expect(groups.logGroups).toEqual([expect.objectContaining({ logGroupName: out.cloudwatch_log_group_name, retentionInDays: DEFAULTS.logs.retentionInDays })]);
  const alarms = await aws.query('monitoring', '2010-08-01', 'DescribeAlarms', { AlarmNamePrefix: `${out.lambda_function_name}-` });
  expect(xmlValues(alarms, 'AlarmName').sort()).toEqual(['dlq-messages', 'errors', 'iterator-age'].map((s) => `${out.lambda_function_name}-${s}`));
}

/** Every check, by what it covers: test files turn each into an `it`. */
export const PIPELINE_CHECKS: Readonly<Record<string, (ctx: CheckContext) => Promise<void>>> = {
  'the table: stream NEW_AND_OLD_IMAGES, PITR, SSE, deletion protection, Time to Live, tags': checkTable,
  'the bucket: encryption, public access block, TLS-only policy, versioning, lifecycle, export notification': checkBucket,
  'the Glue table (columns = row schema, projection), the current-state and expired-items views': checkCatalog,
  'the Athena workgroup configuration and its named queries': checkWorkgroup,
  'the function: code, settings, environment, version 1, alias, async config, S3 permission': checkFunction,
  'the event source mapping: on the alias, from the stream, bounded retries into the DLQ': checkTrigger,
  'the DLQ': checkDlq,
  'the IAM role and its policy documents': checkRole,
  'the log group and the alarms': checkLogsAndAlarms,
  'the maintenance: schedule on the alias, its role, the checkpoints table, the pointer parameter, its workgroup and what the function is told': checkMaintenance,
};
