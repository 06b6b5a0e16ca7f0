import { randomBytes } from 'node:crypto';
import type { AttributeValue as SdkAttributeValue } from '@aws-sdk/client-dynamodb';
import type { AttributeValue as LambdaAttributeValue } from 'aws-lambda';
import { TTL_USER_IDENTITY } from '../flatten/stream-record.ts';
import type { TableKeys } from './local-dynamodb.ts';

/** An item as stream events carry it: wire JSON, B as base64 text (aws-lambda's AttributeValue). */
export type WireItem = Record<string, LambdaAttributeValue>;

/**
 * DynamoDB Streams records in the exact shape Lambda delivers them
 * (aws-lambda's DynamoDBRecord): built from the old and new images of a
 * write, which dynalite (no streams of its own) returns through ReturnValues
 * ALL_OLD and a consistent read.
 */

/** DynamoDB Streams' own event names. A Time to Live deletion is a REMOVE with a userIdentity; the lake writes its rows as EXPIRE. */
export type EventName = 'INSERT' | 'MODIFY' | 'REMOVE';

/** A DynamoDB Streams record as Lambda delivers it in event.Records. */
export interface StreamRecord {
  eventID: string;
  eventName: EventName;
  eventVersion: '1.1';
  eventSource: 'aws:dynamodb';
  awsRegion: string;
  dynamodb: {
    /** Epoch seconds. */
    ApproximateCreationDateTime: number;
    Keys: WireItem;
    NewImage?: WireItem;
    OldImage?: WireItem;
    SequenceNumber: string;
    SizeBytes: number;
    StreamViewType: 'NEW_AND_OLD_IMAGES';
  };
  eventSourceARN: string;
  /** Set by DynamoDB on a Time to Live deletion only: { type: "Service", principalId: "dynamodb.amazonaws.com" }. */
  userIdentity?: { type: string; principalId: string };
}

/** The stream ARN of a table, in AWS's format (the label is the stream's creation time). */
export function streamArn(region: string, account: string, table: string, createdAt: Date): string {
  return `arn:aws:dynamodb:${region}:${account}:table/${table}/stream/${createdAt.toISOString().replace(/Z$/, '')}`;
}

/** SDK AttributeValues (B as bytes, possible $unknown) as wire JSON (B as base64), which is what Lambda delivers. */
export function toWireItem(item: Record<string, SdkAttributeValue>): WireItem {
  return JSON.parse(
    JSON.stringify(item, (_key, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value)),
  ) as WireItem;
}

export function keysOf<T extends Record<string, unknown>>(item: T, keys: TableKeys): T {
  const out: Record<string, unknown> = {};
  for (const name of [keys.partitionKey, keys.sortKey]) {
    if (name === undefined) continue;
    const v = item[name];
    if (v === undefined) throw new Error(`item has no key attribute "${name}"`);
    out[name] = v;
  }
  return out as T;
}

/** Stable text of an item (map keys sorted), to tell a real change from a write of identical content. */
export function canonicalItem(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** DynamoDB's item size rules (attribute names plus values), used for SizeBytes. */
export function itemSizeBytes(item: WireItem | undefined): number {
  if (!item) return 0;
  let n = 0;
  for (const [name, av] of Object.entries(item)) n += Buffer.byteLength(name) + valueSize(av);
  return n;
}

function valueSize(av: LambdaAttributeValue): number {
  const [type, v] = Object.entries(av)[0] as [string, unknown];
  switch (type) {
    case 'S':
      return Buffer.byteLength(v as string);
    case 'N':
      return Math.ceil((v as string).replace(/^[-+]?0*|[eE].*$|\./g, '').length / 2) + 1;
    case 'B':
      return Buffer.byteLength(v as string, 'base64');
    case 'BOOL':
    case 'NULL':
      return 1;
    case 'SS':
      return (v as string[]).reduce((s, m) => s + Buffer.byteLength(m), 0);
    case 'NS':
      return (v as string[]).reduce((s, m) => s + valueSize({ N: m }), 0);
    case 'BS':
      return (v as string[]).reduce((s, m) => s + Buffer.byteLength(m, 'base64'), 0);
    case 'M':
      return 3 + Object.entries(v as WireItem).reduce((s, [k, x]) => s + Buffer.byteLength(k) + valueSize(x) + 1, 0);
    case 'L':
      return 3 + (v as LambdaAttributeValue[]).reduce((s, x) => s + valueSize(x) + 1, 0);
    default:
      return 0;
  }
}

export interface StreamSource {
  readonly region: string;
  readonly arn: string;
  readonly keys: TableKeys;
}

/**
 * Numbers a table's changes like a stream shard: sequence numbers are
 * 22+ digit decimals that only increase (seeded from the clock, so a later
 * run sorts after an earlier one) and each record gets a fresh eventID.
 */
export class StreamSequencer {
  private next: bigint;
  private readonly source: StreamSource;
  private readonly now: () => number;

  constructor(source: StreamSource, now: () => number = Date.now) {
    this.source = source;
    this.now = now;
    this.next = BigInt(now()) * 10n ** 9n;
  }

  /**
   * The record for one write, or undefined when the write changed nothing (DynamoDB Streams writes no record then).
   * `expired`: the deletion was Time to Live's, so the REMOVE carries DynamoDB's userIdentity.
   */
  record(oldImage: WireItem | undefined, newImage: WireItem | undefined, options: { expired?: boolean } = {}): StreamRecord | undefined {
    if (!oldImage && !newImage) return undefined;
    if (oldImage && newImage && canonicalItem(oldImage) === canonicalItem(newImage)) return undefined;
    const eventName: EventName = !oldImage ? 'INSERT' : !newImage ? 'REMOVE' : 'MODIFY';
    const keys = keysOf((newImage ?? oldImage)!, this.source.keys);
    this.next += 1n;
    const dynamodb: StreamRecord['dynamodb'] = {
      ApproximateCreationDateTime: Math.floor(this.now() / 1000),
      Keys: keys,
      ...(newImage ? { NewImage: newImage } : {}),
      ...(oldImage ? { OldImage: oldImage } : {}),
      SequenceNumber: this.next.toString(),
      SizeBytes: itemSizeBytes(keys) + itemSizeBytes(newImage) + itemSizeBytes(oldImage),
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    };
    return {
      eventID: randomBytes(16).toString('hex'),
      eventName,
      eventVersion: '1.1',
      eventSource: 'aws:dynamodb',
      awsRegion: this.source.region,
      dynamodb,
      eventSourceARN: this.source.arn,
      ...(options.expired && eventName === 'REMOVE' ? { userIdentity: { ...TTL_USER_IDENTITY } } : {}),
    };
  }
}
