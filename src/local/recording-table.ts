import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue as SdkAttributeValue,
  type BatchGetItemCommandOutput,
  type BatchWriteItemCommandOutput,
  type DynamoDBClient,
  type UpdateItemCommandInput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { Item } from '../flatten/attribute-value.ts';
import { canonicalItem, keysOf, toWireItem, type StreamRecord, type StreamSequencer, type WireItem } from './stream-events.ts';
import type { TableKeys } from './local-dynamodb.ts';
import { chunks } from '../util/chunks.ts';
import { mapLimit } from '../util/map-limit.ts';

type SdkItem = Record<string, SdkAttributeValue>;

/**
 * A DynamoDB table written through the real SDK client, recording each
 * write as the stream record DynamoDB Streams would emit: the old image
 * from ReturnValues ALL_OLD (or a consistent read before a batch write),
 * the new image from a consistent read after it. Correct for one writer,
 * which npm start is.
 */
export class RecordingTable {
  readonly name: string;
  readonly keys: TableKeys;
  private readonly client: DynamoDBClient;
  private readonly sequencer: StreamSequencer;
  private readonly pending: StreamRecord[] = [];

  constructor(client: DynamoDBClient, name: string, keys: TableKeys, sequencer: StreamSequencer) {
    this.client = client;
    this.name = name;
    this.keys = keys;
    this.sequencer = sequencer;
  }

  /** Records not yet taken. */
  get pendingCount(): number {
    return this.pending.length;
  }

  /** Takes up to `max` records, oldest first (one Lambda batch). */
  take(max = Number.POSITIVE_INFINITY): StreamRecord[] {
    return this.pending.splice(0, Math.min(max, this.pending.length));
  }

  async put(item: Item): Promise<void> {
    const out = await this.client.send(new PutItemCommand({ TableName: this.name, Item: item as SdkItem, ReturnValues: 'ALL_OLD' }));
    await this.recordWrite(keysOf(item, this.keys), out.Attributes);
  }

  async update(key: Item, input: Omit<UpdateItemCommandInput, 'TableName' | 'Key' | 'ReturnValues'>): Promise<void> {
    const out = await this.client.send(new UpdateItemCommand({ ...input, TableName: this.name, Key: key as SdkItem, ReturnValues: 'ALL_OLD' }));
    await this.recordWrite(key, out.Attributes);
  }

  async delete(key: Item): Promise<void> {
    const out = await this.client.send(new DeleteItemCommand({ TableName: this.name, Key: key as SdkItem, ReturnValues: 'ALL_OLD' }));
    this.push(wire(out.Attributes), undefined);
  }

  /**
   * Deletes an item as Time to Live's background process does: the same deletion, recorded as a REMOVE
   * that carries DynamoDB's userIdentity (the lake writes it as EXPIRE rows of the old image).
   */
  async expire(key: Item): Promise<void> {
    const out = await this.client.send(new DeleteItemCommand({ TableName: this.name, Key: key as SdkItem, ReturnValues: 'ALL_OLD' }));
    this.push(wire(out.Attributes), undefined, { expired: true });
  }

  /**
   * Puts many items with distinct keys: a consistent BatchGetItem for the
   * old images, BatchWriteItem (25 per request), then BatchGetItem for the
   * new images. Records come out in the order of `items`.
   */
  async putMany(items: readonly Item[], concurrency = 8): Promise<void> {
    const keys = items.map((item) => keysOf(item, this.keys));
    const ids = keys.map(canonicalItem);
    if (new Set(ids).size !== ids.length) throw new Error('putMany needs items with distinct keys');
    const before = await this.getMany(keys, concurrency);
    await mapLimit(chunks(items, 25), concurrency, (group) => this.batchWrite(group.map((item) => ({ PutRequest: { Item: item as SdkItem } }))));
    const after = await this.getMany(keys, concurrency);
    for (const id of ids) this.push(before.get(id), after.get(id));
  }

  private async recordWrite(key: Item, oldAttributes: SdkItem | undefined): Promise<void> {
    const current = await this.client.send(new GetItemCommand({ TableName: this.name, Key: key as SdkItem, ConsistentRead: true }));
    this.push(wire(oldAttributes), wire(current.Item));
  }

  private push(oldImage: WireItem | undefined, newImage: WireItem | undefined, options: { expired?: boolean } = {}): void {
    const record = this.sequencer.record(oldImage, newImage, options);
    if (record) this.pending.push(record);
  }

  private async batchWrite(requests: WriteRequest[]): Promise<void> {
    let unprocessed: WriteRequest[] | undefined = requests;
    for (let attempt = 0; unprocessed && unprocessed.length > 0; attempt++) {
      if (attempt > 10) throw new Error(`BatchWriteItem left ${unprocessed.length} items unprocessed after ${attempt} attempts`);
      const out: BatchWriteItemCommandOutput = await this.client.send(new BatchWriteItemCommand({ RequestItems: { [this.name]: unprocessed } }));
      unprocessed = out.UnprocessedItems?.[this.name];
    }
  }

  /** Consistent reads of many keys (100 per request); the map is keyed by canonicalItem(key). */
  private async getMany(keys: readonly Item[], concurrency: number): Promise<Map<string, WireItem>> {
    const found = new Map<string, WireItem>();
    await mapLimit(chunks(keys, 100), concurrency, async (group) => {
      let pending: SdkItem[] | undefined = group as SdkItem[];
      for (let attempt = 0; pending && pending.length > 0; attempt++) {
        if (attempt > 10) throw new Error(`BatchGetItem left ${pending.length} keys unprocessed after ${attempt} attempts`);
        const out: BatchGetItemCommandOutput = await this.client.send(new BatchGetItemCommand({ RequestItems: { [this.name]: { Keys: pending, ConsistentRead: true } } }));
        for (const raw of out.Responses?.[this.name] ?? []) {
          const item = toWireItem(raw);
          found.set(canonicalItem(keysOf(item, this.keys)), item);
        }
        pending = out.UnprocessedKeys?.[this.name]?.Keys;
      }
    });
    return found;
  }
}

function wire(item: SdkItem | undefined): WireItem | undefined {
  return item ? toWireItem(item) : undefined;
}

