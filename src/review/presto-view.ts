/**
 * Athena ("Presto") views are stored in Glue as `view_original_text =
 * "/* Presto View: <base64 of JSON> *\/"`, the JSON holding originalSql,
 * catalog, schema and columns. A plan shows that as an opaque blob; the
 * review decodes it so a reviewer sees the SQL.
 */

export interface PrestoView {
  readonly sql: string;
  readonly catalog?: string;
  readonly schema?: string;
  readonly columns: readonly { readonly name: string; readonly type: string }[];
}

const ENVELOPE = /^\s*\/\*\s*Presto View:\s*([A-Za-z0-9+/=\s]+?)\s*\*\/\s*$/;

/** The decoded view, or undefined when the text is not a Presto view envelope (e.g. a Hive view's plain SQL). */
export function decodePrestoView(text: unknown): PrestoView | undefined {
  if (typeof text !== 'string') return undefined;
  const m = ENVELOPE.exec(text);
  if (!m) return undefined;
  try {
    const json = JSON.parse(Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64').toString('utf8')) as Record<string, unknown>;
    if (typeof json.originalSql !== 'string') return undefined;
    const columns = Array.isArray(json.columns)
      ? json.columns.filter((c): c is { name: string; type: string } => typeof c?.name === 'string').map((c) => ({ name: c.name, type: String(c.type) }))
      : [];
    return {
      sql: json.originalSql,
      catalog: typeof json.catalog === 'string' ? json.catalog : undefined,
      schema: typeof json.schema === 'string' ? json.schema : undefined,
      columns,
    };
  } catch {
    return undefined;
  }
}
