/**
 * The one definition of the flattened row.
 *
 * Every consumer derives from this file: the Parquet writer (physical and
 * logical types), the Glue table (column names, Hive types, comments), the
 * Athena/DuckDB views (column lists), the CLI's JSONL output (key order) and
 * the tests. Add or change a column here and nowhere else.
 */

/** Physical + logical Parquet type of a column, as the lake writer emits it. */
export type ParquetType = 'STRING' | 'INT32' | 'TIMESTAMP_MILLIS';

/** Hive/Glue type, as Athena (Trino) sees the column. */
export type GlueType = 'string' | 'int' | 'timestamp' | 'double' | 'boolean';

export interface ColumnSpec {
  readonly name: string;
  readonly parquet: ParquetType;
  readonly glue: GlueType;
  readonly nullable: boolean;
  readonly description: string;
}

/** The fixed columns, in file order. Carried attributes follow them. */
export const ROW_COLUMNS = [
  {
    name: 'pk',
    parquet: 'STRING',
    glue: 'string',
    nullable: false,
    description: 'Partition key as a canonical string: S as is, N exactly as stored, B as base64.',
  },
  {
    name: 'sk',
    parquet: 'STRING',
    glue: 'string',
    nullable: true,
    description: 'Sort key with the same rules as pk; null when the table has no sort key.',
  },
  {
    name: 'attribute',
    parquet: 'STRING',
    glue: 'string',
    nullable: false,
    description: 'Top-level attribute that was exploded into these rows.',
  },
  {
    name: 'item_index',
    parquet: 'INT32',
    glue: 'int',
    nullable: true,
    description: '0-based position of the element in the list; null when the attribute is not a list.',
  },
  {
    name: 'key',
    parquet: 'STRING',
    glue: 'string',
    nullable: true,
    description: 'Escaped path of the leaf inside the element (a.b[0]); null when the element itself is the leaf.',
  },
  {
    name: 'value',
    parquet: 'STRING',
    glue: 'string',
    nullable: true,
    description: 'Leaf value as text: N exactly as stored, BOOL true/false, B base64, {} / [] for empty containers, null for NULL.',
  },
  {
    name: 'value_type',
    parquet: 'STRING',
    glue: 'string',
    nullable: false,
    description: 'DynamoDB type of the leaf: S N BOOL NULL B SS NS BS, M/L for an empty container, ABSENT when the attribute is missing or the item was removed.',
  },
  {
    name: 'event_name',
    parquet: 'STRING',
    glue: 'string',
    nullable: false,
    description:
      'INSERT, MODIFY, REMOVE (a delete: tombstone), EXPIRE (a Time to Live deletion: the expired item as it was, or a tombstone when the stream has no old image) or SNAPSHOT (backfill / re-flatten).',
  },
  {
    name: 'event_time',
    parquet: 'TIMESTAMP_MILLIS',
    glue: 'timestamp',
    nullable: false,
    description: 'Stream ApproximateCreationDateTime, or the snapshot time floored to the second (UTC).',
  },
  {
    name: 'sequence',
    parquet: 'STRING',
    glue: 'string',
    nullable: false,
    description: 'Stream sequence number zero-padded to 40 digits so text order is numeric order; all zeros for snapshots.',
  },
] as const satisfies readonly ColumnSpec[];

export type FixedColumnName = (typeof ROW_COLUMNS)[number]['name'];

/** The Hive partition column. It lives in the object path, never inside the Parquet file. */
export const PARTITION_COLUMN = {
  name: 'dt',
  parquet: 'STRING',
  glue: 'string',
  nullable: false,
  description: 'UTC date of event_time, YYYY-MM-DD (Hive partition, projected in Glue).',
} as const satisfies ColumnSpec;

/** Every value_type the engine writes. */
export const VALUE_TYPES = ['S', 'N', 'BOOL', 'NULL', 'B', 'SS', 'NS', 'BS', 'M', 'L', 'ABSENT'] as const;
export type ValueType = (typeof VALUE_TYPES)[number];

export const EVENT_NAMES = ['INSERT', 'MODIFY', 'REMOVE', 'EXPIRE', 'SNAPSHOT'] as const;
export type EventName = (typeof EVENT_NAMES)[number];

/**
 * The event_name of a Time to Live deletion: a stream REMOVE whose userIdentity is DynamoDB's own service
 * principal (src/flatten/stream-record.ts). Its rows are the expired item's old image, so the lake keeps
 * what expired; the current-state view leaves them out (sql/views/current_state.sql) and the
 * expired-items view keeps the last version of each expired item (sql/views/expired_items.sql).
 */
export const EXPIRED_EVENT = 'EXPIRE' satisfies EventName;

/** Whether a text is one of the event names the lake's rows carry (the CLI's and the e2e's checks). */
export function isEventName(value: unknown): value is EventName {
  return typeof value === 'string' && (EVENT_NAMES as readonly string[]).includes(value);
}

/** Width of the sequence column: DynamoDB stream sequence numbers have 21 to 40 digits. */
export const SEQUENCE_WIDTH = 40;

/**
 * Columns the current-state view adds beside the exact text, computed from
 * `value` and `value_type` (sql/views/current_state.sql): conveniences for
 * arithmetic and filters. `value` stays the exact value: a DOUBLE keeps
 * about 16 significant digits of a 38-digit number.
 */
export const VIEW_TYPED_COLUMNS = [
  {
    name: 'value_number',
    parquet: 'STRING',
    glue: 'double',
    nullable: true,
    description: 'value as DOUBLE when value_type is N or NS (null otherwise); value keeps every digit.',
  },
  {
    name: 'value_bool',
    parquet: 'STRING',
    glue: 'boolean',
    nullable: true,
    description: 'value as BOOLEAN when value_type is BOOL (null otherwise).',
  },
] as const satisfies readonly ColumnSpec[];

/** Names the view SQL uses internally (window aliases): a column of the same name would break it. */
export const VIEW_INTERNAL_NAMES = ['version_rank'] as const;

/** The checkpoints table's partition column (which checkpoint a row belongs to); its data columns are the rows'. */
export const CHECKPOINT_PARTITION_NAME = 'checkpoint';

/**
 * A carried attribute becomes a column of its own. Glue lowercases column
 * names and Athena cannot quote its way out of every clash, so only plain
 * lowercase identifiers that do not shadow a fixed column, a column the
 * views add, or a name the view SQL uses internally are accepted.
 */
const CARRIED_NAME = /^[a-z_][a-z0-9_]{0,127}$/;
export const RESERVED_NAMES: readonly string[] = [
  ...ROW_COLUMNS.map((c) => c.name),
  PARTITION_COLUMN.name,
  ...VIEW_TYPED_COLUMNS.map((c) => c.name),
  ...VIEW_INTERNAL_NAMES,
  CHECKPOINT_PARTITION_NAME,
];
const RESERVED: ReadonlySet<string> = new Set(RESERVED_NAMES);

/** Why a carried attribute name is unusable, or undefined when it is fine. */
export function carriedNameProblem(name: string): string | undefined {
  if (!CARRIED_NAME.test(name)) {
    return `"${name}" is not a valid carried attribute: use lowercase letters, digits and _ (matching ${CARRIED_NAME.source})`;
  }
  if (RESERVED.has(name)) {
    return `"${name}" is not a valid carried attribute: it clashes with the column or view name "${name}" (reserved: ${RESERVED_NAMES.join(', ')})`;
  }
  return undefined;
}

/** The description of a carried column, with %s for its name (the Terraform module formats the same text). */
export const CARRIED_COMMENT = 'Carried top-level attribute %s (canonical text; null when absent).';

/** Columns of a data file for a given set of carried attributes, in file order. */
export function dataColumns(carried: readonly string[]): ColumnSpec[] {
  const seen = new Set<string>();
  const extra: ColumnSpec[] = [];
  for (const name of carried) {
    const problem = carriedNameProblem(name);
    if (problem) throw new Error(problem);
    if (seen.has(name)) throw new Error(`carried attribute "${name}" is listed twice`);
    seen.add(name);
    extra.push({
      name,
      parquet: 'STRING',
      glue: 'string',
      nullable: true,
      description: CARRIED_COMMENT.replace('%s', () => name),
    });
  }
  return [...ROW_COLUMNS, ...extra];
}

/** Column names of a full row (data columns then the partition column), e.g. for JSONL and SQL. */
export function rowColumnNames(carried: readonly string[]): string[] {
  return [...dataColumns(carried).map((c) => c.name), PARTITION_COLUMN.name];
}

/** Columns of the current-state view, in order: the row's columns, dt, then the typed conveniences. */
export function currentStateColumns(carried: readonly string[]): ColumnSpec[] {
  return [...dataColumns(carried), PARTITION_COLUMN, ...VIEW_TYPED_COLUMNS];
}

/** Columns of the expired-items view: the same as the current state's (the rows of one version of each item, dt, the typed conveniences). */
export function expiredItemsColumns(carried: readonly string[]): ColumnSpec[] {
  return currentStateColumns(carried);
}
