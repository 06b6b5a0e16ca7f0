import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateContinuousBackupsCommand,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
  type DynamoDBStreamsClient,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';

/** A table with a NEW_AND_OLD_IMAGES stream and PITR, as the module creates it. Returns its ARNs. */
export async function createStreamTable(ddb: DynamoDBClient, name: string, sortKey?: string): Promise<{ tableArn: string; streamArn: string }> {
  await ddb.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }, ...(sortKey ? [{ AttributeName: sortKey, AttributeType: 'S' as const }] : [])],
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }, ...(sortKey ? [{ AttributeName: sortKey, KeyType: 'RANGE' as const }] : [])],
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  await ddb.send(new UpdateContinuousBackupsCommand({ TableName: name, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true } }));
  const table = (await ddb.send(new DescribeTableCommand({ TableName: name }))).Table!;
  return { tableArn: table.TableArn!, streamArn: table.LatestStreamArn! };
}

export interface ShardReader {
  readonly shardId: string;
  /** Records written since the last call, in the shape GetRecords returns them. */
  next(): Promise<_Record[]>;
}

/** Reads the (single) shard of a stream from TRIM_HORIZON onwards, as Lambda's poller does. */
export async function shardReader(streams: DynamoDBStreamsClient, streamArn: string): Promise<ShardReader> {
  const description = (await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }))).StreamDescription!;
  const shardId = description.Shards![0]!.ShardId!;
  let iterator = (await streams.send(new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
  return {
    shardId,
    async next() {
      const out: _Record[] = [];
      for (;;) {
        const page = await streams.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        out.push(...(page.Records ?? []));
        iterator = page.NextShardIterator;
        if (!page.Records?.length) return out;
      }
    },
  };
}

/** GetRecords records as a Lambda event carries them (with the stream ARN). */
export function asLambdaRecords(records: readonly _Record[], streamArn: string): DynamoDBRecord[] {
  return records.map((r) => ({ ...(r as unknown as DynamoDBRecord), eventSourceARN: streamArn }));
}
