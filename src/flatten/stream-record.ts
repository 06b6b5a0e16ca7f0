import { describe, FlattenError, type Item } from './attribute-value.ts';
import { Flattener, padSequence, SNAPSHOT_SEQUENCE } from './flatten.ts';
import type { RowBatch } from './row-batch.ts';

/**
 * A DynamoDB Streams record as Lambda delivers it (ApproximateCreationDateTime
 * in epoch seconds) or as GetRecords returns it through the SDK (a Date).
 */
export interface StreamRecordLike {
  eventID?: string;
  eventName?: string;
  eventSourceARN?: string;
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

/** Appends the rows of one stream record: the new image for INSERT/MODIFY, tombstones for REMOVE. */
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
