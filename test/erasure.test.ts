import { gzipSync } from 'node:zlib';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { DynamoDBRecord } from 'aws-lambda';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runErase } from '../src/actions/erase.ts';
import { runMaintenance, type MaintenanceDeps } from '../src/actions/maintenance.ts';
import { parseAction } from '../src/actions/payload.ts';
import { main } from '../src/cli/main.ts';
import { testIO } from './support/cli.ts';
import type { Item } from '../src/flatten/attribute-value.ts';
import { FolderStore, type LakeStore } from '../src/lake/lake-store.ts';
import { erasurePlanKey, keyHash, openErasures, STREAM_RETENTION_SECONDS } from '../src/maintenance/erasure.ts';
import { lakeEngine } from './support/engines.ts';
import { copyLake, CrashingStore, currentState, lakeConfig, workload, writeStream } from './support/maintenance-lake.ts';
import { streamRecord, type Change } from './support/stream-events.ts';
import { streamBatchHandler } from '../handlers/stream.ts';
import { DirectorySink } from '../src/lake/sink.ts';
import { cachedErasures } from '../src/pipeline/erased-keys.ts';
import { Logger } from '@aws-lambda-powertools/logger';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';

/**
 * Erasure of keys on a lake folder written by the real stream batch code,
 * with the statements run by DuckDB (the local engine): after it, no byte
 * of the erased keys' values is left in any file of the lake, decoded
 * (Parquet) or raw (JSON, gzip), while every other key's rows stay; a late
 * record older than the request is swept away, a newer one stays; a crash
 * at any step is resumed to the same end; the audit names hashes only.
 * (The versions of a versioned bucket: test/e2e, on moto.)
 */

const START = Date.UTC(2026, 10, 20);
const DAY_MS = 86_400_000;
const morningAfter = (day: number): number => START + (day + 1) * DAY_MS + 8 * 3_600_000;
const config = () => ({ ...lakeConfig(), maintenance: { ...lakeConfig().maintenance, rebuildShare: 0 } });

/** Values only the victim's rows hold: nothing of them may be left. */
const SECRETS = ['VICTIM-1', 'SECRET-VICTIM', 'C-VICTIM'];
/** Values only another key's rows hold: they must all stay. */
const KEPT = ['KEEP-1', 'SECRET-KEEP'];

let sequence = 9_100_000_000_000_000_000_000n;
function change(eventName: Change['eventName'], pk: string, at: number, secret?: string, old?: Item, customer = pk === 'VICTIM-1' ? 'C-VICTIM' : 'C-KEEP'): DynamoDBRecord {
  const image: Item | undefined = secret ? { pk: { S: pk }, customer_id: { S: customer }, items: { L: [{ M: { note: { S: secret }, qty: { N: '1' } } }, { M: {} }] } } : undefined;
  return streamRecord({ eventName, keys: { pk: { S: pk } }, newImage: image, oldImage: old, at: Math.floor(at / 1000), sequence: sequence++ });
}

/** Three days of the usual workload, with the victim and a kept key written on each, the victim removed on the last. */
async function lakeWithVictim(root: string): Promise<void> {
  const all = workload(900, 90, 61, START, 3 * DAY_MS);
  for (let d = 0; d < 3; d++) {
    const t = START + d * DAY_MS;
    const day = all.records.filter((r) => Number(r.dynamodb!.ApproximateCreationDateTime) * 1000 >= t && Number(r.dynamodb!.ApproximateCreationDateTime) * 1000 < t + DAY_MS);
    const victim =
      d === 0 ? change('INSERT', 'VICTIM-1', t + 3_600_000, 'SECRET-VICTIM-a') : d === 1 ? change('MODIFY', 'VICTIM-1', t + 3_600_000, 'SECRET-VICTIM-b') : change('REMOVE', 'VICTIM-1', t + 3_600_000, undefined, {});
    await writeStream(root, [...day, victim, change(d === 0 ? 'INSERT' : 'MODIFY', 'KEEP-1', t + 7_200_000, `SECRET-KEEP-${d}`)], 25, 3);
    await runMaintenance({ action: 'compact', checkpoint: true }, deps(root, morningAfter(d)));
  }
  // A quarantined record of the victim (its whole record, as the handler keeps it) and one of another key.
  const quarantined = (pk: string) => JSON.stringify({ error: 'poison', record: { eventName: 'MODIFY', dynamodb: { Keys: { pk: { S: pk } }, NewImage: { pk: { S: pk }, note: { S: `SECRET-${pk === 'VICTIM-1' ? 'VICTIM' : 'KEEP'}-q` } } } }, source: 'test', quarantinedAt: new Date(START).toISOString() });
  // Named as the handler names them: by sequence number and a hash, never by the key.
  for (const [i, pk] of ['VICTIM-1', 'KEEP-1'].entries()) write(root, `quarantine/dt=2026-11-20/0000000000000000000${i}-a1b2c3d4e5f6a7b${i}.json`, quarantined(pk));
  // A finished DynamoDB export: its data files hold whole items, the victim's too.
  write(root, 'exports/t=1795600000/AWSDynamoDB/0176-x/data/part-0.json.gz', gzipSync(`${JSON.stringify({ Item: { pk: { S: 'VICTIM-1' }, note: { S: 'SECRET-VICTIM-x' } } })}\n`));
  write(root, 'exports/t=1795600000/AWSDynamoDB/0176-x/manifest-summary.json', '{"itemCount":1}');
}

function write(root: string, key: string, body: string | Buffer): void {
  mkdirSync(dirname(join(root, key)), { recursive: true });
  writeFileSync(join(root, key), body);
}

const engines: { close(): void }[] = [];
afterAll(() => {
  for (const e of engines) e.close();
});
function deps(root: string, now: number, store: LakeStore = new FolderStore(root)): MaintenanceDeps {
  const engine = lakeEngine(root);
  engines.push(engine);
  return { store, engine, config: config(), now };
}

/** Every file of the lake, as text: Parquet decoded (every column of every row), the rest raw (gzip unpacked). */
async function everyText(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const db = await DuckDBInstance.create(':memory:');
  const c = await db.connect();
  try {
    for (const f of (readdirSync(root, { recursive: true, encoding: 'utf8' }) as string[]).filter((f) => statSync(join(root, f)).isFile())) {
      const path = join(root, f);
      const bytes = readFileSync(path);
      if (bytes.subarray(0, 4).toString() === 'PAR1') {
        const rows = (await c.runAndReadAll(`SELECT * FROM read_parquet('${path.replaceAll("'", "''")}')`)).getRowObjectsJS();
        out.set(f, JSON.stringify(rows, (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
      } else out.set(f, (f.endsWith('.gz') ? Buffer.from(await import('node:zlib').then((z) => z.gunzipSync(bytes))) : bytes).toString('utf8'));
    }
  } finally {
    c.closeSync();
    db.closeSync();
  }
  return out;
}

const holding = (texts: Map<string, string>, words: readonly string[]) => [...texts].filter(([, t]) => words.some((w) => t.includes(w))).map(([f]) => f);

describe('erasure of keys (the right to erasure)', () => {
  let base: string;
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'ddbf-erasure-'));
    await lakeWithVictim(base);
  }, 120_000);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  it('parses {"action":"erase"} with keys in the table\'s types, a pk alone meaning every item of it, and refuses what is wrong', () => {
    const schema = { partitionKey: 'pk', partitionKeyType: 'S' as const, sortKey: 'sk', sortKeyType: 'N' as const };
    expect(parseAction({ action: 'erase', keys: [{ pk: 'A1' }, { pk: 'A2', sk: '5' }, { pk: { S: 'A3' }, sk: { N: '-1.50' } }] }, schema)).toEqual({
      action: 'erase',
      keys: [{ pk: 'A1' }, { pk: 'A2', sk: '5' }, { pk: 'A3', sk: '-1.50' }],
    });
    expect(() => parseAction({ action: 'erase', keys: [] }, schema)).toThrow(/bad "erase" payload: keys must be a non-empty array/);
    expect(() => parseAction({ action: 'erase', keys: [{ pk: 'A1', sk: 'x' }] }, schema)).toThrow(/keys\[0\]\.sk must be number text for a key of type N, got "x"/);
    expect(() => parseAction({ action: 'erase', keys: [{ pk: 'A1', other: 1 }] }, schema)).toThrow(/keys\[0\]\.other is not a known field; allowed: pk, sk/);
    expect(() => parseAction({ action: 'erase', continuation: 1, keys: [{ pk: 'A1' }] }, schema)).toThrow(/a continuation names no keys/);
  });

  it('leaves no byte of the erased key in any file, keeps every other key, and the view equals the table', async () => {
    const lake = copyLake(base);
    const before = await everyText(lake);
    expect(holding(before, SECRETS).length).toBeGreaterThan(5); // days, checkpoints, quarantine, export
    const keptBefore = await currentState(lake);
    const now = morningAfter(2) + 3_600_000;
    const first = await runErase({ action: 'erase', keys: [{ pk: 'VICTIM-1' }] }, deps(lake, now));
    expect(first.erasures).toHaveLength(1);
    const e = first.erasures[0]!;
    expect(e).toMatchObject({ status: 'first-pass-done', pass: 1, keyHashes: [keyHash({ pk: 'VICTIM-1' })] });
    expect(e.counts.daysRewritten).toBe(3);
    expect(e.counts.checkpointsRewritten).toBeGreaterThanOrEqual(1);
    expect(e.counts).toMatchObject({ quarantineDeleted: 1, exportFilesDeleted: 1 });
    // Nothing of the victim is left but the erasure's own plan (it holds the keys until its sweep).
    const after = await everyText(lake);
    expect(holding(after, SECRETS)).toEqual([erasurePlanKey({ statePrefix: 'state' }, e.erasure)]);
    // Everything else stays: the kept key's rows and quarantine record, and the current state (the victim was removed).
    expect(holding(after, KEPT).filter((f) => f.startsWith('quarantine/'))).toHaveLength(1);
    expect(keptBefore.some((r) => r.includes('VICTIM'))).toBe(false);
    expect(await currentState(lake)).toEqual(keptBefore);
    // The audit names the key's hash, never the key.
    const audit = JSON.parse(readFileSync(join(lake, `state/erasures/audit/${e.erasure}.json`), 'utf8'));
    expect(audit).toMatchObject({ id: e.erasure, keyHashes: [keyHash({ pk: 'VICTIM-1' })], status: 'first-pass-done' });
    expect(JSON.stringify(audit)).not.toContain('VICTIM-1');

    // The sweep, once no older record can arrive: the scheduled run finishes it; the plan (the keys) goes.
    const sweep = await runMaintenance({ action: 'compact', checkpoint: true }, deps(lake, now + (STREAM_RETENTION_SECONDS + 3_600) * 1000));
    expect(sweep.erasures).toEqual([expect.objectContaining({ erasure: e.erasure, status: 'complete', pass: 2 })]);
    expect(holding(await everyText(lake), SECRETS)).toEqual([]);
    expect(await openErasures(new FolderStore(lake), { statePrefix: 'state' })).toEqual([]);
    expect(JSON.parse(readFileSync(join(lake, `state/erasures/audit/${e.erasure}.json`), 'utf8'))).toMatchObject({ status: 'complete', pass: 2 });
    rmSync(lake, { recursive: true, force: true });
  });

  it('a record older than the request that lands after it is swept away; one newer than the request is new data and stays', async () => {
    const lake = copyLake(base);
    const now = morningAfter(2) + 3_600_000;
    const first = await runErase({ action: 'erase', keys: [{ pk: 'VICTIM-1' }] }, deps(lake, now));
    const id = first.erasures[0]!.erasure;
    // A retried batch of day 2 delivered late (older than the request), and the item put back after it.
    await writeStream(lake, [change('MODIFY', 'VICTIM-1', START + 2 * DAY_MS + 5_000_000, 'SECRET-VICTIM-late')], 10, 0);
    await writeStream(lake, [change('INSERT', 'VICTIM-1', now + 60_000, 'NEW-DATA-after', undefined, 'C-NEW')], 10, 0);
    expect(holding(await everyText(lake), ['SECRET-VICTIM-late'])).toHaveLength(1);
    // Before the sweep is due, the scheduled run leaves the erasure waiting.
    const early = await runMaintenance({ action: 'compact', checkpoint: true }, deps(lake, now + 3_600_000));
    expect(early.erasures).toEqual([expect.objectContaining({ erasure: id, status: 'first-pass-done' })]);
    const sweep = await runMaintenance({ action: 'compact', checkpoint: true }, deps(lake, now + (STREAM_RETENTION_SECONDS + 3_600) * 1000));
    expect(sweep.erasures).toEqual([expect.objectContaining({ erasure: id, status: 'complete' })]);
    const texts = await everyText(lake);
    // Nothing of the history before the request: its secrets and its customer.
    expect(holding(texts, ['SECRET-VICTIM', 'C-VICTIM'])).toEqual([]);
    // The new version (after the request) is the item's current state now.
    expect(holding(texts, ['NEW-DATA-after']).length).toBeGreaterThan(0);
    expect((await currentState(lake)).filter((r) => r.includes('VICTIM-1')).map((r) => JSON.parse(r).value)).toContain('NEW-DATA-after');
    rmSync(lake, { recursive: true, force: true });
  });

  it('while it is open, the stream handler drops the key\'s records older than the request (a late retry) and writes newer ones', async () => {
    const lake = copyLake(base);
    const now = morningAfter(2) + 3_600_000;
    await runErase({ action: 'erase', keys: [{ pk: 'VICTIM-1' }] }, deps(lake, now));
    // The handler as the Lambda builds it, reading the erasures in flight from the state prefix.
    const metrics: Record<string, number>[] = [];
    const handler = streamBatchHandler({
      config: lakeConfig(),
      sink: new DirectorySink(lake),
      logger: new Logger({ logLevel: 'SILENT' }),
      writeMetrics: (line) => metrics.push(JSON.parse(line)),
      erasures: cachedErasures(async () => new FolderStore(lake).read('state/erasures/active.json')),
    });
    const late = change('MODIFY', 'VICTIM-1', START + 2 * DAY_MS + 5_000_000, 'SECRET-VICTIM-late');
    const fresh = change('INSERT', 'VICTIM-1', now + 60_000, 'NEW-DATA-after', undefined, 'C-NEW');
    const other = change('MODIFY', 'KEEP-1', START + 2 * DAY_MS + 5_000_000, 'SECRET-KEEP-late');
    const result = await handler({ Records: [late, fresh, other] } as unknown as DynamoDBStreamEvent, { functionName: 'test' } as Context);
    expect(result.batchItemFailures).toEqual([]);
    expect(metrics[0]).toMatchObject({ RecordsReceived: 3, RecordsErased: 1 });
    const texts = await everyText(lake);
    expect(holding(texts, ['SECRET-VICTIM-late'])).toEqual([]);
    expect(holding(texts, ['NEW-DATA-after']).length).toBe(1);
    expect(holding(texts, ['SECRET-KEEP-late']).length).toBe(1);
    // The list names the key by its hash only.
    expect(readFileSync(join(lake, 'state/erasures/active.json'), 'utf8')).not.toContain('VICTIM');
    rmSync(lake, { recursive: true, force: true });
  });

  it('survives a crash at every step: the next invocation resumes it to the same end', async () => {
    const now = morningAfter(2) + 3_600_000;
    const probe = copyLake(base);
    const counting = new CrashingStore(new FolderStore(probe), Number.POSITIVE_INFINITY);
    await runErase({ action: 'erase', keys: [{ pk: 'VICTIM-1' }] }, deps(probe, now, counting));
    const clean = await currentState(probe);
    expect(counting.changes).toBeGreaterThan(10);
    const step = 1;
    for (let crashAt = 1; crashAt <= counting.changes; crashAt += step) {
      const lake = copyLake(base);
      await expect(runErase({ action: 'erase', keys: [{ pk: 'VICTIM-1' }] }, deps(lake, now, new CrashingStore(new FolderStore(lake), crashAt)))).rejects.toThrow(/crash before change/);
      // The erasure in flight (if its plan was stored), or a new one (if the crash came before).
      for (let again = 0; again < 3; again++) {
        const open = await openErasures(new FolderStore(lake), { statePrefix: 'state' });
        const r = open.length ? await runErase({ action: 'erase', continuation: 1 }, deps(lake, now)).catch((error: Error) => void (process.env.DEBUG_ERASE && console.log(crashAt, error.message))) : await runErase({ action: 'erase', keys: [{ pk: 'VICTIM-1' }] }, deps(lake, now));
        if (process.env.DEBUG_ERASE) console.log(crashAt, again, JSON.stringify(r?.erasures.map((x) => [x.status, x.step, x.reason])));
        if (r?.erasures.every((x) => x.status === 'first-pass-done')) break;
      }
      const texts = await everyText(lake);
      expect(holding(texts, SECRETS).filter((f) => !f.startsWith('state/erasures/')), `after a crash at change ${crashAt}`).toEqual([]);
      expect(await currentState(lake)).toEqual(clean);
      rmSync(lake, { recursive: true, force: true });
    }
    rmSync(probe, { recursive: true, force: true });
  });
});

describe('ddb-flatten erase', () => {
  let base: string;
  beforeAll(async () => {
    base = mkdtempSync(join(tmpdir(), 'ddbf-erase-cli-'));
    await lakeWithVictim(base);
  }, 120_000);
  afterAll(() => rmSync(base, { recursive: true, force: true }));

  async function cli(args: string[]) {
    const t = testIO();
    const code = await main(['erase', ...args], t.io);
    return { code, stdout: t.stdout(), stderr: t.stderr() };
  }

  it('erases a key from a local lake folder, names it by its hash, and --resume finishes the sweep once it is due', async () => {
    const lake = copyLake(base);
    const now = new Date(morningAfter(2) + 3_600_000).toISOString();
    const first = await cli(['--lake', lake, '--carry', 'customer_id', '--key', 'VICTIM-1', '--now', now, '--format', 'json']);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const out = JSON.parse(first.stdout);
    expect(out.erasures).toEqual([expect.objectContaining({ status: 'first-pass-done', keyHashes: [keyHash({ pk: 'VICTIM-1' })] })]);
    expect(first.stdout).not.toContain('VICTIM-1');
    expect(holding(await everyText(lake), SECRETS).filter((f) => !f.startsWith('state/erasures/'))).toEqual([]);
    const early = await cli(['--lake', lake, '--resume', '--now', now]);
    expect(early.code).toBe(0);
    expect(early.stdout).toMatch(/first-pass-done/);
    const later = new Date(morningAfter(2) + 3_600_000 + (STREAM_RETENTION_SECONDS + 3_600) * 1000).toISOString();
    const done = await cli(['--lake', lake, '--resume', '--now', later, '--format', 'json']);
    expect(done.code).toBe(0);
    expect(JSON.parse(done.stdout).erasures).toEqual([expect.objectContaining({ status: 'complete', pass: 2 })]);
    expect(holding(await everyText(lake), SECRETS)).toEqual([]);
    expect((await cli(['--lake', lake, '--resume'])).stdout).toContain('no erasure in flight');
    rmSync(lake, { recursive: true, force: true });
  });

  it.each([
    [['--lake', '.'], 'give the keys (--key, once per key, or --keys FILE) or --resume, one of them'],
    [['--lake', '.', '--key', 'A1', '--resume'], 'give the keys (--key, once per key, or --keys FILE) or --resume, one of them'],
    [['--lake', '.', '--key', ':x'], '--key ":x": the pk is empty'],
    [['--lake', '.', '--keys', '/nonexistent/keys.jsonl'], '--keys /nonexistent/keys.jsonl: ENOENT'],
    [['--s3', 's3://bucket', '--key', 'A1'], "--s3 needs --workgroup and --glue-database: Athena runs the statements in the pipeline's maintenance workgroup, over its Glue tables"],
    [['--lake', '.', '--key', 'A1', '--workgroup', 'w'], '--workgroup needs --s3'],
    [['--lake', '.', '--key', 'A1', '--export-prefix', '../x'], '--export-prefix: "../x" is not a valid prefix'],
  ])('refuses %j naming the flag (exit 2)', async (args, message) => {
    const r = await cli(args);
    expect(r.stderr).toContain(message);
    expect(r.code).toBe(2);
  });
});
