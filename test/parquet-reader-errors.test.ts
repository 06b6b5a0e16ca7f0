import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FolderStore, type LakeStore } from '../src/lake/lake-store.ts';
import { openParquet } from '../src/lake/parquet-reader.ts';

/**
 * A failed read is not a bad file. Found by the soak: a maintenance attempt
 * whose S3 reads ran out of retries (503 SlowDown, a reset connection)
 * failed with "<object>: not a readable Parquet file (Please reduce your
 * request rate.)", which sends an operator to look at, or delete, a good
 * data object. The read error now says it is one, with the S3 error as its
 * cause; only bytes that do not decode are "not a readable Parquet file".
 */

const root = mkdtempSync(join(tmpdir(), 'ddbf-parquet-errors-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** A folder store whose ranged reads fail as S3's do once the SDK gives up. */
function failingReads(store: LakeStore, error: Error): LakeStore {
  return Object.assign(Object.create(store) as LakeStore, {
    describe: (key: string) => `s3://lake/${key}`,
    readRange: async () => {
      throw error;
    },
  });
}

describe('openParquet', () => {
  mkdirSync(join(root, 'dt=2026-11-20'), { recursive: true });
  const key = 'dt=2026-11-20/a.parquet';
  writeFileSync(join(root, key), 'PAR1 this is not a Parquet footer PAR1');
  const store = new FolderStore(root);

  it('calls bytes that do not decode not a readable Parquet file, naming the object', async () => {
    await expect(openParquet(store, key, 38)).rejects.toThrow(`${store.describe(key)}: not a readable Parquet file (`);
  });

  it.each([
    ['SlowDown', 'Please reduce your request rate.'],
    ['Error', 'socket hang up'],
  ])('reports a read that failed (%s) as a read error with its cause, not as a bad file', async (name, message) => {
    const s3Error = Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 503 } });
    const error = (await openParquet(failingReads(store, s3Error), key, 38).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(Error);
    expect(error.message).not.toMatch(/not a readable Parquet file/);
    expect(error.message).toBe(`s3://lake/${key}: reading bytes 0-38 failed: ${name === 'Error' ? '' : `${name}: `}${message}`);
    expect(error.cause).toBe(s3Error);
  });
});
