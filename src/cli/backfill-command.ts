import { availableParallelism } from 'node:os';
import { mkdir } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { snapshotObjectName, type ExportDataFile } from '../backfill/export-layout.ts';
import { localExport, s3Export, type ExportDataSource, type ExportSource } from '../backfill/export-source.ts';
import { prefixProblem } from '../config/validate.ts';
import { Flattener, utcDate, type FlattenConfig } from '../flatten/flatten.ts';
import { atomicFileOutput, parquetWriter } from '../io/byte-output.ts';
import { flattenExportLines, newExportStats, type ExportStats } from '../io/export-lines.ts';
import { partitionKey } from '../lake/object-key.ts';
import { s3Client } from './aws-clients.ts';
import { HELP_OPTION, helpText, integerOption, parseCommandArgs, stringOption, timeOption, type CommandSpec } from './args.ts';
import { UsageError } from './errors.ts';
import { FLATTEN_CONFIG_OPTIONS, flattenConfigFromArgs } from './flatten-options.ts';
import type { CliIO } from './io.ts';
import { createProgress, formatCount, formatRate } from './progress.ts';

export const BACKFILL_COMMAND: CommandSpec = {
  name: 'ddb-flatten backfill',
  usage:
    '(--export-dir DIR | --s3 s3://bucket/prefix/AWSDynamoDB/<id>/) --lake OUT_DIR\n' +
    '                           --attributes LIST --partition-key NAME [--sort-key NAME] [--carry LIST]',
  title: 'Flatten a whole DynamoDB export into a local lake folder, file by file.',
  summary:
    'Reads an export to S3 (DYNAMODB_JSON) through its manifests and flattens every data file\n' +
    'into SNAPSHOT rows stamped with the export time, written as Parquet into OUT_DIR in the\n' +
    "bucket's Hive layout (<prefix>/dt=YYYY-MM-DD/snapshot-<export id>-<file>.parquet): the\n" +
    'same objects, with the same names, as the Lambda writes for that export.',
  options: {
    'export-dir': { type: 'string', value: 'DIR', help: 'A local copy of the export folder .../AWSDynamoDB/<export id>/\n(holding manifest-summary.json, manifest-files.json and data/).' },
    s3: { type: 'string', value: 'URI', help: 'The export folder in S3, read in place: s3://bucket/prefix/AWSDynamoDB/<id>/.\nUses the usual AWS credentials, region and AWS_ENDPOINT_URL_S3.' },
    lake: { type: 'string', value: 'OUT_DIR', help: 'Required. The local lake folder to write into (created if needed).' },
    prefix: { type: 'string', value: 'PREFIX', help: 'Key prefix of the rows inside the lake, as LAKE_PREFIX. Default: flattened.' },
    ...FLATTEN_CONFIG_OPTIONS,
    'snapshot-time': { type: 'string', value: 'ISO', help: "event_time of the rows. Default: the manifest's exportTime (required when\nthe export has no manifests)." },
    concurrency: { type: 'string', value: 'N', help: 'Data files flattened at once, 1 to 64. Default: the number of CPUs (at most 8).' },
    ...HELP_OPTION,
  },
  positionals: false,
  notes: [
    "Each data file is checked against the manifest: its MD5 and its item count. A mismatch,\n" +
      'a bad line (FILE:LINE: what is wrong) or a read error stops the run with exit code 1;\n' +
      'the file being written is removed, files already finished stay (complete and correct),\n' +
      'and a rerun overwrites them with identical objects.',
    'Example:\n  ddb-flatten backfill --export-dir ./AWSDynamoDB/01700000000000-abcd1234 \\\n      --attributes items --partition-key pk --lake ./lake',
  ],
};

interface BackfillPlan {
  readonly config: FlattenConfig;
  readonly source: ExportSource;
  readonly lake: string;
  readonly prefix: string;
  readonly concurrency: number;
}

async function plan(argv: readonly string[], io: CliIO): Promise<BackfillPlan | undefined> {
  const { values } = parseCommandArgs(BACKFILL_COMMAND, argv);
  if (values.help) {
    io.stdout.write(helpText(BACKFILL_COMMAND));
    return undefined;
  }
  const config = flattenConfigFromArgs(values);
  const dir = stringOption(values, 'export-dir');
  const uri = stringOption(values, 's3');
  if ((dir === undefined) === (uri === undefined)) throw new UsageError('give exactly one of --export-dir DIR or --s3 s3://bucket/prefix/AWSDynamoDB/<id>/');
  const lake = stringOption(values, 'lake');
  if (!lake) throw new UsageError('--lake is required: the local lake folder to write into');
  const prefix = stringOption(values, 'prefix') ?? 'flattened';
  const problem = prefixProblem(prefix);
  if (problem) throw new UsageError(`--prefix: ${problem}`);
  const concurrency = integerOption(values, 'concurrency', 1, 64, Math.min(8, availableParallelism()));
  const snapshot = timeOption(values, 'snapshot-time');
  const source = dir !== undefined ? await localExport(dir, snapshot) : await s3Export(s3Client(io.env), uri!, snapshot);
  if (source.files.length === 0) throw new Error(`${source.location}: the export lists no data files`);
  return { config, source, lake: resolve(lake), prefix, concurrency };
}

/** One data file to one Parquet file in the lake, checked against its manifest entry. */
async function flattenFile(p: BackfillPlan, file: ExportDataSource, total: ExportStats, io: CliIO, onChunk: () => void): Promise<void> {
  const name = snapshotObjectName({ exportId: p.source.exportId, fileStem: file.stem } as ExportDataFile);
  const target = join(p.lake, partitionKey(p.prefix, utcDate(p.source.snapshotMs), name));
  await mkdir(dirname(target), { recursive: true });
  const out = await atomicFileOutput(target, io.onInterrupt);
  const stats = newExportStats();
  try {
    const writer = parquetWriter(out, p.config.carry);
    let counted = { items: 0, rows: 0, bytes: 0 };
    const flush = () => {
      total.items += stats.items - counted.items;
      total.rows += stats.rows - counted.rows;
      total.bytes += stats.bytes - counted.bytes;
      counted = { ...stats };
      onChunk();
    };
    for await (const batch of flattenExportLines([file], { flattener: new Flattener(p.config), snapshotMs: p.source.snapshotMs, stats, onChunk: flush })) {
      await writer.write(batch);
    }
    await writer.finish();
    flush();
    const digest = file.digest();
    if (file.md5 !== undefined && digest !== file.md5) {
      throw new Error(`${file.name}: MD5 ${digest} does not match the manifest's ${file.md5}: the file is damaged or not the one exported`);
    }
    if (file.itemCount !== undefined && stats.items !== file.itemCount) {
      throw new Error(`${file.name}: ${stats.items} items read, but the manifest lists ${file.itemCount}: the file is incomplete`);
    }
    await out.commit();
  } catch (error) {
    await out.abort();
    throw error;
  }
}

/** `ddb-flatten backfill`: an export, file by file in parallel, into a local lake; memory bounded per file. */
export async function runBackfill(argv: readonly string[], io: CliIO): Promise<number> {
  const p = await plan(argv, io);
  if (!p) return 0;
  const total = newExportStats();
  const knownSize = p.source.files.every((f) => f.size !== undefined) ? p.source.files.reduce((n, f) => n + f.size!, 0) : undefined;
  const progress = createProgress({ stream: io.stderr, now: io.now });
  let finished = 0;
  const show = () =>
    progress.update(
      knownSize ? total.bytes / knownSize : finished / p.source.files.length,
      `${finished}/${p.source.files.length} files, ${formatCount(total.items)} items → ${formatCount(total.rows)} rows, ${formatRate(total.rows, progress.elapsedMs(), 'rows')}`,
    );

  const queue = [...p.source.files];
  let failure: unknown;
  const worker = async () => {
    for (let file = queue.shift(); file && failure === undefined; file = queue.shift()) {
      try {
        await flattenFile(p, file, total, io, show);
        finished++;
      } catch (error) {
        failure ??= error;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(p.concurrency, p.source.files.length) }, worker));
  progress.done();
  if (failure !== undefined) {
    if (finished > 0 && failure instanceof Error) failure.message += `\n${finished} of ${p.source.files.length} files were finished and kept; rerun to complete (finished files are rewritten identically)`;
    throw failure;
  }
  const expected = p.source.itemCount === undefined ? '' : ` (manifest: ${formatCount(p.source.itemCount)} items)`;
  io.stderr.write(
    `ddb-flatten: ${p.source.files.length} files, ${formatCount(total.items)} items${expected} → ${formatCount(total.rows)} rows ` +
      `at ${new Date(p.source.snapshotMs).toISOString()} written to ${join(p.lake, p.prefix)}/ in ${(progress.elapsedMs() / 1000).toFixed(1)} s\n`,
  );
  if (p.source.itemCount !== undefined && p.source.itemCount !== total.items) {
    throw new Error(`${p.source.location}: ${total.items} items read, but manifest-summary.json lists ${p.source.itemCount}`);
  }
  return 0;
}
