import { randomUUID } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { createStreamHandler } from '../../handlers/stream.ts';
import type { PipelineConfig } from '../config/pipeline-config.ts';
import { DirectorySink } from '../lake/sink.ts';
import type { StreamRecord } from './stream-events.ts';

/**
 * The Lambda's own handler (handlers/stream.ts), invoked in-process the way
 * the Lambda service invokes it: a DynamoDB Streams event and a Context. It
 * writes to a local folder with the bucket's layout. Totals come from the
 * handler's EMF metric lines, i.e. what CloudWatch would chart.
 */

export interface LambdaTotals {
  invocations: number;
  records: number;
  rows: number;
  objects: number;
  bytes: number;
  quarantined: number;
}

export const FUNCTION_NAME = 'ddb-flatten-local';

function lambdaContext(): Context {
  const deadline = Date.now() + 900_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: FUNCTION_NAME,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${FUNCTION_NAME}:live`,
    memoryLimitInMB: '1024',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${FUNCTION_NAME}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

export function localStreamLambda(config: PipelineConfig, lakeRoot: string) {
  const totals: LambdaTotals = { invocations: 0, records: 0, rows: 0, objects: 0, bytes: 0, quarantined: 0 };
  const handler = createStreamHandler({
    config,
    sink: new DirectorySink(lakeRoot),
    // WARN and ERROR go to stderr (Powertools' console), so stdout stays the report.
    logger: new Logger({ serviceName: 'ddb-flatten', logLevel: 'WARN' }),
    writeMetrics: (line) => {
      const m = JSON.parse(line) as Record<string, number>;
      totals.records += m.RecordsReceived ?? 0;
      totals.rows += m.RowsWritten ?? 0;
      totals.objects += m.ObjectsWritten ?? 0;
      totals.bytes += m.BytesWritten ?? 0;
      totals.quarantined += m.RecordsQuarantined ?? 0;
    },
  });
  return {
    totals,
    /** One invocation with these records; throws if the handler reports a failed batch. */
    async invoke(records: readonly StreamRecord[]): Promise<void> {
      if (records.length === 0) return;
      // A JSON round trip: the handler gets exactly what Lambda would deliver.
      const event = JSON.parse(JSON.stringify({ Records: records })) as DynamoDBStreamEvent;
      const response = (await handler(event, lambdaContext())) as DynamoDBBatchResponse;
      totals.invocations++;
      const failed = response?.batchItemFailures ?? [];
      if (failed.length > 0) {
        throw new Error(`the stream handler reported a failed batch (retry from sequence ${failed[0]!.itemIdentifier}); see its log on stderr`);
      }
    },
  };
}

export type LocalStreamLambda = ReturnType<typeof localStreamLambda>;
