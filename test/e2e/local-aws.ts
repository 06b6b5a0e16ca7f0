import { AthenaClient } from '@aws-sdk/client-athena';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { GlueClient } from '@aws-sdk/client-glue';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { MOTO_REGION, type Moto } from '../support/moto.ts';

/**
 * AWS API clients pointed at moto. The SDK clients the project installs
 * cover DynamoDB, Streams, S3, Glue, Lambda and SQS; Athena, IAM, KMS,
 * CloudWatch Logs and CloudWatch are read with two small wire-protocol
 * calls (JSON 1.1 and Query), since moto routes a request by the service
 * named in its Authorization header and does not verify the signature.
 */
export interface LocalAws {
  readonly ddb: DynamoDBClient;
  readonly streams: DynamoDBStreamsClient;
  readonly s3: S3Client;
  readonly glue: GlueClient;
  readonly lambda: LambdaClient;
  readonly sqs: SQSClient;
  readonly ssm: SSMClient;
  /**
   * Athena's API for the function's maintenance run: moto's by default (it keeps workgroups and named
   * queries but runs no statement), or the tests' stand-in (test/support/athena-server.ts), which runs them.
   */
  readonly athena: AthenaClient;
  /** A JSON 1.1 protocol call, e.g. json('athena', 'AmazonAthena.GetWorkGroup', {WorkGroup}). */
  json<T = Record<string, any>>(service: string, target: string, body: Record<string, unknown>): Promise<T>;
  /** A REST-JSON call, e.g. rest('scheduler', 'GET', '/schedules/orders-flatten-maintenance'). */
  rest<T = Record<string, any>>(service: string, method: string, path: string): Promise<T>;
  /** A Query protocol call returning the XML text, e.g. query('iam', '2010-05-08', 'GetRole', {RoleName}). */
  query(service: string, version: string, action: string, params?: Record<string, string>): Promise<string>;
}

/** Moto accepts any credentials; it only reads the service name from the credential scope. */
function authorization(service: string): string {
  return `AWS4-HMAC-SHA256 Credential=testing/20260101/${MOTO_REGION}/${service}/aws4_request, SignedHeaders=host, Signature=0`;
}

async function send(endpoint: string, service: string, what: string, init: { headers: Record<string, string>; body: string }): Promise<string> {
  const res = await fetch(`${endpoint}/`, { method: 'POST', headers: { ...init.headers, Authorization: authorization(service) }, body: init.body });
  const text = await res.text();
  if (!res.ok) throw new Error(`${service} ${what} failed with HTTP ${res.status}: ${text.slice(0, 2000)}`);
  return text;
}

export function localAws(moto: Moto, athena: { endpoint: string } = moto.clientConfig): LocalAws {
  const config = moto.clientConfig;
  return {
    athena: new AthenaClient({ ...config, endpoint: athena.endpoint }),
    ddb: new DynamoDBClient(config),
    streams: new DynamoDBStreamsClient(config),
    s3: new S3Client(config),
    glue: new GlueClient(config),
    lambda: new LambdaClient(config),
    sqs: new SQSClient(config),
    ssm: new SSMClient(config),
    async json(service, target, body) {
      const text = await send(moto.endpoint, service, target, {
        headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': target },
        body: JSON.stringify(body),
      });
      return JSON.parse(text || '{}');
    },
    async rest(service, method, path) {
      const res = await fetch(`${moto.endpoint}${path}`, { method, headers: { Authorization: authorization(service) } });
      const text = await res.text();
      if (!res.ok) throw new Error(`${service} ${method} ${path} failed with HTTP ${res.status}: ${text.slice(0, 2000)}`);
      return JSON.parse(text || '{}');
    },
    query(service, version, action, params = {}) {
      return send(moto.endpoint, service, action, {
        headers: { 'Content-Type': 'application/x-www-form-urlencoded; charset=utf-8' },
        body: new URLSearchParams({ Action: action, Version: version, ...params }).toString(),
      });
    },
  };
}

const XML_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
function unescapeXml(text: string): string {
  return text.replace(/&(#x?[0-9a-fA-F]+|amp|lt|gt|quot|apos);/g, (_m, e: string) =>
    e.startsWith('#x') ? String.fromCodePoint(parseInt(e.slice(2), 16)) : e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : XML_ENTITIES[e]!,
  );
}

/** Every text value of `<tag>…</tag>` in a Query protocol response (leaf elements only). */
export function xmlValues(xml: string, tag: string): string[] {
  return [...xml.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => unescapeXml(m[1]!));
}

/** The one text value of `<tag>`; throws when it is missing. */
export function xmlValue(xml: string, tag: string): string {
  const [value] = xmlValues(xml, tag);
  if (value === undefined) throw new Error(`no <${tag}> in ${xml.slice(0, 500)}`);
  return value;
}
