import middy from '@middy/core';
import { Logger } from '@aws-lambda-powertools/logger';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import type { PipelineConfig } from '../src/config/pipeline-config.ts';
import type { LakeSink } from '../src/lake/sink.ts';
import { emfLine } from '../src/pipeline/metrics.ts';
import { processStreamBatch } from '../src/pipeline/stream-batch.ts';
import type { StreamRecordLike } from '../src/flatten/stream-record.ts';
import { erasedRecordTest, type ActiveErasures } from '../src/pipeline/erased-keys.ts';

export interface StreamHandlerDeps {
  readonly config: PipelineConfig;
  readonly sink: LakeSink;
  readonly logger?: Logger;
  /** Where EMF metric lines go (stdout in Lambda). */
  readonly writeMetrics?: (line: string) => void;
  /** The erasures in flight (read at most once a minute): records of their keys older than the cutoff are not written. */
  readonly erasures?: () => Promise<ActiveErasures>;
}

export const defaultLogger = (): Logger => new Logger({ serviceName: 'ddb-flatten' });
const stdoutMetrics = (line: string): void => void process.stdout.write(`${line}\n`);

/**
 * One DynamoDB Streams batch: the batch logic in processStreamBatch, a
 * partial batch response (ReportBatchItemFailures), one structured log line
 * per batch (never per record) and EMF metrics.
 */
export function streamBatchHandler(deps: StreamHandlerDeps) {
  const logger = deps.logger ?? defaultLogger();
  const writeMetrics = deps.writeMetrics ?? stdoutMetrics;

  return async (event: DynamoDBStreamEvent, context: Context): Promise<DynamoDBBatchResponse> => {
    const records = (event?.Records ?? []) as unknown as StreamRecordLike[];
    const isErased = deps.erasures ? erasedRecordTest(await deps.erasures(), deps.config.flatten) : undefined;
    const outcome = await processStreamBatch(records, {
      config: deps.config,
      sink: deps.sink,
      isErased,
      onQuarantine: (key, error) => logger.warn('record quarantined', { key, error: error instanceof Error ? error.message : String(error) }),
    });
    const counts = {
      records: outcome.records,
      rows: outcome.rows,
      objects: outcome.objects.length,
      bytes: outcome.objects.reduce((n, o) => n + o.bytes, 0),
      quarantined: outcome.quarantined.length,
      erased: outcome.erased ?? 0,
    };
    if (outcome.failure) logger.error('batch not written; Lambda will retry from the first record', { ...counts, failure: outcome.failure });
    else logger.info('batch written', { ...counts, keys: outcome.objects.map((o) => o.key) });
    writeMetrics(
      emfLine(
        {
          RecordsReceived: counts.records,
          RowsWritten: counts.rows,
          ObjectsWritten: counts.objects,
          BytesWritten: counts.bytes,
          RecordsQuarantined: counts.quarantined,
          RecordsErased: counts.erased,
          BatchFailures: outcome.failure ? 1 : 0,
        },
        { FunctionName: context?.functionName ?? 'local' },
      ),
    );
    return { batchItemFailures: outcome.batchItemFailures };
  };
}

/** The stream handler alone, on Middy's engine with Powertools' logger as middleware (npm start, tests). */
export function createStreamHandler(deps: StreamHandlerDeps) {
  const logger = deps.logger ?? defaultLogger();
  return middy<DynamoDBStreamEvent, DynamoDBBatchResponse>()
    .use(injectLambdaContext(logger))
    .handler(streamBatchHandler({ ...deps, logger }));
}
