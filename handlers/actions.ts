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
import type { GlueClient } from '@aws-sdk/client-glue';
import type { SSMClient } from '@aws-sdk/client-ssm';
import type { LambdaClient } from '@aws-sdk/client-lambda';
import type { AthenaClient } from '@aws-sdk/client-athena';
import { MaintenanceFailed, runMaintenance, type MaintenanceDeps } from '../src/actions/maintenance.ts';
import { runErase } from '../src/actions/erase.ts';
import { athenaEngine, backfillHolds, dlqHold, lambdaHandOn, movePointerParameter, repointGlueView } from '../src/actions/maintenance-aws.ts';
import { S3Store } from '../src/lake/lake-store.ts';
import { readPointer } from '../src/maintenance/checkpoint.ts';

/** AWS clients only the actions use, created on first use so a stream-only cold start never pays for them. */
export interface ActionClients {
  readonly ddb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  readonly sqs: SQSClient;
  readonly s3: S3Client;
  readonly glue: GlueClient;
  readonly ssm: SSMClient;
  readonly lambda: LambdaClient;
  readonly athena: AthenaClient;
}

export interface ActionDeps {
  readonly config: PipelineConfig;
  readonly sink: LakeSink;
  readonly clients: () => Promise<ActionClients>;
  readonly logger: Logger;
  /** The ARN this invocation came in on (the alias): where the maintenance run hands itself on. */
  readonly invokedFunctionArn?: string;
  /** The invocation's remaining time (Lambda's context): how long the maintenance run may wait for its queries. */
  readonly remainingMs?: () => number;
  readonly now?: () => number;
}

/**
 * Direct invocations through the alias:
 *   {"action":"backfill"}                         start a PITR export into the lake bucket
 *   {"action":"status","exportArn":"…"}           export state and files flattened so far
 *   {"action":"reflatten","keys":[{"pk":"A1"}]}  re-read items and write SNAPSHOT rows
 *   {"action":"redrive"}                          reprocess batches from the on-failure queue
 *   {"action":"compact"}                          compact closed days and checkpoint the current state (daily schedule), in Athena
 *   {"action":"checkpoint"}                       checkpoint only
 *   {"action":"erase","keys":[{"pk":"A1"}]}       erase keys from the lake (every object and object version)
 */
export async function runAction(event: unknown, deps: ActionDeps): Promise<unknown> {
  const { config } = deps;
  const request = parseAction(event, { ...config.flatten, partitionKeyType: config.actions.partitionKeyType, sortKeyType: config.actions.sortKeyType });
  const clients = await deps.clients();
  let result: unknown;
  switch (request.action) {
    case 'backfill':
      result = await startBackfill(clients.ddb, config, Date.now, (root, started) =>
        new S3Store(clients.s3, config.bucket).write(`${root}/ddb-flatten/started.json`, JSON.stringify({ exportArn: started.exportArn, exportTime: started.exportTime }), 'application/json'),
      );
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
    case 'maintenance-task':
      // Sent by a 0.3.0 run before the upgrade: its plan is retired and the work planned again by the next run.
      result = { ignored: 'maintenance tasks are no longer run (0.4.0 on): the next {"action":"compact"} run plans this work again' };
      break;
    case 'erase':
      result = await runErase(request, maintenanceDeps(config, clients, deps));
      break;
    case 'compact':
    case 'checkpoint': {
      const run = await runMaintenance(request, maintenanceDeps(config, clients, deps));
      // A failure at the end of a run's chain fails the invocation: Lambda retries it (bounded), then the on-failure queue and its alarm.
      if (run.failed.length > 0 && !run.handedOn) {
        deps.logger.error('maintenance failed', { result: run as unknown as Record<string, unknown> });
        throw new MaintenanceFailed(run.failed);
      }
      result = run;
      break;
    }
  }
  deps.logger.info(`action ${request.action} done`, { action: request.action, result: result as Record<string, unknown> });
  return result;
}

/**
 * Time an invocation keeps, of what it has left, for what follows its waiting: a commit (copies and
 * deletes) and handing the run on. A quarter of the remaining time, at most 30 s.
 */
const RESERVE_MS = { share: 0.25, maxMs: 30_000 } as const;

/** The maintenance run's dependencies in the Lambda: Athena, the bucket, Glue, the DLQ, backfills in flight, its own alias. */
function maintenanceDeps(config: PipelineConfig, clients: ActionClients, deps: ActionDeps): MaintenanceDeps {
  const store = new S3Store(clients.s3, config.bucket);
  const m = config.maintenance;
  const remaining = deps.remainingMs?.();
  return {
    store,
    engine: athenaEngine(clients.athena, config, clients.glue),
    config,
    now: (deps.now ?? Date.now)(),
    deadline: remaining === undefined ? undefined : Date.now() + remaining - Math.min(RESERVE_MS.maxMs, remaining * RESERVE_MS.share),
    repointView: async (pointer) => {
      // The parameter first: Terraform then renders what the view is about to say.
      if (m.checkpointParameter) await movePointerParameter(clients.ssm, m.checkpointParameter, pointer);
      if (m.glueDatabase && m.glueView) await repointGlueView(clients.glue, m.glueDatabase, m.glueView, pointer);
    },
    holds: async () => {
      const current = await readPointer(store, m);
      return [
        ...(config.actions.dlqUrl ? await dlqHold(clients.sqs, config.actions.dlqUrl, current.bound) : []),
        ...(config.actions.tableArn ? await backfillHolds(store, clients.ddb, clients.s3, config) : []),
      ];
    },
    handOn: deps.invokedFunctionArn ? lambdaHandOn(clients.lambda, deps.invokedFunctionArn) : undefined,
    handOnErase: deps.invokedFunctionArn ? lambdaHandOn(clients.lambda, deps.invokedFunctionArn) : undefined,
  };
}
