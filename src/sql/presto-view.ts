import type { ColumnSpec, GlueType } from '../schema/row-schema.ts';

/**
 * An Athena view as the Glue catalog stores it (what `CREATE VIEW` in
 * Athena writes, and what Trino's Hive connector reads back):
 *
 * - TableType VIRTUAL_VIEW with the parameters presto_view = "true" and
 *   comment = "Presto View": Trino recognises a Trino/Presto view only when
 *   both are present (trinodb/trino, plugin/trino-hive/.../ViewReaderUtil.java,
 *   isTrinoView).
 * - ViewOriginalText `/* Presto View: <base64 of the view JSON> *\/`, the
 *   JSON being {originalSql, catalog, schema, columns: [{name, type}]} with
 *   Trino type names (ViewReaderUtil VIEW_PREFIX / VIEW_SUFFIX, decoded into
 *   ConnectorViewDefinition); ViewExpandedText `/* Presto View *\/`.
 * - A SerDe info that is not empty: Athena refuses a view whose storage
 *   descriptor has none ("HIVE_METASTORE_ERROR: Table storage descriptor is
 *   missing SerDe info"), and the AWS provider drops an empty ser_de_info
 *   block before CreateTable (hashicorp/terraform-provider-aws#28517).
 *
 * The envelope is produced here literally (tests, the maintenance run that
 * moves the view to a new checkpoint) and as a Terraform expression by the
 * module (modules/presto-view.ts). Both encode the JSON the way Terraform's
 * jsonencode() does, so the two give the same bytes for the same view.
 */

/** How Athena engine 3 (Trino) types each Glue type in a view definition. */
export const PRESTO_TYPES: Readonly<Record<GlueType, string>> = {
  string: 'varchar',
  int: 'integer',
  timestamp: 'timestamp(3)',
  double: 'double',
  boolean: 'boolean',
};

export const PRESTO_VIEW = {
  catalog: 'awsdatacatalog',
  prefix: '/* Presto View: ',
  suffix: ' */',
  expandedText: '/* Presto View */',
  parameters: { presto_view: 'true', comment: 'Presto View' },
  /** Any non-empty SerDe info satisfies Athena; "-" is what public modules that create views use. */
  serDeInfo: { name: '-', serializationLibrary: '-' },
} as const;

/** A view column with its Glue type (catalog columns) and Presto type (the envelope). */
export interface ViewColumn {
  readonly name: string;
  readonly glue: GlueType;
  readonly presto: string;
  readonly comment: string;
}

export function viewColumn(spec: ColumnSpec): ViewColumn {
  return { name: spec.name, glue: spec.glue, presto: PRESTO_TYPES[spec.glue], comment: spec.description };
}

const ESCAPES: Readonly<Record<string, string>> = { '"': '\\"', '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/** A JSON string as Go's encoding/json writes it (Terraform's jsonencode): <, >, &, U+2028 and U+2029 escaped too. */
function goJsonString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    if (ESCAPES[ch] !== undefined) out += ESCAPES[ch];
    else if (code < 0x20 || ch === '<' || ch === '>' || ch === '&' || code === 0x2028 || code === 0x2029) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** JSON exactly as Terraform's jsonencode() writes it: object keys sorted, no spaces, Go's string escapes. */
export function terraformJsonEncode(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return goJsonString(value);
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) throw new Error(`terraformJsonEncode: only integers are encoded (got ${value})`);
    return String(value);
  }
  if (Array.isArray(value)) return `[${value.map(terraformJsonEncode).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${goJsonString(k)}:${terraformJsonEncode(v)}`).join(',')}}`;
  }
  throw new Error(`terraformJsonEncode: cannot encode ${typeof value}`);
}

/** The envelope of a view, literally. */
export function prestoViewOriginalText(database: string, sql: string, columns: readonly ViewColumn[]): string {
  const json = terraformJsonEncode({
    originalSql: sql,
    catalog: PRESTO_VIEW.catalog,
    schema: database,
    columns: columns.map((c) => ({ name: c.name, type: c.presto })),
  });
  return `${PRESTO_VIEW.prefix}${Buffer.from(json, 'utf8').toString('base64')}${PRESTO_VIEW.suffix}`;
}

/** Decodes an envelope (tests, the plan review): the view JSON, or an error naming what is wrong. */
export function decodePrestoView(text: string): { originalSql: string; catalog: string; schema: string; columns: { name: string; type: string }[] } {
  if (!text.startsWith(PRESTO_VIEW.prefix) || !text.endsWith(PRESTO_VIEW.suffix)) {
    throw new Error(`not a Presto view envelope: expected "${PRESTO_VIEW.prefix}<base64>${PRESTO_VIEW.suffix}"`);
  }
  const base64 = text.slice(PRESTO_VIEW.prefix.length, -PRESTO_VIEW.suffix.length);
  return JSON.parse(Buffer.from(base64, 'base64').toString('utf8'));
}
