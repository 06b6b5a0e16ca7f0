import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Context, DynamoDBStreamEvent, S3Event } from 'aws-lambda';
import { isActionPayload } from '../src/actions/payload.ts';
import { describe } from '../src/flatten/attribute-value.ts';
import type { ActionClients } from './actions.ts';
import { defaultLogger, streamBatchHandler, type StreamHandlerDeps } from './stream.ts';

export interface HandlerDeps extends StreamHandlerDeps {
  readonly s3: S3Client;
  readonly clients: () => Promise<ActionClients>;
  /** The clock of the actions (the maintenance run decides which days are closed by it). */
  readonly now?: () => number;
}

type Records = { Records?: { eventSource?: string }[] };

function recordsFrom(event: unknown, source: string): boolean {
  const records = (event as Records | null)?.Records;
  return Array.isArray(records) && records.length > 0 && records.every((r) => r?.eventSource === source);
}

/**
 * The one function behind the alias, on Middy's engine: DynamoDB Streams
 * batches from the trigger, S3 notifications for backfill export files,
 * and direct action invocations. Each kind of event is recognised by its
 * shape; anything else is refused with the shapes it accepts.
 */
export function createHandler(deps: HandlerDeps) {
  const logger = deps.logger ?? defaultLogger();
  const stream = streamBatchHandler({ ...deps, logger });
  const dispatch = async (event: unknown, context: Context): Promise<unknown> => {
    if (recordsFrom(event, 'aws:dynamodb') || (Array.isArray((event as Records)?.Records) && (event as Records).Records!.length === 0)) {
      return stream(event as DynamoDBStreamEvent, context);
    }
    // Imported on first use (a chunk of their own in the Lambda bundle): a stream-only cold start never compiles them.
    if (recordsFrom(event, 'aws:s3')) {
      const { flattenExportNotifications } = await import('./export-files.ts');
      return flattenExportNotifications(event as S3Event, { config: deps.config, s3: deps.s3, logger });
    }
    if (isActionPayload(event)) {
      const { runAction } = await import('./actions.ts');
      return runAction(event, {
        config: deps.config,
        sink: deps.sink,
        clients: deps.clients,
        logger,
        invokedFunctionArn: context?.invokedFunctionArn,
        remainingMs: typeof context?.getRemainingTimeInMillis === 'function' ? () => context.getRemainingTimeInMillis() : undefined,
        now: deps.now,
      });
    }
    throw new Error(
      `unsupported event ${describe(event)}: expected a DynamoDB Streams batch, an S3 notification for an export data file, or an action such as {"action":"backfill"}, {"action":"status","exportArn":"…"}, {"action":"reflatten","keys":[{"pk":"A1"}]} {"action":"redrive"} or {"action":"compact"}`,
    );
  };
  return middy<unknown, unknown>().use(injectLambdaContext(logger)).handler(dispatch);
}
