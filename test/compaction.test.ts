import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runMaintenance, type MaintenanceDeps } from '../src/actions/maintenance.ts';
import { FolderStore, type LakeStore } from '../src/lake/lake-store.ts';
import { closedBefore, closedDays, compactDay, compactionSettings, dayObjects, type CompactionContext, type CompactionSettings } from '../src/maintenance/compaction.ts';
import type { MaintenanceEngine } from '../src/maintenance/engine.ts';
import { queryWaiter } from '../src/maintenance/query-wait.ts';
import { dataColumns } from '../src/schema/row-schema.ts';
import { ControlledEngine, lakeEngine } from './support/engines.ts';
import { copyLake, CrashingStore, currentState, distinctRows, lakeConfig, workload, writeStream } from './support/maintenance-lake.ts';

/**
 * Compaction of closed days, on a lake folder written by the real stream
 * batch code, with the statement run by DuckDB (the local engine; Athena
 * runs the same SELECT in AWS): fewer objects, rows in key order,
 * duplicates folded, and the current-state view exact before, during
 * (crashes between any two steps, a writer racing the run, failed queries
 * and queries that outlast the run) and after.
 */

const DAYS = ['2026-11-20', '2026-11-21'];
const MORNING_AFTER = Date.UTC(2026, 10, 22, 8);
let root: string;
let expectedState: string[];
let expectedRows: string[];
const settings = (more: Partial<CompactionSettings> = {}) => compactionSettings({ dataPrefix: 'flattened', statePrefix: 'state', carried: ['customer_id'], ...more });

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ddbf-compaction-lake-'));
  // 1,200 changes over 150 keys across two days, in batches of 20: ~70 small objects per day, some batches twice.
  const { records } = workload(1_200, 150, 7, Date.UTC(2026, 10, 20), 2 * 86_400_000);
  await writeStream(root, records, 20, 4);
  expectedState = await currentState(root);
  expectedRows = await distinctRows(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

function context(store: LakeStore, engine: MaintenanceEngine, more: Partial<CompactionSettings> = {}): CompactionContext {
  return { store, engine, settings: settings(more), wait: queryWaiter(engine, { sleep: async () => {} }), checkpointReads: async () => false, plan: true };
}

/** Compacts one day with a fresh local engine (as a new process would). */
async function compact(lake: string, dt: string, store: LakeStore = new FolderStore(lake), more: Partial<CompactionSettings> = {}) {
  const engine = lakeEngine(lake);
  try {
    return await compactDay(context(store, engine, more), dt);
  } finally {
    engine.close();
  }
}

async function objectsOf(lake: string, dt: string) {
  return dayObjects(new FolderStore(lake), { dataPrefix: 'flattened' }, dt);
}

const COLUMNS = dataColumns(['customer_id']).map((c) => c.name);

/** Each object of a day: its rows, and how many are out of the maintenance order (or equal to the one before). */
async function filesOf(lake: string, dt: string): Promise<{ key: string; rows: number; unordered: number }[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const out = [];
    for (const o of await objectsOf(lake, dt)) {
      const path = join(lake, o.key).replaceAll("'", "''");
      const order = 'pk, sk, attribute, event_time, sequence, item_index, key, value_type, value';
      // Rows in file order, each compared with the one before it in the maintenance order (NULLs first, as the SQL sorts... last).
      const [r] = (
        await c.runAndReadAll(
          `SELECT count(*) AS n, count(*) FILTER (WHERE prev >= cur) AS bad FROM (SELECT row(${order}) AS cur, lag(row(${order})) OVER (ORDER BY file_row_number) AS prev FROM read_parquet('${path}', file_row_number = true))`,
        )
      ).getRowObjectsJS() as { n: bigint; bad: bigint }[];
      out.push({ key: o.key, rows: Number(r!.n), unordered: Number(r!.bad) });
    }
    return out;
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

/** The day's rows, every column, as sorted JSON lines. */
async function dayRows(lake: string, dt: string): Promise<string[]> {
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    const files = (await objectsOf(lake, dt)).map((o) => `'${join(lake, o.key).replaceAll("'", "''")}'`);
    const rows = (await c.runAndReadAll(`SELECT ${COLUMNS.join(', ')} FROM read_parquet([${files.join(', ')}], union_by_name = true)`)).getRowObjectsJS();
    return rows.map((r) => JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? String(v) : v instanceof Date ? v.getTime() : v))).sort();
  } finally {
    c.closeSync();
    db.closeSync();
  }
}

describe('compaction of a closed day (one statement, run by the engine)', () => {
  it('turns the day into one object in key order with every distinct row once, and the views read the same', async () => {
    const lake = copyLake(root);
    const before = await objectsOf(lake, DAYS[0]!);
    expect(before.length).toBeGreaterThan(40);
    const rowsBefore = await dayRows(lake, DAYS[0]!);
    const result = await compact(lake, DAYS[0]!);
    expect(result).toMatchObject({ status: 'compacted', objectsBefore: before.length, objectsAfter: 1 });
    const [file] = await filesOf(lake, DAYS[0]!);
    expect(file!.key).toMatch(/\/dt=2026-11-20\/compacted-[0-9a-f]{16}-0000\.parquet$/);
    // Sorted, no two rows equal: the batches written twice were folded.
    expect(file!.unordered).toBe(0);
    expect(file!.rows).toBeLessThan(rowsBefore.length);
    expect(await dayRows(lake, DAYS[0]!)).toEqual([...new Set(rowsBefore)].sort());
    expect(await distinctRows(lake)).toEqual(expectedRows);
    expect(await currentState(lake)).toEqual(expectedState);
    // A second run has nothing to do; the other day was not touched; nothing is left in the state folder.
    expect(await compact(lake, DAYS[0]!)).toMatchObject({ status: 'already-compact', objectsAfter: 1 });
    expect((await objectsOf(lake, DAYS[1]!)).length).toBeGreaterThan(40);
    expect(await new FolderStore(lake).list('state/compaction/')).toEqual([]);
  });

  it('cuts the local engine\'s objects at about the target size, each a complete Parquet file in key order', async () => {
    const lake = copyLake(root);
    const result = await compact(lake, DAYS[0]!, undefined, { targetBytes: 4_000 });
    expect(result.objectsAfter).toBeGreaterThan(1);
    const files = await filesOf(lake, DAYS[0]!);
    for (const f of files) expect(f.unordered, f.key).toBe(0);
    expect(await dayRows(lake, DAYS[0]!)).toEqual([...new Set(await dayRows(root, DAYS[0]!))].sort());
    expect(await currentState(lake)).toEqual(expectedState);
  });

  it('a commit that runs out of time copies what it can, and the next invocation copies only the rest, then deletes the originals', async () => {
    const lake = copyLake(root);
    const before = await objectsOf(lake, DAYS[0]!);
    const engine = lakeEngine(lake);
    const copies: string[] = [];
    const store = new FolderStore(lake);
    const counting: LakeStore = Object.assign(Object.create(store) as FolderStore, { copy: async (from: { key: string; size: number }, to: string) => void (copies.push(to), await store.copy(from as never, to)) });
    try {
      // Time runs out after two copies: the invocation ends with the day half copied and every original in place.
      const first = await compactDay({ ...context(counting, engine, { targetBytes: 4_000 }), hasTime: () => copies.length < 2 }, DAYS[0]!);
      expect(first.status).toBe('running');
      expect(copies).toHaveLength(2);
      const half = await objectsOf(lake, DAYS[0]!);
      for (const o of before) expect(half.map((h) => h.key)).toContain(o.key);
      expect(await currentState(lake)).toEqual(expectedState);
      // The next invocation (a run handed on: it plans nothing) copies the rest, none twice, and commits.
      const second = await compactDay({ ...context(counting, engine, { targetBytes: 4_000 }), plan: false }, DAYS[0]!);
      expect(second.status).toBe('compacted');
      expect(new Set(copies).size).toBe(copies.length);
      const after = await objectsOf(lake, DAYS[0]!);
      expect(after.map((o) => o.key).sort()).toEqual([...copies].sort());
      expect(after.length).toBeGreaterThan(2);
      expect(await dayRows(lake, DAYS[0]!)).toEqual([...new Set(await dayRows(root, DAYS[0]!))].sort());
      expect(await currentState(lake)).toEqual(expectedState);
      expect(await new FolderStore(lake).list('state/compaction/')).toEqual([]);
    } finally {
      engine.close();
    }
  });

  it('keeps the view exact after a crash between any two steps, and the next runs complete the compaction', async () => {
    const clean = copyLake(root);
    await compact(clean, DAYS[0]!);
    const cleanObjects = (await objectsOf(clean, DAYS[0]!)).map((o) => o.key);
    const cleanRows = await dayRows(clean, DAYS[0]!);
    // Count the changes a run makes (writes, copies, deletes), then crash before each one in turn.
    const probe = copyLake(root);
    const probing = new CrashingStore(new FolderStore(probe), Number.POSITIVE_INFINITY);
    await compact(probe, DAYS[0]!, probing);
    expect(probing.changes).toBeGreaterThan(4);
    for (let crashAt = 1; crashAt <= probing.changes; crashAt++) {
      const lake = copyLake(root);
      await expect(compact(lake, DAYS[0]!, new CrashingStore(new FolderStore(lake), crashAt)), `crash at change ${crashAt}`).rejects.toThrow(/crash before change/);
      expect(await currentState(lake), `view right after a crash at change ${crashAt}`).toEqual(expectedState);
      // A new process: its engine does not know the query the crashed one started; a run that finds it
      // "unknown" (FAILED) drops that plan, and the next run plans the day again.
      const statuses = [];
      for (let run = 0; run < 3; run++) {
        const result = await compact(lake, DAYS[0]!);
        statuses.push(result.status);
        if (result.status !== 'failed') break;
      }
      expect(['compacted', 'already-compact'], `resumed after a crash at change ${crashAt}: ${statuses.join(', ')}`).toContain(statuses.at(-1));
      expect(statuses.filter((s) => s === 'failed').length).toBeLessThanOrEqual(1);
      expect(await new FolderStore(lake).list('state/compaction/')).toEqual([]);
      expect((await objectsOf(lake, DAYS[0]!)).map((o) => o.key)).toEqual(cleanObjects);
      expect(await dayRows(lake, DAYS[0]!)).toEqual(cleanRows);
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
      if (!raced && /\/compaction\/dt=[^/]+\/[0-9a-f]{16}\.json$/.test(key)) {
        raced = true;
        await writeStream(lake, late.records, 30, 0);
      }
    });
    const first = await compact(lake, DAYS[0]!, racing);
    expect(raced).toBe(true);
    expect(first.status).toBe('compacted');
    const afterFirst = await objectsOf(lake, DAYS[0]!);
    expect(afterFirst.length).toBe(2); // the compacted object and the late one, which was not in the plan
    const viewAfterRace = await currentState(lake);
    const second = await compact(lake, DAYS[0]!);
    expect(second).toMatchObject({ status: 'compacted', objectsBefore: 2, objectsAfter: 1 });
    expect(await currentState(lake)).toEqual(viewAfterRace);
  });

  it('a failed or cancelled query leaves the day as it was, and the next run compacts it', async () => {
    for (const kind of ['fail', 'cancel'] as const) {
      const lake = copyLake(root);
      const engine = new ControlledEngine(lake);
      engine.failNext('HIVE_CANNOT_OPEN_SPLIT: an object went away', kind);
      const before = await objectsOf(lake, DAYS[0]!);
      const failed = await compactDay(context(new FolderStore(lake), engine), DAYS[0]!);
      expect(failed).toMatchObject({ status: 'failed', reason: `${kind === 'fail' ? 'FAILED' : 'CANCELLED'}: HIVE_CANNOT_OPEN_SPLIT: an object went away` });
      expect(await objectsOf(lake, DAYS[0]!)).toEqual(before);
      expect(await new FolderStore(lake).list('state/compaction/')).toEqual([]);
      expect(await currentState(lake)).toEqual(expectedState);
      expect(await compactDay(context(new FolderStore(lake), engine), DAYS[0]!)).toMatchObject({ status: 'compacted', objectsAfter: 1 });
      // The day planned again from the same objects is a new query: the failed one's token would return it.
      expect(engine.started).toHaveLength(2);
      expect(engine.started[1]!.token).not.toBe(engine.started[0]!.token);
      expect(engine.started[1]!.statement.destination).not.toBe(engine.started[0]!.statement.destination);
      expect(await currentState(lake)).toEqual(expectedState);
      engine.close();
    }
  });

  it('a statement that succeeds without reading the day (outside the projection range, a wrong location) deletes nothing', async () => {
    const lake = copyLake(root);
    const engine = new ControlledEngine(lake);
    engine.succeedEmpty();
    const before = await objectsOf(lake, DAYS[0]!);
    const result = await compactDay(context(new FolderStore(lake), engine), DAYS[0]!);
    expect(result.status).toBe('failed');
    expect(result.reason).toMatch(/^the statement wrote 0 rows and scanned 0 bytes for the \d+ objects \([\d]+ bytes\) of dt=2026-11-20: is the day inside the Glue table's partition projection range \(projection\.dt\.range\) and its location right\? Nothing was deleted\.$/);
    expect(await objectsOf(lake, DAYS[0]!)).toEqual(before);
    expect(await new FolderStore(lake).list('state/compaction/')).toEqual([]);
    expect(await currentState(lake)).toEqual(expectedState);
    engine.close();
  });

  it('a query that outlasts the invocation: the run hands on, the next invocation resumes from the stored query id and commits', async () => {
    const lake = copyLake(root);
    const engine = new ControlledEngine(lake);
    engine.holding = true;
    const handed: unknown[] = [];
    const deps: MaintenanceDeps = {
      store: new FolderStore(lake),
      engine,
      config: lakeConfig(),
      now: MORNING_AFTER,
      deadline: 0, // no time to wait at all
      sleep: async () => {},
      handOn: async (request) => void handed.push(request),
    };
    const first = await runMaintenance({ action: 'compact', checkpoint: true }, deps);
    // Both days' queries were started at once; nothing was committed, the checkpoint waits for them.
    expect(first.days.map((d) => d.status)).toEqual(['running', 'running']);
    expect(engine.started).toHaveLength(2);
    expect(first.checkpoint).toMatchObject({ status: 'current', heldBy: ['the compaction of 2026-11-20 is in flight (holds the checkpoint before 2026-11-20)', 'the compaction of 2026-11-21 is in flight (holds the checkpoint before 2026-11-21)'] });
    expect(first.handedOn).toMatchObject({ continuation: 1 });
    expect(handed).toEqual([{ action: 'compact', checkpoint: true, continuation: 1 }]);
    expect(await currentState(lake)).toEqual(expectedState);
    // The next invocation, still before the queries end: it plans nothing new, starts nothing, hands on again.
    const second = await runMaintenance(handed.at(-1) as never, deps);
    expect(second.days.map((d) => d.status)).toEqual(['running', 'running']);
    expect(engine.started).toHaveLength(2);
    expect(second.handedOn).toMatchObject({ continuation: 2 });
    await engine.release();
    const third = await runMaintenance(handed.at(-1) as never, { ...deps, deadline: undefined });
    expect(third.days.map((d) => d.status)).toEqual(['compacted', 'compacted']);
    // The compactions done, it plans the checkpoint it was handed on to plan, and writes it.
    expect(third.checkpoint?.status).toBe('written');
    expect(third.handedOn).toBeUndefined();
    expect(third.failed).toEqual([]);
    expect(engine.started).toHaveLength(3);
    expect(await currentState(lake)).toEqual(expectedState);
    engine.close();
  });

  it('retires a 0.3.0 plan: while all its inputs are there its outputs go and the day is planned again; once one is gone the rest go', async () => {
    for (const committing of [false, true]) {
      const lake = copyLake(root);
      const store = new FolderStore(lake);
      const inputs = await objectsOf(lake, DAYS[0]!);
      const id = 'a0b1c2d3e4f50617';
      // A 0.3.0 plan (version 1), one task's output written (the day's rows, folded), its marker.
      const state = join(lake, 'state/compaction/dt=2026-11-20');
      mkdirSync(state, { recursive: true });
      writeFileSync(join(state, `${id}.json`), JSON.stringify({ version: 1, dt: DAYS[0], id, inputs, tasks: 1, carried: ['customer_id'] }));
      writeFileSync(join(state, `${id}.task-0.json`), JSON.stringify({ task: 0, outputs: [], rowsIn: 0, rowsOut: 0 }));
      const scratch = copyLake(root);
      await compact(scratch, DAYS[0]!);
      const [compacted] = await objectsOf(scratch, DAYS[0]!);
      copyFileSync(join(scratch, compacted!.key), join(lake, `flattened/dt=${DAYS[0]}/compacted-${id}-000-0000.parquet`));
      // The commit was interrupted after deleting some inputs, or had not started.
      if (committing) await store.delete(inputs.slice(0, 3).map((o) => o.key));
      expect(await currentState(lake)).toEqual(expectedState);
      const result = await compact(lake, DAYS[0]!);
      expect(result.status).toBe(committing ? 'already-compact' : 'compacted');
      const after = await objectsOf(lake, DAYS[0]!);
      expect(after).toHaveLength(1);
      expect(after[0]!.key).toContain(committing ? `compacted-${id}-000-0000` : 'compacted-');
      expect(await new FolderStore(lake).list('state/compaction/')).toEqual([]);
      expect(await currentState(lake)).toEqual(expectedState);
    }
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
