import { ELEMENT_NAME_RULES, ELEMENT_VIEW_LEADING, ELEMENT_VIEW_TRAILING } from '../src/schema/element-views.ts';
import { RESERVED_NAMES } from '../src/schema/row-schema.ts';
import { DEFAULTS, KEY_TYPES, LOG_LEVELS, LOG_RETENTION_DAYS } from '../modules/props.ts';
import { RULES } from '../modules/validation.ts';

/**
 * The Terraform module's input variables: type, default, description and
 * validation for each, with the same rules `validateProps` applies at
 * synth time (patterns and ranges come from RULES). terraform-aws-modules
 * conventions: `create_*` toggles, snake_case, null for "not set".
 */

export interface VariableValidation {
  readonly condition: string;
  readonly error_message: string;
}

export interface VariableSpec {
  readonly name: string;
  readonly type: string;
  readonly description: string;
  /** Absent: required. `null`: optional, not set. */
  readonly default?: unknown;
  readonly validation?: readonly VariableValidation[];
}

const v = (name: string): string => `var.${name}`;
const hcl = (value: unknown): string => JSON.stringify(value);
// A conditional, not ||: Terraform evaluates both sides of || and length(null) fails; only the chosen branch of ?: counts.
const nullable = (name: string, condition: string): string => `${v(name)} == null ? true : (${condition})`;

function matches(name: string, rule: { pattern: string; allowed: string }, optional = false): VariableValidation {
  const cond = `can(regex(${hcl(rule.pattern)}, ${v(name)}))`;
  return { condition: optional ? nullable(name, cond) : cond, error_message: `${name} must be ${rule.allowed}.` };
}

function between(name: string, range: { min: number; max: number }): VariableValidation {
  return {
    condition: `${v(name)} >= ${range.min} && ${v(name)} <= ${range.max} && floor(${v(name)}) == ${v(name)}`,
    error_message: `${name} must be an integer from ${range.min} to ${range.max}.`,
  };
}

function oneOf(name: string, allowed: readonly (string | number)[]): VariableValidation {
  return { condition: `contains(${hcl(allowed)}, ${v(name)})`, error_message: `${name} must be one of ${allowed.join(', ')}.` };
}

const prefixRule = { pattern: '^[A-Za-z0-9_=-]+(/[A-Za-z0-9_=-]+)*$', allowed: 'segments of A-Z a-z 0-9 _ = - separated by single /, with no leading or trailing /' };
const bucketRule = { pattern: '^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$', allowed: 'a valid S3 bucket name: 3-63 characters of a-z, 0-9, . and -' };
const reserved = RESERVED_NAMES;
/** The element view column of a key path `k`, in Terraform (elementColumnName in TypeScript). */
const elementColumn = (k: string): string => `lower(replace(${k}, "/${ELEMENT_NAME_RULES.replace}/", "_"))`;
const elementFixed = [...ELEMENT_VIEW_LEADING, ...ELEMENT_VIEW_TRAILING];

/**
 * Inputs kept so callers that set them do not break, validated as before and reaching nothing:
 * each with the sentence its description starts with. test/module/module-build.test.ts holds them
 * to it (no effect, described as deprecated); remove them in the version named.
 */
export const DEPRECATED_VARIABLES: Readonly<Record<string, string>> = {
  compaction_max_task_bytes: 'Deprecated: no effect since 0.4.0 (maintenance runs in Athena); removed in 0.5.0.',
};

const BASE_VARIABLES: readonly VariableSpec[] = [
  {
    name: 'name',
    type: 'string',
    description: 'Base of every resource name (3 to 28 characters of a-z, 0-9 and -, starting with a letter).',
    validation: [matches('name', RULES.name), { condition: '!strcontains(var.name, "--")', error_message: 'name must not contain two consecutive "-".' }],
  },
  {
    name: 'tags',
    type: 'map(string)',
    default: {},
    description: 'Tags on every taggable resource (merged over the module\'s own ddb-flatten:pipeline tag). Works alongside provider default_tags.',
    validation: [{ condition: 'alltrue([for k, _ in var.tags : length(k) >= 1 && length(k) <= 128 && !startswith(lower(k), "aws:")])', error_message: 'tags keys must be 1 to 128 characters and must not start with "aws:".' }],
  },
  { name: 'kms_key_arn', type: 'string', default: null, description: 'Customer managed KMS key for the table, the bucket (SSE-KMS + bucket key), the DLQ, the function environment and Athena results. null: AWS owned keys / SSE-S3 / SSE-SQS.', validation: [matches('kms_key_arn', RULES.kmsKeyArn, true)] },
  { name: 'partition_key', type: 'string', description: "The table's partition key attribute name.", validation: [{ condition: 'length(var.partition_key) >= 1 && length(var.partition_key) <= 255 && !can(regex("[,\\\\s]", var.partition_key))', error_message: 'partition_key must be 1 to 255 characters without commas or whitespace.' }] },
  { name: 'partition_key_type', type: 'string', default: DEFAULTS.keyType, description: 'DynamoDB type of the partition key: S, N or B.', validation: [oneOf('partition_key_type', KEY_TYPES)] },
  { name: 'sort_key', type: 'string', default: null, description: "The table's sort key attribute name; null when it has none.", validation: [{ condition: nullable('sort_key', 'length(var.sort_key) >= 1 && length(var.sort_key) <= 255 && !can(regex("[,\\\\s]", var.sort_key))'), error_message: 'sort_key must be 1 to 255 characters without commas or whitespace.' }] },
  { name: 'sort_key_type', type: 'string', default: DEFAULTS.keyType, description: 'DynamoDB type of the sort key: S, N or B.', validation: [oneOf('sort_key_type', KEY_TYPES)] },
  { name: 'explode_attributes', type: 'list(string)', description: 'Top-level attributes exploded into rows (lists of maps, maps, ...).', validation: [{ condition: 'length(var.explode_attributes) >= 1 && length(distinct(var.explode_attributes)) == length(var.explode_attributes) && alltrue([for a in var.explode_attributes : length(a) >= 1 && !can(regex("[,\\\\s]", a))])', error_message: 'explode_attributes must list at least one attribute, each once, without commas or whitespace.' }] },
  { name: 'carry_attributes', type: 'list(string)', default: [], description: 'Top-level attributes copied onto every row as columns of their own (lowercase identifiers).', validation: [{ condition: `length(distinct(var.carry_attributes)) == length(var.carry_attributes) && alltrue([for c in var.carry_attributes : can(regex("^[a-z_][a-z0-9_]{0,127}$", c)) && !contains(${hcl(reserved)}, c)])`, error_message: `carry_attributes must be distinct lowercase identifiers (a-z, 0-9, _) that are not row or view columns (${reserved.join(', ')}).` }] },
  {
    name: 'element_view_keys',
    type: 'map(list(string))',
    default: {},
    description:
      'Per-element views: for an exploded attribute (a list of maps), a Glue view <attribute>_elements with one row per element of the current state and a column per key path listed (the exact text, and <column>_number as DOUBLE), e.g. { items = ["sku", "qty"] }.',
    validation: [
      {
        condition: 'alltrue([for a, keys in var.element_view_keys : length(keys) >= 1 && length(distinct(keys)) == length(keys)])',
        error_message: 'element_view_keys must list at least one key path per attribute, each once.',
      },
      {
        condition: `alltrue(flatten([for a, keys in var.element_view_keys : [for k in keys : can(regex(${hcl(ELEMENT_NAME_RULES.column)}, ${elementColumn('k')}))]]))`,
        error_message: `element_view_keys: every key path must give a column name matching ${ELEMENT_NAME_RULES.column} (characters outside A-Z a-z 0-9 _ become _, then lowercase; it must start with a letter or _).`,
      },
      {
        condition: `alltrue([for a, keys in var.element_view_keys : length(distinct(flatten([for k in keys : [${elementColumn('k')}, "\${${elementColumn('k')}}${ELEMENT_NAME_RULES.numberSuffix}"]]))) == 2 * length(keys) && length(setintersection(${hcl(elementFixed)}, flatten([for k in keys : [${elementColumn('k')}, "\${${elementColumn('k')}}${ELEMENT_NAME_RULES.numberSuffix}"]]))) == 0])`,
        error_message: `element_view_keys: the columns derived from an attribute's key paths (<column> and <column>${ELEMENT_NAME_RULES.numberSuffix}) must be distinct and must not be ${elementFixed.join(', ')}.`,
      },
    ],
  },

  { name: 'create_table', type: 'bool', default: DEFAULTS.table.create, description: 'Create the DynamoDB table. false: use existing_table_name and existing_stream_arn.' },
  { name: 'table_name', type: 'string', default: null, description: 'Name of the created table. null: var.name.', validation: [matches('table_name', RULES.tableName, true)] },
  { name: 'table_deletion_protection', type: 'bool', default: DEFAULTS.table.deletionProtection, description: 'Deletion protection on the created table.' },
  { name: 'table_point_in_time_recovery', type: 'bool', default: DEFAULTS.table.pointInTimeRecovery, description: 'Point-in-time recovery on the created table.' },
  { name: 'existing_table_name', type: 'string', default: null, description: 'Existing table (create_table = false).', validation: [matches('existing_table_name', RULES.tableName, true)] },
  { name: 'existing_stream_arn', type: 'string', default: null, description: "Existing table's stream ARN (create_table = false); NEW_AND_OLD_IMAGES.", validation: [matches('existing_stream_arn', RULES.streamArn, true)] },
  { name: 'existing_table_kms_key_arn', type: 'string', default: null, description: "Existing table's customer managed key, if any (the function gets kms:Decrypt on it).", validation: [matches('existing_table_kms_key_arn', RULES.kmsKeyArn, true)] },
  {
    name: 'ttl_attribute',
    type: 'string',
    default: null,
    description:
      "Time to Live on the created table: the attribute holding each item's expiry time (epoch seconds). DynamoDB deletes expired items; the lake writes each such deletion as EXPIRE rows (the item as it expired), left out of the current-state view and kept in the expired-items view. Not a key attribute; only with create_table = true. null: TTL off.",
    validation: [
      {
        condition: nullable('ttl_attribute', 'length(var.ttl_attribute) >= 1 && length(var.ttl_attribute) <= 255 && !can(regex("[,\\\\s]", var.ttl_attribute))'),
        error_message: 'ttl_attribute must be 1 to 255 characters without commas or whitespace.',
      },
    ],
  },

  { name: 'create_bucket', type: 'bool', default: DEFAULTS.lake.create, description: 'Create the lake bucket. false: use existing_bucket_name (left unchanged).' },
  { name: 'bucket_name', type: 'string', default: null, description: 'Name of the created bucket. null: a unique name starting with "<name>-lake-".', validation: [matches('bucket_name', bucketRule, true)] },
  { name: 'bucket_force_destroy', type: 'bool', default: DEFAULTS.lake.forceDestroy, description: 'Let terraform destroy delete a non-empty bucket.' },
  { name: 'existing_bucket_name', type: 'string', default: null, description: 'Existing lake bucket (create_bucket = false).', validation: [matches('existing_bucket_name', bucketRule, true)] },
  { name: 'existing_bucket_kms_key_arn', type: 'string', default: null, description: "Existing bucket's SSE-KMS key, if any (the function gets kms:GenerateDataKey on it).", validation: [matches('existing_bucket_kms_key_arn', RULES.kmsKeyArn, true)] },
  { name: 'lake_prefix', type: 'string', default: DEFAULTS.lake.dataPrefix, description: 'Key prefix of the flattened rows.', validation: [matches('lake_prefix', prefixRule)] },
  { name: 'quarantine_prefix', type: 'string', default: DEFAULTS.lake.quarantinePrefix, description: 'Key prefix of records that could not be flattened.', validation: [matches('quarantine_prefix', prefixRule)] },
  { name: 'state_prefix', type: 'string', default: DEFAULTS.lake.statePrefix, description: 'Key prefix of the maintenance state: compaction plans and the checkpoints of the current state.', validation: [matches('state_prefix', prefixRule)] },
  { name: 'athena_results_prefix', type: 'string', default: DEFAULTS.lake.athenaResultsPrefix, description: 'Key prefix of Athena query results.', validation: [matches('athena_results_prefix', prefixRule)] },
  { name: 'athena_results_expiration_days', type: 'number', default: DEFAULTS.lake.athenaResultsExpirationDays, description: 'Days before Athena results expire.', validation: [between('athena_results_expiration_days', RULES.expirationDays)] },
  { name: 'noncurrent_version_expiration_days', type: 'number', default: DEFAULTS.lake.noncurrentVersionExpirationDays, description: 'Days before noncurrent object versions expire.', validation: [between('noncurrent_version_expiration_days', RULES.expirationDays)] },
  { name: 'abort_incomplete_multipart_upload_days', type: 'number', default: DEFAULTS.lake.abortIncompleteMultipartUploadDays, description: 'Days before incomplete multipart uploads are aborted.', validation: [between('abort_incomplete_multipart_upload_days', RULES.expirationDays)] },

  { name: 'glue_database_name', type: 'string', default: null, description: 'Glue database. null: var.name with - replaced by _.', validation: [matches('glue_database_name', RULES.glueName, true)] },
  { name: 'glue_table_name', type: 'string', default: DEFAULTS.glue.tableName, description: 'Glue table of the flattened rows.', validation: [matches('glue_table_name', RULES.glueName)] },
  { name: 'glue_checkpoints_table_name', type: 'string', default: DEFAULTS.glue.checkpointsTableName, description: 'Glue table of the checkpoints of the current state (the view reads the latest one).', validation: [matches('glue_checkpoints_table_name', RULES.glueName)] },
  { name: 'glue_view_name', type: 'string', default: DEFAULTS.glue.viewName, description: 'Glue (Athena) view of the current state.', validation: [matches('glue_view_name', RULES.glueName)] },
  {
    name: 'glue_expired_items_view_name',
    type: 'string',
    default: DEFAULTS.glue.expiredItemsViewName,
    description: 'Glue (Athena) view of the items Time to Live deleted: the last version of each, as it expired (event_name EXPIRE).',
    validation: [matches('glue_expired_items_view_name', RULES.glueName)],
  },
  { name: 'projection_start_date', type: 'string', default: DEFAULTS.glue.projectionStartDate, description: 'First day of the dt partition projection range (yyyy-MM-dd).', validation: [{ condition: 'can(formatdate("YYYY-MM-DD", "${var.projection_start_date}T00:00:00Z"))', error_message: 'projection_start_date must be a calendar date as yyyy-MM-dd.' }] },

  { name: 'athena_workgroup_name', type: 'string', default: null, description: 'Athena workgroup (at most 116 characters: the maintenance workgroup is "<this>-maintenance"). null: "<name>-flatten".', validation: [matches('athena_workgroup_name', RULES.workgroupName, true)] },
  { name: 'athena_bytes_scanned_cutoff_per_query', type: 'number', default: DEFAULTS.athena.bytesScannedCutoffPerQuery, description: 'Per-query data scanned limit in bytes (minimum 10485760).', validation: [{ condition: 'var.athena_bytes_scanned_cutoff_per_query >= 10485760 && floor(var.athena_bytes_scanned_cutoff_per_query) == var.athena_bytes_scanned_cutoff_per_query', error_message: 'athena_bytes_scanned_cutoff_per_query must be an integer of at least 10485760 (10 MB).' }] },
  {
    name: 'athena_maintenance_bytes_scanned_cutoff_per_query',
    type: 'number',
    default: DEFAULTS.athena.maintenanceBytesScannedCutoffPerQuery,
    description:
      'Per-query data scanned limit in bytes of the maintenance workgroup ("<athena workgroup>-maintenance"), where compaction and checkpoints run as UNLOAD statements (minimum 10485760). A checkpoint reads the whole current state (about 27 GB for a 1 B-item table): the analysts\' cutoff would cancel it. Default 1 TiB.',
    validation: [{ condition: 'var.athena_maintenance_bytes_scanned_cutoff_per_query >= 10485760 && floor(var.athena_maintenance_bytes_scanned_cutoff_per_query) == var.athena_maintenance_bytes_scanned_cutoff_per_query', error_message: 'athena_maintenance_bytes_scanned_cutoff_per_query must be an integer of at least 10485760 (10 MB).' }],
  },
  { name: 'athena_force_destroy', type: 'bool', default: DEFAULTS.athena.forceDestroy, description: 'Let terraform destroy delete the workgroups (the analysts\' and the maintenance one) with their named queries and history.' },

  { name: 'lambda_memory_size', type: 'number', default: DEFAULTS.lambda.memorySize, description: 'Function memory in MB.', validation: [between('lambda_memory_size', RULES.memorySize)] },
  { name: 'lambda_timeout', type: 'number', default: DEFAULTS.lambda.timeout, description: 'Function timeout in seconds.', validation: [between('lambda_timeout', RULES.timeout)] },
  { name: 'lambda_reserved_concurrency', type: 'number', default: DEFAULTS.lambda.reservedConcurrency, description: 'Reserved concurrency; -1 for unreserved.', validation: [between('lambda_reserved_concurrency', RULES.reservedConcurrency)] },
  { name: 'lambda_log_level', type: 'string', default: DEFAULTS.lambda.logLevel, description: 'Application log level (JSON log format).', validation: [oneOf('lambda_log_level', LOG_LEVELS)] },

  { name: 'alias_name', type: 'string', default: DEFAULTS.alias.name, description: 'Alias the stream trigger invokes.', validation: [matches('alias_name', RULES.aliasName)] },
  { name: 'alias_pinned_version', type: 'string', default: null, description: 'Pin the alias to this published version (rollback). null: follow the newest version.', validation: [matches('alias_pinned_version', RULES.version, true)] },
  { name: 'canary_weight', type: 'number', default: 0, description: 'Share of invocations (0 to 1) routed to canary_version; needs alias_pinned_version when above 0.', validation: [{ condition: 'var.canary_weight >= 0 && var.canary_weight <= 1', error_message: 'canary_weight must be a number from 0 to 1.' }] },
  { name: 'canary_version', type: 'string', default: null, description: 'Version that receives the canary share. null: the newest published version.', validation: [matches('canary_version', RULES.version, true)] },

  { name: 'create_event_source_mapping', type: 'bool', default: DEFAULTS.eventSourceMapping.create, description: 'Create the stream trigger. false: no trigger (feed records yourself, or attach it later).' },
  { name: 'event_source_mapping_enabled', type: 'bool', default: DEFAULTS.eventSourceMapping.enabled, description: 'Create the trigger enabled; false creates it paused.' },
  { name: 'batch_size', type: 'number', default: DEFAULTS.eventSourceMapping.batchSize, description: 'Records per batch (at most 10000, and at most 6 MB of them). Large batches make few objects and invocations: the cost per GB (README, Performance).', validation: [between('batch_size', RULES.batchSize)] },
  { name: 'maximum_batching_window_in_seconds', type: 'number', default: DEFAULTS.eventSourceMapping.maximumBatchingWindowInSeconds, description: 'Seconds to gather records before invoking: at most this long (plus the invocation) before rows are in the lake.', validation: [between('maximum_batching_window_in_seconds', RULES.maximumBatchingWindowInSeconds)] },
  { name: 'maximum_retry_attempts', type: 'number', default: DEFAULTS.eventSourceMapping.maximumRetryAttempts, description: 'Retries of a failing batch (bounded).', validation: [between('maximum_retry_attempts', RULES.maximumRetryAttempts)] },
  { name: 'maximum_record_age_in_seconds', type: 'number', default: DEFAULTS.eventSourceMapping.maximumRecordAgeInSeconds, description: 'Records older than this go to the DLQ (bounded).', validation: [between('maximum_record_age_in_seconds', RULES.maximumRecordAgeInSeconds)] },
  { name: 'parallelization_factor', type: 'number', default: DEFAULTS.eventSourceMapping.parallelizationFactor, description: 'Concurrent batches per shard.', validation: [between('parallelization_factor', RULES.parallelizationFactor)] },
  { name: 'dlq_message_retention_seconds', type: 'number', default: DEFAULTS.deadLetterQueue.messageRetentionSeconds, description: 'How long failed-batch records stay in the DLQ.', validation: [between('dlq_message_retention_seconds', RULES.messageRetentionSeconds)] },

  { name: 'log_retention_in_days', type: 'number', default: DEFAULTS.logs.retentionInDays, description: "Log group retention; one of CloudWatch's allowed values.", validation: [oneOf('log_retention_in_days', LOG_RETENTION_DAYS)] },
  { name: 'log_kms_key_arn', type: 'string', default: null, description: 'KMS key of the log group (its key policy must allow CloudWatch Logs). null: none.', validation: [matches('log_kms_key_arn', RULES.kmsKeyArn, true)] },

  { name: 'create_alarms', type: 'bool', default: DEFAULTS.alarms.create, description: 'Create the alarms (function errors, iterator age, DLQ messages).' },
  { name: 'alarm_sns_topic_arn', type: 'string', default: null, description: 'SNS topic the alarms notify. null: none.', validation: [matches('alarm_sns_topic_arn', RULES.snsTopicArn, true)] },
  { name: 'iterator_age_alarm_threshold_ms', type: 'number', default: DEFAULTS.alarms.iteratorAgeThresholdMs, description: 'Iterator age (ms) that raises the iterator-age alarm.', validation: [between('iterator_age_alarm_threshold_ms', RULES.iteratorAgeThresholdMs)] },
  { name: 'create_compaction_schedule', type: 'bool', default: DEFAULTS.compaction.create, description: 'Create the daily maintenance schedule (EventBridge Scheduler): compaction of closed days, then a checkpoint of the current state. false: run {"action":"compact"} yourself.' },
  { name: 'compaction_schedule_expression', type: 'string', default: DEFAULTS.compaction.scheduleExpression, description: 'When the maintenance runs (UTC), e.g. cron(30 7 * * ? *): after the previous day closes (its end + the maximum record age + the margin).', validation: [matches('compaction_schedule_expression', RULES.scheduleExpression)] },
  { name: 'compaction_lookback_days', type: 'number', default: DEFAULTS.compaction.lookbackDays, description: 'Closed days a maintenance run looks at, newest first.', validation: [between('compaction_lookback_days', RULES.lookbackDays)] },
  { name: 'compaction_target_bytes', type: 'number', default: DEFAULTS.compaction.targetBytes, description: 'Size of a compacted object in bytes (128 MiB).', validation: [between('compaction_target_bytes', RULES.targetBytes)] },
  {
    name: 'compaction_max_task_bytes',
    type: 'number',
    default: null,
    description: `${DEPRECATED_VARIABLES.compaction_max_task_bytes} In 0.3.0 the input bytes one maintenance task read. Still validated (an integer from ${RULES.maxTaskBytes.min} to ${RULES.maxTaskBytes.max}), otherwise ignored: remove it.`,
    validation: [{ ...between('compaction_max_task_bytes', RULES.maxTaskBytes), condition: nullable('compaction_max_task_bytes', between('compaction_max_task_bytes', RULES.maxTaskBytes).condition) }],
  },
  { name: 'checkpoint_retention', type: 'number', default: DEFAULTS.compaction.checkpointRetention, description: 'Checkpoints kept (the current one and those before it, for readers of an older pointer).', validation: [between('checkpoint_retention', RULES.checkpointRetention)] },
  {
    name: 'checkpoint_rebuild_share',
    type: 'number',
    default: DEFAULTS.compaction.checkpointRebuildShare,
    description:
      'Rebuild the checkpoint once the closed days after its bound hold this share of its bytes (0 to 4). Until then the current-state view reads the checkpoint plus those days, at most 1 + share times the state: 0.25 bounds a current-state query at 1.25 times; 0 rebuilds whenever a day closes.',
    validation: [{ condition: `var.checkpoint_rebuild_share >= ${RULES.checkpointRebuildShare.min} && var.checkpoint_rebuild_share <= ${RULES.checkpointRebuildShare.max}`, error_message: `checkpoint_rebuild_share must be a number from ${RULES.checkpointRebuildShare.min} to ${RULES.checkpointRebuildShare.max}.` }],
  },
  { name: 'checkpoint_max_age_days', type: 'number', default: DEFAULTS.compaction.checkpointMaxAgeDays, description: 'Rebuild the checkpoint once its bound is this many days old, whatever checkpoint_rebuild_share says (1 to 3650): bounds the days the current-state view reads after the checkpoint, however small they are.', validation: [between('checkpoint_max_age_days', RULES.checkpointMaxAgeDays)] },
  { name: 'compaction_margin_seconds', type: 'number', default: DEFAULTS.compaction.marginSeconds, description: "Seconds added to the trigger's maximum record age before a day counts as closed.", validation: [between('compaction_margin_seconds', RULES.marginSeconds)] },
  {
    name: 'history_retention_days',
    type: 'number',
    default: null,
    description: `Days of history the lake keeps (${RULES.historyRetentionDays.min} to ${RULES.historyRetentionDays.max}): the scheduled run deletes the days older than this that a kept checkpoint covers (never one no checkpoint covers), so the current state stays exact while the change history and the expired-items archive reach back this far. Deleted objects stay as noncurrent versions for noncurrent_version_expiration_days: history is gone for good after both. Sets the function's HISTORY_RETENTION_DAYS; review-plan flags setting or shortening it. null: history kept for ever.`,
    validation: [{ ...between('history_retention_days', RULES.historyRetentionDays), condition: nullable('history_retention_days', between('history_retention_days', RULES.historyRetentionDays).condition) }],
  },
  { name: 'backfill_enabled', type: 'bool', default: DEFAULTS.backfill.enabled, description: 'Let the function export this table (PITR) into export_prefix and flatten each export data file (the backfill action).' },
  { name: 'export_prefix', type: 'string', default: DEFAULTS.backfill.exportPrefix, description: 'Key prefix of backfill exports in the lake bucket.', validation: [matches('export_prefix', prefixRule)] },
  { name: 'create_bucket_notification', type: 'bool', default: null, description: 'Create the bucket notification that invokes the alias for each export data file. null: only when the module creates the bucket (a bucket has one notification configuration).' },
  { name: 'errors_alarm_threshold', type: 'number', default: DEFAULTS.alarms.errorsThreshold, description: 'Function errors per 5 minutes that raise the errors alarm.', validation: [between('errors_alarm_threshold', RULES.errorsThreshold)] },
];

/**
 * Rules that span variables. Terraform >= 1.9 lets a variable's validation
 * read other variables, so each rule sits on the variable it is about: the
 * error names it, and it is reported at validate time, before any resource
 * argument built from the bad combination fails less clearly.
 */
const CROSS_VARIABLE_RULES: Readonly<Record<string, readonly VariableValidation[]>> = {
  create_table: [{ condition: 'var.create_table || (var.existing_table_name != null && var.existing_stream_arn != null)', error_message: 'create_table = false needs existing_table_name and existing_stream_arn.' }],
  create_bucket: [{ condition: 'var.create_bucket || var.existing_bucket_name != null', error_message: 'create_bucket = false needs existing_bucket_name.' }],
  lake_prefix: [
    {
      condition:
        'length(distinct([var.lake_prefix, var.quarantine_prefix, var.athena_results_prefix, var.export_prefix, var.state_prefix])) == 5 && alltrue([for p in setproduct([var.lake_prefix, var.quarantine_prefix, var.athena_results_prefix, var.export_prefix, var.state_prefix], [var.lake_prefix, var.quarantine_prefix, var.athena_results_prefix, var.export_prefix, var.state_prefix]) : p[0] == p[1] || !startswith(p[0], "${p[1]}/")])',
      error_message: 'lake_prefix, quarantine_prefix, athena_results_prefix, export_prefix and state_prefix must not overlap: each has its own lifecycle and permissions.',
    },
  ],
  sort_key: [{ condition: 'var.sort_key == null ? true : var.sort_key != var.partition_key', error_message: 'sort_key must differ from partition_key.' }],
  glue_view_name: [{ condition: 'var.glue_table_name != var.glue_view_name', error_message: 'glue_view_name must differ from glue_table_name.' }],
  glue_checkpoints_table_name: [
    { condition: '!contains([var.glue_table_name, var.glue_view_name], var.glue_checkpoints_table_name)', error_message: 'glue_checkpoints_table_name must differ from glue_table_name and glue_view_name.' },
  ],
  glue_expired_items_view_name: [
    {
      condition: '!contains([var.glue_table_name, var.glue_view_name, var.glue_checkpoints_table_name], var.glue_expired_items_view_name)',
      error_message: 'glue_expired_items_view_name must differ from glue_table_name, glue_view_name and glue_checkpoints_table_name.',
    },
  ],
  ttl_attribute: [
    {
      condition: 'var.ttl_attribute == null ? true : var.create_table',
      error_message: 'ttl_attribute applies only when the module creates the table (create_table = true): turn Time to Live on on your own table; the lake tells its expiries from deletes all the same.',
    },
    {
      condition: 'var.ttl_attribute == null ? true : !contains(compact([var.partition_key, var.sort_key]), var.ttl_attribute)',
      error_message: "ttl_attribute must not be a key attribute (partition_key, sort_key): Time to Live needs an attribute of its own holding each item's expiry time (epoch seconds).",
    },
  ],
  explode_attributes: [{ condition: 'length(setintersection(var.explode_attributes, compact([var.partition_key, var.sort_key]))) == 0', error_message: 'explode_attributes must not list a key attribute (keys are columns already).' }],
  element_view_keys: [
    { condition: 'length(setsubtract(keys(var.element_view_keys), var.explode_attributes)) == 0', error_message: 'element_view_keys: every attribute must be one of explode_attributes.' },
    {
      condition: `alltrue([for a, keys in var.element_view_keys : length(setintersection(var.carry_attributes, flatten([for k in keys : [${elementColumn('k')}, "\${${elementColumn('k')}}${ELEMENT_NAME_RULES.numberSuffix}"]]))) == 0])`,
      error_message: 'element_view_keys: a column derived from a key path must not be the name of a carried attribute.',
    },
    {
      condition: `length(distinct([for a in keys(var.element_view_keys) : "\${${elementColumn('a')}}${ELEMENT_NAME_RULES.viewSuffix}"])) == length(var.element_view_keys) && length(setintersection([var.glue_table_name, var.glue_view_name, var.glue_checkpoints_table_name, var.glue_expired_items_view_name], [for a in keys(var.element_view_keys) : "\${${elementColumn('a')}}${ELEMENT_NAME_RULES.viewSuffix}"])) == 0`,
      error_message: `element_view_keys: the view names derived from the attributes (<attribute>${ELEMENT_NAME_RULES.viewSuffix}) must be distinct and differ from glue_table_name, glue_view_name, glue_checkpoints_table_name and glue_expired_items_view_name.`,
    },
  ],
};

/** Every input variable of the module, with its own and its cross-variable validations. */
export const MODULE_VARIABLES: readonly VariableSpec[] = BASE_VARIABLES.map((v) =>
  CROSS_VARIABLE_RULES[v.name] ? { ...v, validation: [...(v.validation ?? []), ...CROSS_VARIABLE_RULES[v.name]] } : v,
);
for (const name of Object.keys(CROSS_VARIABLE_RULES)) {
  if (!BASE_VARIABLES.some((v) => v.name === name)) throw new Error(`CROSS_VARIABLE_RULES: no variable ${name}`);
}
