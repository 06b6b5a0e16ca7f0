import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMaintenance } from '../src/actions/maintenance.ts';
import type { Item } from '../src/flatten/attribute-value.ts';
import { FolderStore } from '../src/lake/lake-store.ts';
import { expiredItemsColumns } from '../src/schema/row-schema.ts';
import { DuckDbLake } from '../src/sql/duckdb-lake.ts';
import { lakeEngine } from './support/engines.ts';
import { lakeConfig, writeStream } from './support/maintenance-lake.ts';
import { AWS_TTL_USER_IDENTITY, streamRecord, type Change } from './support/stream-events.ts';

/**
 * Time to Live in the lake, end to end through the real stream batch code and the views as DuckDB runs
 * them (the SQL Athena runs): an item Time to Live deleted (a REMOVE with AWS's userIdentity) leaves the
 * current state and is in expired_items as its last version; an item deleted by a user is in neither; an
 * item written again after it expired is back in the current state and out of expired_items. After the
 * maintenance run writes a checkpoint (which leaves expired items out), expired_items still has them: it
 * reads the days.
 */

const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 10, 20);
const at = (day: number, hour: number): number => Math.floor((START + day * DAY_MS + hour * 3_600_000) / 1000);
const item = (pk: string, sku: string, qty: string): Item => ({ pk: { S: pk }, customer_id: { S: `C-${pk}` }, expires_at: { N: '1795000000' }, items: { L: [{ M: { sku: { S: sku }, qty: { N: qty } } }] } });
const keys = (pk: string): Item => ({ pk: { S: pk } });

let sequence = 4_421_584_500_000_000_017_450_000_000n;
const change = (c: Omit<Change, 'sequence'>): Change => ({ ...c, sequence: sequence++ });
const CHANGES: Change[] = [
  // SESSION-1: written, changed, then expired: its last version is the changed one, as it expired.
  change({ eventName: 'INSERT', keys: keys('SESSION-1'), newImage: item('SESSION-1', 'a', '1'), at: at(0, 9) }),
  change({ eventName: 'MODIFY', keys: keys('SESSION-1'), oldImage: item('SESSION-1', 'a', '1'), newImage: item('SESSION-1', 'a', '2'), at: at(0, 10) }),
  change({ eventName: 'REMOVE', keys: keys('SESSION-1'), oldImage: item('SESSION-1', 'a', '2'), at: at(1, 3), userIdentity: AWS_TTL_USER_IDENTITY }),
  // SESSION-2: expired, then written again under the same key: live again.
  change({ eventName: 'INSERT', keys: keys('SESSION-2'), newImage: item('SESSION-2', 'b', '5'), at: at(0, 11) }),
  change({ eventName: 'REMOVE', keys: keys('SESSION-2'), oldImage: item('SESSION-2', 'b', '5'), at: at(1, 4), userIdentity: AWS_TTL_USER_IDENTITY }),
  change({ eventName: 'INSERT', keys: keys('SESSION-2'), newImage: item('SESSION-2', 'c', '7'), at: at(1, 5) }),
  // ORDER-3: deleted by a user (no userIdentity): gone, and not an expiry.
  change({ eventName: 'INSERT', keys: keys('ORDER-3'), newImage: item('ORDER-3', 'd', '1'), at: at(0, 12) }),
  change({ eventName: 'REMOVE', keys: keys('ORDER-3'), oldImage: item('ORDER-3', 'd', '1'), at: at(1, 6) }),
  // ORDER-4: live.
  change({ eventName: 'INSERT', keys: keys('ORDER-4'), newImage: item('ORDER-4', 'e', '3'), at: at(1, 7) }),
];

const COLUMNS = ['pk', 'key', 'value', 'value_type', 'event_name', 'customer_id', 'dt', 'value_number'];
const rows = async (lake: DuckDbLake, view: string): Promise<unknown[][]> =>
  (await lake.query(`SELECT ${COLUMNS.join(', ')} FROM ${view} ORDER BY pk, key`)).map((r) => COLUMNS.map((c) => r[c] ?? null));

const EXPIRED_SESSION_1 = [
  ['SESSION-1', 'qty', '2', 'N', 'EXPIRE', 'C-SESSION-1', '2026-11-21', 2],
  ['SESSION-1', 'sku', 'a', 'S', 'EXPIRE', 'C-SESSION-1', '2026-11-21', null],
];
const LIVE = [
  ['ORDER-4', 'qty', '3', 'N', 'INSERT', 'C-ORDER-4', '2026-11-21', 3],
  ['ORDER-4', 'sku', 'e', 'S', 'INSERT', 'C-ORDER-4', '2026-11-21', null],
  ['SESSION-2', 'qty', '7', 'N', 'INSERT', 'C-SESSION-2', '2026-11-21', 7],
  ['SESSION-2', 'sku', 'c', 'S', 'INSERT', 'C-SESSION-2', '2026-11-21', null],
];

describe('Time to Live: EXPIRE rows in the current-state and expired-items views (DuckDB, the same SQL as Athena)', () => {
  let root: string;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'ddbf-expired-items-'));
    // In batches of 2, each written twice for some (a bisected retry): the views fold the duplicates.
    await writeStream(root, CHANGES.map(streamRecord), 2, 2);
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  it('the lake keeps what expired: the old image as EXPIRE rows, the user delete as REMOVE tombstones', async () => {
    const lake = await DuckDbLake.open({ root, carried: ['customer_id'] });
    try {
      const events = await lake.query("SELECT DISTINCT pk, event_name, value_type = 'ABSENT' AS tombstone FROM flattened WHERE event_name IN ('EXPIRE', 'REMOVE') ORDER BY pk");
      expect(events).toEqual([
        { pk: 'ORDER-3', event_name: 'REMOVE', tombstone: true },
        { pk: 'SESSION-1', event_name: 'EXPIRE', tombstone: false },
        { pk: 'SESSION-2', event_name: 'EXPIRE', tombstone: false },
      ]);
    } finally {
      lake.close();
    }
  });

  it('current_state leaves out the expired item (and the deleted one); the item written again after expiring is back', async () => {
    const lake = await DuckDbLake.open({ root, carried: ['customer_id'] });
    try {
      expect(await rows(lake, 'current_state')).toEqual(LIVE);
    } finally {
      lake.close();
    }
  });

  it('expired_items holds the last version of each expired item as it expired, and nothing else', async () => {
    const lake = await DuckDbLake.open({ root, carried: ['customer_id'] });
    try {
      expect(await rows(lake, 'expired_items')).toEqual(EXPIRED_SESSION_1);
      const duckTypes: Record<string, string> = { string: 'VARCHAR', int: 'INTEGER', timestamp: 'TIMESTAMP', double: 'DOUBLE', boolean: 'BOOLEAN' };
      expect((await lake.query('DESCRIBE expired_items')).map((r) => [r.column_name, r.column_type])).toEqual(expiredItemsColumns(['customer_id']).map((c) => [c.name, duckTypes[c.glue]]));
      const [expired] = await lake.query("SELECT min(event_time) AS t FROM expired_items WHERE pk = 'SESSION-1'");
      expect((expired!.t as Date).toISOString()).toBe(new Date(at(1, 3) * 1000).toISOString());
    } finally {
      lake.close();
    }
  });

  it('after a checkpoint (which leaves expired items out) the views read the same: expired_items reads the days', async () => {
    const engine = lakeEngine(root);
    try {
      const now = START + 3 * DAY_MS + 8 * 3_600_000;
      const result = await runMaintenance({ action: 'compact', checkpoint: true }, { store: new FolderStore(root), config: { ...lakeConfig(), maintenance: { ...lakeConfig().maintenance, rebuildShare: 0 } }, now, engine });
      expect(JSON.stringify(result)).toMatch(/checkpoint/);
    } finally {
      engine.close();
    }
    const lake = await DuckDbLake.open({ root, carried: ['customer_id'] });
    try {
      expect(lake.pointer.bound).toBe('2026-11-23');
      const checkpointed = await lake.query(`SELECT DISTINCT pk, event_name FROM checkpoints WHERE checkpoint = '${lake.pointer.checkpoint}' ORDER BY pk`);
      expect(checkpointed).toEqual([
        { pk: 'ORDER-4', event_name: 'INSERT' },
        { pk: 'SESSION-2', event_name: 'INSERT' },
      ]);
      expect(await rows(lake, 'current_state')).toEqual(LIVE);
      expect(await rows(lake, 'expired_items')).toEqual(EXPIRED_SESSION_1);
    } finally {
      lake.close();
    }
  });
});
