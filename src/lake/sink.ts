import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve, sep } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';

/** Where lake objects go: the S3 bucket in AWS, a folder laid out the same way locally. */
export interface LakeSink {
  /** Human-readable location of a key, e.g. s3://bucket/key or a file path. */
  describe(key: string): string;
  put(key: string, body: Uint8Array, contentType: string): Promise<void>;
}

export class S3Sink implements LakeSink {
  private readonly client: S3Client;
  readonly bucket: string;
  constructor(client: S3Client, bucket: string) {
    this.client = client;
    this.bucket = bucket;
  }

  describe(key: string): string {
    return `s3://${this.bucket}/${key}`;
  }

  async put(key: string, body: Uint8Array, contentType: string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }
}

/** A local folder with the bucket's layout. Writes are atomic (temp file, then rename). */
export class DirectorySink implements LakeSink {
  readonly root: string;
  constructor(root: string) {
    this.root = resolve(root);
  }

  path(key: string): string {
    const target = resolve(join(this.root, key));
    if (!target.startsWith(this.root + sep)) throw new Error(`object key "${key}" escapes the lake folder ${this.root}`);
    return target;
  }

  describe(key: string): string {
    return this.path(key);
  }

  async put(key: string, body: Uint8Array): Promise<void> {
    const target = this.path(key);
    await mkdir(dirname(target), { recursive: true });
    const temp = `${target}.${process.pid}.${Date.now()}.tmp`;
    try {
      await writeFile(temp, body);
      await rename(temp, target);
    } catch (err) {
      await rm(temp, { force: true });
      throw err;
    }
  }
}
