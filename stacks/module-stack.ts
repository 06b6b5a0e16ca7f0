import { ref, TerraformStack, Token } from '../modules/cdk.ts';
import type { Construct } from 'constructs';
import { AwsProvider } from '../modules/aws.ts';
import { assertSameCore } from '../modules/core.ts';
import { FlatteningPipeline } from '../modules/flattening-pipeline.ts';
import type { FlatteningPipelineProps, KeyType } from '../modules/props.ts';

/**
 * The stack `npm run build:module` turns into a plain Terraform module:
 * the same FlatteningPipeline construct, with every prop wired to a
 * Terraform variable (`var.<name>`). The construct keeps literal-only
 * checks for literals and builds Terraform expressions (count,
 * conditionals, dynamic blocks) where a variable decides. The provider
 * here only satisfies CDKTF; the build strips it (a module must not
 * configure providers) along with the backend.
 */
export class ModuleStack extends TerraformStack {
  readonly pipeline: FlatteningPipeline;

  constructor(scope: Construct, id: string, options: { codeZipPath: string }) {
    assertSameCore(scope, 'ModuleStack', id);
    super(scope, id);
    new AwsProvider(this, 'aws', {});
    const s = (name: string): string => Token.asString(ref(`var.${name}`, this));
    const n = (name: string): number => Token.asNumber(ref(`var.${name}`, this));
    const b = (name: string): boolean => ref(`var.${name}`, this) as unknown as boolean;
    const l = (name: string): string[] => Token.asList(ref(`var.${name}`, this));

    const props: FlatteningPipelineProps = {
      name: s('name'),
      tags: Token.asStringMap(ref('var.tags', this)),
      kmsKeyArn: s('kms_key_arn'),
      partitionKey: { name: s('partition_key'), type: s('partition_key_type') as KeyType },
      sortKey: { name: s('sort_key'), type: s('sort_key_type') as KeyType },
      explodeAttributes: l('explode_attributes'),
      carryAttributes: l('carry_attributes'),
      elementViews: Token.asAny(ref('var.element_view_keys', this)) as unknown as Record<string, string[]>,
      table: {
        create: b('create_table'),
        name: s('table_name'),
        deletionProtection: b('table_deletion_protection'),
        pointInTimeRecovery: b('table_point_in_time_recovery'),
        existingTableName: s('existing_table_name'),
        existingStreamArn: s('existing_stream_arn'),
        existingKmsKeyArn: s('existing_table_kms_key_arn'),
        ttlAttribute: s('ttl_attribute'),
      },
      lake: {
        create: b('create_bucket'),
        name: s('bucket_name'),
        forceDestroy: b('bucket_force_destroy'),
        existingBucketName: s('existing_bucket_name'),
        existingKmsKeyArn: s('existing_bucket_kms_key_arn'),
        dataPrefix: s('lake_prefix'),
        quarantinePrefix: s('quarantine_prefix'),
        athenaResultsPrefix: s('athena_results_prefix'),
        statePrefix: s('state_prefix'),
        athenaResultsExpirationDays: n('athena_results_expiration_days'),
        noncurrentVersionExpirationDays: n('noncurrent_version_expiration_days'),
        abortIncompleteMultipartUploadDays: n('abort_incomplete_multipart_upload_days'),
      },
      glue: {
        databaseName: s('glue_database_name'),
        tableName: s('glue_table_name'),
        viewName: s('glue_view_name'),
        checkpointsTableName: s('glue_checkpoints_table_name'),
        expiredItemsViewName: s('glue_expired_items_view_name'),
        projectionStartDate: s('projection_start_date'),
      },
      athena: {
        name: s('athena_workgroup_name'),
        bytesScannedCutoffPerQuery: n('athena_bytes_scanned_cutoff_per_query'),
        maintenanceBytesScannedCutoffPerQuery: n('athena_maintenance_bytes_scanned_cutoff_per_query'),
        forceDestroy: b('athena_force_destroy'),
      },
      lambda: {
        memorySize: n('lambda_memory_size'),
        timeout: n('lambda_timeout'),
        reservedConcurrency: n('lambda_reserved_concurrency'),
        logLevel: s('lambda_log_level') as 'INFO',
        codeZipPath: options.codeZipPath,
      },
      alias: {
        name: s('alias_name'),
        pinnedVersion: s('alias_pinned_version'),
        canary: { weight: n('canary_weight'), version: s('canary_version') },
      },
      eventSourceMapping: {
        create: b('create_event_source_mapping'),
        enabled: b('event_source_mapping_enabled'),
        batchSize: n('batch_size'),
        maximumBatchingWindowInSeconds: n('maximum_batching_window_in_seconds'),
        maximumRetryAttempts: n('maximum_retry_attempts'),
        maximumRecordAgeInSeconds: n('maximum_record_age_in_seconds'),
        parallelizationFactor: n('parallelization_factor'),
      },
      deadLetterQueue: { messageRetentionSeconds: n('dlq_message_retention_seconds') },
      logs: { retentionInDays: n('log_retention_in_days'), kmsKeyArn: s('log_kms_key_arn') },
      alarms: {
        create: b('create_alarms'),
        snsTopicArn: s('alarm_sns_topic_arn'),
        iteratorAgeThresholdMs: n('iterator_age_alarm_threshold_ms'),
        errorsThreshold: n('errors_alarm_threshold'),
      },
      compaction: {
        create: b('create_compaction_schedule'),
        scheduleExpression: s('compaction_schedule_expression'),
        lookbackDays: n('compaction_lookback_days'),
        targetBytes: n('compaction_target_bytes'),
        // compaction_max_task_bytes is deprecated and has no effect: its variable is validated and reaches nothing.
        checkpointRetention: n('checkpoint_retention'),
        checkpointRebuildShare: n('checkpoint_rebuild_share'),
        checkpointMaxAgeDays: n('checkpoint_max_age_days'),
        marginSeconds: n('compaction_margin_seconds'),
        historyRetentionDays: n('history_retention_days'),
      },
      backfill: {
        enabled: b('backfill_enabled'),
        exportPrefix: s('export_prefix'),
        bucketNotification: b('create_bucket_notification'),
      },
    };
    this.pipeline = new FlatteningPipeline(this, 'pipeline', props);
    this.pipeline.addOutputs(this);
  }
}
