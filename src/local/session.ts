import { loadPipelineConfig, type PipelineConfig } from '../config/pipeline-config.ts';
import { DuckDbLake } from '../sql/duckdb-lake.ts';
import { createTable, LOCAL_ACCOUNT, LOCAL_REGION, startLocalDynamoDB, type LocalDynamoDB } from './local-dynamodb.ts';
import { localStreamLambda, type LocalStreamLambda } from './local-lambda.ts';
import { prepareLakeFolder } from './lake-folder.ts';
import { RecordingTable } from './recording-table.ts';
import { ELEMENT_VIEWS, TABLE_NAME } from './seed.ts';
import { StreamSequencer, streamArn } from './stream-events.ts';

/**
 * Everything one npm start run holds: the in-process DynamoDB and its
 * recorded stream, the Lambda's handler writing to the local lake, and
 * DuckDB over that lake. close() releases all of it.
 */

/** The Lambda's environment for the local run; it goes through the same validation as in AWS. */
export const LOCAL_ENVIRONMENT = {
  LAKE_BUCKET: 'ddb-flatten-local-lake',
  LAKE_PREFIX: 'flattened',
  QUARANTINE_PREFIX: 'quarantine',
  EXPLODE_ATTRIBUTES: 'items',
  PARTITION_KEY: 'pk',
} as const;

export interface LocalSession {
  readonly config: PipelineConfig;
  readonly dynamodb: LocalDynamoDB;
  readonly table: RecordingTable;
  readonly lambda: LocalStreamLambda;
  readonly lakeRoot: string;
  /** Opens DuckDB over the lake as it is now. */
  openLake(): Promise<DuckDbLake>;
  close(): Promise<void>;
}

export interface SessionOptions {
  readonly lakeDir: string;
  /** Keep dynalite's table in LevelDB files in a temporary folder instead of memory (large runs). */
  readonly tableOnDisk?: boolean;
  /**
   * The time stream records are stamped with (ApproximateCreationDateTime, which decides the dt
   * partition). Default the wall clock; --days runs a simulated one over past days.
   */
  readonly clock?: () => number;
}

export async function openSession(options: SessionOptions): Promise<LocalSession> {
  const config = loadPipelineConfig(LOCAL_ENVIRONMENT);
  // The state prefix too: a checkpoint left by an earlier --days run would hide this run's rows from the view.
  const lakeRoot = await prepareLakeFolder(options.lakeDir, [config.dataPrefix, config.quarantinePrefix, config.maintenance.statePrefix]);
  const dynamodb = await startLocalDynamoDB({ onDisk: options.tableOnDisk ?? false });
  const lakes: DuckDbLake[] = [];
  try {
    const keys = { partitionKey: config.flatten.partitionKey, sortKey: config.flatten.sortKey };
    await createTable(dynamodb.client, TABLE_NAME, keys);
    const clock = options.clock ?? Date.now;
    const arn = streamArn(LOCAL_REGION, LOCAL_ACCOUNT, TABLE_NAME, new Date(clock()));
    const table = new RecordingTable(dynamodb.client, TABLE_NAME, keys, new StreamSequencer({ region: LOCAL_REGION, arn, keys }, clock));
    return {
      config,
      dynamodb,
      table,
      lambda: localStreamLambda(config, lakeRoot),
      lakeRoot,
      async openLake() {
        const lake = await DuckDbLake.open({
          root: lakeRoot,
          prefix: config.dataPrefix,
          statePrefix: config.maintenance.statePrefix,
          carried: config.flatten.carry,
          elementViews: ELEMENT_VIEWS,
        });
        lakes.push(lake);
        return lake;
      },
      async close() {
        for (const lake of lakes.splice(0)) lake.close();
        await dynamodb.close();
      },
    };
  } catch (error) {
    await dynamodb.close();
    throw error;
  }
}
