import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { bucketNameProblem, carriedProblems, glueNameProblem, prefixProblem, splitList } from '../config/validate.ts';
import { FolderStore, S3Store, type LakeStore } from '../lake/lake-store.ts';
import { AthenaEngine } from '../maintenance/athena-engine.ts';
import type { MaintenanceEngine } from '../maintenance/engine.ts';
import { stringOption, type CommandSpec, type ParsedArgs } from './args.ts';
import { athenaClient, glueClient, s3Client } from './aws-clients.ts';
import { UsageError } from './errors.ts';
import type { CliIO } from './io.ts';

/**
 * The lake a maintenance command works on, and the engine its statements run
 * in: a local folder laid out like the bucket, with DuckDB (--lake), or the
 * bucket in place, with Athena in the pipeline's maintenance workgroup over
 * its Glue tables (--s3). `compact` and `erase` share these flags.
 */

export const LAKE_TARGET_OPTIONS: CommandSpec['options'] = {
  lake: { type: 'string', value: 'DIR', help: 'A local lake folder laid out like the bucket (<DIR>/<prefix>/dt=YYYY-MM-DD/...).' },
  s3: {
    type: 'string',
    value: 'URI',
    help: 'The lake in S3, in place: s3://bucket, or s3://bucket/<prefix> (the table location).\nUses the usual AWS credentials and region; see --endpoint-url.',
  },
  prefix: { type: 'string', value: 'PREFIX', help: 'Key prefix of the rows, as LAKE_PREFIX. Default: flattened (or the path of --s3).' },
  'state-prefix': { type: 'string', value: 'PREFIX', help: 'Key prefix of plans and checkpoints, as STATE_PREFIX. Default: state.' },
  carry: { type: 'string', value: 'LIST', help: "The carried attributes, as CARRY_ATTRIBUTES: the table's columns beyond the schema's\n(with --s3, the Glue table's own columns decide)." },
  workgroup: { type: 'string', value: 'NAME', help: "With --s3: the Athena workgroup the statements run in (the module's\nathena_maintenance_workgroup_name output)." },
  'glue-database': { type: 'string', value: 'NAME', help: "With --s3: the lake's Glue database, whose tables Athena reads." },
  'glue-table': { type: 'string', value: 'NAME', help: 'With --s3: the flattened table in --glue-database. Default: flattened.' },
  'glue-checkpoints-table': { type: 'string', value: 'NAME', help: 'With --s3: the checkpoints table in --glue-database. Default: checkpoints.' },
  'endpoint-url': { type: 'string', value: 'URL', help: 'AWS endpoint for every client (moto, LocalStack). Default: AWS_ENDPOINT_URL;\nAWS_ENDPOINT_URL_ATHENA wins for Athena.' },
};

export interface ParsedLakeTarget {
  readonly lake?: string;
  readonly s3?: { readonly bucket: string; readonly prefix?: string };
  readonly dataPrefix: string;
  readonly statePrefix: string;
  readonly carry: string[];
  readonly workgroup?: string;
  readonly glueDatabase?: string;
  readonly glueTable: string;
  readonly glueCheckpoints: string;
  readonly endpoint?: string;
}

export interface LakeTarget extends ParsedLakeTarget {
  readonly store: LakeStore;
  /** Where the rows are, for a report (a folder or an s3:// location). */
  readonly location: string;
  readonly engine: () => Promise<MaintenanceEngine & { close?(): void }>;
}

export function named(flag: string, problem: string | undefined): void {
  if (problem) throw new UsageError(`--${flag}: ${problem}`);
}

/** An AWS failure, prefixed with what the command was doing it for (the SDK's messages name no resource). */
export async function naming<T>(what: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof Error && '$metadata' in error) throw new Error(`${what}: ${error.name}: ${error.message}`, { cause: error });
    throw error;
  }
}

/** s3://bucket[/prefix][/] as a bucket and, when given, the rows' prefix. */
function parseS3(uri: string): { bucket: string; prefix?: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*?))?\/?$/.exec(uri.trim());
  if (!m) throw new UsageError(`--s3 must be s3://bucket or s3://bucket/<prefix>, got "${uri}"`);
  named('s3', bucketNameProblem(m[1]!));
  const prefix = m[2] || undefined;
  if (prefix !== undefined) named('s3', prefixProblem(prefix));
  return { bucket: m[1]!, prefix };
}

/** The target's flags, each checked and named; what depends on other flags of the command is checked by openLakeTarget. */
export function parseLakeTarget(values: ParsedArgs['values']): ParsedLakeTarget {
  const lake = stringOption(values, 'lake');
  const uri = stringOption(values, 's3');
  if ((lake === undefined) === (uri === undefined)) throw new UsageError('give exactly one of --lake DIR or --s3 s3://bucket[/prefix]');
  const s3 = uri === undefined ? undefined : parseS3(uri);
  const prefixFlag = stringOption(values, 'prefix')?.trim();
  if (prefixFlag !== undefined) named('prefix', prefixProblem(prefixFlag));
  if (prefixFlag !== undefined && s3?.prefix !== undefined && s3.prefix !== prefixFlag) {
    throw new UsageError(`--s3 names the prefix "${s3.prefix}" and --prefix "${prefixFlag}": give the rows' prefix once`);
  }
  const dataPrefix = prefixFlag ?? s3?.prefix ?? 'flattened';
  const statePrefix = stringOption(values, 'state-prefix')?.trim() ?? 'state';
  named('state-prefix', prefixProblem(statePrefix));
  if (statePrefix === dataPrefix || statePrefix.startsWith(`${dataPrefix}/`) || dataPrefix.startsWith(`${statePrefix}/`)) {
    throw new UsageError(`--state-prefix "${statePrefix}" must not overlap the rows' prefix "${dataPrefix}", or the table would read plans and checkpoints as rows`);
  }
  const carry = splitList(stringOption(values, 'carry'));
  const carryProblems = carriedProblems(carry);
  if (carryProblems.length) throw new UsageError(carryProblems.map((p) => `--carry: ${p}`).join('\n'));
  const endpoint = stringOption(values, 'endpoint-url')?.trim();
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(endpoint)) throw new UsageError(`--endpoint-url must be an http:// or https:// URL, got "${endpoint}"`);
  const workgroup = stringOption(values, 'workgroup')?.trim();
  if (workgroup !== undefined && !/^[a-zA-Z0-9._-]{1,128}$/.test(workgroup)) throw new UsageError(`--workgroup: "${workgroup}" is not an Athena workgroup name (1 to 128 of a-z A-Z 0-9 . _ -)`);
  const glueDatabase = stringOption(values, 'glue-database')?.trim();
  if (glueDatabase !== undefined) named('glue-database', glueNameProblem(glueDatabase));
  const glueTable = stringOption(values, 'glue-table')?.trim() ?? 'flattened';
  named('glue-table', glueNameProblem(glueTable));
  const glueCheckpoints = stringOption(values, 'glue-checkpoints-table')?.trim() ?? 'checkpoints';
  named('glue-checkpoints-table', glueNameProblem(glueCheckpoints));
  return { lake, s3, dataPrefix, statePrefix, carry, workgroup, glueDatabase, glueTable, glueCheckpoints, endpoint };
}

/** Flags that belong to the pipeline in AWS: refused with --lake. */
export function needsS3(t: ParsedLakeTarget, flags: readonly (readonly [string, string | undefined])[]): void {
  for (const [flag, given] of [['workgroup', t.workgroup], ['glue-database', t.glueDatabase], ...flags] as const) {
    if (given !== undefined && t.s3 === undefined) throw new UsageError(`--${flag} needs --s3: it belongs to the pipeline in AWS, not to a local lake`);
  }
}

/** The store and the engine: --s3 needs the workgroup and the Glue database; --lake a lake folder (and DuckDB). */
export async function openLakeTarget(t: ParsedLakeTarget, io: CliIO, command: string): Promise<LakeTarget> {
  const { s3 } = t;
  if (s3 !== undefined && (t.workgroup === undefined || t.glueDatabase === undefined)) {
    const missing = [t.workgroup === undefined ? '--workgroup' : '', t.glueDatabase === undefined ? '--glue-database' : ''].filter(Boolean).join(' and ');
    throw new UsageError(`--s3 needs ${missing}: Athena runs the statements in the pipeline's maintenance workgroup, over its Glue tables`);
  }
  const store = s3 ? new S3Store(s3Client(io.env, t.endpoint), s3.bucket) : await localStore(resolve(t.lake!), t.dataPrefix);
  const engine = s3
    ? async () =>
        new AthenaEngine(athenaClient(io.env, t.endpoint), { workgroup: t.workgroup!, bucket: s3.bucket, database: t.glueDatabase!, table: t.glueTable, checkpointsTable: t.glueCheckpoints }, glueClient(t.endpoint))
    : () => duckDbEngine(command, { root: resolve(t.lake!), prefix: t.dataPrefix, statePrefix: t.statePrefix, carried: t.carry });
  return { ...t, store, engine, location: `${store.describe(t.dataPrefix)}/` };
}

async function localStore(dir: string, prefix: string): Promise<FolderStore> {
  const folder = await stat(dir).catch(() => undefined);
  if (!folder?.isDirectory()) throw new UsageError(`--lake ${dir}: ${folder ? 'is not a folder' : 'no such folder'}`);
  const rows = await stat(join(dir, prefix)).catch(() => undefined);
  if (!rows?.isDirectory()) throw new UsageError(`--lake ${dir} has no ${prefix}/ folder: is it a lake folder, and are the rows under another --prefix?`);
  return new FolderStore(dir);
}

/** DuckDB's engine, loaded when --lake needs it: DuckDB is a native package the installed CLI does not bring. */
async function duckDbEngine(command: string, options: ConstructorParameters<typeof import('../maintenance/duckdb-engine.ts').DuckDbEngine>[0]) {
  let module: typeof import('../maintenance/duckdb-engine.ts');
  try {
    module = await import('../maintenance/duckdb-engine.ts');
  } catch (error) {
    throw new Error(`${command} --lake runs its statements in DuckDB: install it beside ddb-flatten (npm install @duckdb/node-api). ${(error as Error).message}`);
  }
  return new module.DuckDbEngine(options);
}
