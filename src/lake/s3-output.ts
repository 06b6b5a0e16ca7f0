import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectCommand,
  UploadPartCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { ByteOutput } from '../io/byte-output.ts';

/** S3's smallest part (except the last): parts are cut at this size, so memory holds about one part. */
export const PART_BYTES = 8 * 1024 * 1024;

/**
 * An S3 object written as a stream of chunks. A small object is one
 * PutObject; a large one a multipart upload whose parts are sent as they
 * fill. Nothing is visible under the key until commit(): a failed or
 * abandoned upload is aborted, and a completed one replaces the object
 * whole, which is what makes reprocessing an export file idempotent.
 */
export function s3Output(s3: S3Client, bucket: string, key: string, contentType: string): ByteOutput {
  let buffered: Buffer[] = [];
  let bufferedBytes = 0;
  let uploadId: string | undefined;
  const parts: { ETag: string; PartNumber: number }[] = [];
  let finished = false;

  const sendPart = async (body: Buffer): Promise<void> => {
    if (uploadId === undefined) {
      const created = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key, ContentType: contentType }));
      uploadId = created.UploadId!;
    }
    const PartNumber = parts.length + 1;
    const sent = await s3.send(new UploadPartCommand({ Bucket: bucket, Key: key, UploadId: uploadId, PartNumber, Body: body }));
    parts.push({ ETag: sent.ETag!, PartNumber });
  };
  const take = (): Buffer => {
    const body = Buffer.concat(buffered, bufferedBytes);
    buffered = [];
    bufferedBytes = 0;
    return body;
  };

  return {
    name: `s3://${bucket}/${key}`,
    streaming: false,
    async write(chunk) {
      const bytes = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
      buffered.push(bytes);
      bufferedBytes += bytes.length;
      if (bufferedBytes >= PART_BYTES) await sendPart(take());
    },
    async commit() {
      if (uploadId === undefined) {
        await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: take(), ContentType: contentType }));
      } else {
        if (bufferedBytes > 0) await sendPart(take());
        await s3.send(new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId, MultipartUpload: { Parts: parts } }));
      }
      finished = true;
    },
    async abort() {
      if (finished) return;
      finished = true;
      buffered = [];
      if (uploadId !== undefined) await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId: uploadId })).catch(() => {});
    },
    abortSync() {
      // Nothing is visible before commit; an orphaned upload is removed by the bucket's abort-incomplete-uploads rule.
      finished = true;
    },
  };
}
