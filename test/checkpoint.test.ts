import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMaintenance, type MaintenanceDeps, type MaintenanceRequest } from '../src/actions/maintenance.ts';
import { Flattener } from '../src/flatten/flatten.ts';
import { RowBatch } from '../src/flatten/row-batch.ts';
import { appendSnapshotItem } from '../src/flatten/stream-record.ts';
import { FolderStore } from '../src/lake/lake-store.ts';
import { encodeParquetFile } from '../src/lake/parquet/encoder.ts';
import { columnInputs, CREATED_BY } from '../src/lake/parquet-writer.ts';
import { dataColumns, PARTITION_COLUMN } from '../src/schema/row-schema.ts';
import { latestDayBytes, NO_CHECKPOINT, payoff, pointerText, readPointer } from '../src/maintenance/checkpoint.ts';
import { DuckDbLake } from '../src/sql/duckdb-lake.ts';
import { ControlledEngine, lakeEngine } from './support/engines.ts';
import { CrashingStore, copyLake, lakeConfig, workload, writeStream, type Workload } from './support/maintenance-lake.ts';

/**
 * The current-state view over checkpoints: after each daily maintenance run
 * it reads the latest checkpoint plus the days after it, and still equals
 * the table (a consistent Scan: the model's items, flattened), across
 * checkpoints that pay off or wait, deletes and re-inserts, changes at the
 * checkpoint's boundary, a run that crashes at any step, failed queries, a
 * checkpoint query that a compaction must wait for, and a lake maintained
 * by 0.3.0.
 */

/** A checkpoint file as 0.3.0 wrote it: the rows with dt inside (a checkpoint holds rows of many days). */
function checkpointFileOf030(batch: RowBatch): Buffer {
  return encodeParquetFile([...dataColumns(batch.carried), PARTITION_COLUMN], [...columnInputs(batch), { values: batch.dt, index: batch.version }], batch.length, { codec: 'ZSTD', createdBy: CREATED_BY });
}

const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 10, 20);
const roots: string[] = [];
afterAll(() => {
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});
const newLake = (name: string): string => {
  const root = mkdtempSync(join(tmpdir(), `ddbf-checkpoint-${name}-`));
  roots.push(root);
  return root;
};

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

type Maintenance = Partial<ReturnType<typeof lakeConfig>['maintenance']>;
const config = (maintenance: Maintenance = {}) => ({ ...lakeConfig(), maintenance: { ...lakeConfig().maintenance, ...maintenance } });

/** One run as a fresh process would make it: its own DuckDB engine over the folder. */
async function run(root: string, now: number, more: Partial<MaintenanceDeps> & { maintenance?: Maintenance } = {}, request: MaintenanceRequest = { action: 'compact', checkpoint: true }) {
  const engine = more.engine ?? lakeEngine(root);
  try {
    return await runMaintenance(request, { store: new FolderStore(root), config: config(more.maintenance), now, ...more, engine });
  } finally {
    if (!more.engine) (engine as ReturnType<typeof lakeEngine>).close();
  }
}

/** The morning after `day`: the day is closed (6 h record age + 1 h margin have passed since midnight). */
const morningAfter = (day: number): number => START + (day + 1) * DAY_MS + 8 * 3_600_000;
const dayText = (day: number): string => new Date(START + day * DAY_MS).toISOString().slice(0, 10);
const recordsOfDay = (w: Workload, day: number) =>
  w.records.filter((r) => {
    const t = Number(r.dynamodb!.ApproximateCreationDateTime) * 1000;
    return t >= START + day * DAY_MS && t < START + (day + 1) * DAY_MS;
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
const tableAfterDay = (w: Workload, day: number) => replayTable(w, (START + (day + 1) * DAY_MS) / 1000);

describe('checkpoints of the current state (one statement: the view as of the bound)', () => {
  it('rebuilt every day (share 0): the view reads the latest checkpoint and the open days, and equals a Scan of the table', async () => {
    const root = newLake('daily');
    const all = workload(2_500, 120, 11, START, 5 * DAY_MS);
    for (let d = 0; d < 5; d++) {
      await writeStream(root, recordsOfDay(all, d), 25, 3);
      const result = await run(root, morningAfter(d), { maintenance: { rebuildShare: 0 } });
      expect(result.closedBefore).toBe(dayText(d + 1));
      expect(result.checkpoint?.status).toBe('written');
      // The first checkpoint reads the history; every later one only its predecessor and the new day.
      expect(result.checkpoint?.days).toEqual([dayText(d)]);
      const view = await viewRows(root);
      expect(view.bound).toBe(dayText(d + 1));
      expect(view.pointer).not.toBe(NO_CHECKPOINT);
      expect(view.rows).toEqual(scanRows(tableAfterDay(all, d)));
    }
    // Retention: the current checkpoint and the two before it.
    expect((await new FolderStore(root).folders('state/checkpoints/')).filter((f) => f.startsWith('checkpoint='))).toHaveLength(3);
    // Each checkpoint file is in key order, as compacted days are (row-group statistics prune by key).
    const lake = await DuckDbLake.open({ root, carried: ['customer_id'] });
    try {
      const order = 'pk, sk, attribute, item_index, key, value_type, value';
      const files = await new FolderStore(root).list(`state/checkpoints/checkpoint=${lake.pointer.checkpoint}/`);
      expect(files.length).toBeGreaterThan(0);
      for (const f of files) {
        const path = join(root, f.key).replaceAll("'", "''");
        const [r] = await lake.query(`SELECT count(*) AS n, count(*) FILTER (WHERE prev > cur) AS unordered FROM (SELECT row(${order}) AS cur, lag(row(${order})) OVER (ORDER BY file_row_number) AS prev FROM read_parquet('${path}', file_row_number = true))`);
        expect(Number(r!.n), f.key).toBeGreaterThan(100);
        expect(Number(r!.unordered), f.key).toBe(0);
      }
    } finally {
      lake.close();
    }
  });

  it('rebuilt when it pays off: the days since the bound reach the share of its bytes, or it reaches its age; the view equals a Scan every day', async () => {
    const root = newLake('payoff');
    // A table of 1,500 items written on the first day, then about 11 changes a day: under 1% of the items
    // (a small day's Parquet file carries a footer of its own, a fixed share of a small checkpoint).
    const first = workload(1_500, 1_500, 21, START, DAY_MS - 1_000);
    const later = workload(100, 1_500, 22, START + DAY_MS, 10 * DAY_MS - 1_000);
    const all: Workload = { records: [...first.records, ...later.records], table: later.table };
    const statuses: string[] = [];
    const reasons: string[] = [];
    for (let d = 0; d < 10; d++) {
      await writeStream(root, recordsOfDay(all, d), 25, 0);
      const result = await run(root, morningAfter(d), { maintenance: { rebuildShare: 0.25, maxAgeDays: 6 } });
      statuses.push(result.checkpoint!.status);
      reasons.push(result.checkpoint!.payoff?.why ?? '');
      expect((await viewRows(root)).rows, `view after day ${d}`).toEqual(scanRows(tableAfterDay(all, d)));
    }
    expect(statuses[0]).toBe('written');
    expect(statuses.slice(1)).toContain('deferred');
    expect(statuses.slice(1)).toContain('written');
    const rebuilt = statuses.indexOf('written', 1);
    expect(reasons[rebuilt]).toMatch(/hold .*% of the checkpoint's bytes|days old/);
    expect(reasons[1]).toMatch(/the view reads them beside it/);
    // Never deferred past its age: a rebuild at most every 6 days.
    for (let d = 0; d + 6 < statuses.length; d++) expect(statuses.slice(d + 1, d + 7), `days ${d + 1}..${d + 6}`).toContain('written');
  });

  it('the rule counts the next day (the view reads it before the next run), estimated as the latest closed day', () => {
    const previous = { checkpoint: '2026-11-20-0123456789abcdef', bound: '2026-11-20', parts: 1 };
    const rule = { rebuildShare: 0.25, maxAgeDays: 30 };
    expect(payoff(rule, previous, 1_000, 100, '2026-11-21', 100)).toMatchObject({ rebuild: false, nextDayBytes: 100 });
    expect(payoff(rule, previous, 1_000, 200, '2026-11-22', 100)).toMatchObject({ rebuild: true, why: "the days since 2026-11-20 hold 20.0% of the checkpoint's bytes, 30.0% with the next day (rebuilt from 25.0%)" });
    expect(latestDayBytes([[{ key: 'a', size: 5 }], [{ key: 'b', size: 7 }, { key: 'c', size: 1 }], []])).toBe(8);
    expect(latestDayBytes([[], []])).toBe(0);
  });

  it('rebuilt at its age when the share never pays off', async () => {
    const root = newLake('age');
    const all = workload(1_000, 200, 31, START, 6 * DAY_MS);
    const statuses: string[] = [];
    for (let d = 0; d < 6; d++) {
      await writeStream(root, recordsOfDay(all, d), 25, 0);
      const result = await run(root, morningAfter(d), { maintenance: { rebuildShare: 4, maxAgeDays: 3 } });
      statuses.push(result.checkpoint!.status);
      expect((await viewRows(root)).rows).toEqual(scanRows(tableAfterDay(all, d)));
    }
    expect(statuses).toEqual(['written', 'deferred', 'deferred', 'written', 'deferred', 'deferred']);
  });

  it('the view is exact after a crash at any step of a run, and the next runs finish the checkpoint', async () => {
    const base = newLake('crash');
    const all = workload(2_500, 120, 11, START, 5 * DAY_MS);
    for (let d = 0; d < 2; d++) await writeStream(base, recordsOfDay(all, d), 25, 0);
    await run(base, morningAfter(0), { maintenance: { rebuildShare: 0 } });
    const expected = scanRows(tableAfterDay(all, 1));
    // Count the changes of the second day's run, then crash before each of them.
    const probe = copyLake(base);
    const counting = new CrashingStore(new FolderStore(probe), Number.POSITIVE_INFINITY);
    await run(probe, morningAfter(1), { store: counting, maintenance: { rebuildShare: 0 } });
    expect(counting.changes).toBeGreaterThan(4);
    for (let crashAt = 1; crashAt <= counting.changes; crashAt++) {
      const lake = copyLake(base);
      await expect(run(lake, morningAfter(1), { store: new CrashingStore(new FolderStore(lake), crashAt), maintenance: { rebuildShare: 0 } })).rejects.toThrow(/crash before change/);
      expect((await viewRows(lake)).rows, `view right after a crash at change ${crashAt}`).toEqual(expected);
      // A new process does not know the query the crashed one started: that work fails once and is planned again.
      for (let again = 0; again < 3; again++) if ((await run(lake, morningAfter(1), { maintenance: { rebuildShare: 0 } })).failed.length === 0) break;
      const after = await viewRows(lake);
      expect(after.bound, `bound after resuming from a crash at change ${crashAt}`).toBe(dayText(2));
      expect(after.rows).toEqual(expected);
      expect(await new FolderStore(lake).list('state/checkpoints/plans/')).toEqual([]);
      expect(await new FolderStore(lake).list('state/compaction/')).toEqual([]);
      rmSync(lake, { recursive: true, force: true });
    }
  });

  it('days with no objects leave the checkpoint as it is; a run before any day closes writes none', async () => {
    const root = newLake('gap');
    const all = workload(400, 50, 3, START, DAY_MS);
    await writeStream(root, all.records, 25, 0);
    const early = await run(root, START + 12 * 3_600_000);
    expect(early.checkpoint?.status).toBe('current');
    expect((await readPointer(new FolderStore(root), { statePrefix: 'state' })).checkpoint).toBe(NO_CHECKPOINT);
    await run(root, morningAfter(0));
    const first = await readPointer(new FolderStore(root), { statePrefix: 'state' });
    const later = await run(root, morningAfter(3));
    expect(later.checkpoint).toMatchObject({ status: 'current', days: [], pointer: { checkpoint: first.checkpoint } });
    expect((await viewRows(root)).rows).toEqual(scanRows(all.table));
  });

  it('a hold (a failure in the DLQ, a backfill in flight) keeps the checkpoint from passing the day', async () => {
    const root = newLake('hold');
    const all = workload(300, 40, 5, START, 2 * DAY_MS);
    await writeStream(root, all.records, 25, 0);
    const held = await run(root, morningAfter(1), { holds: async () => [{ before: '2026-11-21', reason: 'backfill in flight' }] });
    expect(held.checkpoint).toMatchObject({ pointer: { bound: '2026-11-21' }, heldBy: ['backfill in flight (holds the checkpoint before 2026-11-21)'] });
    expect((await viewRows(root)).rows).toEqual(scanRows(all.table));
  });

  it('a failed or cancelled checkpoint query leaves the published one; the run reports it and the next run writes it', async () => {
    const root = newLake('failed');
    const all = workload(600, 60, 17, START, 2 * DAY_MS);
    await writeStream(root, recordsOfDay(all, 0), 25, 0);
    await run(root, morningAfter(0));
    const store = new FolderStore(root);
    const before = await readPointer(store, { statePrefix: 'state' });
    await writeStream(root, recordsOfDay(all, 1), 25, 0);
    const engine = new ControlledEngine(root);
    // Athena cancels a query past the workgroup's bytes-scanned cutoff.
    engine.failNext('Query cancelled! : Bytes scanned limit was exceeded', 'cancel');
    const cancelled = await run(root, morningAfter(1), { engine, maintenance: { rebuildShare: 0 } }, { action: 'checkpoint', checkpoint: true });
    expect(cancelled.checkpoint).toMatchObject({ status: 'failed', reason: 'CANCELLED: Query cancelled! : Bytes scanned limit was exceeded' });
    expect(cancelled.failed).toEqual([expect.stringContaining('Bytes scanned limit was exceeded')]);
    expect(await readPointer(store, { statePrefix: 'state' })).toEqual(before);
    expect(await store.list('state/checkpoints/plans/')).toEqual([]);
    // The cancelled query's folder went with its plan: only the published checkpoint is there.
    expect((await store.folders('state/checkpoints/')).filter((f) => f.startsWith('checkpoint='))).toEqual([`checkpoint=${before.checkpoint}`]);
    expect((await viewRows(root)).rows).toEqual(scanRows(tableAfterDay(all, 1)));
    const next = await run(root, morningAfter(1), { engine, maintenance: { rebuildShare: 0 } }, { action: 'checkpoint', checkpoint: true });
    expect(next.checkpoint).toMatchObject({ status: 'written', pointer: { bound: dayText(2) } });
    expect(next.failed).toEqual([]);
    expect((await viewRows(root)).rows).toEqual(scanRows(tableAfterDay(all, 1)));
    engine.close();
  });

  it('a checkpoint statement that succeeds without reading anything is not published', async () => {
    const root = newLake('empty');
    const all = workload(300, 40, 5, START, DAY_MS);
    await writeStream(root, all.records, 25, 0);
    const engine = new ControlledEngine(root);
    engine.succeedEmpty();
    const result = await run(root, morningAfter(0), { engine }, { action: 'checkpoint', checkpoint: true });
    expect(result.checkpoint).toMatchObject({ status: 'failed', pointer: { checkpoint: NO_CHECKPOINT } });
    expect(result.checkpoint?.reason).toMatch(/^the statement scanned 0 bytes of the \d+ the previous checkpoint and the days hold: .* Nothing was published\.$/);
    expect((await viewRows(root)).rows).toEqual(scanRows(all.table));
    expect((await run(root, morningAfter(0), { engine }, { action: 'checkpoint', checkpoint: true })).checkpoint?.status).toBe('written');
    expect((await viewRows(root)).rows).toEqual(scanRows(all.table));
    engine.close();
  });

  it('history retention: the scheduled run deletes only days past the retention that every kept checkpoint covers; the view equals a Scan before and after', async () => {
    const root = newLake('retention');
    const all = workload(3_000, 150, 41, START, 10 * DAY_MS);
    const store = new FolderStore(root);
    const days = async () => (await store.folders('flattened/')).map((f) => f.slice(3));
    for (let d = 0; d < 10; d++) {
      await writeStream(root, recordsOfDay(all, d), 25, 0);
      const expected = scanRows(tableAfterDay(all, d));
      expect((await viewRows(root)).rows, `view before the run of day ${d}`).toEqual(expected);
      const result = await run(root, morningAfter(d), { maintenance: { rebuildShare: 0, historyRetentionDays: 3, retention: 3 } });
      expect((await viewRows(root)).rows, `view after the run of day ${d}`).toEqual(expected);
      const r = result.retention!;
      // Past the retention: days before (morning after day d) - 3 days.
      expect(r.before).toBe(dayText(d + 1 - 3));
      // Only days every kept checkpoint covers: before the oldest kept checkpoint's bound (3 kept: the one written today and the two before).
      const kept = (await store.folders('state/checkpoints/')).filter((f) => f.startsWith('checkpoint=')).map((f) => f.slice('checkpoint='.length, 'checkpoint='.length + 10)).sort();
      expect(r.coveredBefore).toBe(kept[0]);
      for (const gone of r.days) {
        expect(gone < r.before!).toBe(true);
        expect(gone < kept[0]!).toBe(true);
      }
      expect((await days()).filter((x) => x < r.before! && x < kept[0]!)).toEqual([]);
    }
    // Ten days written, the last seven... minus what the retention removed: the days from the oldest kept bound on remain.
    const left = await days();
    expect(left.length).toBeLessThan(10);
    expect(left[0]! >= dayText(10 - 3)).toBe(true);
  });

  it('history retention keeps the days no checkpoint covers yet (a checkpoint not rebuilt), whatever their age', async () => {
    const root = newLake('retention-uncovered');
    // A big first day, then small days: the checkpoint waits for the share (and its age of 30 days).
    const first = workload(400, 400, 51, START, DAY_MS - 1_000);
    const later = workload(60, 400, 52, START + DAY_MS, 6 * DAY_MS - 1_000);
    const all: Workload = { records: [...first.records, ...later.records], table: later.table };
    let result;
    for (let d = 0; d < 7; d++) {
      await writeStream(root, recordsOfDay(all, d), 25, 0);
      result = await run(root, morningAfter(d), { maintenance: { rebuildShare: 4, maxAgeDays: 30, historyRetentionDays: 1 } });
      expect((await viewRows(root)).rows).toEqual(scanRows(tableAfterDay(all, d)));
    }
    // The only checkpoint is day 0's (bound day 1): day 0 went; days 1..5 are past the retention but no checkpoint covers them.
    expect(result!.retention).toMatchObject({ status: 'nothing-to-delete', coveredBefore: dayText(1) });
    expect(result!.retention!.kept).toEqual([1, 2, 3, 4, 5].map((d) => `${dayText(d)}: no checkpoint kept covers it yet (the oldest covers days before ${dayText(1)})`));
    expect((await new FolderStore(root).folders('flattened/')).map((f) => f.slice(3))).toEqual([1, 2, 3, 4, 5, 6].map(dayText));
  });

  it('a compaction whose day a checkpoint query is reading waits for it, then commits; the view is exact at every step', async () => {
    const root = newLake('wait');
    const all = workload(800, 80, 19, START, DAY_MS - 1_000);
    await writeStream(root, all.records, 25, 2);
    const expected = scanRows(all.table);
    const engine = new ControlledEngine(root);
    const handed: MaintenanceRequest[] = [];
    const deps = { engine, deadline: 0, sleep: async () => {}, handOn: async (r: MaintenanceRequest) => void handed.push(r) };
    // A checkpoint alone (the day not compacted yet), its query held: it reads the day's raw objects.
    engine.holding = true;
    const checkpointing = await run(root, morningAfter(0), deps, { action: 'checkpoint', checkpoint: true });
    expect(checkpointing.checkpoint?.status).toBe('running');
    // Then a compaction of that day: its query runs, but its commit would delete what the checkpoint reads.
    engine.holding = false;
    const compacting = await run(root, morningAfter(0), deps, { action: 'compact', dt: dayText(0), checkpoint: false });
    expect(compacting.days.map((d) => d.status)).toEqual(['waiting']);
    expect(compacting.handedOn?.waitingFor).toEqual([expect.stringContaining(`compaction of ${dayText(0)} (waiting`), expect.stringContaining('checkpoint (query')]);
    expect((await viewRows(root)).rows).toEqual(expected);
    // The checkpoint's query ends: the next invocation publishes it, and the one after commits the compaction.
    await engine.release();
    const next = await run(root, morningAfter(0), { ...deps, deadline: undefined }, handed.at(-1)!);
    expect(next.checkpoint?.status).toBe('written');
    expect((await viewRows(root)).rows).toEqual(expected);
    const last = await run(root, morningAfter(0), { ...deps, deadline: undefined }, { action: 'compact', continuation: 5, checkpoint: false });
    expect(last.days.map((d) => d.status)).toEqual(['compacted']);
    expect((await viewRows(root)).rows).toEqual(expected);
    engine.close();
  });

  it('upgrades a lake maintained by 0.3.0: its checkpoint (pointer, part file) is read, its plans in flight are retired', async () => {
    const root = newLake('upgrade');
    const all = workload(1_500, 100, 23, START, 3 * DAY_MS);
    for (let d = 0; d < 3; d++) await writeStream(root, recordsOfDay(all, d), 25, 0);
    // The 0.3.0 checkpoint of the first two days: the state at their end as rows written by 0.3.0's own Parquet encoder, dt inside.
    const bound = dayText(2);
    const oldId = `${bound}-0123456789abcdef`;
    const batch = new RowBatch(['customer_id']);
    const flattener = new Flattener({ attributes: ['items'], partitionKey: 'pk', sortKey: undefined, carry: ['customer_id'] });
    for (const item of tableAfterDay(all, 1).values()) appendSnapshotItem(flattener, batch, item, START + 2 * DAY_MS - 1_000, 'state');
    const folder = join(root, `state/checkpoints/checkpoint=${oldId}`);
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'part-0000-of-0001.parquet'), checkpointFileOf030(batch));
    writeFileSync(join(root, 'state/checkpoints/current.json'), pointerText({ checkpoint: oldId, bound, parts: 1 }));
    // A 0.3.0 checkpoint plan in flight (version 1) with a part written, and its markers.
    mkdirSync(join(root, 'state/checkpoints/plans'), { recursive: true });
    writeFileSync(join(root, `state/checkpoints/plans/${dayText(3)}-fedcba9876543210.json`), JSON.stringify({ version: 1, id: `${dayText(3)}-fedcba9876543210`, bound: dayText(3), tasks: 2 }));
    writeFileSync(join(root, `state/checkpoints/plans/${dayText(3)}-fedcba9876543210.task-0.json`), '{}');
    mkdirSync(join(root, `state/checkpoints/checkpoint=${dayText(3)}-fedcba9876543210`), { recursive: true });
    writeFileSync(join(root, `state/checkpoints/checkpoint=${dayText(3)}-fedcba9876543210/part-0000-of-0002.parquet`), checkpointFileOf030(batch));
    // Before the upgrade, the view over 0.3.0's checkpoint and the third day equals the table.
    expect((await viewRows(root)).rows).toEqual(scanRows(tableAfterDay(all, 2)));
    const result = await run(root, morningAfter(2), { maintenance: { rebuildShare: 0 } });
    expect(result.checkpoint).toMatchObject({ status: 'written', days: [dayText(2)], pointer: { bound: dayText(3) } });
    expect((await viewRows(root)).rows).toEqual(scanRows(tableAfterDay(all, 2)));
    const store = new FolderStore(root);
    expect(await store.list('state/checkpoints/plans/')).toEqual([]);
    const folders = (await store.folders('state/checkpoints/')).filter((f) => f.startsWith('checkpoint='));
    // 0.3.0's published checkpoint is kept (retention), the unpublished part of its plan is gone.
    expect(folders).toContain(`checkpoint=${oldId}`);
    expect(folders).not.toContain(`checkpoint=${dayText(3)}-fedcba9876543210`);
  });
});
