import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMaintenance, runMaintenanceTask, type MaintenanceDeps, type MaintenanceTaskRequest } from '../src/actions/maintenance.ts';
import { Flattener } from '../src/flatten/flatten.ts';
import { RowBatch } from '../src/flatten/row-batch.ts';
import { appendSnapshotItem } from '../src/flatten/stream-record.ts';
import { FolderStore } from '../src/lake/lake-store.ts';
import { checkpoint, NO_CHECKPOINT, readPointer } from '../src/maintenance/checkpoint.ts';
import { compactDay, compactionSettings } from '../src/maintenance/compaction.ts';
import { DuckDbLake } from '../src/sql/duckdb-lake.ts';
import { CrashingStore, copyLake, lakeConfig, workload, writeStream, type Workload } from './support/maintenance-lake.ts';

/**
 * The current-state view over checkpoints: after each daily maintenance run
 * it reads the latest checkpoint plus the days after it, and still equals
 * the table (a consistent Scan: the model's items, flattened), across
 * checkpoints, deletes and re-inserts, changes at the checkpoint's
 * boundary, and a checkpoint that failed halfway.
 */

const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 10, 20);
const temp = mkdtempSync(join(tmpdir(), 'ddbf-checkpoint-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

const CONTENT = ['pk', 'sk', 'attribute', 'item_index', 'key', 'value', 'value_type', 'customer_id'];

/** What a consistent Scan of the table gives, flattened: the rows of every live item (content columns). */
function scanRows(table: Workload['table']): string[] {
  const batch = new RowBatch(['customer_id']);
  const flattener = new Flattener({ attributes: ['items'], partitionKey: 'pk', sortKey: undefined, carry: ['customer_id'] });
  for (const item of table.values()) appendSnapshotItem(flattener, batch, item, 0, 'scan');
  return [...batch.rows()].filter((r) => r.value_type !== 'ABSENT').map((r) => JSON.stringify(CONTENT.map((c) => r[c] ?? null))).sort();
}

async function viewRows(root: string): Promise<{ rows: string[]; pointer: string; bound: string }> {
  const lake = await DuckDbLake.open({ root, carried: ['customer_id'] });
  try {
    const rows = await lake.query(`SELECT ${CONTENT.join(', ')} FROM current_state`);
    return { rows: rows.map((r) => JSON.stringify(CONTENT.map((c) => r[c] ?? null))).sort(), pointer: lake.pointer.checkpoint, bound: lake.pointer.bound };
  } finally {
    lake.close();
  }
}

const deps = (root: string, now: number, store = new FolderStore(root)): MaintenanceDeps => ({ store, config: lakeConfig(), now, tempDir: temp });
/** The morning after `day`: the day is closed (6 h record age + 1 h margin have passed since midnight). */
const morningAfter = (day: number): number => START + (day + 1) * DAY_MS + 8 * 3_600_000;

/** Five days of changes over 120 keys, with some exactly at midnight (the checkpoint's boundary) and within its last second. */
function fiveDays(): { days: Workload[]; table: Workload['table'] } {
  const all = workload(2_500, 120, 11, START, 5 * DAY_MS);
  const days: Workload[] = [];
  for (let d = 0; d < 5; d++) {
    const from = (START + d * DAY_MS) / 1000;
    const to = from + 86_400;
    days.push({ records: all.records.filter((r) => Number(r.dynamodb!.ApproximateCreationDateTime) >= from && Number(r.dynamodb!.ApproximateCreationDateTime) < to), table: all.table });
  }
  return { days, table: all.table };
}

describe('checkpoints of the current state', () => {
  // Each test once with the checkpoint in one task, once split into sort and merge tasks (a few KB a task).
  const variants = [
    { name: 'one task', split: false, deps },
    { name: 'split', split: true, deps: (root: string, now: number): MaintenanceDeps => ({ ...deps(root, now), config: { ...lakeConfig(), maintenance: { ...lakeConfig().maintenance, maxTaskBytes: 12_000 } } }) },
  ];
  for (const variant of variants) {
    it(`${variant.name}: after each daily run the view reads the latest checkpoint and the open days, and equals a Scan of the table`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'ddbf-checkpoint-lake-'));
      // The model's table after each day: replay the records of the days written so far.
      const all = workload(2_500, 120, 11, START, 5 * DAY_MS);
      const boundaries: number[] = [];
      const shuffled = new Set<string>();
      const recording = (store: FolderStore) => new CrashingStore(store, Number.POSITIVE_INFINITY, async (key) => void (/\/plans\/[^/]+\/sort-/.test(key) && shuffled.add(key)));
      for (let d = 0; d < 5; d++) {
        const to = (START + (d + 1) * DAY_MS) / 1000;
        const todays = all.records.filter((r) => {
          const t = Number(r.dynamodb!.ApproximateCreationDateTime);
          return t >= to - 86_400 && t < to;
        });
        await writeStream(root, todays, 25, 3);
        boundaries.push(todays.length);
        const result = await runMaintenance({ action: 'compact', checkpoint: true }, { ...variant.deps(root, morningAfter(d)), store: recording(new FolderStore(root)) });
        const expectedBound = new Date(START + (d + 1) * DAY_MS).toISOString().slice(0, 10);
        expect(result.closedBefore).toBe(expectedBound);
        expect(result.checkpoint?.status).toBe('written');
        // The first checkpoint reads the history; every later one only its predecessor and the new day.
        expect(result.checkpoint?.days).toEqual(d === 0 ? [new Date(START).toISOString().slice(0, 10)] : [new Date(START + d * DAY_MS).toISOString().slice(0, 10)]);
        const view = await viewRows(root);
        expect(view.bound).toBe(expectedBound);
        expect(view.pointer).not.toBe(NO_CHECKPOINT);
        expect(view.rows).toEqual(scanRows(replayTable(all, to)));
      }
      // The split variant went through the shuffle: sort tasks wrote stage objects, several parts were published.
      expect(variant.split ? shuffled.size > 0 : shuffled.size === 0, `stage objects written: ${shuffled.size}`).toBe(true);
      // Retention: the current checkpoint and the two before it.
      expect((await new FolderStore(root).folders('state/checkpoints/')).filter((f) => f.startsWith('checkpoint='))).toHaveLength(3);
      rmSync(root, { recursive: true, force: true });
    });

    it(`${variant.name}: the view is exact at every step of a checkpoint that fails halfway, and the next run finishes it`, async () => {
      const { days } = fiveDays();
      const base = mkdtempSync(join(tmpdir(), 'ddbf-checkpoint-crash-'));
      const all = workload(2_500, 120, 11, START, 5 * DAY_MS);
      for (let d = 0; d < 2; d++) await writeStream(base, days[d]!.records, 25, 0);
      await runMaintenance({ action: 'compact', checkpoint: true }, variant.deps(base, morningAfter(0)));
      const expected = scanRows(replayTable(all, (START + 2 * DAY_MS) / 1000));
      // Count the changes of the second day's run, then crash before each of them.
      const counting = new CrashingStore(new FolderStore(copyLake(base)), Number.POSITIVE_INFINITY);
      await runMaintenance({ action: 'compact', checkpoint: true }, { ...variant.deps(base, morningAfter(1)), store: counting });
      expect(counting.changes).toBeGreaterThan(4);
      for (let crashAt = 1; crashAt <= counting.changes; crashAt++) {
        const lake = copyLake(base);
        const crashing = new CrashingStore(new FolderStore(lake), crashAt);
        await expect(runMaintenance({ action: 'compact', checkpoint: true }, { ...variant.deps(lake, morningAfter(1)), store: crashing })).rejects.toThrow(/crash before change/);
        expect((await viewRows(lake)).rows, `view right after a crash at change ${crashAt}`).toEqual(expected);
        await runMaintenance({ action: 'compact', checkpoint: true }, variant.deps(lake, morningAfter(1)));
        const after = await viewRows(lake);
        expect(after.bound, `bound after resuming from a crash at change ${crashAt}`).toBe(new Date(START + 2 * DAY_MS).toISOString().slice(0, 10));
        expect(after.rows).toEqual(expected);
        expect(await new FolderStore(lake).list('state/checkpoints/plans/')).toEqual([]);
        rmSync(lake, { recursive: true, force: true });
      }
      rmSync(base, { recursive: true, force: true });
    });
  }

  it('days with no objects leave the checkpoint as it is; a run before any day closes writes none', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ddbf-checkpoint-gap-'));
    const all = workload(400, 50, 3, START, DAY_MS);
    await writeStream(root, all.records, 25, 0);
    const early = await runMaintenance({ action: 'compact', checkpoint: true }, deps(root, START + 12 * 3_600_000));
    expect(early.checkpoint?.status).toBe('current');
    expect((await readPointer(new FolderStore(root), { statePrefix: 'state' })).checkpoint).toBe(NO_CHECKPOINT);
    await runMaintenance({ action: 'compact', checkpoint: true }, deps(root, morningAfter(0)));
    const first = await readPointer(new FolderStore(root), { statePrefix: 'state' });
    const later = await runMaintenance({ action: 'compact', checkpoint: true }, deps(root, morningAfter(3)));
    expect(later.checkpoint).toMatchObject({ status: 'current', days: [], pointer: { checkpoint: first.checkpoint } });
    expect((await viewRows(root)).rows).toEqual(scanRows(all.table));
    rmSync(root, { recursive: true, force: true });
  });

  it('a hold (a failure in the DLQ, a backfill in flight) keeps the checkpoint from passing the day', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ddbf-checkpoint-hold-'));
    const all = workload(300, 40, 5, START, 2 * DAY_MS);
    await writeStream(root, all.records, 25, 0);
    const held = await runMaintenance({ action: 'compact', checkpoint: true }, { ...deps(root, morningAfter(1)), holds: async () => [{ before: '2026-11-21', reason: 'backfill in flight' }] });
    expect(held.checkpoint).toMatchObject({ pointer: { bound: '2026-11-21' }, heldBy: ['backfill in flight (holds the checkpoint before 2026-11-21)'] });
    expect((await viewRows(root)).rows).toEqual(scanRows(all.table));
    rmSync(root, { recursive: true, force: true });
  });

  // Found by the soak: a run that dispatched a day's compaction tasks also planned a checkpoint over that
  // day's original objects; the compaction's commit deleted them, and every checkpoint task failed on a
  // missing object, at that run and every run after it (the stale plan was resumed each time).
  it('a split day: the checkpoint waits for the compaction in flight, whatever order the tasks run in', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ddbf-checkpoint-split-'));
    const all = workload(3_000, 150, 13, START, DAY_MS - 1000);
    await writeStream(root, all.records, 25, 2);
    const queued: MaintenanceTaskRequest[] = [];
    const split: MaintenanceDeps = {
      ...deps(root, morningAfter(0)),
      config: { ...lakeConfig(), maintenance: { ...lakeConfig().maintenance, maxTaskBytes: 256 * 1024 } },
      dispatch: async (t) => void queued.push(t),
    };
    const first = await runMaintenance({ action: 'compact', checkpoint: true }, split);
    expect(first.days.map((d) => d.status)).toEqual(['dispatched']);
    expect(queued.every((t) => t.kind === 'compaction') && queued.length > 1).toBe(true);
    expect(first.checkpoint).toMatchObject({ status: 'current', heldBy: ['the compaction of 2026-11-20 is in flight (holds the checkpoint before 2026-11-20)'] });
    expect(queued.every((t) => t.phase === 'sort')).toBe(true);
    // Last in, first out: the sort tasks in reverse order, then the merge tasks the last of them dispatched.
    let merges = 0;
    while (queued.length) {
      const t = queued.pop()!;
      if (t.phase === 'merge') merges++;
      await runMaintenanceTask(t, split);
      expect((await viewRows(root)).rows).toEqual(scanRows(all.table));
    }
    expect(merges).toBeGreaterThan(1);
    queued.length = 0;
    const second = await runMaintenance({ action: 'compact', checkpoint: true }, { ...split, now: morningAfter(1) });
    expect(second.days.map((d) => d.status)).toEqual(['already-compact']);
    for (const t of queued) await runMaintenanceTask(t, split);
    const view = await viewRows(root);
    expect(view.bound).toBe('2026-11-22');
    expect(view.rows).toEqual(scanRows(all.table));
    rmSync(root, { recursive: true, force: true });
  });

  it('a stored checkpoint plan whose objects a compaction replaced is dropped and planned again', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ddbf-checkpoint-stale-'));
    const all = workload(600, 60, 17, START, DAY_MS - 1000);
    await writeStream(root, all.records, 25, 2);
    const store = new FolderStore(root);
    const s = { ...compactionSettings({ dataPrefix: 'flattened', statePrefix: 'state', carried: ['customer_id'], tempDir: temp }), retention: 3 };
    // A checkpoint planned and handed to other invocations that have not run yet ...
    const planned = await checkpoint(store, s, '2026-11-21', { run: async () => false });
    expect(planned.status).toBe('dispatched');
    // ... then a compaction by hand of the same day: the plan's objects are gone.
    expect((await compactDay(store, s, '2026-11-20')).status).toBe('compacted');
    const task = (await store.list('state/checkpoints/plans/')).map((o) => o.key).find((k) => !k.includes('.task-'))!;
    expect(await runMaintenanceTask({ action: 'maintenance-task', kind: 'checkpoint', plan: task, phase: 'merge', task: 0 }, deps(root, morningAfter(0)))).toEqual({ task: 0, committed: false });
    const next = await checkpoint(store, s, '2026-11-21');
    expect(next.status).toBe('written');
    expect((await store.list('state/checkpoints/plans/')).length).toBe(0);
    expect((await store.folders('state/checkpoints/')).filter((f) => f.startsWith('checkpoint='))).toEqual([`checkpoint=${next.pointer.checkpoint}`]);
    expect((await viewRows(root)).rows).toEqual(scanRows(all.table));
    rmSync(root, { recursive: true, force: true });
  });
});

/** The table after every record up to `untilSeconds`. */
function replayTable(w: Workload, untilSeconds: number): Workload['table'] {
  const table = new Map<string, import('../src/flatten/attribute-value.ts').Item>();
  for (const r of w.records) {
    if (Number(r.dynamodb!.ApproximateCreationDateTime) >= untilSeconds) break;
    const pk = (r.dynamodb!.Keys as { pk: { S: string } }).pk.S;
    if (r.eventName === 'REMOVE') table.delete(pk);
    else table.set(pk, r.dynamodb!.NewImage as import('../src/flatten/attribute-value.ts').Item);
  }
  return table;
}
