import { describe, expect, it } from 'vitest';
import { ENVIRONMENT } from '../../src/config/pipeline-config.ts';
import { named, synth } from './synth.ts';

const s = synth();

describe('secure defaults: source table', () => {
  const t = s.one('aws_dynamodb_table');
  it('is on-demand with a NEW_AND_OLD_IMAGES stream', () => {
    expect(t.billing_mode).toBe('PAY_PER_REQUEST');
    expect(t.stream_enabled).toBe(true);
    expect(t.stream_view_type).toBe('NEW_AND_OLD_IMAGES');
    expect(t.hash_key).toBe('pk');
    expect(t.attribute).toEqual([{ name: 'pk', type: 'S' }]);
  });
  it('has PITR, server-side encryption and deletion protection on', () => {
    expect(t.point_in_time_recovery).toEqual({ enabled: true });
    expect(t.server_side_encryption.enabled).toBe(true);
    expect(t.server_side_encryption.kms_key_arn).toBeUndefined();
    expect(t.deletion_protection_enabled).toBe(true);
  });
});

describe('secure defaults: lake bucket', () => {
  it('blocks all public access and disables ACLs', () => {
    expect(s.one('aws_s3_bucket_public_access_block')).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(s.one('aws_s3_bucket_ownership_controls').rule).toEqual({ object_ownership: 'BucketOwnerEnforced' });
  });
  it('encrypts with SSE-S3 by default, versions, and keeps force_destroy off', () => {
    const rule = s.one('aws_s3_bucket_server_side_encryption_configuration').rule[0];
    expect(rule.apply_server_side_encryption_by_default.sse_algorithm).toBe('AES256');
    expect(s.one('aws_s3_bucket_versioning').versioning_configuration).toEqual({ status: 'Enabled' });
    const bucket = s.one('aws_s3_bucket');
    expect(bucket.force_destroy).toBe(false);
    expect(bucket.bucket_prefix).toBe('orders-lake-');
  });
  it('has a TLS-only policy: deny without SecureTransport, deny TLS older than 1.2', () => {
    const doc = s.data('aws_iam_policy_document', 'lake_tls_only');
    const conditions = doc.statement.map((st: any) => ({ effect: st.effect, actions: st.actions, cond: st.condition[0] }));
    expect(conditions).toEqual([
      { effect: 'Deny', actions: ['s3:*'], cond: { test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] } },
      { effect: 'Deny', actions: ['s3:*'], cond: { test: 'NumericLessThan', variable: 's3:TlsVersion', values: ['1.2'] } },
    ]);
    for (const st of doc.statement) expect(st.resources).toHaveLength(2);
    expect(s.one('aws_s3_bucket_policy').depends_on).toEqual([expect.stringContaining('aws_s3_bucket_public_access_block.')]);
  });
  it('has lifecycle rules: abort incomplete uploads, expire Athena results, expire noncurrent versions', () => {
    const rules = s.one('aws_s3_bucket_lifecycle_configuration').rule;
    expect(rules.map((r: any) => r.id)).toEqual(['abort-incomplete-multipart-uploads', 'expire-athena-results', 'expire-noncurrent-versions']);
    expect(rules[0].abort_incomplete_multipart_upload).toEqual([{ days_after_initiation: 7 }]);
    expect(rules[1].filter).toEqual([{ prefix: 'athena-results/' }]);
    expect(rules[1].expiration).toEqual([{ days: 30 }]);
    expect(rules[2].noncurrent_version_expiration).toEqual([{ noncurrent_days: 30 }]);
    for (const r of rules) expect(r.status).toBe('Enabled');
  });
});

describe('secure defaults: function, alias and trigger', () => {
  const fn = s.one('aws_lambda_function');
  it('runs nodejs22.x on arm64, publishes versions, traces with X-Ray, logs JSON to its own group', () => {
    expect(fn.runtime).toBe('nodejs22.x');
    expect(fn.architectures).toEqual(['arm64']);
    expect(fn.handler).toBe('index.handler');
    expect(fn.publish).toBe(true);
    expect(fn.tracing_config).toEqual({ mode: 'Active' });
    expect(fn.logging_config.log_format).toBe('JSON');
    expect(fn.logging_config.log_group).toMatch(/^\$\{aws_cloudwatch_log_group\..*\.name\}$/);
    expect(fn.source_code_hash).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(fn.filename).toMatch(/ddb-flatten-handler\.zip$/);
    expect(fn.memory_size).toBe(512);
    expect(fn.timeout).toBe(120);
    expect(fn.reserved_concurrent_executions).toBe(-1);
  });
  it('sets the handler environment from the props, with only names the handler knows', () => {
    const env = fn.environment.variables;
    for (const k of Object.keys(env)) expect(Object.keys(ENVIRONMENT)).toContain(k);
    expect(env).toMatchObject({ LAKE_PREFIX: 'flattened', QUARANTINE_PREFIX: 'quarantine', EXPLODE_ATTRIBUTES: 'items', PARTITION_KEY: 'pk', CARRY_ATTRIBUTES: '' });
    expect(env.LAKE_BUCKET).toMatch(/^\$\{aws_s3_bucket\..*\.id\}$/);
    expect(env.SORT_KEY).toBeUndefined();
  });
  it('gives the maintenance run its workgroup, its tables and its checkpoint policy; no task size (deprecated)', () => {
    const env = fn.environment.variables;
    expect(env).toMatchObject({
      // By reference: the function waits for them, and none of them waits for the function (no cycle).
      ATHENA_WORKGROUP: '${aws_athena_workgroup.maintenance.name}',
      GLUE_TABLE: '${aws_glue_catalog_table.flattened.name}',
      GLUE_CHECKPOINTS_TABLE: '${aws_glue_catalog_table.checkpoints.name}',
      GLUE_VIEW: '${aws_glue_catalog_table.current_state.name}',
      CHECKPOINT_REBUILD_SHARE: '0.25',
      CHECKPOINT_MAX_AGE_DAYS: '30',
    });
    expect(env).not.toHaveProperty('COMPACTION_MAX_TASK_BYTES');
    const wg = named(s, 'aws_athena_workgroup', 'maintenance');
    expect(JSON.stringify(wg)).not.toMatch(/aws_lambda_|aws_iam_role/);
  });
  it('has an alias "live" that follows the newest published version, without a canary', () => {
    const alias = s.one('aws_lambda_alias');
    expect(alias.name).toBe('live');
    expect(alias.function_version).toMatch(/^\$\{aws_lambda_function\..*\.version\}$/);
    expect(alias.routing_config).toBeUndefined();
  });
  it('creates the stream trigger on the alias ARN with bounded retries, bisect, partial batch responses and a DLQ', () => {
    const esm = s.one('aws_lambda_event_source_mapping');
    expect(esm.function_name).toMatch(/^\$\{aws_lambda_alias\..*\.arn\}$/);
    expect(esm.event_source_arn).toMatch(/^\$\{aws_dynamodb_table\..*\.stream_arn\}$/);
    expect(esm).toMatchObject({
      enabled: true,
      starting_position: 'TRIM_HORIZON',
      batch_size: 10000,
      maximum_batching_window_in_seconds: 30,
      bisect_batch_on_function_error: true,
      maximum_retry_attempts: 10,
      maximum_record_age_in_seconds: 21600,
      parallelization_factor: 1,
      function_response_types: ['ReportBatchItemFailures'],
    });
    expect(esm.destination_config.on_failure.destination_arn).toMatch(/^\$\{aws_sqs_queue\..*\.arn\}$/);
  });
  it('encrypts the DLQ with SSE-SQS and keeps messages 14 days', () => {
    const q = s.one('aws_sqs_queue');
    expect(q.sqs_managed_sse_enabled).toBe(true);
    expect(q.kms_master_key_id).toBeUndefined();
    expect(q.message_retention_seconds).toBe(1209600);
  });
  it('creates the log group with a retention', () => {
    const lg = s.one('aws_cloudwatch_log_group');
    expect(lg.name).toBe('/aws/lambda/orders-flatten');
    expect(lg.retention_in_days).toBe(30);
    expect(lg.kms_key_id).toBeUndefined();
  });
});

describe('secure defaults: alarms, Athena, Glue, tags', () => {
  it('alarms on errors, iterator age and DLQ messages, with no actions unless a topic is given', () => {
    const alarms = s.all('aws_cloudwatch_metric_alarm').map(([, a]) => a);
    expect(alarms.map((a) => a.metric_name).sort()).toEqual(['ApproximateNumberOfMessagesVisible', 'Errors', 'IteratorAge']);
    for (const a of alarms) expect(a.alarm_actions).toEqual([]);
  });
  it('runs Athena engine 3 with an enforced, encrypted configuration, a scan cutoff and metrics', () => {
    const wg = named(s, 'aws_athena_workgroup', 'lake');
    expect(wg.name).toBe('orders-flatten');
    expect(wg.force_destroy).toBe(false);
    expect(wg.configuration).toMatchObject({
      enforce_workgroup_configuration: true,
      publish_cloudwatch_metrics_enabled: true,
      bytes_scanned_cutoff_per_query: 10737418240,
      engine_version: { selected_engine_version: 'Athena engine version 3' },
    });
    expect(wg.configuration.result_configuration.output_location).toMatch(/^s3:\/\/\$\{aws_s3_bucket\..*\.id\}\/athena-results\/$/);
    expect(wg.configuration.result_configuration.encryption_configuration).toEqual({ encryption_option: 'SSE_S3' });
  });
  it('has a maintenance workgroup of its own: enforced, encrypted results under their own prefix, a 1 TiB cutoff, metrics', () => {
    expect(s.all('aws_athena_workgroup').map(([id]) => id).sort()).toEqual(['lake', 'maintenance']);
    const wg = named(s, 'aws_athena_workgroup', 'maintenance');
    expect(wg).toMatchObject({ name: 'orders-flatten-maintenance', state: 'ENABLED', force_destroy: false, tags: { 'ddb-flatten:pipeline': 'orders' } });
    expect(wg.configuration).toMatchObject({
      // Enforced: a statement cannot pick another result location, an unencrypted one, or lift the cutoff.
      enforce_workgroup_configuration: true,
      publish_cloudwatch_metrics_enabled: true,
      bytes_scanned_cutoff_per_query: 1099511627776,
      engine_version: { selected_engine_version: 'Athena engine version 3' },
    });
    expect(wg.configuration.result_configuration.output_location).toMatch(/^s3:\/\/\$\{aws_s3_bucket\..*\.id\}\/athena-results\/maintenance\/$/);
    expect(wg.configuration.result_configuration.encryption_configuration).toEqual({ encryption_option: 'SSE_S3' });
    // Its results expire with the other Athena results (the lifecycle rule on athena-results/).
    const rules = s.one('aws_s3_bucket_lifecycle_configuration').rule;
    expect(rules.find((r: any) => r.id === 'expire-athena-results').filter).toEqual([{ prefix: 'athena-results/' }]);
  });
  it('registers named queries for the view and the sample analyses', () => {
    const names = s.all('aws_athena_named_query').map(([, q]) => q.name).sort();
    expect(names).toEqual(['orders changes_per_day', 'orders current_state view', 'orders expired_items view', 'orders seed_table', 'orders values_per_key_per_day']);
    const view = s.all('aws_athena_named_query').map(([, q]) => q).find((q) => q.name.endsWith('current_state view'))!;
    const expired = s.all('aws_athena_named_query').map(([, q]) => q).find((q) => q.name.endsWith('expired_items view'))!;
    expect(expired.query).toMatch(/^-- The SQL of the view "orders"\."expired_items"/);
    expect(expired.query).not.toMatch(/^\s*CREATE/m);
    // A read-only copy of the view's SQL: the view belongs to Terraform, so the query must not re-create it.
    expect(view.query).toMatch(/^-- The SQL of the view "orders"\."current_state"/);
    expect(view.query).not.toMatch(/^\s*CREATE/m);
  });
  it('projects the dt partition: date from the start to NOW, daily, at the lake location', () => {
    const table = named(s, 'aws_glue_catalog_table', 'flattened');
    expect(table.parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.dt.type': 'date',
      'projection.dt.format': 'yyyy-MM-dd',
      'projection.dt.range': '2024-01-01,NOW',
      'projection.dt.interval': '1',
      'projection.dt.interval.unit': 'DAYS',
    });
    expect(table.parameters['storage.location.template']).toMatch(/^s3:\/\/\$\{aws_s3_bucket\..*\.id\}\/flattened\/dt=\$\$\{dt\}\/$/);
    expect(table.storage_descriptor.ser_de_info.serialization_library).toBe('org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe');
    expect(table.parameters['parquet.compression']).toBe('ZSTD');
    expect(table.parameters).not.toHaveProperty('parquet.compress');
    expect(table.partition_keys).toEqual([expect.objectContaining({ name: 'dt', type: 'string' })]);
  });
  it('tags every taggable resource with the pipeline tag', () => {
    const untagged: string[] = [];
    let tagged = 0;
    for (const [type, resources] of Object.entries<any>(s.json.resource)) {
      for (const [id, r] of Object.entries<any>(resources)) {
        if (!TAGGABLE.has(type)) continue;
        if (r.tags?.['ddb-flatten:pipeline'] === 'orders') tagged++;
        else untagged.push(`${type}.${id}`);
      }
    }
    expect(untagged).toEqual([]);
    expect(tagged).toBeGreaterThanOrEqual(10);
  });
});

/** Resource types of the module that take tags in both provider 5.100 and 6.x. */
const TAGGABLE = new Set([
  'aws_dynamodb_table',
  'aws_s3_bucket',
  'aws_glue_catalog_database',
  'aws_athena_workgroup',
  'aws_lambda_function',
  'aws_lambda_event_source_mapping',
  'aws_sqs_queue',
  'aws_cloudwatch_log_group',
  'aws_cloudwatch_metric_alarm',
  'aws_iam_role',
]);
