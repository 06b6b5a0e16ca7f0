import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createStreamHandler } from '../handlers/stream.ts';
import { loadPipelineConfig } from '../src/config/pipeline-config.ts';
import { Flattener } from '../src/flatten/flatten.ts';
import { RowBatch } from '../src/flatten/row-batch.ts';
import { appendStreamRecord, type StreamRecordLike } from '../src/flatten/stream-record.ts';
import { S3Sink, type LakeSink } from '../src/lake/sink.ts';
import { downloadPrefix, getBytes, listKeys } from './support/lake.ts';
import { startMoto, type Moto } from './support/moto.ts';
import { queryLakeFolder } from './support/duckdb.ts';
import { orderItem, seedItem, streamEvent, type Change } from './support/stream-events.ts';
import { motoMissing } from './support/tools.ts';

const BUCKET = 'lake-handler-test';
const env = { LAKE_BUCKET: BUCKET, EXPLODE_ATTRIBUTES: 'items', PARTITION_KEY: 'pk', CARRY_ATTRIBUTES: 'customer_id' };
const config = loadPipelineConfig(env);
const context = { functionName: 'ddb-flatten-test', awsRequestId: 'req-1', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;

const skipReason = motoMissing();
let moto: Moto;
let s3: S3Client;
const tmp = mkdtempSync(join(tmpdir(), 'ddbf-handler-'));

beforeAll(async () => {
  if (skipReason) return;
  moto = await startMoto();
  s3 = new S3Client(moto.clientConfig);
  await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
});
afterAll(async () => {
  await moto?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function quietLogger(): Logger {
  return new Logger({ serviceName: 'ddb-flatten-test', logLevel: 'SILENT' });
}

function handlerWith(sink: LakeSink, prefixOverride?: string) {
  const metrics: string[] = [];
  const logger = quietLogger();
  const cfg = prefixOverride ? loadPipelineConfig({ ...env, LAKE_PREFIX: prefixOverride, QUARANTINE_PREFIX: `${prefixOverride}-quarantine` }) : config;
  const handler = createStreamHandler({ config: cfg, sink, logger, writeMetrics: (l) => metrics.push(l) });
  return { handler, metrics, logger, config: cfg };
}

/** What the rows should be, from the engine in-process: the reference the lake must match. */
function expectedRows(event: DynamoDBStreamEvent): Record<string, unknown>[] {
  const batch = new RowBatch(config.flatten.carry);
  const flattener = new Flattener(config.flatten);
  event.Records.forEach((r, i) => appendStreamRecord(flattener, batch, r as unknown as StreamRecordLike, `r${i}`));
  return [...batch.rows()];
}

async function lakeRows(prefix: string, sql = 'SELECT * FROM flattened'): Promise<Record<string, unknown>[]> {
  const dir = mkdtempSync(join(tmp, 'lake-'));
  await downloadPrefix(s3, BUCKET, `${prefix}/`, dir);
  return queryLakeFolder(dir, prefix, config.flatten.carry, sql);
}

const sortRows = (rows: Record<string, unknown>[]) =>
  rows.map((r) => JSON.stringify(r, (_k, v) => (v instanceof Date ? v.toISOString() : v))).sort();

describe.skipIf(skipReason)('stream handler against moto S3', () => {
  let seq = 10n ** 24n;
  const change = (c: Omit<Change, 'sequence'>): Change => ({ ...c, sequence: seq++ });
  const at = 1764237600; // 2025-11-27T10:00:00Z

  it('writes INSERT, MODIFY and REMOVE as Parquet in the Hive layout, and the current view reflects them', async () => {
    const prefix = 'seed';
    const { handler } = handlerWith(new S3Sink(s3, BUCKET), prefix);
    const a1 = seedItem('A1', ['key1', 'value1'], ['key2', 'value2']);
    const a2 = seedItem('A2', ['key1', 'value3'], ['key2', 'value4']);
    const a3 = seedItem('A3', ['key1', 'value5'], ['key2', 'value6']);
    const a1v2 = seedItem('A1', ['key1', 'value1-updated']);
    const event = streamEvent([
      change({ eventName: 'INSERT', keys: { pk: a1.pk }, newImage: a1, at }),
      change({ eventName: 'INSERT', keys: { pk: a2.pk }, newImage: a2, at }),
      change({ eventName: 'INSERT', keys: { pk: a3.pk }, newImage: a3, at }),
      change({ eventName: 'MODIFY', keys: { pk: a1.pk }, newImage: a1v2, oldImage: a1, at: at + 1 }),
      change({ eventName: 'REMOVE', keys: { pk: a2.pk }, oldImage: a2, at: at + 2 }),
    ]);
    const response = await handler(event, context);
    expect(response).toEqual({ batchItemFailures: [] });

    const keys = await listKeys(s3, BUCKET, `${prefix}/`);
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatch(/^seed\/dt=2025-11-27\/\d+-\d+-[0-9a-f]{16}\.parquet$/);

    const all = await lakeRows(prefix);
    expect(sortRows(all)).toEqual(sortRows(expectedRows(event)));

    const current = await lakeRows(prefix, 'SELECT pk, key, value FROM current_state ORDER BY pk, item_index, key');
    expect(current).toEqual([
      { pk: 'A1', key: 'key1', value: 'value1-updated' },
      { pk: 'A3', key: 'key1', value: 'value5' },
      { pk: 'A3', key: 'key2', value: 'value6' },
    ]);
  });

  it('handles a batch of 10,000 records (about 6 MB) with one log line and one metrics line', async () => {
    const prefix = 'big';
    const sink = new S3Sink(s3, BUCKET);
    const { handler, metrics, logger } = handlerWith(sink, prefix);
    const info = vi.spyOn(logger, 'info');
    const warn = vi.spyOn(logger, 'warn');
    const changes = Array.from({ length: 10_000 }, (_, n) => {
      const item = orderItem(n, n % 3 === 0 ? 2 : 1);
      return change({ eventName: 'INSERT', keys: { pk: item.pk }, newImage: item, at: at + Math.floor(n / 100) });
    });
    const event = streamEvent(changes);
    const expectedLeaves = expectedRows(event).length;
    const payload = JSON.stringify(event).length;
    expect(payload).toBeGreaterThan(5_500_000);
    expect(payload).toBeLessThan(6_291_456); // Lambda's 6 MB invocation payload limit

    expect(await handler(event, context)).toEqual({ batchItemFailures: [] });
    expect(info).toHaveBeenCalledTimes(1);
    expect(warn).not.toHaveBeenCalled();
    expect(metrics).toHaveLength(1);
    const emf = JSON.parse(metrics[0]!);
    expect(emf).toMatchObject({ RecordsReceived: 10_000, RowsWritten: expectedLeaves, RecordsQuarantined: 0, BatchFailures: 0, FunctionName: 'ddb-flatten-test' });
    expect(emf._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string }) => m.Name)).toContain('RowsWritten');

    const rows = await lakeRows(prefix, 'SELECT count(*)::INTEGER AS n, count(DISTINCT pk)::INTEGER AS items FROM flattened');
    expect(rows).toEqual([{ n: expectedLeaves, items: 10_000 }]);
    expect(expectedLeaves).toBe((3334 * 2 + 6666) * 4);
  });

  it('overwrites its own object when the same batch is delivered again', async () => {
    const prefix = 'replay';
    const { handler } = handlerWith(new S3Sink(s3, BUCKET), prefix);
    const item = orderItem(1);
    const event = streamEvent([change({ eventName: 'INSERT', keys: { pk: item.pk }, newImage: item, at })]);
    await handler(event, context);
    const first = await listKeys(s3, BUCKET, `${prefix}/`);
    const firstBytes = await getBytes(s3, BUCKET, first[0]!);
    await handler(event, context);
    const second = await listKeys(s3, BUCKET, `${prefix}/`);
    expect(second).toEqual(first);
    expect(Buffer.from(await getBytes(s3, BUCKET, second[0]!)).equals(Buffer.from(firstBytes))).toBe(true);
    expect(await lakeRows(prefix, 'SELECT count(*)::INTEGER AS n FROM flattened')).toEqual([{ n: 5 * 4 }]);
  });

  it('reports the first record when a write fails, and the retry stores every row exactly once', async () => {
    const prefix = 'faults';
    const real = new S3Sink(s3, BUCKET);
    let puts = 0;
    // The second object of a two-day batch fails, after the first was stored.
    const flaky: LakeSink = {
      describe: (k) => real.describe(k),
      put: async (key, body, type) => {
        if (++puts === 2) throw Object.assign(new Error('We encountered an internal error. Please try again.'), { name: 'InternalError' });
        return real.put(key, body, type);
      },
    };
    const items = [orderItem(10), orderItem(11), orderItem(12)];
    const event = streamEvent([
      change({ eventName: 'INSERT', keys: { pk: items[0]!.pk }, newImage: items[0], at: at - 86_400 }),
      change({ eventName: 'INSERT', keys: { pk: items[1]!.pk }, newImage: items[1], at }),
      change({ eventName: 'MODIFY', keys: { pk: items[2]!.pk }, newImage: items[2], oldImage: items[2], at }),
    ]);
    const failing = handlerWith(flaky, prefix);
    const response = await failing.handler(event, context);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: event.Records[0]!.dynamodb!.SequenceNumber }] });
    expect(JSON.parse(failing.metrics[0]!)).toMatchObject({ BatchFailures: 1 });

    // Lambda retries from the reported record: the same batch, now with a healthy S3.
    const retry = handlerWith(real, prefix);
    expect(await retry.handler(event, context)).toEqual({ batchItemFailures: [] });
    const rows = await lakeRows(prefix);
    expect(sortRows(rows)).toEqual(sortRows(expectedRows(event)));
    expect(await listKeys(s3, BUCKET, `${prefix}/`)).toHaveLength(2);
  });

  it('quarantines a poison record with its error and writes the rest of the batch', async () => {
    const prefix = 'poison';
    const { handler, metrics } = handlerWith(new S3Sink(s3, BUCKET), prefix);
    const good = orderItem(20);
    const poison = { pk: { S: 'BAD' }, items: { L: [{ M: { price: { Q: '1' } } }] } };
    const tooLong = { pk: { S: 'BAD2' }, items: { L: [{ M: { price: { N: '1'.repeat(39) } } }] } };
    const malformed = { pk: { S: 'BAD3' }, items: 'not an AttributeValue' };
    const event = streamEvent([
      change({ eventName: 'INSERT', keys: { pk: good.pk }, newImage: good, at }),
      change({ eventName: 'INSERT', keys: { pk: poison.pk }, newImage: poison as never, at }),
      change({ eventName: 'INSERT', keys: { pk: tooLong.pk }, newImage: tooLong as never, at }),
      change({ eventName: 'MODIFY', keys: { pk: malformed.pk }, newImage: malformed as never, at }),
      change({ eventName: 'REMOVE', keys: { pk: good.pk }, oldImage: good, at: at + 1 }),
    ]);
    expect(await handler(event, context)).toEqual({ batchItemFailures: [] });
    const quarantined = await listKeys(s3, BUCKET, `${prefix}-quarantine/`);
    expect(quarantined).toHaveLength(3);
    const bodies = await Promise.all(quarantined.map(async (k) => JSON.parse(Buffer.from(await getBytes(s3, BUCKET, k)).toString('utf8'))));
    const bySequence = new Map(bodies.map((b) => [b.record.dynamodb.SequenceNumber, b]));
    const errorOf = (i: number) => bySequence.get(event.Records[i]!.dynamodb!.SequenceNumber)!.error;
    expect(errorOf(1)).toMatch(/attribute "items"\[0\]\.price: unknown type descriptor "Q"/);
    expect(errorOf(2)).toMatch(/attribute "items"\[0\]\.price: N "1{39}" has 39 significant digits/);
    expect(errorOf(3)).toMatch(/attribute "items": expected an AttributeValue object such as \{"S":"x"\}, got the string "not an AttributeValue"/);
    expect(bySequence.get(event.Records[1]!.dynamodb!.SequenceNumber)!.record).toEqual(event.Records[1]);
    expect(JSON.parse(metrics[0]!)).toMatchObject({ RecordsQuarantined: 3, RowsWritten: 5 * 4 + 1 });
    const rows = await lakeRows(prefix, 'SELECT DISTINCT pk, event_name FROM flattened ORDER BY event_name');
    expect(rows).toEqual([
      { pk: 'ORDER#20', event_name: 'INSERT' },
      { pk: 'ORDER#20', event_name: 'REMOVE' },
    ]);
  });
});
