import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTable, startLocalDynamoDB, type LocalDynamoDB } from '../src/local/local-dynamodb.ts';
import { RecordingTable } from '../src/local/recording-table.ts';
import { StreamSequencer, streamArn, type StreamRecord } from '../src/local/stream-events.ts';

/** The records npm start hands to the handler have the exact shape Lambda delivers. */

const RECORD_KEYS = ['eventID', 'eventName', 'eventVersion', 'eventSource', 'awsRegion', 'dynamodb', 'eventSourceARN'];
const NOW = Date.UTC(2024, 4, 1, 12, 0, 0, 750);
const ARN = streamArn('us-east-1', '000000000000', 'orders', new Date(Date.UTC(2024, 0, 1)));

let db: LocalDynamoDB;
let table: RecordingTable;

beforeAll(async () => {
  db = await startLocalDynamoDB();
  const keys = { partitionKey: 'pk', sortKey: 'sk' };
  await createTable(db.client, 'orders', keys);
  table = new RecordingTable(db.client, 'orders', keys, new StreamSequencer({ region: 'us-east-1', arn: ARN, keys }, () => NOW));
});

afterAll(async () => {
  await db?.close();
});

function checkEnvelope(record: StreamRecord): void {
  const typed: DynamoDBRecord = record; // assignable to aws-lambda's own type
  expect(Object.keys(typed)).toEqual(RECORD_KEYS);
  expect(record.eventID).toMatch(/^[0-9a-f]{32}$/);
  expect(record).toMatchObject({ eventVersion: '1.1', eventSource: 'aws:dynamodb', awsRegion: 'us-east-1', eventSourceARN: ARN });
  expect(record.dynamodb.ApproximateCreationDateTime).toBe(Math.floor(NOW / 1000)); // epoch seconds
  expect(record.dynamodb.SequenceNumber).toMatch(/^\d{21,}$/);
  expect(record.dynamodb.SizeBytes).toBeGreaterThan(0);
  expect(record.dynamodb.StreamViewType).toBe('NEW_AND_OLD_IMAGES');
}

describe('recorded stream records', () => {
  it('INSERT, MODIFY and REMOVE carry the images DynamoDB Streams would, in its key order', async () => {
    const item = { pk: { S: 'A1' }, sk: { S: 'x' }, items: { L: [{ M: { key1: { S: 'value1' } } }] }, blob: { B: 'AAEC' } };
    await table.put(item);
    await table.put(item); // identical content: DynamoDB Streams writes no record
    await table.update({ pk: { S: 'A1' }, sk: { S: 'x' } }, { UpdateExpression: 'SET qty = :q', ExpressionAttributeValues: { ':q': { N: '12.50' } } });
    await table.delete({ pk: { S: 'A1' }, sk: { S: 'x' } });
    await table.delete({ pk: { S: 'A1' }, sk: { S: 'x' } }); // nothing to delete: no record
    const records = table.take();
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    records.forEach(checkEnvelope);
    const [insert, modify, remove] = records as [StreamRecord, StreamRecord, StreamRecord];

    const keys = { pk: { S: 'A1' }, sk: { S: 'x' } };
    expect(Object.keys(insert.dynamodb)).toEqual(['ApproximateCreationDateTime', 'Keys', 'NewImage', 'SequenceNumber', 'SizeBytes', 'StreamViewType']);
    expect(insert.dynamodb.Keys).toEqual(keys);
    expect(insert.dynamodb.NewImage).toEqual(item); // B comes back as base64 text, as in a real event

    expect(Object.keys(modify.dynamodb)).toEqual(['ApproximateCreationDateTime', 'Keys', 'NewImage', 'OldImage', 'SequenceNumber', 'SizeBytes', 'StreamViewType']);
    expect(modify.dynamodb.OldImage).toEqual(item);
    expect(modify.dynamodb.NewImage).toEqual({ ...item, qty: { N: '12.5' } }); // DynamoDB normalises numbers

    expect(Object.keys(remove.dynamodb)).toEqual(['ApproximateCreationDateTime', 'Keys', 'OldImage', 'SequenceNumber', 'SizeBytes', 'StreamViewType']);
    expect(remove.dynamodb.OldImage).toEqual(modify.dynamodb.NewImage);

    const sequences = records.map((r) => BigInt(r.dynamodb.SequenceNumber));
    expect(sequences[0]! < sequences[1]! && sequences[1]! < sequences[2]!).toBe(true);
    expect(new Set(records.map((r) => r.eventID)).size).toBe(3);
  });

  it('putMany records INSERT for new keys and MODIFY with the old image for existing ones, in item order', async () => {
    await table.put({ pk: { S: 'B1' }, sk: { S: '1' }, v: { S: 'old' } });
    table.take();
    const items = Array.from({ length: 130 }, (_, i) => ({ pk: { S: `B${i}` }, sk: { S: '1' }, v: { S: 'new' } }));
    await table.putMany(items);
    const records = table.take();
    expect(records).toHaveLength(130);
    records.forEach(checkEnvelope);
    expect(records.map((r) => r.dynamodb.Keys.pk)).toEqual(items.map((i) => i.pk));
    expect(records.filter((r) => r.eventName === 'MODIFY').map((r) => r.dynamodb.OldImage)).toEqual([{ pk: { S: 'B1' }, sk: { S: '1' }, v: { S: 'old' } }]);
    expect(records.filter((r) => r.eventName === 'INSERT')).toHaveLength(129);
    await expect(table.putMany([items[0]!, items[0]!])).rejects.toThrow('distinct keys');
  });

  it("expire() records a Time to Live deletion: a REMOVE with DynamoDB's userIdentity, after the envelope's keys", async () => {
    await table.put({ pk: { S: 'T1' }, sk: { S: 'x' }, expires_at: { N: '1714564800' } });
    table.take();
    await table.expire({ pk: { S: 'T1' }, sk: { S: 'x' } });
    await table.delete({ pk: { S: 'T1' }, sk: { S: 'x' } }); // already gone: no record
    const [expired, ...rest] = table.take();
    expect(rest).toEqual([]);
    const typed: DynamoDBRecord = expired!;
    expect(Object.keys(typed)).toEqual([...RECORD_KEYS, 'userIdentity']);
    const { userIdentity, ...envelope } = expired!;
    checkEnvelope(envelope);
    expect(userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
    expect(expired).toMatchObject({ eventName: 'REMOVE', userIdentity: { type: 'Service', principalId: 'dynamodb.amazonaws.com' } });
    expect(expired!.dynamodb.OldImage).toEqual({ pk: { S: 'T1' }, sk: { S: 'x' }, expires_at: { N: '1714564800' } });
  });

  it('take(n) hands out records oldest first, in Lambda-sized batches', async () => {
    await table.putMany(Array.from({ length: 5 }, (_, i) => ({ pk: { S: `C${i}` }, sk: { S: '1' } })));
    expect(table.pendingCount).toBe(5);
    expect(table.take(2).map((r) => r.dynamodb.Keys.pk)).toEqual([{ S: 'C0' }, { S: 'C1' }]);
    expect(table.take(10).map((r) => r.dynamodb.Keys.pk)).toEqual([{ S: 'C2' }, { S: 'C3' }, { S: 'C4' }]);
    expect(table.pendingCount).toBe(0);
  });
});
