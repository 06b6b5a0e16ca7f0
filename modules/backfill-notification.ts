import { Construct } from 'constructs';
import { LambdaPermission, S3BucketNotification } from './aws.ts';
import { bothGates, countOf, gate, type Gate, gatedAttr } from './expressions.ts';
import type { ResolvedConfig } from './naming.ts';
import { named } from './addresses.ts';

export interface BackfillNotificationInputs {
  readonly bucketName: string;
  readonly bucketArn: string;
  readonly functionName: string;
  readonly aliasName: string;
  readonly aliasArn: string;
  /** This account's id: only the lake bucket of this account may invoke the alias. */
  readonly accountId: string;
}

/** Suffix of export data files: AWS writes `.json.gz`; matching `.gz` keeps manifests and markers out. */
export const EXPORT_DATA_SUFFIX = '.gz';

/**
 * Backfill fan-out: S3 invokes the alias asynchronously for every export
 * data file under the export prefix, one file per invocation, so a large
 * export is flattened in parallel with nothing to poll. Only this bucket,
 * in this account, may invoke the function that way, and only the alias.
 */
export class BackfillNotification extends Construct {
  readonly gate: Gate;
  readonly permission?: LambdaPermission;
  readonly notification?: S3BucketNotification;

  constructor(scope: Construct, id: string, config: ResolvedConfig, inputs: BackfillNotificationInputs) {
    super(scope, id);
    this.gate = bothGates(gate(config.backfill.enabled), gate(config.backfill.bucketNotification));
    if (!this.gate.create) return;
    this.permission = named(new LambdaPermission(this, 'allow-s3', {
      ...countOf(this.gate),
      statementId: 'AllowLakeBucketExportNotifications',
      action: 'lambda:InvokeFunction',
      functionName: inputs.functionName,
      qualifier: inputs.aliasName,
      principal: 's3.amazonaws.com',
      sourceArn: inputs.bucketArn,
      sourceAccount: inputs.accountId,
    }), 's3_export_files');
    this.notification = named(new S3BucketNotification(this, 'export-files', {
      ...countOf(this.gate),
      bucket: inputs.bucketName,
      lambdaFunction: [
        {
          id: 'ddb-flatten-export-files',
          lambdaFunctionArn: inputs.aliasArn,
          events: ['s3:ObjectCreated:*'],
          filterPrefix: `${config.backfill.exportPrefix}/`,
          filterSuffix: EXPORT_DATA_SUFFIX,
        },
      ],
      dependsOn: [this.permission],
    }), 'export_files');
  }
}
