import { DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { GetRecordsCommand, GetShardIteratorCommand, type DynamoDBStreamsClient, type _Record } from '@aws-sdk/client-dynamodb-streams';
import type { PipelineConfig } from '../config/pipeline-config.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import { notificationKey, parseExportDataKey } from '../backfill/export-layout.ts';
import { flattenExportFile } from '../backfill/flatten-export-file.ts';
import { isSequenceNumber } from '../flatten/flatten.ts';
import type { StreamRecordLike } from '../flatten/stream-record.ts';
import type { LakeSink } from '../lake/sink.ts';
import { processStreamBatch } from '../pipeline/stream-batch.ts';
import { ActionConfigError } from './errors.ts';
import { MAINTENANCE_ACTIONS } from './payload.ts';

/**
 * The on-failure message Lambda sends for a DynamoDB Streams batch whose
 * retries ran out: it names the shard and the sequence range, not the
 * records, which stay readable in the stream for 24 hours.
 */
export interface StreamBatchInfo {
  readonly shardId: string;
  readonly startSequenceNumber: string;
  readonly endSequenceNumber: string;
  readonly streamArn: string;
  readonly batchSize?: number;
}

export interface RedriveOutcome {
  readonly messageId: string;
  readonly shardId?: string;
  readonly range?: string;
  readonly records: number;
  readonly rows: number;
  readonly quarantined: number;
  /** Deleted from the queue (handled), or kept with the reason. */
  readonly deleted: boolean;
  readonly problem?: string;
}

export interface RedriveResult {
  readonly messages: number;
  readonly deleted: number;
  readonly kept: number;
  readonly records: number;
  readonly rows: number;
  readonly outcomes: readonly RedriveOutcome[];
}

export function parseFailureMessage(body: string | undefined): StreamBatchInfo {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    throw new Error('the message is not JSON: not a Lambda on-failure record');
  }
  const info = (parsed as { DDBStreamBatchInfo?: Partial<StreamBatchInfo> } | null)?.DDBStreamBatchInfo;
  const ok = (v: unknown) => typeof v === 'string' && v.length > 0;
  if (!info || !ok(info.shardId) || !isSequenceNumber(info.startSequenceNumber) || !isSequenceNumber(info.endSequenceNumber) || !ok(info.streamArn)) {
    throw new Error('the message has no valid DDBStreamBatchInfo (shardId, startSequenceNumber, endSequenceNumber, streamArn): not a DynamoDB Streams on-failure record');
  }
  return info as StreamBatchInfo;
}

/**
 * A GetRecords record as the stream trigger delivers it: the time in epoch
 * seconds, binary values as base64 (the SDK gives a Date and Uint8Arrays)
 * and a type the SDK does not know as it came ({"Q":…}, not the SDK's
 * {"$unknown":["Q",…]}), with the stream's ARN. A redriven batch is then
 * the batch the trigger saw, and a poison record quarantined again is
 * stored the same way, ready to be replayed through the handler.
 */
export function asTriggerRecord(record: _Record, streamArn: string): StreamRecordLike {
  const json = JSON.stringify(record, function (this: Record<string, unknown>, key, value) {
    const original = this[key];
    if (original instanceof Date) return original.getTime() / 1000;
    if (original instanceof Uint8Array) return Buffer.from(original).toString('base64');
    const unknown = (value as { $unknown?: unknown } | null)?.$unknown;
    if (Array.isArray(unknown) && unknown.length === 2 && typeof unknown[0] === 'string' && Object.keys(value as object).length === 1) return { [unknown[0]]: unknown[1] };
    return value;
  });
  return { ...(JSON.parse(json) as StreamRecordLike), eventSourceARN: streamArn };
}

/** Reads the records of [start, end] from the shard, while they are still within the stream's retention. */
export async function readRange(streams: DynamoDBStreamsClient, info: StreamBatchInfo): Promise<StreamRecordLike[]> {
  const end = BigInt(info.endSequenceNumber);
  const start = BigInt(info.startSequenceNumber);
  const first = await streams.send(
    new GetShardIteratorCommand({ StreamArn: info.streamArn, ShardId: info.shardId, ShardIteratorType: 'AT_SEQUENCE_NUMBER', SequenceNumber: info.startSequenceNumber }),
  );
  const records: StreamRecordLike[] = [];
  let iterator = first.ShardIterator;
  for (let emptyReads = 0; iterator && emptyReads < 3; ) {
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
    const got = (page.Records ?? []) as _Record[];
    if (got.length === 0) emptyReads++;
    for (const r of got) {
      const seq = BigInt(r.dynamodb?.SequenceNumber ?? '0');
      if (seq > end) return records;
      if (seq >= start) records.push(asTriggerRecord(r, info.streamArn));
    }
    iterator = page.NextShardIterator;
  }
  return records;
}

/**
 * Redrives exhausted stream batches: for each on-failure message, re-reads
 * the named range from the stream, runs it through the same batch logic as
 * the stream trigger (rows, or quarantine for poison records), and deletes
 * the message only when everything was stored. Messages it cannot handle
 * (records past retention, another pipeline's stream) are kept and reported.
 */
export interface RedriveClients {
  readonly sqs: SQSClient;
  readonly streams: DynamoDBStreamsClient;
  readonly s3: S3Client;
}

export async function redrive(clients: RedriveClients, sink: LakeSink, config: PipelineConfig, maxMessages: number): Promise<RedriveResult> {
  const { sqs } = clients;
  const queueUrl = config.actions.dlqUrl;
  if (!queueUrl) throw new ActionConfigError('redrive', 'DLQ_URL');
  const outcomes: RedriveOutcome[] = [];
  const seen = new Set<string>();
  while (outcomes.length < maxMessages) {
    const received = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: Math.min(10, maxMessages - outcomes.length), WaitTimeSeconds: 0, VisibilityTimeout: 300 }),
    );
    const messages = (received.Messages ?? []).filter((m) => !seen.has(m.MessageId!));
    if (messages.length === 0) break;
    for (const message of messages) {
      seen.add(message.MessageId!);
      outcomes.push(await redriveOne(clients, sink, config, queueUrl, message.MessageId!, message.ReceiptHandle!, message.Body));
    }
  }
  return {
    messages: outcomes.length,
    deleted: outcomes.filter((o) => o.deleted).length,
    kept: outcomes.filter((o) => !o.deleted).length,
    records: outcomes.reduce((n, o) => n + o.records, 0),
    rows: outcomes.reduce((n, o) => n + o.rows, 0),
    outcomes,
  };
}

/** The S3 keys of an asynchronous invocation's on-failure record (a backfill export file), if that is what it is. */
export function failedExportFiles(body: string | undefined): string[] | undefined {
  let parsed: { requestPayload?: { Records?: { eventSource?: string; s3?: { object?: { key?: string } } }[] } };
  try {
    parsed = JSON.parse(body ?? '');
  } catch {
    return undefined;
  }
  const records = parsed?.requestPayload?.Records;
  if (!Array.isArray(records) || records.length === 0 || !records.every((r) => r?.eventSource === 'aws:s3')) return undefined;
  return records.map((r) => notificationKey(String(r.s3?.object?.key ?? '')));
}

/** The maintenance action of an asynchronous invocation's on-failure record (a scheduled run or one of its tasks), if that is what it is. */
export function failedMaintenanceAction(body: string | undefined): string | undefined {
  try {
    const action = (JSON.parse(body ?? '') as { requestPayload?: { action?: unknown } })?.requestPayload?.action;
    return typeof action === 'string' && MAINTENANCE_ACTIONS.includes(action as (typeof MAINTENANCE_ACTIONS)[number]) ? action : undefined;
  } catch {
    return undefined;
  }
}

async function redriveOne(
  clients: RedriveClients,
  sink: LakeSink,
  config: PipelineConfig,
  queueUrl: string,
  messageId: string,
  receipt: string,
  body: string | undefined,
): Promise<RedriveOutcome> {
  const { sqs, streams } = clients;
  const kept = (problem: string, extra: Partial<RedriveOutcome> = {}): RedriveOutcome => ({ messageId, records: 0, rows: 0, quarantined: 0, deleted: false, problem, ...extra });
  const maintenance = failedMaintenanceAction(body);
  if (maintenance) {
    // A maintenance run or task that ran out of retries wrote nothing it cannot redo: its plan stays in the
    // lake, and the next run (the schedule, or {"action":"compact"}) finishes it. Nothing to replay here;
    // the message only held checkpoints back (see dlqHold).
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }));
    return { messageId, range: `${maintenance} (resumed by the next maintenance run)`, records: 0, rows: 0, quarantined: 0, deleted: true };
  }
  const exportFiles = failedExportFiles(body);
  if (exportFiles) {
    // A backfill export file whose asynchronous invocation ran out of retries: flatten it again (its object is replaced).
    let rows = 0;
    for (const key of exportFiles) {
      const file = parseExportDataKey(key, config.actions.exportPrefix);
      if (!file) return kept(`${key} is not an export data file of this pipeline (${config.actions.exportPrefix}/t=<time>/AWSDynamoDB/<id>/data/…)`);
      try {
        rows += (await flattenExportFile(clients.s3, config, file)).rows;
      } catch (error) {
        return kept(`re-flattening ${key} failed: ${(error as Error).message}`, { rows });
      }
    }
    await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }));
    return { messageId, range: exportFiles.join(', '), records: 0, rows, quarantined: 0, deleted: true };
  }
  let info: StreamBatchInfo;
  try {
    info = parseFailureMessage(body);
  } catch (error) {
    return kept((error as Error).message);
  }
  const range = `${info.startSequenceNumber}..${info.endSequenceNumber}`;
  if (config.actions.streamArn && info.streamArn !== config.actions.streamArn) {
    return kept(`the failure is from ${info.streamArn}, not this pipeline's stream ${config.actions.streamArn}`, { shardId: info.shardId, range });
  }
  let records: StreamRecordLike[];
  try {
    records = await readRange(streams, info);
  } catch (error) {
    const name = (error as Error).name;
    const why = name === 'TrimmedDataAccessException' || name === 'ResourceNotFoundException' ? 'the records are past the stream\'s 24-hour retention or the shard is gone' : (error as Error).message;
    return kept(`cannot re-read ${range} from ${info.shardId}: ${why}`, { shardId: info.shardId, range });
  }
  if (records.length === 0) return kept(`no records of ${range} are left in ${info.shardId} (past retention?)`, { shardId: info.shardId, range });
  const outcome = await processStreamBatch(records, { config, sink });
  if (outcome.failure) return kept(`writing failed: ${outcome.failure}`, { shardId: info.shardId, range, records: records.length });
  await sqs.send(new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: receipt }));
  return { messageId, shardId: info.shardId, range, records: records.length, rows: outcome.rows, quarantined: outcome.quarantined.length, deleted: true };
}
