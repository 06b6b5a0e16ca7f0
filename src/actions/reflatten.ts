import { BatchGetItemCommand, type BatchGetItemCommandOutput, type DynamoDBClient, type KeysAndAttributes } from '@aws-sdk/client-dynamodb';
import type { PipelineConfig } from '../config/pipeline-config.ts';
import type { Item } from '../flatten/attribute-value.ts';
import { Flattener, keyText } from '../flatten/flatten.ts';
import { RowBatch } from '../flatten/row-batch.ts';
import { appendSnapshotItem, snapshotTimeMs } from '../flatten/stream-record.ts';
import { writeBatchToLake, type WrittenObject } from '../lake/lake-writer.ts';
import { shortHash } from '../lake/object-key.ts';
import type { LakeSink } from '../lake/sink.ts';
import { ActionConfigError } from './errors.ts';
import type { ItemKey } from './payload.ts';

export interface ReflattenResult {
  readonly requested: number;
  readonly found: number;
  /** Keys with no item in the table: reported, and written as ABSENT so the current view drops stale rows. */
  readonly unknownKeys: readonly Record<string, string>[];
  readonly rows: number;
  readonly objects: readonly WrittenObject[];
  readonly snapshotTime: string;
}

const BATCH_GET_LIMIT = 100;
const MAX_ROUNDS = 8;

/** Stable identity of a key, for matching BatchGetItem answers to requests. */
function keyId(key: Item, config: PipelineConfig): string {
  const { partitionKey, sortKey } = config.flatten;
  return JSON.stringify([keyText(key[partitionKey], partitionKey, 'key'), sortKey === undefined ? null : keyText(key[sortKey], sortKey, 'key')]);
}

function plainKey(key: Item, config: PipelineConfig): Record<string, string> {
  const { partitionKey, sortKey } = config.flatten;
  const out: Record<string, string> = { pk: keyText(key[partitionKey], partitionKey, 'key') };
  if (sortKey !== undefined) out.sk = keyText(key[sortKey], sortKey, 'key');
  return out;
}

/** Strongly consistent reads of the keys, retrying unprocessed keys with backoff. */
async function readItems(ddb: DynamoDBClient, tableName: string, keys: readonly ItemKey[], sleep: (ms: number) => Promise<void>): Promise<Item[]> {
  const items: Item[] = [];
  for (let start = 0; start < keys.length; start += BATCH_GET_LIMIT) {
    let request: KeysAndAttributes | undefined = { Keys: keys.slice(start, start + BATCH_GET_LIMIT) as KeysAndAttributes['Keys'], ConsistentRead: true };
    for (let round = 0; request?.Keys?.length; round++) {
      if (round === MAX_ROUNDS) throw new Error(`DynamoDB left ${request.Keys.length} keys unprocessed after ${MAX_ROUNDS} attempts (throttling); retry the reflatten`);
      if (round > 0) await sleep(50 * 2 ** round);
      const answer: BatchGetItemCommandOutput = await ddb.send(new BatchGetItemCommand({ RequestItems: { [tableName]: request } }));
      items.push(...((answer.Responses?.[tableName] ?? []) as unknown as Item[]));
      request = answer.UnprocessedKeys?.[tableName];
    }
  }
  return items;
}

/**
 * Re-flattens the given items on demand: reads them with BatchGetItem
 * (consistent) and writes SNAPSHOT rows stamped now. A key with no item is
 * reported back and written as ABSENT rows, so the current view stops
 * showing an item the lake still had.
 */
export async function reflatten(
  ddb: DynamoDBClient,
  sink: LakeSink,
  config: PipelineConfig,
  keys: readonly ItemKey[],
  now = Date.now,
  sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms)),
): Promise<ReflattenResult> {
  const tableArn = config.actions.tableArn;
  if (!tableArn) throw new ActionConfigError('reflatten', 'TABLE_ARN');
  const tableName = tableArn.slice(tableArn.indexOf(':table/') + ':table/'.length);

  const unique = new Map<string, ItemKey>();
  for (const k of keys) unique.set(keyId(k as Item, config), k);
  const found = new Map<string, Item>();
  for (const item of await readItems(ddb, tableName, [...unique.values()], sleep)) found.set(keyId(item, config), item);

  const at = snapshotTimeMs(now());
  const flattener = new Flattener(config.flatten);
  const batch = new RowBatch(config.flatten.carry);
  const unknownKeys: Record<string, string>[] = [];
  for (const [id, key] of unique) {
    const item = found.get(id);
    if (!item) unknownKeys.push(plainKey(key as Item, config));
    appendSnapshotItem(flattener, batch, item ?? (key as Item), at, `reflatten ${id}`);
  }
  const name = `reflatten-${at / 1000}-${shortHash(...unique.keys())}`;
  const objects = await writeBatchToLake(sink, config.dataPrefix, batch, name);
  return { requested: unique.size, found: found.size, unknownKeys, rows: batch.length, objects, snapshotTime: new Date(at).toISOString() };
}
