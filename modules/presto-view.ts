import { PRESTO_VIEW } from '../src/sql/presto-view.ts';

/**
 * The Athena view envelope as a Terraform expression, for the module and
 * the stack, where the SQL and the columns are Terraform values. The same
 * bytes as src/sql/presto-view.ts prestoViewOriginalText() (jsonencode sorts
 * keys and escapes the way terraformJsonEncode does).
 */
export * from '../src/sql/presto-view.ts';

/**
 * The envelope as a Terraform template: `database`, `sql` and `columns`
 * are Terraform expressions (a string, a string, a list of objects with
 * `name` and `presto`).
 */
export function prestoViewOriginalTextExpression(database: string, sql: string, columns: string): string {
  const json = `jsonencode({ catalog = "${PRESTO_VIEW.catalog}", columns = [for c in ${columns} : { name = c.name, type = c.presto }], originalSql = ${sql}, schema = ${database} })`;
  return `${PRESTO_VIEW.prefix}\${base64encode(${json})}${PRESTO_VIEW.suffix}`;
}

