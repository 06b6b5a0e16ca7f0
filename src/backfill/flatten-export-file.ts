import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { PipelineConfig } from '../config/pipeline-config.ts';
import { Flattener, utcDate } from '../flatten/flatten.ts';
import { parquetWriter } from '../io/byte-output.ts';
import { flattenExportLines, newExportStats } from '../io/export-lines.ts';
import { streamInput } from '../io/lines.ts';
import { partitionKey } from '../lake/object-key.ts';
import { s3Output } from '../lake/s3-output.ts';
import { markerKey, snapshotObjectName, type ExportDataFile, type ExportFileMarker } from './export-layout.ts';

export interface ExportFileResult extends ExportFileMarker {
  readonly marker: string;
}

/**
 * One data file of a DynamoDB export to one Parquet object of SNAPSHOT
 * rows, stamped with the export time. The file is streamed (S3 body →
 * gunzip → lines → row groups → multipart upload), so memory does not grow
 * with its size. The object name derives from the file, so reprocessing it
 * replaces the object; a marker records that the file was flattened.
 */
export async function flattenExportFile(s3: S3Client, config: PipelineConfig, file: ExportDataFile, now = Date.now): Promise<ExportFileResult> {
  const snapshotMs = file.exportTimeSeconds * 1000;
  const source = `s3://${config.bucket}/${file.key}`;
  const object = await s3.send(new GetObjectCommand({ Bucket: config.bucket, Key: file.key }));
  const body = object.Body as NodeJS.ReadableStream | undefined;
  if (!body) throw new Error(`${source}: the object has no body`);

  const key = partitionKey(config.dataPrefix, utcDate(snapshotMs), snapshotObjectName(file));
  const out = s3Output(s3, config.bucket, key, 'application/vnd.apache.parquet');
  const writer = parquetWriter(out, config.flatten.carry);
  const stats = newExportStats();
  try {
    for await (const batch of flattenExportLines([streamInput(body, source)], { flattener: new Flattener(config.flatten), snapshotMs, stats })) {
      await writer.write(batch);
    }
    await writer.finish();
    await out.commit();
  } catch (error) {
    await out.abort();
    throw error;
  }

  const marker: ExportFileMarker = { source, objects: [key], items: stats.items, rows: stats.rows, flattenedAt: new Date(now()).toISOString() };
  const markerAt = markerKey(file);
  await s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: markerAt, Body: JSON.stringify(marker), ContentType: 'application/json' }));
  return { ...marker, marker: markerAt };
}
