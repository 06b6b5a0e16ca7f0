import { resolve } from 'node:path';
import { Flattener } from '../flatten/flatten.ts';
import { availableParallelism } from 'node:os';
import { flattenInBlocks } from '../io/parallel-export.ts';
import { choiceOption, HELP_OPTION, helpText, integerOption, parseCommandArgs, stringOption, type CommandSpec } from './args.ts';
import { UsageError } from './errors.ts';
import { newExportStats } from '../io/export-lines.ts';
import { FLATTEN_CONFIG_OPTIONS, flattenConfigFromArgs, SNAPSHOT_TIME_OPTION, snapshotTimeFromArgs } from './flatten-options.ts';
import { fileInput, STDIN_NAME, streamInput, type InputSource } from '../io/lines.ts';
import type { CliIO } from './io.ts';
import { atomicFileOutput, FORMATS, rowWriter, streamOutput, type ByteOutput, type OutputFormat } from '../io/byte-output.ts';
import { createProgress, formatCount, formatRate } from './progress.ts';

export const FLATTEN_COMMAND: CommandSpec = {
  name: 'ddb-flatten flatten',
  usage:
    '--attributes LIST --partition-key NAME [--sort-key NAME] [--carry LIST]\n' +
    '                           [--format jsonl|parquet] [--out FILE] [--snapshot-time ISO] [FILE ...]',
  title: 'Flatten DynamoDB export lines (plain or .gz) into JSONL or Parquet rows.',
  summary:
    'Flattens DynamoDB export lines ({"Item": {...}}, the DYNAMODB_JSON format of the export\n' +
    'to S3) into the flat row schema, one row per leaf value, with event_name SNAPSHOT.\n' +
    'FILEs may be plain or gzip (.json.gz); with no FILE, or with -, it reads standard input.',
  options: {
    ...FLATTEN_CONFIG_OPTIONS,
    format: {
      type: 'string',
      value: 'FORMAT',
      help: 'jsonl (default): one JSON object per row, keys exactly the schema\'s column\nnames. parquet: the same Parquet the Lambda writes to the lake.',
    },
    out: {
      type: 'string',
      short: 'o',
      value: 'FILE',
      help: 'Write to FILE, atomically: a temporary file renamed into place on success,\nremoved on failure or interrupt. Default: standard output.',
    },
    ...SNAPSHOT_TIME_OPTION,
    threads: {
      type: 'string',
      value: 'N',
      help: 'Worker threads that parse, flatten and encode, 1 to 32; 1 runs in this thread.\nDefault: the number of CPUs, at most 4. The output is the same for any N.',
    },
    ...HELP_OPTION,
  },
  positionals: true,
  notes: [
    'Bad input stops the run with exit code 1 and a message FILE:LINE: what is wrong: a line\n' +
      'that is not JSON, has no "Item", lacks the --partition-key or --sort-key attribute, or\n' +
      'holds an unknown type descriptor; also invalid UTF-8 and truncated or corrupt gzip.\n' +
      'With --out nothing is left behind. On standard output rows are streamed a block (about\n' +
      '4 MB of input lines) at a time, so rows of blocks before the bad line may already have\n' +
      'been written; the error message then says how many. Use --out for all or nothing.',
    'A progress line is shown on stderr when it is a terminal and the run lasts over a second.',
    'Exit codes: 0 done, 1 bad input or I/O failure, 2 bad command line, 130 interrupted.',
    'Example:\n  ddb-flatten flatten --attributes items --partition-key pk --format parquet \\\n      --out items.parquet export/data/*.json.gz',
  ],
};

interface FlattenPlan {
  readonly flattener: Flattener;
  readonly format: OutputFormat;
  readonly out: string | undefined;
  readonly snapshotMs: number;
  readonly inputs: readonly InputSource[];
  readonly threads: number;
}

async function plan(argv: readonly string[], io: CliIO): Promise<FlattenPlan | undefined> {
  const { values, positionals } = parseCommandArgs(FLATTEN_COMMAND, argv);
  if (values.help) {
    io.stdout.write(helpText(FLATTEN_COMMAND));
    return undefined;
  }
  const config = flattenConfigFromArgs(values);
  const format = choiceOption(values, 'format', FORMATS, 'jsonl');
  const snapshotMs = snapshotTimeFromArgs(values, io.now);
  const out = stringOption(values, 'out');
  const threads = integerOption(values, 'threads', 1, 32, Math.min(4, availableParallelism()));

  const names = positionals.length > 0 ? positionals : ['-'];
  if (names.filter((n) => n === '-').length > 1) throw new UsageError('standard input (-) can be named only once');
  if (names.includes('-') && positionals.length === 0 && io.stdin.isTTY) {
    throw new UsageError('no input: name export files (FILE ...), or pipe export lines to standard input; see --help');
  }
  if (out !== undefined && names.some((n) => n !== '-' && resolve(n) === resolve(out))) {
    throw new UsageError(`--out ${out} is also an input file; write somewhere else`);
  }
  if (format === 'parquet' && out === undefined && io.stdout.isTTY) {
    throw new UsageError('--format parquet writes binary data: use --out FILE or redirect standard output');
  }
  const inputs: InputSource[] = [];
  for (const n of names) inputs.push(n === '-' ? streamInput(io.stdin, STDIN_NAME) : await fileInput(n));
  return { flattener: new Flattener(config), format, out, snapshotMs, inputs, threads };
}

/** `ddb-flatten flatten`: export lines to JSONL or Parquet, streaming, in memory bounded by one batch. */
export async function runFlatten(argv: readonly string[], io: CliIO): Promise<number> {
  const p = await plan(argv, io);
  if (!p) return 0;
  const out: ByteOutput = p.out === undefined ? streamOutput(io.stdout) : await atomicFileOutput(p.out, io.onInterrupt);
  const stats = newExportStats();
  let rowsWritten = 0;
  const totalBytes = p.inputs.every((i) => i.size !== undefined) ? p.inputs.reduce((n, i) => n + i.size!, 0) : undefined;
  const progress = createProgress({ stream: io.stderr, now: io.now });
  const showProgress = (): void =>
    progress.update(
      totalBytes ? stats.bytes / totalBytes : undefined,
      `${formatCount(stats.items)} items → ${formatCount(stats.rows)} rows, ${formatRate(stats.rows, progress.elapsedMs(), 'rows')}`,
    );
  try {
    const writer = rowWriter(p.format, out, p.flattener.config.carry);
    const blocks = flattenInBlocks(p.inputs, { config: p.flattener.config, snapshotMs: p.snapshotMs, format: p.format, threads: p.threads, stats, onChunk: showProgress });
    for await (const block of blocks) {
      await writer.writeEncoded(block);
      rowsWritten = stats.rows;
    }
    await writer.finish();
    await out.commit();
    progress.done();
    if (p.out !== undefined) io.stderr.write(`ddb-flatten: ${formatCount(stats.items)} items → ${formatCount(rowsWritten)} rows (${p.format}) written to ${p.out}\n`);
    return 0;
  } catch (error) {
    progress.done();
    await out.abort();
    if (out.streaming && rowsWritten > 0 && error instanceof Error) {
      error.message += `\nstandard output is incomplete: ${formatCount(rowsWritten)} rows were written before the error (use --out FILE for all or nothing)`;
    }
    throw error;
  }
}
