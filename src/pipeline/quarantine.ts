import { shortHash } from '../lake/object-key.ts';
import type { LakeSink } from '../lake/sink.ts';
import { isSequenceNumber, utcDate } from '../flatten/flatten.ts';
import { eventTimeMs } from '../flatten/stream-record.ts';

/** A record that could not be flattened, kept whole with the reason so it can be fixed and replayed. */
export interface QuarantinedRecord {
  readonly error: string;
  readonly record: unknown;
  readonly source: string;
  readonly quarantinedAt: string;
}

/**
 * Writes the record to <prefix>/dt=<date>/<sequence>-<hash>.json. The key
 * depends only on which record it is, so quarantining it again (a retried
 * batch, or the redrive of an exhausted one, hours later and with the
 * record re-read from the stream) overwrites its one object: a stream
 * record is named by its source, eventID and sequence number, and dated by
 * its own creation time. Only a record without a sequence number is named
 * by a hash of its content, and one without a usable time is dated today.
 */
export async function quarantine(sink: LakeSink, prefix: string, record: unknown, error: unknown, source: string, now = Date.now()): Promise<string> {
  const raw = safeJson(record);
  const sequence = sequenceOf(record);
  const identity = sequence === undefined ? raw : `${source}/${String((record as { eventID?: unknown }).eventID ?? '')}/${sequence}`;
  const name = `${sequence ?? 'unsequenced'}-${shortHash(identity)}`;
  const key = `${prefix}/dt=${utcDate(createdAt(record) ?? now)}/${name}.json`;
  const body: QuarantinedRecord = {
    error: error instanceof Error ? error.message : String(error),
    record,
    source,
    quarantinedAt: new Date(now).toISOString(),
  };
  await sink.put(key, Buffer.from(JSON.stringify(body), 'utf8'), 'application/json');
  return key;
}

function sequenceOf(record: unknown): string | undefined {
  const seq = (record as { dynamodb?: { SequenceNumber?: unknown } } | null)?.dynamodb?.SequenceNumber;
  return isSequenceNumber(seq) ? seq : undefined;
}

/** The record's ApproximateCreationDateTime in epoch ms, if it has a usable one (a poison record may not). */
function createdAt(record: unknown): number | undefined {
  try {
    const ms = eventTimeMs((record as { dynamodb?: { ApproximateCreationDateTime?: unknown } } | null)?.dynamodb?.ApproximateCreationDateTime, 'quarantine');
    return ms >= 0 && ms < 253402300800000 ? ms : undefined; // years 1970 to 9999: a dt= the partition pattern accepts
  } catch {
    return undefined;
  }
}

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
