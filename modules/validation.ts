import { Token } from './cdk.ts';
import {
  attributeNameProblem,
  bucketNameProblem,
  carriedProblems,
  ConfigError,
  listProblems,
  prefixProblem,
  STREAM_ARN_PATTERN,
} from '../src/config/validate.ts';
import { MAINTENANCE_LIMITS } from '../src/config/pipeline-config.ts';
import { elementViewProblems } from '../src/schema/element-views.ts';
import { DEFAULTS, type FlatteningPipelineProps, KEY_TYPES, LOG_LEVELS, LOG_RETENTION_DAYS } from './props.ts';

/**
 * Synth-time checks of every prop. A literal that AWS or the handler would
 * refuse fails the synth with one line per problem, each naming the prop
 * and what is allowed. Terraform tokens (the module build) are skipped:
 * the module's variables check the same rules in `validation` blocks.
 */

export const isToken = (v: unknown): boolean => v !== undefined && v !== null && Token.isUnresolved(v);

/** The rules, as data, so the Terraform module's variable validations can reuse the same patterns and ranges. */
export const RULES = {
  name: {
    pattern: '^[a-z][a-z0-9-]{1,26}[a-z0-9]$',
    allowed: '3 to 28 characters of a-z, 0-9 and -, starting with a letter and ending with a letter or digit',
  },
  addressPrefix: { pattern: '^[a-z][a-z0-9_]{0,39}$', allowed: 'up to 40 characters of a-z, 0-9 and _, starting with a letter (a Terraform address name)' },
  tableName: { pattern: '^[A-Za-z0-9_.-]{3,255}$', allowed: '3 to 255 characters of A-Z a-z 0-9 _ . -' },
  glueName: { pattern: '^[a-z0-9_]{1,255}$', allowed: '1 to 255 characters of a-z, 0-9 and _ (Athena lowercases names)' },
  // 116: the maintenance workgroup is named `<name>-maintenance`, and Athena allows 128 characters.
  workgroupName: { pattern: '^[A-Za-z0-9._-]{1,116}$', allowed: '1 to 116 characters of A-Z a-z 0-9 . _ - (the maintenance workgroup appends -maintenance, within Athena\'s 128)' },
  aliasName: {
    pattern: '^[a-zA-Z][a-zA-Z0-9_-]{0,127}$',
    allowed: '1 to 128 characters of A-Z a-z 0-9 _ -, starting with a letter',
  },
  version: { pattern: '^[1-9][0-9]*$', allowed: 'a published version number such as "3"' },
  date: { pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$', allowed: 'a date as yyyy-MM-dd' },
  kmsKeyArn: {
    pattern: '^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$',
    allowed: 'a KMS key ARN, arn:<partition>:kms:<region>:<account>:key/<key-id> (not an alias: IAM policies need the key ARN)',
  },
  streamArn: {
    pattern: STREAM_ARN_PATTERN,
    allowed: 'a DynamoDB stream ARN, arn:<partition>:dynamodb:<region>:<account>:table/<table>/stream/<label>',
  },
  snsTopicArn: {
    pattern: '^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\\.fifo)?$',
    allowed: 'an SNS topic ARN, arn:<partition>:sns:<region>:<account>:<topic>',
  },
  memorySize: { min: 128, max: 10240 },
  timeout: { min: 1, max: 900 },
  reservedConcurrency: { min: -1, max: 100000 },
  batchSize: { min: 1, max: 10000 },
  maximumBatchingWindowInSeconds: { min: 0, max: 300 },
  maximumRetryAttempts: { min: 0, max: 10000 },
  maximumRecordAgeInSeconds: { min: 60, max: 604800 },
  parallelizationFactor: { min: 1, max: 10 },
  messageRetentionSeconds: { min: 60, max: 1209600 },
  // Both workgroups. The AWS provider's aws_athena_workgroup documents bytes_scanned_cutoff_per_query "Must be at least
  // 10485760" and validates it at plan (Athena's own API minimum, 10000000, is lower): the stricter one.
  bytesScannedCutoffPerQuery: { min: 10485760, max: Number.MAX_SAFE_INTEGER },
  expirationDays: { min: 1, max: 36500 },
  iteratorAgeThresholdMs: { min: 1000, max: 604800000 },
  errorsThreshold: { min: 1, max: 1000000 },
  scheduleExpression: { pattern: '^(cron\\([^)]+\\)|rate\\([1-9][0-9]* (minute|minutes|hour|hours|day|days)\\))$', allowed: 'an EventBridge Scheduler expression, cron(...) or rate(N unit)' },
  lookbackDays: { min: 1, max: 3650 },
  targetBytes: { min: 1048576, max: 5368709120 },
  /** Deprecated (no effect since 0.4.0), still validated as in 0.3.0 so a configuration that passed then passes now. */
  maxTaskBytes: { min: 1048576, max: 107374182400 },
  checkpointRetention: { min: 2, max: 100 },
  /** A share, not a whole number (the handler's REBUILD_SHARE). */
  checkpointRebuildShare: { min: 0, max: 4 },
  checkpointMaxAgeDays: { min: 1, max: 3650 },
  marginSeconds: { min: 0, max: 86400 },
  /** The handler's own range (MAINTENANCE_LIMITS.historyRetentionDays): HISTORY_RETENTION_DAYS. */
  historyRetentionDays: { min: MAINTENANCE_LIMITS.historyRetentionDays.min, max: MAINTENANCE_LIMITS.historyRetentionDays.max },
} as const;

type Problems = string[];

function pattern(problems: Problems, prop: string, value: string | undefined, rule: { pattern: string; allowed: string }): void {
  if (value === undefined || isToken(value)) return;
  if (typeof value !== 'string' || !new RegExp(rule.pattern).test(value)) {
    problems.push(`${prop}: ${JSON.stringify(value)} is not allowed: use ${rule.allowed}`);
  }
}

function integer(problems: Problems, prop: string, value: number | undefined, range: { min: number; max: number }): void {
  if (value === undefined || isToken(value)) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < range.min || value > range.max) {
    problems.push(`${prop}: ${JSON.stringify(value)} is not allowed: use an integer from ${range.min} to ${range.max}`);
  }
}

function decimal(problems: Problems, prop: string, value: number | undefined, range: { min: number; max: number }): void {
  if (value === undefined || isToken(value)) return;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < range.min || value > range.max) {
    problems.push(`${prop}: ${JSON.stringify(value)} is not allowed: use a number from ${range.min} to ${range.max}`);
  }
}

function flag(problems: Problems, prop: string, value: unknown): void {
  if (value === undefined || isToken(value)) return;
  if (typeof value !== 'boolean') problems.push(`${prop}: ${JSON.stringify(value)} is not allowed: use true or false`);
}

function oneOf<T>(problems: Problems, prop: string, value: T | undefined, allowed: readonly T[]): void {
  if (value === undefined || isToken(value)) return;
  if (!allowed.includes(value)) problems.push(`${prop}: ${JSON.stringify(value)} is not allowed: use one of ${allowed.join(', ')}`);
}

function prefix(problems: Problems, prop: string, value: string | undefined): void {
  if (value === undefined || isToken(value)) return;
  const p = prefixProblem(value);
  if (p) problems.push(`${prop}: ${p}`);
}

function isRealDate(text: string): boolean {
  const d = new Date(`${text}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === text;
}

const listIsLiteral = (list: readonly string[] | undefined): list is readonly string[] =>
  list !== undefined && !isToken(list) && list.every((x) => !isToken(x));

/** Every problem with the props, one sentence each; empty when they are fine. */
export function propsProblems(props: FlatteningPipelineProps): string[] {
  const problems: Problems = [];
  if (props === undefined || props === null || typeof props !== 'object') return ['props: an object is required'];

  if (props.name === undefined) problems.push(`name: required: ${RULES.name.allowed}`);
  else pattern(problems, 'name', props.name, RULES.name);
  if (!isToken(props.name) && typeof props.name === 'string' && props.name.includes('--')) {
    problems.push(`name: "${props.name}" is not allowed: no two consecutive "-"`);
  }

  if (props.tags !== undefined && !isToken(props.tags)) {
    for (const [k, v] of Object.entries(props.tags)) {
      if (isToken(k) || isToken(v)) continue;
      if (k.length < 1 || k.length > 128 || k.toLowerCase().startsWith('aws:')) {
        problems.push(`tags: key ${JSON.stringify(k)} is not allowed: use 1 to 128 characters, not starting with "aws:"`);
      }
      if (typeof v !== 'string' || v.length > 256) problems.push(`tags.${k}: the value must be a string of at most 256 characters`);
    }
  }
  pattern(problems, 'kmsKeyArn', props.kmsKeyArn, RULES.kmsKeyArn);
  pattern(problems, 'addressPrefix', props.addressPrefix, RULES.addressPrefix);

  // Keys and attributes: the same rules the handler applies to its environment.
  const keyNames: string[] = [];
  const key = (prop: string, k: FlatteningPipelineProps['partitionKey'] | undefined, required: boolean): void => {
    if (k === undefined) {
      if (required) problems.push(`${prop}: required: { name, type? } of the table's ${prop === 'partitionKey' ? 'partition' : 'sort'} key`);
      return;
    }
    if (!isToken(k.name)) {
      const p = typeof k.name === 'string' ? attributeNameProblem(k.name) : 'a name is required';
      if (p) problems.push(`${prop}.name: ${p}`);
      else keyNames.push(k.name);
    }
    oneOf(problems, `${prop}.type`, k.type, KEY_TYPES);
  };
  key('partitionKey', props.partitionKey, true);
  key('sortKey', props.sortKey, false);
  if (keyNames.length === 2 && keyNames[0] === keyNames[1]) problems.push(`sortKey.name: must differ from partitionKey.name ("${keyNames[0]}")`);

  if (props.explodeAttributes === undefined) problems.push('explodeAttributes: required: a non-empty list of top-level attribute names');
  else if (listIsLiteral(props.explodeAttributes)) {
    if (props.explodeAttributes.length === 0) problems.push('explodeAttributes: must list at least one top-level attribute');
    for (const p of listProblems(props.explodeAttributes, 'explodeAttributes', attributeNameProblem)) problems.push(`explodeAttributes: ${p}`);
    for (const a of props.explodeAttributes) {
      if (keyNames.includes(a)) problems.push(`explodeAttributes: "${a}" is a key attribute; keys are columns already (pk, sk)`);
    }
  }
  if (listIsLiteral(props.carryAttributes)) {
    for (const p of carriedProblems(props.carryAttributes)) problems.push(`carryAttributes: ${p}`);
  }
  const views = props.elementViews;
  if (views !== undefined && !isToken(views)) {
    const literalLists = Object.values(views).every((keys) => !isToken(keys) && (!Array.isArray(keys) || keys.every((k) => !isToken(k))));
    const glue = props.glue ?? {};
    const names = [
      glue.tableName ?? DEFAULTS.glue.tableName,
      glue.viewName ?? DEFAULTS.glue.viewName,
      glue.checkpointsTableName ?? DEFAULTS.glue.checkpointsTableName,
      glue.expiredItemsViewName ?? DEFAULTS.glue.expiredItemsViewName,
    ];
    if (literalLists && listIsLiteral(props.explodeAttributes) && (props.carryAttributes === undefined || listIsLiteral(props.carryAttributes)) && !names.some(isToken)) {
      problems.push(...elementViewProblems(views, props.explodeAttributes, props.carryAttributes ?? [], names));
    }
  }

  const table = props.table ?? {};
  flag(problems, 'table.create', table.create);
  flag(problems, 'table.deletionProtection', table.deletionProtection);
  flag(problems, 'table.pointInTimeRecovery', table.pointInTimeRecovery);
  pattern(problems, 'table.name', table.name, RULES.tableName);
  pattern(problems, 'table.existingTableName', table.existingTableName, RULES.tableName);
  pattern(problems, 'table.existingStreamArn', table.existingStreamArn, RULES.streamArn);
  pattern(problems, 'table.existingKmsKeyArn', table.existingKmsKeyArn, RULES.kmsKeyArn);
  if (table.ttlAttribute !== undefined && !isToken(table.ttlAttribute)) {
    const p = typeof table.ttlAttribute === 'string' ? attributeNameProblem(table.ttlAttribute) : 'an attribute name is required';
    if (p) problems.push(`table.ttlAttribute: ${p}`);
    else if (keyNames.includes(table.ttlAttribute)) {
      problems.push(`table.ttlAttribute: "${table.ttlAttribute}" is a key attribute; Time to Live needs an attribute of its own holding each item's expiry time (epoch seconds)`);
    }
  }
  if (table.create === false) {
    if (table.ttlAttribute !== undefined) {
      problems.push("table.ttlAttribute: only applies when the module creates the table (table.create is false): turn Time to Live on on your own table; the lake tells its expiries from deletes all the same");
    }
    if (table.existingTableName === undefined) problems.push('table.existingTableName: required when table.create is false');
    if (table.existingStreamArn === undefined) problems.push('table.existingStreamArn: required when table.create is false');
    if (table.name !== undefined) problems.push('table.name: only applies when the module creates the table; use table.existingTableName');
  } else if (table.create === true || table.create === undefined) {
    for (const p of ['existingTableName', 'existingStreamArn', 'existingKmsKeyArn'] as const) {
      if (table[p] !== undefined) problems.push(`table.${p}: only applies with table.create = false`);
    }
  }

  const lake = props.lake ?? {};
  flag(problems, 'lake.create', lake.create);
  flag(problems, 'lake.forceDestroy', lake.forceDestroy);
  for (const p of ['name', 'existingBucketName'] as const) {
    const v = lake[p];
    if (v === undefined || isToken(v)) continue;
    const problem = bucketNameProblem(v);
    if (problem) problems.push(`lake.${p}: ${problem}`);
  }
  pattern(problems, 'lake.existingKmsKeyArn', lake.existingKmsKeyArn, RULES.kmsKeyArn);
  if (lake.create === false) {
    if (lake.existingBucketName === undefined) problems.push('lake.existingBucketName: required when lake.create is false');
    if (lake.name !== undefined) problems.push('lake.name: only applies when the module creates the bucket; use lake.existingBucketName');
  } else if (lake.create === true || lake.create === undefined) {
    for (const p of ['existingBucketName', 'existingKmsKeyArn'] as const) {
      if (lake[p] !== undefined) problems.push(`lake.${p}: only applies with lake.create = false`);
    }
  }
  prefix(problems, 'lake.dataPrefix', lake.dataPrefix);
  prefix(problems, 'lake.quarantinePrefix', lake.quarantinePrefix);
  prefix(problems, 'lake.athenaResultsPrefix', lake.athenaResultsPrefix);
  prefix(problems, 'lake.statePrefix', lake.statePrefix);
  const backfill = props.backfill ?? {};
  flag(problems, 'backfill.enabled', backfill.enabled);
  flag(problems, 'backfill.bucketNotification', backfill.bucketNotification);
  prefix(problems, 'backfill.exportPrefix', backfill.exportPrefix);
  const prefixes = [
    ['lake.dataPrefix', lake.dataPrefix ?? 'flattened'],
    ['lake.quarantinePrefix', lake.quarantinePrefix ?? 'quarantine'],
    ['lake.athenaResultsPrefix', lake.athenaResultsPrefix ?? 'athena-results'],
    ['lake.statePrefix', lake.statePrefix ?? 'state'],
    ['backfill.exportPrefix', backfill.exportPrefix ?? 'exports'],
  ] as const;
  for (let i = 0; i < prefixes.length; i++) {
    for (let j = i + 1; j < prefixes.length; j++) {
      const [pa, a] = prefixes[i];
      const [pb, b] = prefixes[j];
      if (isToken(a) || isToken(b)) continue;
      if (a === b || a.startsWith(`${b}/`) || b.startsWith(`${a}/`)) {
        problems.push(`${pa} "${a}" and ${pb} "${b}" must not overlap: each has its own lifecycle and permissions`);
      }
    }
  }
  integer(problems, 'lake.athenaResultsExpirationDays', lake.athenaResultsExpirationDays, RULES.expirationDays);
  integer(problems, 'lake.noncurrentVersionExpirationDays', lake.noncurrentVersionExpirationDays, RULES.expirationDays);
  integer(problems, 'lake.abortIncompleteMultipartUploadDays', lake.abortIncompleteMultipartUploadDays, RULES.expirationDays);

  const glue = props.glue ?? {};
  pattern(problems, 'glue.databaseName', glue.databaseName, RULES.glueName);
  pattern(problems, 'glue.tableName', glue.tableName, RULES.glueName);
  pattern(problems, 'glue.viewName', glue.viewName, RULES.glueName);
  pattern(problems, 'glue.checkpointsTableName', glue.checkpointsTableName, RULES.glueName);
  pattern(problems, 'glue.expiredItemsViewName', glue.expiredItemsViewName, RULES.glueName);
  const glueNames = [glue.tableName ?? DEFAULTS.glue.tableName, glue.viewName ?? DEFAULTS.glue.viewName, glue.checkpointsTableName ?? DEFAULTS.glue.checkpointsTableName];
  if (!glueNames.some(isToken) && new Set(glueNames).size !== glueNames.length) {
    problems.push(`glue.checkpointsTableName: "${glueNames[2]}" must differ from glue.tableName and glue.viewName`);
  }
  const expiredName = glue.expiredItemsViewName ?? DEFAULTS.glue.expiredItemsViewName;
  if (!glueNames.some(isToken) && !isToken(expiredName) && glueNames.includes(expiredName)) {
    problems.push(`glue.expiredItemsViewName: "${expiredName}" must differ from glue.tableName, glue.viewName and glue.checkpointsTableName`);
  }
  if (!isToken(glue.tableName) && !isToken(glue.viewName) && (glue.tableName ?? 'flattened') === (glue.viewName ?? 'current_state')) {
    problems.push('glue.viewName: must differ from glue.tableName');
  }
  pattern(problems, 'glue.projectionStartDate', glue.projectionStartDate, RULES.date);
  if (glue.projectionStartDate !== undefined && !isToken(glue.projectionStartDate) && RegExp(RULES.date.pattern).test(glue.projectionStartDate)) {
    if (!isRealDate(glue.projectionStartDate)) problems.push(`glue.projectionStartDate: "${glue.projectionStartDate}" is not a calendar date`);
  }

  const athena = props.athena ?? {};
  pattern(problems, 'athena.name', athena.name, RULES.workgroupName);
  integer(problems, 'athena.bytesScannedCutoffPerQuery', athena.bytesScannedCutoffPerQuery, RULES.bytesScannedCutoffPerQuery);
  integer(problems, 'athena.maintenanceBytesScannedCutoffPerQuery', athena.maintenanceBytesScannedCutoffPerQuery, RULES.bytesScannedCutoffPerQuery);
  flag(problems, 'athena.forceDestroy', athena.forceDestroy);

  const fn = props.lambda ?? {};
  integer(problems, 'lambda.memorySize', fn.memorySize, RULES.memorySize);
  integer(problems, 'lambda.timeout', fn.timeout, RULES.timeout);
  integer(problems, 'lambda.reservedConcurrency', fn.reservedConcurrency, RULES.reservedConcurrency);
  oneOf(problems, 'lambda.logLevel', fn.logLevel, LOG_LEVELS);

  const alias = props.alias ?? {};
  pattern(problems, 'alias.name', alias.name, RULES.aliasName);
  pattern(problems, 'alias.pinnedVersion', alias.pinnedVersion, RULES.version);
  if (alias.canary !== undefined && !isToken(alias.canary)) {
    const w = alias.canary.weight;
    if (!isToken(w) && (typeof w !== 'number' || !Number.isFinite(w) || w < 0 || w > 1)) {
      problems.push(`alias.canary.weight: ${JSON.stringify(w)} is not allowed: use a number from 0 to 1 (the share routed to the canary version)`);
    }
    pattern(problems, 'alias.canary.version', alias.canary.version, RULES.version);
    if (alias.pinnedVersion === undefined) {
      problems.push('alias.canary: needs alias.pinnedVersion: the alias must stay on a known version while the canary gets its share');
    } else if (alias.canary.version !== undefined && !isToken(alias.canary.version) && alias.canary.version === alias.pinnedVersion) {
      problems.push('alias.canary.version: must differ from alias.pinnedVersion');
    }
  }

  const compaction = props.compaction ?? {};
  flag(problems, 'compaction.create', compaction.create);
  pattern(problems, 'compaction.scheduleExpression', compaction.scheduleExpression, RULES.scheduleExpression);
  integer(problems, 'compaction.lookbackDays', compaction.lookbackDays, RULES.lookbackDays);
  integer(problems, 'compaction.targetBytes', compaction.targetBytes, RULES.targetBytes);
  // Deprecated, no effect since 0.4.0: validated as before, so a value 0.3.0 accepted is still accepted.
  integer(problems, 'compaction.maxTaskBytes', compaction.maxTaskBytes, RULES.maxTaskBytes);
  integer(problems, 'compaction.checkpointRetention', compaction.checkpointRetention, RULES.checkpointRetention);
  decimal(problems, 'compaction.checkpointRebuildShare', compaction.checkpointRebuildShare, RULES.checkpointRebuildShare);
  integer(problems, 'compaction.checkpointMaxAgeDays', compaction.checkpointMaxAgeDays, RULES.checkpointMaxAgeDays);
  integer(problems, 'compaction.marginSeconds', compaction.marginSeconds, RULES.marginSeconds);
  integer(problems, 'compaction.historyRetentionDays', compaction.historyRetentionDays, RULES.historyRetentionDays);

  const esm = props.eventSourceMapping ?? {};
  flag(problems, 'eventSourceMapping.create', esm.create);
  flag(problems, 'eventSourceMapping.enabled', esm.enabled);
  integer(problems, 'eventSourceMapping.batchSize', esm.batchSize, RULES.batchSize);
  integer(problems, 'eventSourceMapping.maximumBatchingWindowInSeconds', esm.maximumBatchingWindowInSeconds, RULES.maximumBatchingWindowInSeconds);
  integer(problems, 'eventSourceMapping.maximumRetryAttempts', esm.maximumRetryAttempts, RULES.maximumRetryAttempts);
  integer(problems, 'eventSourceMapping.maximumRecordAgeInSeconds', esm.maximumRecordAgeInSeconds, RULES.maximumRecordAgeInSeconds);
  integer(problems, 'eventSourceMapping.parallelizationFactor', esm.parallelizationFactor, RULES.parallelizationFactor);

  integer(problems, 'deadLetterQueue.messageRetentionSeconds', props.deadLetterQueue?.messageRetentionSeconds, RULES.messageRetentionSeconds);

  const logs = props.logs ?? {};
  oneOf(problems, 'logs.retentionInDays', logs.retentionInDays, LOG_RETENTION_DAYS as readonly number[]);
  pattern(problems, 'logs.kmsKeyArn', logs.kmsKeyArn, RULES.kmsKeyArn);

  const alarms = props.alarms ?? {};
  flag(problems, 'alarms.create', alarms.create);
  pattern(problems, 'alarms.snsTopicArn', alarms.snsTopicArn, RULES.snsTopicArn);
  integer(problems, 'alarms.iteratorAgeThresholdMs', alarms.iteratorAgeThresholdMs, RULES.iteratorAgeThresholdMs);
  integer(problems, 'alarms.errorsThreshold', alarms.errorsThreshold, RULES.errorsThreshold);

  return problems;
}

/** Throws a ConfigError listing every problem, or returns when the props are fine. */
export function validateProps(props: FlatteningPipelineProps): void {
  const problems = propsProblems(props);
  if (problems.length > 0) throw new ConfigError('FlatteningPipeline props', problems);
}
