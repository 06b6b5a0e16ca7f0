/**
 * Rows as a plain text table, the way the seed document draws it:
 *
 *   pk | key  | value
 *   A1 | key1 | value1
 *
 * Columns are padded to their widest cell; the last is not, so no line ends in spaces.
 */
export function textTable(columns: readonly string[], rows: readonly Record<string, unknown>[]): string {
  const cell = (v: unknown): string => (v === null || v === undefined ? 'NULL' : v instanceof Date ? v.toISOString() : String(v));
  const cells = rows.map((r) => columns.map((c) => cell(r[c])));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: readonly string[]): string =>
    values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i]!))).join(' | ');
  return [line(columns), ...cells.map(line)].join('\n');
}
