import { elementViewName } from '../schema/element-views.ts';
import { querySql, quoteIdent } from '../sql/views.ts';
import type { DuckDbLake } from '../sql/duckdb-lake.ts';
import type { LambdaTotals } from './local-lambda.ts';
import { ELEMENT_VIEWS, SEED_DELETE, SEED_ITEMS, SEED_UPDATE } from './seed.ts';
import type { LocalSession } from './session.ts';
import type { StreamRecord } from './stream-events.ts';
import { textTable } from '../cli/text-table.ts';

/**
 * The default run: the seed's items through DynamoDB, the stream, the
 * handler and the lake, printed as Athena would show them; then a MODIFY and
 * a REMOVE, and the current state again.
 */

type Print = (text?: string) => void;

const SEED_COLUMNS = ['pk', 'key', 'value'] as const;

async function deliver(session: LocalSession, print: Print): Promise<void> {
  const records = session.table.take();
  const before: LambdaTotals = { ...session.lambda.totals };
  await session.lambda.invoke(records);
  const t = session.lambda.totals;
  print(`   stream: ${records.length} records (${records.map((r: StreamRecord) => r.eventName).join(', ')})`);
  print(
    `   handler: ${t.records - before.records} records → ${t.rows - before.rows} rows in ${t.objects - before.objects} Parquet object(s)` +
      `, ${t.quarantined - before.quarantined} quarantined`,
  );
}

async function printCurrentState(session: LocalSession, print: Print): Promise<DuckDbLake> {
  const lake = await session.openLake();
  const rows = await lake.namedQuery('seed_table');
  print(textTable(SEED_COLUMNS, rows));
  return lake;
}

export async function runSeedDemo(session: LocalSession, print: Print): Promise<void> {
  const { config, table } = session;
  print('ddb-flatten local pipeline: dynalite → DynamoDB Streams events → stream handler → Parquet lake → DuckDB');
  print(`   table "${table.name}" (partition key ${config.flatten.partitionKey}), exploding ${config.flatten.attributes.join(', ')}`);
  print(`   lake ${session.lakeRoot}/${config.dataPrefix}/dt=YYYY-MM-DD/*.parquet`);
  print();

  print(`1. PutItem ${SEED_ITEMS.map((i) => (i.pk as { S: string }).S).join(', ')}`);
  for (const item of SEED_ITEMS) await table.put(item);
  await deliver(session, print);
  print();
  print('2. The current_state view (sql/views/current_state.sql) in DuckDB, query sql/queries/seed_table.sql:');
  print();
  const first = await printCurrentState(session, print);
  const elements = elementViewName('items');
  print();
  print(`   The same items one row per element, the per-element view ${elements} (sql/views/element_view.sql, keys ${ELEMENT_VIEWS.items.join(', ')}):`);
  print();
  const columns = ['pk', 'item_index', ...ELEMENT_VIEWS.items];
  const rows = await first.query(`SELECT ${columns.map(quoteIdent).join(', ')} FROM ${quoteIdent(elements)} ORDER BY pk, item_index`);
  print(textTable(columns, rows));
  first.close();
  print();

  print(`3. ${SEED_UPDATE.description}`);
  await table.update(SEED_UPDATE.key, SEED_UPDATE.input);
  print(`   ${SEED_DELETE.description}`);
  await table.delete(SEED_DELETE.key);
  await deliver(session, print);
  print();
  print('4. current_state after the changes:');
  print();
  const lake = await printCurrentState(session, print);
  print();

  const history = await lake.query(querySql('changes_per_day', lake.names));
  const byEvent = new Map<string, number>();
  for (const r of history) byEvent.set(String(r.event_name), (byEvent.get(String(r.event_name)) ?? 0) + Number(r.versions));
  const total = await lake.count(lake.names.table);
  print(`The lake keeps every version: ${total} rows; item versions by event: ${[...byEvent].map(([e, n]) => `${e} ${n}`).join(', ')}.`);
}
