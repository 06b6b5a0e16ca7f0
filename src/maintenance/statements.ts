import { dataColumns, rowColumnNames } from '../schema/row-schema.ts';
import { quoteIdent, renderSql, sqlLiteral, sqlTemplate, viewSql, type ViewPointer } from '../sql/views.ts';
import type { MaintenanceEngine } from './engine.ts';

/**
 * The maintenance statements, each one SELECT rendered from a template in
 * sql/maintenance/ with the column lists of the one row schema, like the
 * views. The engine (Athena or DuckDB) names the relations and wraps the
 * SELECT in its own UNLOAD or COPY (engine.ts).
 */

export const MAINTENANCE_TEMPLATES = {
  compact_day: 'maintenance/compact_day.sql',
  checkpoint: 'maintenance/checkpoint.sql',
  erase_find_days: 'maintenance/erase_find_days.sql',
  erase_checkpoint: 'maintenance/erase_checkpoint.sql',
} as const;

/** A key an erasure removes, as the lake's pk and sk columns hold it; without sk, every sort key of the pk. */
export interface ErasedKey {
  readonly pk: string;
  readonly sk?: string;
}

type Relations = MaintenanceEngine['relations'];

/**
 * A compacted day: the day's distinct rows in key order, without the dt column (the object's partition);
 * `exclude`, a predicate over a row (erasedRowsSql), leaves out the rows an erasure removes.
 */
export function compactDaySql(relations: Relations, carried: readonly string[], dt: string, exclude?: string): string {
  return renderSql(sqlTemplate(MAINTENANCE_TEMPLATES.compact_day), { table: relations.table, currentView: '', carried }, {
    data_columns: dataColumns(carried)
      .map((c) => quoteIdent(c.name))
      .join(', '),
    dt: sqlLiteral(dt),
    kept: exclude === undefined ? 'TRUE' : `NOT (${exclude})`,
  });
}

/** A timestamp literal both engines read as the lake's event_time (timestamp(3), UTC). */
function timestampLiteral(ms: number): string {
  if (!Number.isFinite(ms)) throw new Error(`not a time: ${ms}`);
  return `TIMESTAMP '${new Date(ms).toISOString().replace('T', ' ').replace('Z', '')}'`;
}

/**
 * The rows an erasure removes: the keys' rows written before `before` (the time it was asked for).
 * Never NULL (pk and event_time never are; sk is compared with IS NOT DISTINCT FROM), so NOT of it keeps
 * exactly the other rows.
 */
export function erasedRowsSql(keys: readonly ErasedKey[], before: number): string {
  if (keys.length === 0) throw new Error('an erasure needs at least one key');
  const one = (k: ErasedKey): string => (k.sk === undefined ? `pk = ${sqlLiteral(k.pk)}` : `(pk = ${sqlLiteral(k.pk)} AND sk IS NOT DISTINCT FROM ${sqlLiteral(k.sk)})`);
  return `(event_time < ${timestampLiteral(before)} AND (${keys.map(one).join(' OR ')}))`;
}

/** The days holding a row an erasure removes. */
export function eraseFindDaysSql(relations: Relations, erased: string): string {
  return renderSql(sqlTemplate(MAINTENANCE_TEMPLATES.erase_find_days), { table: relations.table, currentView: '', carried: [] }, { erased });
}

/** A checkpoint without the rows an erasure removes (its files keep dt as data). */
export function eraseCheckpointSql(relations: Relations, carried: readonly string[], checkpoint: string, erased: string): string {
  return renderSql(sqlTemplate(MAINTENANCE_TEMPLATES.erase_checkpoint), { table: relations.table, checkpoints: relations.checkpoints, currentView: '', carried }, { checkpoint: sqlLiteral(checkpoint), erased });
}

/**
 * A checkpoint with bound `until`: the current-state view's SQL as it reads
 * the `previous` checkpoint and the days from its bound, with the table cut
 * before `until` (the days still open stay out). The view ranks exactly
 * these rows, so a checkpoint is the view's answer as of its bound.
 */
export function checkpointSql(relations: Relations, carried: readonly string[], previous: ViewPointer, until: string): string {
  // Both bounds on the table itself: the view's own `dt >= bound` sits a query above, where an engine
  // that prunes partitions only by the predicates of the query that reads the table would miss it.
  const before = `(SELECT * FROM ${relations.table} WHERE dt >= ${sqlLiteral(previous.bound)} AND dt < ${sqlLiteral(until)}) AS closed_days`;
  const view = viewSql('current_state', { table: before, checkpoints: relations.checkpoints, currentView: '', carried }, previous);
  return renderSql(sqlTemplate(MAINTENANCE_TEMPLATES.checkpoint), { table: relations.table, currentView: '', carried }, {
    until: sqlLiteral(until),
    current_state: view,
  });
}

/** The columns a checkpoint's files hold, in order: the rows' columns and dt (as data). */
export const checkpointFileColumns = (carried: readonly string[]): string[] => rowColumnNames(carried);
