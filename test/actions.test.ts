import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteItemCommand, DynamoDBClient, PutItemCommand, ScanCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { Logger } from '@aws-lambda-powertools/logger';
import { AthenaClient } from '@aws-sdk/client-athena';
import { GlueClient } from '@aws-sdk/client-glue';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { SSMClient } from '@aws-sdk/client-ssm';
import type { Context, S3Event } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandler } from '../handlers/router.ts';
import { loadPipelineConfig, type PipelineConfig } from '../src/config/pipeline-config.ts';
import type { Item } from '../src/flatten/attribute-value.ts';
import { Flattener } from '../src/flatten/flatten.ts';
import { RowBatch } from '../src/flatten/row-batch.ts';
import { appendSnapshotItem } from '../src/flatten/stream-record.ts';
import { S3Sink } from '../src/lake/sink.ts';
import { queryLakeFolder } from './support/duckdb.ts';
import { exportFolder, uploadExportFolder } from './support/export-folder.ts';
import { downloadPrefix, listKeys } from './support/lake.ts';
import { asLambdaRecords, createStreamTable, shardReader, type ShardReader } from './support/moto-stream.ts';
import { startMoto, type Moto } from './support/moto.ts';
import { motoMissing } from './support/tools.ts';

/**
 * The function's actions against moto: backfill (PITR export, one
 * invocation per data file, status), backfill plus stream giving exactly
 * the table's content, reflatten, and redrive of exhausted batches.
 */

const skipReason = motoMissing();
const BUCKET = 'lake-actions';
const context = { functionName: 'ddb-flatten-actions', awsRequestId: 'a' } as Context;
const tmp = mkdtempSync(join(tmpdir(), 'ddbf-actions-'));
let moto: Moto;
let ddb: DynamoDBClient;
let s3: S3Client;
let streams: DynamoDBStreamsClient;
let sqs: SQSClient;

beforeAll(async () => {
  if (skipReason) return;
  moto = await startMoto();
  ddb = new DynamoDBClient(moto.clientConfig);
  s3 = new S3Client(moto.clientConfig);
  streams = new DynamoDBStreamsClient(moto.clientConfig);
  sqs = new SQSClient(moto.clientConfig);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  await moto?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function pipeline(prefix: string, env: Record<string, string>) {
  const config = loadPipelineConfig({
    LAKE_BUCKET: BUCKET,
    LAKE_PREFIX: `${prefix}/flattened`,
    QUARANTINE_PREFIX: `${prefix}/quarantine`,
    EXPORT_PREFIX: `${prefix}/exports`,
    EXPLODE_ATTRIBUTES: 'items',
    PARTITION_KEY: 'pk',
    ...env,
  });
  const handler = createHandler({
    config,
    s3,
    sink: new S3Sink(s3, BUCKET),
    logger: new Logger({ logLevel: 'SILENT' }),
    writeMetrics: () => {},
    clients: async () => ({ ddb, streams, sqs, s3, glue: new GlueClient(moto.clientConfig), lambda: new LambdaClient(moto.clientConfig), ssm: new SSMClient(moto.clientConfig), athena: new AthenaClient(moto.clientConfig) }),
  });
  return { config, invoke: (event: unknown) => handler(event, context) as Promise<Record<string, unknown>> };
}

async function currentView(config: PipelineConfig, sql = 'SELECT pk, sk, attribute, item_index, key, value, value_type FROM current_state'): Promise<string[]> {
  const dir = mkdtempSync(join(tmp, 'lake-'));
  await downloadPrefix(s3, BUCKET, `${config.dataPrefix}/`, dir);
  return (await queryLakeFolder(dir, config.dataPrefix, config.flatten.carry, sql)).map((r) => JSON.stringify(r)).sort();
}

/** What the current view must equal: every item of a consistent Scan, flattened. */
async function scanAsRows(table: string, config: PipelineConfig): Promise<string[]> {
  const items = (await ddb.send(new ScanCommand({ TableName: table, ConsistentRead: true }))).Items as unknown as Item[];
  const batch = new RowBatch(config.flatten.carry);
  const flattener = new Flattener(config.flatten);
  for (const item of items) appendSnapshotItem(flattener, batch, item, 0, 'scan');
  return [...batch.rows()]
    .filter((r) => r.value_type !== 'ABSENT')
    .map((r) => JSON.stringify({ pk: r.pk, sk: r.sk, attribute: r.attribute, item_index: r.item_index, key: r.key, value: r.value, value_type: r.value_type }))
    .sort();
}

const order = (pk: string, ...skus: string[]): Record<string, unknown> => ({
  pk: { S: pk },
  items: { L: skus.map((sku, i) => ({ M: { sku: { S: sku }, qty: { N: String(i + 1) }, price: { N: '12345678901234567890123456789012345678' }, tags: { SS: ['a', 'b'] } } })) },
});

async function put(table: string, item: Record<string, unknown>): Promise<void> {
  await ddb.send(new PutItemCommand({ TableName: table, Item: item as never }));
}

async function feedStream(reader: ShardReader, streamArn: string, invoke: (e: unknown) => Promise<unknown>): Promise<number> {
  const records = await reader.next();
  for (let i = 0; i < records.length; i += 100) {
    const result = (await invoke({ Records: asLambdaRecords(records.slice(i, i + 100), streamArn) })) as { batchItemFailures: unknown[] };
    expect(result.batchItemFailures).toEqual([]);
  }
  return records.length;
}

/** The S3 notifications S3 would send for every data file under a prefix. */
async function dataFileNotifications(prefix: string): Promise<S3Event[]> {
  const keys = (await listKeys(s3, BUCKET, prefix)).filter((k) => k.includes('/data/'));
  return keys.map((key) => ({
    Records: [{ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { bucket: { name: BUCKET }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: 1 } } }],
  })) as unknown as S3Event[];
}

async function waitForExport(invoke: (e: unknown) => Promise<Record<string, unknown>>, exportArn: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const status = await invoke({ action: 'status', exportArn });
    if (status.exportStatus !== 'IN_PROGRESS') return status;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('export did not finish');
}

describe.skipIf(skipReason)('backfill', () => {
  it('gives, with the stream, exactly the table: items written before, during and after the export', async () => {
    const table = 'orders-backfill';
    const { tableArn, streamArn } = await createStreamTable(ddb, table);
    const { config, invoke } = pipeline('bf', { TABLE_ARN: tableArn, STREAM_ARN: streamArn });
    const reader = await shardReader(streams, streamArn);

    // Before the pipeline existed: only the backfill can bring these in.
    for (let i = 0; i < 30; i++) await put(table, order(`OLD${i}`, `S${i}`, `T${i}`));
    await put(table, { pk: { S: 'EMPTY' }, items: { L: [] } });
    await put(table, { pk: { S: 'NOATTR' }, note: { S: 'no items attribute' } });
    await reader.next(); // these stream records predate the trigger: never delivered

    // Stream traffic before the export: delivered and flattened.
    for (const pk of ['A1', 'A2', 'A3']) await put(table, order(pk, `${pk}-x`));
    await put(table, order('OLD0', 'replaced-before-export'));
    await ddb.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'OLD1' } } }));
    expect(await feedStream(reader, streamArn, invoke)).toBe(5);

    const started = await invoke({ action: 'backfill' });
    expect(started).toMatchObject({ exportStatus: expect.any(String), s3Uri: expect.stringMatching(/^s3:\/\/lake-actions\/bf\/exports\/t=\d{10}\/$/) });
    const exportArn = started.exportArn as string;

    // During and after the export.
    await put(table, order('A2', 'changed-after-export'));
    await ddb.send(new DeleteItemCommand({ TableName: table, Key: { pk: { S: 'OLD2' } } }));
    await ddb.send(new UpdateItemCommand({ TableName: table, Key: { pk: { S: 'OLD3' } }, UpdateExpression: 'REMOVE #i', ExpressionAttributeNames: { '#i': 'items' } }));
    await put(table, order('NEW1', 'n1', 'n2'));
    expect(await feedStream(reader, streamArn, invoke)).toBe(4);

    const before = await waitForExport(invoke, exportArn);
    expect(before).toMatchObject({ exportStatus: 'COMPLETED', dataFiles: 1, filesFlattened: 0, done: false });

    // S3 announces each data file; the alias flattens it (twice here: a redelivered notification).
    const notifications = await dataFileNotifications(`${config.actions.exportPrefix}/`);
    expect(notifications).toHaveLength(1);
    for (const n of [...notifications, ...notifications]) {
      const result = (await invoke(n)) as { files: { rows: number }[] };
      expect(result.files).toHaveLength(1);
    }

    const status = await invoke({ action: 'status', exportArn });
    expect(status).toMatchObject({ exportStatus: 'COMPLETED', dataFiles: 1, filesFlattened: 1, done: true, pending: [] });
    expect(status.itemsFlattened).toBeGreaterThanOrEqual(34);

    expect(await currentView(config)).toEqual(await scanAsRows(table, config));
    // The snapshot's copy of A2 lost to the later stream record.
    expect(await currentView(config, "SELECT value FROM current_state WHERE pk = 'A2' AND key = 'sku'")).toEqual(['{"value":"changed-after-export"}']);
  });

  it('flattens a multi-file export laid out exactly as AWS writes it, one file per invocation, idempotently', async () => {
    const { config, invoke } = pipeline('multi', {});
    const t = 1764237600;
    const root = `${config.actions.exportPrefix}/t=${t}/AWSDynamoDB/01764237600000-a1b2c3d4`;
    let n = 0;
    const folder = exportFolder({ keyPrefix: root, exportTime: new Date(t * 1000), files: Array.from({ length: 4 }, () => Array.from({ length: 250 }, () => order(`K${n++}`, 'x', 'y'))) });
    await uploadExportFolder(s3, BUCKET, root, folder);
    const files = folder.dataFiles.map((f) => `${root}/${f}`);
    const notifications = await dataFileNotifications(`${root}/`);
    expect(notifications).toHaveLength(4);
    await Promise.all(notifications.map((e) => invoke(e)));
    await invoke(notifications[2]); // a retried file overwrites its own object

    const objects = await listKeys(s3, BUCKET, `${config.dataPrefix}/`);
    expect(objects).toEqual(files.map((k) => `${config.dataPrefix}/dt=2025-11-27/snapshot-01764237600000-a1b2c3d4-${k.split('/').pop()!.replace('.json.gz', '')}.parquet`).sort());
    const [counts] = (await currentView(config, "SELECT count(*)::INTEGER AS n, count(DISTINCT pk)::INTEGER AS items, min(event_time) AS t, min(event_name) AS e FROM flattened")).map((r) => JSON.parse(r));
    expect(counts).toEqual({ n: 1000 * 2 * 5, items: 1000, t: '2025-11-27T10:00:00.000Z', e: 'SNAPSHOT' });
    const markers = await listKeys(s3, BUCKET, `${config.actions.exportPrefix}/t=${t}/ddb-flatten/`);
    expect(markers).toHaveLength(4);

    // Manifests and markers are not data files: a notification for one is ignored, not flattened.
    const ignored = (await invoke({ Records: [{ eventSource: 'aws:s3', s3: { bucket: { name: BUCKET }, object: { key: `${root}/manifest-summary.json` } } }] })) as { ignored: string[] };
    expect(ignored.ignored).toEqual([`${root}/manifest-summary.json`]);
  });

  it('names what is missing when the function has no table configured', async () => {
    const { invoke } = pipeline('nocfg', {});
    await expect(invoke({ action: 'backfill' })).rejects.toThrow(/the backfill action needs the environment variable TABLE_ARN/);
  });
});

describe.skipIf(skipReason)('reflatten', () => {
  it('re-reads the keys with BatchGetItem, writes SNAPSHOT rows and reports unknown keys', async () => {
    const table = 'orders-reflatten';
    const { tableArn } = await createStreamTable(ddb, table, 'sk');
    const { config, invoke } = pipeline('rf', { TABLE_ARN: tableArn, SORT_KEY: 'sk' });
    await put(table, { ...order('A1', 'a'), sk: { S: 'x' } });
    await put(table, { ...order('A2', 'b', 'c'), sk: { S: 'x' } });
    const result = await invoke({ action: 'reflatten', keys: [{ pk: 'A1', sk: 'x' }, { pk: 'A2', sk: { S: 'x' } }, { pk: 'A9', sk: 'nope' }, { pk: 'A1', sk: 'x' }] });
    expect(result).toMatchObject({ requested: 3, found: 2, unknownKeys: [{ pk: 'A9', sk: 'nope' }], rows: 5 * 1 + 5 * 2 + 1 });
    expect(await currentView(config)).toEqual(await scanAsRows(table, config));
  });

  it.each([
    [{ action: 'reflatten' }, /bad "reflatten" payload: keys must be a non-empty array/],
    [{ action: 'reflatten', keys: [{ pk: 'A1' }] }, /keys\[0\]\.sk is required: the table has the sort key "sk"/],
    [{ action: 'reflatten', keys: [{ pk: 5, sk: 'x' }] }, /keys\[0\]\.pk: write numbers as text \("5"\)/],
    [{ action: 'reflatten', keys: [{ pk: 'A', sk: 'x', extra: 1 }] }, /keys\[0\]\.extra is not a known field; allowed: pk, sk/],
    [{ action: 'reflatten', keys: [{ pk: { X: '1' }, sk: 'x' }] }, /keys\[0\]\.pk must be a string \(the table's S key\) or an AttributeValue/],
    [{ action: 'purge' }, /action must be one of backfill, status, reflatten, redrive, compact, checkpoint, erase, maintenance-task, got the string "purge"/],
    [{ action: 'status', exportArn: 'nope' }, /exportArn must be the ARN the backfill action returned/],
    [{ action: 'redrive', maxMessages: 0 }, /maxMessages must be a whole number from 1 to 100/],
    [{ hello: 'world' }, /unsupported event an object: expected a DynamoDB Streams batch/],
  ])('refuses %o with an error naming the field', async (payload, message) => {
    const { invoke } = pipeline('bad', { TABLE_ARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders', SORT_KEY: 'sk' });
    await expect(invoke(payload)).rejects.toThrow(message);
  });
});

describe.skipIf(skipReason)('redrive', () => {
  it('re-reads exhausted batches from the stream, writes them, and deletes only the messages it handled', async () => {
    const table = 'orders-redrive';
    const { streamArn } = await createStreamTable(ddb, table);
    const queueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: 'orders-redrive-dlq' }))).QueueUrl!;
    const { config, invoke } = pipeline('rd', { STREAM_ARN: streamArn, DLQ_URL: queueUrl.replace('localhost', '127.0.0.1') });
    for (let i = 0; i < 12; i++) await put(table, order(`R${i}`, `s${i}`));
    const reader = await shardReader(streams, streamArn);
    const records = await reader.next();
    expect(records).toHaveLength(12);

    // Lambda gave up on records 3..8: its on-failure record names the shard and the range.
    const failure = (start: number, end: number, arn = streamArn) =>
      JSON.stringify({
        requestContext: { requestId: 'r', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f:live', condition: 'RetryAttemptsExhausted', approximateInvokeCount: 4 },
        responseContext: { statusCode: 200, executedVersion: '3', functionError: 'Unhandled' },
        version: '1.0',
        timestamp: new Date().toISOString(),
        DDBStreamBatchInfo: {
          shardId: reader.shardId,
          startSequenceNumber: records[start]!.dynamodb!.SequenceNumber,
          endSequenceNumber: records[end]!.dynamodb!.SequenceNumber,
          approximateArrivalOfFirstRecord: new Date().toISOString(),
          approximateArrivalOfLastRecord: new Date().toISOString(),
          batchSize: end - start + 1,
          streamArn: arn,
        },
      });
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: failure(3, 8) }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: failure(0, 1, `${streamArn.replace(table, 'someone-else')}`) }));
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'not json' }));
    // An export file whose asynchronous invocation ran out of retries: its on-failure record carries the S3 event.
    const root = `${config.actions.exportPrefix}/t=1764237600/AWSDynamoDB/01764237600000-redrive1`;
    const folder = exportFolder({ keyPrefix: root, exportTime: new Date(1764237600_000), files: [[order('E1', 'e'), order('E2', 'f')]] });
    await uploadExportFolder(s3, BUCKET, root, folder);
    const [notification] = await dataFileNotifications(`${root}/`);
    await sqs.send(new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify({ version: '1.0', requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 }, requestPayload: notification, responseContext: { statusCode: 200, functionError: 'Unhandled' } }),
    }));

    // A maintenance task that ran out of retries: nothing to replay (the next run resumes its plan), only a hold on checkpoints to clear.
    await sqs.send(new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: JSON.stringify({ version: '1.0', requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 }, requestPayload: { action: 'maintenance-task', kind: 'compaction', plan: 'p', task: 0 }, responseContext: { statusCode: 200, functionError: 'Unhandled' } }),
    }));

    const result = await invoke({ action: 'redrive' });
    expect(result).toMatchObject({ messages: 5, deleted: 3, kept: 2, records: 6, rows: 6 * 5 + 2 * 5 });
    expect(result.outcomes).toContainEqual(expect.objectContaining({ deleted: true, range: 'maintenance-task (resumed by the next maintenance run)' }));
    const kept = (result.outcomes as { deleted: boolean; problem?: string }[]).filter((o) => !o.deleted).map((o) => o.problem);
    expect(kept).toEqual(expect.arrayContaining([expect.stringMatching(/not this pipeline's stream/), expect.stringMatching(/not JSON/)]));

    expect(await currentView(config, 'SELECT DISTINCT pk FROM current_state')).toEqual(['E1', 'E2', 'R3', 'R4', 'R5', 'R6', 'R7', 'R8'].map((pk) => JSON.stringify({ pk })));
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'] }));
    expect(Number(attrs.Attributes!.ApproximateNumberOfMessages) + Number(attrs.Attributes!.ApproximateNumberOfMessagesNotVisible)).toBe(2);
  });
});
