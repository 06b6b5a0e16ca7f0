import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { DynamoDBRecord } from 'aws-lambda';
import { sequenceOf, shardOfId, ShardWorkload, STREAM_ARN, type WorkloadOptions } from './workload.ts';

/**
 * The soak's DynamoDB stream, for the redrive action: GetShardIterator and
 * GetRecords over HTTP (the DynamoDB Streams JSON protocol), answering
 * from the workload itself. The redrive action gets a real
 * DynamoDBStreamsClient pointed here, so its records go through the SDK's
 * own deserialisation (Date times, Uint8Array binaries) exactly as from AWS.
 *
 * Why not moto's DynamoDB Streams: its records come from writes to its
 * table, one PutItem per record, far too slow for a million records, and
 * its sequence numbers and times are its own, not the ones the event
 * source mapping model delivered. The workload is deterministic, so a
 * shard replayed from its start gives the records it gave the first time;
 * plan steps without building images make that replay cheap.
 */

/** What one GetRecords call returns at most, as DynamoDB Streams does (1,000 records or 1 MB). */
const PAGE_RECORDS = 1000;
const PAGE_BYTES = 1024 * 1024;

interface Cursor {
  readonly shard: number;
  readonly workload: ShardWorkload;
}

export interface StreamServer {
  readonly endpoint: string;
  /** GetRecords calls answered and records served. */
  readonly served: { getRecords: number; records: number };
  close(): Promise<void>;
}

/** The record as GetRecords has it on the wire: no eventSourceARN (Lambda adds that). */
function wireRecord(record: DynamoDBRecord): Record<string, unknown> {
  const { eventSourceARN: _arn, ...rest } = record;
  return rest;
}

export async function startStreamServer(options: WorkloadOptions): Promise<StreamServer> {
  const iterators = new Map<string, Cursor>();
  const served = { getRecords: 0, records: 0 };

  const issue = (cursor: Cursor): string => {
    const token = `${cursor.shard}|${cursor.workload.position}|${randomUUID()}`;
    iterators.set(token, cursor);
    return token;
  };

  const getShardIterator = (input: Record<string, string>): unknown => {
    if (input.StreamArn !== STREAM_ARN) throw apiError(400, 'ResourceNotFoundException', `Requested resource not found: Stream: ${input.StreamArn} not found`);
    const shard = shardOfId(input.ShardId ?? '');
    if (shard === undefined || shard >= options.shards) throw apiError(400, 'ResourceNotFoundException', `Requested resource not found: Shard: ${input.ShardId} in Stream: ${STREAM_ARN} not found`);
    const workload = new ShardWorkload(options, shard);
    if (input.ShardIteratorType === 'AT_SEQUENCE_NUMBER' || input.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER') {
      if (!/^\d{1,40}$/.test(input.SequenceNumber ?? '')) throw apiError(400, 'ValidationException', `SequenceNumber ${input.SequenceNumber} is not a sequence number`);
      const target = BigInt(input.SequenceNumber!);
      const S = BigInt(options.shards);
      const offset = target - sequenceOf(options, shard, 0);
      // The first record at (or after) the sequence number; plan the records before it without building them.
      let j = offset <= 0n ? 0 : Number((offset + S - 1n) / S);
      if (input.ShardIteratorType === 'AFTER_SEQUENCE_NUMBER' && sequenceOf(options, shard, j) === target) j++;
      workload.skipTo(j);
    } else if (input.ShardIteratorType !== 'TRIM_HORIZON') {
      throw apiError(400, 'ValidationException', `ShardIteratorType ${input.ShardIteratorType} is not served by the soak stream`);
    }
    return { ShardIterator: issue({ shard, workload }) };
  };

  const getRecords = (input: { ShardIterator?: string; Limit?: number }): unknown => {
    const cursor = iterators.get(input.ShardIterator ?? '');
    if (!cursor) throw apiError(400, 'ExpiredIteratorException', 'Iterator expired or unknown');
    iterators.delete(input.ShardIterator!);
    served.getRecords++;
    const limit = Math.min(PAGE_RECORDS, input.Limit ?? PAGE_RECORDS);
    const records: Record<string, unknown>[] = [];
    let bytes = 0;
    while (records.length < limit && bytes < PAGE_BYTES) {
      const planned = cursor.workload.plan();
      if (!planned) break;
      const record = cursor.workload.build(planned);
      bytes += Number(record.dynamodb!.SizeBytes ?? 0);
      records.push(wireRecord(record));
    }
    served.records += records.length;
    // The shard is still open (the table keeps being written): there is always a next iterator.
    return { Records: records, NextShardIterator: issue(cursor) };
  };

  const server = createServer((req, res) => void answer(req, res));
  const answer = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const target = String(req.headers['x-amz-target'] ?? '');
    try {
      const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
      const body =
        target === 'DynamoDBStreams_20120810.GetShardIterator' ? getShardIterator(input) : target === 'DynamoDBStreams_20120810.GetRecords' ? getRecords(input) : undefined;
      if (body === undefined) throw apiError(400, 'UnknownOperationException', `${target} is not served by the soak stream`);
      send(res, 200, body);
    } catch (error) {
      const e = error as ApiError;
      send(res, e.status ?? 500, { __type: `com.amazonaws.dynamodb.v20120810#${e.code ?? 'InternalServerError'}`, message: e.message });
    }
  };

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    endpoint: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
    served,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface ApiError extends Error {
  status?: number;
  code?: string;
}

function apiError(status: number, code: string, message: string): ApiError {
  return Object.assign(new Error(message), { status, code });
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
