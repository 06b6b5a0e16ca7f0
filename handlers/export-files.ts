import type { S3Client } from '@aws-sdk/client-s3';
import type { Logger } from '@aws-lambda-powertools/logger';
import type { S3Event } from 'aws-lambda';
import { notificationKey, parseExportDataKey } from '../src/backfill/export-layout.ts';
import { flattenExportFile, type ExportFileResult } from '../src/backfill/flatten-export-file.ts';
import type { PipelineConfig } from '../src/config/pipeline-config.ts';

export interface ExportFileDeps {
  readonly config: PipelineConfig;
  readonly s3: S3Client;
  readonly logger: Logger;
}

/**
 * S3 object-created notifications for a backfill's export data files: each
 * file becomes one Parquet object of SNAPSHOT rows. S3 invokes the alias
 * asynchronously, one file per invocation, so files are flattened in
 * parallel; a failure is retried by Lambda and then sent to the on-failure
 * queue, and reprocessing a file overwrites its own object.
 */
export async function flattenExportNotifications(event: S3Event, deps: ExportFileDeps): Promise<{ files: ExportFileResult[]; ignored: string[] }> {
  const files: ExportFileResult[] = [];
  const ignored: string[] = [];
  for (const record of event.Records) {
    const bucket = record.s3?.bucket?.name;
    const key = notificationKey(record.s3?.object?.key ?? '');
    if (bucket !== deps.config.bucket) throw new Error(`notification for s3://${bucket}/${key}: this function flattens exports of s3://${deps.config.bucket} only`);
    const file = parseExportDataKey(key, deps.config.actions.exportPrefix);
    if (!file) {
      ignored.push(key);
      continue;
    }
    const result = await flattenExportFile(deps.s3, deps.config, file);
    deps.logger.info('export file flattened', { source: result.source, objects: result.objects, items: result.items, rows: result.rows });
    files.push(result);
  }
  if (ignored.length) deps.logger.warn('notifications ignored: not export data files', { keys: ignored });
  return { files, ignored };
}
