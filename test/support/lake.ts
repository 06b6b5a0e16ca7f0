import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';

/** Every key under a prefix. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) keys.push(o.Key!);
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return res.Body!.transformToByteArray();
}

/** Copies a bucket prefix into a local folder with the same layout, for DuckDB; `concurrency` objects at a time. */
export async function downloadPrefix(s3: S3Client, bucket: string, prefix: string, dir: string, concurrency = 1): Promise<string[]> {
  const keys = await listKeys(s3, bucket, prefix);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < keys.length) {
      const key = keys[next++]!;
      const target = join(dir, key);
      mkdirSync(dirname(target), { recursive: true });
      writeFileSync(target, await getBytes(s3, bucket, key));
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, keys.length)) }, worker));
  return keys;
}
