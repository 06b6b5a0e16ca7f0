import { EXPIRED_EVENT } from '../schema/row-schema.ts';
import { describe, FlattenError, type Item } from './attribute-value.ts';
import { Flattener, padSequence, SNAPSHOT_SEQUENCE } from './flatten.ts';
import type { RowBatch } from './row-batch.ts';

/**
 * Who made a change, as a stream record says it: Lambda delivers `{ type, principalId }`,
 * GetRecords through the SDK `{ Type, PrincipalId }`. Only Time to Live deletions carry one
 * (a DeleteItem's REMOVE has none).
 */
export interface StreamUserIdentity {
  type?: string;
  principalId?: string;
  Type?: string;
  PrincipalId?: string;
}

/**
 * The userIdentity of a Time to Live deletion. AWS, "DynamoDB Streams and Time to Live"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html):
 * items deleted by the Time to Live process after expiration have Records[<index>].userIdentity.type
 * "Service" and Records[<index>].userIdentity.principalId "dynamodb.amazonaws.com". (In a global table
 * only the Region where TTL deleted the item sets it; a replica's stream shows a plain REMOVE.)
 */
export const TTL_USER_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' } as const;

/** Whether a record's userIdentity is DynamoDB's own Time to Live process, in either spelling. */
export function isTtlDeletion(identity: StreamUserIdentity | null | undefined): boolean {
  if (identity === null || typeof identity !== 'object') return false;
  const type = identity.type ?? identity.Type;
  const principal = identity.principalId ?? identity.PrincipalId;
  return type === TTL_USER_IDENTITY.type && principal === TTL_USER_IDENTITY.principalId;
}

/**
 * A DynamoDB Streams record as Lambda delivers it (ApproximateCreationDateTime
 * in epoch seconds) or as GetRecords returns it through the SDK (a Date).
 */
export interface StreamRecordLike {
  eventID?: string;
  eventName?: string;
  eventSourceARN?: string;
  /** Set on a Time to Live deletion only (TTL_USER_IDENTITY). */
  userIdentity?: StreamUserIdentity | null;
  dynamodb?: {
    ApproximateCreationDateTime?: number | Date | string;
    Keys?: Item;
    NewImage?: Item;
    OldImage?: Item;
    SequenceNumber?: string;
    StreamViewType?: string;
  };
}

export function eventTimeMs(value: unknown, where: string): number {
  let ms: number;
  if (typeof value === 'number') ms = value * 1000;
  else if (value instanceof Date) ms = value.getTime();
  else if (typeof value === 'string' && value.trim() !== '') ms = Date.parse(value);
  else ms = Number.NaN;
  if (!Number.isFinite(ms)) {
    throw new FlattenError(`ApproximateCreationDateTime must be epoch seconds or a date, got ${describe(value)}`, where);
  }
  return Math.round(ms);
}

/**
 * Appends the rows of one stream record: the new image for INSERT/MODIFY, tombstones for REMOVE. A REMOVE
 * by Time to Live (its userIdentity is TTL_USER_IDENTITY) gives EXPIRE rows instead: the old image
 * flattened as an image, so the lake keeps what expired, or tombstones when the stream carries no old
 * image (KEYS_ONLY, NEW_IMAGE).
 */
export function appendStreamRecord(flattener: Flattener, batch: RowBatch, record: StreamRecordLike, where: string): void {
  const ddb = record?.dynamodb;
  if (!ddb || typeof ddb !== 'object') throw new FlattenError('the record has no "dynamodb" section', where);
  const eventName = record.eventName;
  const stamp = {
    eventTime: eventTimeMs(ddb.ApproximateCreationDateTime, where),
    sequence: padSequence(ddb.SequenceNumber, `${where} SequenceNumber`),
  };
  const keys = ddb.Keys;
  if (!keys || typeof keys !== 'object') throw new FlattenError('the record has no Keys', where);
  switch (eventName) {
    case 'INSERT':
    case 'MODIFY':
      if (!ddb.NewImage) {
        throw new FlattenError(
          `${eventName} without NewImage: the stream view type must be NEW_AND_OLD_IMAGES or NEW_IMAGE (got ${ddb.StreamViewType ?? 'none'})`,
          where,
        );
      }
      flattener.appendImage(batch, ddb.NewImage, { ...stamp, eventName }, where, keys);
      return;
    case 'REMOVE':
      if (isTtlDeletion(record.userIdentity)) {
        if (ddb.OldImage) flattener.appendImage(batch, ddb.OldImage, { ...stamp, eventName: EXPIRED_EVENT }, where, keys);
        else flattener.appendTombstone(batch, keys, undefined, { ...stamp, eventName: EXPIRED_EVENT }, where);
        return;
      }
      flattener.appendTombstone(batch, keys, ddb.OldImage, { ...stamp, eventName }, where);
      return;
    default:
      throw new FlattenError(`eventName must be INSERT, MODIFY or REMOVE, got ${describe(eventName)}`, where);
  }
}

/** Snapshot time floored to the second, so a stream record of the same second sorts after it. */
export function snapshotTimeMs(at: Date | number): number {
  const ms = at instanceof Date ? at.getTime() : at;
  return Math.floor(ms / 1000) * 1000;
}

/** Appends the rows of an item read outside the stream (export file, BatchGetItem, CLI). */
export function appendSnapshotItem(flattener: Flattener, batch: RowBatch, item: Item, snapshotMs: number, where: string): void {
  flattener.appendImage(batch, item, { eventName: 'SNAPSHOT', eventTime: snapshotMs, sequence: SNAPSHOT_SEQUENCE }, where);
}
