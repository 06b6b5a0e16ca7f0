import { TerraformLocal } from './cdk.ts';
import { Construct } from 'constructs';
import { DataAwsSsmParametersByPath, GlueCatalogDatabase, GlueCatalogTable, SsmParameter, type GlueCatalogTableConfig } from './aws.ts';
import {
  elementColumnName,
  ELEMENT_VIEW_LEADING,
  ELEMENT_VIEW_TRAILING,
  elementViewColumns,
  elementViewName,
  ELEMENT_NAME_RULES,
  type ElementViews,
  KEY_COLUMN_COMMENT,
  NUMBER_COLUMN_COMMENT,
} from '../src/schema/element-views.ts';
import { CARRIED_COMMENT, CHECKPOINT_PARTITION_NAME, currentStateColumns, dataColumns, expiredItemsColumns, PARTITION_COLUMN, ROW_COLUMNS, VIEW_TYPED_COLUMNS } from '../src/schema/row-schema.ts';
import { elementViewSql, expiredItemsSql, quoteIdent, renderSql, sqlTemplate, viewSql, VIEWS, type ViewPointer } from '../src/sql/views.ts';
import { NO_BOUND, NO_CHECKPOINT, pointerText } from '../src/maintenance/pointer.ts';
import { DEFAULTS } from './props.ts';
import { isToken } from './expressions.ts';
import type { ResolvedConfig } from './naming.ts';
import { PRESTO_TYPES, PRESTO_VIEW, prestoViewOriginalText, prestoViewOriginalTextExpression, type ViewColumn, viewColumn } from './presto-view.ts';
import { elementColumnNameExpression, elementKeyColumnsExpression, hclString, hclValue, qualifiedName, templateFileExpression, terraformTemplate } from './sql-expressions.ts';
import { named } from './addresses.ts';

/**
 * The Glue catalog: a database, the table of flattened rows (Parquet,
 * columns from the one row schema plus the carried attributes, `dt`
 * partition projection so new days are queryable with no crawler and no
 * MSCK REPAIR), the current-state view, the expired-items view (the last
 * version of each item Time to Live deleted) and, when configured, one
 * per-element view per exploded attribute, all as Athena ("Presto") views.
 *
 * Terraform owns the views: they are catalog objects of this module, and
 * their SQL is also shipped as read-only named queries (AthenaWorkgroup).
 *
 * Two paths build the same catalog: literal values (a CDKTF app) give plain
 * strings; Terraform expressions (the module build, where carried
 * attributes and names are variables) give locals that Terraform evaluates
 * into the same text (test/module/terraform-validate.test.ts compares them).
 */

export const PARQUET = {
  inputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
  outputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
  serde: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe',
  /** Table property Hive and Athena read for the files' codec (the writer uses ZSTD). */
  compressionProperty: 'parquet.compression',
  compression: 'ZSTD',
} as const;

export interface GlueColumn {
  readonly name: string;
  readonly type: string;
  readonly comment: string;
}

/** The table's data columns, generated from the row schema (partition column excluded). */
export function glueColumns(carried: readonly string[]): GlueColumn[] {
  return dataColumns(carried).map((c) => ({ name: c.name, type: c.glue, comment: c.description }));
}

/**
 * Partition projection of `dt`: a date from the start to NOW, one per day, at
 * `<location>dt=<date>/`. Athena's partition projection documentation: the
 * `projection.<column>.*` keys of a date column (type, range, format,
 * interval, interval.unit) and a `storage.location.template` that contains
 * `${<column>}` for each partition column and ends with `/`.
 */
export function projectionParameters(location: string, startDate: string): Record<string, string> {
  return {
    'projection.enabled': 'true',
    'projection.dt.type': 'date',
    'projection.dt.format': 'yyyy-MM-dd',
    'projection.dt.range': `${startDate},NOW`,
    'projection.dt.interval': '1',
    'projection.dt.interval.unit': 'DAYS',
    // $${dt} is Terraform's escape for a literal ${dt}, which Athena fills in.
    'storage.location.template': `${location}dt=$\${dt}/`,
  };
}

/** Columns of the current-state view: the rows' columns, dt and the typed conveniences. */
export function viewColumns(carried: readonly string[]): ViewColumn[] {
  return currentStateColumns(carried).map(viewColumn);
}

/** The current-state view's SQL for Athena, with the column list from the schema, reading the given checkpoint (none by default). */
export function currentStateSql(
  database: string,
  table: string,
  carried: readonly string[],
  options: { checkpoints?: string; pointer?: ViewPointer } = {},
): string {
  const names = { table: `${quoteIdent(database)}.${quoteIdent(table)}`, currentView: '', checkpoints: `${quoteIdent(database)}.${quoteIdent(options.checkpoints ?? DEFAULTS.glue.checkpointsTableName)}`, carried };
  return viewSql('current_state', names, options.pointer ?? { checkpoint: NO_CHECKPOINT, bound: NO_BOUND });
}

/** Columns of the expired-items view: the same as the current state's. */
export function expiredViewColumns(carried: readonly string[]): ViewColumn[] {
  return expiredItemsColumns(carried).map(viewColumn);
}

/** The expired-items view's SQL for Athena, with the column list from the schema (it reads the flattened table only). */
export function expiredItemsViewSql(database: string, table: string, carried: readonly string[]): string {
  return expiredItemsSql({ table: `${quoteIdent(database)}.${quoteIdent(table)}`, currentView: '', carried });
}

/** Columns of the checkpoints table: the rows' columns and dt (as data: a checkpoint holds rows of many days). */
export function checkpointColumns(carried: readonly string[]): GlueColumn[] {
  return [...glueColumns(carried), { name: PARTITION_COLUMN.name, type: PARTITION_COLUMN.glue, comment: 'UTC date of event_time (the dt partition the row came from).' }];
}

/** Partition projection of the checkpoints table: the view names its checkpoint, so the value is injected. */
export function checkpointProjection(location: string): Record<string, string> {
  return {
    'projection.enabled': 'true',
    'projection.checkpoint.type': 'injected',
    'storage.location.template': `${location}checkpoint=$\${checkpoint}/`,
  };
}

/** The per-element view's SQL for one exploded attribute. */
export function elementSql(database: string, view: string, attribute: string, keys: readonly string[], carried: readonly string[]): string {
  return elementViewSql(attribute, keys, { table: '', currentView: `${quoteIdent(database)}.${quoteIdent(view)}`, carried });
}

/** A view's definition: its SQL and columns, as values or as Terraform expressions. */
interface ViewDefinition {
  readonly sql: string;
  readonly originalText: string;
  /** Literal columns, or undefined when `columnsExpression` gives them. */
  readonly columns?: readonly ViewColumn[];
  readonly columnsExpression?: string;
}

/** The Glue table arguments every Athena view shares. */
function viewTable(definition: ViewDefinition): Pick<GlueCatalogTableConfig, 'tableType' | 'viewOriginalText' | 'viewExpandedText' | 'parameters' | 'storageDescriptor'> {
  return {
    tableType: 'VIRTUAL_VIEW',
    viewOriginalText: definition.originalText,
    viewExpandedText: PRESTO_VIEW.expandedText,
    parameters: { ...PRESTO_VIEW.parameters },
    storageDescriptor: {
      serDeInfo: { ...PRESTO_VIEW.serDeInfo },
      columns: definition.columns?.map((c) => ({ name: c.name, type: c.glue, comment: c.comment })),
    },
  };
}

/** A dynamic `columns` block over a list-of-objects expression (module build). */
function dynamicColumns(table: GlueCatalogTable, columns: string): void {
  table.addOverride('storage_descriptor.dynamic.columns', {
    for_each: `\${${columns}}`,
    content: { name: '${columns.value.name}', type: '${columns.value.glue}', comment: '${columns.value.comment}' },
  });
}

/** A named Terraform local, referenced as `local.<name>`. */
function local(scope: Construct, name: string, expression: unknown): string {
  const l = new TerraformLocal(scope, name, expression);
  l.overrideLogicalId(name);
  return `local.${name}`;
}

/**
 * The inputs of the module build's expressions, each as a local: a local is a
 * plain reference that can sit anywhere inside a larger expression (a token
 * spliced into a for-expression is not always unwrapped by CDKTF).
 */
function moduleInputs(scope: Construct, config: ResolvedConfig): { database: string; table: string; view: string; carried: string; elementViews: string } {
  const g = config.glue;
  return {
    database: local(scope, 'glue_database_name', g.databaseName),
    table: local(scope, 'glue_table_name', g.tableName),
    view: local(scope, 'glue_view_name', g.viewName),
    carried: local(scope, 'carry_attributes', config.carryAttributes),
    elementViews: local(scope, 'element_view_keys', config.elementViews),
  };
}

type ModuleInputs = ReturnType<typeof moduleInputs>;

/** Columns as plain objects: a literal local, which the HCL module lists one per block of lines. */
const columnObjects = (specs: readonly ViewColumn[]): { name: string; glue: string; presto: string; comment: string }[] =>
  specs.map((c) => ({ name: c.name, glue: c.glue, presto: c.presto, comment: c.comment }));

export class GlueCatalog extends Construct {
  readonly database: GlueCatalogDatabase;
  readonly table: GlueCatalogTable;
  readonly view: GlueCatalogTable;
  /** The expired-items view: the last version of each item Time to Live deleted (reads the table, no checkpoint). */
  readonly expiredView: GlueCatalogTable;
  /** Its SQL, for the read-only named query (a literal, or a Terraform expression in the module build). */
  readonly expiredViewSql: string;
  readonly checkpoints: GlueCatalogTable;
  /** The pointer to the current checkpoint, for Terraform (created once, then moved only by the maintenance run). */
  readonly pointerParameter: SsmParameter;
  /** The per-element views: one resource per attribute, or one `for_each` resource in the module build. */
  readonly elementViews: GlueCatalogTable[] = [];
  /** The current-state view's SQL as before any checkpoint (the read-only named query: it must not change with every checkpoint). */
  readonly viewSql: string;
  /** Each element view's name and SQL (literal), or one entry whose values are Terraform expressions. */
  readonly elementViewSql: { readonly attribute: string; readonly name: string; readonly sql: string; readonly forEach?: string }[] = [];

  constructor(scope: Construct, id: string, config: ResolvedConfig, bucketName: string) {
    super(scope, id);
    const g = config.glue;
    const carried = config.carryAttributes;
    const literal = !isToken(carried) && !carried.some(isToken) && ![g.databaseName, g.tableName, g.viewName].some(isToken) && !isToken(config.elementViews);
    const location = `s3://${bucketName}/${config.lake.dataPrefix}/`;

    this.database = named(new GlueCatalogDatabase(this, 'database', {
      name: g.databaseName,
      description: `ddb-flatten lake of ${config.name}: flattened DynamoDB stream rows (Parquet on S3).`,
      tags: config.tags,
    }), 'lake');

    const partition = { name: PARTITION_COLUMN.name, type: PARTITION_COLUMN.glue, comment: PARTITION_COLUMN.description };
    this.table = named(new GlueCatalogTable(this, 'table', {
      name: g.tableName,
      databaseName: this.database.name,
      description: 'One row per leaf of the exploded attributes (see the row schema); partitioned by dt with partition projection.',
      tableType: 'EXTERNAL_TABLE',
      parameters: {
        classification: 'parquet',
        EXTERNAL: 'TRUE',
        [PARQUET.compressionProperty]: PARQUET.compression,
        ...projectionParameters(location, g.projectionStartDate),
      },
      partitionKeys: [partition],
      storageDescriptor: {
        location,
        inputFormat: PARQUET.inputFormat,
        outputFormat: PARQUET.outputFormat,
        serDeInfo: { name: 'parquet', serializationLibrary: PARQUET.serde, parameters: { 'serialization.format': '1' } },
        columns: literal ? glueColumns(carried) : undefined,
      },
    }), 'flattened');

    const inputs = literal ? undefined : moduleInputs(this, config);
    const columns = this.columnLocals(config, inputs);
    if (inputs) dynamicColumns(this.table, columns.table);

    // The checkpoints of the current state (src/maintenance/checkpoint.ts), which the view reads.
    const stateLocation = `s3://${bucketName}/${config.lake.statePrefix}/checkpoints/`;
    this.checkpoints = named(
      new GlueCatalogTable(this, 'checkpoints', {
        name: g.checkpointsTableName,
        databaseName: this.database.name,
        description: 'Checkpoints of the current state: the latest version of every item as of a day, written by the maintenance run; the current-state view reads one.',
        tableType: 'EXTERNAL_TABLE',
        parameters: { classification: 'parquet', EXTERNAL: 'TRUE', [PARQUET.compressionProperty]: PARQUET.compression, ...checkpointProjection(stateLocation) },
        partitionKeys: [{ name: CHECKPOINT_PARTITION_NAME, type: 'string', comment: 'Checkpoint id: the first day it does not cover, and a hash of what it was computed from.' }],
        storageDescriptor: {
          location: stateLocation,
          inputFormat: PARQUET.inputFormat,
          outputFormat: PARQUET.outputFormat,
          serDeInfo: { name: 'parquet', serializationLibrary: PARQUET.serde, parameters: { 'serialization.format': '1' } },
          columns: literal ? checkpointColumns(carried) : undefined,
        },
      }),
      'checkpoints',
      { introduced: '0.3.0' },
    );
    if (inputs) dynamicColumns(this.checkpoints, columns.checkpoints);

    // The pointer to the current checkpoint, as Terraform sees it. Terraform creates the parameter
    // once and then only reads it: the maintenance run moves it and the view together, and Terraform
    // renders the view from it, so the two never disagree about the view's text (no perpetual diff,
    // nothing reverted). An SSM String parameter rather than the pointer object in the lake: a plan
    // then needs ssm:GetParameter only, not read access to the lake bucket and its KMS key.
    const parameterName = local(this, 'checkpoint_parameter_name', config.compaction.pointerParameterName);
    this.pointerParameter = named(
      new SsmParameter(this, 'checkpoint-pointer', {
        name: `\${${parameterName}}`,
        description: `Current checkpoint of the ddb-flatten lake of ${config.name}: moved by the maintenance run, read by Terraform to render the current-state view.`,
        type: 'String',
        insecureValue: pointerText({ checkpoint: NO_CHECKPOINT, bound: NO_BOUND, parts: 0 }).trim(),
        tags: config.tags,
        lifecycle: { ignoreChanges: ['insecure_value', 'value'] },
      }),
      'checkpoint_pointer',
      { introduced: '0.3.0' },
    );
    // Read by path, not by name: before the first apply the parameter does not exist, and a by-path read
    // of nothing is an empty list, so the plan still knows the view's SQL (the 'none' checkpoint) instead
    // of deferring the read to the apply. A String parameter holds no secret; `values` is marked sensitive
    // only because by-path reads may return SecureStrings (not decrypted here).
    const pointerData = named(
      new DataAwsSsmParametersByPath(this, 'checkpoint-pointer-data', { path: config.compaction.pointerParameterPath, recursive: false, withDecryption: false }),
      'checkpoint_pointer',
    );
    // The lists as a local first: a list token cannot sit inside a string expression.
    const found = local(this, 'checkpoint_parameters', { names: pointerData.names, values: pointerData.values });
    const noPointer = hclString(pointerText({ checkpoint: NO_CHECKPOINT, bound: NO_BOUND, parts: 0 }).trim());
    const pointer = local(
      this,
      'checkpoint_pointer',
      `\${jsondecode(nonsensitive(lookup(zipmap(${found}.names, ${found}.values), ${parameterName}, ${noPointer})))}`,
    );

    const definition = this.currentState(config, inputs, columns.view, pointer, 'current_state_sql');
    // The named query's copy reads as the view did before any checkpoint: a copy that named the current
    // checkpoint would be replaced by every plan after each daily run.
    const before = local(this, 'checkpoint_pointer_none', { checkpoint: NO_CHECKPOINT, bound: NO_BOUND });
    this.viewSql = this.currentState(config, inputs, columns.view, before, 'current_state_sql_before_checkpoints').sql;
    this.view = named(new GlueCatalogTable(this, 'view', {
      name: g.viewName,
      databaseName: this.database.name,
      description: 'Current state of every item: the rows of the latest version of each (pk, sk, attribute).',
      ...viewTable(definition),
      dependsOn: [this.table, this.checkpoints],
    }), 'current_state');
    if (definition.columnsExpression) dynamicColumns(this.view, definition.columnsExpression);

    const expired = this.expiredItems(config, inputs, columns.view);
    this.expiredViewSql = expired.sql;
    this.expiredView = named(
      new GlueCatalogTable(this, 'expired-items', {
        name: g.expiredItemsViewName,
        databaseName: this.database.name,
        description: 'Items Time to Live deleted: the rows of the last version of each, as it expired (event_name EXPIRE).',
        ...viewTable(expired),
        dependsOn: [this.table],
      }),
      'expired_items',
      { introduced: '0.4.0' },
    );
    if (expired.columnsExpression) dynamicColumns(this.expiredView, expired.columnsExpression);

    if (inputs) this.elementViewExpressions(inputs);
    else this.literalElementViews(config);
  }

  /** The column lists as locals: literal lists for a CDKTF app, expressions over the carried attributes for the module. */
  private columnLocals(config: ResolvedConfig, inputs: ModuleInputs | undefined): { table: string; view: string; checkpoints: string } {
    const dt = { name: PARTITION_COLUMN.name, glue: PARTITION_COLUMN.glue, presto: PRESTO_TYPES[PARTITION_COLUMN.glue], comment: checkpointColumns([]).at(-1)!.comment };
    if (!inputs) {
      return {
        table: '',
        view: local(this, 'current_state_columns', columnObjects(viewColumns(config.carryAttributes))),
        checkpoints: '',
      };
    }
    const rowColumns = local(this, 'row_columns', columnObjects(ROW_COLUMNS.map(viewColumn)));
    const carriedColumns = local(this, 'carried_columns', `\${[for c in ${inputs.carried} : { name = c, glue = "string", presto = "${PRESTO_TYPES.string}", comment = format(${hclString(CARRIED_COMMENT)}, c) }]}`);
    const table = local(this, 'flattened_columns', `\${concat(${rowColumns}, ${carriedColumns})}`);
    const added = local(this, 'current_state_added_columns', columnObjects([PARTITION_COLUMN, ...VIEW_TYPED_COLUMNS].map(viewColumn)));
    const view = local(this, 'current_state_columns', `\${concat(${table}, ${added})}`);
    const checkpoints = local(this, 'checkpoint_columns', `\${concat(${table}, [${hclValue(dt)}])}`);
    return { table, view, checkpoints };
  }

  /**
   * The current-state view, rendered by Terraform in both paths: its SQL
   * names the checkpoint the pointer object holds. A CDKTF app's SQL is
   * rendered here with the pointer left as two placeholders; the module's
   * comes from its template file.
   */
  private currentState(config: ResolvedConfig, inputs: ModuleInputs | undefined, columns: string, pointer: string, sqlLocal: string): ViewDefinition {
    const g = config.glue;
    const literalOf = (field: string): string => `format("'%s'", replace(${pointer}.${field}, "'", "''"))`;
    const pointerFills = { checkpoint: literalOf('checkpoint'), bound: literalOf('bound') };
    let template: string;
    if (inputs) {
      template = `\${${templateFileExpression('current_state', {
        // The rows' columns and dt (the first column the view adds): what the window and DISTINCT keep.
        columns: `join(", ", [for c in concat(local.flattened_columns, [local.current_state_added_columns[0]]) : format("\\"%s\\"", c.name)])`,
        table: qualifiedName(inputs.database, inputs.table),
        checkpoints: qualifiedName(inputs.database, this.node.tryFindChild('glue_checkpoints_table_name') ? 'local.glue_checkpoints_table_name' : local(this, 'glue_checkpoints_table_name', g.checkpointsTableName)),
        ...pointerFills,
      })}}`;
    } else {
      const names = { table: `${quoteIdent(g.databaseName)}.${quoteIdent(g.tableName)}`, currentView: '', checkpoints: `${quoteIdent(g.databaseName)}.${quoteIdent(g.checkpointsTableName)}`, carried: config.carryAttributes };
      // Everything but the pointer filled here; the pointer's two literals stay placeholders for Terraform.
      const sql = renderSql(sqlTemplate(VIEWS.current_state), names, { checkpoint: '{{checkpoint}}', bound: '{{bound}}' });
      template = terraformTemplate(sql, pointerFills);
    }
    const sql = local(this, sqlLocal, template);
    const database = inputs ? inputs.database : hclString(g.databaseName);
    return {
      sql: `\${${sql}}`,
      columns: inputs ? undefined : viewColumns(config.carryAttributes),
      columnsExpression: inputs ? columns : undefined,
      originalText: prestoViewOriginalTextExpression(database, sql, columns),
    };
  }

  /**
   * The expired-items view (sql/views/expired_items.sql): no pointer, so a CDKTF app's SQL is a plain string;
   * the module's comes from its template file, with the same column list as the current state's.
   */
  private expiredItems(config: ResolvedConfig, inputs: ModuleInputs | undefined, columns: string): ViewDefinition {
    const g = config.glue;
    if (!inputs) {
      const sql = expiredItemsViewSql(g.databaseName, g.tableName, config.carryAttributes);
      const viewColumns = expiredViewColumns(config.carryAttributes);
      return { sql, columns: viewColumns, originalText: prestoViewOriginalText(g.databaseName, sql, viewColumns) };
    }
    const template = `\${${templateFileExpression('expired_items', {
      // The rows' columns and dt, as in the current-state view.
      columns: `join(", ", [for c in concat(local.flattened_columns, [local.current_state_added_columns[0]]) : format("\\"%s\\"", c.name)])`,
      table: qualifiedName(inputs.database, inputs.table),
    })}}`;
    const sql = local(this, 'expired_items_sql', template);
    return { sql: `\${${sql}}`, columnsExpression: columns, originalText: prestoViewOriginalTextExpression(inputs.database, sql, columns) };
  }

  private literalElementViews(config: ResolvedConfig): void {
    const g = config.glue;
    for (const [attribute, keys] of Object.entries(config.elementViews)) {
      const name = elementViewName(attribute);
      const sql = elementSql(g.databaseName, g.viewName, attribute, keys, config.carryAttributes);
      const columns = elementViewColumns(keys, config.carryAttributes).map(viewColumn);
      this.elementViewSql.push({ attribute, name, sql });
      this.elementViews.push(
        named(new GlueCatalogTable(this, `elements-${name}`, {
          name,
          databaseName: this.database.name,
          description: elementViewDescription(attribute),
          ...viewTable({ sql, columns, originalText: prestoViewOriginalText(g.databaseName, sql, columns) }),
          dependsOn: [this.view],
        }), `element_view_${elementColumnName(attribute)}`, { introduced: '0.3.0' }),
      );
    }
  }

  /** Module build: one `for_each` view over var.element_view_keys, from a local map of each view's name, columns and SQL. */
  private elementViewExpressions(inputs: ModuleInputs): void {
    const { elementViews: views } = inputs;
    const column = elementColumnNameExpression('k');
    const pick = (names: readonly string[]) => ROW_COLUMNS.filter((c) => names.includes(c.name)).map(viewColumn);
    const fixed = local(this, 'element_view_fixed_columns', { leading: columnObjects(pick(ELEMENT_VIEW_LEADING)), trailing: columnObjects(pick(ELEMENT_VIEW_TRAILING)) });
    const keyColumns = `flatten([for k in keys : [{ name = ${column}, glue = "string", presto = "${PRESTO_TYPES.string}", comment = format(${hclString(KEY_COLUMN_COMMENT)}, k) }, { name = "\${${column}}${ELEMENT_NAME_RULES.numberSuffix}", glue = "double", presto = "${PRESTO_TYPES.double}", comment = format(${hclString(NUMBER_COLUMN_COMMENT)}, k) }]])`;
    const columns = local(this, 'element_view_columns', `\${{ for attribute, keys in ${views} : attribute => concat(${fixed}.leading, ${keyColumns}, local.carried_columns, ${fixed}.trailing) }}`);
    const sql = templateFileExpression('element_view', {
      attribute: `format("'%s'", replace(attribute, "'", "''"))`,
      key_columns: elementKeyColumnsExpression('keys'),
      carried_columns: `join("", [for c in ${inputs.carried} : format(", \\"%s\\"", c)])`,
      current_view: qualifiedName(inputs.database, inputs.view),
    });
    const entry = `{ name = "\${${elementColumnNameExpression('attribute')}}${ELEMENT_NAME_RULES.viewSuffix}", columns = ${columns}[attribute], sql = ${sql} }`;
    const map = local(this, 'element_views', `\${{ for attribute, keys in ${views} : attribute => ${entry} }}`);
    const view = named(new GlueCatalogTable(this, 'element-views', {
      name: '${each.value.name}',
      databaseName: this.database.name,
      description: `\${format(${hclString(elementViewDescription('%s'))}, each.key)}`,
      ...viewTable({ sql: '${each.value.sql}', originalText: prestoViewOriginalTextExpression(inputs.database, 'each.value.sql', 'each.value.columns') }),
      dependsOn: [this.view],
    }), 'element_view', { introduced: '0.3.0' });
    view.addOverride('for_each', `\${${map}}`);
    dynamicColumns(view, 'each.value.columns');
    this.elementViews.push(view);
    this.elementViewSql.push({ attribute: '${each.key}', name: '${each.value.name}', sql: '${each.value.sql}', forEach: `\${${map}}` });
  }
}

function elementViewDescription(attribute: string): string {
  return `One row per element of ${attribute} in the current state, a column per configured key path.`;
}

export type { ElementViews };
