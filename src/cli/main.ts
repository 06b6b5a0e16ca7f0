import { readFileSync } from 'node:fs';
import { errorText, exitCodeOf, UsageError } from './errors.ts';
import { BACKFILL_COMMAND, runBackfill } from './backfill-command.ts';
import { COMPACT_COMMAND, runCompact } from './compact-command.ts';
import { ERASE_COMMAND, runEraseCommand } from './erase-command.ts';
import { FLATTEN_COMMAND, runFlatten } from './flatten-command.ts';
import { processIO, type CliIO } from './io.ts';
import { REVIEW_PLAN_COMMAND, runReviewPlan } from './review-plan-command.ts';
import type { CommandSpec } from './args.ts';

/**
 * `ddb-flatten <command>`. Each command is a spec (options and help) and a
 * run function; adding one (e.g. backfill) is one entry in COMMANDS.
 */

interface Command {
  readonly spec: CommandSpec;
  readonly run: (argv: readonly string[], io: CliIO) => Promise<number>;
}

export const COMMANDS: Readonly<Record<string, Command>> = {
  flatten: { spec: FLATTEN_COMMAND, run: runFlatten },
  backfill: { spec: BACKFILL_COMMAND, run: runBackfill },
  compact: { spec: COMPACT_COMMAND, run: runCompact },
  erase: { spec: ERASE_COMMAND, run: runEraseCommand },
  'review-plan': { spec: REVIEW_PLAN_COMMAND, run: runReviewPlan },
};

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

export function topHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length)) + 2;
  const list = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}${c.spec.title}`);
  return [
    'Usage: ddb-flatten <command> [options]',
    '',
    'Flatten nested DynamoDB items (lists of maps) into the long row schema of the lake.',
    '',
    'Commands:',
    ...list,
    '',
    'Options:',
    '  -h, --help     Show this help, or a command\'s help with: ddb-flatten <command> --help',
    '  --version      Print the version.',
    '',
  ].join('\n');
}

/** Runs the CLI and returns the exit code; errors are reported on io.stderr. */
export async function main(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...rest] = argv;
  try {
    if (name === undefined || name === '-h' || name === '--help') {
      io.stdout.write(topHelp());
      return name === undefined ? 2 : 0;
    }
    if (name === '--version') {
      io.stdout.write(`${version()}\n`);
      return 0;
    }
    if (name === 'help') {
      const target = rest[0] === undefined ? undefined : COMMANDS[rest[0]];
      if (rest[0] !== undefined && !target) throw new UsageError(`unknown command "${rest[0]}": use ${Object.keys(COMMANDS).join(', ')}`);
      return target ? target.run(['--help'], io) : (io.stdout.write(topHelp()), 0);
    }
    const command = Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
    if (!command) throw new UsageError(`unknown command "${name}": use ${Object.keys(COMMANDS).join(', ')} (see ddb-flatten --help)`);
    return await command.run(rest, io);
  } catch (error) {
    const code = exitCodeOf(error);
    if (code !== 0) {
      const text = errorText(error, io.env);
      const hint = error instanceof UsageError && !text.includes('--help') && name && Object.hasOwn(COMMANDS, name) ? ` (see ddb-flatten ${name} --help)` : '';
      // one problem per line, each prefixed, so every line reads on its own
      io.stderr.write(`ddb-flatten: ${(error instanceof UsageError ? text.replaceAll('\n', '\nddb-flatten: ') : text)}${hint}\n`);
    }
    return code;
  }
}

/** Runs the CLI on the process's arguments; src/cli/run.ts (the program) calls it. */
export async function runCli(argv: readonly string[] = process.argv.slice(2)): Promise<void> {
  process.exitCode = await main(argv);
}
