import { runMaintenance, type MaintenanceConfig } from '../actions/maintenance.ts';
import { checkpointText, daysTable } from '../cli/compact-report.ts';
import { formatCount, type ProgressStream } from '../cli/progress.ts';
import { textTable } from '../cli/text-table.ts';
import { FolderStore } from '../lake/lake-store.ts';
import { DuckDbEngine } from '../maintenance/duckdb-engine.ts';
import { currentStateInputs, tableObjects, type ObjectSet, type ViewInputs } from '../maintenance/view-inputs.ts';
import { querySql, sqlLiteral } from '../sql/views.ts';
import { SEED_ITEMS } from './seed.ts';
import type { LocalSession } from './session.ts';
import { DAY_MS, simulateDays, type DayStats, type SimulatedClock } from './simulated-days.ts';
import { scanLines, viewLines } from './table-scan.ts';

/**
 * npm start -- --days N: N simulated days of changes into the local lake,
 * then the maintenance the Lambda runs each morning (runMaintenance on the
 * lake folder: compaction of the closed days, then a checkpoint), as of the
 * morning after the last day, when every simulated day is closed. Prints
 * the objects before and after, the bytes the current-state query reads (as
 * Athena selects objects), checks the view against a Scan of the table
 * before and after, and prints the seed's table from the view.
 */

type Print = (text?: string) => void;

export interface DaysDemoOptions {
  readonly days: number;
  readonly items: number;
  readonly batchSize: number;
  readonly firstDay: number;
  readonly progress: ProgressStream;
}

const count = (s: ObjectSet): Record<string, string> => ({ objects: formatCount(s.objects), bytes: formatCount(s.bytes) });

function streamTable(stats: readonly DayStats[]): string {
  return textTable(
    ['dt', 'records', 'INSERT', 'MODIFY', 'REMOVE', 'objects', 'bytes'],
    stats.map((d) => ({
      dt: d.dt,
      records: formatCount(d.records),
      INSERT: formatCount(d.events.INSERT),
      MODIFY: formatCount(d.events.MODIFY),
      REMOVE: formatCount(d.events.REMOVE),
      objects: formatCount(d.objects),
      bytes: formatCount(d.bytes),
    })),
  );
}

function readsTable(rows: readonly [string, ObjectSet, string][]): string {
  return textTable(['what', 'objects', 'bytes', 'which'], rows.map(([what, set, which]) => ({ what, ...count(set), which })));
}

const selects = (v: ViewInputs): string =>
  v.pointer.checkpoint === 'none'
    ? `no checkpoint: every day (dt >= ${v.pointer.bound})`
    : `checkpoint ${v.pointer.checkpoint} + ${v.days.length ? `days ${v.days[0]} … ${v.days[v.days.length - 1]}` : `no day at or after ${v.pointer.bound}`}`;

/** Returns true when the view equals the table's Scan before and after maintenance. */
export async function runDaysDemo(session: LocalSession, clock: SimulatedClock, options: DaysDemoOptions, print: Print): Promise<boolean> {
  const { config } = session;
  const last = new Date(options.firstDay + (options.days - 1) * DAY_MS).toISOString().slice(0, 10);
  const first = new Date(options.firstDay).toISOString().slice(0, 10);
  print(`ddb-flatten local pipeline: ${options.days} simulated day(s) of changes, ${first} … ${last}, to ${formatCount(options.items)} synthetic items and the seed's A1-A3`);
  print(`   lake ${session.lakeRoot}/${config.dataPrefix}/dt=YYYY-MM-DD/*.parquet, ${formatCount(options.batchSize)} stream records per handler call`);
  print();

  print('1. The stream, day by day: each record stamped within its day (ApproximateCreationDateTime decides dt), one object per batch:');
  print();
  const stats = await simulateDays(session, clock, options);
  print(streamTable(stats));
  print();

  const store = new FolderStore(session.lakeRoot);
  const prefixes = { dataPrefix: config.dataPrefix, statePrefix: config.maintenance.statePrefix };
  const tableBefore = await tableObjects(store, prefixes);
  const viewBefore = await currentStateInputs(store, prefixes);
  const scan = await scanLines(session);
  const lake = await session.openLake();
  const matchesBefore = sameLines(await viewLines(lake), scan);
  lake.close();

  // The morning after the last day, once its records can no longer arrive: every simulated day is closed.
  const m = config.maintenance;
  const now = options.firstDay + options.days * DAY_MS + (m.maximumRecordAgeSeconds + m.marginSeconds) * 1000;
  const maintenanceConfig: MaintenanceConfig = { ...config, maintenance: { ...m, lookbackDays: Math.max(m.lookbackDays, options.days) } };
  print(`2. Maintenance as of ${new Date(now).toISOString()}, the Lambda's {"action":"compact"} on the lake folder: compaction of the closed days, then a checkpoint,`);
  print('   each one SQL statement that DuckDB runs here as Athena runs it in AWS (sql/maintenance/):');
  print();
  const engine = new DuckDbEngine({ root: session.lakeRoot, prefix: config.dataPrefix, statePrefix: m.statePrefix, carried: config.flatten.carry });
  let result;
  try {
    result = await runMaintenance({ action: 'compact', checkpoint: true }, { store, engine, config: maintenanceConfig, now });
  } finally {
    engine.close();
  }
  print(daysTable([...result.days].reverse()));
  print();
  print(`   ${checkpointText(result.checkpoint!)}`);
  for (const failure of result.failed) print(`   FAILED: ${failure}`);
  print();

  const tableAfter = await tableObjects(store, prefixes);
  const viewAfter = await currentStateInputs(store, prefixes);
  print('3. What the current-state query reads (the objects its partition filters select, as Athena would):');
  print();
  print(
    readsTable([
      ['lake before maintenance', tableBefore, 'every object of the table'],
      ['current_state before', viewBefore, selects(viewBefore)],
      ['lake after maintenance', tableAfter, `every object of the table (+ ${formatCount(viewAfter.checkpoint.objects)} checkpoint object(s))`],
      ['current_state after', viewAfter, selects(viewAfter)],
    ]),
  );
  print();
  const ratio = viewAfter.bytes > 0 ? ` (${(viewBefore.bytes / viewAfter.bytes).toFixed(1)}× less)` : '';
  print(`   current_state now reads ${objectsText(viewAfter.objects)} instead of ${formatCount(viewBefore.objects)}, ${formatCount(viewAfter.bytes)} bytes instead of ${formatCount(viewBefore.bytes)}${ratio}`);
  print();

  const after = await session.openLake();
  const matchesAfter = sameLines(await viewLines(after), scan);
  const verdict = (ok: boolean): string => (ok ? 'OK' : 'MISMATCH');
  print(`4. current_state = a consistent Scan of the table (${formatCount(scan.length)} rows, flattened): before maintenance ${verdict(matchesBefore)}, after ${verdict(matchesAfter)}`);
  print();

  // The seed's named query over the current state of the seed's items only (the synthetic ones would fill pages).
  const seedKeys = SEED_ITEMS.map((i) => sqlLiteral((i.pk as { S: string }).S)).join(', ');
  const seedOnly = { ...after.names, currentView: `(SELECT * FROM ${after.names.currentView} WHERE pk IN (${seedKeys})) AS seed` };
  print('5. The seed\'s table: sql/queries/seed_table.sql over current_state, items A1-A3:');
  print();
  print(textTable(['pk', 'key', 'value'], await after.query(querySql('seed_table', seedOnly))));
  after.close();
  print();
  const ok = matchesBefore && matchesAfter && result.failed.length === 0;
  print(`verification: ${ok ? 'OK, the view equals the Scan before and after maintenance' : 'FAILED, the view differs from the Scan (see MISMATCH above)'}`);
  return ok;
}

const objectsText = (n: number): string => `${formatCount(n)} object${n === 1 ? '' : 's'}`;

function sameLines(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((line, i) => line === b[i]);
}
