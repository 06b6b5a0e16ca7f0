import { S3Client } from '@aws-sdk/client-s3';
import { loadPipelineConfig } from '../src/config/pipeline-config.ts';
import { S3Sink } from '../src/lake/sink.ts';
import { createStreamHandler } from './stream.ts';

/**
 * The Lambda entry point. Configuration is validated here, at cold start:
 * a bad environment variable fails the init with a message naming it.
 */
const config = loadPipelineConfig(process.env);

export const handler = createStreamHandler({ config, sink: new S3Sink(new S3Client({}), config.bucket) });
