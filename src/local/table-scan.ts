import { ScanCommand, type ScanCommandOutput } from '@aws-sdk/client-dynamodb';
import type { Item } from '../flatten/attribute-value.ts';
import { Flattener } from '../flatten/flatten.ts';
import { RowBatch } from '../flatten/row-batch.ts';
import { appendSnapshotItem } from '../flatten/stream-record.ts';
import type { DuckDbLake } from '../sql/duckdb-lake.ts';
import { quoteIdent } from '../sql/views.ts';
import type { LocalSession } from './session.ts';
import { toWireItem } from './stream-events.ts';

/**
 * What the current-state view must equal: a consistent Scan of the table,
 * every item flattened by the same engine. Compared on the columns that
 * hold the item's content (not event_time or sequence, which a Scan has
 * not), as sorted lines.
 */

export const CONTENT_COLUMNS = ['pk', 'sk', 'attribute', 'item_index', 'key', 'value', 'value_type'] as const;

const line = (values: readonly unknown[]): string => JSON.stringify(values.map((v) => v ?? null));

/** The table's items, flattened, as sorted content lines (removed attributes leave nothing, as in the view). */
export async function scanLines(session: LocalSession): Promise<string[]> {
  const batch = new RowBatch(session.config.flatten.carry);
  const flattener = new Flattener(session.config.flatten);
  let start: ScanCommandOutput['LastEvaluatedKey'];
  do {
    const page: ScanCommandOutput = await session.dynamodb.client.send(new ScanCommand({ TableName: session.table.name, ConsistentRead: true, ExclusiveStartKey: start }));
    for (const raw of page.Items ?? []) appendSnapshotItem(flattener, batch, toWireItem(raw) as Item, 0, 'scan');
    start = page.LastEvaluatedKey;
  } while (start);
  return [...batch.rows()].filter((r) => r.value_type !== 'ABSENT').map((r) => line(CONTENT_COLUMNS.map((c) => r[c]))).sort();
}

/** The current-state view's rows as the same lines. */
export async function viewLines(lake: DuckDbLake): Promise<string[]> {
  const rows = await lake.query(`SELECT ${CONTENT_COLUMNS.map(quoteIdent).join(', ')} FROM ${lake.names.currentView}`);
  return rows.map((r) => line(CONTENT_COLUMNS.map((c) => r[c]))).sort();
}
