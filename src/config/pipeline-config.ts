import type { FlattenConfig } from '../flatten/flatten.ts';
import {
  attributeNameProblem,
  bucketNameProblem,
  carriedProblems,
  ConfigError,
  glueNameProblem,
  listProblems,
  prefixProblem,
  splitList,
  ssmParameterProblem,
  STREAM_ARN_PATTERN,
} from './validate.ts';

/** What the stream handler needs, read once at cold start. */
export interface PipelineConfig {
  readonly flatten: FlattenConfig;
  readonly bucket: string;
  /** Where flattened rows go: s3://bucket/<dataPrefix>/dt=YYYY-MM-DD/... */
  readonly dataPrefix: string;
  /** Where records that cannot be flattened go, with their error. */
  readonly quarantinePrefix: string;
  /** Settings of the on-demand actions (backfill, status, reflatten, redrive); each checks what it needs. */
  readonly actions: ActionSettings;
  /** Settings of the lake's maintenance (compaction of closed days, checkpoints of the current state). */
  readonly maintenance: MaintenanceSettings;
}

export interface MaintenanceSettings {
  /** Where plans, markers and checkpoints go: s3://bucket/<statePrefix>/... */
  readonly statePrefix: string;
  /** The Glue database and current-state view the checkpoint run points at the new checkpoint. */
  readonly glueDatabase?: string;
  readonly glueView?: string;
  /** The Glue tables the maintenance statements read: the flattened rows and the checkpoints. */
  readonly glueTable?: string;
  readonly glueCheckpointsTable?: string;
  /** The Athena workgroup the maintenance statements run in (its own bytes-scanned cutoff). */
  readonly athenaWorkgroup?: string;
  /** Where Athena writes query results in the lake bucket (an erasure deletes them: a result can hold any value). */
  readonly athenaResultsPrefix?: string;
  /** The SSM String parameter the run moves with the view, which Terraform reads to render the view's text. */
  readonly checkpointParameter?: string;
  /** The trigger's maximum record age: no record arrives later than this after its creation. */
  readonly maximumRecordAgeSeconds: number;
  /** Added to the record age before a day counts as closed (batches in flight, clocks). */
  readonly marginSeconds: number;
  /** Closed days a scheduled run looks at, newest first. */
  readonly lookbackDays: number;
  /** Size of a compacted object (the local engine cuts files there; Athena decides its own). */
  readonly targetBytes: number;
  /** Checkpoints kept (the current one and those before it). */
  readonly retention: number;
  /**
   * The checkpoint is rebuilt once the days since its bound hold at least this share of its bytes;
   * until then the view reads the checkpoint plus those days (at most 1 + share times the table).
   */
  readonly rebuildShare: number;
  /** ... or once its bound is this many days old, whatever the share. */
  readonly maxAgeDays: number;
  /**
   * Days of history the lake keeps; older days that the oldest retained checkpoint covers are deleted by
   * the scheduled run. Absent: history is kept for ever.
   */
  readonly historyRetentionDays?: number;
}

/**
 * Defaults and allowed ranges of the numeric maintenance settings: the
 * handler's environment (below) and `ddb-flatten compact`'s flags read the
 * same numbers, so the CLI runs exactly what the scheduled run does.
 */
export const MAINTENANCE_LIMITS = {
  maximumRecordAgeSeconds: { fallback: 21_600, min: 60, max: 604_800 },
  marginSeconds: { fallback: 3_600, min: 0, max: 86_400 },
  lookbackDays: { fallback: 14, min: 1, max: 3_650 },
  targetBytes: { fallback: 128 * 1024 * 1024, min: 1024 * 1024, max: 5 * 1024 ** 3 },
  retention: { fallback: 3, min: 2, max: 100 },
  maxAgeDays: { fallback: 30, min: 1, max: 3_650 },
  historyRetentionDays: { fallback: 0, min: 1, max: 36_500 },
} as const satisfies Record<string, { fallback: number; min: number; max: number }>;

/** The checkpoint's rebuild share: a fraction of its bytes (0: rebuild whenever a closed day is new). */
export const REBUILD_SHARE = { fallback: 0.25, min: 0, max: 4 } as const;

/** DynamoDB scalar types allowed for key attributes. */
export const KEY_TYPES = ['S', 'N', 'B'] as const;
export type KeyType = (typeof KEY_TYPES)[number];

export interface ActionSettings {
  /** The source table, for ExportTableToPointInTime and BatchGetItem. */
  readonly tableArn?: string;
  /** The table's stream, to check that a redriven failure belongs to this pipeline. */
  readonly streamArn?: string;
  readonly partitionKeyType: KeyType;
  readonly sortKeyType: KeyType;
  /** Where DynamoDB exports land: s3://bucket/<exportPrefix>/t=<export epoch seconds>/AWSDynamoDB/... */
  readonly exportPrefix: string;
  /** The on-failure destination queue, read by the redrive action. */
  readonly dlqUrl?: string;
}

/**
 * The handler's environment variables. Every name, meaning and default is
 * here so the CDKTF module, the README and the validation agree.
 */
export const ENVIRONMENT = {
  LAKE_BUCKET: 'S3 bucket of the lake (required).',
  LAKE_PREFIX: 'Key prefix of the flattened rows (default "flattened").',
  QUARANTINE_PREFIX: 'Key prefix of records that could not be flattened (default "quarantine").',
  EXPLODE_ATTRIBUTES: 'Comma-separated top-level attributes to explode into rows (required), e.g. "items".',
  PARTITION_KEY: "The table's partition key attribute name (required).",
  SORT_KEY: "The table's sort key attribute name, when it has one.",
  CARRY_ATTRIBUTES: 'Comma-separated top-level attributes copied onto every row (lowercase column names).',
  TABLE_ARN: 'ARN of the source table (needed by the backfill and reflatten actions).',
  STREAM_ARN: "ARN of the table's stream (the redrive action only accepts failures from it).",
  PARTITION_KEY_TYPE: 'S, N or B: the partition key type, for plain-text keys in reflatten payloads (default S).',
  SORT_KEY_TYPE: 'S, N or B: the sort key type (default S).',
  EXPORT_PREFIX: 'Key prefix of DynamoDB exports for backfill (default "exports").',
  DLQ_URL: 'URL of the on-failure SQS queue (needed by the redrive action).',
  STATE_PREFIX: 'Key prefix of the maintenance state: compaction plans and checkpoints (default "state").',
  GLUE_DATABASE: 'Glue database of the lake (the checkpoint run updates its current-state view).',
  GLUE_VIEW: 'Name of the current-state view in GLUE_DATABASE.',
  GLUE_TABLE: 'Name of the flattened table in GLUE_DATABASE (the maintenance statements read it).',
  GLUE_CHECKPOINTS_TABLE: 'Name of the checkpoints table in GLUE_DATABASE (the checkpoint statement reads the previous checkpoint from it).',
  ATHENA_WORKGROUP: 'Athena workgroup the maintenance statements run in (compaction and checkpoints as UNLOAD queries).',
  ATHENA_RESULTS_PREFIX: 'Key prefix of the Athena query results in the lake bucket (an erasure deletes them, since a result can hold any value).',
  CHECKPOINT_PARAMETER: 'SSM parameter (String) that holds the current checkpoint for Terraform; the checkpoint run moves it with the view.',
  MAXIMUM_RECORD_AGE_SECONDS: "The trigger's maximum record age, 60 to 604800 (default 21600): when a day is closed.",
  COMPACTION_MARGIN_SECONDS: 'Seconds added to the record age before a day is closed, 0 to 86400 (default 3600).',
  COMPACTION_LOOKBACK_DAYS: 'Closed days a scheduled compaction looks at, 1 to 3650 (default 14).',
  COMPACTION_TARGET_BYTES: 'Size of a compacted object in bytes when the local engine compacts, 1 MiB to 5 GiB (default 134217728); Athena sizes its own files.',
  CHECKPOINT_RETENTION: 'Checkpoints kept, 2 to 100 (default 3).',
  CHECKPOINT_REBUILD_SHARE: 'Rebuild the checkpoint once the days since its bound hold this share of its bytes, 0 to 4 (default 0.25).',
  CHECKPOINT_MAX_AGE_DAYS: "Rebuild the checkpoint once its bound is this many days old, 1 to 3650 (default 30).",
  HISTORY_RETENTION_DAYS: 'Days of history the lake keeps, 1 to 36500; older days a retained checkpoint covers are deleted by the scheduled run (default: unset, history kept for ever).',
} as const;

export type EnvironmentName = keyof typeof ENVIRONMENT;

const TABLE_ARN = /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255}$/;
const STREAM_ARN = new RegExp(STREAM_ARN_PATTERN);

export function loadPipelineConfig(env: Readonly<Record<string, string | undefined>>): PipelineConfig {
  const problems: string[] = [];
  const required = (name: EnvironmentName): string => {
    const v = env[name]?.trim();
    if (!v) problems.push(`${name} is required: ${ENVIRONMENT[name]}`);
    return v ?? '';
  };
  const named = (name: EnvironmentName, p: string | undefined): void => {
    if (p) problems.push(`${name}: ${p}`);
  };

  const bucket = required('LAKE_BUCKET');
  if (bucket) named('LAKE_BUCKET', bucketNameProblem(bucket));

  const dataPrefix = env.LAKE_PREFIX?.trim() || 'flattened';
  named('LAKE_PREFIX', prefixProblem(dataPrefix));
  const quarantinePrefix = env.QUARANTINE_PREFIX?.trim() || 'quarantine';
  named('QUARANTINE_PREFIX', prefixProblem(quarantinePrefix));
  if (dataPrefix === quarantinePrefix || dataPrefix.startsWith(`${quarantinePrefix}/`) || quarantinePrefix.startsWith(`${dataPrefix}/`)) {
    problems.push(`LAKE_PREFIX "${dataPrefix}" and QUARANTINE_PREFIX "${quarantinePrefix}" must not overlap, or Athena would read quarantined records as rows`);
  }

  const attributes = splitList(required('EXPLODE_ATTRIBUTES'));
  for (const p of listProblems(attributes, 'EXPLODE_ATTRIBUTES', attributeNameProblem)) named('EXPLODE_ATTRIBUTES', p);

  const partitionKey = required('PARTITION_KEY');
  if (partitionKey) named('PARTITION_KEY', attributeNameProblem(partitionKey));
  const sortKey = env.SORT_KEY?.trim() || undefined;
  if (sortKey !== undefined) {
    named('SORT_KEY', attributeNameProblem(sortKey));
    if (sortKey === partitionKey) problems.push(`SORT_KEY must differ from PARTITION_KEY ("${sortKey}")`);
  }
  const keyNames = [partitionKey, sortKey].filter(Boolean);
  for (const a of attributes) {
    if (keyNames.includes(a)) problems.push(`EXPLODE_ATTRIBUTES: "${a}" is a key attribute; keys are columns already (pk, sk)`);
  }

  const carry = splitList(env.CARRY_ATTRIBUTES);
  for (const p of carriedProblems(carry)) named('CARRY_ATTRIBUTES', p);

  const tableArn = env.TABLE_ARN?.trim() || undefined;
  if (tableArn !== undefined && !TABLE_ARN.test(tableArn)) {
    problems.push(`TABLE_ARN: "${tableArn}" is not a DynamoDB table ARN (arn:<partition>:dynamodb:<region>:<account>:table/<name>)`);
  }
  const streamArn = env.STREAM_ARN?.trim() || undefined;
  if (streamArn !== undefined && !STREAM_ARN.test(streamArn)) {
    problems.push(`STREAM_ARN: "${streamArn}" is not a DynamoDB stream ARN (arn:<partition>:dynamodb:<region>:<account>:table/<name>/stream/<label>)`);
  }
  const keyType = (name: 'PARTITION_KEY_TYPE' | 'SORT_KEY_TYPE'): KeyType => {
    const v = env[name]?.trim() || 'S';
    if (!KEY_TYPES.includes(v as KeyType)) problems.push(`${name}: "${v}" is not a key type; allowed: ${KEY_TYPES.join(', ')}`);
    return v as KeyType;
  };
  const partitionKeyType = keyType('PARTITION_KEY_TYPE');
  const sortKeyType = keyType('SORT_KEY_TYPE');
  const exportPrefix = env.EXPORT_PREFIX?.trim() || 'exports';
  named('EXPORT_PREFIX', prefixProblem(exportPrefix));
  for (const [other, value] of [['LAKE_PREFIX', dataPrefix], ['QUARANTINE_PREFIX', quarantinePrefix]] as const) {
    if (exportPrefix === value || exportPrefix.startsWith(`${value}/`) || value.startsWith(`${exportPrefix}/`)) {
      problems.push(`EXPORT_PREFIX "${exportPrefix}" must not overlap ${other} "${value}"`);
    }
  }
  const dlqUrl = env.DLQ_URL?.trim() || undefined;
  if (dlqUrl !== undefined && !/^https?:\/\/[^\s/]+\/\d+\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(dlqUrl)) {
    problems.push(`DLQ_URL: "${dlqUrl}" is not an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>)`);
  }

  const integer = (name: EnvironmentName, fallback: number, min: number, max: number): number => {
    const text = env[name]?.trim();
    if (!text) return fallback;
    const n = Number(text);
    if (!/^\d+$/.test(text) || n < min || n > max) problems.push(`${name}: "${text}" is not allowed: use an integer from ${min} to ${max}`);
    return n;
  };
  const statePrefix = env.STATE_PREFIX?.trim() || 'state';
  named('STATE_PREFIX', prefixProblem(statePrefix));
  for (const [other, value] of [['LAKE_PREFIX', dataPrefix], ['QUARANTINE_PREFIX', quarantinePrefix], ['EXPORT_PREFIX', exportPrefix]] as const) {
    if (statePrefix === value || statePrefix.startsWith(`${value}/`) || value.startsWith(`${statePrefix}/`)) problems.push(`STATE_PREFIX "${statePrefix}" must not overlap ${other} "${value}"`);
  }
  const glueName = (name: 'GLUE_DATABASE' | 'GLUE_VIEW' | 'GLUE_TABLE' | 'GLUE_CHECKPOINTS_TABLE'): string | undefined => {
    const v = env[name]?.trim() || undefined;
    if (v !== undefined) named(name, glueNameProblem(v));
    return v;
  };
  const ssmName = (raw: string | undefined): string | undefined => {
    const v = raw?.trim() || undefined;
    if (v !== undefined) named('CHECKPOINT_PARAMETER', ssmParameterProblem(v));
    return v;
  };
  const workgroupName = (raw: string | undefined): string | undefined => {
    const v = raw?.trim() || undefined;
    // Athena's WorkGroup name: 1 to 128 characters of [a-zA-Z0-9._-] (StartQueryExecution).
    if (v !== undefined && !/^[a-zA-Z0-9._-]{1,128}$/.test(v)) problems.push(`ATHENA_WORKGROUP: "${v}" is not an Athena workgroup name (1 to 128 of a-z A-Z 0-9 . _ -)`);
    return v;
  };
  const resultsPrefix = (raw: string | undefined): string | undefined => {
    const v = raw?.trim() || undefined;
    if (v !== undefined) named('ATHENA_RESULTS_PREFIX', prefixProblem(v));
    return v;
  };
  const share = (raw: string | undefined): number => {
    const text = raw?.trim();
    const { fallback, min, max } = REBUILD_SHARE;
    if (!text) return fallback;
    const n = Number(text);
    if (!/^\d+(\.\d+)?$/.test(text) || n < min || n > max) problems.push(`CHECKPOINT_REBUILD_SHARE: "${text}" is not allowed: use a number from ${min} to ${max}, e.g. 0.25`);
    return n;
  };
  const limit = (name: EnvironmentName, setting: keyof typeof MAINTENANCE_LIMITS): number => {
    const l = MAINTENANCE_LIMITS[setting];
    return integer(name, l.fallback, l.min, l.max);
  };
  const maintenance: MaintenanceSettings = {
    statePrefix,
    glueDatabase: glueName('GLUE_DATABASE'),
    glueView: glueName('GLUE_VIEW'),
    glueTable: glueName('GLUE_TABLE'),
    glueCheckpointsTable: glueName('GLUE_CHECKPOINTS_TABLE'),
    athenaWorkgroup: workgroupName(env.ATHENA_WORKGROUP),
    athenaResultsPrefix: resultsPrefix(env.ATHENA_RESULTS_PREFIX),
    checkpointParameter: ssmName(env.CHECKPOINT_PARAMETER),
    maximumRecordAgeSeconds: limit('MAXIMUM_RECORD_AGE_SECONDS', 'maximumRecordAgeSeconds'),
    marginSeconds: limit('COMPACTION_MARGIN_SECONDS', 'marginSeconds'),
    lookbackDays: limit('COMPACTION_LOOKBACK_DAYS', 'lookbackDays'),
    targetBytes: limit('COMPACTION_TARGET_BYTES', 'targetBytes'),
    retention: limit('CHECKPOINT_RETENTION', 'retention'),
    rebuildShare: share(env.CHECKPOINT_REBUILD_SHARE),
    maxAgeDays: limit('CHECKPOINT_MAX_AGE_DAYS', 'maxAgeDays'),
    ...(env.HISTORY_RETENTION_DAYS?.trim() ? { historyRetentionDays: limit('HISTORY_RETENTION_DAYS', 'historyRetentionDays') } : {}),
  };

  if (problems.length > 0) throw new ConfigError('environment', problems);
  return {
    flatten: { attributes, partitionKey, sortKey, carry },
    bucket,
    dataPrefix,
    quarantinePrefix,
    actions: { tableArn, streamArn, partitionKeyType, sortKeyType, exportPrefix, dlqUrl },
    maintenance,
  };
}
