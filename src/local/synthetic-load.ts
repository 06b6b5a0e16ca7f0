import type { Item } from '../flatten/attribute-value.ts';
import { createProgress, formatCount, formatRate, type ProgressStream } from '../cli/progress.ts';
import { syntheticItem, syntheticRowCount } from './seed.ts';
import type { LocalSession } from './session.ts';

/**
 * --items N: N synthetic items written to DynamoDB in pages, each page's
 * stream records handed to the handler in Lambda-sized batches, then the
 * lake counted and checked against the row count known in advance.
 * Memory holds one page of items and records (plus dynalite's table).
 */

export interface SyntheticOptions {
  readonly items: number;
  /** Records per handler invocation (Lambda's BatchSize). */
  readonly batchSize: number;
  readonly progress: ProgressStream;
}

/** Returns true when every count matches. */
export async function runSyntheticLoad(session: LocalSession, options: SyntheticOptions, print: (text?: string) => void): Promise<boolean> {
  const { items, batchSize } = options;
  const { table, lambda } = session;
  print(`ddb-flatten local pipeline: ${formatCount(items)} synthetic items, ${formatCount(batchSize)} stream records per handler call`);
  print(`   lake ${session.lakeRoot}/${session.config.dataPrefix}/dt=YYYY-MM-DD/*.parquet`);

  const progress = createProgress({ stream: options.progress });
  const page = Math.max(batchSize, 1000);
  for (let start = 0; start < items; start += page) {
    const pageItems: Item[] = [];
    for (let i = start; i < Math.min(items, start + page); i++) pageItems.push(syntheticItem(i));
    await table.putMany(pageItems);
    while (table.pendingCount > 0) await lambda.invoke(table.take(batchSize));
    const done = start + pageItems.length;
    progress.update(done / items, `${formatCount(done)}/${formatCount(items)} items → ${formatCount(lambda.totals.rows)} rows, ${formatRate(done, progress.elapsedMs(), 'items')}`);
  }
  progress.done();
  const seconds = progress.elapsedMs() / 1000;

  const lake = await session.openLake();
  const expectedRows = syntheticRowCount(items);
  const tableRows = await lake.count(lake.names.table);
  const currentRows = await lake.count(lake.names.currentView);
  const [distinct] = await lake.query(`SELECT count(DISTINCT pk) AS n FROM ${lake.names.table}`);
  const distinctItems = Number(distinct?.n ?? 0);
  const t = lambda.totals;
  const checks: [string, number, number][] = [
    ['stream records', t.records, items],
    ['rows written by the handler', t.rows, expectedRows],
    ['rows in the lake table', tableRows, expectedRows],
    ['rows in current_state', currentRows, expectedRows],
    ['distinct items (pk)', distinctItems, items],
    ['records quarantined', t.quarantined, 0],
  ];
  print();
  print(`   handler: ${formatCount(t.invocations)} invocations, ${formatCount(t.objects)} Parquet objects, ${formatCount(t.bytes)} bytes`);
  const width = Math.max(...checks.map(([label]) => label.length));
  for (const [label, got, want] of checks) {
    print(`   ${`${label}:`.padEnd(width + 1)} ${formatCount(got).padStart(12)}  expected ${formatCount(want)}${got === want ? '' : '  MISMATCH'}`);
  }
  const ok = checks.every(([, got, want]) => got === want);
  print();
  print(`verification: ${ok ? 'OK, every count matches' : 'FAILED, counts differ (see MISMATCH above)'}`);
  print(`time: ${seconds.toFixed(1)} s (${formatRate(items, seconds * 1000, 'items')})`);
  return ok;
}
