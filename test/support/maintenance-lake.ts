import { cpSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DynamoDBRecord } from 'aws-lambda';
import { loadPipelineConfig, type PipelineConfig } from '../../src/config/pipeline-config.ts';
import type { Item } from '../../src/flatten/attribute-value.ts';
import type { StreamRecordLike } from '../../src/flatten/stream-record.ts';
import type { LakeStore, StoredObject } from '../../src/lake/lake-store.ts';
import { DirectorySink } from '../../src/lake/sink.ts';
import { processStreamBatch } from '../../src/pipeline/stream-batch.ts';
import { rowColumnNames } from '../../src/schema/row-schema.ts';
import { DuckDbLake } from '../../src/sql/duckdb-lake.ts';
import { orderItem, streamRecord, type Change } from './stream-events.ts';

/**
 * A lake folder written the way the Lambda writes it (the real stream batch
 * code), with what maintenance must cope with: many small objects, items
 * updated, removed and re-inserted, batches written twice under different
 * names (a bisected retry), traffic crossing midnight, a carried column.
 */

export const LAKE_ENV = {
  LAKE_BUCKET: 'maintenance-test',
  LAKE_PREFIX: 'flattened',
  QUARANTINE_PREFIX: 'quarantine',
  EXPLODE_ATTRIBUTES: 'items',
  PARTITION_KEY: 'pk',
  CARRY_ATTRIBUTES: 'customer_id',
} as const;

export const lakeConfig = (): PipelineConfig => loadPipelineConfig(LAKE_ENV);

function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32);
}

export interface Workload {
  readonly records: DynamoDBRecord[];
  /** The table as it is after every record: pk -> item. */
  readonly table: Map<string, Item>;
}

/** Changes over `keys` items, `perDay` per day from `startDay` (UTC), crossing midnight. */
export function workload(changes: number, keys: number, seed: number, startMs = Date.UTC(2026, 10, 20), spreadMs = 86_400_000): Workload {
  const rnd = random(seed);
  const table = new Map<string, Item>();
  const records: DynamoDBRecord[] = [];
  let sequence = 4_421_584_500_000_000_017_450_000_000n;
  for (let i = 0; i < changes; i++) {
    const pk = `K${Math.floor(rnd() * keys)}`;
    const old = table.get(pk);
    const at = Math.floor((startMs + (i * spreadMs) / changes) / 1000);
    let change: Change;
    if (old && rnd() < 0.25) {
      table.delete(pk);
      change = { eventName: 'REMOVE', keys: { pk: { S: pk } }, oldImage: old, at, sequence: sequence++ };
    } else {
      const next: Item = { ...orderItem(i, Math.floor(rnd() * 4)), pk: { S: pk } };
      table.set(pk, next);
      change = { eventName: old ? 'MODIFY' : 'INSERT', keys: { pk: { S: pk } }, newImage: next, oldImage: old, at, sequence: sequence++ };
    }
    records.push(streamRecord(change));
  }
  return { records, table };
}

/**
 * Writes the records in batches of `batchSize` as the stream handler does;
 * every `duplicateEvery`-th batch is also written again as its two halves
 * (what a bisected retry leaves: the same rows under other names).
 */
export async function writeStream(root: string, records: readonly DynamoDBRecord[], batchSize: number, duplicateEvery = 5): Promise<void> {
  const config = lakeConfig();
  const sink = new DirectorySink(root);
  for (let i = 0, b = 0; i < records.length; i += batchSize, b++) {
    const batch = records.slice(i, i + batchSize) as unknown as StreamRecordLike[];
    await processStreamBatch(batch, { config, sink });
    if (duplicateEvery > 0 && b % duplicateEvery === 0 && batch.length > 1) {
      const half = Math.ceil(batch.length / 2);
      await processStreamBatch(batch.slice(0, half), { config, sink });
      await processStreamBatch(batch.slice(half), { config, sink });
    }
  }
}

export function copyLake(root: string): string {
  const copy = mkdtempSync(join(tmpdir(), 'ddbf-lake-copy-'));
  cpSync(root, copy, { recursive: true });
  return copy;
}

const COLUMNS = rowColumnNames(['customer_id']);

/** The current-state view's rows (the row's own columns), as sorted JSON lines: what a reader sees. */
export async function currentState(root: string): Promise<string[]> {
  const lake = await DuckDbLake.open({ root, carried: ['customer_id'] });
  try {
    const rows = await lake.query(`SELECT ${COLUMNS.join(', ')} FROM current_state`);
    return rows.map((r) => JSON.stringify(r, (_k, v) => (v instanceof Date ? v.toISOString() : v))).sort();
  } finally {
    lake.close();
  }
}

/** The distinct rows of the flattened table, as sorted JSON lines. */
export async function distinctRows(root: string): Promise<string[]> {
  const lake = await DuckDbLake.open({ root, carried: ['customer_id'] });
  try {
    const rows = await lake.query(`SELECT DISTINCT ${COLUMNS.join(', ')} FROM flattened`);
    return rows.map((r) => JSON.stringify(r, (_k, v) => (v instanceof Date ? v.toISOString() : v))).sort();
  } finally {
    lake.close();
  }
}

/**
 * A store that fails on the n-th change it is asked to make (a write, a
 * stream's commit, a delete): a crash between two steps. `onWrite` sees every
 * completed write (to race a writer against the job), `onRead` every ranged read.
 */
export class CrashingStore implements LakeStore {
  changes = 0;
  private readonly inner: LakeStore;
  private readonly crashAt: number;
  private readonly onWrite?: (key: string) => Promise<void>;
  private readonly onRead?: (key: string, bytes: number) => void;
  constructor(inner: LakeStore, crashAt: number, onWrite?: (key: string) => Promise<void>, onRead?: (key: string, bytes: number) => void) {
    this.inner = inner;
    this.crashAt = crashAt;
    this.onWrite = onWrite;
    this.onRead = onRead;
  }
  private async step(what: string): Promise<void> {
    if (++this.changes === this.crashAt) throw new Error(`crash before change ${this.changes} (${what})`);
  }
  describe(key: string): string {
    return this.inner.describe(key);
  }
  list(prefix: string): Promise<StoredObject[]> {
    return this.inner.list(prefix);
  }
  folders(prefix: string): Promise<string[]> {
    return this.inner.folders(prefix);
  }
  read(key: string): Promise<Uint8Array | undefined> {
    return this.inner.read(key);
  }
  async readRange(key: string, start: number, end: number): Promise<Uint8Array> {
    const bytes = await this.inner.readRange(key, start, end);
    this.onRead?.(key, bytes.byteLength);
    return bytes;
  }
  async write(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    await this.step(`write ${key}`);
    await this.inner.write(key, body, contentType);
    await this.onWrite?.(key);
  }
  async output(key: string, contentType: string) {
    const out = await this.inner.output(key, contentType);
    return {
      ...out,
      name: out.name,
      streaming: out.streaming,
      write: (c: Buffer | string) => out.write(c),
      abort: () => out.abort(),
      abortSync: () => out.abortSync(),
      commit: async () => {
        await this.step(`commit ${key}`);
        await out.commit();
        await this.onWrite?.(key);
      },
    };
  }
  get listVersions(): LakeStore['listVersions'] {
    return this.inner.listVersions?.bind(this.inner);
  }
  get deleteVersions(): LakeStore['deleteVersions'] {
    const inner = this.inner.deleteVersions?.bind(this.inner);
    return inner
      ? async (versions) => {
          await this.step(`delete ${versions.length} version(s)`);
          await inner(versions);
        }
      : undefined;
  }
  async copy(from: StoredObject, to: string): Promise<void> {
    await this.step(`copy ${from.key} to ${to}`);
    await this.inner.copy(from, to);
    await this.onWrite?.(to);
  }
  async delete(keys: readonly string[]): Promise<void> {
    // A crash partway through a delete: the first key goes, then the failure.
    if (keys.length > 1 && this.changes + 1 === this.crashAt) await this.inner.delete(keys.slice(0, 1));
    await this.step(`delete ${keys.length} object(s)`);
    await this.inner.delete(keys);
  }
}
