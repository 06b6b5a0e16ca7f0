import { describe, expect, it } from 'vitest';
import { currentStateSql, projectionParameters, viewColumns } from '../../modules/glue-catalog.ts';
import { PRESTO_VIEW, prestoViewOriginalText } from '../../modules/presto-view.ts';
import type { RecordingProxy } from '../support/recording-proxy.ts';
import { checkGlueAthenaContract } from './glue-athena-contract.ts';
import { changedAttributes, unexplainedChanges, type PlannedChange } from './harness.ts';

/**
 * The contract and re-plan checks the e2e relies on can fail: fed the
 * requests of the module before issue 10's fixes (empty SerDe info on the
 * view, parquet.compress, a template without the trailing slash, a named
 * query that re-creates the view) they refuse each one.
 */

const DB = 'orders';
const sql = currentStateSql(DB, 'flattened', []);

function proxyOf(calls: Record<string, Record<string, unknown>[]>): RecordingProxy {
  return { endpoint: '', requests: [], calls: (t) => (calls[t] ?? []) as Record<string, any>[], close: async () => {} };
}

/** A workgroup as the module creates it: the analysts' (10 GiB cutoff) or the maintenance's (its own cutoff and results). */
function workgroup(name: string, cutoff: number, results: string) {
  return {
    Name: name,
    Configuration: {
      EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
      EnforceWorkGroupConfiguration: true,
      BytesScannedCutoffPerQuery: cutoff,
      ResultConfiguration: { OutputLocation: results, EncryptionConfiguration: { EncryptionOption: 'SSE_S3' } },
    },
  };
}

function requests(patch: { view?: Record<string, unknown>; table?: Record<string, unknown>; parameters?: Record<string, string>; query?: string } = {}) {
  const params = { ...projectionParameters('s3://lake/flattened/', '2024-01-01') };
  params['storage.location.template'] = params['storage.location.template'].replace('$${', '${');
  const table = {
    Name: 'flattened',
    TableType: 'EXTERNAL_TABLE',
    PartitionKeys: [{ Name: 'dt', Type: 'string' }],
    Parameters: { 'parquet.compression': 'ZSTD', ...params, ...patch.parameters },
    StorageDescriptor: {
      Location: 's3://lake/flattened/',
      InputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat',
      OutputFormat: 'org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat',
      SerdeInfo: { SerializationLibrary: 'org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe' },
    },
    ...patch.table,
  };
  const view = {
    Name: 'current_state',
    TableType: 'VIRTUAL_VIEW',
    Parameters: PRESTO_VIEW.parameters,
    ViewOriginalText: prestoViewOriginalText(DB, sql, viewColumns([])),
    ViewExpandedText: PRESTO_VIEW.expandedText,
    StorageDescriptor: { SerdeInfo: { Name: '-', SerializationLibrary: '-' }, Columns: viewColumns([]).map((c) => ({ Name: c.name, Type: c.glue })) },
    ...patch.view,
  };
  return proxyOf({
    'AWSGlue.CreateDatabase': [{ DatabaseInput: { Name: DB } }],
    'AWSGlue.CreateTable': [
      { DatabaseName: DB, TableInput: table },
      { DatabaseName: DB, TableInput: view },
    ],
    'AmazonAthena.CreateWorkGroup': [
      workgroup('orders', 10737418240, 's3://lake/athena-results/'),
      workgroup('orders-maintenance', 1099511627776, 's3://lake/athena-results/maintenance/'),
    ],
    'AmazonAthena.CreateNamedQuery': [{ Database: DB, Name: 'q', QueryString: patch.query ?? `-- a copy\n${sql}` }],
  });
}

const check = (proxy: RecordingProxy) => checkGlueAthenaContract(proxy, { database: DB, views: ['current_state'], kms: false });

describe('the Glue/Athena contract checks', () => {
  it('accept what the module sends', () => {
    expect(check(requests())).toEqual({ tables: 2, views: 1, workgroups: 2, namedQueries: 1 });
  });
  it('refuse a view with an empty or missing SerDe info', () => {
    expect(() => check(requests({ view: { StorageDescriptor: { Columns: viewColumns([]).map((c) => ({ Name: c.name, Type: c.glue })) } } }))).toThrow(/SerdeInfo/);
  });
  it('refuse parquet.compress', () => {
    expect(() => check(requests({ parameters: { 'parquet.compress': 'ZSTD' } }))).toThrow();
  });
  it('refuse a location template without the trailing slash', () => {
    expect(() => check(requests({ parameters: { 'storage.location.template': 's3://lake/flattened/dt=${dt}' } }))).toThrow();
  });
  it('refuse a misspelt projection key', () => {
    expect(() => check(requests({ parameters: { 'projection.dt.intervalunit': 'DAYS' } }))).toThrow(/projection\.dt\.intervalunit/);
  });
  it('refuse a view without the Presto parameters, or with a column type Trino does not name', () => {
    expect(() => check(requests({ view: { Parameters: { presto_view: 'true' } } }))).toThrow();
    const bad = prestoViewOriginalText(DB, sql, viewColumns([]).map((c) => ({ ...c, presto: c.glue })));
    expect(() => check(requests({ view: { ViewOriginalText: bad } }))).toThrow();
  });
  it('refuse a named query that re-creates the view, and SQL Trino does not parse', () => {
    expect(() => check(requests({ query: `CREATE OR REPLACE VIEW "orders"."current_state" AS\n${sql}` }))).toThrow();
    expect(() => check(requests({ query: 'SELECT value::DOUBLE FROM t' }))).toThrow();
  });
});

describe('the re-plan check', () => {
  const change = (type: string, before: Record<string, unknown>, after: Record<string, unknown>, actions = ['update']): PlannedChange => ({
    address: `module.m.${type}.x[0]`,
    type,
    mode: 'managed',
    change: { actions, before, after, after_unknown: {} },
  });
  it('allows a documented moto gap and nothing else', () => {
    expect(unexplainedChanges([change('aws_lambda_event_source_mapping', { function_name: 'arn:…:1' }, { function_name: 'arn:…:live' })])).toEqual([]);
    expect(unexplainedChanges([change('aws_glue_catalog_table', { storage_descriptor: [{}] }, { storage_descriptor: [{ ser_de_info: [{}] }] })])).toEqual([
      'update module.m.aws_glue_catalog_table.x[0]: storage_descriptor',
    ]);
    expect(unexplainedChanges([change('aws_lambda_function', { memory_size: 512 }, { memory_size: 1024 })])).toEqual(['update module.m.aws_lambda_function.x[0]: memory_size']);
    expect(unexplainedChanges([change('aws_lambda_event_source_mapping', { function_name: 'a' }, { function_name: 'b' }, ['delete', 'create'])])).toHaveLength(1);
    expect(changedAttributes(change('aws_sqs_queue', { a: 1, b: [1] }, { a: 1, b: [2] }))).toEqual(['b']);
  });
});
