import { shortHash } from '../lake/object-key.ts';
import type { LakeSink } from '../lake/sink.ts';
import { isSequenceNumber, utcDate } from '../flatten/flatten.ts';

/** A record that could not be flattened, kept whole with the reason so it can be fixed and replayed. */
export interface QuarantinedRecord {
  readonly error: string;
  readonly record: unknown;
  readonly source: string;
  readonly quarantinedAt: string;
}

/**
 * Writes the record to <prefix>/dt=<today>/<sequence>-<hash>.json. The name
 * depends only on the record, so quarantining it twice overwrites one object.
 */
export async function quarantine(sink: LakeSink, prefix: string, record: unknown, error: unknown, source: string, now = Date.now()): Promise<string> {
  const raw = safeJson(record);
  const sequence = sequenceOf(record);
  const name = `${sequence ?? 'unsequenced'}-${shortHash(raw)}`;
  const key = `${prefix}/dt=${utcDate(now)}/${name}.json`;
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

function safeJson(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
