import { Fn, Token } from 'cdktf';
import { Construct } from 'constructs';
import { GlueCatalogDatabase } from '@cdktf/provider-aws/lib/glue-catalog-database/index.js';
import { GlueCatalogTable } from '@cdktf/provider-aws/lib/glue-catalog-table/index.js';
import { type ColumnSpec, type GlueType, dataColumns, PARTITION_COLUMN, ROW_COLUMNS } from '../src/schema/row-schema.ts';
import { quoteIdent, renderSql, sqlTemplate, VIEWS } from '../src/sql/views.ts';
import { fillTemplate, isToken, literalLocal } from './expressions.ts';
import type { ResolvedConfig } from './naming.ts';

/**
 * The Glue catalog: a database, the table of flattened rows (Parquet,
 * columns from the one row schema plus the carried attributes, `dt`
 * partition projection so new days are queryable with no crawler and no
 * MSCK REPAIR) and the current-state view as an Athena ("Presto") view.
 */

export const PARQUET = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
} as const;

/** How Athena engine 3 (Trino) types each Glue type in a view definition. */
export const PRESTO_TYPES: Readonly<Record<GlueType, string>> = { string: 'varchar', int: 'integer', timestamp: 'timestamp(3)' };

export interface GlueColumn {
  readonly name: string;
  readonly type: string;
  readonly comment: string;
}

const toGlue = (c: ColumnSpec): GlueColumn => ({ name: c.name, type: c.glue, comment: c.description });

/** The table's data columns, generated from the row schema (partition column excluded). */
export function glueColumns(carried: readonly string[]): GlueColumn[] {
  return dataColumns(carried).map(toGlue);
}

/** The comment of a carried column, as the row schema words it (with %s for the name). */
const CARRIED_COMMENT = dataColumns(['x'])[ROW_COLUMNS.length].description.replace(' x ', ' %s ');

/** Partition projection of `dt`: a date from the start to NOW, one per day, at `<location>dt=<date>`. */
export function projectionParameters(location: string, startDate: string): Record<string, string> {
  return {
    'projection.enabled': 'true',
    'projection.dt.type': 'date',
    'projection.dt.format': 'yyyy-MM-dd',
    'projection.dt.range': `${startDate},NOW`,
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'DAYS',
    // $${dt} is Terraform's escape for a literal ${dt}, which Athena fills in.
    'storage.location.template': `${location}dt=$\${dt}`,
  };
}

const M = {
  carriedSql: '@@CARRIED_SQL@@',
  columnsJson: '@@COLUMNS_JSON@@',
  carriedColumnsJson: '@@CARRIED_COLUMNS_JSON@@',
  database: '@@DATABASE@@',
  table: '@@TABLE@@',
  view: '@@VIEW@@',
};

/** The current-state view's SQL for Athena, with the column list from the schema. */
export function currentStateSql(database: string, table: string, view: string, carried: readonly string[]): string {
  const names = { table: `${quoteIdent(database)}.${quoteIdent(table)}`, currentView: `${quoteIdent(database)}.${quoteIdent(view)}`, carried };
  return renderSql(sqlTemplate(VIEWS.current_state), names);
}

/** Columns of the view (the rows' columns and dt), as Glue and Presto type them. */
export function viewColumns(carried: readonly string[]): { name: string; glue: string; presto: string }[] {
  return [...dataColumns(carried), PARTITION_COLUMN].map((c) => ({ name: c.name, glue: c.glue, presto: PRESTO_TYPES[c.glue] }));
}

/** The Presto view envelope Athena reads: base64 of {originalSql, catalog, schema, columns}. */
export function prestoViewOriginalText(database: string, sql: string, carried: readonly string[]): string {
  const json = JSON.stringify({
    originalSql: sql,
    catalog: 'awsdatacatalog',
    schema: database,
    columns: viewColumns(carried).map((c) => ({ name: c.name, type: c.presto })),
  });
  return `/* Presto View: ${Buffer.from(json, 'utf8').toString('base64')} */`;
}

/**
 * The same two texts when the carried attributes or names are Terraform
 * expressions (the module build): a JSON template with markers, filled by
 * Terraform's replace(). Carried names are plain identifiers ([a-z0-9_]),
 * so they need no escaping inside JSON or SQL.
 */
function viewTexts(scope: Construct, database: string, table: string, view: string, carried: readonly string[]): { sql: string; originalText: string } {
  const literal = !isToken(carried) && !carried.some(isToken) && ![database, table, view].some(isToken);
  if (literal) {
    const sql = currentStateSql(database, table, view, carried);
    return { sql, originalText: prestoViewOriginalText(database, sql, carried) };
  }
  // Marker templates: fixed columns literal, carried columns and names filled by Terraform.
  const carriedList = carried as string[];
  const fixedSql = ROW_COLUMNS.map((c) => quoteIdent(c.name)).join(', ');
  const markerSql = renderSql(sqlTemplate(VIEWS.current_state).replaceAll('{{columns}}', `${fixedSql}${M.carriedSql}, ${quoteIdent(PARTITION_COLUMN.name)}`), {
    table: `"${M.database}"."${M.table}"`,
    currentView: `"${M.database}"."${M.view}"`,
    carried: [],
  });
  const names = { [M.database]: database, [M.table]: table, [M.view]: view };
  const format = (id: string, text: string): string => literalLocal(scope, id, text);
  const sql = fillTemplate(scope, 'view_sql_template', markerSql, {
    [M.carriedSql]: Fn.join('', Token.asList(Fn.formatlist(format('view_sql_carried_format', ', "%s"'), [carriedList]))),
    ...names,
  });
  const fixedJson = ROW_COLUMNS.map((c) => JSON.stringify({ name: c.name, type: PRESTO_TYPES[c.glue] })).join(',');
  const dtJson = JSON.stringify({ name: PARTITION_COLUMN.name, type: PRESTO_TYPES[PARTITION_COLUMN.glue] });
  const jsonTemplate = JSON.stringify({ originalSql: markerSql, catalog: 'awsdatacatalog', schema: M.database, columns: M.columnsJson }).replace(
    JSON.stringify(M.columnsJson),
    `[${fixedJson}${M.carriedColumnsJson},${dtJson}]`,
  );
  const json = fillTemplate(scope, 'view_json_template', jsonTemplate, {
    // Inside the JSON string the SQL's quotes are escaped.
    [M.carriedSql]: Fn.join('', Token.asList(Fn.formatlist(format('view_json_carried_format', ', \\"%s\\"'), [carriedList]))),
    [M.carriedColumnsJson]: Fn.join('', Token.asList(Fn.formatlist(format('view_json_column_format', `,{"name":"%s","type":"${PRESTO_TYPES.string}"}`), [carriedList]))),
    ...names,
  });
  return { sql, originalText: `/* Presto View: ${Fn.base64encode(json)} */` };
}

export class GlueCatalog extends Construct {
  readonly database: GlueCatalogDatabase;
  readonly table: GlueCatalogTable;
  readonly view: GlueCatalogTable;
  /** The view's SQL (for the Athena named query that re-creates it). */
  readonly viewSql: string;

  constructor(scope: Construct, id: string, config: ResolvedConfig, bucketName: string) {
    super(scope, id);
    const g = config.glue;
    const carried = config.carryAttributes;
    const literalCarried = !isToken(carried) && !carried.some(isToken);
    const location = `s3://${bucketName}/${config.lake.dataPrefix}/`;

    this.database = new GlueCatalogDatabase(this, 'database', {
      name: g.databaseName,
      description: `ddb-flatten lake of ${config.name}: flattened DynamoDB stream rows (Parquet on S3).`,
      tags: config.tags,
    });

    const partition = { name: PARTITION_COLUMN.name, type: PARTITION_COLUMN.glue, comment: PARTITION_COLUMN.description };
    this.table = new GlueCatalogTable(this, 'table', {
      name: g.tableName,
      databaseName: this.database.name,
      description: 'One row per leaf of the exploded attributes (see the row schema); partitioned by dt with partition projection.',
      tableType: 'EXTERNAL_TABLE',
      parameters: {
        classification: 'parquet',
        EXTERNAL: 'TRUE',
        'parquet.compress': 'ZSTD',
        ...projectionParameters(location, g.projectionStartDate),
      },
      partitionKeys: [partition],
      storageDescriptor: {
        location,
        inputFormat: PARQUET.inputFormat,
        outputFormat: PARQUET.outputFormat,
        serDeInfo: { name: 'parquet', serializationLibrary: PARQUET.serde, parameters: { 'serialization.format': '1' } },
        columns: literalCarried ? glueColumns(carried) : undefined,
      },
    });
    if (!literalCarried) {
      // Module build: fixed columns, then one per carried attribute, in file order.
      const fixed = ROW_COLUMNS.map(toGlue);
      const names = Fn.concat([fixed.map((c) => c.name), carried as string[]]);
      this.table.addOverride('storage_descriptor.dynamic.columns', {
        for_each: names,
        content: {
          name: '${columns.value}',
          type: `\${lookup(${JSON.stringify(Object.fromEntries(fixed.map((c) => [c.name, c.type])))}, columns.value, "string")}`,
          comment: `\${lookup(${hclMap(Object.fromEntries(fixed.map((c) => [c.name, c.comment])))}, columns.value, format(${JSON.stringify(CARRIED_COMMENT)}, columns.value))}`,
        },
      });
    }

    const texts = viewTexts(this, g.databaseName, g.tableName, g.viewName, carried);
    this.viewSql = texts.sql;
    const viewCols = literalCarried ? viewColumns(carried).map((c) => ({ name: c.name, type: c.glue })) : undefined;
    this.view = new GlueCatalogTable(this, 'view', {
      name: g.viewName,
      databaseName: this.database.name,
      description: 'Current state of every item: the rows of the latest version of each (pk, sk, attribute).',
      tableType: 'VIRTUAL_VIEW',
      viewOriginalText: texts.originalText,
      viewExpandedText: '/* Presto View */',
      parameters: { presto_view: 'true', comment: 'Presto View' },
      storageDescriptor: { columns: viewCols, serDeInfo: {} },
      dependsOn: [this.table],
    });
    if (!literalCarried) {
      const fixedNames = ROW_COLUMNS.map((c) => c.name);
      const names = Fn.concat([fixedNames, carried as string[], [PARTITION_COLUMN.name]]);
      const types = Object.fromEntries([...ROW_COLUMNS, PARTITION_COLUMN].map((c) => [c.name, c.glue]));
      this.view.addOverride('storage_descriptor.dynamic.columns', {
        for_each: names,
        content: { name: '${columns.value}', type: `\${lookup(${JSON.stringify(types)}, columns.value, "string")}` },
      });
    }
  }
}

/** An HCL object literal of strings (JSON syntax is valid HCL); used inside ${...}. */
function hclMap(map: Record<string, string>): string {
  return JSON.stringify(map).replaceAll('${', '$${').replaceAll('%{', '%%{');
}
