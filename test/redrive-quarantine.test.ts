import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { _Record } from '@aws-sdk/client-dynamodb-streams';
import { afterAll, describe, expect, it } from 'vitest';
import { asTriggerRecord } from '../src/actions/redrive.ts';
import { loadPipelineConfig } from '../src/config/pipeline-config.ts';
import { DirectorySink } from '../src/lake/sink.ts';
import { quarantine } from '../src/pipeline/quarantine.ts';
import { processStreamBatch } from '../src/pipeline/stream-batch.ts';
import type { StreamRecordLike } from '../src/flatten/stream-record.ts';
import { STREAM_ARN } from './support/stream-events.ts';

/**
 * Found by the soak (npm run soak): a poison record in a batch whose
 * retries ran out was quarantined by the trigger (its first write landed
 * before S3 failed) and again by the redrive, which re-reads the record
 * through the SDK (a Date for the time, Uint8Arrays for binaries, an
 * unknown type as $unknown, other key order). The quarantine key hashed the record's JSON and was dated by
 * the day of writing, so the two gave two objects for one record, and the
 * redrive's copy was not in the shape the handler takes. A record must
 * land on one object, however and whenever it is quarantined again.
 */

const tmp = mkdtempSync(join(tmpdir(), 'ddbf-redrive-quarantine-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const at = Date.UTC(2026, 10, 23, 23, 59, 58) / 1000;
const bytes = Uint8Array.from([0, 255, 1, 128]);

/** The poison record as the trigger delivers it (Lambda's JSON). */
const trigger: StreamRecordLike & Record<string, unknown> = {
  eventID: '9f3c0b0e8d1f4e2a',
  eventName: 'MODIFY',
  eventVersion: '1.1',
  eventSource: 'aws:dynamodb',
  awsRegion: 'us-east-1',
  dynamodb: {
    ApproximateCreationDateTime: at,
    Keys: { pk: { S: 'A1' } },
    NewImage: { pk: { S: 'A1' }, bin: { B: Buffer.from(bytes).toString('base64') }, items: { L: [{ M: { price: { Q: '1' } } }] } } as never,
    OldImage: { pk: { S: 'A1' }, bins: { BS: [Buffer.from(bytes).toString('base64')] }, items: { L: [] } } as never,
    SequenceNumber: '4421584500000000017450000123',
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  },
  eventSourceARN: STREAM_ARN,
};

/** The same record as GetRecords gives it through the SDK: keys in another order, a Date, Uint8Arrays, $unknown, no ARN. */
const fromSdk = {
  awsRegion: 'us-east-1',
  dynamodb: {
    ApproximateCreationDateTime: new Date(at * 1000),
    Keys: { pk: { S: 'A1' } },
    // The SDK keeps a type it does not know as $unknown.
    NewImage: { pk: { S: 'A1' }, bin: { B: bytes }, items: { L: [{ M: { price: { $unknown: ['Q', '1'] } } }] } },
    OldImage: { pk: { S: 'A1' }, bins: { BS: [bytes] }, items: { L: [] } },
    SequenceNumber: '4421584500000000017450000123',
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  },
  eventID: '9f3c0b0e8d1f4e2a',
  eventName: 'MODIFY',
  eventSource: 'aws:dynamodb',
  eventVersion: '1.1',
} as unknown as _Record;

describe('a poison record quarantined by the trigger and again by the redrive', () => {
  it('is re-read by the redrive as the trigger delivered it', () => {
    const reread = asTriggerRecord(fromSdk, STREAM_ARN);
    expect(reread).toEqual(trigger);
    expect(typeof reread.dynamodb!.ApproximateCreationDateTime).toBe('number');
  });

  it('lands on one object, even quarantined a day later from the SDK shape', async () => {
    const sink = new DirectorySink(join(tmp, 'direct'));
    const day = 86_400_000;
    const first = await quarantine(sink, 'quarantine', trigger, new Error('bad'), STREAM_ARN, at * 1000 + 5_000);
    const again = await quarantine(sink, 'quarantine', { ...fromSdk, eventSourceARN: STREAM_ARN }, new Error('bad'), STREAM_ARN, at * 1000 + day);
    expect(again).toBe(first);
    // Dated by the record, not by the day it was written: the batch's own partition day.
    expect(first).toMatch(/^quarantine\/dt=2026-11-23\/4421584500000000017450000123-[0-9a-f]{16}\.json$/);
  });

  it('through the batch logic: the trigger and the redrive leave one object holding the record as delivered', async () => {
    const root = join(tmp, 'batch');
    const config = loadPipelineConfig({ LAKE_BUCKET: 'lake', EXPLODE_ATTRIBUTES: 'items', PARTITION_KEY: 'pk' });
    const sink = new DirectorySink(root);
    const byTrigger = await processStreamBatch([trigger], { config, sink });
    const byRedrive = await processStreamBatch([asTriggerRecord(fromSdk, STREAM_ARN)], { config, sink });
    expect(byRedrive.quarantined).toEqual(byTrigger.quarantined);
    const dir = join(root, 'quarantine', 'dt=2026-11-23');
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(JSON.parse(readFileSync(join(dir, files[0]!), 'utf8')).record).toEqual(trigger);
  });

  it('still names records without a sequence number by their content', async () => {
    const sink = new DirectorySink(join(tmp, 'unsequenced'));
    const a = await quarantine(sink, 'q', { eventName: 'INSERT', dynamodb: { Keys: { pk: { S: 'x' } } } }, 'e', 'stream', 0);
    const b = await quarantine(sink, 'q', { eventName: 'INSERT', dynamodb: { Keys: { pk: { S: 'y' } } } }, 'e', 'stream', 0);
    expect(a).toMatch(/^q\/dt=1970-01-01\/unsequenced-[0-9a-f]{16}\.json$/);
    expect(b).not.toBe(a);
  });
});
