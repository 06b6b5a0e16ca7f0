import { AthenaClient } from '@aws-sdk/client-athena';
import { GlueClient } from '@aws-sdk/client-glue';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';

/**
 * AWS clients for the commands, with the usual credentials and region
 * chain. An endpoint given on the command line (--endpoint-url) goes to
 * every client; otherwise the SDK reads AWS_ENDPOINT_URL and
 * AWS_ENDPOINT_URL_<SERVICE> itself.
 */

export function s3Client(env: NodeJS.ProcessEnv, endpoint?: string): S3Client {
  // A custom endpoint (MinIO, LocalStack, moto) rarely serves virtual-hosted bucket names.
  return new S3Client({ ...(endpoint ? { endpoint } : {}), forcePathStyle: Boolean(endpoint || env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL) });
}

export const glueClient = (endpoint?: string): GlueClient => new GlueClient(endpoint ? { endpoint } : {});
export const ssmClient = (endpoint?: string): SSMClient => new SSMClient(endpoint ? { endpoint } : {});
export const sqsClient = (endpoint?: string): SQSClient => new SQSClient(endpoint ? { endpoint } : {});
/**
 * Athena's client. AWS_ENDPOINT_URL_ATHENA, when set, wins over --endpoint-url: a local AWS (moto) has
 * no Athena that runs queries, so the tests point Athena alone at their stand-in server.
 */
export const athenaClient = (env: NodeJS.ProcessEnv, endpoint?: string): AthenaClient => new AthenaClient(endpoint && !env.AWS_ENDPOINT_URL_ATHENA ? { endpoint } : {});
