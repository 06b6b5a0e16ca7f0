import { dlqHold, movePointerParameter, repointGlueView } from '../actions/maintenance-aws.ts';
import { runMaintenance, type MaintenanceConfig, type MaintenanceRequest } from '../actions/maintenance.ts';
import { MAINTENANCE_LIMITS, REBUILD_SHARE, type MaintenanceSettings } from '../config/pipeline-config.ts';
import { glueNameProblem, ssmParameterProblem } from '../config/validate.ts';
import type { LakeStore } from '../lake/lake-store.ts';
import { readPointer, type CheckpointPointer } from '../maintenance/checkpoint.ts';
import { closedBefore } from '../maintenance/compaction.ts';
import type { MaintenanceEngine } from '../maintenance/engine.ts';
import { currentStateInputs, tableObjects } from '../maintenance/view-inputs.ts';
import { choiceOption, HELP_OPTION, helpText, integerOption, parseCommandArgs, stringOption, timeOption, type CommandSpec, type ParsedArgs } from './args.ts';
import { glueClient, sqsClient, ssmClient } from './aws-clients.ts';
import { LAKE_TARGET_OPTIONS, named, naming, needsS3, openLakeTarget, parseLakeTarget } from './lake-target.ts';
import { compactReportJson, compactReportText, type CompactReport } from './compact-report.ts';
import { UsageError } from './errors.ts';
import type { CliIO } from './io.ts';
import { createProgress } from './progress.ts';

const L = MAINTENANCE_LIMITS;
const n = (v: number): string => v.toLocaleString('en-US');

export const COMPACT_COMMAND: CommandSpec = {
  name: 'ddb-flatten compact',
  usage:
    '(--lake DIR | --s3 s3://bucket[/prefix] --workgroup NAME --glue-database DB) [--dt YYYY-MM-DD]\n' +
    '                           [--no-checkpoint] [--now ISO] [--lookback-days N] [--format table|json] [options]',
  title: 'Compact the closed days of a lake and checkpoint its current state (the daily maintenance run).',
  summary:
    'Runs the maintenance the function runs on its schedule ({"action":"compact"}), here, on a local\n' +
    'lake folder or on the bucket in place. Every closed day of the lookback window (a day is closed once\n' +
    "the trigger's maximum record age plus a margin has passed since its end: no stream record can still\n" +
    'arrive for it) becomes a few large objects, rows sorted by pk, sk, attribute, event_time, sequence and\n' +
    'rows written twice folded to one. Then, when it pays off, the checkpoint of the current state moves up\n' +
    'to the first day that is not closed, so the current-state view reads the checkpoint and the days since,\n' +
    'not the whole history. Each step is one SQL statement: DuckDB runs it on a local lake (--lake, needs\n' +
    'the @duckdb/node-api package), Athena in the pipeline\'s maintenance workgroup on the bucket (--s3).\n' +
    'The command waits for each query.',
  options: {
    ...LAKE_TARGET_OPTIONS,
    dt: { type: 'string', value: 'YYYY-MM-DD', help: 'Compact this one closed day only (a late object older than the window), as\n{"action":"compact","dt":...}; no checkpoint.' },
    'no-checkpoint': { type: 'boolean', help: 'Compact only; leave the checkpoint where it is.' },
    now: { type: 'string', value: 'ISO', help: 'The time the run acts as of, which decides the closed days, e.g.\n2026-12-01T07:00:00Z. Default: now.' },
    'lookback-days': { type: 'string', value: 'N', help: `Closed days looked at, newest first, ${n(L.lookbackDays.min)} to ${n(L.lookbackDays.max)}. Default: ${L.lookbackDays.fallback}.` },
    'target-bytes': {
      type: 'string',
      value: 'N',
      help: `Size of a compacted object in bytes with --lake (DuckDB cuts its files there; Athena sizes its\nown), ${n(L.targetBytes.min)} to ${n(L.targetBytes.max)}. Default: ${n(L.targetBytes.fallback)} (128 MiB).`,
    },
    'rebuild-share': {
      type: 'string',
      value: 'X',
      help: `Rebuild the checkpoint once the days since its bound hold this share of its bytes,\n${REBUILD_SHARE.min} to ${REBUILD_SHARE.max}. Default: ${REBUILD_SHARE.fallback}.`,
    },
    'max-age-days': { type: 'string', value: 'N', help: `... or once its bound is this many days old, ${L.maxAgeDays.min} to ${n(L.maxAgeDays.max)}. Default: ${L.maxAgeDays.fallback}.` },
    'history-retention-days': {
      type: 'string',
      value: 'N',
      help: `Delete the days older than N days that every kept checkpoint covers (history_retention_days),\n${L.historyRetentionDays.min} to ${n(L.historyRetentionDays.max)}. Default: keep all history.`,
    },
    'max-record-age-seconds': {
      type: 'string',
      value: 'N',
      help: `The trigger's maximum record age, ${n(L.maximumRecordAgeSeconds.min)} to ${n(L.maximumRecordAgeSeconds.max)}. Default: ${n(L.maximumRecordAgeSeconds.fallback)}, the module's.`,
    },
    'margin-seconds': { type: 'string', value: 'N', help: `Added to the record age before a day is closed, ${n(L.marginSeconds.min)} to ${n(L.marginSeconds.max)}. Default: ${n(L.marginSeconds.fallback)}.` },
    retention: { type: 'string', value: 'N', help: `Checkpoints kept (for readers of an older pointer), ${L.retention.min} to ${L.retention.max}. Default: ${L.retention.fallback}.` },
    'dlq-url': { type: 'string', value: 'URL', help: "The pipeline's on-failure queue (with --s3): while it holds messages, the\ncheckpoint does not move (a redrive may still write rows of recent days)." },
    'glue-view': { type: 'string', value: 'NAME', help: 'The current-state view in --glue-database to point at the new checkpoint, as the\nscheduled run does.' },
    'checkpoint-parameter': { type: 'string', value: 'NAME', help: 'The SSM parameter Terraform reads the pointer from; moved before the view.' },
    format: { type: 'string', value: 'FORMAT', help: 'table (default): what was done, for a person. json: the same as one JSON object.' },
    ...HELP_OPTION,
  },
  positionals: false,
  notes: [
    'Safe beside the stream writer: an object that lands during the run is kept and compacted by the\n' +
      'next run, and the current-state view stays exact at every step (old and new objects side by side).\n' +
      'A run that fails or is interrupted leaves a state the next run completes.',
    'A progress line is shown on stderr when it is a terminal and the run lasts over a second.',
    'Exit codes: 0 done, 1 failure (the message says what), 2 bad command line.',
    'Examples:\n  ddb-flatten compact --lake ./lake --lookback-days 30\n  ddb-flatten compact --s3 s3://orders-lake --workgroup orders-maintenance --glue-database orders \\\n      --glue-view current_state --checkpoint-parameter /ddb-flatten/orders/checkpoint-pointer',
  ],
};

export const COMPACT_FORMATS = ['table', 'json'] as const;

interface CompactPlan {
  readonly store: LakeStore;
  readonly engine: () => Promise<MaintenanceEngine & { close?(): void }>;
  /** Where the rows are, for the report (a folder or s3:// location). */
  readonly location: string;
  readonly config: MaintenanceConfig;
  readonly request: MaintenanceRequest;
  readonly now: number;
  readonly format: (typeof COMPACT_FORMATS)[number];
  readonly repointView?: (pointer: CheckpointPointer) => Promise<void>;
  readonly dlqUrl?: string;
  readonly endpoint?: string;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

function dayOption(values: ParsedArgs['values'], flag: string): string | undefined {
  const v = stringOption(values, flag)?.trim();
  if (v === undefined) return undefined;
  if (!DAY.test(v) || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) throw new UsageError(`--${flag} must be a day as YYYY-MM-DD, got "${v}"`);
  return v;
}

async function plan(argv: readonly string[], io: CliIO): Promise<CompactPlan | undefined> {
  const { values } = parseCommandArgs(COMPACT_COMMAND, argv);
  if (values.help) {
    io.stdout.write(helpText(COMPACT_COMMAND));
    return undefined;
  }
  const format = choiceOption(values, 'format', COMPACT_FORMATS, 'table');
  const target = parseLakeTarget(values);
  const { dataPrefix, statePrefix, carry } = target;

  const limit = (flag: string, setting: keyof typeof L): number => integerOption(values, flag, L[setting].min, L[setting].max, L[setting].fallback);
  const maintenance: MaintenanceSettings = {
    statePrefix,
    maximumRecordAgeSeconds: limit('max-record-age-seconds', 'maximumRecordAgeSeconds'),
    marginSeconds: limit('margin-seconds', 'marginSeconds'),
    lookbackDays: limit('lookback-days', 'lookbackDays'),
    targetBytes: limit('target-bytes', 'targetBytes'),
    retention: limit('retention', 'retention'),
    rebuildShare: shareOption(values),
    maxAgeDays: limit('max-age-days', 'maxAgeDays'),
    ...(values['history-retention-days'] !== undefined ? { historyRetentionDays: limit('history-retention-days', 'historyRetentionDays') } : {}),
  };
  const now = timeOption(values, 'now') ?? io.now();
  const dt = dayOption(values, 'dt');
  const noCheckpoint = values['no-checkpoint'] === true;
  if (dt !== undefined) {
    const firstOpen = closedBefore(now, maintenance.maximumRecordAgeSeconds, maintenance.marginSeconds);
    if (dt >= firstOpen) {
      throw new UsageError(
        `--dt ${dt} is not closed yet at ${new Date(now).toISOString()}: records may still arrive for it until ` +
          `${maintenance.maximumRecordAgeSeconds + maintenance.marginSeconds} s after its end (the days before ${firstOpen} are closed; see --now, --max-record-age-seconds, --margin-seconds)`,
      );
    }
  }

  const glueView = stringOption(values, 'glue-view')?.trim();
  const parameter = stringOption(values, 'checkpoint-parameter')?.trim();
  const dlqUrl = stringOption(values, 'dlq-url')?.trim();
  if (glueView !== undefined) named('glue-view', glueNameProblem(glueView));
  if (parameter !== undefined) named('checkpoint-parameter', ssmParameterProblem(parameter));
  if (dlqUrl !== undefined && !/^https?:\/\/[^\s/]+\/\d+\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(dlqUrl)) {
    throw new UsageError(`--dlq-url must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>), got "${dlqUrl}"`);
  }
  // What only the pipeline in AWS has: the workgroup, the Glue catalog, the view's parameter, the on-failure queue.
  needsS3(target, [['glue-view', glueView], ['checkpoint-parameter', parameter], ['dlq-url', dlqUrl]]);
  for (const [flag, given] of [['glue-view', glueView], ['checkpoint-parameter', parameter], ['dlq-url', dlqUrl]] as const) {
    if (given !== undefined && (noCheckpoint || dt !== undefined)) throw new UsageError(`--${flag} acts on the checkpoint, which ${noCheckpoint ? '--no-checkpoint' : '--dt'} does not move`);
  }
  const { store, engine, location, endpoint, glueDatabase } = await openLakeTarget(target, io, 'compact');
  const glue = glueView !== undefined ? glueClient(endpoint) : undefined;
  const ssm = parameter !== undefined ? ssmClient(endpoint) : undefined;
  const repointView =
    glue || ssm
      ? async (pointer: CheckpointPointer) => {
          // The parameter first, as the scheduled run does: Terraform then renders what the view is about to say.
          if (ssm) await naming(`--checkpoint-parameter ${parameter}`, movePointerParameter(ssm, parameter!, pointer));
          if (glue) await naming(`--glue-view ${glueDatabase}.${glueView}`, repointGlueView(glue, glueDatabase!, glueView!, pointer));
        }
      : undefined;
  return {
    store,
    engine,
    location,
    config: { dataPrefix, quarantinePrefix: 'quarantine', actions: { exportPrefix: 'exports' }, maintenance, flatten: { carry } },
    request: { action: 'compact', dt, checkpoint: !noCheckpoint && dt === undefined },
    now,
    format,
    repointView,
    dlqUrl,
    endpoint,
  };
}

/** `ddb-flatten compact`: the maintenance run on a folder or the bucket, tasks inline, then what was done. */
export async function runCompact(argv: readonly string[], io: CliIO): Promise<number> {
  const p = await plan(argv, io);
  if (!p) return 0;
  const prefixes = { dataPrefix: p.config.dataPrefix, statePrefix: p.config.maintenance.statePrefix };
  const viewBefore = await naming(p.location, currentStateInputs(p.store, prefixes));
  const tableBefore = await tableObjects(p.store, prefixes);
  const progress = createProgress({ stream: io.stderr, now: io.now });
  const sqs = p.dlqUrl !== undefined ? sqsClient(p.endpoint) : undefined;
  let result;
  const engine = await p.engine();
  try {
    result = await runMaintenance(p.request, {
      store: p.store,
      engine,
      config: p.config,
      now: p.now,
      repointView: p.repointView,
      holds: sqs ? async () => naming(`--dlq-url ${p.dlqUrl}`, dlqHold(sqs, p.dlqUrl!, (await readPointer(p.store, p.config.maintenance)).bound)) : undefined,
      onDay: (day, done, of) => progress.update(done / of, `${done}/${of} days, dt=${day.dt} ${day.status}${p.request.checkpoint && done === of ? ', checkpoint…' : ''}`),
    });
  } finally {
    progress.done();
    engine.close?.();
  }
  const report: CompactReport = {
    location: p.location,
    state: `${p.store.describe(p.config.maintenance.statePrefix)}/`,
    now: new Date(p.now).toISOString(),
    request: p.request,
    settings: p.config.maintenance,
    result,
    view: { before: viewBefore, after: await currentStateInputs(p.store, prefixes) },
    table: { before: tableBefore, after: await tableObjects(p.store, prefixes) },
  };
  io.stdout.write(p.format === 'json' ? compactReportJson(report) : compactReportText(report));
  // A failed query left its day or the checkpoint as it was: say so in the exit code too.
  return result.failed.length > 0 ? 1 : 0;
}

function shareOption(values: ParsedArgs['values']): number {
  const text = stringOption(values, 'rebuild-share')?.trim();
  if (text === undefined) return REBUILD_SHARE.fallback;
  const v = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text) || v < REBUILD_SHARE.min || v > REBUILD_SHARE.max) throw new UsageError(`--rebuild-share must be a number from ${REBUILD_SHARE.min} to ${REBUILD_SHARE.max}, got "${text}"`);
  return v;
}
