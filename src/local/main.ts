import { fileURLToPath } from 'node:url';
import { HELP_OPTION, helpText, integerOption, parseCommandArgs, stringOption, type CommandSpec } from '../cli/args.ts';
import { errorText, exitCodeOf } from '../cli/errors.ts';
import { processIO, type CliIO } from '../cli/io.ts';
import { runSeedDemo } from './seed-demo.ts';
import { openSession } from './session.ts';
import { runSyntheticLoad } from './synthetic-load.ts';

/** `npm start`: the whole pipeline on this machine, with nothing but Node. */

export const DEFAULT_LAKE = fileURLToPath(new URL('../../.lake', import.meta.url));

/** From this many synthetic items on, dynalite keeps the table on disk so memory stays bounded. */
const ON_DISK_ITEMS = 50_000;

export const START_COMMAND: CommandSpec = {
  name: 'npm start --',
  usage: '[--items N] [--batch-size N] [--lake DIR]',
  title: 'Run the whole pipeline locally.',
  summary:
    'Runs the pipeline on this machine: an in-process DynamoDB (dynalite) written through the\n' +
    'AWS SDK, its writes turned into DynamoDB Streams events of the exact AWS shape, the\n' +
    "Lambda's own stream handler writing Parquet to a local lake folder laid out like the\n" +
    'bucket, and DuckDB running the Athena views over it. By default it writes the seed items\n' +
    'A1-A3, prints the flattened table, then shows a MODIFY and a REMOVE.',
  options: {
    items: {
      type: 'string',
      value: 'N',
      help: 'Instead of the seed demo, write N synthetic list-of-maps items, run them\nthrough the handler and verify the row counts (exit 1 on a mismatch).',
    },
    'batch-size': { type: 'string', value: 'N', help: 'Stream records per handler call with --items, 1 to 10,000 (default 1,000).' },
    lake: {
      type: 'string',
      value: 'DIR',
      help: 'Lake folder (default .lake in the repository). It must be new, empty, or\na lake from an earlier run, whose flattened/ and quarantine/ are emptied first.',
    },
    ...HELP_OPTION,
  },
  notes: [
    'A progress bar is drawn on stderr when it is a terminal. Handler warnings and errors are\nlogged as JSON on stderr; stdout carries only the report.',
  ],
};

export async function start(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const print = (text = ''): void => void io.stdout.write(`${text}\n`);
  try {
    const { values } = parseCommandArgs(START_COMMAND, argv);
    if (values.help) {
      io.stdout.write(helpText(START_COMMAND));
      return 0;
    }
    const items = integerOption(values, 'items', 1, 100_000_000, 0);
    const batchSize = integerOption(values, 'batch-size', 1, 10_000, 1000);
    const session = await openSession({ lakeDir: stringOption(values, 'lake') ?? DEFAULT_LAKE, tableOnDisk: items >= ON_DISK_ITEMS });
    const unregister = io.onInterrupt(() => void session.close());
    try {
      if (items === 0) {
        await runSeedDemo(session, print);
        return 0;
      }
      return (await runSyntheticLoad(session, { items, batchSize, progress: io.stderr }, print)) ? 0 : 1;
    } finally {
      unregister();
      await session.close();
    }
  } catch (error) {
    io.stderr.write(`npm start: ${errorText(error, io.env)}\n`);
    return exitCodeOf(error) || 1;
  }
}

if (import.meta.main) process.exitCode = await start(process.argv.slice(2));
