import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queryLakeFolder } from './support/duckdb.ts';
import { exportFolder, uploadExportFolder, writeExportFolder } from './support/export-folder.ts';
import { CLI_MAIN, runNode, runProcess, tempDir } from './support/cli.ts';
import { startMoto, type Moto } from './support/moto.ts';
import { motoMissing } from './support/tools.ts';

const EXPORT_ID = '01764237600000-a1b2c3d4';
const EXPORT_TIME = new Date('2025-11-27T10:00:00.750Z');
const item = (n: number) => ({
  pk: { S: `K${n}` },
  customer_id: { S: `C${n % 7}` },
  items: { L: [{ M: { sku: { S: `S${n}` }, price: { N: '12345678901234567890123456789012345678' } } }, { M: {} }] },
});
const files = (counts: readonly number[]) => {
  let n = 0;
  return counts.map((c) => Array.from({ length: c }, () => item(n++)));
};
const ARGS = ['--attributes', 'items', '--partition-key', 'pk', '--carry', 'customer_id'];

function lakeFiles(lake: string): string[] {
  const base = join(lake, 'flattened');
  if (!existsSync(base)) return [];
  return readdirSync(base, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.parquet') || f.includes('.partial')).sort();
}

describe('ddb-flatten backfill --export-dir', () => {
  const root = tempDir('backfill');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('flattens every data file of an export into the bucket layout, stamped with the export time', async () => {
    const dir = join(root, 'ok', 'AWSDynamoDB', EXPORT_ID);
    const folder = exportFolder({ keyPrefix: `exports/AWSDynamoDB/${EXPORT_ID}`, exportTime: EXPORT_TIME, files: files([300, 0, 250, 450]) });
    writeExportFolder(dir, folder);
    const lake = join(root, 'ok-lake');
    const run = await runNode(CLI_MAIN, ['backfill', '--export-dir', dir, '--lake', lake, ...ARGS, '--concurrency', '2']);
    expect(run.stderr).toMatch(/4 files, 1,000 items \(manifest: 1,000 items\) → 3,000 rows at 2025-11-27T10:00:00.000Z written to/);
    expect(run.code).toBe(0);
    expect(lakeFiles(lake)).toEqual(folder.dataFiles.map((f) => `dt=2025-11-27/snapshot-${EXPORT_ID}-${f.slice(5, -'.json.gz'.length)}.parquet`).sort());
    const [stats] = await queryLakeFolder(lake, 'flattened', ['customer_id'], `
      SELECT count(*)::INTEGER AS rows, count(DISTINCT pk)::INTEGER AS items, min(event_time) AS t, max(event_name) AS e,
             count(*) FILTER (WHERE value = '12345678901234567890123456789012345678')::INTEGER AS n38,
             count(*) FILTER (WHERE value_type = 'M')::INTEGER AS empty_maps, count(DISTINCT customer_id)::INTEGER AS customers
      FROM flattened`);
    expect(stats).toEqual({ rows: 3000, items: 1000, t: new Date('2025-11-27T10:00:00.000Z'), e: 'SNAPSHOT', n38: 1000, empty_maps: 1000, customers: 7 });

    // A rerun rewrites the same objects: no duplicate rows.
    const again = await runNode(CLI_MAIN, ['backfill', '--export-dir', dir, '--lake', lake, ...ARGS]);
    expect(again.code).toBe(0);
    expect(lakeFiles(lake)).toHaveLength(4);
    expect((await queryLakeFolder(lake, 'flattened', ['customer_id'], 'SELECT count(*)::INTEGER AS n FROM flattened'))[0]).toEqual({ n: 3000 });
  });

  it('refuses a damaged data file (MD5 mismatch), keeps nothing of it, and says which', async () => {
    const dir = join(root, 'bad-md5', 'AWSDynamoDB', EXPORT_ID);
    const folder = exportFolder({ keyPrefix: `exports/AWSDynamoDB/${EXPORT_ID}`, exportTime: EXPORT_TIME, files: files([10, 10]) });
    writeExportFolder(dir, folder);
    // Same items, different bytes: recompressed, so the manifest's MD5 no longer matches.
    const victim = join(dir, folder.dataFiles[1]!);
    writeFileSync(victim, gzipSync(`${files([10, 10])[1]!.map((Item) => JSON.stringify({ Item })).join('\n')}\n`, { level: 1 }));
    const lake = join(root, 'bad-md5-lake');
    const run = await runNode(CLI_MAIN, ['backfill', '--export-dir', dir, '--lake', lake, ...ARGS, '--concurrency', '1']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`${victim}: MD5`);
    expect(run.stderr).toMatch(/does not match the manifest's .*: the file is damaged or not the one exported/);
    expect(run.stderr).toMatch(/1 of 2 files were finished and kept/);
    expect(lakeFiles(lake)).toEqual([`dt=2025-11-27/snapshot-${EXPORT_ID}-${folder.dataFiles[0]!.slice(5, -8)}.parquet`]);
  });

  it('refuses a data file with fewer items than its manifest entry', async () => {
    const dir = join(root, 'short', 'AWSDynamoDB', EXPORT_ID);
    const folder = exportFolder({ keyPrefix: `exports/AWSDynamoDB/${EXPORT_ID}`, exportTime: EXPORT_TIME, files: files([5]) });
    writeExportFolder(dir, folder);
    const manifest = join(dir, 'manifest-files.json');
    const entry = JSON.parse(readFileSync(manifest, 'utf8'));
    writeFileSync(manifest, JSON.stringify({ ...entry, itemCount: 6, md5Checksum: undefined }));
    const run = await runNode(CLI_MAIN, ['backfill', '--export-dir', dir, '--lake', join(root, 'short-lake'), ...ARGS]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/5 items read, but the manifest lists 6: the file is incomplete/);
    expect(lakeFiles(join(root, 'short-lake'))).toEqual([]);
  });

  it('names the file and line of a bad export line, and removes the partial output', async () => {
    const dir = join(root, 'badline', 'AWSDynamoDB', EXPORT_ID);
    writeExportFolder(dir, exportFolder({ keyPrefix: `x/AWSDynamoDB/${EXPORT_ID}`, exportTime: EXPORT_TIME, files: [[item(1), { pk: { S: 'p' }, items: { Q: '1' } }, item(3)]] }));
    const run = await runNode(CLI_MAIN, ['backfill', '--export-dir', dir, '--lake', join(root, 'badline-lake'), ...ARGS]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/\.json\.gz:2: attribute "items": unknown type descriptor "Q"/);
    expect(lakeFiles(join(root, 'badline-lake'))).toEqual([]);
  });

  it('needs --snapshot-time for an export without manifests, and explains the usage errors', async () => {
    const dir = join(root, 'nomanifest', 'AWSDynamoDB', EXPORT_ID);
    writeExportFolder(dir, exportFolder({ keyPrefix: 'x', exportTime: EXPORT_TIME, files: files([3]) }));
    rmSync(join(dir, 'manifest-summary.json'));
    const lake = join(root, 'nomanifest-lake');
    const refused = await runNode(CLI_MAIN, ['backfill', '--export-dir', dir, '--lake', lake, ...ARGS]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/manifest-summary\.json is missing .* pass --snapshot-time/);
    const ok = await runNode(CLI_MAIN, ['backfill', '--export-dir', dir, '--lake', lake, ...ARGS, '--snapshot-time', '2025-11-28T00:00:00Z']);
    expect(ok.code).toBe(0);
    expect(lakeFiles(lake)).toEqual([expect.stringMatching(/^dt=2025-11-28\/snapshot-/)]);

    const usage = await runNode(CLI_MAIN, ['backfill', '--lake', lake, ...ARGS]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/give exactly one of --export-dir DIR or --s3/);
    const help = await runNode(CLI_MAIN, ['backfill', '--help']);
    for (const flag of ['--export-dir', '--s3', '--lake', '--prefix', '--attributes', '--partition-key', '--sort-key', '--carry', '--snapshot-time', '--concurrency']) expect(help.stdout.toString()).toContain(flag);
  });
});

const skipReason = motoMissing();
describe.skipIf(skipReason)('ddb-flatten backfill --s3', () => {
  let moto: Moto;
  const root = tempDir('backfill-s3');
  beforeAll(async () => {
    moto = await startMoto();
  });
  afterAll(async () => {
    await moto?.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('reads the export in place from S3 with the usual AWS settings', async () => {
    const s3 = new S3Client(moto.clientConfig);
    await s3.send(new CreateBucketCommand({ Bucket: 'exports-in-s3' }));
    const key = `backfills/AWSDynamoDB/${EXPORT_ID}`;
    await uploadExportFolder(s3, 'exports-in-s3', key, exportFolder({ keyPrefix: key, exportTime: EXPORT_TIME, files: files([40, 60]) }));
    const lake = join(root, 'lake');
    const run = await runProcess(process.execPath, [CLI_MAIN, 'backfill', '--s3', `s3://exports-in-s3/${key}/`, '--lake', lake, '--prefix', 'rows', ...ARGS], {
      env: { AWS_ENDPOINT_URL_S3: moto.endpoint, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing' },
    });
    expect(run.stderr).toMatch(/2 files, 100 items \(manifest: 100 items\) → 300 rows/);
    expect(run.code).toBe(0);
    expect((await queryLakeFolder(lake, 'rows', ['customer_id'], 'SELECT count(DISTINCT pk)::INTEGER AS n FROM flattened'))[0]).toEqual({ n: 100 });
  });
});
