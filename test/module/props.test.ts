import { describe, expect, it } from 'vitest';
import { decimalText } from '../../modules/stream-function.ts';
import { loadPipelineConfig } from '../../src/config/pipeline-config.ts';
import { builtModule } from './module-build.ts';
import { KMS, named, synth } from './synth.ts';

const STREAM = 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2024-01-01T00:00:00.000';
const TOPIC = 'arn:aws:sns:eu-west-1:123456789012:alerts';

describe('every prop reaches the synthesized Terraform', () => {
  it('kmsKeyArn: table, bucket (SSE-KMS + bucket key), DLQ, function environment, Athena results and the role', () => {
    const s = synth({ kmsKeyArn: KMS });
    expect(s.one('aws_dynamodb_table').server_side_encryption).toEqual({ enabled: true, kms_key_arn: KMS });
    const rule = s.one('aws_s3_bucket_server_side_encryption_configuration').rule[0];
    expect(rule).toEqual({ apply_server_side_encryption_by_default: { sse_algorithm: 'aws:kms', kms_master_key_id: KMS }, bucket_key_enabled: true });
    const q = s.one('aws_sqs_queue');
    expect(q.kms_master_key_id).toBe(KMS);
    expect(q.sqs_managed_sse_enabled).toBeUndefined();
    expect(s.one('aws_lambda_function').kms_key_arn).toBe(KMS);
    for (const wg of ['lake', 'maintenance']) {
      expect(named(s, 'aws_athena_workgroup', wg).configuration.result_configuration.encryption_configuration, wg).toEqual({ encryption_option: 'SSE_KMS', kms_key_arn: KMS });
    }
    const kms = s.data('aws_iam_policy_document', 'function').statement.find((st: any) => st.sid === 'UseOnlyThesePipelineKeys');
    expect(kms).toMatchObject({ actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [KMS] });
  });
  it('without any key, the role has no KMS statement', () => {
    const statements = synth().data('aws_iam_policy_document', 'function').statement;
    expect(statements.map((st: any) => st.sid)).not.toContain('UseOnlyThesePipelineKeys');
  });
  it('partitionKey / sortKey: key schema and handler environment', () => {
    const s = synth({ partitionKey: { name: 'id', type: 'N' }, sortKey: { name: 'ts', type: 'B' } });
    const t = s.one('aws_dynamodb_table');
    expect([t.hash_key, t.range_key]).toEqual(['id', 'ts']);
    expect(t.attribute).toEqual([{ name: 'id', type: 'N' }, { name: 'ts', type: 'B' }]);
    expect(s.one('aws_lambda_function').environment.variables).toMatchObject({ PARTITION_KEY: 'id', SORT_KEY: 'ts' });
  });
  it('explodeAttributes / carryAttributes: environment and Glue columns', () => {
    const s = synth({ explodeAttributes: ['items', 'tags'], carryAttributes: ['status', 'region'] });
    expect(s.one('aws_lambda_function').environment.variables).toMatchObject({ EXPLODE_ATTRIBUTES: 'items,tags', CARRY_ATTRIBUTES: 'status,region' });
    const cols = named(s, 'aws_glue_catalog_table', 'flattened').storage_descriptor.columns.map((c: any) => c.name);
    expect(cols.slice(-2)).toEqual(['status', 'region']);
  });
  it('table.create = false: no table; the existing stream is read and its key granted', () => {
    const tableKms = KMS.replace('1111', '9999');
    const s = synth({ table: { create: false, existingTableName: 'orders', existingStreamArn: STREAM, existingKmsKeyArn: tableKms } });
    expect(s.all('aws_dynamodb_table')).toEqual([]);
    expect(s.one('aws_lambda_event_source_mapping').event_source_arn).toBe(STREAM);
    const doc = s.data('aws_iam_policy_document', 'function');
    expect(doc.statement.find((st: any) => st.sid === 'ReadThisStream').resources).toEqual([STREAM]);
    expect(doc.statement.find((st: any) => st.sid === 'UseOnlyThesePipelineKeys').resources).toEqual([tableKms]);
    expect(s.output('dynamodb_table_name').value).toBe('orders');
    expect(s.output('dynamodb_table_arn').value).toBe('arn:aws:dynamodb:eu-west-1:123456789012:table/orders');
  });
  it('table: name, deletionProtection and pointInTimeRecovery', () => {
    const t = synth({ table: { name: 'orders-v2', deletionProtection: false, pointInTimeRecovery: false } }).one('aws_dynamodb_table');
    expect(t.name).toBe('orders-v2');
    expect(t.deletion_protection_enabled).toBe(false);
    expect(t.point_in_time_recovery).toEqual({ enabled: false });
  });
  it("table.ttlAttribute: Time to Live on the created table; without it no ttl block (the provider keeps the table's TTL as it is)", () => {
    expect(synth({ table: { ttlAttribute: 'expires_at' } }).one('aws_dynamodb_table').ttl).toEqual({ attribute_name: 'expires_at', enabled: true });
    expect(synth().one('aws_dynamodb_table')).not.toHaveProperty('ttl');
  });
  it('table.ttlAttribute in the module build: a dynamic ttl block behind var.ttl_attribute', () => {
    expect(builtModule().main.resource.aws_dynamodb_table.source.dynamic.ttl).toEqual({
      for_each: '${(length(compact([var.ttl_attribute])) < 1) ? [] : [var.ttl_attribute]}',
      content: { attribute_name: '${ttl.value}', enabled: true },
    });
  });
  it('compaction.historyRetentionDays: HISTORY_RETENTION_DAYS only when set, read back by the handler', () => {
    const env = synth({ compaction: { historyRetentionDays: 400 } }).one('aws_lambda_function').environment.variables;
    expect(env.HISTORY_RETENTION_DAYS).toBe('400');
    const config = loadPipelineConfig({ LAKE_BUCKET: 'lake-bucket', EXPLODE_ATTRIBUTES: 'items', PARTITION_KEY: 'pk', HISTORY_RETENTION_DAYS: env.HISTORY_RETENTION_DAYS });
    expect(config.maintenance.historyRetentionDays).toBe(400);
    const without = synth().one('aws_lambda_function').environment.variables;
    expect(without).not.toHaveProperty('HISTORY_RETENTION_DAYS');
  });
  it('glue.expiredItemsViewName: the expired-items view, its named query and output', () => {
    const s = synth({ glue: { expiredItemsViewName: 'ttl_archive' } });
    const view = named(s, 'aws_glue_catalog_table', 'expired_items');
    expect(view).toMatchObject({ name: 'ttl_archive', table_type: 'VIRTUAL_VIEW' });
    expect(named(s, 'aws_athena_named_query', 'expired_items_view').name).toBe('orders ttl_archive view');
    expect(s.output('glue_catalog_expired_items_view_name').value).toMatch(/^\$\{aws_glue_catalog_table\.expired_items\.name\}$/);
  });
  it('lake.create = false: no bucket resources; the existing bucket is written and its key granted', () => {
    const bucketKms = KMS.replace('1111', '8888');
    const s = synth({ lake: { create: false, existingBucketName: 'shared-lake', existingKmsKeyArn: bucketKms } });
    for (const type of ['aws_s3_bucket', 'aws_s3_bucket_policy', 'aws_s3_bucket_public_access_block', 'aws_s3_bucket_lifecycle_configuration']) {
      expect(s.all(type)).toEqual([]);
    }
    expect(s.one('aws_lambda_function').environment.variables.LAKE_BUCKET).toBe('shared-lake');
    const doc = s.data('aws_iam_policy_document', 'function');
    expect(doc.statement.find((st: any) => st.sid === 'WriteLakePrefixesOnly').resources).toEqual([
      expect.stringMatching(/^arn:\$\{data\.aws_partition\.[^}]+\.partition\}:s3:::shared-lake\/flattened\/\*$/),
      expect.stringMatching(/^arn:\$\{data\.aws_partition\.[^}]+\.partition\}:s3:::shared-lake\/quarantine\/\*$/),
    ]);
    expect(doc.statement.find((st: any) => st.sid === 'UseOnlyThesePipelineKeys').resources).toEqual([bucketKms]);
  });
  it('lake: name, forceDestroy, prefixes and lifecycle days', () => {
    const s = synth({
      lake: {
        name: 'my-lake',
        forceDestroy: true,
        dataPrefix: 'rows/v1',
        quarantinePrefix: 'bad',
        athenaResultsPrefix: 'results',
        athenaResultsExpirationDays: 3,
        noncurrentVersionExpirationDays: 9,
        abortIncompleteMultipartUploadDays: 2,
      },
    });
    const b = s.one('aws_s3_bucket');
    expect([b.bucket, b.bucket_prefix, b.force_destroy]).toEqual(['my-lake', undefined, true]);
    expect(s.one('aws_lambda_function').environment.variables).toMatchObject({ LAKE_PREFIX: 'rows/v1', QUARANTINE_PREFIX: 'bad' });
    const rules = s.one('aws_s3_bucket_lifecycle_configuration').rule;
    expect(rules[0].abort_incomplete_multipart_upload[0].days_after_initiation).toBe(2);
    expect(rules[1]).toMatchObject({ filter: [{ prefix: 'results/' }], expiration: [{ days: 3 }] });
    expect(rules[2].noncurrent_version_expiration[0].noncurrent_days).toBe(9);
    expect(named(s, 'aws_athena_workgroup', 'lake').configuration.result_configuration.output_location).toMatch(/\/results\/$/);
    expect(named(s, 'aws_athena_workgroup', 'maintenance').configuration.result_configuration.output_location).toMatch(/\/results\/maintenance\/$/);
    expect(named(s, 'aws_glue_catalog_table', 'flattened').storage_descriptor.location).toMatch(/\/rows\/v1\/$/);
  });
  it('glue: database, table and view names, projection start', () => {
    const s = synth({ glue: { databaseName: 'lake_db', tableName: 'rows', viewName: 'latest', projectionStartDate: '2023-06-01' } });
    expect(s.one('aws_glue_catalog_database').name).toBe('lake_db');
    const table = named(s, 'aws_glue_catalog_table', 'flattened');
    expect(table.name).toBe('rows');
    expect(table.parameters['projection.dt.range']).toBe('2023-06-01,NOW');
    expect(named(s, 'aws_glue_catalog_table', 'current_state').name).toBe('latest');
  });
  it('default Glue database name replaces - with _', () => {
    expect(synth({ name: 'order-lines' }).one('aws_glue_catalog_database').name).toBe('order_lines');
  });
  it('athena: name, cutoffs, forceDestroy; the maintenance workgroup is named after the analysts\' one', () => {
    const s = synth({ athena: { name: 'analysts', bytesScannedCutoffPerQuery: 20_000_000, maintenanceBytesScannedCutoffPerQuery: 5_000_000_000_000, forceDestroy: true } });
    const wg = named(s, 'aws_athena_workgroup', 'lake');
    expect([wg.name, wg.configuration.bytes_scanned_cutoff_per_query, wg.force_destroy]).toEqual(['analysts', 20_000_000, true]);
    const m = named(s, 'aws_athena_workgroup', 'maintenance');
    expect([m.name, m.configuration.bytes_scanned_cutoff_per_query, m.force_destroy]).toEqual(['analysts-maintenance', 5_000_000_000_000, true]);
    expect(s.output('athena_maintenance_workgroup_name').value).toBe('${aws_athena_workgroup.maintenance.name}');
    // A name of 116 characters (the most allowed) gives a maintenance name of 128, Athena's limit.
    const longest = 'w'.repeat(116);
    expect(named(synth({ athena: { name: longest } }), 'aws_athena_workgroup', 'maintenance').name).toHaveLength(128);
  });
  it('compaction: the checkpoint policy reaches the environment, as the handler reads it', () => {
    const env = synth({ compaction: { checkpointRebuildShare: 0.5, checkpointMaxAgeDays: 45, checkpointRetention: 4 } }).one('aws_lambda_function').environment.variables;
    expect(env).toMatchObject({ CHECKPOINT_REBUILD_SHARE: '0.5', CHECKPOINT_MAX_AGE_DAYS: '45', CHECKPOINT_RETENTION: '4' });
    expect(synth({ compaction: { checkpointRebuildShare: 0 } }).one('aws_lambda_function').environment.variables.CHECKPOINT_REBUILD_SHARE).toBe('0');
    // Positional notation whatever the value (String(1e-7) is "1e-7", which the handler refuses).
    for (const [share, text] of [[1e-7, '0.0000001'], [0.25, '0.25'], [4, '4'], [1.125, '1.125']] as const) {
      expect(decimalText(share)).toBe(text);
      const read = loadPipelineConfig({ LAKE_BUCKET: 'lake-bucket', EXPLODE_ATTRIBUTES: 'items', PARTITION_KEY: 'pk', CHECKPOINT_REBUILD_SHARE: text, CHECKPOINT_MAX_AGE_DAYS: '30' });
      expect(read.maintenance.rebuildShare).toBe(share);
      expect(read.maintenance.maxAgeDays).toBe(30);
    }
  });
  it('compaction.maxTaskBytes (deprecated): accepted, sets nothing, and warns at synth', () => {
    const s = synth({ compaction: { maxTaskBytes: 268435456 } });
    expect(s.one('aws_lambda_function').environment.variables).toEqual(synth().one('aws_lambda_function').environment.variables);
    const warnings = s.pipeline.node.metadata.filter((m) => /warn/i.test(m.type)).map((m) => String(m.data));
    expect(warnings).toEqual([expect.stringMatching(/^compaction\.maxTaskBytes is deprecated and has no effect since 0\.4\.0/)]);
    expect(synth().pipeline.node.metadata.filter((m) => /warn/i.test(m.type))).toEqual([]);
  });
  it('lambda: memory, timeout, reserved concurrency, log level', () => {
    const fn = synth({ lambda: { memorySize: 1024, timeout: 300, reservedConcurrency: 5, logLevel: 'DEBUG' } }).one('aws_lambda_function');
    expect([fn.memory_size, fn.timeout, fn.reserved_concurrent_executions, fn.logging_config.application_log_level]).toEqual([1024, 300, 5, 'DEBUG']);
  });
  it('alias: name and pinned version (rollback)', () => {
    const alias = synth({ alias: { name: 'prod', pinnedVersion: '3' } }).one('aws_lambda_alias');
    expect([alias.name, alias.function_version]).toEqual(['prod', '3']);
  });
  it('alias.canary: routes the weight to the newest version by default, or to the given one', () => {
    const toNewest = synth({ alias: { pinnedVersion: '3', canary: { weight: 0.1 } } }).one('aws_lambda_alias');
    expect(toNewest.function_version).toBe('3');
    expect(toNewest.routing_config.additional_version_weights).toMatch(/^\$\{zipmap\(\[aws_lambda_function\..*\.version\], \[0\.1\]\)\}$/);
    const toFour = synth({ alias: { pinnedVersion: '3', canary: { weight: 0.25, version: '4' } } }).one('aws_lambda_alias');
    expect(toFour.routing_config).toEqual({ additional_version_weights: { '4': 0.25 } });
  });
  it('eventSourceMapping: create = false leaves no trigger; enabled = false creates it paused', () => {
    const none = synth({ eventSourceMapping: { create: false } });
    expect(none.all('aws_lambda_event_source_mapping')).toEqual([]);
    expect(none.json.output.lambda_event_source_mapping_uuid).toBeUndefined();
    expect(synth({ eventSourceMapping: { enabled: false } }).one('aws_lambda_event_source_mapping').enabled).toBe(false);
  });
  it('eventSourceMapping: batch size, window, retries, record age, parallelization', () => {
    const esm = synth({
      eventSourceMapping: { batchSize: 500, maximumBatchingWindowInSeconds: 30, maximumRetryAttempts: 2, maximumRecordAgeInSeconds: 3600, parallelizationFactor: 4 },
    }).one('aws_lambda_event_source_mapping');
    expect(esm).toMatchObject({ batch_size: 500, maximum_batching_window_in_seconds: 30, maximum_retry_attempts: 2, maximum_record_age_in_seconds: 3600, parallelization_factor: 4 });
  });
  it('deadLetterQueue: retention', () => {
    expect(synth({ deadLetterQueue: { messageRetentionSeconds: 86400 } }).one('aws_sqs_queue').message_retention_seconds).toBe(86400);
  });
  it('logs: retention and KMS key', () => {
    const lg = synth({ logs: { retentionInDays: 365, kmsKeyArn: KMS } }).one('aws_cloudwatch_log_group');
    expect([lg.retention_in_days, lg.kms_key_id]).toEqual([365, KMS]);
  });
  it('alarms: SNS topic and thresholds; create = false removes them', () => {
    const s = synth({ alarms: { snsTopicArn: TOPIC, iteratorAgeThresholdMs: 60000, errorsThreshold: 3 } });
    const alarms = Object.fromEntries(s.all('aws_cloudwatch_metric_alarm').map(([, a]) => [a.metric_name, a]));
    for (const a of Object.values<any>(alarms)) expect([a.alarm_actions, a.ok_actions]).toEqual([[TOPIC], [TOPIC]]);
    expect(alarms.IteratorAge.threshold).toBe(60000);
    expect(alarms.Errors.threshold).toBe(3);
    expect(synth({ alarms: { create: false } }).all('aws_cloudwatch_metric_alarm')).toEqual([]);
  });
  it('name and tags: every name derives from name; tags merge over the pipeline tag', () => {
    const s = synth({ name: 'invoices', tags: { team: 'billing' } });
    expect(s.one('aws_lambda_function').function_name).toBe('invoices-flatten');
    expect(Object.fromEntries(s.all('aws_iam_role').map(([id, r]) => [id, r.name]))).toEqual({ function: 'invoices-flatten-lambda', scheduler: 'invoices-flatten-maintenance-scheduler' });
    expect(s.one('aws_sqs_queue').name).toBe('invoices-flatten-dlq');
    expect(s.one('aws_dynamodb_table').name).toBe('invoices');
    expect(s.one('aws_s3_bucket').bucket_prefix).toBe('invoices-lake-');
    expect(s.one('aws_lambda_function').tags).toEqual({ 'ddb-flatten:pipeline': 'invoices', team: 'billing' });
  });
});
