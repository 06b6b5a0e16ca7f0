import { describe, expect, it } from 'vitest';
import { currentStateSql, glueColumns, PRESTO_TYPES } from '../../modules/glue-catalog.ts';
import { dataColumns, PARTITION_COLUMN, rowColumnNames } from '../../src/schema/row-schema.ts';
import { viewSql } from '../../src/sql/views.ts';
import { builtModule } from './module-build.ts';
import { named, synth } from './synth.ts';

describe('Glue columns come from the one row schema', () => {
  for (const carried of [[], ['status', 'region']]) {
    it(`table columns equal the schema's data columns (carried: ${carried.join(',') || 'none'})`, () => {
      const table = named(synth({ carryAttributes: carried }), 'aws_glue_catalog_table', 'catalog_table');
      const expected = dataColumns(carried).map((c) => ({ name: c.name, type: c.glue, comment: c.description }));
      expect(table.storage_descriptor.columns).toEqual(expected);
      expect(table.partition_keys).toEqual([{ name: PARTITION_COLUMN.name, type: PARTITION_COLUMN.glue, comment: PARTITION_COLUMN.description }]);
      expect(glueColumns(carried)).toEqual(expected);
    });
  }
  it('the view has every row column and dt, and its Presto definition decodes to the view SQL and typed columns', () => {
    const carried = ['status'];
    const view = named(synth({ carryAttributes: carried }), 'aws_glue_catalog_table', 'catalog_view');
    expect(view.table_type).toBe('VIRTUAL_VIEW');
    expect(view.parameters).toEqual({ presto_view: 'true', comment: 'Presto View' });
    expect(view.view_expanded_text).toBe('/* Presto View */');
    expect(view.storage_descriptor.columns.map((c: any) => c.name)).toEqual(rowColumnNames(carried));
    const match = /^\/\* Presto View: ([A-Za-z0-9+/=]+) \*\/$/.exec(view.view_original_text);
    expect(match).not.toBeNull();
    const decoded = JSON.parse(Buffer.from(match![1], 'base64').toString('utf8'));
    expect(decoded.catalog).toBe('awsdatacatalog');
    expect(decoded.schema).toBe('orders');
    expect(decoded.originalSql).toBe(viewSql('current_state', { table: '"orders"."flattened"', currentView: '"orders"."current_state"', carried }));
    expect(decoded.originalSql).toBe(currentStateSql('orders', 'flattened', 'current_state', carried));
    expect(decoded.columns).toEqual([...dataColumns(carried), PARTITION_COLUMN].map((c) => ({ name: c.name, type: PRESTO_TYPES[c.glue] })));
  });
  it('the Terraform module lists the same fixed columns, then var.carry_attributes', () => {
    const tables = builtModule().main.resource.aws_glue_catalog_table;
    const table = Object.entries<any>(tables).find(([id]) => id.includes('catalog_table'))![1];
    const fixed = dataColumns([]).map((c) => JSON.stringify(c.name)).join(', ');
    expect(table.storage_descriptor.dynamic.columns.for_each).toBe(`\${concat([${fixed}], var.carry_attributes)}`);
    for (const c of dataColumns([])) {
      expect(table.storage_descriptor.dynamic.columns.content.type).toContain(`${JSON.stringify(c.name)}:${JSON.stringify(c.glue)}`);
    }
  });
});
