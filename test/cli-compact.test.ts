import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { CreateBucketCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, PurgeQueueCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentStateSql } from '../modules/glue-catalog.ts';
import { startAthenaStandIn, type AthenaStandIn } from './support/athena-server.ts';
import { createModuleCatalog } from './support/module-catalog.ts';
import { COMPACT_COMMAND } from '../src/cli/compact-command.ts';
import { main } from '../src/cli/main.ts';
import { FolderStore } from '../src/lake/lake-store.ts';
import { NO_CHECKPOINT, pointerText, readPointer } from '../src/maintenance/checkpoint.ts';
import { decodePrestoView } from '../src/sql/presto-view.ts';
import { CLI_MAIN, runNode, runProcess, testIO } from './support/cli.ts';
import { downloadPrefix, listKeys } from './support/lake.ts';
import { copyLake, currentState, workload, writeStream } from './support/maintenance-lake.ts';
import { startMoto, type Moto } from './support/moto.ts';
import { motoMissing } from './support/tools.ts';

/**
 * `ddb-flatten compact` on a lake written by the real stream batch code:
 * the view reads the same before and after, the lake has far fewer
 * objects, a second run changes nothing, flags are checked by name; and the
 * same against moto's S3, with the Glue view and its SSM parameter moved.
 */

const DAYS = ['2026-11-20', '2026-11-21'];
/** The morning after the second day: both are closed (6 h record age + 1 h margin after midnight). */
const NOW = '2026-11-22T08:00:00Z';
let root: string;
let expectedState: string[];

beforeAll(async () => {
  root = mkdtempSync(join(tmpdir(), 'ddbf-cli-compact-'));
  // 1,200 changes over 150 keys across two days, in batches of 20 (~70 objects a day), some batches twice.
  const { records } = workload(1_200, 150, 7, Date.UTC(2026, 10, 20), 2 * 86_400_000);
  await writeStream(root, records, 20, 4);
  expectedState = await currentState(root);
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** Every file of a lake folder with its size: what a run changed. */
function files(lake: string): string[] {
  return (readdirSync(lake, { recursive: true, encoding: 'utf8' }) as string[])
    .filter((f) => statSync(join(lake, f)).isFile())
    .map((f) => `${f} ${statSync(join(lake, f)).size}`)
    .sort();
}
const parquetIn = (lake: string, dt: string): string[] => readdirSync(join(lake, 'flattened', `dt=${dt}`)).filter((f) => f.endsWith('.parquet'));

async function run(argv: string[]) {
  const t = testIO();
  const code = await main(argv, t.io);
  return { code, stdout: t.stdout(), stderr: t.stderr() };
}

describe('ddb-flatten compact --lake', () => {
  it('compacts every closed day and checkpoints: the view reads the same, from far fewer objects', async () => {
    const lake = copyLake(root);
    const before = DAYS.map((d) => parquetIn(lake, d).length);
    expect(Math.min(...before)).toBeGreaterThan(40);
    const r = await runNode(CLI_MAIN, ['compact', '--lake', lake, '--now', NOW, '--carry', 'customer_id', '--format', 'json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout.toString());
    expect(out.closedBefore).toBe('2026-11-22');
    expect(out.days.map((d: { dt: string; status: string; objectsBefore: number; objectsAfter: number }) => [d.dt, d.status, d.objectsBefore, d.objectsAfter])).toEqual([
      [DAYS[1], 'compacted', before[1], 1],
      [DAYS[0], 'compacted', before[0], 1],
    ]);
    expect(out.checkpoint).toMatchObject({ status: 'written', days: DAYS, heldBy: [], pointer: { bound: '2026-11-22', parts: 1 } });
    expect(DAYS.map((d) => parquetIn(lake, d).length)).toEqual([1, 1]);
    expect(await currentState(lake)).toEqual(expectedState);
    // What the view selects: the whole lake before, one checkpoint part after (no day is at or after the bound).
    expect(out.view.before).toMatchObject({ objects: before[0]! + before[1]!, pointer: { checkpoint: NO_CHECKPOINT } });
    expect(out.view.after).toMatchObject({ objects: 1, days: [], table: { objects: 0, bytes: 0 }, checkpoint: { objects: 1 } });
    expect(out.view.after.bytes).toBeLessThan(out.view.before.bytes / 4);
    expect(out.table).toMatchObject({ before: { objects: before[0]! + before[1]! }, after: { objects: 2 } });
    // Nothing of the run is left in the state folder but the checkpoint and its pointer.
    expect(files(join(lake, 'state')).map((f) => f.split(' ')[0]!.replace(/checkpoint=[^/]+/, 'checkpoint=ID'))).toEqual([
      'checkpoints/checkpoint=ID/data_0.parquet',
      'checkpoints/current.json',
    ]);

    // A second run is a no-op: nothing to compact, the checkpoint current, not one byte changed.
    const lakeFiles = files(lake);
    const again = await run(['compact', '--lake', lake, '--now', NOW]);
    expect(again.stderr).toBe('');
    expect(again.code).toBe(0);
    expect(files(lake)).toEqual(lakeFiles);
    expect(again.stdout).toContain(`${DAYS[1]} | already-compact | 1 → 1`);
    expect(again.stdout).toMatch(/checkpoint: already current: \d{4}-\d{2}-\d{2}-[0-9a-f]+ \(bound 2026-11-22, 1 object\)\nholds: none\n/);
    expect(again.stdout).toMatch(/current-state view reads: 1 object, [\d,]+ bytes \(before the run: 1 object, /);
    expect(await currentState(lake)).toEqual(expectedState);
    rmSync(lake, { recursive: true, force: true });
  });

  it('prints what was done as a table', async () => {
    const lake = copyLake(root);
    const r = await run(['compact', '--lake', lake, '--now', NOW]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split('\n');
    expect(lines[0]).toBe(`ddb-flatten compact: ${join(lake, 'flattened')}/ (state in ${join(lake, 'state')}/) as of 2026-11-22T08:00:00.000Z`);
    expect(lines[1]).toBe("days before 2026-11-22 are closed (record age 21,600 s + margin 3,600 s after a day's end)");
    expect(lines[3]).toMatch(/^dt +\| status +\| objects +\| bytes +\| scanned$/);
    // The local engine does not count bytes scanned (Athena's statistics do).
    expect(lines[4]).toMatch(/^2026-11-21 \| compacted +\| \d\d → 1 +\| [\d,]+ → [\d,]+ \| -$/);
    expect(lines[6]).toMatch(/^total +\| 2 compacted +\| \d+ → 2 /);
    expect(r.stdout).toMatch(/\ncheckpoint: written [^ ]+ \(bound 2026-11-22, 1 object\): 2 day\(s\) read \(2026-11-20 … 2026-11-21\) beside the checkpoint before it; why: no checkpoint yet\nholds: none\n/);
    expect(r.stdout).toMatch(/\ntable: \d+ objects, [\d,]+ bytes → 2 objects, [\d,]+ bytes\n/);
    rmSync(lake, { recursive: true, force: true });
  });

  it('--dt compacts one closed day only and leaves the checkpoint; --no-checkpoint compacts only', async () => {
    const lake = copyLake(root);
    const other = parquetIn(lake, DAYS[1]!).length;
    const one = await run(['compact', '--lake', lake, '--now', NOW, '--dt', DAYS[0]!, '--format', 'json']);
    expect(one.code).toBe(0);
    expect(JSON.parse(one.stdout)).toMatchObject({ days: [{ dt: DAYS[0], status: 'compacted', objectsAfter: 1 }], checkpoint: null });
    expect(parquetIn(lake, DAYS[1]!)).toHaveLength(other);
    expect((await readPointer(new FolderStore(lake), { statePrefix: 'state' })).checkpoint).toBe(NO_CHECKPOINT);

    const only = await run(['compact', '--lake', lake, '--now', NOW, '--no-checkpoint']);
    expect(only.code).toBe(0);
    expect(only.stdout).toContain('checkpoint: not moved (--no-checkpoint)');
    expect(only.stdout).toContain(`${DAYS[0]} | already-compact`);
    expect(parquetIn(lake, DAYS[1]!)).toHaveLength(1);
    expect((await readPointer(new FolderStore(lake), { statePrefix: 'state' })).checkpoint).toBe(NO_CHECKPOINT);
    expect(await currentState(lake)).toEqual(expectedState);

    // An open day is left alone: the morning of the 21st at 06:59, the 20th is still open.
    const early = await run(['compact', '--lake', copyLake(root), '--now', '2026-11-21T06:59:00Z', '--format', 'json']);
    expect(early.code).toBe(0);
    expect(JSON.parse(early.stdout)).toMatchObject({ closedBefore: '2026-11-20', days: [], checkpoint: { status: 'current' } });
    rmSync(lake, { recursive: true, force: true });
  });

  it('--lookback-days and --target-bytes are the settings of the run', async () => {
    const lake = copyLake(root);
    const r = await run(['compact', '--lake', lake, '--now', NOW, '--lookback-days', '1', '--target-bytes', '1048576', '--format', 'json']);
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.days.map((d: { dt: string }) => d.dt)).toEqual([DAYS[1]]); // the newest closed day only
    expect(parquetIn(lake, DAYS[0]!).length).toBeGreaterThan(40);
    // The checkpoint covers every closed day all the same: it reads the days, compacted or not.
    expect(out.checkpoint).toMatchObject({ status: 'written', days: DAYS });
    expect(await currentState(lake)).toEqual(expectedState);
    rmSync(lake, { recursive: true, force: true });
  });

  it.each([
    [[], 'give exactly one of --lake DIR or --s3 s3://bucket[/prefix]'],
    [['--lake', 'x', '--s3', 's3://b'], 'give exactly one of --lake DIR or --s3'],
    [['--lake', '/nonexistent/lake'], '--lake /nonexistent/lake: no such folder'],
    [['--lake', '.'], 'has no flattened/ folder: is it a lake folder, and are the rows under another --prefix?'],
    [['--s3', 'https://bucket/x'], '--s3 must be s3://bucket or s3://bucket/<prefix>, got "https://bucket/x"'],
    [['--s3', 's3://Bad_Bucket'], '--s3: "Bad_Bucket" is not a valid S3 bucket name'],
    [['--s3', 's3://bucket/rows', '--prefix', 'flattened'], '--s3 names the prefix "rows" and --prefix "flattened": give the rows\' prefix once'],
    [['--s3', 's3://bucket', '--state-prefix', 'flattened/state'], '--state-prefix "flattened/state" must not overlap the rows\' prefix "flattened"'],
    [['--s3', 's3://bucket', '--prefix', '../x'], '--prefix: "../x" is not a valid prefix'],
    [['--s3', 's3://bucket', '--format', 'xml'], '--format must be table or json, got "xml"'],
    [['--s3', 's3://bucket', '--lookback-days', '0'], '--lookback-days must be a whole number from 1 to 3,650, got "0"'],
    [['--s3', 's3://bucket', '--target-bytes', '5'], '--target-bytes must be a whole number from 1,048,576 to 5,368,709,120, got "5"'],
    [['--s3', 's3://bucket', '--max-record-age-seconds', '10'], '--max-record-age-seconds must be a whole number from 60 to 604,800, got "10"'],
    [['--s3', 's3://bucket', '--margin-seconds', '90000'], '--margin-seconds must be a whole number from 0 to 86,400, got "90000"'],
    [['--s3', 's3://bucket', '--retention', '1'], '--retention must be a whole number from 2 to 100, got "1"'],
    [['--s3', 's3://bucket', '--now', 'yesterday'], '--now must be an ISO-8601 date-time with a zone, such as 2024-05-01T12:00:00Z, got "yesterday"'],
    [['--s3', 's3://bucket', '--dt', '2026-02-30'], '--dt must be a day as YYYY-MM-DD, got "2026-02-30"'],
    [['--s3', 's3://bucket', '--now', NOW, '--dt', '2026-11-22'], '--dt 2026-11-22 is not closed yet at 2026-11-22T08:00:00.000Z: records may still arrive for it until 25200 s after its end (the days before 2026-11-22 are closed'],
    [['--s3', 's3://bucket', '--carry', 'Customer'], '--carry: "Customer" is not a valid carried attribute'],
    [['--s3', 's3://bucket', '--glue-view', 'current_state'], "--s3 needs --workgroup and --glue-database: Athena runs the statements in the pipeline's maintenance workgroup, over its Glue tables"],
    [['--s3', 's3://bucket', '--workgroup', 'orders-maintenance'], '--s3 needs --glue-database'],
    [['--s3', 's3://bucket', '--workgroup', 'orders maintenance'], '--workgroup: "orders maintenance" is not an Athena workgroup name'],
    [['--s3', 's3://bucket', '--rebuild-share', '5'], '--rebuild-share must be a number from 0 to 4, got "5"'],
    [['--s3', 's3://bucket', '--max-age-days', '0'], '--max-age-days must be a whole number from 1 to 3,650, got "0"'],
    [['--lake', '.', '--workgroup', 'orders-maintenance'], '--workgroup needs --s3'],
    [['--s3', 's3://bucket', '--max-task-bytes', '1048576'], 'unknown option --max-task-bytes for ddb-flatten compact'],
    [['--s3', 's3://bucket', '--history-retention-days', '0'], '--history-retention-days must be a whole number from 1 to 36,500, got "0"'],
    [['--s3', 's3://bucket', '--glue-database', 'Orders', '--glue-view', 'v'], '--glue-database: "Orders" is not a Glue name'],
    [['--s3', 's3://bucket', '--checkpoint-parameter', 'orders'], '--checkpoint-parameter: "orders" is not an SSM parameter name'],
    [['--s3', 's3://bucket', '--dlq-url', 'queue'], '--dlq-url must be an SQS queue URL'],
    [['--s3', 's3://bucket', '--endpoint-url', 'localhost:5000'], '--endpoint-url must be an http:// or https:// URL, got "localhost:5000"'],
    [['--lake', '.', '--glue-database', 'orders', '--glue-view', 'current_state'], '--glue-database needs --s3: it belongs to the pipeline in AWS, not to a local lake'],
    [['--s3', 's3://bucket', '--no-checkpoint', '--checkpoint-parameter', '/x'], '--checkpoint-parameter acts on the checkpoint, which --no-checkpoint does not move'],
    [['--s3', 's3://bucket', '--lookback', '3'], 'unknown option --lookback for ddb-flatten compact (did you mean --lookback-days?)'],
    [['--s3', 's3://bucket', '--no-checkpoint=yes'], '--no-checkpoint is a switch and takes no value'],
  ])('refuses %j naming the flag (exit 2)', async (args, message) => {
    const r = await run(['compact', ...args]);
    expect(r.stderr).toContain(message);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(2);
  });

  it('--help documents every option; the command is listed at the top level', async () => {
    const help = await run(['compact', '--help']);
    expect(help.code).toBe(0);
    for (const name of Object.keys(COMPACT_COMMAND.options)) expect(help.stdout).toContain(`--${name}`);
    expect((await run(['--help'])).stdout).toMatch(/\n {2}compact +Compact the closed days of a lake/);
  });
});

/** Puts a lake folder into a bucket under the same keys. */
async function uploadLake(s3: S3Client, bucket: string, lake: string): Promise<number> {
  const keys = (readdirSync(lake, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => statSync(join(lake, f)).isFile() && !f.startsWith('.'));
  for (const key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: readFileSync(join(lake, key)) }));
  return keys.length;
}

const skipReason = motoMissing();
describe.skipIf(skipReason)('ddb-flatten compact --s3 (moto, with the stand-in Athena running the statements)', () => {
  let moto: Moto;
  let athena: AthenaStandIn;
  const env = () => ({ AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'testing', AWS_SECRET_ACCESS_KEY: 'testing', ...athena.env });
  // A smaller lake than above: 400 changes over two days, ~10 objects a day.
  const small = mkdtempSync(join(tmpdir(), 'ddbf-cli-compact-small-'));
  let smallState: string[];
  const carried = ['customer_id'];
  beforeAll(async () => {
    moto = await startMoto();
    athena = await startAthenaStandIn({ moto: moto.clientConfig });
    await writeStream(small, workload(400, 60, 5, Date.UTC(2026, 10, 20), 2 * 86_400_000).records, 25, 4);
    smallState = await currentState(small);
  });
  afterAll(async () => {
    await athena?.stop();
    await moto?.stop();
    rmSync(small, { recursive: true, force: true });
  });

  /** The module's catalog and maintenance workgroup, as Terraform creates them, for a lake in `bucket`. */
  const catalog = (bucket: string, database: string): Promise<GlueClient> => createModuleCatalog(moto, { bucket, database, carried });

  it('compacts the bucket in place in Athena, held by messages in the DLQ, then checkpoints and moves the Glue view and its parameter', async () => {
    const s3 = new S3Client(moto.clientConfig);
    await s3.send(new CreateBucketCommand({ Bucket: 'orders-lake' }));
    await uploadLake(s3, 'orders-lake', small);
    const glue = await catalog('orders-lake', 'orders');
    const sqs = new SQSClient(moto.clientConfig);
    const { QueueUrl: dlq } = await sqs.send(new CreateQueueCommand({ QueueName: 'orders-flatten-dlq' }));
    await sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody: '{"requestContext":{"condition":"RetriesExhausted"}}' }));
    const args = ['compact', '--s3', 's3://orders-lake/flattened', '--endpoint-url', moto.endpoint, '--now', NOW, '--format', 'json', '--workgroup', 'orders-maintenance', '--glue-database', 'orders'];
    const aws = ['--glue-view', 'current_state', '--checkpoint-parameter', '/orders/checkpoint', '--dlq-url', dlq!];

    const held = await runProcess(process.execPath, [CLI_MAIN, ...args, ...aws], { env: env() });
    expect(held.stderr).toBe('');
    expect(held.code).toBe(0);
    const first = JSON.parse(held.stdout.toString());
    expect(first.location).toBe('s3://orders-lake/flattened/');
    expect(first.engine).toBe('athena');
    expect(first.days.map((d: { status: string; objectsAfter: number }) => [d.status, d.objectsAfter])).toEqual([['compacted', 1], ['compacted', 1]]);
    // Athena's statistics: the bytes each statement scanned.
    for (const d of first.days) expect(d.bytesScanned).toBeGreaterThan(0);
    expect(first.checkpoint).toMatchObject({ status: 'current', pointer: { checkpoint: NO_CHECKPOINT }, heldBy: ['1 message(s) in the on-failure queue (redrive them first) (holds the checkpoint before 0000-01-01)'] });
    // Every statement ran in the workgroup named on the command line, through AWS_ENDPOINT_URL_ATHENA.
    expect(athena.queries().map((q) => q.workgroup)).toEqual(['orders-maintenance', 'orders-maintenance']);

    await sqs.send(new PurgeQueueCommand({ QueueUrl: dlq }));
    const done = await runProcess(process.execPath, [CLI_MAIN, ...args, ...aws], { env: env() });
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    const second = JSON.parse(done.stdout.toString());
    expect(second.days.map((d: { status: string }) => d.status)).toEqual(['already-compact', 'already-compact']);
    expect(second.checkpoint).toMatchObject({ status: 'written', heldBy: [], pointer: { bound: '2026-11-22' } });
    const pointer = second.checkpoint.pointer;
    // Terraform's parameter and the view both name the new checkpoint.
    const { Parameter } = await new SSMClient(moto.clientConfig).send(new GetParameterCommand({ Name: '/orders/checkpoint' }));
    expect(Parameter?.Value).toBe(pointerText(pointer).trim());
    const { Table } = await glue.send(new GetTableCommand({ DatabaseName: 'orders', Name: 'current_state' }));
    expect(decodePrestoView(Table!.ViewOriginalText!).originalSql).toBe(currentStateSql('orders', 'flattened', carried, { pointer }));

    // The bucket, read back: the same current state as the stream wrote it.
    const copy = mkdtempSync(join(tmpdir(), 'ddbf-cli-compact-s3-'));
    mkdirSync(copy, { recursive: true });
    await downloadPrefix(s3, 'orders-lake', '', copy);
    expect(await currentState(copy)).toEqual(smallState);
    expect(DAYS.map((d) => parquetIn(copy, d).length)).toEqual([1, 1]);
    rmSync(copy, { recursive: true, force: true });
  });

  it('a statement Athena fails leaves the day as it was, names the reason, and exits 1', async () => {
    const s3 = new S3Client(moto.clientConfig);
    await s3.send(new CreateBucketCommand({ Bucket: 'failing-lake' }));
    await uploadLake(s3, 'failing-lake', small);
    await catalog('failing-lake', 'failing');
    const before = (await listKeys(s3, 'failing-lake', 'flattened/')).sort();
    const hook = athena.failNext('HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split (injected)', { count: 10 });
    const r = await runProcess(process.execPath, [CLI_MAIN, 'compact', '--s3', 's3://failing-lake', '--endpoint-url', moto.endpoint, '--now', NOW, '--workgroup', 'failing-maintenance', '--glue-database', 'failing'], { env: env() });
    hook.remove();
    expect(r.code).toBe(1);
    expect(r.stdout.toString()).toContain('failed: FAILED: HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split (injected)');
    expect(r.stdout.toString()).toMatch(/\nfailed \(left as it was; the next run retries\): compaction of 2026-11-2\d: FAILED: HIVE_CANNOT_OPEN_SPLIT/);
    expect((await listKeys(s3, 'failing-lake', 'flattened/')).sort()).toEqual(before);
    expect(await listKeys(s3, 'failing-lake', 'state/')).toEqual([]);
  });

  it('names the bucket or the view that is not there (exit 1)', async () => {
    const noBucket = await runProcess(process.execPath, [CLI_MAIN, 'compact', '--s3', 's3://no-such-lake', '--endpoint-url', moto.endpoint, '--now', NOW, '--workgroup', 'x-maintenance', '--glue-database', 'orders'], { env: env() });
    expect(noBucket.stderr).toMatch(/^ddb-flatten: s3:\/\/no-such-lake\/flattened\/: NoSuchBucket: /);
    expect(noBucket.code).toBe(1);
    const s3 = new S3Client(moto.clientConfig);
    await s3.send(new CreateBucketCommand({ Bucket: 'viewless-lake' }));
    await uploadLake(s3, 'viewless-lake', small);
    await catalog('viewless-lake', 'viewless');
    const noView = await runProcess(
      process.execPath,
      [CLI_MAIN, 'compact', '--s3', 's3://viewless-lake', '--endpoint-url', moto.endpoint, '--now', NOW, '--workgroup', 'viewless-maintenance', '--glue-database', 'viewless', '--glue-view', 'no_such_view'],
      { env: env() },
    );
    expect(noView.stderr).toMatch(/^ddb-flatten: --glue-view viewless\.no_such_view: EntityNotFoundException: /);
    expect(noView.code).toBe(1);
  });
});
