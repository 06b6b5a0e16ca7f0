import { copyFile, mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListObjectVersionsCommand,
  ListObjectsV2Command,
  UploadPartCopyCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { atomicFileOutput, type ByteOutput } from '../io/byte-output.ts';
import { s3Output } from './s3-output.ts';
import { chunks } from '../util/chunks.ts';
import { mapLimit } from '../util/map-limit.ts';

/**
 * The lake's storage as the maintenance jobs (compaction, checkpoints) use
 * it: list, read, write whole objects or streams, delete. The same job runs
 * against the bucket in the Lambda and against a folder laid out like the
 * bucket from the CLI and in tests.
 */

export interface StoredObject {
  readonly key: string;
  readonly size: number;
}

export interface LakeStore {
  /** Human-readable location of a key, e.g. s3://bucket/key or a file path. */
  describe(key: string): string;
  /** Every object under a prefix (a "folder" ending in /), sorted by key. */
  list(prefix: string): Promise<StoredObject[]>;
  /** The "sub-folders" directly under a prefix ending in /, e.g. the dt=YYYY-MM-DD/ partitions; names without the prefix or the slash. */
  folders(prefix: string): Promise<string[]>;
  /** The object's bytes, or undefined when it does not exist. */
  read(key: string): Promise<Uint8Array | undefined>;
  /** A byte range [start, end) of an object (Parquet footers and column chunks). */
  readRange(key: string, start: number, end: number): Promise<Uint8Array>;
  /** A whole object, replaced atomically. */
  write(key: string, body: Uint8Array | string, contentType: string): Promise<void>;
  /** A streamed object: nothing is visible until commit(). */
  output(key: string, contentType: string): Promise<ByteOutput>;
  /** Deletes objects; a missing one is not an error (deletes are retried). */
  delete(keys: readonly string[]): Promise<void>;
  /** Copies an object to another key (in S3 without the bytes passing through here), replacing what is there. */
  copy(from: StoredObject, to: string): Promise<void>;
  /**
   * Every version under a prefix, current and noncurrent, delete markers too (a versioned bucket keeps
   * a deleted or replaced object as a noncurrent version). A store without versions has none: absent.
   */
  listVersions?(prefix: string): Promise<ObjectVersion[]>;
  /** Deletes versions for good (S3: DeleteObjects with VersionId, which no lifecycle rule waits for). */
  deleteVersions?(versions: readonly Pick<ObjectVersion, 'key' | 'versionId'>[]): Promise<void>;
}

export interface ObjectVersion {
  readonly key: string;
  readonly versionId: string;
  /** The current version (what a GET without VersionId returns). */
  readonly latest: boolean;
  readonly deleteMarker: boolean;
  readonly size: number;
}

/** CopyObject copies up to 5 GiB in one request; a larger object is copied in parts (UploadPartCopy). */
const COPY_LIMIT = 5 * 1024 ** 3;
const COPY_PART = 1024 ** 3;
/** Parts of one large copy, and DeleteObjects requests, in flight at once. */
const PARALLEL_REQUESTS = 8;
/** DeleteObjects takes at most 1,000 keys a request. */
const DELETE_BATCH = 1000;

export class S3Store implements LakeStore {
  readonly s3: S3Client;
  readonly bucket: string;
  constructor(s3: S3Client, bucket: string) {
    this.s3 = s3;
    this.bucket = bucket;
  }

  describe(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) out.push({ key: o.Key!, size: Number(o.Size ?? 0) });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async folders(prefix: string): Promise<string[]> {
    const out: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, Delimiter: '/', ContinuationToken: token }));
      for (const p of page.CommonPrefixes ?? []) out.push(p.Prefix!.slice(prefix.length, -1));
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return out.sort();
  }

  async read(key: string): Promise<Uint8Array | undefined> {
    try {
      const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return await res.Body!.transformToByteArray();
    } catch (error) {
      if ((error as { name?: string }).name === 'NoSuchKey') return undefined;
      throw error;
    }
  }

  async readRange(key: string, start: number, end: number): Promise<Uint8Array> {
    const res = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
    return res.Body!.transformToByteArray();
  }

  async write(key: string, body: Uint8Array | string, contentType: string): Promise<void> {
    const out = s3Output(this.s3, this.bucket, key, contentType);
    await out.write(typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    await out.commit();
  }

  async output(key: string, contentType: string): Promise<ByteOutput> {
    return s3Output(this.s3, this.bucket, key, contentType);
  }

  async copy(from: StoredObject, to: string): Promise<void> {
    const source = `${this.bucket}/${from.key.split('/').map(encodeURIComponent).join('/')}`;
    if (from.size <= COPY_LIMIT) {
      await this.s3.send(new CopyObjectCommand({ Bucket: this.bucket, Key: to, CopySource: source }));
      return;
    }
    const { UploadId } = await this.s3.send(new CreateMultipartUploadCommand({ Bucket: this.bucket, Key: to }));
    try {
      const ranges = Array.from({ length: Math.ceil(from.size / COPY_PART) }, (_, i) => ({ n: i + 1, start: i * COPY_PART, end: Math.min(from.size, (i + 1) * COPY_PART) - 1 }));
      const parts = await mapLimit(ranges, PARALLEL_REQUESTS, async ({ n, start, end }) => {
        const part = await this.s3.send(new UploadPartCopyCommand({ Bucket: this.bucket, Key: to, UploadId, PartNumber: n, CopySource: source, CopySourceRange: `bytes=${start}-${end}` }));
        return { PartNumber: n, ETag: part.CopyPartResult?.ETag };
      });
      await this.s3.send(new CompleteMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId, MultipartUpload: { Parts: parts } }));
    } catch (error) {
      // Parts copied so far are stored (and billed) until the upload is aborted.
      await this.s3.send(new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: to, UploadId })).catch(() => undefined);
      throw error;
    }
  }

  async listVersions(prefix: string): Promise<ObjectVersion[]> {
    const out: ObjectVersion[] = [];
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectVersionsCommand({ Bucket: this.bucket, Prefix: prefix, KeyMarker: keyMarker, VersionIdMarker: versionMarker }));
      for (const v of page.Versions ?? []) out.push({ key: v.Key!, versionId: v.VersionId ?? 'null', latest: v.IsLatest === true, deleteMarker: false, size: Number(v.Size ?? 0) });
      for (const m of page.DeleteMarkers ?? []) out.push({ key: m.Key!, versionId: m.VersionId ?? 'null', latest: m.IsLatest === true, deleteMarker: true, size: 0 });
      keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
      versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
    } while (keyMarker !== undefined);
    return out;
  }

  async deleteVersions(versions: readonly Pick<ObjectVersion, 'key' | 'versionId'>[]): Promise<void> {
    await mapLimit(chunks(versions, DELETE_BATCH), PARALLEL_REQUESTS, async (chunk) => {
      const res = await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((v) => ({ Key: v.key, VersionId: v.versionId })), Quiet: true } }));
      if (res.Errors?.length) throw new Error(`S3 refused to delete ${res.Errors.length} object version(s), e.g. ${res.Errors[0]!.Key} ${res.Errors[0]!.VersionId}: ${res.Errors[0]!.Code} ${res.Errors[0]!.Message}`);
    });
  }

  async delete(keys: readonly string[]): Promise<void> {
    // Deleting a missing key succeeds, so a delete interrupted part way is simply run again.
    await mapLimit(chunks(keys, DELETE_BATCH), PARALLEL_REQUESTS, async (chunk) => {
      const res = await this.s3.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: chunk.map((Key) => ({ Key })), Quiet: true } }));
      if (res.Errors?.length) throw new Error(`S3 refused to delete ${res.Errors.length} object(s), e.g. ${res.Errors[0]!.Key}: ${res.Errors[0]!.Code} ${res.Errors[0]!.Message}`);
    });
  }
}

/** A local folder with the bucket's layout. */
export class FolderStore implements LakeStore {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }

  private path(key: string): string {
    const target = resolve(join(this.root, key));
    if (target !== this.root && !target.startsWith(this.root + sep)) throw new Error(`object key "${key}" escapes the lake folder ${this.root}`);
    return target;
  }

  describe(key: string): string {
    return this.path(key);
  }

  async list(prefix: string): Promise<StoredObject[]> {
    const out: StoredObject[] = [];
    const walk = async (dir: string): Promise<void> => {
      const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
      for (const e of entries) {
        const full = join(dir, e.name);
        if (e.isDirectory()) await walk(full);
        else if (e.isFile() && !e.name.endsWith('.partial') && !e.name.endsWith('.tmp')) {
          const key = relative(this.root, full).split(sep).join('/');
          if (key.startsWith(prefix)) out.push({ key, size: (await stat(full)).size });
        }
      }
    };
    // Walk from the deepest folder the prefix names.
    const folder = prefix.includes('/') ? prefix.slice(0, prefix.lastIndexOf('/')) : '';
    await walk(this.path(folder));
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async folders(prefix: string): Promise<string[]> {
    const entries = await readdir(this.path(prefix), { withFileTypes: true }).catch(() => []);
    return entries.filter((e) => e.isDirectory()).map((e) => e.name).sort();
  }

  async read(key: string): Promise<Uint8Array | undefined> {
    try {
      return await readFile(this.path(key));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw error;
    }
  }

  async readRange(key: string, start: number, end: number): Promise<Uint8Array> {
    // Only the range: a compacted object is read one row group at a time, and may be far larger than one.
    const file = await open(this.path(key), 'r');
    try {
      const out = Buffer.alloc(Math.max(0, end - start));
      let at = 0;
      while (at < out.length) {
        const { bytesRead } = await file.read(out, at, out.length - at, start + at);
        if (bytesRead === 0) break;
        at += bytesRead;
      }
      return out.subarray(0, at);
    } finally {
      await file.close();
    }
  }

  async write(key: string, body: Uint8Array | string): Promise<void> {
    const out = await this.output(key);
    await out.write(typeof body === 'string' ? body : Buffer.from(body.buffer, body.byteOffset, body.byteLength));
    await out.commit();
  }

  async output(key: string): Promise<ByteOutput> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    return atomicFileOutput(target);
  }

  async copy(from: StoredObject, to: string): Promise<void> {
    const target = this.path(to);
    await mkdir(dirname(target), { recursive: true });
    // Through a temporary name, as a PUT is: a reader never sees half a copy.
    const temp = `${target}.${process.pid}.tmp`;
    await copyFile(this.path(from.key), temp);
    await rename(temp, target);
  }

  async delete(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      await rm(this.path(key), { force: true });
      // S3 has no folders: a "folder" left empty disappears, so it does here too.
      for (let dir = dirname(this.path(key)); dir.startsWith(this.root + sep); dir = dirname(dir)) {
        if ((await readdir(dir).catch(() => ['?'])).length > 0) break;
        await rm(dir, { recursive: true, force: true });
      }
    }
  }
}
