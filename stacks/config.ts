import { readFileSync } from 'node:fs';
import { ConfigError, splitList } from '../src/config/validate.ts';
import type { FlatteningPipelineProps } from '../modules/props.ts';
import type { BackendConfig, FlatteningPipelineStackProps } from './pipeline-stack.ts';

/**
 * The deployable stack's configuration, from (highest first):
 * 1. the JSON file named by FLATTEN_CONFIG: { "stackName"?, "region"?, "defaultTags"?, "backend"?, "pipeline": <props> };
 * 2. the cdktf context key `flatten` (cdktf.json "context", same shape);
 * 3. FLATTEN_* environment variables for the common settings (below).
 * Anything the props allow can be set through 1 or 2; the environment covers the common case.
 */
export const ENV_HELP = {
  FLATTEN_CONFIG: 'Path to a JSON file with { stackName?, region?, defaultTags?, backend?, pipeline } (overrides everything else).',
  FLATTEN_STACK: 'Stack name (default ddb-flatten).',
  FLATTEN_NAME: 'Pipeline name, the base of every resource name (default orders).',
  FLATTEN_PARTITION_KEY: 'Partition key attribute, optionally with its type: pk or pk:N (default pk).',
  FLATTEN_SORT_KEY: 'Sort key attribute, optionally with its type (default none).',
  FLATTEN_EXPLODE_ATTRIBUTES: 'Comma-separated attributes to explode into rows (default items).',
  FLATTEN_CARRY_ATTRIBUTES: 'Comma-separated attributes carried onto every row (default none).',
  FLATTEN_KMS_KEY_ARN: 'Customer managed KMS key for table, bucket, DLQ, environment and Athena results (default none).',
  FLATTEN_ALIAS_PINNED_VERSION: 'Pin the live alias to this version (rollback).',
  FLATTEN_TRIGGER: 'enabled (default), disabled (created paused) or none (not created).',
  FLATTEN_STATE_BUCKET: 'Use the S3 backend with this bucket (key FLATTEN_STATE_KEY, default ddb-flatten/<stack>.tfstate; lock file in S3).',
  AWS_REGION: 'Region (default: the provider resolves it from the profile).',
} as const;

export interface StackSettings extends FlatteningPipelineStackProps {
  readonly stackName: string;
}

type Env = Readonly<Record<string, string | undefined>>;

function keyOf(text: string): { name: string; type?: 'S' | 'N' | 'B' } {
  const [name, type] = text.split(':');
  return type ? { name, type: type as 'S' | 'N' | 'B' } : { name };
}

export function settingsFromEnv(env: Env): StackSettings {
  const problems: string[] = [];
  const trigger = env.FLATTEN_TRIGGER ?? 'enabled';
  if (!['enabled', 'disabled', 'none'].includes(trigger)) problems.push(`FLATTEN_TRIGGER: "${trigger}" is not allowed: use enabled, disabled or none`);
  if (problems.length) throw new ConfigError('environment', problems);
  const stackName = env.FLATTEN_STACK || 'ddb-flatten';
  const pipeline: FlatteningPipelineProps = {
    name: env.FLATTEN_NAME || 'orders',
    partitionKey: keyOf(env.FLATTEN_PARTITION_KEY || 'pk'),
    ...(env.FLATTEN_SORT_KEY ? { sortKey: keyOf(env.FLATTEN_SORT_KEY) } : {}),
    explodeAttributes: splitList(env.FLATTEN_EXPLODE_ATTRIBUTES || 'items'),
    carryAttributes: splitList(env.FLATTEN_CARRY_ATTRIBUTES),
    ...(env.FLATTEN_KMS_KEY_ARN ? { kmsKeyArn: env.FLATTEN_KMS_KEY_ARN } : {}),
    ...(env.FLATTEN_ALIAS_PINNED_VERSION ? { alias: { pinnedVersion: env.FLATTEN_ALIAS_PINNED_VERSION } } : {}),
    eventSourceMapping: { create: trigger !== 'none', enabled: trigger === 'enabled' },
  };
  const backend: BackendConfig = env.FLATTEN_STATE_BUCKET
    ? { type: 's3', bucket: env.FLATTEN_STATE_BUCKET, key: env.FLATTEN_STATE_KEY || `ddb-flatten/${stackName}.tfstate`, encrypt: true }
    : { type: 'local' };
  return { stackName, region: env.AWS_REGION || undefined, pipeline, backend };
}

export function loadStackSettings(env: Env, context: unknown): StackSettings {
  const fromFile = env.FLATTEN_CONFIG ? (JSON.parse(readFileSync(env.FLATTEN_CONFIG, 'utf8')) as Partial<StackSettings>) : undefined;
  const chosen = fromFile ?? (context && typeof context === 'object' ? (context as Partial<StackSettings>) : undefined);
  if (!chosen) return settingsFromEnv(env);
  if (!chosen.pipeline) throw new ConfigError(env.FLATTEN_CONFIG ?? 'cdktf context "flatten"', ['pipeline: required: the FlatteningPipeline props']);
  return { ...chosen, stackName: chosen.stackName ?? (env.FLATTEN_STACK || 'ddb-flatten'), pipeline: chosen.pipeline } as StackSettings;
}
