import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  AthenaClient,
  CreateWorkGroupCommand,
  GetQueryExecutionCommand,
  ListQueryExecutionsCommand,
  StartQueryExecutionCommand,
  StopQueryExecutionCommand,
  type QueryExecution,
} from '@aws-sdk/client-athena';
import { CreateDatabaseCommand, CreateTableCommand, GetTableCommand, GlueClient } from '@aws-sdk/client-glue';
import { CreateBucketCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkpointColumns, checkpointProjection, glueColumns, PARQUET, projectionParameters } from '../modules/glue-catalog.ts';
import { AthenaEngine } from '../src/maintenance/athena-engine.ts';
import { athenaUnloadSql, isTerminal, queryToken, type QueryStatus } from '../src/maintenance/engine.ts';
import { checkpointSql, compactDaySql } from '../src/maintenance/statements.ts';
import { CHECKPOINT_PARTITION_NAME } from '../src/schema/row-schema.ts';
import { startAthenaStandIn, type AthenaStandIn, type Hold } from './support/athena-server.ts';
import { getBytes, listKeys } from './support/lake.ts';
import { startMoto, type Moto } from './support/moto.ts';
import { motoMissing } from './support/tools.ts';

/**
 * The stand-in Athena server (test/support/athena-server.ts) against moto:
 * the UNLOADs the maintenance writes run for real over the lake in moto's S3,
 * described by moto's Glue, and their output objects hold the rows the
 * SELECT gives; the API behaves as Athena's does (tokens, states, errors).
 */

const LAKE = 'standin-lake';
const RESULTS = 'standin-results';
const DB = 'standin_db';
const TABLE = 'flattened';
const CHECKPOINTS = 'checkpoints';
const WORKGROUP = 'maintenance';
const TIGHT = 'tight';
/** Athena's smallest per-query cutoff, 10 MB. */
const TIGHT_CUTOFF = 10 * 1024 * 1024;
const COLUMN_LIST = 'pk, sk, attribute, item_index, key, value, value_type, event_name, event_time, sequence';
const ORDER = 'ORDER BY pk, sk, attribute, event_time, sequence, item_index, key';

interface Row {
  pk: string;
  sk: string;
  attribute: string;
  item_index: number;
  key: string;
  value: string | null;
  value_type: string;
  event_name: string | null;
  event_time: string;
  sequence: string;
  dt?: string;
}

const row = (pk: string, n: number, over: Partial<Row> = {}): Row => ({
  pk,
  sk: 'order',
  attribute: 'items',
  item_index: n,
  key: 'qty',
  value: String(n * 10),
  value_type: 'N',
  event_name: 'INSERT',
  event_time: `2024-01-01T10:00:0${n % 10}.000Z`,
  sequence: String(1000 + n).padStart(21, '0'),
  ...over,
});

// The lake: day 1 in three objects (two share rows: at-least-once delivery; one lacks event_name), day 2 in one.
const DAY1_A = [row('a', 3), row('b', 1), row('a', 1)];
const DAY1_B = [row('a', 1), row('b', 1), row('c', 2, { value: null })];
const DAY1_C = [row('d', 4, { event_time: '2024-01-01T23:59:59.999Z' })];
const DAY2 = [row('a', 5, { event_time: '2024-01-02T08:00:00.000Z', event_name: 'MODIFY' }), row('e', 6, { event_time: '2024-01-02T09:00:00.000Z' })];
const CP_A = [row('a', 1, { dt: '2024-01-01' }), row('z', 9, { dt: '2023-12-30' })];
const CP_B = [row('y', 8, { dt: '2024-01-01' })];
const NOT_READ = [row('never', 99)];

const skipReason = motoMissing();

describe.skipIf(skipReason)('the stand-in Athena server', () => {
  let moto: Moto;
  let standIn: AthenaStandIn;
  let athena: AthenaClient;
  let s3: S3Client;
  let work: string;
  let duck: DuckDBInstance;
  let db: DuckDBConnection;
  /** Sizes of the uploaded objects, by key. */
  const sizes = new Map<string, number>();

  async function writeParquet(rows: readonly Row[], options: { omit?: string[]; withDt?: boolean } = {}): Promise<Uint8Array> {
    const columns = [...COLUMN_LIST.split(', '), ...(options.withDt ? ['dt'] : [])].filter((c) => !options.omit?.includes(c));
    const literal = (c: string, r: Row): string => {
      const v = r[c as keyof Row];
      if (c === 'item_index') return `CAST(${Number(v)} AS INTEGER)`;
      if (c === 'event_time') return `CAST('${String(v)}' AS TIMESTAMPTZ)`;
      return v === null || v === undefined ? 'CAST(NULL AS VARCHAR)' : `'${String(v).replaceAll("'", "''")}'`;
    };
    const path = join(work, `${randomUUID()}.parquet`);
    const values = rows.map((r) => `(${columns.map((c) => literal(c, r)).join(', ')})`).join(',\n');
    await db.run(`COPY (SELECT * FROM (VALUES ${values}) AS t(${columns.join(', ')})) TO '${path}' (FORMAT parquet, COMPRESSION zstd)`);
    return readFileSync(path);
  }

  async function put(bucket: string, key: string, body: Uint8Array | string): Promise<void> {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    sizes.set(key, typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  }

  const unload = (select: string, destination: string): string => athenaUnloadSql({ select, destination, zstdLevel: 9, targetBytes: 64 << 20 }, LAKE);

  async function start(query: string, options: { workgroup?: string; token?: string } = {}): Promise<string> {
    const { QueryExecutionId } = await athena.send(
      new StartQueryExecutionCommand({ QueryString: query, WorkGroup: options.workgroup ?? WORKGROUP, QueryExecutionContext: { Database: DB }, ClientRequestToken: options.token ?? `test-${randomUUID()}` }),
    );
    return QueryExecutionId!;
  }

  const get = async (id: string): Promise<QueryExecution> => (await athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }))).QueryExecution!;

  async function finished(id: string): Promise<QueryExecution> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const q = await get(id);
      if (['SUCCEEDED', 'FAILED', 'CANCELLED'].includes(q.Status!.State!)) return q;
      if (Date.now() > deadline) throw new Error(`query ${id} still ${q.Status!.State} after 30 s`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The rows of output objects (s3:// URIs), read with DuckDB, file by file. */
  async function readRows(uris: readonly string[], withDt = false): Promise<{ rows: Row[]; perFile: Row[][]; compression: string[] }> {
    const perFile: Row[][] = [];
    const compression: string[] = [];
    for (const uri of uris) {
      const key = uri.slice(`s3://${LAKE}/`.length);
      const path = join(work, `${randomUUID()}`);
      writeFileSync(path, await getBytes(s3, LAKE, key));
      const reader = await db.runAndReadAll(`SELECT ${COLUMN_LIST}, ${withDt ? 'dt' : 'NULL AS dt'} FROM read_parquet('${path}')`);
      perFile.push(reader.getRowObjectsJS().map(normalize));
      const codecs = await db.runAndReadAll(`SELECT DISTINCT compression FROM parquet_metadata('${path}')`);
      compression.push(...codecs.getRowObjectsJS().map((r) => String(r.compression)));
    }
    return { rows: perFile.flat(), perFile, compression };
  }

  function normalize(r: Record<string, unknown>): Row {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(r)) {
      if (k === 'dt' && v === null) continue;
      out[k] = v instanceof Date ? v.toISOString() : typeof v === 'bigint' ? Number(v) : v;
    }
    return out as unknown as Row;
  }

  /** The expected answer, computed here: distinct rows in the ORDER BY's order. */
  function expected(rows: readonly Row[], options: { withDt?: boolean; drop?: string[] } = {}): Row[] {
    const shaped = rows.map((r) => {
      const copy: Record<string, unknown> = { ...r };
      for (const c of options.drop ?? []) copy[c] = null;
      if (!options.withDt) delete copy.dt;
      return copy as unknown as Row;
    });
    const distinct = [...new Map(shaped.map((r) => [JSON.stringify(r, Object.keys(r).sort()), r])).values()];
    const cmp = (a: string | number, b: string | number): number => (a < b ? -1 : a > b ? 1 : 0);
    return distinct.sort(
      (a, b) =>
        cmp(a.pk, b.pk) || cmp(a.sk, b.sk) || cmp(a.attribute, b.attribute) || cmp(Date.parse(a.event_time), Date.parse(b.event_time)) || cmp(a.sequence, b.sequence) || cmp(a.item_index, b.item_index) || cmp(a.key, b.key),
    );
  }

  /** Waits until the hold catches the query; fails at once, with the query's reason, if it ends first. */
  async function heldNow(hold: Hold, id: string): Promise<void> {
    const ended = standIn.whenDone(id).then((q) => {
      throw new Error(`query ${id} ended ${q.state} before it was held: ${q.reason}`);
    });
    expect(await Promise.race([hold.waitUntilHeld(), ended])).toBe(id);
  }

  const keysUnder = (bucket: string, prefix: string): Promise<string[]> => listKeys(s3, bucket, prefix);
  const bytesOf = (...keys: string[]): number => keys.reduce((sum, k) => sum + sizes.get(k)!, 0);

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'ddb-flatten-standin-test-'));
    duck = await DuckDBInstance.create(':memory:');
    db = await duck.connect();
    await db.run("SET TimeZone = 'UTC'");
    moto = await startMoto();
    s3 = new S3Client(moto.clientConfig);
    const glue = new GlueClient(moto.clientConfig);
    const motoAthena = new AthenaClient(moto.clientConfig);
    for (const bucket of [LAKE, RESULTS]) await s3.send(new CreateBucketCommand({ Bucket: bucket }));

    const results = `s3://${RESULTS}/athena/`;
    for (const [name, cutoff] of [
      [WORKGROUP, 10 * 1024 ** 3],
      [TIGHT, TIGHT_CUTOFF],
    ] as const) {
      await motoAthena.send(
        new CreateWorkGroupCommand({
          Name: name,
          Configuration: { ResultConfiguration: { OutputLocation: results }, EnforceWorkGroupConfiguration: true, BytesScannedCutoffPerQuery: cutoff, EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' } },
        }),
      );
    }

    // The Glue tables as the module defines them (modules/glue-catalog.ts); Terraform turns $${…} into ${…}.
    const unescape = (p: Record<string, string>): Record<string, string> => Object.fromEntries(Object.entries(p).map(([k, v]) => [k, v.replaceAll('$${', '${')]));
    const storage = (location: string, columns: { name: string; type: string; comment: string }[]) => ({
      Location: location,
      Columns: columns.map((c) => ({ Name: c.name, Type: c.type, Comment: c.comment })),
      InputFormat: PARQUET.inputFormat,
      OutputFormat: PARQUET.outputFormat,
      SerdeInfo: { Name: 'parquet', SerializationLibrary: PARQUET.serde, Parameters: { 'serialization.format': '1' } },
    });
    await glue.send(new CreateDatabaseCommand({ DatabaseInput: { Name: DB } }));
    const tableLocation = `s3://${LAKE}/flattened/`;
    await glue.send(
      new CreateTableCommand({
        DatabaseName: DB,
        TableInput: {
          Name: TABLE,
          TableType: 'EXTERNAL_TABLE',
          Parameters: { classification: 'parquet', EXTERNAL: 'TRUE', ...unescape(projectionParameters(tableLocation, '2024-01-01')) },
          PartitionKeys: [{ Name: 'dt', Type: 'string' }],
          StorageDescriptor: storage(tableLocation, glueColumns([])),
        },
      }),
    );
    const stateLocation = `s3://${LAKE}/state/checkpoints/`;
    await glue.send(
      new CreateTableCommand({
        DatabaseName: DB,
        TableInput: {
          Name: CHECKPOINTS,
          TableType: 'EXTERNAL_TABLE',
          Parameters: { classification: 'parquet', EXTERNAL: 'TRUE', ...unescape(checkpointProjection(stateLocation)) },
          PartitionKeys: [{ Name: CHECKPOINT_PARTITION_NAME, Type: 'string' }],
          StorageDescriptor: storage(stateLocation, checkpointColumns([])),
        },
      }),
    );
    const stored = (await glue.send(new GetTableCommand({ DatabaseName: DB, Name: TABLE }))).Table!;
    expect(stored.Parameters!['storage.location.template']).toBe(`${tableLocation}dt=\${dt}/`);

    await put(LAKE, 'flattened/dt=2024-01-01/a.parquet', await writeParquet(DAY1_A));
    await put(LAKE, 'flattened/dt=2024-01-01/b.parquet', await writeParquet(DAY1_B));
    await put(LAKE, 'flattened/dt=2024-01-01/nested/c.parquet', await writeParquet(DAY1_C, { omit: ['event_name'] }));
    await put(LAKE, 'flattened/dt=2024-01-02/d.parquet', await writeParquet(DAY2));
    // Objects Athena does not read: hidden (Hadoop's rule), outside any partition, outside the projection's range or format.
    await put(LAKE, 'flattened/dt=2024-01-01/_staging/x.parquet', await writeParquet(NOT_READ));
    await put(LAKE, 'flattened/dt=2024-01-01/.hidden', 'not parquet at all');
    await put(LAKE, 'flattened/dt=2024-01-01/_SUCCESS', 'not parquet at all');
    await put(LAKE, 'flattened/stray.parquet', await writeParquet(NOT_READ));
    await put(LAKE, 'flattened/dt=2023-12-31/old.parquet', await writeParquet(NOT_READ));
    await put(LAKE, 'flattened/dt=20240105/bad-format.parquet', await writeParquet(NOT_READ));
    // Checkpoints are named by the engine that wrote them: no extension.
    await put(LAKE, 'state/checkpoints/checkpoint=cp-a/20240101_000000_00000_abcde_1', await writeParquet(CP_A, { withDt: true }));
    await put(LAKE, 'state/checkpoints/checkpoint=cp-b/20240101_000000_00000_abcde_2', await writeParquet(CP_B, { withDt: true }));

    standIn = await startAthenaStandIn({ moto: moto.clientConfig });
    athena = new AthenaClient(standIn.clientConfig);
  }, 120_000);

  afterAll(async () => {
    await standIn?.stop();
    await moto?.stop();
    db?.closeSync();
    duck?.closeSync();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('runs an UNLOAD of a SELECT DISTINCT … ORDER BY over the Glue table and writes its rows, Athena-named, with a manifest', async () => {
    const destination = 'out/compact-day-1/';
    const query = unload(`SELECT DISTINCT ${COLUMN_LIST}\nFROM "${DB}"."${TABLE}"\nWHERE dt = '2024-01-01'\n${ORDER}`, destination);
    const id = await start(query);
    const q = await finished(id);
    expect(q.Status?.State, q.Status?.StateChangeReason).toBe('SUCCEEDED');

    const logged = standIn.query(id)!;
    const day1 = ['flattened/dt=2024-01-01/a.parquet', 'flattened/dt=2024-01-01/b.parquet', 'flattened/dt=2024-01-01/nested/c.parquet'];
    // Only the day's partition is read (the WHERE on dt prunes), every object in it but hidden ones, nested ones included.
    expect([...logged.readObjects].sort()).toEqual(day1.map((k) => `s3://${LAKE}/${k}`));
    expect(q.Statistics?.DataScannedInBytes).toBe(bytesOf(...day1));

    // The output: the distinct rows, in order, with event_name NULL where the file lacked the column.
    const written = await keysUnder(LAKE, destination);
    expect(written.map((k) => `s3://${LAKE}/${k}`).sort()).toEqual([...logged.outputObjects].sort());
    expect(written.length).toBeGreaterThan(0);
    for (const key of written) expect(key.slice(destination.length)).toMatch(/^\d{8}_\d{6}_\d{5}_[a-z2-9]{5}_[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const { rows, perFile, compression } = await readRows(logged.outputObjects);
    expect(rows).toEqual(expected([...DAY1_A, ...DAY1_B, ...DAY1_C.map((r) => ({ ...r, event_name: null }))]));
    for (const file of perFile) expect(file).toEqual(expected(file));
    expect(new Set(compression)).toEqual(new Set(['ZSTD']));

    // The manifest lists the data files, one s3:// URI a line; the metadata file is beside it; the statistics point at both.
    const manifestKey = `athena/${id}-manifest.csv`;
    expect(q.Statistics?.DataManifestLocation).toBe(`s3://${RESULTS}/${manifestKey}`);
    const manifest = new TextDecoder().decode(await getBytes(s3, RESULTS, manifestKey));
    expect(manifest.split('\n').filter(Boolean).sort()).toEqual(written.map((k) => `s3://${LAKE}/${k}`).sort());
    expect(await keysUnder(RESULTS, `athena/${id}`)).toEqual([`athena/${id}-manifest.csv`, `athena/${id}.metadata`]);
    expect(q.ResultConfiguration?.OutputLocation).toBe(`s3://${RESULTS}/athena/${id}`);
    expect(q).toMatchObject({ QueryExecutionId: id, Query: query, StatementType: 'DML', WorkGroup: WORKGROUP, QueryExecutionContext: { Database: DB } });
    expect(q.EngineVersion?.EffectiveEngineVersion).toBe('Athena engine version 3');
    expect(q.Status?.SubmissionDateTime).toBeInstanceOf(Date);
    expect(q.Status!.CompletionDateTime!.getTime()).toBeGreaterThanOrEqual(q.Status!.SubmissionDateTime!.getTime());
  });

  it('writes no data file for a SELECT of no rows, and an empty manifest', async () => {
    const q = await finished(await start(unload(`SELECT ${COLUMN_LIST} FROM "${DB}"."${TABLE}" WHERE dt = '2024-01-02' AND pk = 'nobody'`, 'out/empty/')));
    expect(q.Status?.State, q.Status?.StateChangeReason).toBe('SUCCEEDED');
    expect(await keysUnder(LAKE, 'out/empty/')).toEqual([]);
    expect(await getBytes(s3, RESULTS, q.Statistics!.DataManifestLocation!.slice(`s3://${RESULTS}/`.length))).toHaveLength(0);
  });

  it('reads a checkpoint by its injected partition and a range of days, as the checkpoint statement does', async () => {
    const select = [
      `SELECT ${COLUMN_LIST}, dt FROM (`,
      `  SELECT ${COLUMN_LIST}, dt FROM "${DB}"."${CHECKPOINTS}" WHERE checkpoint = 'cp-a'`,
      '  UNION ALL',
      `  SELECT ${COLUMN_LIST}, dt FROM (SELECT * FROM "${DB}"."${TABLE}" WHERE dt >= '2024-01-02' AND dt < '2024-01-03') AS open_days`,
      `) AS state_rows`,
      ORDER,
    ].join('\n');
    const id = await start(unload(select, 'out/cp/'));
    const q = await finished(id);
    expect(q.Status?.State, q.Status?.StateChangeReason).toBe('SUCCEEDED');
    const logged = standIn.query(id)!;
    const read = ['flattened/dt=2024-01-02/d.parquet', 'state/checkpoints/checkpoint=cp-a/20240101_000000_00000_abcde_1'];
    expect([...logged.readObjects].sort()).toEqual(read.map((k) => `s3://${LAKE}/${k}`).sort());
    expect(q.Statistics?.DataScannedInBytes).toBe(bytesOf(...read));
    const { rows } = await readRows(logged.outputObjects, true);
    expect(rows).toEqual(expected([...CP_A, ...DAY2.map((r) => ({ ...r, dt: '2024-01-02' }))], { withDt: true }));
  });

  it('fails a query on an injected partition without a static equality, and a query DuckDB cannot bind, with the engine\'s reason', async () => {
    const noEquality = await finished(await start(unload(`SELECT ${COLUMN_LIST} FROM "${DB}"."${CHECKPOINTS}" WHERE checkpoint > 'a'`, 'out/no-equality/')));
    expect(noEquality.Status?.State).toBe('FAILED');
    expect(noEquality.Status?.StateChangeReason).toBe(
      'CONSTRAINT_VIOLATION: For the injected projected partition column checkpoint, the WHERE clause must contain only static equality conditions, and at least one such condition must be present.',
    );

    const badColumn = await finished(await start(unload(`SELECT no_such_column FROM "${DB}"."${TABLE}" WHERE dt = '2024-01-02'`, 'out/bad-column/')));
    expect(badColumn.Status?.State).toBe('FAILED');
    expect(badColumn.Status?.StateChangeReason).toMatch(/no_such_column/);
    expect(badColumn.Status?.AthenaError?.ErrorMessage).toBe(badColumn.Status?.StateChangeReason);
    expect(await keysUnder(LAKE, 'out/bad-column/')).toEqual([]);

    const missing = await finished(await start(unload(`SELECT * FROM "${DB}"."no_such_table"`, 'out/no-table/')));
    expect(missing.Status?.StateChangeReason).toBe(`TABLE_NOT_FOUND: Table 'awsdatacatalog.${DB}.no_such_table' does not exist`);

    // A syntax error is refused at StartQueryExecution, as Athena refuses a malformed query.
    await expect(start(unload(`SELECT pk FROM FROM "${DB}"."${TABLE}"`, 'out/syntax/'))).rejects.toMatchObject({ name: 'InvalidRequestException', AthenaErrorCode: 'MALFORMED_QUERY' });
  });

  it('returns the same query for the same ClientRequestToken, and refuses the token with another query', async () => {
    const token = `idempotent-${randomUUID()}`;
    const query = unload(`SELECT ${COLUMN_LIST} FROM "${DB}"."${TABLE}" WHERE dt = '2024-01-02'`, 'out/idempotent/');
    const first = await start(query, { token });
    const again = await start(query, { token });
    expect(again).toBe(first);
    await finished(first);
    expect(await start(query, { token })).toBe(first);
    await expect(start(unload(`SELECT ${COLUMN_LIST} FROM "${DB}"."${TABLE}" WHERE dt = '2024-01-01'`, 'out/idempotent/'), { token })).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: 'Idempotent parameters do not match',
      AthenaErrorCode: 'IDEMPOTENT_PARAMETER_MISMATCH',
    });
    expect(standIn.queries().filter((q) => q.token === token).map((q) => q.id)).toEqual([first]);
  });

  it('refuses a destination that already holds data, and writes nothing there', async () => {
    await put(LAKE, 'out/taken/existing-object', 'data');
    const q = await finished(await start(unload(`SELECT ${COLUMN_LIST} FROM "${DB}"."${TABLE}" WHERE dt = '2024-01-02'`, 'out/taken/')));
    expect(q.Status?.State).toBe('FAILED');
    expect(q.Status?.StateChangeReason).toMatch(new RegExp(`^HIVE_PATH_ALREADY_EXISTS: .*s3://${LAKE}/out/taken/`));
    expect(await keysUnder(LAKE, 'out/taken/')).toEqual(['out/taken/existing-object']);
    expect(q.Statistics?.DataManifestLocation).toBeUndefined();
  });

  it('fails injected queries with the given reason, before or after writing data files', async () => {
    const select = `SELECT ${COLUMN_LIST} FROM "${DB}"."${TABLE}" WHERE dt = '2024-01-02'`;
    standIn.failNext('INTERNAL_ERROR_QUERY_ENGINE: injected by the test');
    const failed = await finished(await start(unload(select, 'out/injected-1/')));
    expect(failed.Status).toMatchObject({ State: 'FAILED', StateChangeReason: 'INTERNAL_ERROR_QUERY_ENGINE: injected by the test' });
    expect(failed.Status?.AthenaError?.ErrorMessage).toBe('INTERNAL_ERROR_QUERY_ENGINE: injected by the test');
    expect(await keysUnder(LAKE, 'out/injected-1/')).toEqual([]);
    // The failure was for the next query only.
    expect((await finished(await start(unload(select, 'out/injected-2/')))).Status?.State).toBe('SUCCEEDED');

    // After output: the data files stay (Athena does not delete orphaned data) and the manifest lists them.
    const hook = standIn.failWhen((q) => q.statement.destination === 'out/injected-3/', 'worker lost', { phase: 'after-output' });
    const late = await finished(await start(unload(select, 'out/injected-3/')));
    hook.remove();
    expect(late.Status?.State).toBe('FAILED');
    const orphans = await keysUnder(LAKE, 'out/injected-3/');
    expect(orphans.length).toBeGreaterThan(0);
    const manifest = new TextDecoder().decode(await getBytes(s3, RESULTS, late.Statistics!.DataManifestLocation!.slice(`s3://${RESULTS}/`.length)));
    expect(manifest.split('\n').filter(Boolean)).toEqual(orphans.map((k) => `s3://${LAKE}/${k}`));
  });

  it('holds a query RUNNING until released, and keeps a slowed query RUNNING at least the given time', async () => {
    const hold = standIn.hold();
    const id = await start(unload(`SELECT ${COLUMN_LIST} FROM "${DB}"."${TABLE}" WHERE dt = '2024-01-02'`, 'out/held/'));
    await heldNow(hold, id);
    for (let i = 0; i < 4; i++) {
      expect((await get(id)).Status?.State).toBe('RUNNING');
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(await keysUnder(LAKE, 'out/held/')).toEqual([]);
    hold.release();
    expect((await finished(id)).Status?.State).toBe('SUCCEEDED');

    const slow = standIn.slowDown(600);
    const started = Date.now();
    const slowId = await start(unload(`SELECT ${COLUMN_LIST} FROM "${DB}"."${TABLE}" WHERE dt = '2024-01-02'`, 'out/slow/'));
    await new Promise((r) => setTimeout(r, 200));
    expect((await get(slowId)).Status?.State).toBe('RUNNING');
    const done = await finished(slowId);
    slow.remove();
    expect(done.Status?.State).toBe('SUCCEEDED');
    expect(Date.now() - started).toBeGreaterThanOrEqual(600);
    expect(done.Statistics!.EngineExecutionTimeInMillis!).toBeGreaterThanOrEqual(600);
  });

  it('cancels a running query on StopQueryExecution, leaves written data files, and leaves a finished query as it was', async () => {
    const select = `SELECT ${COLUMN_LIST} FROM "${DB}"."${TABLE}" WHERE dt = '2024-01-02'`;
    const before = standIn.hold();
    const id = await start(unload(select, 'out/stopped/'));
    await heldNow(before, id);
    await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id }));
    const stopped = await get(id);
    expect(stopped.Status).toMatchObject({ State: 'CANCELLED', StateChangeReason: 'Query cancelled by user' });
    before.release();
    await standIn.whenDone(id);
    await new Promise((r) => setTimeout(r, 200));
    expect((await get(id)).Status?.State).toBe('CANCELLED');
    expect(await keysUnder(LAKE, 'out/stopped/')).toEqual([]);

    // Stopped once its data files are written: they stay, and there is no manifest.
    const after = standIn.hold({ phase: 'after-output' });
    const late = await start(unload(select, 'out/stopped-late/'));
    await heldNow(after, late);
    await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: late }));
    after.release();
    await standIn.whenDone(late);
    const lateState = await get(late);
    expect(lateState.Status?.State).toBe('CANCELLED');
    expect((await keysUnder(LAKE, 'out/stopped-late/')).length).toBeGreaterThan(0);
    expect(lateState.Statistics?.DataManifestLocation).toBeUndefined();

    const done = await finished(await start(unload(select, 'out/done-then-stopped/')));
    await athena.send(new StopQueryExecutionCommand({ QueryExecutionId: done.QueryExecutionId }));
    expect((await get(done.QueryExecutionId!)).Status).toMatchObject({ State: 'SUCCEEDED' });
  });

  it("cancels a query over the workgroup's bytes-scanned cutoff, and runs one under it", async () => {
    // A day whose one object is over the cutoff; written uncompressed from unique strings so it stays that big.
    const path = join(work, 'big.parquet');
    await db.run(
      `COPY (SELECT md5(range::VARCHAR) || md5((range + 1000000)::VARCHAR) || md5((range + 2000000)::VARCHAR) AS pk, 'order' AS sk, 'items' AS attribute, CAST(range AS INTEGER) AS item_index, 'qty' AS key, '1' AS value, 'N' AS value_type, 'INSERT' AS event_name, TIMESTAMPTZ '2024-01-03 00:00:00+00' AS event_time, '0' AS sequence FROM range(120000)) TO '${path}' (FORMAT parquet, COMPRESSION uncompressed)`,
    );
    expect(statSync(path).size).toBeGreaterThan(TIGHT_CUTOFF);
    await put(LAKE, 'flattened/dt=2024-01-03/big.parquet', readFileSync(path));

    const over = await finished(await start(unload(`SELECT ${COLUMN_LIST} FROM "${DB}"."${TABLE}" WHERE dt = '2024-01-03'`, 'out/over/'), { workgroup: TIGHT }));
    expect(over.Status).toMatchObject({ State: 'CANCELLED', StateChangeReason: 'Bytes scanned limit was exceeded' });
    expect(over.Statistics?.DataScannedInBytes).toBe(TIGHT_CUTOFF);
    expect(await keysUnder(LAKE, 'out/over/')).toEqual([]);

    const under = await finished(await start(unload(`SELECT ${COLUMN_LIST} FROM "${DB}"."${TABLE}" WHERE dt = '2024-01-02'`, 'out/under/'), { workgroup: TIGHT }));
    expect(under.Status?.State).toBe('SUCCEEDED');
    expect(under.Statistics?.DataScannedInBytes).toBe(bytesOf('flattened/dt=2024-01-02/d.parquet'));
  });

  it("answers an unknown workgroup, an unknown query id and an unimplemented operation with Athena's errors", async () => {
    await expect(start(unload(`SELECT 1 AS one`, 'out/nowhere/'), { workgroup: 'no-such-workgroup' })).rejects.toMatchObject({
      name: 'InvalidRequestException',
      message: 'WorkGroup is not found.',
      AthenaErrorCode: 'INVALID_INPUT',
    });
    const unknown = randomUUID();
    await expect(get(unknown)).rejects.toMatchObject({ name: 'InvalidRequestException', message: `QueryExecution ${unknown} was not found` });
    await expect(athena.send(new StopQueryExecutionCommand({ QueryExecutionId: unknown }))).rejects.toMatchObject({ name: 'InvalidRequestException' });
    await expect(athena.send(new ListQueryExecutionsCommand({}))).rejects.toThrow(/does not implement ListQueryExecutions/);
    expect((await athena.send(new ListQueryExecutionsCommand({})).catch((e: { $metadata?: { httpStatusCode?: number } }) => e))?.$metadata?.httpStatusCode).toBe(400);
  });

  it('is reached through AWS_ENDPOINT_URL_ATHENA while every other client goes to AWS_ENDPOINT_URL (moto)', async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      ...standIn.env,
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
    });
    try {
      const viaEnv = new AthenaClient({});
      const { QueryExecutionId } = await viaEnv.send(
        new StartQueryExecutionCommand({ QueryString: unload(`SELECT ${COLUMN_LIST} FROM "${DB}"."${TABLE}" WHERE dt = '2024-01-02'`, 'out/via-env/'), WorkGroup: WORKGROUP, QueryExecutionContext: { Database: DB } }),
      );
      expect(standIn.query(QueryExecutionId!)?.state).toBeDefined();
      expect((await standIn.whenDone(QueryExecutionId!)).state).toBe('SUCCEEDED');
      const s3ViaEnv = new S3Client({ forcePathStyle: true });
      const listed = await s3ViaEnv.send(new ListObjectsV2Command({ Bucket: LAKE, Prefix: 'out/via-env/' }));
      expect(listed.KeyCount).toBeGreaterThan(0);
      expect((await new GlueClient({}).send(new GetTableCommand({ DatabaseName: DB, Name: TABLE }))).Table?.Name).toBe(TABLE);
    } finally {
      for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
      Object.assign(process.env, saved);
    }
  });

  it("runs the maintenance's own statements through AthenaEngine (start, status, stop)", async () => {
    const engine = new AthenaEngine(athena, { workgroup: WORKGROUP, bucket: LAKE, database: DB, table: TABLE, checkpointsTable: CHECKPOINTS });
    const settle = async (id: string): Promise<QueryStatus> => {
      for (;;) {
        const status = await engine.status(id);
        if (isTerminal(status)) return status;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const compact = { select: compactDaySql(engine.relations, [], '2024-01-01'), destination: 'out/engine/compact/', zstdLevel: 9, targetBytes: 64 << 20 };
    const token = queryToken('standin-test', 'compact', '2024-01-01');
    const id = await engine.start(compact, token);
    expect(await engine.start(compact, token)).toBe(id);
    const status = await settle(id);
    expect(status, status.reason).toMatchObject({ state: 'SUCCEEDED', bytesScanned: bytesOf('flattened/dt=2024-01-01/a.parquet', 'flattened/dt=2024-01-01/b.parquet', 'flattened/dt=2024-01-01/nested/c.parquet') });
    expect((await readRows(standIn.query(id)!.outputObjects)).rows).toEqual(expected([...DAY1_A, ...DAY1_B, ...DAY1_C.map((r) => ({ ...r, event_name: null }))]));

    // A checkpoint as of 2024-01-03 from checkpoint cp-a (bound 2024-01-02): the latest version of each item, its dt kept.
    const checkpoint = { select: checkpointSql(engine.relations, [], { checkpoint: 'cp-a', bound: '2024-01-02' }, '2024-01-03'), destination: 'out/engine/checkpoint/', zstdLevel: 9, targetBytes: 64 << 20 };
    const cpStatus = await settle(await engine.start(checkpoint, queryToken('standin-test', 'checkpoint', '2024-01-03')));
    expect(cpStatus.state, cpStatus.reason).toBe('SUCCEEDED');
    const cpRows = (await readRows(standIn.queries().at(-1)!.outputObjects, true)).rows;
    const latest = [DAY2[0]!, DAY2[1]!, CP_A[1]!].map((r) => ({ ...r, dt: r.dt ?? '2024-01-02' }));
    expect(expected(cpRows, { withDt: true })).toEqual(expected(latest, { withDt: true }));

    // stop() on a held statement cancels it.
    const hold = standIn.hold();
    const held = await engine.start({ ...compact, destination: 'out/engine/stopped/' }, queryToken('standin-test', 'stopped'));
    await heldNow(hold, held);
    await engine.stop(held);
    hold.release();
    expect(await engine.status(held)).toMatchObject({ state: 'CANCELLED', reason: 'Query cancelled by user' });
  });

  it('logs every query it ran', () => {
    const log = standIn.queries();
    expect(log.length).toBeGreaterThan(10);
    for (const q of log) {
      expect(q.token.length).toBeGreaterThanOrEqual(32);
      expect(['SUCCEEDED', 'FAILED', 'CANCELLED']).toContain(q.state);
      expect(q.query).toMatch(/^UNLOAD \(/);
    }
    expect(log.filter((q) => q.hooks.includes('hold')).length).toBeGreaterThanOrEqual(3);
  });
});
