import { readFile } from 'node:fs/promises';
import { runErase, type EraseResult } from '../actions/erase.ts';
import { MaintenanceFailed, type MaintenanceConfig } from '../actions/maintenance.ts';
import { MAINTENANCE_LIMITS, REBUILD_SHARE, type MaintenanceSettings } from '../config/pipeline-config.ts';
import { prefixProblem } from '../config/validate.ts';
import type { ErasedKey } from '../maintenance/statements.ts';
import { choiceOption, HELP_OPTION, helpText, parseCommandArgs, stringOption, timeOption, type CommandSpec } from './args.ts';
import { UsageError } from './errors.ts';
import type { CliIO } from './io.ts';
import { LAKE_TARGET_OPTIONS, named, naming, needsS3, openLakeTarget, parseLakeTarget } from './lake-target.ts';
import { textTable } from './text-table.ts';
import { formatCount } from './progress.ts';

/**
 * `ddb-flatten erase`: the function's {"action":"erase"} on a local lake
 * folder or on the bucket in place (src/maintenance/erasure.ts): every row of
 * the keys written before now goes from every object, and every older
 * version from a versioned bucket. `--resume` takes the erasures in flight
 * further (their sweep, once due).
 */

export const ERASE_COMMAND: CommandSpec = {
  name: 'ddb-flatten erase',
  usage: '(--lake DIR | --s3 s3://bucket[/prefix] --workgroup NAME --glue-database DB) (--key PK[:SK] ... | --keys FILE | --resume) [--now ISO] [options]',
  title: 'Erase keys from the lake: every row, every object, every old version (the right to erasure).',
  summary:
    'Rewrites every object of the lake that holds a row of the keys written before now, without those\n' +
    'rows: the days, every checkpoint kept, the quarantine records of the keys; deletes the data files of\n' +
    'finished DynamoDB exports and the Athena query results; then deletes every older version of those\n' +
    "objects in a versioned bucket. The erasure stays open for a sweep once no older record can arrive\n" +
    '(the maximum record age, or the stream\'s 24 hours, plus a margin): run --resume then, or let the\n' +
    "function's daily run do it. The statements run in DuckDB (--lake) or Athena (--s3), as compact's do.",
  options: {
    ...LAKE_TARGET_OPTIONS,
    key: { type: 'string', value: 'PK[:SK]', multiple: true, help: 'A key to erase, as the lake holds it (pk, or pk:sk; without :SK every item of the pk).\nGive it once per key.' },
    keys: { type: 'string', value: 'FILE', help: 'JSON lines of keys, {"pk":"A1"} or {"pk":"A2","sk":"x"}, one per line (for keys holding ":").' },
    resume: { type: 'boolean', help: 'Take the erasures in flight further (their sweep once it is due) instead of starting one.' },
    now: { type: 'string', value: 'ISO', help: 'The time the erasure acts as of: rows of the keys before it are erased. Default: now.' },
    'quarantine-prefix': { type: 'string', value: 'PREFIX', help: 'Key prefix of the quarantine, as QUARANTINE_PREFIX. Default: quarantine.' },
    'export-prefix': { type: 'string', value: 'PREFIX', help: 'Key prefix of the DynamoDB exports, as EXPORT_PREFIX. Default: exports.' },
    'athena-results-prefix': { type: 'string', value: 'PREFIX', help: 'Key prefix of the Athena query results in the bucket (deleted: a result can hold any value).' },
    format: { type: 'string', value: 'FORMAT', help: 'table (default) or json.' },
    ...HELP_OPTION,
  },
  positionals: false,
  notes: [
    'The output names each erasure by its id and the keys by their SHA-256 hashes, never the keys; the\naudit record is <state>/erasures/audit/<id>.json.',
    'Exit codes: 0 done (the first pass, or complete), 1 a statement failed (nothing it would have changed\nis changed: run again) or a backfill is in flight, 2 bad command line.',
    'Example:\n  ddb-flatten erase --s3 s3://orders-lake --workgroup orders-flatten-maintenance --glue-database orders --key A1',
  ],
};

const FORMATS = ['table', 'json'] as const;

/** A --key value: PK, or PK:SK (split at the first colon). */
function keyOption(text: string): ErasedKey {
  const at = text.indexOf(':');
  const key = at < 0 ? { pk: text } : { pk: text.slice(0, at), sk: text.slice(at + 1) };
  if (key.pk === '') throw new UsageError(`--key "${text}": the pk is empty`);
  return key;
}

async function keysFile(path: string): Promise<ErasedKey[]> {
  const text = await readFile(path, 'utf8').catch((error: Error) => {
    throw new UsageError(`--keys ${path}: ${error.message}`);
  });
  return text
    .split('\n')
    .map((line, i) => [line.trim(), i + 1] as const)
    .filter(([line]) => line !== '')
    .map(([line, n]) => {
      let k: { pk?: unknown; sk?: unknown };
      try {
        k = JSON.parse(line);
      } catch {
        throw new UsageError(`${path}:${n}: not JSON: ${line.slice(0, 80)}`);
      }
      if (typeof k.pk !== 'string' || k.pk === '' || (k.sk !== undefined && typeof k.sk !== 'string')) throw new UsageError(`${path}:${n}: a key is {"pk":"…"} or {"pk":"…","sk":"…"} (text, as the lake holds it)`);
      return k.sk === undefined ? { pk: k.pk } : { pk: k.pk, sk: k.sk as string };
    });
}

export async function runEraseCommand(argv: readonly string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs(ERASE_COMMAND, argv);
  if (values.help) {
    io.stdout.write(helpText(ERASE_COMMAND));
    return 0;
  }
  const format = choiceOption(values, 'format', FORMATS, 'table');
  const target = parseLakeTarget(values);
  const prefixOf = (flag: string, fallback?: string): string | undefined => {
    const v = stringOption(values, flag)?.trim() ?? fallback;
    if (v !== undefined) named(flag, prefixProblem(v));
    return v;
  };
  const quarantinePrefix = prefixOf('quarantine-prefix', 'quarantine')!;
  const exportPrefix = prefixOf('export-prefix', 'exports')!;
  const athenaResultsPrefix = prefixOf('athena-results-prefix');
  const given = (values.key as string[] | undefined)?.map(keyOption) ?? [];
  const file = stringOption(values, 'keys');
  const resume = values.resume === true;
  if ([given.length > 0, file !== undefined, resume].filter(Boolean).length !== 1) throw new UsageError('give the keys (--key, once per key, or --keys FILE) or --resume, one of them');
  const keys = file !== undefined ? await keysFile(file) : given;
  if (!resume && keys.length === 0) throw new UsageError(`--keys ${file}: no key in it`);
  const now = timeOption(values, 'now') ?? io.now();
  needsS3(target, []);
  const { store, engine: open, location } = await openLakeTarget(target, io, 'erase');
  const L = MAINTENANCE_LIMITS;
  const maintenance: MaintenanceSettings = {
    statePrefix: target.statePrefix,
    maximumRecordAgeSeconds: L.maximumRecordAgeSeconds.fallback,
    marginSeconds: L.marginSeconds.fallback,
    lookbackDays: L.lookbackDays.fallback,
    targetBytes: L.targetBytes.fallback,
    retention: L.retention.fallback,
    rebuildShare: REBUILD_SHARE.fallback,
    maxAgeDays: L.maxAgeDays.fallback,
    ...(athenaResultsPrefix ? { athenaResultsPrefix } : {}),
  };
  const config: MaintenanceConfig = { dataPrefix: target.dataPrefix, quarantinePrefix, actions: { exportPrefix }, maintenance, flatten: { carry: target.carry } };
  const engine = await open();
  let result: EraseResult;
  let code = 0;
  try {
    result = await naming(location, runErase(resume ? { action: 'erase', continuation: 1 } : { action: 'erase', keys }, { store, engine, config, now }));
  } catch (error) {
    if (!(error instanceof MaintenanceFailed)) throw error;
    io.stderr.write(`ddb-flatten: ${error.message}\n`);
    return 1;
  } finally {
    engine.close?.();
  }
  if (result.erasures.some((e) => e.status === 'waiting' || e.status === 'running')) code = 1;
  if (format === 'json') io.stdout.write(`${JSON.stringify({ location, ...result }, null, 2)}\n`);
  else {
    io.stdout.write(
      `${textTable(
        ['erasure', 'status', 'pass', 'keys (SHA-256)', 'days', 'checkpoints', 'quarantine', 'exports', 'results', 'versions', 'sweep from'],
        result.erasures.map((e) => ({
          erasure: e.erasure,
          status: e.reason ? `${e.status}: ${e.reason}` : e.status,
          pass: String(e.pass),
          'keys (SHA-256)': e.keyHashes.length === 1 ? `${e.keyHashes[0]!.slice(0, 16)}…` : `${e.keyHashes.length} keys`,
          days: formatCount(e.counts.daysRewritten),
          checkpoints: formatCount(e.counts.checkpointsRewritten),
          quarantine: formatCount(e.counts.quarantineDeleted),
          exports: formatCount(e.counts.exportFilesDeleted),
          results: formatCount(e.counts.resultsDeleted),
          versions: formatCount(e.counts.versionsDeleted),
          'sweep from': e.sweepAfter,
        })),
      )}\n`,
    );
    if (result.erasures.length === 0) io.stdout.write('no erasure in flight\n');
  }
  return code;
}
