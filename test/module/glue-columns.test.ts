import { describe, expect, it } from 'vitest';
import { currentStateSql, elementSql, glueColumns, viewColumns } from '../../modules/glue-catalog.ts';
import { decodePrestoView, PRESTO_TYPES, prestoViewOriginalText, terraformJsonEncode } from '../../modules/presto-view.ts';
import { elementViewColumns, elementViewName } from '../../src/schema/element-views.ts';
import { currentStateColumns, dataColumns, PARTITION_COLUMN, VIEW_TYPED_COLUMNS } from '../../src/schema/row-schema.ts';
import { viewSql } from '../../src/sql/views.ts';
import { named, synth } from './synth.ts';

describe('Glue columns and views come from the one row schema', () => {
  for (const carried of [[], ['status', 'region']]) {
    it(`table columns equal the schema's data columns (carried: ${carried.join(',') || 'none'})`, () => {
      const table = named(synth({ carryAttributes: carried }), 'aws_glue_catalog_table', 'flattened');
      const expected = dataColumns(carried).map((c) => ({ name: c.name, type: c.glue, comment: c.description }));
      expect(table.storage_descriptor.columns).toEqual(expected);
      expect(table.partition_keys).toEqual([{ name: PARTITION_COLUMN.name, type: PARTITION_COLUMN.glue, comment: PARTITION_COLUMN.description }]);
      expect(glueColumns(carried)).toEqual(expected);
    });
  }

  it('the current-state view has the row columns, dt and the typed conveniences; its Presto definition decodes to the view SQL', () => {
    const carried = ['status'];
    const view = named(synth({ carryAttributes: carried }), 'aws_glue_catalog_table', 'current_state');
    expect(view.table_type).toBe('VIRTUAL_VIEW');
    expect(view.parameters).toEqual({ presto_view: 'true', comment: 'Presto View' });
    expect(view.view_expanded_text).toBe('/* Presto View */');
    // An empty ser_de_info block would be dropped by the provider and Athena refuses a view without one.
    expect(view.storage_descriptor.ser_de_info).toEqual({ name: '-', serialization_library: '-' });
    const columns = currentStateColumns(carried);
    expect(columns.slice(-2).map((c) => c.name)).toEqual(VIEW_TYPED_COLUMNS.map((c) => c.name));
    expect(view.storage_descriptor.columns.map((c: any) => [c.name, c.type])).toEqual(columns.map((c) => [c.name, c.glue]));
    // The view follows the checkpoint pointer, so Terraform renders its SQL and envelope from the pointer parameter.
    const s2 = synth({ carryAttributes: carried });
    const sql = s2.json.locals.current_state_sql as string;
    const pointerLiteral = (field: string) => `\${format("'%s'", replace(local.checkpoint_pointer.${field}, "'", "''"))}`;
    const literalSql = currentStateSql('orders', 'flattened', carried, { pointer: { checkpoint: '@C@', bound: '@B@' } });
    expect(sql).toBe(literalSql.replace("'@C@'", pointerLiteral('checkpoint')).replace("'@B@'", pointerLiteral('bound')));
    // Read by path: before the first apply there is no parameter, and the view reads the 'none' checkpoint.
    expect(s2.json.locals.checkpoint_pointer).toBe(
      '${jsondecode(nonsensitive(lookup(zipmap(local.checkpoint_parameters.names, local.checkpoint_parameters.values), local.checkpoint_parameter_name, "{\\"checkpoint\\":\\"none\\",\\"bound\\":\\"0000-01-01\\",\\"parts\\":0}")))}',
    );
    expect(s2.json.locals.checkpoint_parameter_name).toBe('/ddb-flatten/orders/checkpoint-pointer');
    expect(s2.json.locals.current_state_columns.map((c: { name: string; presto: string }) => [c.name, c.presto])).toEqual(columns.map((c) => [c.name, PRESTO_TYPES[c.glue]]));
    expect(view.view_original_text).toBe(
      '/* Presto View: ${base64encode(jsonencode({ catalog = "awsdatacatalog", columns = [for c in local.current_state_columns : { name = c.name, type = c.presto }], originalSql = local.current_state_sql, schema = "orders" }))} */',
    );
    expect(viewSql('current_state', { table: '"orders"."flattened"', currentView: '', checkpoints: '"orders"."checkpoints"', carried }, { checkpoint: 'none', bound: '0000-01-01' })).toBe(currentStateSql('orders', 'flattened', carried));
    expect(viewColumns(carried).map((c) => c.presto)).toContain('double');
  });

  it('a per-element view for each configured attribute: columns per key path, SQL over the current-state view', () => {
    const s = synth({ explodeAttributes: ['items', 'tags'], carryAttributes: ['status'], elementViews: { items: ['sku', 'unit.price'], tags: ['name'] } });
    const items = named(s, 'aws_glue_catalog_table', 'element_view_items');
    expect(items.name).toBe(elementViewName('items'));
    expect(items.name).toBe('items_elements');
    expect(items.storage_descriptor.columns.map((c: any) => c.name)).toEqual(['pk', 'sk', 'item_index', 'sku', 'sku_number', 'unit_price', 'unit_price_number', 'status', 'event_time']);
    expect(items.storage_descriptor.columns.map((c: any) => c.type)).toEqual(elementViewColumns(['sku', 'unit.price'], ['status']).map((c) => c.glue));
    const decoded = decodePrestoView(items.view_original_text);
    expect(decoded.originalSql).toBe(elementSql('orders', 'current_state', 'items', ['sku', 'unit.price'], ['status']));
    expect(decoded.originalSql).toContain(`max(CASE WHEN key = 'unit.price' THEN value_number END) AS "unit_price_number"`);
    expect(decoded.originalSql).toContain('FROM "orders"."current_state"');
    expect(named(s, 'aws_glue_catalog_table', 'element_view_tags').name).toBe('tags_elements');
    // No views unless configured.
    expect(synth().all('aws_glue_catalog_table').map(([id]) => id).filter((id) => id.startsWith('element_view'))).toEqual([]);
  });

  it('the envelope JSON is encoded as Terraform jsonencode() writes it, so the stack and the module give the same bytes', () => {
    expect(terraformJsonEncode({ b: 'x<y>&z\u2028', a: [1, true, null], '': '"\\\n\t\u0001' })).toBe(
      '{"":"\\"\\\\\\n\\t\\u0001","a":[1,true,null],"b":"x\\u003cy\\u003e\\u0026z\\u2028"}',
    );
    const text = prestoViewOriginalText('orders', currentStateSql('orders', 'flattened', []), viewColumns([]));
    const json = Buffer.from(/Presto View: (\S+) \*\//.exec(text)![1], 'base64').toString('utf8');
    expect(json.startsWith('{"catalog":"awsdatacatalog","columns":[{"name":"pk","type":"varchar"}')).toBe(true);
    expect(json).toContain('value_type \\u003c\\u003e \'ABSENT\'');
  });
});
