import { DescribeExportCommand, ExportTableToPointInTimeCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../config/pipeline-config.ts';
import { exportRoot, markerKey, parseExportDataKey, parseExportRoot, type ExportFileMarker } from '../backfill/export-layout.ts';
import { ActionConfigError } from './errors.ts';

export interface BackfillStarted {
  readonly exportArn: string;
  readonly exportStatus: string;
  /** The point in time the export (and every SNAPSHOT row) describes. */
  readonly exportTime: string;
  readonly s3Uri: string;
}

/**
 * Starts a backfill: a point-in-time export of the table (PITR; it reads
 * no table capacity) into `<exportPrefix>/t=<T>/`. Its data files are then
 * flattened one per invocation as S3 announces them. T is a whole second
 * just before now, so the snapshot time is exactly the export time.
 */
export async function startBackfill(
  ddb: DynamoDBClient,
  config: PipelineConfig,
  now = Date.now,
  /** Records the export where the maintenance run finds it (a checkpoint must not pass its day until it is flattened). */
  onStarted: (root: string, started: BackfillStarted) => Promise<void> = async () => {},
): Promise<BackfillStarted> {
  const tableArn = config.actions.tableArn;
  if (!tableArn) throw new ActionConfigError('backfill', 'TABLE_ARN');
  const seconds = Math.floor(now() / 1000) - 1;
  const prefix = exportRoot(config.actions.exportPrefix, seconds);
  const started = await ddb.send(
    new ExportTableToPointInTimeCommand({
      TableArn: tableArn,
      ExportTime: new Date(seconds * 1000),
      S3Bucket: config.bucket,
      S3Prefix: prefix,
      ExportFormat: 'DYNAMODB_JSON',
      // A second call within the same second returns the same export instead of starting another.
      ClientToken: `ddb-flatten-${seconds}`,
    }),
  );
  const d = started.ExportDescription!;
  const result = { exportArn: d.ExportArn!, exportStatus: d.ExportStatus ?? 'IN_PROGRESS', exportTime: new Date(seconds * 1000).toISOString(), s3Uri: `s3://${config.bucket}/${prefix}/` };
  await onStarted(prefix, result);
  return result;
}

export interface BackfillStatus {
  readonly exportArn: string;
  readonly exportStatus: string;
  readonly exportTime?: string;
  readonly itemCount?: number;
  readonly failure?: string;
  /** Data files the export has written so far. */
  readonly dataFiles: number;
  readonly filesFlattened: number;
  readonly itemsFlattened: number;
  readonly rowsWritten: number;
  /** Data files not flattened yet (first 20). */
  readonly pending: readonly string[];
  /** True when the export completed and every data file was flattened. */
  readonly done: boolean;
}

async function listAll(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** The export's state from DynamoDB, and the flattening's from the markers next to it. */
export async function backfillStatus(ddb: DynamoDBClient, s3: S3Client, config: PipelineConfig, exportArn: string): Promise<BackfillStatus> {
  const described = await ddb.send(new DescribeExportCommand({ ExportArn: exportArn }));
  const d = described.ExportDescription!;
  const root = parseExportRoot(d.S3Prefix ?? '', config.actions.exportPrefix);
  if (d.S3Bucket !== config.bucket || !root) {
    throw new Error(`export ${exportArn} wrote to s3://${d.S3Bucket}/${d.S3Prefix ?? ''}, not to a backfill prefix of this pipeline (s3://${config.bucket}/${config.actions.exportPrefix}/t=<time>/)`);
  }
  const files = (await listAll(s3, config.bucket, `${root.root}/AWSDynamoDB/`)).map((k) => parseExportDataKey(k, config.actions.exportPrefix)).filter((f) => f !== undefined);
  const markerKeys = await listAll(s3, config.bucket, `${root.root}/ddb-flatten/`);
  const markers = new Map<string, ExportFileMarker>(
    await Promise.all(
      markerKeys.map(async (key): Promise<[string, ExportFileMarker]> => {
        const body = await s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: key }));
        return [key, JSON.parse(await body.Body!.transformToString()) as ExportFileMarker];
      }),
    ),
  );
  const flattened = files.filter((f) => markers.has(markerKey(f)));
  const pending = files.filter((f) => !markers.has(markerKey(f))).map((f) => f.key);
  // Only the data files' markers count (started.json, which the maintenance run reads, sits beside them).
  const all = flattened.map((f) => markers.get(markerKey(f))!);
  const status = d.ExportStatus ?? 'UNKNOWN';
  return {
    exportArn,
    exportStatus: status,
    exportTime: new Date(root.exportTimeSeconds * 1000).toISOString(),
    ...(d.ItemCount === undefined ? {} : { itemCount: Number(d.ItemCount) }),
    ...(d.FailureMessage ? { failure: `${d.FailureCode ?? 'FAILED'}: ${d.FailureMessage}` } : {}),
    dataFiles: files.length,
    filesFlattened: flattened.length,
    itemsFlattened: all.reduce((n, m) => n + m.items, 0),
    rowsWritten: all.reduce((n, m) => n + m.rows, 0),
    pending: pending.slice(0, 20),
    done: status === 'COMPLETED' && files.length > 0 && pending.length === 0,
  };
}
