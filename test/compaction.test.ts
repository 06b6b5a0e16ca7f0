import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FolderStore } from '../src/lake/lake-store.ts';
import { openParquet } from '../src/lake/parquet-reader.ts';
import { closedBefore, closedDays, compactDay, compactionSettings, dayObjects, planDay, type CompactionSettings } from '../src/maintenance/compaction.ts';
import { layout, maintenanceOrder, pkHash, rowMapper } from '../src/maintenance/rows.ts';
import { runMaintenance, runMaintenanceTask, type MaintenanceTaskRequest } from '../src/actions/maintenance.ts';
import { copyLake, CrashingStore, currentState, distinctRows, lakeConfig, workload, writeStream } from './support/maintenance-lake.ts';

/**
 * Compaction of closed days, on a lake folder written by the real stream
 * batch code: fewer objects, rows sorted, duplicates folded, and the
 * current-state view exact before, during (crashes between any two steps,
 * a writer racing the job) and after.
 */

const DAYS = ['2026-11-20', '2026-11-21'];
let root: string;
let expectedState: string[];
let expectedRows: string[];
const temp = mkdtempSync(join(tmpdir(), 'ddbf-compaction-'));
const settings = (more: Partial<CompactionSettings> = {}) => compactionSettings({ dataPrefix: 'flattened', statePrefix: 'state', carried: ['customer_id'], tempDir: temp, ...more });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ddbf-compaction-lake-'));
  // 1,200 changes over 150 keys across two days, in batches of 20: ~70 small objects per day, some batches twice.
  const { records } = workload(1_200, 150, 7, Date.UTC(2026, 10, 20), 2 * 86_400_000);
  await writeStream(root, records, 20, 4);
  expectedState = await currentState(root);
  expectedRows = await distinctRows(root);
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(temp, { recursive: true, force: true });
});

async function objectsOf(lake: string, dt: string) {
  return dayObjects(new FolderStore(lake), { dataPrefix: 'flattened' }, dt);
}

async function rowsOf(lake: string, dt: string) {
  const store = new FolderStore(lake);
  const at = layout(['customer_id']);
  const rows = [];
  for (const o of await objectsOf(lake, dt)) {
    const f = await openParquet(store, o.key, o.size);
    const map = rowMapper(f.columns, at, dt);
    for (let g = 0; g < f.rowGroups; g++) rows.push(...(await f.read(g)).rows.map(map));
  }
  return rows;
}

describe('compaction of a closed day', () => {
  it('turns the day into one sorted object with every distinct row once, and the views read the same', async () => {
    const lake = copyLake(root);
    const before = await objectsOf(lake, DAYS[0]!);
    expect(before.length).toBeGreaterThan(40);
    const result = await compactDay(new FolderStore(lake), settings(), DAYS[0]!);
    expect(result).toMatchObject({ status: 'compacted', objectsBefore: before.length, objectsAfter: 1 });
    expect(result.rowsOut).toBeLessThan(result.rowsIn); // the batches written twice
    const rows = await rowsOf(lake, DAYS[0]!);
    expect(rows).toHaveLength(result.rowsOut);
    const order = maintenanceOrder(layout(['customer_id']).width);
    for (let i = 1; i < rows.length; i++) expect(order(rows[i - 1]!, rows[i]!), `row ${i}`).toBeLessThan(0); // sorted and no duplicates
    expect(await distinctRows(lake)).toEqual(expectedRows);
    expect(await currentState(lake)).toEqual(expectedState);
    // A second run has nothing to do; the other day was not touched.
    expect(await compactDay(new FolderStore(lake), settings(), DAYS[0]!)).toMatchObject({ status: 'already-compact', objectsAfter: 1 });
    expect((await objectsOf(lake, DAYS[1]!)).length).toBeGreaterThan(40);
    // Nothing left in the state folder.
    expect(await new FolderStore(lake).list('state/compaction/')).toEqual([]);
  });

  it('cuts objects at the target size, each a complete Parquet file', async () => {
    const lake = copyLake(root);
    const result = await compactDay(new FolderStore(lake), settings({ targetBytes: 8_000, rowGroupRows: 500 }), DAYS[0]!);
    expect(result.objectsAfter).toBeGreaterThan(2);
    expect((await rowsOf(lake, DAYS[0]!)).length).toBe(result.rowsOut);
    expect(await currentState(lake)).toEqual(expectedState);
  });

  it('sorts more rows than memory holds (spilled, multi-pass merged runs) with the same result', async () => {
    const inMemory = copyLake(root);
    const spilled = copyLake(root);
    const a = await compactDay(new FolderStore(inMemory), settings(), DAYS[1]!);
    const b = await compactDay(new FolderStore(spilled), settings({ memoryRows: 40 }), DAYS[1]!); // > 32 runs: a merge pass first
    expect(b.rowsIn).toBeGreaterThan(40 * 32);
    expect(b).toMatchObject({ rowsIn: a.rowsIn, rowsOut: a.rowsOut });
    expect((await rowsOf(spilled, DAYS[1]!)).map((r) => JSON.stringify(r))).toEqual((await rowsOf(inMemory, DAYS[1]!)).map((r) => JSON.stringify(r)));
  });

  it.each([
    ['into one object (the day is smaller than the target)', 1],
    ['into objects of the target size (a third of the day)', 1 / 3],
  ])('splits a day larger than one task by pk hash, then stitches the buckets %s: duplicates meet in one bucket, every row stays', async (_, share) => {
    const lake = copyLake(root);
    const whole = await compactDay(new FolderStore(copyLake(root)), settings(), DAYS[0]!);
    // The share is of what the split writes (bucket outputs are smaller files than one day's object: less to compress).
    const splitBytes = (await compactDay(new FolderStore(copyLake(root)), settings({ maxTaskBytes: 20_000 }), DAYS[0]!)).bytesAfter;
    const targetBytes = share === 1 ? Number.POSITIVE_INFINITY : Math.ceil(splitBytes * share);
    const split = settings({ maxTaskBytes: 20_000, targetBytes });
    const buckets = (await planDay(new FolderStore(lake), split, DAYS[0]!, await objectsOf(lake, DAYS[0]!))).tasks;
    expect(buckets).toBeGreaterThan(2);
    const result = await compactDay(new FolderStore(lake), split, DAYS[0]!);
    expect(result.rowsOut).toBe(whole.rowsOut);
    const objects = await objectsOf(lake, DAYS[0]!);
    if (targetBytes === Number.POSITIVE_INFINITY) expect(objects).toHaveLength(1);
    else {
      expect(objects.length).toBeGreaterThan(1);
      expect(objects.length).toBeLessThan(buckets);
      // Each object is whole bucket outputs packed up to the target (a bucket output larger than it stands alone).
      for (const o of objects.slice(0, -1)) expect(o.size).toBeLessThan(targetBytes * 1.5);
    }
    // Row groups are copied whole from the bucket outputs: each holds one bucket's rows, the buckets in order,
    // so every copy of a row (same pk) was in the same merge task.
    const order: number[] = [];
    for (const o of objects) {
      const f = await openParquet(new FolderStore(lake), o.key, o.size);
      for (let g = 0; g < f.rowGroups; g++) {
        const inGroup = new Set((await f.read(g)).rows.map((r) => pkHash(String(r[f.columns.indexOf('pk')])) % buckets));
        expect(inGroup.size, `${o.key} row group ${g}`).toBe(1);
        order.push([...inGroup][0]!);
      }
    }
    expect(order).toEqual([...order].sort((a, b) => a - b));
    expect(new Set(order).size).toBeGreaterThan(2);
    expect(await new FolderStore(lake).list('state/compaction/')).toEqual([]);
    expect(await currentState(lake)).toEqual(expectedState);
  });

  it('a split day: each sort task reads only its slice of the inputs, each merge task only its bucket of the stage, the stitch only what the merges wrote', async () => {
    const lake = copyLake(root);
    const maxTaskBytes = 30_000;
    const config = { ...lakeConfig(), maintenance: { ...lakeConfig().maintenance, maxTaskBytes } };
    const queued: MaintenanceTaskRequest[] = [];
    const reads = new Map<string, number>();
    const counting = new CrashingStore(new FolderStore(lake), Number.POSITIVE_INFINITY, undefined, (key, bytes) => reads.set(key, (reads.get(key) ?? 0) + bytes));
    const deps = { store: counting, config, now: Date.UTC(2026, 10, 22, 8), tempDir: temp, dispatch: async (t: MaintenanceTaskRequest) => void queued.push(t) };
    const inputs = await objectsOf(lake, DAYS[0]!);
    const dayBytes = inputs.reduce((n, o) => n + o.size, 0);
    const run = await runMaintenance({ action: 'compact', dt: DAYS[0]!, checkpoint: false }, deps);
    expect(run.days[0]?.status).toBe('dispatched');
    const perTask: { phase: string; inputBytes: number; stageBytes: number }[] = [];
    while (queued.length) {
      const task = queued.shift()!;
      reads.clear();
      await runMaintenanceTask(task, deps);
      const sum = (f: (k: string) => boolean) => [...reads].filter(([k]) => f(k)).reduce((n, [, b]) => n + b, 0);
      perTask.push({ phase: task.phase, inputBytes: sum((k) => k.startsWith('flattened/')), stageBytes: sum((k) => k.endsWith('.parquet') && k.startsWith('state/')) });
    }
    const sorts = perTask.filter((t) => t.phase === 'sort');
    const merges = perTask.filter((t) => t.phase === 'merge');
    const stitches = perTask.filter((t) => t.phase === 'stitch');
    expect(sorts.length).toBeGreaterThan(2);
    expect(merges.length).toBe(sorts.length);
    expect(perTask.map((t) => t.phase)).toEqual([...sorts.map(() => 'sort'), ...merges.map(() => 'merge'), 'stitch']);
    // A sort task reads its slice (small objects whole, in one request): at most maxTaskBytes; together, the day once.
    for (const t of sorts) expect(t.inputBytes).toBeLessThanOrEqual(maxTaskBytes);
    expect(sorts.reduce((n, t) => n + t.inputBytes, 0)).toBe(dayBytes);
    for (const t of merges) expect(t.inputBytes).toBe(0);
    for (const t of merges) expect(t.stageBytes).toBeLessThan(dayBytes / 2);
    // The stitch copies the merge outputs (state/), reading none of the day's inputs.
    expect(stitches[0]!.inputBytes).toBe(0);
    expect(stitches[0]!.stageBytes).toBeGreaterThan(0);
    expect(await objectsOf(lake, DAYS[0]!)).toHaveLength(1);
    expect(await new FolderStore(lake).list('state/compaction/')).toEqual([]);
    expect(await currentState(lake)).toEqual(expectedState);
  });

  it('keeps the view exact after a crash between any two steps, and the next run completes the compaction', async () => {
    const clean = copyLake(root);
    await compactDay(new FolderStore(clean), settings({ maxTaskBytes: 30_000 }), DAYS[0]!);
    const cleanObjects = (await objectsOf(clean, DAYS[0]!)).map((o) => o.key.split('/').pop());
    const cleanRows = (await rowsOf(clean, DAYS[0]!)).map((r) => JSON.stringify(r));
    // Count the changes a run makes, then crash before each one in turn.
    const counting = new CrashingStore(new FolderStore(copyLake(root)), Number.POSITIVE_INFINITY);
    await compactDay(counting, settings({ maxTaskBytes: 30_000 }), DAYS[0]!);
    expect(counting.changes).toBeGreaterThan(4);
    for (let crashAt = 1; crashAt <= counting.changes; crashAt++) {
      const lake = copyLake(root);
      await expect(compactDay(new CrashingStore(new FolderStore(lake), crashAt), settings({ maxTaskBytes: 30_000 }), DAYS[0]!)).rejects.toThrow(/crash before change/);
      expect(await currentState(lake), `view right after a crash at change ${crashAt}`).toEqual(expectedState);
      const result = await compactDay(new FolderStore(lake), settings({ maxTaskBytes: 30_000 }), DAYS[0]!);
      // (A crash in the last clean-up, after the plan was removed, leaves the compaction complete.)
      expect(['compacted', 'already-compact'], `resumed after a crash at change ${crashAt}`).toContain(result.status);
      expect(await new FolderStore(lake).list('state/compaction/')).toEqual([]);
      expect((await objectsOf(lake, DAYS[0]!)).map((o) => o.key.split('/').pop())).toEqual(cleanObjects);
      expect((await rowsOf(lake, DAYS[0]!)).map((r) => JSON.stringify(r))).toEqual(cleanRows);
      expect(await currentState(lake)).toEqual(expectedState);
      rmSync(lake, { recursive: true, force: true });
    }
  });

  it('races a writer: an object that lands during the compaction is kept, the view stays exact, the next run folds it in', async () => {
    const lake = copyLake(root);
    const store = new FolderStore(lake);
    // A late batch for the day (a redrive): records of the day, written while the compaction runs.
    const late = workload(30, 150, 99, Date.UTC(2026, 10, 20, 23), 3_000_000);
    let raced = false;
    const racing = new CrashingStore(store, Number.POSITIVE_INFINITY, async (key) => {
      if (!raced && key.includes('/compaction/') && key.endsWith('.json') && !key.includes('.task-')) {
        raced = true;
        await writeStream(lake, late.records, 30, 0);
      }
    });
    const first = await compactDay(racing, settings(), DAYS[0]!);
    expect(raced).toBe(true);
    expect(first.status).toBe('compacted');
    const afterFirst = await objectsOf(lake, DAYS[0]!);
    expect(afterFirst.length).toBe(2); // the compacted object and the late one, which was not in the plan
    const viewAfterRace = await currentState(lake);
    const second = await compactDay(store, settings(), DAYS[0]!);
    expect(second).toMatchObject({ status: 'compacted', objectsBefore: 2, objectsAfter: 1 });
    expect(await currentState(lake)).toEqual(viewAfterRace);
  });

  it('a day is closed once the maximum record age and a margin have passed since its end', async () => {
    const sixHours = 21_600;
    expect(closedBefore(Date.UTC(2026, 11, 1, 6, 59), sixHours, 3_600)).toBe('2026-11-30'); // 11-30 still open at 06:59
    expect(closedBefore(Date.UTC(2026, 11, 1, 7, 0), sixHours, 3_600)).toBe('2026-12-01'); // ...closed from 07:00
    expect(await closedDays(new FolderStore(root), { dataPrefix: 'flattened' }, '2026-11-21', 30)).toEqual(['2026-11-20']);
    expect(await closedDays(new FolderStore(root), { dataPrefix: 'flattened' }, '2026-12-01', 30)).toEqual(DAYS.slice().reverse());
    expect(await closedDays(new FolderStore(root), { dataPrefix: 'flattened' }, '2026-12-01', 1)).toEqual(['2026-11-21']);
  });
});

