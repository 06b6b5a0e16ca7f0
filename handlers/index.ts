import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { cachedErasures } from '../src/pipeline/erased-keys.ts';
import { loadPipelineConfig } from '../src/config/pipeline-config.ts';
import { S3Sink } from '../src/lake/sink.ts';
import type { ActionClients } from './actions.ts';
import { createHandler } from './router.ts';

/**
 * The Lambda entry point. Configuration is validated here, at cold start:
 * a bad environment variable fails the init with a message naming it.
 */
const config = loadPipelineConfig(process.env);
const s3 = new S3Client({});

let actionClients: Promise<ActionClients> | undefined;
/** The action-only clients are imported on first use: a stream batch never loads them. */
async function clients(): Promise<ActionClients> {
  actionClients ??= Promise.all([
    import('@aws-sdk/client-dynamodb'),
    import('@aws-sdk/client-dynamodb-streams'),
    import('@aws-sdk/client-sqs'),
    import('@aws-sdk/client-glue'),
    import('@aws-sdk/client-lambda'),
    import('@aws-sdk/client-ssm'),
    import('@aws-sdk/client-athena'),
  ]).then(([ddb, streams, sqs, glue, lambda, ssm, athena]) => ({
    ddb: new ddb.DynamoDBClient({}),
    streams: new streams.DynamoDBStreamsClient({}),
    sqs: new sqs.SQSClient({}),
    glue: new glue.GlueClient({}),
    lambda: new lambda.LambdaClient({}),
    ssm: new ssm.SSMClient({}),
    athena: new athena.AthenaClient({}),
    s3,
  }));
  return actionClients;
}

/** The erasures in flight (<state>/erasures/active.json), read at most once a minute: their keys' older records are not written. */
const erasures = cachedErasures(async () => {
  try {
    const res = await s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: `${config.maintenance.statePrefix}/erasures/active.json` }));
    return await res.Body!.transformToByteArray();
  } catch (error) {
    if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
    throw error;
  }
});

export const handler = createHandler({ config, sink: new S3Sink(s3, config.bucket), s3, clients, erasures });
