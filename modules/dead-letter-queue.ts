import { Construct } from 'constructs';
import { SqsQueue } from './aws.ts';
import { choose, isAbsent, isToken } from './expressions.ts';
import type { ResolvedConfig } from './naming.ts';
import { named } from './addresses.ts';

/**
 * The event source mapping's on-failure destination: an SQS queue that
 * receives the metadata (shard, sequence range) of a batch that exhausted
 * its retries or its maximum age. Encrypted with SSE-SQS, or with the
 * customer key when one is given.
 */
export class DeadLetterQueue extends Construct {
  readonly queue: SqsQueue;

  constructor(scope: Construct, id: string, config: ResolvedConfig) {
    super(scope, id);
    const noKms = isAbsent(config.kmsKeyArn);
    this.queue = named(new SqsQueue(this, 'queue', {
      name: config.deadLetterQueue.name,
      messageRetentionSeconds: config.deadLetterQueue.messageRetentionSeconds,
      // SSE-SQS when there is no customer key (the two settings conflict; null leaves it to the key).
      sqsManagedSseEnabled: isToken(noKms) ? choose(noKms, true, null as unknown as boolean) : noKms ? true : undefined,
      kmsMasterKeyId: config.kmsKeyArn,
      tags: config.tags,
    }), 'dlq');
  }
}
