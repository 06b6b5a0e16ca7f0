import { readFileSync } from 'node:fs';
import { elementColumnName, ELEMENT_NAME_RULES } from '../schema/element-views.ts';
import { rowColumnNames } from '../schema/row-schema.ts';

/**
 * The Athena views and sample queries, kept as SQL files in the common
 * subset of Trino (Athena engine 3) and DuckDB (test/sql-dialect.test.ts
 * parses every one with a Trino-grammar parser and runs it in DuckDB). The
 * module registers them in Glue and as named queries; npm start and the
 * tests run them in DuckDB. Column lists always come from the row schema.
 *
 * A template's placeholders are `{{name}}`. They are filled here with SQL
 * text, or, in the Terraform module, with Terraform expressions
 * (modules/sql-expressions.ts) from the same files.
 */

export const VIEWS = { current_state: 'views/current_state.sql', expired_items: 'views/expired_items.sql', element_view: 'views/element_view.sql' } as const;
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
  /** The checkpoints table, as SQL text (the current-state view reads the latest checkpoint). */
  readonly checkpoints?: string;
  readonly carried: readonly string[];
}

/** Which checkpoint the current-state view reads, and the first day it does not cover (src/maintenance/checkpoint.ts). */
export interface ViewPointer {
  readonly checkpoint: string;
  readonly bound: string;
}

/** The view's pointer literals, as the SQL holds them. */
const POINTER_SQL = {
  checkpoint: /WHERE checkpoint = '[^']*'/g,
  bound: /WHERE dt >= '[^']*'/g,
} as const;

const sqlRoot = new URL('../../sql/', import.meta.url);

/**
 * The bundles (the Lambda zip, the packaged CLI) have no sql/ folder beside them: esbuild defines
 * this as every template's text (modules/lambda-bundle.ts, sqlTemplatesDefine). Run from the
 * sources, it is undefined and the files are read.
 */
declare const __DDB_FLATTEN_SQL__: Readonly<Record<string, string>> | undefined;

export function sqlTemplate(file: string): string {
  if (typeof __DDB_FLATTEN_SQL__ !== 'undefined') {
    const text = __DDB_FLATTEN_SQL__[file];
    if (text === undefined) throw new Error(`SQL template ${file} is not in this bundle`);
    return text;
  }
  return readFileSync(new URL(file, sqlRoot), 'utf8');
}

/** The placeholders of a template, in order of first use. */
export function placeholders(template: string): string[] {
  return [...new Set([...template.matchAll(/\{\{([a-z_]+)\}\}/g)].map((m) => m[1]))];
}

/** Fills every placeholder; a placeholder without a fill is an error (a template and its caller disagree). */
export function fillSql(template: string, fills: Readonly<Record<string, string>>): string {
  for (const name of placeholders(template)) {
    if (!(name in fills)) throw new Error(`SQL template placeholder {{${name}}} has no value (given: ${Object.keys(fills).join(', ')})`);
  }
  return template.replace(/\{\{([a-z_]+)\}\}/g, (_, name: string) => fills[name]).trim();
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

export function sqlLiteral(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/** The fills shared by every template: the quoted column list and the two relation names. */
function commonFills(names: SqlNames): Record<string, string> {
  return {
    columns: rowColumnNames(names.carried).map(quoteIdent).join(', '),
    table: names.table,
    current_view: names.currentView,
    ...(names.checkpoints === undefined ? {} : { checkpoints: names.checkpoints }),
  };
}

export function renderSql(template: string, names: SqlNames, extra: Readonly<Record<string, string>> = {}): string {
  return fillSql(template, { ...commonFills(names), ...extra });
}

/** The current-state view over the given checkpoint and the days from its bound. */
export function viewSql(view: 'current_state', names: SqlNames & { checkpoints: string }, pointer: ViewPointer): string {
  return renderSql(sqlTemplate(VIEWS[view]), names, { checkpoint: sqlLiteral(pointer.checkpoint), bound: sqlLiteral(pointer.bound) });
}

/**
 * The expired-items view (sql/views/expired_items.sql): the last version of each item Time to Live
 * deleted, over the table's whole history. It reads no checkpoint (they leave expired items out), so
 * it has no pointer and the maintenance run never moves it.
 */
export function expiredItemsSql(names: SqlNames): string {
  return renderSql(sqlTemplate(VIEWS.expired_items), names);
}

/**
 * The same view SQL pointed at another checkpoint: only the two literals
 * change, so a job that knows nothing of the configuration (the Lambda's
 * checkpoint run) can move a view that Terraform rendered, and get exactly
 * the text Terraform renders for the new pointer.
 */
export function repointViewSql(sql: string, pointer: ViewPointer): string {
  for (const [name, pattern] of Object.entries(POINTER_SQL)) {
    const found = sql.match(pattern)?.length ?? 0;
    if (found !== 1) throw new Error(`the current-state view's SQL has ${found} ${name} literal(s) (${pattern.source}), expected exactly one: is it this module's view?`);
  }
  return sql
    .replace(POINTER_SQL.checkpoint, () => `WHERE checkpoint = ${sqlLiteral(pointer.checkpoint)}`)
    .replace(POINTER_SQL.bound, () => `WHERE dt >= ${sqlLiteral(pointer.bound)}`);
}

export function querySql(query: QueryName, names: SqlNames): string {
  return renderSql(sqlTemplate(QUERIES[query]), names);
}

/** One key's two columns in the element view: the text and the number, from the current state's value and value_number. */
export const ELEMENT_KEY_COLUMNS_FORMAT =
  ",\n       max(CASE WHEN key = '%s' THEN value END) AS \"%s\",\n       max(CASE WHEN key = '%s' THEN value_number END) AS \"%s" + ELEMENT_NAME_RULES.numberSuffix + '"';

function formatKeyColumns(key: string): string {
  const literal = key.replaceAll("'", "''");
  const column = elementColumnName(key);
  const args = [literal, column, literal, column];
  return ELEMENT_KEY_COLUMNS_FORMAT.replace(/%s/g, () => args.shift()!);
}

/** The per-element view of one exploded attribute (sql/views/element_view.sql). */
export function elementViewSql(attribute: string, keys: readonly string[], names: SqlNames): string {
  return fillSql(sqlTemplate(VIEWS.element_view), {
    ...commonFills(names),
    attribute: sqlLiteral(attribute),
    key_columns: keys.map(formatKeyColumns).join(''),
    carried_columns: names.carried.map((c) => `, ${quoteIdent(c)}`).join(''),
  });
}
