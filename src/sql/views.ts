import { readFileSync } from 'node:fs';
import { rowColumnNames } from '../schema/row-schema.ts';

/**
 * The Athena views and sample queries, kept as SQL files in the common
 * subset of Trino (Athena engine 3) and DuckDB. The module registers them
 * in Glue and as named queries; npm start and the tests run them in DuckDB.
 * Column lists always come from the row schema.
 */

export const VIEWS = { current_state: 'views/current_state.sql' } as const;
export const QUERIES = {
  seed_table: 'queries/seed_table.sql',
  values_per_key_per_day: 'queries/values_per_key_per_day.sql',
  changes_per_day: 'queries/changes_per_day.sql',
} as const;
export type ViewName = keyof typeof VIEWS;
export type QueryName = keyof typeof QUERIES;

export interface SqlNames {
  /** The flattened table, as SQL text (e.g. "lake"."orders_flat" or a DuckDB view name). */
  readonly table: string;
  /** The current-state view, as SQL text. */
  readonly currentView: string;
  readonly carried: readonly string[];
}

const sqlRoot = new URL('../../sql/', import.meta.url);

export function sqlTemplate(file: string): string {
  return readFileSync(new URL(file, sqlRoot), 'utf8');
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function renderSql(template: string, names: SqlNames): string {
  const columns = rowColumnNames(names.carried).map(quoteIdent).join(', ');
  return template
    .replaceAll('{{columns}}', columns)
    .replaceAll('{{table}}', names.table)
    .replaceAll('{{current_view}}', names.currentView)
    .trim();
}

export function viewSql(view: ViewName, names: SqlNames): string {
  return renderSql(sqlTemplate(VIEWS[view]), names);
}

export function querySql(query: QueryName, names: SqlNames): string {
  return renderSql(sqlTemplate(QUERIES[query]), names);
}
