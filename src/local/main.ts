import { fileURLToPath } from 'node:url';
import { HELP_OPTION, helpText, integerOption, parseCommandArgs, stringOption, type CommandSpec } from '../cli/args.ts';
import { errorText, exitCodeOf } from '../cli/errors.ts';
import { processIO, type CliIO } from '../cli/io.ts';
import { runDaysDemo } from './days-demo.ts';
import { runSeedDemo } from './seed-demo.ts';
import { openSession } from './session.ts';
import { DAY_MS, SimulatedClock } from './simulated-days.ts';
import { runSyntheticLoad } from './synthetic-load.ts';

/** `npm start`: the whole pipeline on this machine, with nothing but Node. */

export const DEFAULT_LAKE = fileURLToPath(new URL('../../.lake', import.meta.url));

/** From this many synthetic items on, dynalite keeps the table on disk so memory stays bounded. */
const ON_DISK_ITEMS = 50_000;

export const START_COMMAND: CommandSpec = {
  name: 'npm start --',
  usage: '[--items N] [--days N] [--batch-size N] [--lake DIR]',
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
    days: {
      type: 'string',
      value: 'N',
      help: 'Simulate N past days of changes (1 to 366) to the seed and --items items (default\n1,000, at most 100,000), then compact and checkpoint them as the daily\nmaintenance does, and print the objects and the bytes the current-state\nquery reads before and after (exit 1 if the view differs from a Scan).',
    },
    'batch-size': {
      type: 'string',
      value: 'N',
      help: "Stream records per handler call with --items or --days, 1 to 10,000\n(default 1,000; with --days 100: a quiet table's batches, cut by the\nbatching window long before the batch size).",
    },
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
    const days = integerOption(values, 'days', 1, 366, 0);
    // With --days the view is checked against a Scan held in memory: the item count is bounded.
    const items = days > 0 ? integerOption(values, 'items', 1, 100_000, 1_000) : integerOption(values, 'items', 1, 100_000_000, 0);
    const batchSize = integerOption(values, 'batch-size', 1, 10_000, days > 0 ? 100 : 1000);
    // The N days before today (UTC): the last one closes at 07:00 today (record age plus margin).
    const today = Math.floor(io.now() / DAY_MS) * DAY_MS;
    const clock = new SimulatedClock(today - days * DAY_MS);
    const session = await openSession({
      lakeDir: stringOption(values, 'lake') ?? DEFAULT_LAKE,
      tableOnDisk: items >= ON_DISK_ITEMS,
      ...(days > 0 ? { clock: () => clock.now() } : {}),
    });
    const unregister = io.onInterrupt(() => void session.close());
    try {
      if (days > 0) {
        return (await runDaysDemo(session, clock, { days, items, batchSize, firstDay: today - days * DAY_MS, progress: io.stderr }, print)) ? 0 : 1;
      }
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
