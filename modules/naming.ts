import { Fn } from './cdk.ts';
import { isToken, orDefault, underscored } from './expressions.ts';
import { type CanaryProps, DEFAULTS, type FlatteningPipelineProps, type KeyAttribute } from './props.ts';

/**
 * Names, tags and defaults: the props with every default applied and every
 * resource name derived from `name`, so each construct reads one object.
 */

/** The tag every resource carries, so a pipeline's resources can be found together. */
export const PIPELINE_TAG = 'ddb-flatten:pipeline';

export type Tags = Readonly<Record<string, string>>;

export interface ResolvedConfig {
  readonly name: string;
  readonly tags: Tags;
  readonly kmsKeyArn?: string;
  readonly partitionKey: Required<KeyAttribute>;
  readonly sortKey?: Required<KeyAttribute>;
  readonly explodeAttributes: readonly string[];
  readonly carryAttributes: readonly string[];
  readonly elementViews: Readonly<Record<string, readonly string[]>>;
  readonly table: {
    readonly create: boolean;
    readonly name: string;
    readonly deletionProtection: boolean;
    readonly pointInTimeRecovery: boolean;
    readonly existingTableName?: string;
    readonly existingStreamArn?: string;
    readonly existingKmsKeyArn?: string;
    /** Time to Live attribute of the created table, or undefined (TTL off). */
    readonly ttlAttribute?: string;
  };
  readonly lake: {
    readonly create: boolean;
    /** Explicit bucket name, or undefined for a generated one. */
    readonly name?: string;
    readonly bucketPrefix: string;
    readonly forceDestroy: boolean;
    readonly existingBucketName?: string;
    readonly existingKmsKeyArn?: string;
    readonly dataPrefix: string;
    readonly quarantinePrefix: string;
    readonly athenaResultsPrefix: string;
    readonly statePrefix: string;
    readonly athenaResultsExpirationDays: number;
    readonly noncurrentVersionExpirationDays: number;
    readonly abortIncompleteMultipartUploadDays: number;
  };
  readonly glue: {
    readonly databaseName: string;
    readonly tableName: string;
    readonly viewName: string;
    readonly checkpointsTableName: string;
    readonly expiredItemsViewName: string;
    readonly projectionStartDate: string;
  };
  readonly athena: {
    readonly name: string;
    readonly bytesScannedCutoffPerQuery: number;
    readonly forceDestroy: boolean;
    /** The maintenance workgroup: `<name>-maintenance` (name is at most 116 characters, so within Athena's 128). */
    readonly maintenanceName: string;
    readonly maintenanceBytesScannedCutoffPerQuery: number;
    /** Its results (the UNLOAD manifests and metadata), under the Athena results prefix: `<athenaResultsPrefix>/maintenance`. */
    readonly maintenanceResultsPrefix: string;
  };
  readonly lambda: {
    readonly functionName: string;
    readonly roleName: string;
    readonly memorySize: number;
    readonly timeout: number;
    readonly reservedConcurrency: number;
    readonly logLevel: string;
    readonly codeZipPath?: string;
  };
  readonly alias: { readonly name: string; readonly pinnedVersion?: string; readonly canary?: CanaryProps };
  readonly eventSourceMapping: {
    readonly create: boolean;
    readonly enabled: boolean;
    readonly batchSize: number;
    readonly maximumBatchingWindowInSeconds: number;
    readonly maximumRetryAttempts: number;
    readonly maximumRecordAgeInSeconds: number;
    readonly parallelizationFactor: number;
  };
  readonly deadLetterQueue: { readonly name: string; readonly messageRetentionSeconds: number };
  readonly logs: { readonly groupName: string; readonly retentionInDays: number; readonly kmsKeyArn?: string };
  readonly alarms: {
    readonly create: boolean;
    readonly prefix: string;
    readonly snsTopicArn?: string;
    readonly iteratorAgeThresholdMs: number;
    readonly errorsThreshold: number;
  };
  readonly compaction: {
    readonly create: boolean;
    readonly scheduleName: string;
    /** SSM parameter holding the current checkpoint's pointer, which Terraform reads to render the view. */
    readonly pointerParameterName: string;
    /** Its path (the parameter is read by path: see GlueCatalog). */
    readonly pointerParameterPath: string;
    readonly scheduleExpression: string;
    readonly lookbackDays: number;
    readonly targetBytes: number;
    readonly checkpointRetention: number;
    readonly checkpointRebuildShare: number;
    readonly checkpointMaxAgeDays: number;
    readonly marginSeconds: number;
    /** Days of history kept (HISTORY_RETENTION_DAYS), or undefined: kept for ever. */
    readonly historyRetentionDays?: number;
  };
  readonly backfill: {
    readonly enabled: boolean;
    readonly exportPrefix: string;
    readonly bucketNotification: boolean;
  };
}

function mergeTags(name: string, tags: Tags | undefined): Tags {
  const own = { [PIPELINE_TAG]: name };
  if (tags === undefined) return own;
  if (isToken(tags)) return Fn.merge([own, tags]) as unknown as Tags;
  return { ...own, ...tags };
}

function key(k: KeyAttribute): Required<KeyAttribute> {
  return { name: k.name, type: k.type ?? DEFAULTS.keyType };
}

/** Applies every default. Expects props that passed `validateProps`. */
export function resolveConfig(props: FlatteningPipelineProps): ResolvedConfig {
  const name = props.name;
  const base = `${name}-flatten`;
  const t = props.table ?? {};
  const l = props.lake ?? {};
  const g = props.glue ?? {};
  const a = props.athena ?? {};
  const f = props.lambda ?? {};
  const al = props.alias ?? {};
  const e = props.eventSourceMapping ?? {};
  const lg = props.logs ?? {};
  const am = props.alarms ?? {};
  const bf = props.backfill ?? {};
  const c = props.compaction ?? {};
  const lakeCreate = l.create ?? DEFAULTS.lake.create;
  const athenaResultsPrefix = l.athenaResultsPrefix ?? DEFAULTS.lake.athenaResultsPrefix;
  const workgroup = orDefault(a.name, base);
  return {
    name,
    tags: mergeTags(name, props.tags),
    kmsKeyArn: props.kmsKeyArn,
    partitionKey: key(props.partitionKey),
    sortKey: props.sortKey === undefined ? undefined : key(props.sortKey),
    explodeAttributes: props.explodeAttributes,
    carryAttributes: props.carryAttributes ?? [],
    elementViews: props.elementViews ?? {},
    table: {
      create: t.create ?? DEFAULTS.table.create,
      name: orDefault(t.name, name),
      deletionProtection: t.deletionProtection ?? DEFAULTS.table.deletionProtection,
      pointInTimeRecovery: t.pointInTimeRecovery ?? DEFAULTS.table.pointInTimeRecovery,
      existingTableName: t.existingTableName,
      existingStreamArn: t.existingStreamArn,
      existingKmsKeyArn: t.existingKmsKeyArn,
      ttlAttribute: t.ttlAttribute,
    },
    lake: {
      create: l.create ?? DEFAULTS.lake.create,
      name: l.name,
      bucketPrefix: `${name}-lake-`,
      forceDestroy: l.forceDestroy ?? DEFAULTS.lake.forceDestroy,
      existingBucketName: l.existingBucketName,
      existingKmsKeyArn: l.existingKmsKeyArn,
      dataPrefix: l.dataPrefix ?? DEFAULTS.lake.dataPrefix,
      quarantinePrefix: l.quarantinePrefix ?? DEFAULTS.lake.quarantinePrefix,
      athenaResultsPrefix,
      statePrefix: l.statePrefix ?? DEFAULTS.lake.statePrefix,
      athenaResultsExpirationDays: l.athenaResultsExpirationDays ?? DEFAULTS.lake.athenaResultsExpirationDays,
      noncurrentVersionExpirationDays: l.noncurrentVersionExpirationDays ?? DEFAULTS.lake.noncurrentVersionExpirationDays,
      abortIncompleteMultipartUploadDays: l.abortIncompleteMultipartUploadDays ?? DEFAULTS.lake.abortIncompleteMultipartUploadDays,
    },
    glue: {
      databaseName: orDefault(g.databaseName, underscored(name)),
      tableName: g.tableName ?? DEFAULTS.glue.tableName,
      viewName: g.viewName ?? DEFAULTS.glue.viewName,
      checkpointsTableName: g.checkpointsTableName ?? DEFAULTS.glue.checkpointsTableName,
      expiredItemsViewName: g.expiredItemsViewName ?? DEFAULTS.glue.expiredItemsViewName,
      projectionStartDate: g.projectionStartDate ?? DEFAULTS.glue.projectionStartDate,
    },
    athena: {
      name: workgroup,
      bytesScannedCutoffPerQuery: a.bytesScannedCutoffPerQuery ?? DEFAULTS.athena.bytesScannedCutoffPerQuery,
      forceDestroy: a.forceDestroy ?? DEFAULTS.athena.forceDestroy,
      maintenanceName: `${workgroup}-maintenance`,
      maintenanceBytesScannedCutoffPerQuery: a.maintenanceBytesScannedCutoffPerQuery ?? DEFAULTS.athena.maintenanceBytesScannedCutoffPerQuery,
      maintenanceResultsPrefix: `${athenaResultsPrefix}/maintenance`,
    },
    lambda: {
      functionName: base,
      roleName: `${base}-lambda`,
      memorySize: f.memorySize ?? DEFAULTS.lambda.memorySize,
      timeout: f.timeout ?? DEFAULTS.lambda.timeout,
      reservedConcurrency: f.reservedConcurrency ?? DEFAULTS.lambda.reservedConcurrency,
      logLevel: f.logLevel ?? DEFAULTS.lambda.logLevel,
      codeZipPath: f.codeZipPath,
    },
    alias: { name: al.name ?? DEFAULTS.alias.name, pinnedVersion: al.pinnedVersion, canary: al.canary },
    eventSourceMapping: {
      create: e.create ?? DEFAULTS.eventSourceMapping.create,
      enabled: e.enabled ?? DEFAULTS.eventSourceMapping.enabled,
      batchSize: e.batchSize ?? DEFAULTS.eventSourceMapping.batchSize,
      maximumBatchingWindowInSeconds: e.maximumBatchingWindowInSeconds ?? DEFAULTS.eventSourceMapping.maximumBatchingWindowInSeconds,
      maximumRetryAttempts: e.maximumRetryAttempts ?? DEFAULTS.eventSourceMapping.maximumRetryAttempts,
      maximumRecordAgeInSeconds: e.maximumRecordAgeInSeconds ?? DEFAULTS.eventSourceMapping.maximumRecordAgeInSeconds,
      parallelizationFactor: e.parallelizationFactor ?? DEFAULTS.eventSourceMapping.parallelizationFactor,
    },
    deadLetterQueue: {
      name: `${base}-dlq`,
      messageRetentionSeconds: props.deadLetterQueue?.messageRetentionSeconds ?? DEFAULTS.deadLetterQueue.messageRetentionSeconds,
    },
    logs: { groupName: `/aws/lambda/${base}`, retentionInDays: lg.retentionInDays ?? DEFAULTS.logs.retentionInDays, kmsKeyArn: lg.kmsKeyArn },
    alarms: {
      create: am.create ?? DEFAULTS.alarms.create,
      prefix: base,
      snsTopicArn: am.snsTopicArn,
      iteratorAgeThresholdMs: am.iteratorAgeThresholdMs ?? DEFAULTS.alarms.iteratorAgeThresholdMs,
      errorsThreshold: am.errorsThreshold ?? DEFAULTS.alarms.errorsThreshold,
    },
    compaction: {
      create: c.create ?? DEFAULTS.compaction.create,
      scheduleName: `${base}-maintenance`,
      pointerParameterName: `/ddb-flatten/${name}/checkpoint-pointer`,
      pointerParameterPath: `/ddb-flatten/${name}`,
      scheduleExpression: c.scheduleExpression ?? DEFAULTS.compaction.scheduleExpression,
      lookbackDays: c.lookbackDays ?? DEFAULTS.compaction.lookbackDays,
      targetBytes: c.targetBytes ?? DEFAULTS.compaction.targetBytes,
      // compaction.maxTaskBytes is deprecated and has no effect (validated only; FlatteningPipeline warns).
      checkpointRetention: c.checkpointRetention ?? DEFAULTS.compaction.checkpointRetention,
      checkpointRebuildShare: c.checkpointRebuildShare ?? DEFAULTS.compaction.checkpointRebuildShare,
      checkpointMaxAgeDays: c.checkpointMaxAgeDays ?? DEFAULTS.compaction.checkpointMaxAgeDays,
      marginSeconds: c.marginSeconds ?? DEFAULTS.compaction.marginSeconds,
      historyRetentionDays: c.historyRetentionDays,
    },
    backfill: {
      enabled: bf.enabled ?? DEFAULTS.backfill.enabled,
      exportPrefix: bf.exportPrefix ?? DEFAULTS.backfill.exportPrefix,
      // A bucket has one notification configuration: only take it over on a bucket the module owns.
      bucketNotification: bf.bucketNotification === undefined ? lakeCreate : isToken(bf.bucketNotification) ? (Fn.coalesce([bf.bucketNotification, lakeCreate]) as unknown as boolean) : bf.bucketNotification,
    },
  };
}
