import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { snapshotTimeMs } from '../flatten/stream-record.ts';
import { InputError } from '../io/errors.ts';
import type { InputSource } from '../io/lines.ts';

/**
 * A DynamoDB export read from where it lies: a local copy of
 * `.../AWSDynamoDB/<export id>/` or the same folder in S3. The manifests
 * (manifest-summary.json, manifest-files.json) give the export time and
 * every data file with its item count and MD5, which are checked as the
 * files are read: a short or altered file is an error, never a silent gap.
 */
export interface ExportDataSource extends InputSource {
  /** File name without .json.gz. */
  readonly stem: string;
  readonly itemCount?: number;
  /** base64 MD5 of the stored (gzipped) bytes, from the manifest. */
  readonly md5?: string;
  /** Digest of what open() delivered, once it has been read to the end. */
  digest(): string | undefined;
}

export interface ExportSource {
  /** Where it was read from, for messages. */
  readonly location: string;
  readonly exportId: string;
  /** Snapshot time of every row: the export time floored to the second. */
  readonly snapshotMs: number;
  readonly itemCount?: number;
  readonly files: readonly ExportDataSource[];
}

interface ManifestEntry {
  readonly dataFileS3Key: string;
  readonly itemCount?: number;
  readonly md5Checksum?: string;
}

/** Reads bytes and keeps an MD5 of them, to compare with the manifest's. */
function hashing(open: () => AsyncIterable<Buffer>): { open: () => AsyncIterable<Buffer>; digest: () => string | undefined } {
  let result: string | undefined;
  return {
    digest: () => result,
    open: async function* () {
      const md5 = createHash('md5');
      for await (const chunk of open()) {
        md5.update(chunk);
        yield chunk;
      }
      result = md5.digest('base64');
    },
  };
}

function stemOf(name: string): string {
  return basename(name).replace(/\.json\.gz$|\.gz$|\.json$/, '');
}

export function parseSummary(text: string, where: string, snapshotOverride?: number): { snapshotMs: number; itemCount?: number } {
  let summary: { exportTime?: unknown; itemCount?: unknown };
  try {
    summary = JSON.parse(text);
  } catch (error) {
    throw new InputError(where, 1, `manifest-summary.json is not JSON (${(error as Error).message})`);
  }
  const time = snapshotOverride ?? (typeof summary.exportTime === 'string' ? Date.parse(summary.exportTime) : Number.NaN);
  if (!Number.isFinite(time)) throw new InputError(where, 1, `manifest-summary.json has no valid "exportTime" (got ${JSON.stringify(summary.exportTime)}); pass --snapshot-time`);
  return { snapshotMs: snapshotTimeMs(time), itemCount: typeof summary.itemCount === 'number' ? summary.itemCount : undefined };
}

export function parseFileManifest(text: string, where: string): ManifestEntry[] {
  const entries: ManifestEntry[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let entry: Partial<ManifestEntry>;
    try {
      entry = JSON.parse(line);
    } catch (error) {
      throw new InputError(where, i + 1, `not JSON (${(error as Error).message})`);
    }
    if (typeof entry.dataFileS3Key !== 'string' || entry.dataFileS3Key === '') throw new InputError(where, i + 1, 'the entry has no "dataFileS3Key"');
    entries.push({ dataFileS3Key: entry.dataFileS3Key, itemCount: typeof entry.itemCount === 'number' ? entry.itemCount : undefined, md5Checksum: typeof entry.md5Checksum === 'string' ? entry.md5Checksum : undefined });
  });
  return entries;
}

/** A local copy of an export folder (the one holding manifest-summary.json and data/). */
export async function localExport(dir: string, snapshotOverride?: number): Promise<ExportSource> {
  const summaryPath = join(dir, 'manifest-summary.json');
  const filesPath = join(dir, 'manifest-files.json');
  const exists = async (p: string) => stat(p).then((s) => s.isFile(), () => false);
  let entries: ManifestEntry[];
  let summary: { snapshotMs: number; itemCount?: number };
  if (await exists(summaryPath)) {
    summary = parseSummary(await readFile(summaryPath, 'utf8'), summaryPath, snapshotOverride);
    if (!(await exists(filesPath))) throw new Error(`${dir}: manifest-files.json is missing next to manifest-summary.json; is the export complete?`);
    entries = parseFileManifest(await readFile(filesPath, 'utf8'), filesPath);
  } else {
    // An export without manifests (an incomplete copy, or an emulator's): every data/*.gz, at the time given.
    if (snapshotOverride === undefined) {
      throw new Error(`${dir}: not a complete DynamoDB export: manifest-summary.json is missing (expected the folder .../AWSDynamoDB/<export id>/); pass --snapshot-time to flatten its data/*.gz anyway`);
    }
    summary = { snapshotMs: snapshotTimeMs(snapshotOverride) };
    const names = await readdir(join(dir, 'data')).catch(() => {
      throw new Error(`${dir}: no data/ folder with export files`);
    });
    entries = names.filter((n) => n.endsWith('.gz')).sort().map((n) => ({ dataFileS3Key: `data/${n}` }));
  }
  const files = await Promise.all(
    entries.map(async (e) => {
      const path = join(dir, 'data', basename(e.dataFileS3Key));
      const info = await stat(path).catch(() => undefined);
      if (!info?.isFile()) throw new Error(`${path}: listed in manifest-files.json but missing`);
      const h = hashing(() => createReadStream(path, { highWaterMark: 256 * 1024 }));
      return { name: path, size: info.size, stem: stemOf(path), itemCount: e.itemCount, md5: e.md5Checksum, open: h.open, digest: h.digest };
    }),
  );
  return { location: dir, exportId: basename(dir.replace(/\/+$/, '')), ...summary, files };
}

/** s3://bucket/prefix/AWSDynamoDB/<export id>/ read in place. */
export async function s3Export(s3: S3Client, uri: string, snapshotOverride?: number): Promise<ExportSource> {
  const m = /^s3:\/\/([^/]+)\/(.+?)\/?$/.exec(uri);
  if (!m) throw new Error(`--s3 ${uri}: expected s3://bucket/prefix/AWSDynamoDB/<export id>/`);
  const [, bucket, prefix] = m as unknown as [string, string, string];
  const text = async (key: string): Promise<string | undefined> => {
    try {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await got.Body!.transformToString();
    } catch (error) {
      if ((error as Error).name === 'NoSuchKey') return undefined;
      throw error;
    }
  };
  const object = (key: string, size: number | undefined, entry: Partial<ManifestEntry>): ExportDataSource => {
    const h = hashing(async function* () {
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      yield* got.Body as AsyncIterable<Buffer>;
    });
    return { name: `s3://${bucket}/${key}`, size, stem: stemOf(key), itemCount: entry.itemCount, md5: entry.md5Checksum, open: h.open, digest: h.digest };
  };
  const summaryText = await text(`${prefix}/manifest-summary.json`);
  if (summaryText !== undefined) {
    const summary = parseSummary(summaryText, `s3://${bucket}/${prefix}/manifest-summary.json`, snapshotOverride);
    const filesText = await text(`${prefix}/manifest-files.json`);
    if (filesText === undefined) throw new Error(`s3://${bucket}/${prefix}/: manifest-files.json is missing; is the export complete?`);
    const entries = parseFileManifest(filesText, `s3://${bucket}/${prefix}/manifest-files.json`);
    return { location: uri, exportId: basename(prefix), ...summary, files: entries.map((e) => object(e.dataFileS3Key, undefined, e)) };
  }
  if (snapshotOverride === undefined) throw new Error(`${uri}: manifest-summary.json is missing (not an export folder, or incomplete); pass --snapshot-time to flatten its data/*.gz anyway`);
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/data/` }));
  const files = (listed.Contents ?? []).filter((o) => o.Key!.endsWith('.gz')).map((o) => object(o.Key!, o.Size, {}));
  return { location: uri, exportId: basename(prefix), snapshotMs: snapshotTimeMs(snapshotOverride), files };
}
