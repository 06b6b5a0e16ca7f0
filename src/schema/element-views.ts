import { type ColumnSpec, dataColumns, ROW_COLUMNS } from './row-schema.ts';

/**
 * The per-element views: for an exploded attribute holding a list of maps,
 * one row per (pk, sk, item_index) of the current state with one column per
 * configured key path, as the exact text, plus `<column>_number` (DOUBLE,
 * null unless the value is a DynamoDB number). The wide shape analysts want
 * beside the long table; configured as `elementViews: { items: ['sku', 'qty'] }`
 * (`element_view_keys` in the Terraform module).
 *
 * Names are derived, never quoted around: every character outside
 * A-Z a-z 0-9 _ becomes `_`, then the result is lowercased (Glue lowercases
 * names). The module computes the same in Terraform, so the rules here are
 * written to be expressible there (see ELEMENT_NAME_RULES).
 */

export type ElementViews = Readonly<Record<string, readonly string[]>>;

/** The derivation, in a form both TypeScript and Terraform's replace()/lower() apply identically. */
export const ELEMENT_NAME_RULES = {
  /** Characters replaced by `_` (RE2 and JavaScript agree on this class; `u` flag so astral characters count once). */
  replace: '[^A-Za-z0-9_]',
  /** What a derived column name must look like: Athena reads unquoted lowercase identifiers that start with a letter or _. */
  column: '^[a-z_][a-z0-9_]{0,119}$',
  viewSuffix: '_elements',
  numberSuffix: '_number',
} as const;

const REPLACE = new RegExp(ELEMENT_NAME_RULES.replace, 'gu');

/** The column name of a key path: `address.geo.lat` → `address_geo_lat`. */
export function elementColumnName(keyPath: string): string {
  return keyPath.replace(REPLACE, '_').toLowerCase();
}

/** The Glue view of an exploded attribute's elements: `items` → `items_elements`. */
export function elementViewName(attribute: string): string {
  return `${elementColumnName(attribute)}${ELEMENT_NAME_RULES.viewSuffix}`;
}

/** Descriptions of a key's two columns, with %s for the key path (the Terraform module formats the same text). */
export const KEY_COLUMN_COMMENT = 'Value at key path %s of the element (exact text, as in the value column).';
export const NUMBER_COLUMN_COMMENT = '%s as DOUBLE when it is a DynamoDB number (null otherwise).';

const column = (name: string, glue: ColumnSpec['glue'], description: string): ColumnSpec => ({
  name,
  parquet: 'STRING',
  glue,
  nullable: true,
  description,
});
const fixed = (name: 'pk' | 'sk' | 'item_index' | 'event_time'): ColumnSpec => ROW_COLUMNS.find((c) => c.name === name)!;

/** Columns before the key columns and after them (the carried attributes come between). */
export const ELEMENT_VIEW_LEADING = ['pk', 'sk', 'item_index'] as const;
export const ELEMENT_VIEW_TRAILING = ['event_time'] as const;

/** The view's columns in order: pk, sk, item_index, per key `<col>` and `<col>_number`, the carried attributes, event_time. */
export function elementViewColumns(keys: readonly string[], carried: readonly string[]): ColumnSpec[] {
  const keyColumns = keys.flatMap((k) => {
    const name = elementColumnName(k);
    return [
      column(name, 'string', KEY_COLUMN_COMMENT.replace('%s', () => k)),
      column(`${name}${ELEMENT_NAME_RULES.numberSuffix}`, 'double', NUMBER_COLUMN_COMMENT.replace('%s', () => k)),
    ];
  });
  const carriedColumns = dataColumns(carried).slice(ROW_COLUMNS.length);
  return [...ELEMENT_VIEW_LEADING.map(fixed), ...keyColumns, ...carriedColumns, ...ELEMENT_VIEW_TRAILING.map(fixed)];
}

/**
 * Every reason the configuration cannot become views, one line each, naming
 * the attribute or key and the clash. `otherNames` are the catalog's other
 * table and view names (a derived view name must not take one of them).
 */
export function elementViewProblems(views: ElementViews, explode: readonly string[], carried: readonly string[], otherNames: readonly string[]): string[] {
  const problems: string[] = [];
  const viewNames = new Map<string, string>();
  for (const [attribute, keys] of Object.entries(views)) {
    const where = `elementViews.${attribute}`;
    if (!explode.includes(attribute)) problems.push(`${where}: "${attribute}" is not an exploded attribute (explodeAttributes: ${explode.join(', ')})`);
    const view = elementViewName(attribute);
    const taken = viewNames.get(view);
    if (taken !== undefined) problems.push(`${where}: the view name "${view}" is also derived from "${taken}"`);
    else if (otherNames.includes(view)) problems.push(`${where}: the view name "${view}" is already the name of a table or view of the catalog`);
    viewNames.set(view, attribute);
    if (!Array.isArray(keys) || keys.length === 0) {
      problems.push(`${where}: list at least one key path`);
      continue;
    }
    const columns = new Map<string, string>([
      ...[...ELEMENT_VIEW_LEADING, ...ELEMENT_VIEW_TRAILING].map((c): [string, string] => [c, `the view column "${c}"`]),
      ...carried.map((c): [string, string] => [c, `the carried attribute "${c}"`]),
    ]);
    for (const key of keys) {
      const name = elementColumnName(key);
      if (!new RegExp(ELEMENT_NAME_RULES.column).test(name)) {
        problems.push(`${where}: key "${key}" gives the column name "${name}", which must match ${ELEMENT_NAME_RULES.column} (start with a letter or _)`);
        continue;
      }
      for (const candidate of [name, `${name}${ELEMENT_NAME_RULES.numberSuffix}`]) {
        const clash = columns.get(candidate);
        if (clash !== undefined) problems.push(`${where}: key "${key}" gives the column "${candidate}", which clashes with ${clash}`);
        else columns.set(candidate, `the column of key "${key}"`);
      }
    }
  }
  return problems;
}
