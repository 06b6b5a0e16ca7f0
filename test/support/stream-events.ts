import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import type { Item } from '../../src/flatten/attribute-value.ts';

export const STREAM_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/orders/stream/2026-11-27T00:00:00.000';

export interface Change {
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly keys: Item;
  readonly newImage?: Item;
  readonly oldImage?: Item;
  /** Epoch seconds. */
  readonly at: number;
  readonly sequence: bigint;
  /** The record's SizeBytes when the caller knows it; otherwise the image's JSON length. */
  readonly sizeBytes?: number;
  /** The record's userIdentity: set by DynamoDB on a Time to Live deletion only (AWS_TTL_USER_IDENTITY). */
  readonly userIdentity?: Readonly<Record<string, string>>;
}

/**
 * The userIdentity of a REMOVE made by Time to Live, verbatim from AWS's "DynamoDB Streams and Time to
 * Live" (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html),
 * "the relevant portion of a single streams record":
 *   "Records": [ { ... "userIdentity": { "type": "Service", "principalId": "dynamodb.amazonaws.com" } ... } ]
 * A DeleteItem's REMOVE has no userIdentity.
 */
export const AWS_TTL_USER_IDENTITY = JSON.parse('{ "type": "Service", "principalId": "dynamodb.amazonaws.com" }') as Readonly<Record<string, string>>;

/** A DynamoDB Streams record exactly as Lambda delivers it (NEW_AND_OLD_IMAGES). */
export function streamRecord(change: Change): DynamoDBRecord {
  const dynamodb: Record<string, unknown> = {
    ApproximateCreationDateTime: change.at,
    Keys: change.keys,
    SequenceNumber: change.sequence.toString(),
    SizeBytes: change.sizeBytes ?? JSON.stringify(change.newImage ?? change.oldImage ?? change.keys).length,
    StreamViewType: 'NEW_AND_OLD_IMAGES',
  };
  if (change.newImage) dynamodb.NewImage = change.newImage;
  if (change.oldImage) dynamodb.OldImage = change.oldImage;
  return {
    eventID: `${change.sequence.toString(16)}`,
    eventName: change.eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    dynamodb: dynamodb as DynamoDBRecord['dynamodb'],
    eventSourceARN: STREAM_ARN,
    ...(change.userIdentity ? { userIdentity: { ...change.userIdentity } } : {}),
  };
}

export function streamEvent(changes: readonly Change[]): DynamoDBStreamEvent {
  return { Records: changes.map(streamRecord) };
}

/** The seed's items, in DynamoDB JSON. */
export function seedItem(pk: string, ...pairs: [string, string][]): Item {
  return { pk: { S: pk }, items: { L: pairs.map(([k, v]) => ({ M: { [k]: { S: v } } })) } };
}

/** A realistic order: a list of maps with a few hundred bytes of values. */
export function orderItem(n: number, lines = 5): Item {
  const L = Array.from({ length: lines }, (_, j) => ({
    M: {
      sku: { S: `SKU-${(n * 7 + j) % 5000}` },
      qty: { N: String(((n + j) % 17) + 1) },
      price: { N: `${(n % 997) + j}.${(n + j) % 100}` },
      gift: { BOOL: j % 2 === 0 },
    },
  }));
  return { pk: { S: `ORDER#${n}` }, customer_id: { S: `C${n % 100}` }, items: { L } };
}
