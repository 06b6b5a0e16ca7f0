import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { HELP_OPTION, integerOption, orList, stringOption, type CommandSpec, type ParsedArgs } from '../../src/cli/args.ts';
import { UsageError } from '../../src/cli/errors.ts';
import { DEFAULT_RATES, FAULT_KINDS, type FaultKind, type FaultRates } from './faults.ts';
import type { SoakOptions } from './run.ts';

/** `npm run soak`'s flags, on the project's argument parser: every mistake names the flag and what it allows. */

export const DEFAULT_OUT = new URL('../soak-results.json', import.meta.url).pathname;

export const SOAK_COMMAND: CommandSpec = {
  name: 'npm run soak --',
  usage: '[--records N] [--keys K] [--shards S] [--seed X] [--batch-size N] [--faults LIST] [--out FILE] [--keep DIR]',
  title: 'A million records under faults.',
  summary:
    'Drives a deterministic workload of inserts, modifies, removes and re-inserts through the\n' +
    "real stream handler, moto's S3 behind fault proxies and a model of the event source\n" +
    'mapping per shard (all shards at once), redrives the on-failure queue, then checks the\n' +
    'current-state view and the raw lake in DuckDB against the truth of every item: lost,\n' +
    'doubled, wrongly quarantined. Prints one table and writes it as JSON. Needs python3 with\n' +
    'moto[server]. Exit 1 if anything is lost, doubled or misplaced.',
  options: {
    records: { type: 'string', value: 'N', help: 'Stream records, 1,000 to 100,000,000 (default 1,000,000).' },
    keys: { type: 'string', value: 'K', help: 'Items the records change, 2 per shard to 10,000,000 (default 100,000).' },
    shards: { type: 'string', value: 'S', help: 'Stream shards, each with its own mapping, 1 to 16 (default 4).' },
    seed: { type: 'string', value: 'X', help: 'Seed of the workload and the faults, 0 to 4,294,967,295 (default 1).' },
    'batch-size': { type: 'string', value: 'N', help: "The mapping's BatchSize, 10 to 10,000 (default 1,000; the 5 s\nbatching window usually closes batches first)." },
    faults: {
      type: 'string',
      value: 'LIST',
      help: `Fault rates as kind=rate pairs, e.g. slowdown=0.05,hang=0; kinds:\n${FAULT_KINDS.join(', ')}\n(default ${FAULT_KINDS.map((k) => `${k}=${DEFAULT_RATES[k]}`).join(',')}).`,
    },
    out: { type: 'string', value: 'FILE', help: 'Where the JSON report goes (default bench/soak-results.json).' },
    keep: { type: 'string', value: 'DIR', help: 'Keep the downloaded lake, the expected rows and the truth in DIR\n(a new or empty folder) to look at afterwards; by default they are deleted.' },
    ...HELP_OPTION,
  },
  notes: [
    'Every fault kind is also forced once on every shard, so even a short run has each of\nthem; a rate of 0 leaves only that one.',
  ],
};

/** --faults: kind=rate pairs over the defaults. */
export function faultRates(values: ParsedArgs['values']): FaultRates {
  const text = stringOption(values, 'faults');
  if (text === undefined) return DEFAULT_RATES;
  const rates: Record<string, number> = { ...DEFAULT_RATES };
  for (const pair of text.split(',')) {
    const [kind, rate, extra] = pair.split('=').map((s) => s.trim());
    if (!FAULT_KINDS.includes(kind as FaultKind)) {
      throw new UsageError(`--faults: "${kind}" is not a fault kind; allowed: ${orList(FAULT_KINDS)} (e.g. --faults slowdown=0.05,hang=0)`);
    }
    const x = rate !== undefined && extra === undefined && /^(0|1|0?\.\d+)$/.test(rate) ? Number(rate) : Number.NaN;
    if (!(x >= 0 && x <= 1)) throw new UsageError(`--faults: ${kind} needs a rate from 0 to 1, such as ${kind}=0.01, got "${pair}"`);
    rates[kind] = x;
  }
  const perPut = rates.slowdown! + rates.reset! + rates.hang!;
  if (perPut > 0.5) throw new UsageError(`--faults: slowdown + reset + hang must be at most 0.5 (every PutObject draws one), got ${perPut}`);
  return rates as unknown as FaultRates;
}

export function soakOptions(values: ParsedArgs['values']): SoakOptions & { out: string } {
  const keep = stringOption(values, 'keep');
  if (keep !== undefined && existsSync(keep) && readdirSync(keep).length > 0) throw new UsageError(`--keep must be a new or empty folder, and ${keep} is not empty`);
  const shards = integerOption(values, 'shards', 1, 16, 4);
  const keys = integerOption(values, 'keys', 2, 10_000_000, 100_000);
  if (keys < 2 * shards) throw new UsageError(`--keys must be at least 2 per shard (${2 * shards} for --shards ${shards}), got ${keys}`);
  return {
    records: integerOption(values, 'records', 1_000, 100_000_000, 1_000_000),
    keys,
    shards,
    seed: integerOption(values, 'seed', 0, 4_294_967_295, 1),
    batchSize: integerOption(values, 'batch-size', 10, 10_000, 1_000),
    rates: faultRates(values),
    out: stringOption(values, 'out') ?? DEFAULT_OUT,
    ...(keep !== undefined ? { keep: resolve(keep) } : {}),
  };
}
