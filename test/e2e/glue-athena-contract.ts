import { TrinoSQL } from 'dt-sql-parser';
import { expect } from 'vitest';
import { PARQUET } from '../../modules/glue-catalog.ts';
import { decodePrestoView } from '../../modules/presto-view.ts';
import type { RecordingProxy } from '../support/recording-proxy.ts';

/**
 * The Glue/Athena contract: every Glue and Athena request the AWS provider
 * sent while applying the module (recorded by a proxy in front of moto),
 * checked against what AWS documents and what Athena's engine reads. moto
 * accepts nearly anything, so these checks, not moto, stand in for Athena.
 * Each check cites its source.
 */

const trino = new TrinoSQL();

/** Trino type names a view's columns may use (Trino documentation, "Data types"; Athena engine 3 is Trino). */
const TRINO_TYPES = /^(varchar|integer|bigint|smallint|tinyint|double|real|boolean|date|timestamp\(3\)|varbinary|decimal\(\d+,\d+\))$/;
/** The Hive type Glue stores for each Trino type (Athena "Data types in Amazon Athena": DDL uses Hive names). */
const HIVE_OF_TRINO: Readonly<Record<string, string>> = { varchar: 'string', integer: 'int', bigint: 'bigint', double: 'double', boolean: 'boolean', 'timestamp(3)': 'timestamp', date: 'date' };
/** Units of a date projection's interval (Athena "Supported types for partition projection", Date type). */
const INTERVAL_UNITS = ['YEARS', 'MONTHS', 'WEEKS', 'DAYS', 'HOURS', 'MINUTES', 'SECONDS', 'MILLISECONDS'];
/** The keys a date-type projected column may have (same page): type, range, format, interval, interval.unit. */
const DATE_PROJECTION_KEYS = ['type', 'range', 'format', 'interval', 'interval.unit'];
/** Codecs Athena reads from a Parquet table's parquet.compression property (Athena "Parquet SerDe" / "Use compression"). */
const PARQUET_CODECS = ['SNAPPY', 'GZIP', 'ZSTD', 'LZO', 'LZ4', 'UNCOMPRESSED'];

type TableInput = Record<string, any>;

function sqlProblems(sql: string): string[] {
  return trino.validate(sql).map((e) => `${e.startLine}:${e.startColumn} ${e.message}`);
}

/** An EXTERNAL_TABLE of Parquet with partition projection. */
function checkProjectedParquetTable(t: TableInput): void {
  const sd = t.StorageDescriptor;
  // Athena "Parquet SerDe": the Hive Parquet input/output formats and ParquetHiveSerDe.
  expect(sd.InputFormat).toBe(PARQUET.inputFormat);
  expect(sd.OutputFormat).toBe(PARQUET.outputFormat);
  expect(sd.SerdeInfo?.SerializationLibrary).toBe(PARQUET.serde);
  // Athena "CREATE TABLE": LOCATION is a folder, ending with a slash.
  expect(sd.Location).toMatch(/^s3:\/\/[^/]+\/.+\/$/);
  const p: Record<string, string> = t.Parameters;
  // Table properties Athena and Hive read: 'parquet.compression' (the misspelt 'parquet.compress' is ignored).
  expect(Object.keys(p)).not.toContain('parquet.compress');
  expect(PARQUET_CODECS).toContain(p['parquet.compression']);
  // Athena "Use partition projection" / "Set up partition projection": projection.enabled, one projection type per
  // partition column, every projection.* key spelled as documented for its type, and a storage.location.template
  // that holds ${<column>} for each partition column and ends with a slash.
  expect(p['projection.enabled']).toBe('true');
  const partitions: string[] = t.PartitionKeys.map((k: { Name: string }) => k.Name);
  for (const column of partitions) {
    const type = p[`projection.${column}.type`];
    expect(['date', 'injected'], column).toContain(type);
    expect(p['storage.location.template']).toContain(`\${${column}}`);
    // Athena "Injected type": the value comes from the query (a static equality in its WHERE clause, which
    // the view that reads the table holds); the type is the only property.
    if (type === 'injected') {
      expect(Object.keys(p).filter((k) => k.startsWith(`projection.${column}.`)), column).toEqual([`projection.${column}.type`]);
      continue;
    }
    expect(p[`projection.${column}.range`]).toMatch(/^\d{4}-\d{2}-\d{2},NOW$/);
    expect(p[`projection.${column}.format`]).toBe('yyyy-MM-dd');
    expect(p[`projection.${column}.interval`]).toMatch(/^[1-9]\d*$/);
    expect(INTERVAL_UNITS).toContain(p[`projection.${column}.interval.unit`]);
    for (const key of Object.keys(p).filter((k) => k.startsWith(`projection.${column}.`))) expect(DATE_PROJECTION_KEYS, key).toContain(key.slice(`projection.${column}.`.length));
  }
  for (const key of Object.keys(p).filter((k) => k.startsWith('projection.') && k !== 'projection.enabled')) {
    expect(partitions, key).toContain(key.split('.')[1]);
  }
  expect(p['storage.location.template']).toMatch(/^s3:\/\/.+\/$/);
  expect(p['storage.location.template'].startsWith(sd.Location)).toBe(true);
}

/** A VIRTUAL_VIEW that Athena reads as a Presto/Trino view. */
function checkAthenaView(t: TableInput, database: string): void {
  expect(t.TableType).toBe('VIRTUAL_VIEW');
  // trinodb/trino ViewReaderUtil.isTrinoView: table type VIRTUAL_VIEW and parameters presto_view = "true", comment = "Presto View".
  expect(t.Parameters).toMatchObject({ presto_view: 'true', comment: 'Presto View' });
  // ViewReaderUtil.PrestoViewReader.decodeViewData: "/* Presto View: " + base64(JSON) + " */".
  expect(t.ViewOriginalText).toMatch(/^\/\* Presto View: [A-Za-z0-9+/]+=*\ \*\/$/);
  expect(t.ViewExpandedText).toBe('/* Presto View */');
  const view = decodePrestoView(t.ViewOriginalText);
  // The JSON is a ConnectorViewDefinition: originalSql, catalog, schema, columns [{name, type}] with Trino type names.
  expect(typeof view.originalSql).toBe('string');
  expect(view.catalog).toBe('awsdatacatalog');
  expect(view.schema).toBe(database);
  expect(view.columns.length).toBeGreaterThan(0);
  for (const c of view.columns) expect(c.type, c.name).toMatch(TRINO_TYPES);
  expect(sqlProblems(view.originalSql), view.originalSql).toEqual([]);
  // Athena refuses a view whose storage descriptor has no SerDe info ("HIVE_METASTORE_ERROR: Table storage descriptor
  // is missing SerDe info"; hashicorp/terraform-provider-aws#28517: an empty ser_de_info block is not sent at all).
  expect(t.StorageDescriptor?.SerdeInfo, 'SerdeInfo').toBeDefined();
  expect(Object.keys(t.StorageDescriptor.SerdeInfo).length).toBeGreaterThan(0);
  // Glue's columns are the view's, in order, in the matching Hive types.
  expect(t.StorageDescriptor.Columns.map((c: { Name: string; Type: string }) => [c.Name, c.Type])).toEqual(view.columns.map((c) => [c.name, HIVE_OF_TRINO[c.type]]));
}

export interface ContractExpectations {
  readonly database: string;
  /** Names of the views the module must create. */
  readonly views: readonly string[];
  readonly kms: boolean;
}

/** Checks every recorded Glue and Athena request; returns how many were checked (the test asserts it is not zero). */
export function checkGlueAthenaContract(proxy: RecordingProxy, expected: ContractExpectations): Record<string, number> {
  const creates = [...proxy.calls('AWSGlue.CreateTable'), ...proxy.calls('AWSGlue.UpdateTable')];
  // Athena "Names for tables, databases, and columns": lowercase letters, numbers and underscore.
  for (const db of proxy.calls('AWSGlue.CreateDatabase')) expect(db.DatabaseInput.Name).toMatch(/^[a-z0-9_]{1,255}$/);
  for (const call of creates) {
    const t: TableInput = call.TableInput;
    expect(call.DatabaseName).toBe(expected.database);
    expect(t.Name).toMatch(/^[a-z0-9_]{1,255}$/);
    if (t.TableType === 'VIRTUAL_VIEW') checkAthenaView(t, expected.database);
    else {
      expect(t.TableType).toBe('EXTERNAL_TABLE');
      checkProjectedParquetTable(t);
    }
  }
  const views = creates.filter((c) => c.TableInput.TableType === 'VIRTUAL_VIEW').map((c) => c.TableInput.Name);
  expect([...new Set(views)].sort()).toEqual([...expected.views].sort());

  // The lake's workgroup (analysts, a tight cutoff) and the maintenance workgroup (the run's statements, its own cutoff).
  const workgroups = proxy.calls('AmazonAthena.CreateWorkGroup');
  expect(workgroups).toHaveLength(2);
  const [lake, maintenance] = [...workgroups].sort((a, b) => String(a.Name).length - String(b.Name).length);
  expect(maintenance.Name).toBe(`${lake.Name}-maintenance`);
  expect(maintenance.Configuration.ResultConfiguration.OutputLocation).toMatch(/\/maintenance\/$/);
  expect(maintenance.Configuration.BytesScannedCutoffPerQuery).toBeGreaterThan(lake.Configuration.BytesScannedCutoffPerQuery);
  for (const wg of workgroups) {
    const c = wg.Configuration;
    // Athena "Engine versioning": the engine is chosen per workgroup; "Athena engine version 3" is Trino-based.
    expect(c.EngineVersion.SelectedEngineVersion).toBe('Athena engine version 3');
    // Athena "Encrypt Athena query results": SSE_S3, SSE_KMS (with the key) or CSE_KMS; enforced so clients cannot opt out.
    expect(c.EnforceWorkGroupConfiguration).toBe(true);
    const enc = c.ResultConfiguration.EncryptionConfiguration;
    expect(enc.EncryptionOption).toBe(expected.kms ? 'SSE_KMS' : 'SSE_S3');
    if (expected.kms) expect(enc.KmsKey).toMatch(/^arn:aws:kms:/);
    expect(c.ResultConfiguration.OutputLocation).toMatch(/^s3:\/\/.+\/$/);
    // Athena API WorkGroupConfiguration.BytesScannedCutoffPerQuery: minimum 10000000.
    expect(c.BytesScannedCutoffPerQuery).toBeGreaterThanOrEqual(10_000_000);
  }
  const queries = proxy.calls('AmazonAthena.CreateNamedQuery');
  for (const q of queries) {
    expect(q.Database).toBe(expected.database);
    expect(sqlProblems(q.QueryString), q.Name).toEqual([]);
    // The views belong to Terraform: a named query that re-created one would be reverted by the next apply.
    expect(q.QueryString, q.Name).not.toMatch(/^\s*CREATE\s/im);
  }
  return { tables: creates.length, views: views.length, workgroups: workgroups.length, namedQueries: queries.length };
}
