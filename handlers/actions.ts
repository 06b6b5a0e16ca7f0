import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { S3Client } from '@aws-sdk/client-s3';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '@aws-lambda-powertools/logger';
import { backfillStatus, startBackfill } from '../src/actions/backfill.ts';
import { parseAction } from '../src/actions/payload.ts';
import { redrive } from '../src/actions/redrive.ts';
import { reflatten } from '../src/actions/reflatten.ts';
import type { PipelineConfig } from '../src/config/pipeline-config.ts';
import type { LakeSink } from '../src/lake/sink.ts';

/** AWS clients only the actions use, created on first use so a stream-only cold start never pays for them. */
export interface ActionClients {
  readonly ddb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
}

export interface ActionDeps {
  readonly config: PipelineConfig;
  readonly sink: LakeSink;
  readonly clients: () => Promise<ActionClients>;
  readonly logger: Logger;
}

/**
 * Direct invocations through the alias:
 *   {"action":"backfill"}                         start a PITR export into the lake bucket
 *   {"action":"status","exportArn":"…"}           export state and files flattened so far
 *   {"action":"reflatten","keys":[{"pk":"A1"}]}  re-read items and write SNAPSHOT rows
 *   {"action":"redrive"}                          reprocess batches from the on-failure queue
 */
export async function runAction(event: unknown, deps: ActionDeps): Promise<unknown> {
  const { config } = deps;
  const request = parseAction(event, { ...config.flatten, partitionKeyType: config.actions.partitionKeyType, sortKeyType: config.actions.sortKeyType });
  const clients = await deps.clients();
  let result: unknown;
  switch (request.action) {
    case 'backfill':
      result = await startBackfill(clients.ddb, config);
      break;
    case 'status':
      result = await backfillStatus(clients.ddb, clients.s3, config, request.exportArn);
      break;
    case 'reflatten':
      result = await reflatten(clients.ddb, deps.sink, config, request.keys);
      break;
    case 'redrive':
      result = await redrive(clients, deps.sink, config, request.maxMessages);
      break;
  }
  deps.logger.info(`action ${request.action} done`, { action: request.action, result: result as Record<string, unknown> });
  return result;
}
