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
} as const;

type Relations = MaintenanceEngine['relations'];

/** A compacted day: the day's distinct rows in key order, without the dt column (the object's partition). */
export function compactDaySql(relations: Relations, carried: readonly string[], dt: string): string {
  return renderSql(sqlTemplate(MAINTENANCE_TEMPLATES.compact_day), { table: relations.table, currentView: '', carried }, {
    data_columns: dataColumns(carried)
      .map((c) => quoteIdent(c.name))
      .join(', '),
    dt: sqlLiteral(dt),
  });
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
