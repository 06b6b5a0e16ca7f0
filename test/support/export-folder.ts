import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/**
 * A DynamoDB export to S3 laid out exactly as AWS writes it (DYNAMODB_JSON):
 *   <root>/manifest-summary.json, <root>/manifest-files.json, <root>/data/<name>.json.gz
 * as relative paths and bytes, to write into a folder or upload to a bucket.
 */
export interface ExportFolder {
  /** Path of each object relative to the export root, and its bytes. */
  readonly objects: ReadonlyMap<string, Buffer>;
  readonly dataFiles: readonly string[];
}

export function exportFolder(options: { keyPrefix: string; exportTime: Date; files: readonly (readonly unknown[])[] }): ExportFolder {
  const objects = new Map<string, Buffer>();
  const manifest: string[] = [];
  const dataFiles: string[] = [];
  options.files.forEach((items, i) => {
    const name = `data/${String.fromCharCode(97 + i)}${createHash('sha1').update(String(i)).digest('hex').slice(0, 24)}.json.gz`;
    const body = gzipSync(items.map((Item) => `${JSON.stringify({ Item })}\n`).join(''));
    objects.set(name, body);
    dataFiles.push(name);
    manifest.push(JSON.stringify({ itemCount: items.length, md5Checksum: createHash('md5').update(body).digest('base64'), etag: createHash('md5').update(body).digest('hex'), dataFileS3Key: `${options.keyPrefix}/${name}` }));
  });
  const itemCount = options.files.reduce((n, f) => n + f.length, 0);
  objects.set('manifest-files.json', Buffer.from(`${manifest.join('\n')}\n`));
  objects.set(
    'manifest-summary.json',
    Buffer.from(
      JSON.stringify({
        version: '2020-06-30',
        exportArn: `arn:aws:dynamodb:us-east-1:123456789012:table/orders/export/${options.keyPrefix.split('/').pop()}`,
        startTime: options.exportTime.toISOString(),
        endTime: new Date(options.exportTime.getTime() + 300_000).toISOString(),
        tableArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders',
        exportTime: options.exportTime.toISOString(),
        s3Bucket: 'lake',
        s3Prefix: options.keyPrefix.split('/AWSDynamoDB/')[0],
        s3SseAlgorithm: 'AES256',
        manifestFilesS3Key: `${options.keyPrefix}/manifest-files.json`,
        billedSizeBytes: 0,
        itemCount,
        outputFormat: 'DYNAMODB_JSON',
      }),
    ),
  );
  return { objects, dataFiles };
}

export function writeExportFolder(dir: string, folder: ExportFolder): void {
  for (const [path, body] of folder.objects) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), body);
  }
}

export async function uploadExportFolder(s3: S3Client, bucket: string, root: string, folder: ExportFolder): Promise<void> {
  for (const [path, body] of folder.objects) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${root}/${path}`, Body: body }));
}
