import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, readSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parquetMetadata } from 'hyparquet';
import type { ChildReport } from './child.ts';
import { EXPORT_FLATTEN_ARGS, type ExportFile } from './export-file.ts';
import { median } from './measure.ts';

/**
 * The CLI benchmarks: `ddb-flatten flatten --format parquet --out` on
 * gzipped export files, each run in a fresh child process (bench/child.ts),
 * against the plain read + gunzip + JSON.parse of the same file, also in a
 * fresh child.
 */

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

function runChild(dir: string, mode: 'cli' | 'parse', args: readonly string[], nodeFlags: readonly string[] = []): ChildReport {
  const report = join(dir, `report-${process.pid}.json`);
  const child = spawnSync(process.execPath, [...nodeFlags, CHILD, report, mode, ...args], { encoding: 'utf8', maxBuffer: 1 << 24 });
  if (child.status !== 0) throw new Error(`bench child ${mode} ${args.join(' ')} failed (${child.status ?? child.signal}):\n${child.stderr}`);
  const result = JSON.parse(readFileSync(report, 'utf8')) as ChildReport;
  rmSync(report);
  return result;
}

/** Rows in a Parquet file, from its footer alone. */
export function parquetRows(path: string): number {
  const size = statSync(path).size;
  const fd = openSync(path, 'r');
  try {
    const tail = Buffer.alloc(8);
    readSync(fd, tail, 0, 8, size - 8);
    const footer = Buffer.alloc(tail.readUInt32LE(0) + 8);
    readSync(fd, footer, 0, footer.length, size - footer.length);
    return Number(parquetMetadata(footer).num_rows);
  } finally {
    closeSync(fd);
  }
}

export interface CliRun {
  readonly items: number;
  readonly gzipBytes: number;
  readonly jsonBytes: number;
  readonly rows: number;
  readonly ms: number;
  readonly rowsPerSecond: number;
  readonly maxRssBytes: number;
  readonly parquetBytes: number;
}

/** One `ddb-flatten flatten --format parquet --out` run on the file, in a fresh process started with `nodeFlags`. */
export function runCli(file: ExportFile, dir: string, nodeFlags: readonly string[] = []): CliRun {
  const out = join(dir, 'out.parquet');
  const args = ['flatten', ...EXPORT_FLATTEN_ARGS, '--format', 'parquet', '--snapshot-time', '2026-01-01T00:00:00Z', '--out', out, file.path];
  const report = runChild(dir, 'cli', args, nodeFlags);
  const rows = parquetRows(out);
  const parquetBytes = statSync(out).size;
  rmSync(out);
  return {
    items: file.items,
    gzipBytes: file.gzipBytes,
    jsonBytes: file.jsonBytes,
    rows,
    ms: report.ms,
    rowsPerSecond: rows / (report.ms / 1000),
    maxRssBytes: report.maxRssBytes,
    parquetBytes,
  };
}

/** Runs of the same file as one: median time, highest peak RSS. */
function combine(runs: readonly CliRun[]): CliRun {
  const ms = median(runs.map((r) => r.ms));
  return { ...runs[0]!, ms, rowsPerSecond: runs[0]!.rows / (ms / 1000), maxRssBytes: Math.max(...runs.map((r) => r.maxRssBytes)) };
}

export function runCliMedian(file: ExportFile, dir: string, runs: number): CliRun {
  return combine(Array.from({ length: runs }, () => runCli(file, dir)));
}

export interface CliThroughput {
  readonly cli: CliRun;
  readonly parseMs: number;
  readonly parseMaxRssBytes: number;
  /** CLI time / (read + gunzip + JSON.parse) time, same file, medians of interleaved runs. */
  readonly ratio: number;
  /** Parquet bytes / DynamoDB JSON bytes (before gzip). */
  readonly lakeSizeRatio: number;
}

/** Baseline and CLI alternately, `rounds` times each, on the same file. */
export function measureCliThroughput(file: ExportFile, dir: string, rounds: number): CliThroughput {
  const parse: ChildReport[] = [];
  const cli: CliRun[] = [];
  for (let i = 0; i < rounds; i++) {
    const baseline = runChild(dir, 'parse', [file.path]);
    if (baseline.lines !== file.items) throw new Error(`baseline read ${baseline.lines} lines of ${file.path}, expected ${file.items}`);
    parse.push(baseline);
    cli.push(runCli(file, dir));
  }
  const parseMs = median(parse.map((r) => r.ms));
  const run = combine(cli);
  return {
    cli: run,
    parseMs,
    parseMaxRssBytes: Math.max(...parse.map((r) => r.maxRssBytes)),
    ratio: run.ms / parseMs,
    lakeSizeRatio: run.parquetBytes / file.jsonBytes,
  };
}

export interface CappedRun {
  readonly oldSpaceMb: number;
  /** Present when the run completed. */
  readonly run?: CliRun;
  /** Why it did not complete (the child's stderr, last lines). */
  readonly error?: string;
}

/**
 * The CLI on the file with V8's old space capped. Peak RSS of a default run
 * also holds whatever garbage V8 chose not to collect yet, which varies with
 * run length; completing under a small cap shows the live memory is bounded
 * whatever the input size.
 */
export function runCliCapped(file: ExportFile, dir: string, oldSpaceMb = 128): CappedRun {
  try {
    return { oldSpaceMb, run: runCli(file, dir, [`--max-old-space-size=${oldSpaceMb}`]) };
  } catch (error) {
    return { oldSpaceMb, error: (error as Error).message.split('\n').slice(-4).join('\n') };
  }
}
