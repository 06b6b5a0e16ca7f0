import type { FlattenConfig } from '../flatten/flatten.ts';
import {
  attributeNameProblem,
  bucketNameProblem,
  carriedProblems,
  ConfigError,
  listProblems,
  prefixProblem,
  splitList,
} from './validate.ts';

/** What the stream handler needs, read once at cold start. */
export interface PipelineConfig {
  readonly flatten: FlattenConfig;
  readonly bucket: string;
  /** Where flattened rows go: s3://bucket/<dataPrefix>/dt=YYYY-MM-DD/... */
  readonly dataPrefix: string;
  /** Where records that cannot be flattened go, with their error. */
  readonly quarantinePrefix: string;
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
} as const;

export type EnvironmentName = keyof typeof ENVIRONMENT;

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

  if (problems.length > 0) throw new ConfigError('environment', problems);
  return { flatten: { attributes, partitionKey, sortKey, carry }, bucket, dataPrefix, quarantinePrefix };
}
