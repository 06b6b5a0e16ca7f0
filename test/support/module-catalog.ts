import { AthenaClient, CreateWorkGroupCommand } from '@aws-sdk/client-athena';
import { CreateDatabaseCommand, CreateTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { checkpointColumns, checkpointProjection, currentStateSql, glueColumns, PARQUET, projectionParameters, viewColumns } from '../../modules/glue-catalog.ts';
import { prestoViewOriginalText, PRESTO_VIEW } from '../../modules/presto-view.ts';
import type { Moto } from './moto.ts';

/**
 * The module's Glue catalog and maintenance workgroup, created in moto as
 * Terraform creates them, for the tests and the soak that run maintenance
 * statements in the stand-in Athena: the flattened table with its dt
 * projection, the checkpoints table with its injected projection, the
 * current-state view, and the `<name>-maintenance` workgroup.
 */

export interface ModuleCatalog {
  readonly bucket: string;
  readonly database: string;
  readonly carried: readonly string[];
  /** Default flattened. */
  readonly dataPrefix?: string;
  /** Default state. */
  readonly statePrefix?: string;
  /** Default flattened. */
  readonly table?: string;
  /** Default checkpoints. */
  readonly checkpointsTable?: string;
  /** Default current_state. */
  readonly view?: string;
  /** The view's SQL; default the module's, pointing at no checkpoint. */
  readonly viewSql?: string;
  /** Default `<database>-maintenance`. */
  readonly workgroup?: string;
}

export async function createModuleCatalog(moto: Pick<Moto, 'clientConfig'>, c: ModuleCatalog): Promise<GlueClient> {
  const glue = new GlueClient(moto.clientConfig);
  const dataPrefix = c.dataPrefix ?? 'flattened';
  const table = c.table ?? 'flattened';
  const view = c.view ?? 'current_state';
  await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: c.database } }));
  const parquet = (location: string, columns: readonly { name: string; type: string }[]) => ({
    Location: location,
    InputFormat: PARQUET.inputFormat,
    OutputFormat: PARQUET.outputFormat,
    SerdeInfo: { SerializationLibrary: PARQUET.serde },
    Columns: columns.map((col) => ({ Name: col.name, Type: col.type })),
  });
  // The catalog helpers write the location template as Terraform's source has it ($${dt}); Glue gets ${dt}.
  const unescaped = (parameters: Record<string, string>) => Object.fromEntries(Object.entries(parameters).map(([k, v]) => [k, v.replaceAll('$${', '${')]));
  const rows = `s3://${c.bucket}/${dataPrefix}/`;
  const state = `s3://${c.bucket}/${c.statePrefix ?? 'state'}/checkpoints/`;
  await glue.send(
    new CreateTableCommand({
      DatabaseName: c.database,
      TableInput: { Name: table, TableType: 'EXTERNAL_TABLE', Parameters: { classification: 'parquet', ...unescaped(projectionParameters(rows, '2024-01-01')) }, PartitionKeys: [{ Name: 'dt', Type: 'string' }], StorageDescriptor: parquet(rows, glueColumns(c.carried)) },
    }),
  );
  await glue.send(
    new CreateTableCommand({
      DatabaseName: c.database,
      TableInput: { Name: c.checkpointsTable ?? 'checkpoints', TableType: 'EXTERNAL_TABLE', Parameters: { classification: 'parquet', ...unescaped(checkpointProjection(state)) }, PartitionKeys: [{ Name: 'checkpoint', Type: 'string' }], StorageDescriptor: parquet(state, checkpointColumns(c.carried)) },
    }),
  );
  await glue.send(
    new CreateTableCommand({
      DatabaseName: c.database,
      TableInput: {
        Name: view,
        TableType: 'VIRTUAL_VIEW',
        Parameters: { ...PRESTO_VIEW.parameters },
        ViewOriginalText: prestoViewOriginalText(c.database, c.viewSql ?? currentStateSql(c.database, table, c.carried), viewColumns(c.carried)),
        ViewExpandedText: PRESTO_VIEW.expandedText,
        StorageDescriptor: { Columns: viewColumns(c.carried).map((col) => ({ Name: col.name, Type: col.glue })), SerdeInfo: { Name: PRESTO_VIEW.serDeInfo.name, SerializationLibrary: PRESTO_VIEW.serDeInfo.serializationLibrary } },
      },
    }),
  );
  await new AthenaClient(moto.clientConfig).send(
    new CreateWorkGroupCommand({
      Name: c.workgroup ?? `${c.database}-maintenance`,
      Configuration: { EnforceWorkGroupConfiguration: true, ResultConfiguration: { OutputLocation: `s3://${c.bucket}/athena-results/maintenance/` }, BytesScannedCutoffPerQuery: 1024 ** 4, EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' } },
    }),
  );
  return glue;
}
