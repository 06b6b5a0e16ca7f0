import { createHash, randomInt, randomUUID } from 'node:crypto';
import { createWriteStream, rmSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AthenaClient, GetWorkGroupCommand, type WorkGroup } from '@aws-sdk/client-athena';
import { GetPartitionsCommand, GetTableCommand, GlueClient, type Partition, type Table } from '@aws-sdk/client-glue';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { duckdbCopySql, parseAthenaUnload, type QueryState, type UnloadStatement } from '../../src/maintenance/engine.ts';

/**
 * A stand-in for Amazon Athena in the tests: an HTTP server that speaks
 * Athena's wire protocol (AWS JSON 1.1, `X-Amz-Target: AmazonAthena.<Op>`)
 * for StartQueryExecution, GetQueryExecution and StopQueryExecution, and
 * really runs what it is given: an `UNLOAD (<select>) TO 's3://…' WITH
 * (format = 'PARQUET', compression = 'ZSTD', …)` as the lake's maintenance
 * writes it (src/maintenance/engine.ts), with DuckDB, over the objects in
 * moto's S3, described by moto's Glue, in a workgroup moto's Athena knows.
 * The output goes back to moto's S3 with Athena's file names, manifest and
 * metadata file. Every difference from Athena that a caller could notice is
 * listed in docs/e2e.md, "The stand-in Athena server".
 *
 * Point an SDK client at it with `endpoint` (clientConfig), or a whole
 * process with AWS_ENDPOINT_URL_ATHENA (env): the AWS SDK for JavaScript v3
 * reads AWS_ENDPOINT_URL_<SERVICE ID> for every client built without an
 * explicit endpoint (@smithy/core, getEndpointUrlConfig), and Athena's
 * service id is "Athena".
 */

export interface MotoConnection {
  readonly endpoint: string;
  readonly region?: string;
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
}

export interface AthenaStandInOptions {
  /** The moto server whose S3, Glue and Athena (workgroups) the stand-in uses; e.g. `moto.clientConfig`. */
  readonly moto: MotoConnection;
  /** Queries running at once; the others stay QUEUED. Default 1. */
  readonly concurrency?: number;
  /** DuckDB's memory cap per query; past it DuckDB spills to the query's temp folder. Default 256MB. */
  readonly memoryLimit?: string;
  /** DuckDB threads per query. Default 2. */
  readonly threads?: number;
  /**
   * Cut the output into files of about this size (DuckDB's FILE_SIZE_BYTES). Default: one file per
   * query (Athena decides its own file count, usually several; set this to exercise several files).
   */
  readonly targetFileBytes?: number;
  /** Every query stays RUNNING at least this long (ms). Default 0. See also slowDown(). */
  readonly minimumRunningMs?: number;
  /** Folder for the stand-in's downloads, spill and output (removed by stop()). Default: a new folder in the OS temp dir. */
  readonly workDir?: string;
  /** Port to listen on (127.0.0.1). Default: a free one. */
  readonly port?: number;
}

/** What the stand-in did with one query, for the test to check. */
export interface QueryLogEntry {
  readonly id: string;
  readonly token: string;
  readonly query: string;
  readonly workgroup: string;
  readonly database?: string;
  /** The UNLOAD as parsed (parseAthenaUnload): the lake bucket and the statement. */
  readonly bucket: string;
  readonly statement: UnloadStatement;
  /** The results location the query used (workgroup's or request's), ending in "/". */
  readonly outputLocation: string;
  readonly state: QueryState;
  readonly reason?: string;
  /** Bytes of the objects the query read (whole objects). */
  readonly bytesScanned: number;
  /** DataScannedInBytes as GetQueryExecution reports it (the cutoff for a query it cancelled). */
  readonly reportedBytesScanned: number;
  /** The objects the query read, as s3:// URIs. */
  readonly readObjects: readonly string[];
  /** The data files written to the UNLOAD destination, as s3:// URIs (kept after a failure or a cancel). */
  readonly outputObjects: readonly string[];
  /** s3:// URI of the manifest, once written. */
  readonly manifest?: string;
  /** s3:// URI of the metadata file, once written. */
  readonly metadata?: string;
  /** Which test hook acted on the query ("fail", "hold", "slow"), if any. */
  readonly hooks: readonly string[];
  readonly submitted: Date;
  readonly started?: Date;
  readonly completed?: Date;
}

export type QueryMatch = (query: QueryLogEntry) => boolean;

/** Where in a query's run a hook acts: before anything is written, or once the data files are in the destination (no manifest yet). */
export type HookPhase = 'before-output' | 'after-output';

export interface Hook {
  /** Stops the hook acting on queries that have not reached it yet. */
  remove(): void;
}

export interface FailureOptions {
  /** How many queries fail (default 1 for failNext, every match for failWhen). */
  readonly count?: number;
  readonly match?: QueryMatch;
  /** Default 'before-output'. 'after-output' leaves the data files written (orphaned, as Athena leaves them) and a manifest listing them. */
  readonly phase?: HookPhase;
  /** AthenaError fields (defaults: category 2 "user", type 1000, not retryable). */
  readonly errorCategory?: number;
  readonly errorType?: number;
  readonly retryable?: boolean;
}

export interface HoldOptions {
  readonly match?: QueryMatch;
  /** How many queries to hold (default: every match until release()). */
  readonly count?: number;
  /** Default 'before-output'. */
  readonly phase?: HookPhase;
}

/** Queries held RUNNING until release() (or until StopQueryExecution cancels them). */
export interface Hold extends Hook {
  /** Lets every held query go on, and holds no more. */
  release(): void;
  /** Ids of the queries held now. */
  readonly held: readonly string[];
  /** Resolves with the id of the first query this hold catches (at once if one is held). */
  waitUntilHeld(timeoutMs?: number): Promise<string>;
}

export interface AthenaStandIn {
  readonly endpoint: string;
  readonly port: number;
  /** Settings for an AthenaClient aimed at the stand-in. */
  readonly clientConfig: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } };
  /** Environment that sends a process's Athena clients (built without an explicit endpoint) to the stand-in. */
  readonly env: { readonly AWS_ENDPOINT_URL_ATHENA: string };
  /** Every query started, in order of submission. */
  queries(): QueryLogEntry[];
  query(id: string): QueryLogEntry | undefined;
  /** Resolves when the query is SUCCEEDED, FAILED or CANCELLED. */
  whenDone(id: string): Promise<QueryLogEntry>;
  /** The next `count` (default 1) queries matching fail with `reason`. */
  failNext(reason: string, options?: FailureOptions): Hook;
  /** Every query matching fails with `reason` until removed. */
  failWhen(match: QueryMatch, reason: string, options?: Omit<FailureOptions, 'match'>): Hook;
  /** Queries matching (default all) stay RUNNING at least `ms`. */
  slowDown(ms: number, match?: QueryMatch): Hook;
  hold(options?: HoldOptions): Hold;
  /** Cancels what still runs, closes the server and removes the work folder. */
  stop(): Promise<void>;
}

// ---------------------------------------------------------------------------
// Athena's answers

/** An error as Athena returns it: HTTP 400, `__type` and `Message`, and for most `AthenaErrorCode` (also as `ErrorCode`). */
class AthenaApiError extends Error {
  readonly type: string;
  readonly code?: string;
  constructor(type: string, message: string, code?: string) {
    super(message);
    this.type = type;
    this.code = code;
  }
}

const invalid = (message: string, code?: string): AthenaApiError => new AthenaApiError('InvalidRequestException', message, code);

/**
 * Messages measured against Athena by aoyagikouhei/athena-local (README, 2026-09-17): the unknown
 * workgroup, the unknown query id, the token checks, the idempotency mismatch, the cancelled query.
 */
const MESSAGES = {
  workGroupNotFound: 'WorkGroup is not found.',
  queryNotFound: (id: string) => `QueryExecution ${id} was not found`,
  idempotentMismatch: 'Idempotent parameters do not match',
  tokenMissing: 'clientRequestToken is null or empty',
  tokenLength: (bound: 'greater' | 'less', n: number) =>
    `1 validation error detected: Value at 'clientRequestToken' failed to satisfy constraint: Member must have length ${bound} than or equal to ${n}`,
  noOutputLocation:
    'No output location provided. You did not provide an output location for  your query results. Either specify an S3 bucket location or enable Athena managed query results in your workgroup settings.',
  cancelledByUser: 'Query cancelled by user',
  /** Athena, workgroups-setting-control-limits-cloudwatch: "If any query that runs in the workgroup exceeds the limit, it is canceled"; reason as Athena reports it. */
  bytesScannedLimit: 'Bytes scanned limit was exceeded',
  /** Athena, partition-projection-dynamic-id-partitioning. */
  injectedConstraint: (column: string) =>
    `CONSTRAINT_VIOLATION: For the injected projected partition column ${column}, the WHERE clause must contain only static equality conditions, and at least one such condition must be present.`,
  /** The CTAS wording of the check UNLOAD documents ("verifies that the bucket location is empty"); Athena's exact UNLOAD wording is not documented. */
  pathExists: (location: string) =>
    `HIVE_PATH_ALREADY_EXISTS: Target directory for UNLOAD already exists: ${location}. You may need to manually clean the data at location '${location}' before retrying. Athena will not delete data in your account.`,
} as const;

/** AthenaError.ErrorType of the errors athena-local measured (TABLE_NOT_FOUND, SCHEMA_NOT_FOUND: 1301); 1000 otherwise. */
const ERROR_TYPE = { notFound: 1301, user: 1000 } as const;

const TERMINAL: readonly QueryState[] = ['SUCCEEDED', 'FAILED', 'CANCELLED'];

// ---------------------------------------------------------------------------
// Small helpers

function parseS3Uri(uri: string): { bucket: string; key: string } {
  const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(uri);
  if (!m) throw new Error(`not an s3:// location: ${uri}`);
  return { bucket: m[1]!, key: m[2]! };
}

const withSlash = (prefix: string): string => (prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`);
const sqlString = (text: string): string => `'${text.replaceAll("'", "''")}'`;
const ident = (name: string): string => `"${name.replaceAll('"', '""')}"`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Hadoop's hidden-file rule, which Hive tables and so Athena follow: a file or folder whose name starts with "_" or "." is not data. */
const hiddenPath = (relative: string): boolean => relative.split('/').some((segment) => segment.startsWith('_') || segment.startsWith('.'));

// Trino's query ids (io.trino.execution.QueryIdGenerator): yyyyMMdd_HHmmss (UTC), a 5-digit counter that restarts each day,
// and 5 characters of a per-coordinator base-32 id; Trino's Hive writer names a file `<queryId>_<random UUID>`
// (HiveWriterFactory), which is how Athena's UNLOAD files are named.
const BASE_32 = 'abcdefghijkmnpqrstuvwxyz23456789';

class TrinoQueryIds {
  private readonly coordinator = Array.from({ length: 5 }, () => BASE_32[randomInt(32)]).join('');
  private day = '';
  private counter = 0;

  next(at: Date): string {
    const iso = at.toISOString();
    const day = iso.slice(0, 10);
    if (day !== this.day) {
      this.day = day;
      this.counter = 0;
    }
    const stamp = `${iso.slice(0, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}_${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}`;
    return `${stamp}_${String(this.counter++ % 100_000).padStart(5, '0')}_${this.coordinator}`;
  }
}

// ---------------------------------------------------------------------------
// Glue types and the relations of a SELECT

/** DuckDB's spelling of a Glue (Hive) column type. */
function duckType(glueType: string): string {
  const t = glueType.trim().toLowerCase();
  const decimal = /^decimal\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)$/.exec(t);
  if (decimal) return `DECIMAL(${decimal[1]}, ${decimal[2]})`;
  if (/^(varchar|char)\s*\(\s*\d+\s*\)$/.test(t)) return 'VARCHAR';
  const simple: Record<string, string> = {
    string: 'VARCHAR',
    int: 'INTEGER',
    integer: 'INTEGER',
    bigint: 'BIGINT',
    smallint: 'SMALLINT',
    tinyint: 'TINYINT',
    double: 'DOUBLE',
    float: 'FLOAT',
    boolean: 'BOOLEAN',
    // Athena types a Glue timestamp as timestamp(3) without a zone; files written with isAdjustedToUTC are cast in the session zone (UTC).
    timestamp: 'TIMESTAMP',
    date: 'DATE',
    binary: 'BLOB',
    decimal: 'DECIMAL(10, 0)',
  };
  const type = simple[t];
  if (!type) throw new QueryFailure(`NOT_SUPPORTED: the stand-in Athena server does not map the Glue type '${glueType}' to DuckDB`);
  return type;
}

/** A failure of the query itself (the query ends FAILED with this reason). */
class QueryFailure extends Error {
  readonly errorType: number;
  constructor(message: string, errorType: number = ERROR_TYPE.user) {
    super(message);
    this.errorType = errorType;
  }
}

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A table the SELECT names, and the WHERE conjuncts that restrict it (undefined: none the stand-in can use). */
interface TableReference {
  readonly database: string;
  readonly table: string;
  /** The names a column of this reference may be qualified with (alias, or table name). */
  readonly qualifiers: readonly string[];
  readonly conjuncts?: readonly Json[];
}

/**
 * The tables a SELECT names, from DuckDB's own parse tree (json_serialize_sql): every BASE_TABLE that is
 * not a CTE. A table that is the only relation of a SELECT (its FROM is that table) is restricted by
 * that SELECT's WHERE conjuncts: a row of the table that fails one of them cannot reach the result.
 */
function tableReferences(tree: unknown, contextDatabase: string): TableReference[] {
  const ctes = new Set<string>();
  const restricted = new Map<Json, readonly Json[]>();
  const tables: Json[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (!isObject(node)) return;
    const cteMap = node.cte_map;
    if (isObject(cteMap) && Array.isArray(cteMap.map)) for (const cte of cteMap.map) if (isObject(cte) && typeof cte.key === 'string') ctes.add(cte.key.toLowerCase());
    if (node.type === 'SELECT_NODE' && isObject(node.from_table) && node.from_table.type === 'BASE_TABLE') restricted.set(node.from_table, conjunctsOf(node.where_clause));
    if (node.type === 'BASE_TABLE') tables.push(node);
    Object.values(node).forEach(visit);
  };
  visit(tree);
  return tables
    .filter((t) => !(String(t.schema_name ?? '') === '' && ctes.has(String(t.table_name).toLowerCase())))
    .map((t) => {
      const table = String(t.table_name);
      const alias = String(t.alias ?? '');
      return {
        database: String(t.schema_name ?? '') || contextDatabase,
        table,
        qualifiers: [alias || table].map((q) => q.toLowerCase()),
        conjuncts: restricted.get(t),
      };
    });
}

function conjunctsOf(where: unknown): Json[] {
  if (!isObject(where)) return [];
  if (where.class === 'CONJUNCTION' && where.type === 'CONJUNCTION_AND' && Array.isArray(where.children)) return where.children.flatMap(conjunctsOf);
  return [where];
}

/** The column a COLUMN_REF names, if it is `column` of this reference (unqualified, or qualified by its alias or name). */
function refersTo(expr: unknown, column: string, qualifiers: readonly string[] | undefined): boolean {
  if (!isObject(expr) || expr.class !== 'COLUMN_REF' || !Array.isArray(expr.column_names)) return false;
  const names = expr.column_names.map((n) => String(n).toLowerCase());
  if (names[names.length - 1] !== column) return false;
  if (names.length === 1 || qualifiers === undefined) return true;
  return names.length === 2 && qualifiers.includes(names[0]!);
}

function varcharConstant(expr: unknown): string | undefined {
  if (!isObject(expr) || expr.class !== 'CONSTANT' || !isObject(expr.value)) return undefined;
  const v = expr.value;
  return isObject(v.type) && v.type.id === 'VARCHAR' && v.is_null === false && typeof v.value === 'string' ? v.value : undefined;
}

type Comparison = (value: string) => boolean;
const FLIP: Record<string, string> = {
  COMPARE_LESSTHAN: 'COMPARE_GREATERTHAN',
  COMPARE_GREATERTHAN: 'COMPARE_LESSTHAN',
  COMPARE_LESSTHANOREQUALTO: 'COMPARE_GREATERTHANOREQUALTO',
  COMPARE_GREATERTHANOREQUALTO: 'COMPARE_LESSTHANOREQUALTO',
  COMPARE_EQUAL: 'COMPARE_EQUAL',
};
const ascii = (s: string): boolean => /^[\x20-\x7e]*$/.test(s);

function comparison(op: string, constant: string): Comparison | undefined {
  // JavaScript compares strings by UTF-16 units and DuckDB by bytes: the same order for ASCII only.
  if (!ascii(constant)) return undefined;
  switch (op) {
    case 'COMPARE_EQUAL':
      return (v) => v === constant;
    case 'COMPARE_LESSTHAN':
      return (v) => v < constant;
    case 'COMPARE_LESSTHANOREQUALTO':
      return (v) => v <= constant;
    case 'COMPARE_GREATERTHAN':
      return (v) => v > constant;
    case 'COMPARE_GREATERTHANOREQUALTO':
      return (v) => v >= constant;
    default:
      return undefined;
  }
}

/** The conditions one reference's WHERE puts on a partition column (VARCHAR constants only); empty: none usable. */
function partitionConditions(ref: TableReference, column: string): Comparison[] {
  const out: Comparison[] = [];
  for (const c of ref.conjuncts ?? []) {
    if (c.class === 'COMPARISON' && typeof c.type === 'string' && FLIP[c.type]) {
      const left = refersTo(c.left, column, ref.qualifiers) ? varcharConstant(c.right) : undefined;
      const right = refersTo(c.right, column, ref.qualifiers) ? varcharConstant(c.left) : undefined;
      const test = left !== undefined ? comparison(c.type, left) : right !== undefined ? comparison(FLIP[c.type]!, right) : undefined;
      if (test) out.push(test);
    } else if (c.type === 'COMPARE_IN' && Array.isArray(c.children) && refersTo(c.children[0], column, ref.qualifiers)) {
      const values = c.children.slice(1).map(varcharConstant);
      if (values.every((v): v is string => v !== undefined && ascii(v))) out.push((v) => values.includes(v));
    } else if (c.type === 'COMPARE_BETWEEN' && refersTo(c.input, column, ref.qualifiers)) {
      const lower = varcharConstant(c.lower);
      const upper = varcharConstant(c.upper);
      if (lower !== undefined && upper !== undefined && ascii(lower) && ascii(upper)) out.push((v) => v >= lower && v <= upper);
    }
  }
  return out;
}

/** Every value an equality or IN anywhere in the SELECT gives the column: how Athena finds an injected partition's values. */
function injectedValues(tree: unknown, column: string): Set<string> {
  const values = new Set<string>();
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!isObject(node)) return;
    if (node.type === 'COMPARE_EQUAL') {
      if (refersTo(node.left, column, undefined)) addIf(values, varcharConstant(node.right));
      if (refersTo(node.right, column, undefined)) addIf(values, varcharConstant(node.left));
    }
    if (node.type === 'COMPARE_IN' && Array.isArray(node.children) && refersTo(node.children[0], column, undefined)) node.children.slice(1).forEach((c) => addIf(values, varcharConstant(c)));
    Object.values(node).forEach(visit);
  };
  visit(tree);
  return values;
}

const addIf = (set: Set<string>, value: string | undefined): void => {
  if (value !== undefined) set.add(value);
};

// ---------------------------------------------------------------------------
// Partition projection (Athena, partition-projection-supported-types)

interface ProjectedKey {
  readonly name: string;
  /** Whether a value found in a key belongs to the projection. */
  readonly accepts: (value: string) => boolean;
}

const JAVA_DATE_TOKENS: Record<string, string> = { yyyy: '(\\d{4})', MM: '(\\d{2})', dd: '(\\d{2})', HH: '(\\d{2})', mm: '(\\d{2})', ss: '(\\d{2})' };

/** A date in a projection's Java format (yyyy, MM, dd, HH, mm, ss), as a UTC Date. */
function dateParser(format: string): (text: string) => Date | undefined {
  const order: string[] = [];
  const pattern = format.replace(/yyyy|MM|dd|HH|mm|ss|[.*+?^${}()|[\]\\]/g, (token) => {
    const group = JAVA_DATE_TOKENS[token];
    if (group) {
      order.push(token);
      return group;
    }
    return `\\${token}`;
  });
  const re = new RegExp(`^${pattern}$`);
  return (text) => {
    const m = re.exec(text);
    if (!m) return undefined;
    const part = (token: string, fallback: number): number => {
      const i = order.indexOf(token);
      return i < 0 ? fallback : Number(m[i + 1]);
    };
    const date = new Date(Date.UTC(part('yyyy', 1970), part('MM', 1) - 1, part('dd', 1), part('HH', 0), part('mm', 0), part('ss', 0)));
    return Number.isNaN(date.getTime()) ? undefined : date;
  };
}

const UNIT_MS: Record<string, number> = { SECONDS: 1e3, MINUTES: 6e4, HOURS: 36e5, DAYS: 864e5, WEEKS: 6048e5 };

/** A bound of a date projection's range: a date in the format, or NOW with an optional offset (NOW-3DAYS). */
function rangeBound(text: string, parse: (t: string) => Date | undefined, now: Date): Date | undefined {
  const t = text.trim();
  const rel = /^NOW\s*(?:([+-])\s*(\d+)\s*(YEARS?|MONTHS?|WEEKS?|DAYS?|HOURS?|MINUTES?|SECONDS?))?$/i.exec(t);
  if (!rel) return parse(t);
  if (!rel[1]) return now;
  const n = Number(rel[2]) * (rel[1] === '-' ? -1 : 1);
  const unit = rel[3]!.toUpperCase().replace(/S?$/, 'S');
  const d = new Date(now);
  if (unit === 'YEARS') d.setUTCFullYear(d.getUTCFullYear() + n);
  else if (unit === 'MONTHS') d.setUTCMonth(d.getUTCMonth() + n);
  else d.setTime(d.getTime() + n * UNIT_MS[unit]!);
  return d;
}

function projectedKey(name: string, params: Record<string, string>, injected: Set<string> | undefined, now: Date): ProjectedKey {
  const p = (suffix: string): string | undefined => params[`projection.${name}.${suffix}`];
  const type = p('type')?.toLowerCase();
  switch (type) {
    case 'date': {
      const parse = dateParser(p('format') ?? 'yyyy-MM-dd');
      const [from, to] = (p('range') ?? '').split(',');
      const start = from === undefined ? undefined : rangeBound(from, parse, now);
      const end = to === undefined ? undefined : rangeBound(to, parse, now);
      return {
        name,
        accepts: (v) => {
          const d = parse(v);
          return d !== undefined && (start === undefined || d >= start) && (end === undefined || d <= end);
        },
      };
    }
    case 'integer': {
      const [min, max] = (p('range') ?? '').split(',').map(Number);
      return { name, accepts: (v) => /^-?\d+$/.test(v) && (min === undefined || Number(v) >= min) && (max === undefined || Number.isNaN(max) || Number(v) <= max) };
    }
    case 'enum': {
      const values = new Set((p('values') ?? '').split(',').map((v) => v.trim()));
      return { name, accepts: (v) => values.has(v) };
    }
    case 'injected':
      return { name, accepts: (v) => injected?.has(v) ?? false };
    default:
      throw new QueryFailure(`NOT_SUPPORTED: the stand-in Athena server does not project partition column ${name} of type '${type}'`);
  }
}

// ---------------------------------------------------------------------------
// The server

interface S3Object {
  readonly bucket: string;
  readonly key: string;
  readonly size: number;
  readonly etag: string;
}

/** One table as the query reads it: its Glue columns, and the objects of each partition it needs. */
interface TableInput {
  readonly database: string;
  readonly table: string;
  readonly columns: readonly { name: string; type: string }[];
  readonly partitionKeys: readonly { name: string; type: string }[];
  readonly partitions: readonly { values: readonly string[]; objects: readonly S3Object[] }[];
}

interface Execution {
  readonly id: string;
  readonly token: string;
  readonly query: string;
  readonly database?: string;
  readonly catalog?: string;
  readonly requestedOutputLocation?: string;
  readonly workgroup: string;
  readonly workgroupInfo: WorkGroup;
  readonly outputLocation: string;
  readonly bucket: string;
  readonly statement: UnloadStatement;
  readonly tree: unknown;
  state: QueryState;
  reason?: string;
  athenaError?: { ErrorCategory: number; ErrorType: number; Retryable: boolean; ErrorMessage: string };
  bytesScanned: number;
  reportedBytesScanned: number;
  readObjects: string[];
  outputObjects: string[];
  manifest?: string;
  metadata?: string;
  hooks: string[];
  readonly submitted: Date;
  started?: Date;
  completed?: Date;
  readonly abort: AbortController;
  connection?: DuckDBConnection;
  readonly done: Promise<void>;
  finish(): void;
}

interface FailRule {
  remaining: number;
  readonly match?: QueryMatch;
  readonly phase: HookPhase;
  readonly reason: string;
  readonly category: number;
  readonly type: number;
  readonly retryable: boolean;
  active: boolean;
}

interface HoldRule {
  remaining: number;
  readonly match?: QueryMatch;
  readonly phase: HookPhase;
  active: boolean;
  readonly held: Map<string, () => void>;
  readonly waiters: ((id: string) => void)[];
}

interface SlowRule {
  readonly ms: number;
  readonly match?: QueryMatch;
  active: boolean;
}

class StandIn {
  readonly s3: S3Client;
  readonly glue: GlueClient;
  readonly motoAthena: AthenaClient;
  readonly executions = new Map<string, Execution>();
  readonly log: Execution[] = [];
  readonly tokens = new Map<string, Promise<Execution>>();
  readonly queue: Execution[] = [];
  running = 0;
  readonly fails: FailRule[] = [];
  readonly holds: HoldRule[] = [];
  readonly slows: SlowRule[] = [];
  readonly ids = new TrinoQueryIds();
  readonly cacheDir: string;
  readonly downloads = new Map<string, Promise<string>>();
  readonly options: AthenaStandInOptions;
  readonly workDir: string;
  stopped = false;

  constructor(options: AthenaStandInOptions, workDir: string) {
    this.options = options;
    this.workDir = workDir;
    this.cacheDir = join(workDir, 'objects');
    const client = {
      endpoint: options.moto.endpoint,
      region: options.moto.region ?? 'us-east-1',
      credentials: options.moto.credentials ?? { accessKeyId: 'testing', secretAccessKey: 'testing' },
    };
    // Explicit endpoints: an AWS_ENDPOINT_URL_ATHENA in this process must not send the stand-in's own moto client to itself.
    this.s3 = new S3Client({ ...client, forcePathStyle: true });
    this.glue = new GlueClient(client);
    this.motoAthena = new AthenaClient(client);
  }

  // --- API operations -------------------------------------------------------

  async startQueryExecution(input: Json): Promise<Json> {
    const token = input.ClientRequestToken;
    if (token === undefined || token === null || typeof token !== 'string') throw invalid(MESSAGES.tokenMissing, 'INVALID_INPUT');
    if (token.length < 32) throw invalid(MESSAGES.tokenLength('greater', 32), 'INVALID_INPUT');
    if (token.length > 128) throw invalid(MESSAGES.tokenLength('less', 128), 'INVALID_INPUT');
    const query = input.QueryString;
    if (typeof query !== 'string' || query === '') throw invalid("1 validation error detected: Value at 'queryString' failed to satisfy constraint: Member must not be null", 'INVALID_INPUT');
    const context = isObject(input.QueryExecutionContext) ? input.QueryExecutionContext : {};
    const database = typeof context.Database === 'string' ? context.Database : undefined;
    const resultConfiguration = isObject(input.ResultConfiguration) ? input.ResultConfiguration : {};
    const requestedOutputLocation = typeof resultConfiguration.OutputLocation === 'string' ? resultConfiguration.OutputLocation : undefined;

    const known = this.tokens.get(token);
    if (known) {
      const existing = await known.catch(() => undefined);
      if (existing) {
        // Athena compares the query, the database and the output location of a retried token (athena-local, measured); not the workgroup.
        if (existing.query !== query || existing.database !== database || existing.requestedOutputLocation !== requestedOutputLocation) {
          throw invalid(MESSAGES.idempotentMismatch, 'IDEMPOTENT_PARAMETER_MISMATCH');
        }
        return { QueryExecutionId: existing.id };
      }
    }
    const creating = this.create(input, token, query, database, requestedOutputLocation, context);
    this.tokens.set(token, creating);
    try {
      const execution = await creating;
      return { QueryExecutionId: execution.id };
    } catch (error) {
      if (this.tokens.get(token) === creating) this.tokens.delete(token);
      throw error;
    }
  }

  private async create(input: Json, token: string, query: string, database: string | undefined, requestedOutputLocation: string | undefined, context: Json): Promise<Execution> {
    if (this.stopped) throw new AthenaApiError('InternalServerException', 'the stand-in Athena server is stopping');
    const workgroup = typeof input.WorkGroup === 'string' && input.WorkGroup !== '' ? input.WorkGroup : 'primary';
    const { WorkGroup: workgroupInfo } = await this.motoAthena.send(new GetWorkGroupCommand({ WorkGroup: workgroup }));
    // moto answers an unknown workgroup with {"WorkGroup": null}; Athena with this error.
    if (!workgroupInfo?.Name) throw invalid(MESSAGES.workGroupNotFound, 'INVALID_INPUT');
    if (Array.isArray(input.ExecutionParameters) && input.ExecutionParameters.length > 0) {
      throw invalid('NOT_SUPPORTED: the stand-in Athena server does not bind ExecutionParameters');
    }
    let parsed: ReturnType<typeof parseAthenaUnload>;
    try {
      parsed = parseAthenaUnload(query);
    } catch (error) {
      throw invalid(`NOT_SUPPORTED: the stand-in Athena server runs only the lake's UNLOAD statements (src/maintenance/engine.ts): ${(error as Error).message}`);
    }
    // Athena refuses a statement that does not parse at StartQueryExecution (MALFORMED_QUERY), before any query exists.
    const tree = await parseTree(parsed.statement.select);
    const configuration = workgroupInfo.Configuration ?? {};
    const workgroupLocation = configuration.ResultConfiguration?.OutputLocation;
    const location = configuration.EnforceWorkGroupConfiguration ? (workgroupLocation ?? requestedOutputLocation) : (requestedOutputLocation ?? workgroupLocation);
    if (!location) throw invalid(MESSAGES.noOutputLocation, 'INVALID_INPUT');
    if (!/^s3:\/\/[^/]+/.test(location)) throw invalid('outputLocation is not a valid S3 path.', 'INVALID_INPUT');

    let finish!: () => void;
    const done = new Promise<void>((resolve) => (finish = resolve));
    const execution: Execution = {
      id: randomUUID(),
      token,
      query,
      database,
      catalog: typeof context.Catalog === 'string' ? context.Catalog : undefined,
      requestedOutputLocation,
      workgroup,
      workgroupInfo,
      outputLocation: withSlash(location),
      bucket: parsed.bucket,
      statement: parsed.statement,
      tree,
      state: 'QUEUED',
      bytesScanned: 0,
      reportedBytesScanned: 0,
      readObjects: [],
      outputObjects: [],
      hooks: [],
      submitted: new Date(),
      abort: new AbortController(),
      done,
      finish,
    };
    this.executions.set(execution.id, execution);
    this.log.push(execution);
    this.queue.push(execution);
    setImmediate(() => this.pump());
    return execution;
  }

  getQueryExecution(input: Json): Json {
    const execution = this.find(input.QueryExecutionId);
    const now = Date.now();
    const end = execution.completed?.getTime() ?? now;
    const started = execution.started?.getTime();
    const engine = execution.workgroupInfo.Configuration?.EngineVersion;
    const selected = engine?.SelectedEngineVersion ?? 'AUTO';
    const encryption = execution.workgroupInfo.Configuration?.ResultConfiguration?.EncryptionConfiguration;
    return {
      QueryExecution: {
        QueryExecutionId: execution.id,
        Query: execution.query,
        StatementType: 'DML',
        ResultConfiguration: {
          // The file Athena would write for the query: for an INSERT (which, like UNLOAD, returns no rows) `<location><id>` (athena-local, measured).
          OutputLocation: `${execution.outputLocation}${execution.id}`,
          ...(encryption ? { EncryptionConfiguration: encryption } : {}),
        },
        QueryExecutionContext: { ...(execution.database ? { Database: execution.database } : {}), ...(execution.catalog ? { Catalog: execution.catalog } : {}) },
        Status: {
          State: execution.state,
          ...(execution.reason ? { StateChangeReason: execution.reason } : {}),
          SubmissionDateTime: execution.submitted.getTime() / 1000,
          ...(execution.completed ? { CompletionDateTime: execution.completed.getTime() / 1000 } : {}),
          ...(execution.athenaError ? { AthenaError: execution.athenaError } : {}),
        },
        Statistics: {
          EngineExecutionTimeInMillis: started === undefined ? 0 : end - started,
          DataScannedInBytes: execution.reportedBytesScanned,
          TotalExecutionTimeInMillis: end - execution.submitted.getTime(),
          QueryQueueTimeInMillis: (started ?? end) - execution.submitted.getTime(),
          ...(execution.manifest ? { DataManifestLocation: execution.manifest } : {}),
        },
        WorkGroup: execution.workgroup,
        EngineVersion: {
          SelectedEngineVersion: selected,
          EffectiveEngineVersion: engine?.EffectiveEngineVersion ?? (selected === 'AUTO' ? 'Athena engine version 3' : selected),
        },
      },
    };
  }

  stopQueryExecution(input: Json): Json {
    const execution = this.find(input.QueryExecutionId);
    this.cancel(execution, MESSAGES.cancelledByUser);
    return {};
  }

  private find(id: unknown): Execution {
    if (typeof id !== 'string' || id === '') throw invalid("1 validation error detected: Value at 'queryExecutionId' failed to satisfy constraint: Member must not be null", 'INVALID_INPUT');
    const execution = this.executions.get(id);
    if (!execution) throw invalid(MESSAGES.queryNotFound(id), 'QUERY_EXECUTION_NOT_FOUND');
    return execution;
  }

  // --- states -----------------------------------------------------------------

  /** A queued or running query becomes CANCELLED at once; a finished one stays as it was. */
  cancel(execution: Execution, reason: string): void {
    if (TERMINAL.includes(execution.state)) return;
    const queued = this.queue.indexOf(execution);
    if (queued >= 0) this.queue.splice(queued, 1);
    this.end(execution, 'CANCELLED', reason);
    execution.abort.abort();
    try {
      execution.connection?.interrupt();
    } catch {
      // the connection may be closing
    }
    for (const hold of this.holds) hold.held.get(execution.id)?.();
    if (queued >= 0) execution.finish();
  }

  private end(execution: Execution, state: QueryState, reason?: string, error?: { category: number; type: number; retryable: boolean }): void {
    if (TERMINAL.includes(execution.state)) return;
    execution.state = state;
    if (reason !== undefined) execution.reason = reason;
    if (state === 'FAILED' && reason !== undefined) {
      execution.athenaError = { ErrorCategory: error?.category ?? 2, ErrorType: error?.type ?? ERROR_TYPE.user, Retryable: error?.retryable ?? false, ErrorMessage: reason };
    }
    execution.completed = new Date();
  }

  private pump(): void {
    const limit = Math.max(1, this.options.concurrency ?? 1);
    while (this.running < limit && this.queue.length > 0) {
      const execution = this.queue.shift()!;
      this.running++;
      void this.run(execution).finally(() => {
        this.running--;
        execution.finish();
        this.pump();
      });
    }
  }

  private async run(execution: Execution): Promise<void> {
    execution.state = 'RUNNING';
    execution.started = new Date();
    const dir = join(this.workDir, `query-${execution.id}`);
    let outcome: { state: QueryState; reason?: string; error?: { category: number; type: number; retryable: boolean } } = { state: 'SUCCEEDED' };
    try {
      await this.execute(execution, dir);
    } catch (error) {
      if (error instanceof QueryCancelled) outcome = { state: 'CANCELLED', reason: error.message };
      else if (error instanceof InjectedFailure) outcome = { state: 'FAILED', reason: error.message, error: error.athenaError };
      else if (error instanceof QueryFailure) outcome = { state: 'FAILED', reason: error.message, error: { category: 2, type: error.errorType, retryable: false } };
      else outcome = { state: 'FAILED', reason: (error as Error).message, error: { category: 2, type: ERROR_TYPE.user, retryable: false } };
    } finally {
      execution.connection = undefined;
      await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    }
    // A query that ended by itself (not cancelled) stays RUNNING at least the minimum time.
    if (!TERMINAL.includes(execution.state)) await this.waitMinimum(execution);
    this.end(execution, outcome.state, outcome.reason, outcome.error);
  }

  private async waitMinimum(execution: Execution): Promise<void> {
    const rules = this.slows.filter((s) => s.active && (!s.match || s.match(entry(execution))));
    if (rules.length > 0) execution.hooks.push('slow');
    const minimum = Math.max(this.options.minimumRunningMs ?? 0, ...rules.map((s) => s.ms));
    const left = execution.started!.getTime() + minimum - Date.now();
    if (left > 0) await abortableSleep(left, execution.abort.signal);
  }

  // --- running an UNLOAD --------------------------------------------------------

  private async execute(execution: Execution, dir: string): Promise<void> {
    const checkCancel = (): void => {
      if (execution.abort.signal.aborted) throw new QueryCancelled(execution.reason ?? MESSAGES.cancelledByUser);
    };
    const tables = await this.resolveTables(execution);
    checkCancel();

    // "The TO destination must specify a location in Amazon S3 that has no data" (Athena, UNLOAD).
    const destination = `s3://${execution.bucket}/${execution.statement.destination}`;
    const existing = await this.s3.send(new ListObjectsV2Command({ Bucket: execution.bucket, Prefix: execution.statement.destination, MaxKeys: 1 }));
    if ((existing.KeyCount ?? existing.Contents?.length ?? 0) > 0) throw new QueryFailure(MESSAGES.pathExists(destination));

    const objects = tables.flatMap((t) => t.partitions.flatMap((p) => p.objects));
    const bytes = objects.reduce((sum, o) => sum + o.size, 0);
    const cutoff = execution.workgroupInfo.Configuration?.BytesScannedCutoffPerQuery;
    if (cutoff !== undefined && cutoff !== null && bytes > cutoff) {
      // Athena stops the scan at the limit and reports the limit as the data scanned.
      execution.bytesScanned = cutoff;
      execution.reportedBytesScanned = cutoff;
      throw new QueryCancelled(MESSAGES.bytesScannedLimit);
    }

    await this.hooks(execution, 'before-output');
    checkCancel();

    const local = new Map<S3Object, string>();
    await mapLimit(objects, 4, async (o) => {
      local.set(o, await this.download(o));
      checkCancel();
    });
    execution.readObjects = objects.map((o) => `s3://${o.bucket}/${o.key}`);
    execution.bytesScanned = bytes;
    execution.reportedBytesScanned = bytes;

    const outRoot = join(dir, 'out');
    const files = await this.runDuckDb(execution, dir, outRoot, tables, local);
    checkCancel();

    // The data files, under Athena's names; a file of no rows is not written (Trino's writers open a file on the first row).
    const base = this.ids.next(execution.started!);
    for (const file of files) {
      checkCancel();
      const key = `${execution.statement.destination}${base}_${randomUUID()}`;
      await this.s3.send(new PutObjectCommand({ Bucket: execution.bucket, Key: key, Body: await readFile(file) }));
      execution.outputObjects.push(`s3://${execution.bucket}/${key}`);
    }

    const { bucket: resultsBucket, key: resultsPrefix } = parseS3Uri(execution.outputLocation);
    const writeManifest = async (): Promise<void> => {
      // "The manifest tracks files that the query wrote" (Athena, UNLOAD): one s3:// URI a line, saved in the query result location.
      const key = `${resultsPrefix}${execution.id}-manifest.csv`;
      await this.s3.send(new PutObjectCommand({ Bucket: resultsBucket, Key: key, Body: execution.outputObjects.map((o) => `${o}\n`).join(''), ContentType: 'text/csv' }));
      execution.manifest = `s3://${resultsBucket}/${key}`;
    };
    try {
      await this.hooks(execution, 'after-output');
    } catch (error) {
      // "If the query fails, the manifest also tracks files that the query intended to write" (QueryExecutionStatistics.DataManifestLocation).
      if (error instanceof InjectedFailure) await writeManifest();
      throw error;
    }
    checkCancel();
    await writeManifest();
    const metadataKey = `${resultsPrefix}${execution.id}.metadata`;
    const metadata = { queryExecutionId: execution.id, engineQueryId: base, statementType: 'UNLOAD', note: 'written by the stand-in Athena server (test/support/athena-server.ts); Athena writes a binary file here' };
    await this.s3.send(new PutObjectCommand({ Bucket: resultsBucket, Key: metadataKey, Body: JSON.stringify(metadata), ContentType: 'application/octet-stream' }));
    execution.metadata = `s3://${resultsBucket}/${metadataKey}`;
  }

  /** Applies the fail and hold hooks of a phase. */
  private async hooks(execution: Execution, phase: HookPhase): Promise<void> {
    const view = entry(execution);
    const fail = this.fails.find((f) => f.active && f.phase === phase && f.remaining > 0 && (!f.match || f.match(view)));
    if (fail) {
      fail.remaining--;
      execution.hooks.push('fail');
      throw new InjectedFailure(fail.reason, { category: fail.category, type: fail.type, retryable: fail.retryable });
    }
    const hold = this.holds.find((h) => h.active && h.phase === phase && h.remaining > 0 && (!h.match || h.match(view)));
    if (hold) {
      hold.remaining--;
      execution.hooks.push('hold');
      await new Promise<void>((resolve) => {
        hold.held.set(execution.id, resolve);
        hold.waiters.splice(0).forEach((w) => w(execution.id));
        if (execution.abort.signal.aborted) resolve();
      });
      hold.held.delete(execution.id);
    }
  }

  /** The Glue tables the SELECT names, and the objects of the partitions it can read. */
  private async resolveTables(execution: Execution): Promise<TableInput[]> {
    const context = execution.database ?? 'default';
    const references = tableReferences(execution.tree, context);
    const byTable = new Map<string, TableReference[]>();
    for (const r of references) {
      const k = `${r.database.toLowerCase()}\0${r.table.toLowerCase()}`;
      byTable.set(k, [...(byTable.get(k) ?? []), r]);
    }
    const tables: TableInput[] = [];
    for (const refs of byTable.values()) tables.push(await this.tableInput(execution, refs));
    return tables;
  }

  private async tableInput(execution: Execution, refs: readonly TableReference[]): Promise<TableInput> {
    const { database, table: name } = refs[0]!;
    let table: Table | undefined;
    try {
      table = (await this.glue.send(new GetTableCommand({ DatabaseName: database, Name: name }))).Table;
    } catch (error) {
      if ((error as Error).name !== 'EntityNotFoundException') throw error;
      const message = (error as Error).message;
      throw new QueryFailure(
        /database/i.test(message) && !/table/i.test(message)
          ? `SCHEMA_NOT_FOUND: Schema '${database}' does not exist`
          : `TABLE_NOT_FOUND: Table 'awsdatacatalog.${database}.${name}' does not exist`,
        ERROR_TYPE.notFound,
      );
    }
    if (!table) throw new QueryFailure(`TABLE_NOT_FOUND: Table 'awsdatacatalog.${database}.${name}' does not exist`, ERROR_TYPE.notFound);
    if (table.TableType === 'VIRTUAL_VIEW') throw new QueryFailure(`NOT_SUPPORTED: the stand-in Athena server does not expand Glue views (${database}.${name})`);
    const location = table.StorageDescriptor?.Location;
    if (!location) throw new QueryFailure(`the Glue table ${database}.${name} has no StorageDescriptor.Location`);
    const columns = (table.StorageDescriptor?.Columns ?? []).map((c) => ({ name: c.Name!.toLowerCase(), type: c.Type ?? 'string' }));
    const partitionKeys = (table.PartitionKeys ?? []).map((c) => ({ name: c.Name!.toLowerCase(), type: c.Type ?? 'string' }));
    const params = table.Parameters ?? {};

    let partitions: { values: string[]; objects: S3Object[] }[];
    if (partitionKeys.length === 0) {
      partitions = [{ values: [], objects: (await this.listData(location)).map((o) => o.object) }];
    } else if ((params['projection.enabled'] ?? '').toLowerCase() === 'true') {
      partitions = await this.projectedPartitions(execution, location, partitionKeys, params);
    } else {
      partitions = await this.cataloguedPartitions(database, name);
    }

    // Only the partitions some reference to the table can read: a reference whose WHERE puts no usable
    // condition on a string partition key may read all of them.
    const needed = partitions.filter((p) =>
      refs.some((ref) =>
        partitionKeys.every((key, i) => {
          if (!/^(string|varchar.*|char.*)$/i.test(key.type)) return true;
          return partitionConditions(ref, key.name).every((test) => test(p.values[i]!));
        }),
      ),
    );
    return { database, table: name, columns, partitionKeys, partitions: needed };
  }

  private async projectedPartitions(execution: Execution, location: string, keys: readonly { name: string }[], params: Record<string, string>): Promise<{ values: string[]; objects: S3Object[] }[]> {
    const now = new Date();
    const projected = keys.map((k) => {
      const injected = params[`projection.${k.name}.type`]?.toLowerCase() === 'injected' ? injectedValues(execution.tree, k.name) : undefined;
      if (injected && injected.size === 0) throw new QueryFailure(MESSAGES.injectedConstraint(k.name));
      return projectedKey(k.name, params, injected, now);
    });
    // Athena computes each partition's location from storage.location.template (default: Hive-style folders under the table's location).
    const template = params['storage.location.template'] ?? `${withSlash(location)}${keys.map((k) => `${k.name}=\${${k.name}}`).join('/')}/`;
    const names: string[] = [];
    const pattern = template.replace(/\$\{([^}]+)\}|[.*+?^$()|[\]\\{}]/g, (token, name: string | undefined) => {
      if (name === undefined) return `\\${token}`;
      names.push(name.toLowerCase());
      return '([^/]+)';
    });
    const re = new RegExp(`^${pattern}${template.endsWith('/') ? '' : '/'}(.+)$`);
    const fixed = template.slice(0, template.indexOf('${') >= 0 ? template.indexOf('${') : template.length);
    const partitions = new Map<string, { values: string[]; objects: S3Object[] }>();
    for (const { object } of await this.listData(fixed.slice(0, fixed.lastIndexOf('/') + 1))) {
      const m = re.exec(`s3://${object.bucket}/${object.key}`);
      if (!m) continue;
      const found = Object.fromEntries(names.map((n, i) => [n, m[i + 1]!]));
      const rest = m[names.length + 1]!;
      if (hiddenPath(rest)) continue;
      const values = keys.map((k) => found[k.name]);
      if (values.some((v) => v === undefined)) continue;
      if (!projected.every((p, i) => p.accepts(values[i]!))) continue;
      const id = values.join('\0');
      const partition = partitions.get(id) ?? { values: values as string[], objects: [] };
      partition.objects.push(object);
      partitions.set(id, partition);
    }
    return [...partitions.values()];
  }

  private async cataloguedPartitions(database: string, table: string): Promise<{ values: string[]; objects: S3Object[] }[]> {
    const all: Partition[] = [];
    let token: string | undefined;
    do {
      const page = await this.glue.send(new GetPartitionsCommand({ DatabaseName: database, TableName: table, NextToken: token }));
      all.push(...(page.Partitions ?? []));
      token = page.NextToken;
    } while (token);
    const out: { values: string[]; objects: S3Object[] }[] = [];
    for (const p of all) {
      const location = p.StorageDescriptor?.Location;
      if (!location) continue;
      out.push({ values: p.Values ?? [], objects: (await this.listData(location)).map((o) => o.object) });
    }
    return out;
  }

  /** The data objects under a location, recursively, as Athena reads a folder: not hidden, not folder markers, not empty. */
  private async listData(location: string): Promise<{ object: S3Object }[]> {
    const { bucket, key: prefix } = parseS3Uri(withSlash(location));
    const out: { object: S3Object }[] = [];
    let token: string | undefined;
    do {
      const page = await this.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
      for (const o of page.Contents ?? []) {
        const key = o.Key!;
        if (key.endsWith('/') || (o.Size ?? 0) === 0 || hiddenPath(key.slice(prefix.length))) continue;
        out.push({ object: { bucket, key, size: o.Size ?? 0, etag: o.ETag ?? '' } });
      }
      token = page.NextContinuationToken;
    } while (token);
    return out;
  }

  /** An object's bytes in the local cache (objects are read once per version: bucket, key, ETag, size). */
  private download(o: S3Object): Promise<string> {
    const name = createHash('sha256').update(`${o.bucket}\0${o.key}\0${o.etag}\0${o.size}`).digest('hex');
    const path = join(this.cacheDir, name);
    let pending = this.downloads.get(name);
    if (!pending) {
      pending = (async () => {
        const exists = await stat(path).catch(() => undefined);
        if (exists?.size === o.size) return path;
        const part = `${path}.${randomUUID()}.part`;
        const res = await this.s3.send(new GetObjectCommand({ Bucket: o.bucket, Key: o.key }));
        await pipeline(res.Body as Readable, createWriteStream(part));
        await rename(part, path);
        return path;
      })();
      pending.catch(() => this.downloads.delete(name));
      this.downloads.set(name, pending);
    }
    return pending;
  }

  /** Runs duckdbCopySql over views of the tables; returns the written files that hold rows, in order. */
  private async runDuckDb(execution: Execution, dir: string, outRoot: string, tables: readonly TableInput[], local: ReadonlyMap<S3Object, string>): Promise<string[]> {
    await mkdir(join(dir, 'spill'), { recursive: true });
    const destinationFolder = join(outRoot, execution.statement.destination);
    await mkdir(join(destinationFolder, '..'), { recursive: true });
    const instance = await DuckDBInstance.create(':memory:', {
      memory_limit: this.options.memoryLimit ?? '256MB',
      threads: String(this.options.threads ?? 2),
      temp_directory: join(dir, 'spill'),
      // As DuckDbLake runs the same COPY: FILE_SIZE_BYTES needs it off, and a SELECT with ORDER BY keeps its order anyway
      // (DuckDB preserves the order of an ordered plan whatever the setting).
      preserve_insertion_order: 'false',
    });
    const connection = await instance.connect();
    execution.connection = connection;
    try {
      await connection.run("SET TimeZone = 'UTC'");
      const schemas = new Set([execution.database ?? 'default', ...tables.map((t) => t.database)].map((s) => s.toLowerCase()));
      for (const schema of schemas) await connection.run(`CREATE SCHEMA IF NOT EXISTS ${ident(schema)}`);
      await connection.run(`SET schema = ${sqlString((execution.database ?? 'default').toLowerCase())}`);
      for (const table of tables) await connection.run(`CREATE VIEW ${ident(table.database.toLowerCase())}.${ident(table.table.toLowerCase())} AS ${await relationSql(connection, table, local)}`);
      const targetBytes = this.options.targetFileBytes ?? execution.statement.targetBytes;
      try {
        await connection.run(duckdbCopySql({ ...execution.statement, targetBytes }, outRoot));
      } catch (error) {
        if (execution.abort.signal.aborted) throw new QueryCancelled(execution.reason ?? MESSAGES.cancelledByUser);
        throw new QueryFailure((error as Error).message);
      }
      const written = (await readdir(destinationFolder).catch(() => [] as string[]))
        .map((f) => join(destinationFolder, f))
        .sort((a, b) => fileIndex(a) - fileIndex(b));
      if (written.length === 0) return [];
      const counts = await connection.runAndReadAll(`SELECT file_name, num_rows FROM parquet_file_metadata([${written.map(sqlString).join(', ')}])`);
      const rows = new Map(counts.getRowObjectsJS().map((r) => [String(r.file_name), Number(r.num_rows)]));
      return written.filter((f) => (rows.get(f) ?? 0) > 0);
    } finally {
      connection.closeSync();
      instance.closeSync();
    }
  }

  // --- hooks and the log ---------------------------------------------------------

  async stop(): Promise<void> {
    this.stopped = true;
    for (const execution of this.log) this.cancel(execution, 'the stand-in Athena server stopped');
    await Promise.race([Promise.all(this.log.map((e) => e.done)), sleep(10_000)]);
  }
}

class QueryCancelled extends Error {}

class InjectedFailure extends Error {
  readonly athenaError: { category: number; type: number; retryable: boolean };
  constructor(reason: string, athenaError: { category: number; type: number; retryable: boolean }) {
    super(reason);
    this.athenaError = athenaError;
  }
}

/** The number DuckDB gives a file it writes (data_<n>.parquet). */
const fileIndex = (path: string): number => Number(/(\d+)\.parquet$/.exec(path)?.[1] ?? 0);

/**
 * The SQL of a view over a table's downloaded objects, as Athena reads a Hive table: the Glue columns in
 * order, matched by name (a column no file of a partition has reads as NULL), each cast to its Glue type
 * (timestamps in the session zone, UTC); the partition keys as the partition's values, one UNION ALL
 * branch a partition. A table with no objects is an empty relation of the same columns.
 */
async function relationSql(connection: DuckDBConnection, table: TableInput, local: ReadonlyMap<S3Object, string>): Promise<string> {
  const types = new Map([...table.columns, ...table.partitionKeys].map((c) => [c.name, duckType(c.type)]));
  const empty = (): string =>
    `SELECT ${[...table.columns, ...table.partitionKeys].map((c) => `CAST(NULL AS ${types.get(c.name)}) AS ${ident(c.name)}`).join(', ')} WHERE false`;
  const branches: string[] = [];
  for (const partition of table.partitions) {
    if (partition.objects.length === 0) continue;
    const files = `read_parquet([${partition.objects.map((o) => sqlString(local.get(o)!)).join(', ')}], union_by_name = true)`;
    const described = await connection.runAndReadAll(`DESCRIBE SELECT * FROM ${files}`);
    const present = new Set(described.getRowObjectsJS().map((r) => String(r.column_name).toLowerCase()));
    const select = [
      ...table.columns.map((c) => (present.has(c.name) ? `CAST(${ident(c.name)} AS ${types.get(c.name)}) AS ${ident(c.name)}` : `CAST(NULL AS ${types.get(c.name)}) AS ${ident(c.name)}`)),
      ...table.partitionKeys.map((k, i) => `CAST(${sqlString(partition.values[i]!)} AS ${types.get(k.name)}) AS ${ident(k.name)}`),
    ];
    branches.push(`SELECT ${select.join(', ')} FROM ${files}`);
  }
  return branches.length === 0 ? empty() : branches.join('\nUNION ALL\n');
}

/** DuckDB's parse tree of the SELECT; a syntax error is Athena's MALFORMED_QUERY at StartQueryExecution. */
async function parseTree(select: string): Promise<unknown> {
  const instance = await DuckDBInstance.create(':memory:');
  const connection = await instance.connect();
  try {
    const reader = await connection.runAndReadAll(`SELECT json_serialize_sql(${sqlString(select)}) AS tree`);
    const tree = JSON.parse(String(reader.getRowObjectsJS()[0]?.tree)) as Json;
    if (tree.error) throw invalid(`${String(tree.error_subtype ?? 'SYNTAX_ERROR')}: ${String(tree.error_message)} (DuckDB's parser, at character ${String(tree.position ?? '?')} of the SELECT)`, 'MALFORMED_QUERY');
    return tree;
  } finally {
    connection.closeSync();
    instance.closeSync();
  }
}

async function mapLimit<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

function entry(e: Execution): QueryLogEntry {
  return {
    id: e.id,
    token: e.token,
    query: e.query,
    workgroup: e.workgroup,
    ...(e.database !== undefined ? { database: e.database } : {}),
    bucket: e.bucket,
    statement: e.statement,
    outputLocation: e.outputLocation,
    state: e.state,
    ...(e.reason !== undefined ? { reason: e.reason } : {}),
    bytesScanned: e.bytesScanned,
    reportedBytesScanned: e.reportedBytesScanned,
    readObjects: [...e.readObjects],
    outputObjects: [...e.outputObjects],
    ...(e.manifest ? { manifest: e.manifest } : {}),
    ...(e.metadata ? { metadata: e.metadata } : {}),
    hooks: [...e.hooks],
    submitted: e.submitted,
    ...(e.started ? { started: e.started } : {}),
    ...(e.completed ? { completed: e.completed } : {}),
  };
}

// ---------------------------------------------------------------------------
// HTTP: AWS JSON 1.1

const OPERATIONS = ['StartQueryExecution', 'GetQueryExecution', 'StopQueryExecution'] as const;

function send(res: ServerResponse, status: number, body: Json, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': Buffer.byteLength(text), 'x-amzn-requestid': randomUUID(), ...headers });
  res.end(text);
}

function sendError(res: ServerResponse, error: AthenaApiError): void {
  send(res, error.type === 'InternalServerException' ? 500 : 400, { __type: error.type, Message: error.message, ...(error.code ? { AthenaErrorCode: error.code, ErrorCode: error.code } : {}) }, { 'x-amzn-errortype': error.type });
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startAthenaStandIn(options: AthenaStandInOptions): Promise<AthenaStandIn> {
  const workDir = options.workDir ?? (await mkdtemp(join(tmpdir(), 'ddb-flatten-athena-')));
  // The work folder's paths go into DuckDB's read_parquet lists, which read glob characters as globs.
  if (/[*?[\]{}]/.test(workDir)) throw new Error(`the stand-in's work folder must not contain glob characters: ${workDir}`);
  await mkdir(join(workDir, 'objects'), { recursive: true });
  const standIn = new StandIn(options, workDir);

  const server = createServer((req, res) => {
    void (async () => {
      try {
        const target = req.headers['x-amz-target'];
        const body = await readBody(req);
        const operation = typeof target === 'string' && target.startsWith('AmazonAthena.') ? target.slice('AmazonAthena.'.length) : undefined;
        if (req.method !== 'POST' || operation === undefined) {
          throw new AthenaApiError('UnknownOperationException', `the stand-in Athena server answers AWS JSON 1.1 POST requests with X-Amz-Target: AmazonAthena.<operation>; got ${req.method} ${req.url} with X-Amz-Target ${String(target)}`);
        }
        if (!(OPERATIONS as readonly string[]).includes(operation)) {
          throw new AthenaApiError('UnknownOperationException', `the stand-in Athena server does not implement ${operation}: it answers ${OPERATIONS.join(', ')} (test/support/athena-server.ts)`);
        }
        let input: unknown;
        try {
          input = body === '' ? {} : JSON.parse(body);
        } catch {
          throw new AthenaApiError('SerializationException', `the body of ${operation} is not JSON`);
        }
        if (!isObject(input)) throw new AthenaApiError('SerializationException', `the body of ${operation} is not a JSON object`);
        const output =
          operation === 'StartQueryExecution'
            ? await standIn.startQueryExecution(input)
            : operation === 'GetQueryExecution'
              ? standIn.getQueryExecution(input)
              : standIn.stopQueryExecution(input);
        send(res, 200, output);
      } catch (error) {
        sendError(res, error instanceof AthenaApiError ? error : new AthenaApiError('InternalServerException', (error as Error).message));
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const endpoint = `http://127.0.0.1:${port}`;
  const cleanup = (): void => rmSync(workDir, { recursive: true, force: true });
  process.once('exit', cleanup);

  const hookOf = (rule: { active: boolean }): Hook => ({
    remove() {
      rule.active = false;
    },
  });

  const api: AthenaStandIn = {
    endpoint,
    port,
    clientConfig: { endpoint, region: options.moto.region ?? 'us-east-1', credentials: { ...(options.moto.credentials ?? { accessKeyId: 'testing', secretAccessKey: 'testing' }) } },
    env: { AWS_ENDPOINT_URL_ATHENA: endpoint },
    queries: () => standIn.log.map(entry),
    query: (id) => {
      const e = standIn.executions.get(id);
      return e ? entry(e) : undefined;
    },
    async whenDone(id) {
      const e = standIn.executions.get(id);
      if (!e) throw new Error(`the stand-in Athena server has no query ${id}`);
      while (!TERMINAL.includes(e.state)) await Promise.race([e.done, sleep(20)]);
      return entry(e);
    },
    failNext(reason, o = {}) {
      const rule: FailRule = {
        remaining: o.count ?? 1,
        match: o.match,
        phase: o.phase ?? 'before-output',
        reason,
        category: o.errorCategory ?? 2,
        type: o.errorType ?? ERROR_TYPE.user,
        retryable: o.retryable ?? false,
        active: true,
      };
      standIn.fails.push(rule);
      return hookOf(rule);
    },
    failWhen(match, reason, o = {}) {
      return api.failNext(reason, { ...o, count: o.count ?? Number.POSITIVE_INFINITY, match });
    },
    slowDown(ms, match) {
      const rule: SlowRule = { ms, match, active: true };
      standIn.slows.push(rule);
      return hookOf(rule);
    },
    hold(o = {}) {
      const rule: HoldRule = { remaining: o.count ?? Number.POSITIVE_INFINITY, match: o.match, phase: o.phase ?? 'before-output', active: true, held: new Map(), waiters: [] };
      standIn.holds.push(rule);
      const release = (): void => {
        rule.active = false;
        for (const resume of rule.held.values()) resume();
      };
      return {
        release,
        remove: release,
        get held() {
          return [...rule.held.keys()];
        },
        waitUntilHeld(timeoutMs = 30_000) {
          const first = rule.held.keys().next();
          if (!first.done) return Promise.resolve(first.value);
          return new Promise<string>((resolve, reject) => {
            const timer = setTimeout(() => reject(new Error(`no query was held within ${timeoutMs} ms`)), timeoutMs);
            rule.waiters.push((id) => {
              clearTimeout(timer);
              resolve(id);
            });
          });
        },
      };
    },
    async stop() {
      await standIn.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      process.removeListener('exit', cleanup);
      await rm(workDir, { recursive: true, force: true });
    },
  };
  return api;
}
