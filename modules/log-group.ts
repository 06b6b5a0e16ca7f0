import { Construct } from 'constructs';
import { CloudwatchLogGroup } from './aws.ts';
import type { ResolvedConfig } from './naming.ts';
import { named } from './addresses.ts';

/**
 * The function's log group, created by the module (not on first invoke) so
 * it has a retention, an optional KMS key and tags, and so the function's
 * role can be limited to writing this one group.
 */
export class FunctionLogGroup extends Construct {
  readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, config: ResolvedConfig) {
    super(scope, id);
    this.logGroup = named(new CloudwatchLogGroup(this, 'log-group', {
      name: config.logs.groupName,
      retentionInDays: config.logs.retentionInDays,
      kmsKeyId: config.logs.kmsKeyArn,
      tags: config.tags,
    }), 'function');
  }
}
