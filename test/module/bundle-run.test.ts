import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateBucketCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHandler } from '../../modules/lambda-bundle.ts';
import { tempDir } from '../support/cli.ts';
import { startMoto, type Moto } from '../support/moto.ts';
import { streamEvent } from '../support/stream-events.ts';
import { createModuleCatalog } from '../support/module-catalog.ts';
import { motoMissing } from '../support/tools.ts';

/**
 * The zip the module ships, unpacked and run by Node as Lambda runs it: the stream path from the
 * entry chunk alone, and the actions from chunks imported on first use. A chunk that is missing
 * from the zip, or an import that only resolves inside the repository, fails here.
 */
const skipReason = motoMissing();
describe.skipIf(skipReason)('the shipped handler zip, unpacked and run (moto S3)', () => {
  const bundle = bundleHandler();
  const dir = tempDir('bundle-run');
  const bucket = 'bundle-run-lake';
  let moto: Moto;
  let s3: S3Client;

  beforeAll(async () => {
    moto = await startMoto();
    s3 = new S3Client(moto.clientConfig);
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    // The module's Glue tables: the maintenance run reads the flattened table's columns (the carried ones) before it plans.
    await createModuleCatalog(moto, { bucket, database: 'orders', carried: [] });
    for (const file of bundle.files) {
      mkdirSync(dirname(join(dir, file.name)), { recursive: true });
      writeFileSync(join(dir, file.name), file.data);
    }
  }, 90_000);
  afterAll(async () => moto?.stop());

  /** Imports index.mjs in a fresh node, passes it each event in turn, and prints what came back and which chunks were loaded. */
  function invoke(events: unknown[]): { results: { ok?: unknown; error?: string }[]; loaded: string[] } {
    const script = `
      import { registerHooks } from 'node:module';
      const loaded = [];
      registerHooks({ resolve: (specifier, context, next) => { const r = next(specifier, context); loaded.push(r.url); return r; } });
      const { handler } = await import(${JSON.stringify(join(dir, 'index.mjs'))});
      const results = [];
      for (const event of ${JSON.stringify(events)}) {
        try { results.push({ ok: await handler(event, { functionName: 'orders-flatten', awsRequestId: 'r-1', invokedFunctionArn: undefined, getRemainingTimeInMillis: () => 60000 }) }); }
        catch (error) { results.push({ error: error.message }); }
      }
      process.stderr.write('\\n@@' + JSON.stringify({ results, loaded }) + '\\n');`;
    const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
      cwd: dir,
      env: {
        PATH: process.env.PATH,
        LAKE_BUCKET: bucket,
        EXPLODE_ATTRIBUTES: 'items',
        PARTITION_KEY: 'pk',
        // What the module sets for the maintenance run (its statements run in Athena); nothing is closed, so none runs.
        ATHENA_WORKGROUP: 'orders-flatten-maintenance',
        GLUE_DATABASE: 'orders',
        GLUE_TABLE: 'flattened',
        GLUE_CHECKPOINTS_TABLE: 'checkpoints',
        GLUE_VIEW: 'current_state',
        AWS_REGION: moto.clientConfig.region,
        AWS_ACCESS_KEY_ID: moto.clientConfig.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: moto.clientConfig.credentials.secretAccessKey,
        AWS_ENDPOINT_URL: moto.endpoint,
      },
    });
    const line = child.stderr.split('\n').find((l) => l.startsWith('@@'));
    if (child.status !== 0 || !line) throw new Error(`the bundled handler exited ${child.status}:\n${child.stderr.slice(-4000)}`);
    const out = JSON.parse(line.slice(2)) as { results: { ok?: unknown; error?: string }[]; loaded: string[] };
    const prefix = pathToFileURL(dir).href + '/';
    return { results: out.results, loaded: [...new Set(out.loaded.filter((u) => u.startsWith(prefix)).map((u) => u.slice(prefix.length)))] };
  }

  it('a stream batch is written to S3 by the entry chunk, which holds none of the action-only clients', async () => {
    const at = Math.floor(Date.now() / 1000);
    const event = streamEvent([
      { eventName: 'INSERT', keys: { pk: { S: 'A1' } }, newImage: { pk: { S: 'A1' }, items: { L: [{ M: { key1: { S: 'value1' } } }] } }, at, sequence: 100n },
    ]);
    const { results, loaded } = invoke([event]);
    expect(results).toEqual([{ ok: { batchItemFailures: [] } }]);
    expect(loaded.filter((name) => name.startsWith('chunks/actions-'))).toEqual([]);
    const listed = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'flattened/' }));
    expect(listed.KeyCount).toBe(1);
    // The Glue and SSM clients (the bulk of the actions' code) are not compiled on a stream cold start.
    const entry = bundle.code.toString('utf8');
    expect(entry).not.toContain('AWSGlue');
    expect(entry).not.toContain('AmazonSSM');
  }, 60_000);

  it('an action loads its chunks on first use and runs (a compact with nothing closed, a bad action named)', () => {
    const { results, loaded } = invoke([{ action: 'compact' }, { action: 'defragment' }]);
    expect(results[0].error).toBeUndefined();
    expect(results[0].ok).toMatchObject({ days: [] });
    expect(results[1].error).toMatch(/defragment/);
    expect(loaded.some((name) => name.startsWith('chunks/actions-'))).toBe(true);
    const zipped = new Set(bundle.files.map((f) => f.name));
    for (const name of loaded) expect(zipped.has(name)).toBe(true);
  }, 60_000);
});
