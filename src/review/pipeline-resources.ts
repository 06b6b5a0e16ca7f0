import type { ResourceChange } from './plan.ts';

/**
 * What each resource of a ddb-flatten pipeline is, known by its TYPE and its
 * planned values, never by its name in the configuration (those are hashed
 * CDKTF ids in one build of the module and plain names in another). A Glue
 * table is a view when its table_type says VIRTUAL_VIEW; the catalog table
 * otherwise.
 */

export type Role =
  | 'table'
  | 'bucket'
  | 'bucket-setting'
  | 'bucket-policy'
  | 'glue-database'
  | 'glue-table'
  | 'glue-view'
  | 'queue'
  | 'kms-key'
  | 'log-group'
  | 'function'
  | 'alias'
  | 'trigger'
  | 'role'
  | 'role-policy'
  | 'permission'
  | 'workgroup'
  | 'named-query'
  | 'alarm'
  | 'schedule'
  | 'other';

export interface Kind {
  readonly role: Role;
  /** What it is, for a person: "DynamoDB table", "Glue view". */
  readonly noun: string;
  /**
   * Holds data a destroy loses (the list: table, lake bucket, Glue
   * database and table, queue, KMS key, log group). A destroy or replace of
   * one fails the review unless allowed.
   */
  readonly stateful: boolean;
}

const KINDS: Readonly<Record<string, Kind>> = {
  aws_dynamodb_table: { role: 'table', noun: 'DynamoDB table', stateful: true },
  aws_s3_bucket: { role: 'bucket', noun: 'S3 bucket', stateful: true },
  aws_s3_bucket_versioning: { role: 'bucket-setting', noun: 'bucket versioning', stateful: false },
  aws_s3_bucket_server_side_encryption_configuration: { role: 'bucket-setting', noun: 'bucket encryption', stateful: false },
  aws_s3_bucket_public_access_block: { role: 'bucket-setting', noun: 'bucket public access block', stateful: false },
  aws_s3_bucket_ownership_controls: { role: 'bucket-setting', noun: 'bucket ownership controls', stateful: false },
  aws_s3_bucket_lifecycle_configuration: { role: 'bucket-setting', noun: 'bucket lifecycle rules', stateful: false },
  aws_s3_bucket_notification: { role: 'bucket-setting', noun: 'bucket notification (backfill fan-out)', stateful: false },
  aws_s3_bucket_policy: { role: 'bucket-policy', noun: 'bucket policy', stateful: false },
  aws_glue_catalog_database: { role: 'glue-database', noun: 'Glue database', stateful: true },
  aws_sqs_queue: { role: 'queue', noun: 'SQS queue', stateful: true },
  aws_kms_key: { role: 'kms-key', noun: 'KMS key', stateful: true },
  aws_cloudwatch_log_group: { role: 'log-group', noun: 'log group', stateful: true },
  aws_lambda_function: { role: 'function', noun: 'Lambda function', stateful: false },
  aws_lambda_alias: { role: 'alias', noun: 'Lambda alias', stateful: false },
  aws_lambda_event_source_mapping: { role: 'trigger', noun: 'stream trigger', stateful: false },
  aws_lambda_permission: { role: 'permission', noun: 'Lambda invoke permission', stateful: false },
  aws_lambda_function_event_invoke_config: { role: 'other', noun: 'async invoke config (retries, on-failure queue)', stateful: false },
  aws_iam_role: { role: 'role', noun: 'IAM role', stateful: false },
  aws_iam_role_policy: { role: 'role-policy', noun: 'IAM role policy', stateful: false },
  aws_iam_policy: { role: 'role-policy', noun: 'IAM policy', stateful: false },
  aws_iam_role_policy_attachment: { role: 'role-policy', noun: 'IAM policy attachment', stateful: false },
  aws_athena_workgroup: { role: 'workgroup', noun: 'Athena workgroup', stateful: false },
  aws_athena_named_query: { role: 'named-query', noun: 'Athena named query', stateful: false },
  aws_cloudwatch_metric_alarm: { role: 'alarm', noun: 'alarm', stateful: false },
  aws_scheduler_schedule: { role: 'schedule', noun: 'EventBridge schedule', stateful: false },
  // The checkpoint pointer the maintenance run moves; losing it only makes the view read every day until the next run.
  aws_ssm_parameter: { role: 'other', noun: 'SSM parameter', stateful: false },
};

const GLUE_VIEW: Kind = { role: 'glue-view', noun: 'Glue view', stateful: false };
/** The workgroup the maintenance run's statements run in (`<lake workgroup>-maintenance`, with its own bytes-scanned cutoff). */
const MAINTENANCE_WORKGROUP: Kind = { role: 'workgroup', noun: "Athena workgroup of the lake's maintenance statements", stateful: false };
/** The module names it after the analysts' workgroup (modules/naming.ts). */
export const MAINTENANCE_WORKGROUP_SUFFIX = '-maintenance';
const GLUE_TABLE: Kind = { role: 'glue-table', noun: 'Glue table', stateful: true };

/** The values that describe the resource: what exists today, or what is planned when it is new. */
export function valuesOf(rc: ResourceChange): Record<string, any> {
  return (rc.change.before ?? rc.change.after ?? {}) as Record<string, any>;
}

export function kindOf(rc: ResourceChange): Kind {
  if (rc.type === 'aws_glue_catalog_table') {
    const type = rc.change.after?.table_type ?? rc.change.before?.table_type;
    return type === 'VIRTUAL_VIEW' ? GLUE_VIEW : GLUE_TABLE;
  }
  if (rc.type === 'aws_athena_workgroup' && nameOf(rc)?.endsWith(MAINTENANCE_WORKGROUP_SUFFIX)) return MAINTENANCE_WORKGROUP;
  return KINDS[rc.type] ?? { role: 'other', noun: rc.type, stateful: false };
}

/** The resource's own name in AWS, when its values have one. */
export function nameOf(rc: ResourceChange): string | undefined {
  const v = { ...(rc.change.after ?? {}), ...(rc.change.before ?? {}) } as Record<string, unknown>;
  for (const key of ['name', 'function_name', 'bucket', 'alias', 'description']) {
    if (key === 'description' && rc.type !== 'aws_kms_key') continue;
    if (typeof v[key] === 'string' && v[key] !== '') {
      // A queue's or function's `name` is plain; an alias's function_name is an ARN or a name.
      return v[key] as string;
    }
  }
  return undefined;
}

/** "DynamoDB table `orders`". */
export function described(rc: ResourceChange): string {
  const name = nameOf(rc);
  return name ? `${kindOf(rc).noun} \`${name}\`` : kindOf(rc).noun;
}

/** The tag the module puts on every taggable resource, naming its pipeline. */
export const PIPELINE_TAG = 'ddb-flatten:pipeline';

/** The pipeline a resource is tagged with (tags or tags_all, before or after). */
export function pipelineTag(rc: ResourceChange): string | undefined {
  for (const values of [rc.change.after, rc.change.before]) {
    for (const key of ['tags', 'tags_all']) {
      const tag = values?.[key]?.[PIPELINE_TAG];
      if (typeof tag === 'string' && tag !== '') return tag;
    }
  }
  return undefined;
}
