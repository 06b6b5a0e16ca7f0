/**
 * The typed configuration of `FlatteningPipeline`. Every field is
 * documented with its default; `validateProps` checks every one at synth
 * time and names the prop and what is allowed when it rejects one.
 *
 * Values may be literals (a CDKTF app) or Terraform tokens (the Terraform
 * module build passes `TerraformVariable` values). Tokens skip the
 * synth-time checks: the module's variables carry the same checks as
 * `validation` blocks instead.
 */

import type { KeyType } from '../src/config/pipeline-config.ts';

/** DynamoDB scalar types allowed for key attributes: the handler's own list (PARTITION_KEY_TYPE, SORT_KEY_TYPE). */
export { KEY_TYPES, type KeyType } from '../src/config/pipeline-config.ts';

export interface KeyAttribute {
  /** Attribute name, as in the table's key schema. */
  readonly name: string;
  /** DynamoDB scalar type of the key. Default `S`. */
  readonly type?: KeyType;
}

export interface SourceTableProps {
  /** Create the DynamoDB table (default `true`). `false`: bring your own with `existingTableName` and `existingStreamArn`. */
  readonly create?: boolean;
  /** Name of the created table. Default: the pipeline `name`. */
  readonly name?: string;
  /** Deletion protection on the created table. Default `true`. */
  readonly deletionProtection?: boolean;
  /** Point-in-time recovery on the created table. Default `true`. */
  readonly pointInTimeRecovery?: boolean;
  /** Existing table name (when `create` is false). */
  readonly existingTableName?: string;
  /** Existing table's stream ARN (when `create` is false). The stream must carry NEW_AND_OLD_IMAGES (or NEW_IMAGE). */
  readonly existingStreamArn?: string;
  /** The existing table's customer managed KMS key, when it has one: the function gets kms:Decrypt on it to read the stream. */
  readonly existingKmsKeyArn?: string;
  /**
   * Time to Live on the created table: the attribute holding each item's expiry time (epoch seconds, a Number).
   * DynamoDB deletes expired items itself; the lake writes each such deletion as EXPIRE rows (the expired item as
   * it was), which the current-state view leaves out and the expired-items view keeps. Not a key attribute; only
   * when the module creates the table (for your own table, turn TTL on there: the lake tells its expiries apart all
   * the same). Default: none, TTL off.
   */
  readonly ttlAttribute?: string;
}

export interface LakeBucketProps {
  /** Create the lake bucket (default `true`). `false`: bring your own with `existingBucketName`. */
  readonly create?: boolean;
  /** Name of the created bucket. Default: a unique name starting with `<name>-lake-`. */
  readonly name?: string;
  /** Allow `terraform destroy` to delete a non-empty bucket. Default `false`. */
  readonly forceDestroy?: boolean;
  /** Existing bucket name (when `create` is false). The module does not change its settings. */
  readonly existingBucketName?: string;
  /** The existing bucket's SSE-KMS key, when it has one: the function gets kms:GenerateDataKey on it. */
  readonly existingKmsKeyArn?: string;
  /** Key prefix of the flattened rows. Default `flattened`. */
  readonly dataPrefix?: string;
  /** Key prefix of records that could not be flattened. Default `quarantine`. */
  readonly quarantinePrefix?: string;
  /** Key prefix of Athena query results. Default `athena-results`. */
  readonly athenaResultsPrefix?: string;
  /** Key prefix of the maintenance state: compaction plans, checkpoints of the current state. Default `state`. */
  readonly statePrefix?: string;
  /** Days before Athena results expire (lifecycle rule). Default 30. */
  readonly athenaResultsExpirationDays?: number;
  /** Days before noncurrent object versions expire (lifecycle rule). Default 30. */
  readonly noncurrentVersionExpirationDays?: number;
  /** Days before incomplete multipart uploads are aborted (lifecycle rule). Default 7. */
  readonly abortIncompleteMultipartUploadDays?: number;
}

export interface GlueCatalogProps {
  /** Glue database. Default: `name` with `-` replaced by `_`. */
  readonly databaseName?: string;
  /** Glue table of the flattened rows. Default `flattened`. */
  readonly tableName?: string;
  /** Glue (Athena) view of the current state. Default `current_state`. */
  readonly viewName?: string;
  /** Glue table of the current state's checkpoints, which the view reads. Default `checkpoints`. */
  readonly checkpointsTableName?: string;
  /** Glue (Athena) view of the items Time to Live deleted, each as its last version. Default `expired_items`. */
  readonly expiredItemsViewName?: string;
  /** First day of the `dt` partition projection range, `yyyy-MM-dd`. Default `2024-01-01`. */
  readonly projectionStartDate?: string;
}

export interface AthenaWorkgroupProps {
  /**
   * The analysts' workgroup, at most 116 characters: the maintenance workgroup is named after it,
   * `<name>-maintenance`, within Athena's 128. Default `<name>-flatten`.
   */
  readonly name?: string;
  /** Per-query data scanned limit in bytes (Athena's minimum is 10 MB). Default 10 GiB. */
  readonly bytesScannedCutoffPerQuery?: number;
  /**
   * Per-query data scanned limit of the maintenance workgroup (`<workgroup name>-maintenance`), where the function runs
   * compaction and checkpoints as UNLOAD statements. A checkpoint reads the whole current state (about 27 GB for a
   * 1 B-item table), so the analysts' cutoff would cancel it. Default 1 TiB (1099511627776); at least 10 MB.
   */
  readonly maintenanceBytesScannedCutoffPerQuery?: number;
  /** Allow destroying the workgroups with their named queries and history. Default `false`. */
  readonly forceDestroy?: boolean;
}

export interface StreamFunctionProps {
  /** Memory in MB, 128 to 10240. Default 512. */
  readonly memorySize?: number;
  /** Timeout in seconds, 1 to 900. Default 120. */
  readonly timeout?: number;
  /** Reserved concurrency; -1 means unreserved. Default -1. */
  readonly reservedConcurrency?: number;
  /** Application log level in the JSON log format. Default `INFO`. */
  readonly logLevel?: 'TRACE' | 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'FATAL';
  /** A prebuilt handler zip (for example the one `npm run build:module` ships). Default: bundle `handlers/index.ts` on synth. */
  readonly codeZipPath?: string;
}

export interface CanaryProps {
  /** Share of invocations routed to the canary version, 0 to 1. */
  readonly weight: number;
  /** Version that receives the canary share. Default: the newest published version. */
  readonly version?: string;
}

export interface AliasProps {
  /** Alias name. Default `live`. */
  readonly name?: string;
  /** Pin the alias to this published version (rollback). Default: follow the newest version. */
  readonly pinnedVersion?: string;
  /** Route a share of invocations to a second version. Needs `pinnedVersion`. */
  readonly canary?: CanaryProps;
}

export interface EventSourceMappingProps {
  /** Create the stream trigger (default `true`). `false` leaves the function without a trigger, e.g. to feed records yourself or attach it later. */
  readonly create?: boolean;
  /** Create the trigger enabled (default `true`). `false` creates it paused: no records are read until it is enabled. */
  readonly enabled?: boolean;
  /** Records per batch, 1 to 10000. Default 10000: with the 30 s window, few large objects and invocations (npm run bench, cost.perGB). */
  readonly batchSize?: number;
  /** Seconds to gather records before invoking, 0 to 300. Default 30: rows are in the lake within about half a minute. */
  readonly maximumBatchingWindowInSeconds?: number;
  /** Retries of a failing batch, 0 to 10000 (bounded: -1 is refused). Default 10. */
  readonly maximumRetryAttempts?: number;
  /** Discard records older than this, 60 to 604800 seconds (bounded: -1 is refused). Default 21600 (6 h). */
  readonly maximumRecordAgeInSeconds?: number;
  /** Concurrent batches per shard, 1 to 10. Default 1. */
  readonly parallelizationFactor?: number;
}

export interface DeadLetterQueueProps {
  /** How long failed-batch records stay in the DLQ, 60 to 1209600 seconds. Default 1209600 (14 days). */
  readonly messageRetentionSeconds?: number;
}

export interface LogGroupProps {
  /** Retention in days; one of CloudWatch's allowed values. Default 30. */
  readonly retentionInDays?: number;
  /** KMS key for the log group (its key policy must allow CloudWatch Logs). Default: none (CloudWatch's own encryption). */
  readonly kmsKeyArn?: string;
}

export interface AlarmsProps {
  /** Create the alarms (default `true`). */
  readonly create?: boolean;
  /** SNS topic notified when an alarm fires or recovers. Default: none. */
  readonly snsTopicArn?: string;
  /** Iterator age (ms) that raises the iterator-age alarm. Default 600000 (10 min). */
  readonly iteratorAgeThresholdMs?: number;
  /** Function errors per 5 minutes that raise the errors alarm. Default 1. */
  readonly errorsThreshold?: number;
}

export interface BackfillProps {
  /**
   * Let the function back-fill the lake from a point-in-time export (default `true`):
   * it may export this table into the bucket and read the export's files, and each
   * data file is flattened by one invocation of the alias when S3 announces it.
   */
  readonly enabled?: boolean;
  /** Key prefix of the exports in the lake bucket. Default `exports`. */
  readonly exportPrefix?: string;
  /**
   * Create the bucket notification that invokes the alias for each export data file.
   * Default: `true` when the module creates the bucket. A bucket has a single
   * notification configuration, so for an existing bucket the default is `false`:
   * add the rule (prefix `<exportPrefix>/`, suffix `.gz`, target the alias) to yours.
   */
  readonly bucketNotification?: boolean;
}

export interface CompactionProps {
  /** Create the daily schedule (EventBridge Scheduler) that compacts closed days and writes a checkpoint. Default `true`. */
  readonly create?: boolean;
  /** When it runs, as EventBridge Scheduler reads it (UTC). Default `cron(30 7 * * ? *)`: after the previous day closes (end + 6 h record age + 1 h). */
  readonly scheduleExpression?: string;
  /** Closed days a run looks at, newest first; older late objects need a run with `dt`. Default 14. */
  readonly lookbackDays?: number;
  /** Size of a compacted object in bytes. Default 134217728 (128 MiB). */
  readonly targetBytes?: number;
  /**
   * @deprecated No effect since 0.4.0: maintenance runs in Athena (UNLOAD statements in the maintenance workgroup),
   * not as tasks of the function. Still validated (an integer from 1 MiB to 100 GiB) and otherwise ignored, with a
   * synth warning; removed in 0.5.0.
   */
  readonly maxTaskBytes?: number;
  /** Checkpoints kept for readers of an older pointer, 2 to 100. Default 3. */
  readonly checkpointRetention?: number;
  /**
   * Rebuild the checkpoint once the closed days after its bound hold at least this share of its bytes, 0 to 4.
   * Until then the current-state view reads the checkpoint plus those days (at most 1 + share times the state).
   * Default 0.25: a current-state query reads at most 1.25 times the state; 0 rebuilds whenever a day closes.
   */
  readonly checkpointRebuildShare?: number;
  /**
   * ... or once its bound is this many days old, whatever the share, 1 to 3650: bounds the days the view reads after
   * the checkpoint, however small they are. Default 30: a table changing 1% a day reaches the share in about three
   * weeks, so the rebuild follows the changes; a shorter age rebuilds (scans the whole state) more often than it pays.
   */
  readonly checkpointMaxAgeDays?: number;
  /** Seconds added to the trigger's maximum record age before a day is closed. Default 3600. */
  readonly marginSeconds?: number;
  /**
   * Days of history the lake keeps, 1 to 36500: the scheduled run deletes the days older than this that a kept
   * checkpoint covers (never a day no checkpoint covers), so the current state stays exact and the change history
   * (and the expired-items archive) reaches back this far. The bucket is versioned: a deleted object stays as a
   * noncurrent version for `lake.noncurrentVersionExpirationDays`, so history is gone for good after both.
   * Default: none, history kept for ever.
   */
  readonly historyRetentionDays?: number;
}

export interface FlatteningPipelineProps {
  /** Base of every resource name: 3 to 28 characters of a-z, 0-9 and -, starting with a letter. */
  readonly name: string;
  /**
   * Prefix of every Terraform address of this pipeline (`aws_dynamodb_table.<prefix>_source`), snake_case.
   * Default none (`aws_dynamodb_table.source`). Needed only to hold two pipelines in one stack.
   */
  readonly addressPrefix?: string;
  /** Tags on every resource (merged over the module's own `ddb-flatten:*` tags). */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Customer managed KMS key for the table, the bucket (SSE-KMS with a bucket key),
   * the DLQ, the function's environment and Athena results. Default: none
   * (AWS owned keys for the table, SSE-S3 for the bucket, SSE-SQS for the DLQ).
   */
  readonly kmsKeyArn?: string;
  /** The table's partition key. */
  readonly partitionKey: KeyAttribute;
  /** The table's sort key, when it has one. */
  readonly sortKey?: KeyAttribute;
  /** Top-level attributes exploded into rows (lists of maps, maps, ...). */
  readonly explodeAttributes: readonly string[];
  /** Top-level attributes copied onto every row as columns of their own. Default none. */
  readonly carryAttributes?: readonly string[];
  /**
   * Per-element views: for an exploded attribute (a list of maps), a Glue view
   * `<attribute>_elements` with one row per element of the current state and a
   * column per key path listed (the exact text, and `<column>_number` as DOUBLE),
   * e.g. `{ items: ['sku', 'qty', 'unit_price'] }`. Default none.
   */
  readonly elementViews?: Readonly<Record<string, readonly string[]>>;
  readonly table?: SourceTableProps;
  readonly lake?: LakeBucketProps;
  readonly glue?: GlueCatalogProps;
  readonly athena?: AthenaWorkgroupProps;
  readonly lambda?: StreamFunctionProps;
  readonly alias?: AliasProps;
  readonly eventSourceMapping?: EventSourceMappingProps;
  readonly deadLetterQueue?: DeadLetterQueueProps;
  readonly logs?: LogGroupProps;
  readonly alarms?: AlarmsProps;
  readonly backfill?: BackfillProps;
  readonly compaction?: CompactionProps;
}

/** Every default in one place; docs and the module's variables read them from here. */
export const DEFAULTS = {
  keyType: 'S',
  table: { create: true, deletionProtection: true, pointInTimeRecovery: true },
  lake: {
    create: true,
    forceDestroy: false,
    dataPrefix: 'flattened',
    quarantinePrefix: 'quarantine',
    athenaResultsPrefix: 'athena-results',
    statePrefix: 'state',
    athenaResultsExpirationDays: 30,
    noncurrentVersionExpirationDays: 30,
    abortIncompleteMultipartUploadDays: 7,
  },
  glue: { tableName: 'flattened', viewName: 'current_state', checkpointsTableName: 'checkpoints', expiredItemsViewName: 'expired_items', projectionStartDate: '2024-01-01' },
  athena: { bytesScannedCutoffPerQuery: 10 * 1024 ** 3, maintenanceBytesScannedCutoffPerQuery: 1024 ** 4, forceDestroy: false },
  lambda: { memorySize: 512, timeout: 120, reservedConcurrency: -1, logLevel: 'INFO' },
  alias: { name: 'live' },
  eventSourceMapping: {
    create: true,
    enabled: true,
    batchSize: 10000,
    maximumBatchingWindowInSeconds: 30,
    maximumRetryAttempts: 10,
    maximumRecordAgeInSeconds: 21600,
    parallelizationFactor: 1,
  },
  deadLetterQueue: { messageRetentionSeconds: 1209600 },
  logs: { retentionInDays: 30 },
  alarms: { create: true, iteratorAgeThresholdMs: 600000, errorsThreshold: 1 },
  backfill: { enabled: true, exportPrefix: 'exports', maximumRetryAttempts: 2, maximumEventAgeInSeconds: 21600 },
  compaction: {
    create: true,
    scheduleExpression: 'cron(30 7 * * ? *)',
    lookbackDays: 14,
    targetBytes: 134217728,
    checkpointRetention: 3,
    checkpointRebuildShare: 0.25,
    checkpointMaxAgeDays: 30,
    marginSeconds: 3600,
  },
} as const;

/** The values CloudWatch Logs accepts for a log group's retention, in days. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const LOG_LEVELS = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'] as const;
