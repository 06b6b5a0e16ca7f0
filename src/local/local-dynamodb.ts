import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, DynamoDBClient, type KeySchemaElement, type AttributeDefinition } from '@aws-sdk/client-dynamodb';
import dynalite from 'dynalite';

/**
 * An in-process DynamoDB (dynalite) on a free loopback port, and the real
 * AWS SDK client pointed at it. Nothing leaves the machine: the client gets
 * fixed dummy credentials and an explicit endpoint.
 */

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';

export interface LocalDynamoDB {
  readonly endpoint: string;
  readonly client: DynamoDBClient;
  /** Stops the client and the server. Safe to call more than once. */
  close(): Promise<void>;
}

export async function startLocalDynamoDB(options: { onDisk?: boolean } = {}): Promise<LocalDynamoDB> {
  const dataDir = options.onDisk ? await mkdtemp(join(tmpdir(), 'ddb-flatten-dynalite-')) : undefined;
  const server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0, ...(dataDir ? { path: dataDir } : {}) });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const endpoint = `http://127.0.0.1:${port}`;
  const client = new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    maxAttempts: 3,
  });
  let closed = false;
  return {
    endpoint,
    client,
    async close() {
      if (closed) return;
      closed = true;
      client.destroy();
      server.closeAllConnections?.();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (dataDir) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

export interface TableKeys {
  readonly partitionKey: string;
  readonly sortKey?: string | undefined;
}

/** Creates an on-demand table whose key attributes are strings. */
export async function createTable(client: DynamoDBClient, tableName: string, keys: TableKeys): Promise<void> {
  const keySchema: KeySchemaElement[] = [{ AttributeName: keys.partitionKey, KeyType: 'HASH' }];
  const definitions: AttributeDefinition[] = [{ AttributeName: keys.partitionKey, AttributeType: 'S' }];
  if (keys.sortKey) {
    keySchema.push({ AttributeName: keys.sortKey, KeyType: 'RANGE' });
    definitions.push({ AttributeName: keys.sortKey, AttributeType: 'S' });
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: keySchema,
      AttributeDefinitions: definitions,
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
}
