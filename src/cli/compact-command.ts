import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { dlqHold, movePointerParameter, repointGlueView } from '../actions/maintenance-aws.ts';
import { runMaintenance, type MaintenanceConfig, type MaintenanceRequest } from '../actions/maintenance.ts';
import { MAINTENANCE_LIMITS, type MaintenanceSettings } from '../config/pipeline-config.ts';
import { bucketNameProblem, carriedProblems, glueNameProblem, prefixProblem, splitList, ssmParameterProblem } from '../config/validate.ts';
import { FolderStore, S3Store, type LakeStore } from '../lake/lake-store.ts';
import { readPointer, type CheckpointPointer } from '../maintenance/checkpoint.ts';
import { closedBefore } from '../maintenance/compaction.ts';
import { currentStateInputs, tableObjects } from '../maintenance/view-inputs.ts';
import { choiceOption, HELP_OPTION, helpText, integerOption, parseCommandArgs, stringOption, timeOption, type CommandSpec, type ParsedArgs } from './args.ts';
import { glueClient, s3Client, sqsClient, ssmClient } from './aws-clients.ts';
import { compactReportJson, compactReportText, type CompactReport } from './compact-report.ts';
import { UsageError } from './errors.ts';
import type { CliIO } from './io.ts';
import { createProgress } from './progress.ts';

const L = MAINTENANCE_LIMITS;
const n = (v: number): string => v.toLocaleString('en-US');

export const COMPACT_COMMAND: CommandSpec = {
  name: 'ddb-flatten compact',
  usage:
    '(--lake DIR | --s3 s3://bucket[/prefix]) [--dt YYYY-MM-DD] [--no-checkpoint] [--now ISO]\n' +
    '                           [--lookback-days N] [--target-bytes N] [--format table|json] [options]',
  title: 'Compact the closed days of a lake and checkpoint its current state (the daily maintenance run).',
  summary:
    'Runs the maintenance the function runs on its schedule ({"action":"compact"}), here, on a local\n' +
    'lake folder or on the bucket in place. Every closed day of the lookback window (a day is closed once\n' +
    "the trigger's maximum record age plus a margin has passed since its end: no stream record can still\n" +
    'arrive for it) becomes a few large objects, rows sorted by pk, sk, attribute, event_time, sequence and\n' +
    'rows written twice folded to one. Then the checkpoint of the current state moves up to the first day\n' +
    'that is not closed, so the current-state view reads the checkpoint and the open days, not the whole\n' +
    'history. Tasks run in this process, one after another; nothing is dispatched.',
  options: {
    lake: { type: 'string', value: 'DIR', help: 'A local lake folder laid out like the bucket (<DIR>/<prefix>/dt=YYYY-MM-DD/...).' },
    s3: {
      type: 'string',
      value: 'URI',
      help: 'The lake in S3, in place: s3://bucket, or s3://bucket/<prefix> (the table location).\nUses the usual AWS credentials and region; see --endpoint-url.',
    },
    prefix: { type: 'string', value: 'PREFIX', help: 'Key prefix of the rows, as LAKE_PREFIX. Default: flattened (or the path of --s3).' },
    'state-prefix': { type: 'string', value: 'PREFIX', help: 'Key prefix of plans and checkpoints, as STATE_PREFIX. Default: state.' },
    dt: { type: 'string', value: 'YYYY-MM-DD', help: 'Compact this one closed day only (a late object older than the window), as\n{"action":"compact","dt":...}; no checkpoint.' },
    'no-checkpoint': { type: 'boolean', help: 'Compact only; leave the checkpoint where it is.' },
    now: { type: 'string', value: 'ISO', help: 'The time the run acts as of, which decides the closed days, e.g.\n2026-12-01T07:00:00Z. Default: now.' },
    'lookback-days': { type: 'string', value: 'N', help: `Closed days looked at, newest first, ${n(L.lookbackDays.min)} to ${n(L.lookbackDays.max)}. Default: ${L.lookbackDays.fallback}.` },
    'target-bytes': {
      type: 'string',
      value: 'N',
      help: `Size of a compacted object in bytes, ${n(L.targetBytes.min)} to ${n(L.targetBytes.max)}.\nDefault: ${n(L.targetBytes.fallback)} (128 MiB).`,
    },
    'max-task-bytes': {
      type: 'string',
      value: 'N',
      help: `Input bytes one task reads (a larger day or checkpoint is split into sort and merge tasks),\n${n(L.maxTaskBytes.min)} to ${n(L.maxTaskBytes.max)}. Default: ${n(L.maxTaskBytes.fallback)}.`,
    },
    'max-record-age-seconds': {
      type: 'string',
      value: 'N',
      help: `The trigger's maximum record age, ${n(L.maximumRecordAgeSeconds.min)} to ${n(L.maximumRecordAgeSeconds.max)}. Default: ${n(L.maximumRecordAgeSeconds.fallback)}, the module's.`,
    },
    'margin-seconds': { type: 'string', value: 'N', help: `Added to the record age before a day is closed, ${n(L.marginSeconds.min)} to ${n(L.marginSeconds.max)}. Default: ${n(L.marginSeconds.fallback)}.` },
    retention: { type: 'string', value: 'N', help: `Checkpoints kept (for readers of an older pointer), ${L.retention.min} to ${L.retention.max}. Default: ${L.retention.fallback}.` },
    carry: { type: 'string', value: 'LIST', help: 'The carried attributes, as CARRY_ATTRIBUTES. Optional: columns the objects have are\nkept anyway; these are added where missing.' },
    'dlq-url': { type: 'string', value: 'URL', help: "The pipeline's on-failure queue (with --s3): while it holds messages, the\ncheckpoint does not move (a redrive may still write rows of recent days)." },
    'glue-database': { type: 'string', value: 'NAME', help: 'With --glue-view: point this Glue current-state view at the new checkpoint\n(with --s3), as the scheduled run does.' },
    'glue-view': { type: 'string', value: 'NAME', help: 'The current-state view in --glue-database.' },
    'checkpoint-parameter': { type: 'string', value: 'NAME', help: 'The SSM parameter Terraform reads the pointer from; moved before the view.' },
    'endpoint-url': { type: 'string', value: 'URL', help: 'AWS endpoint for every client (moto, LocalStack). Default: AWS_ENDPOINT_URL.' },
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
    'Examples:\n  ddb-flatten compact --lake ./lake --lookback-days 30\n  ddb-flatten compact --s3 s3://orders-lake --glue-database orders --glue-view current_state \\\n      --checkpoint-parameter /orders/checkpoint',
  ],
};

export const COMPACT_FORMATS = ['table', 'json'] as const;

interface CompactPlan {
  readonly store: LakeStore;
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

/** An AWS failure, prefixed with what the command was doing it for (the SDK's messages name no resource). */
async function naming<T>(what: string, work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof Error && '$metadata' in error) throw new Error(`${what}: ${error.name}: ${error.message}`, { cause: error });
    throw error;
  }
}

function named(flag: string, problem: string | undefined): void {
  if (problem) throw new UsageError(`--${flag}: ${problem}`);
}

/** s3://bucket[/prefix][/] as a bucket and, when given, the rows' prefix. */
function parseS3(uri: string): { bucket: string; prefix?: string } {
  const m = /^s3:\/\/([^/]+)(?:\/(.*?))?\/?$/.exec(uri.trim());
  if (!m) throw new UsageError(`--s3 must be s3://bucket or s3://bucket/<prefix>, got "${uri}"`);
  named('s3', bucketNameProblem(m[1]!));
  const prefix = m[2] || undefined;
  if (prefix !== undefined) named('s3', prefixProblem(prefix));
  return { bucket: m[1]!, prefix };
}

function dayOption(values: ParsedArgs['values'], flag: string): string | undefined {
  const v = stringOption(values, flag)?.trim();
  if (v === undefined) return undefined;
  if (!DAY.test(v) || new Date(`${v}T00:00:00Z`).toISOString().slice(0, 10) !== v) throw new UsageError(`--${flag} must be a day as YYYY-MM-DD, got "${v}"`);
  return v;
}

function endpointOption(values: ParsedArgs['values']): string | undefined {
  const v = stringOption(values, 'endpoint-url')?.trim();
  if (v !== undefined && !/^https?:\/\/[^\s/]+(\/\S*)?$/.test(v)) throw new UsageError(`--endpoint-url must be an http:// or https:// URL, got "${v}"`);
  return v;
}

async function localStore(dir: string, prefix: string): Promise<FolderStore> {
  const folder = await stat(dir).catch(() => undefined);
  if (!folder?.isDirectory()) throw new UsageError(`--lake ${dir}: ${folder ? 'is not a folder' : 'no such folder'}`);
  const rows = await stat(join(dir, prefix)).catch(() => undefined);
  if (!rows?.isDirectory()) throw new UsageError(`--lake ${dir} has no ${prefix}/ folder: is it a lake folder, and are the rows under another --prefix?`);
  return new FolderStore(dir);
}

async function plan(argv: readonly string[], io: CliIO): Promise<CompactPlan | undefined> {
  const { values } = parseCommandArgs(COMPACT_COMMAND, argv);
  if (values.help) {
    io.stdout.write(helpText(COMPACT_COMMAND));
    return undefined;
  }
  const format = choiceOption(values, 'format', COMPACT_FORMATS, 'table');
  const lake = stringOption(values, 'lake');
  const uri = stringOption(values, 's3');
  if ((lake === undefined) === (uri === undefined)) throw new UsageError('give exactly one of --lake DIR or --s3 s3://bucket[/prefix]');
  const s3 = uri === undefined ? undefined : parseS3(uri);
  const prefixFlag = stringOption(values, 'prefix')?.trim();
  if (prefixFlag !== undefined) named('prefix', prefixProblem(prefixFlag));
  if (prefixFlag !== undefined && s3?.prefix !== undefined && s3.prefix !== prefixFlag) {
    throw new UsageError(`--s3 names the prefix "${s3.prefix}" and --prefix "${prefixFlag}": give the rows' prefix once`);
  }
  const dataPrefix = prefixFlag ?? s3?.prefix ?? 'flattened';
  const statePrefix = stringOption(values, 'state-prefix')?.trim() ?? 'state';
  named('state-prefix', prefixProblem(statePrefix));
  if (statePrefix === dataPrefix || statePrefix.startsWith(`${dataPrefix}/`) || dataPrefix.startsWith(`${statePrefix}/`)) {
    throw new UsageError(`--state-prefix "${statePrefix}" must not overlap the rows' prefix "${dataPrefix}", or the table would read plans and checkpoints as rows`);
  }
  const carry = splitList(stringOption(values, 'carry'));
  const carryProblems = carriedProblems(carry);
  if (carryProblems.length) throw new UsageError(carryProblems.map((p) => `--carry: ${p}`).join('\n'));

  const limit = (flag: string, setting: keyof typeof L): number => integerOption(values, flag, L[setting].min, L[setting].max, L[setting].fallback);
  const maintenance: MaintenanceSettings = {
    statePrefix,
    maximumRecordAgeSeconds: limit('max-record-age-seconds', 'maximumRecordAgeSeconds'),
    marginSeconds: limit('margin-seconds', 'marginSeconds'),
    lookbackDays: limit('lookback-days', 'lookbackDays'),
    targetBytes: limit('target-bytes', 'targetBytes'),
    maxTaskBytes: limit('max-task-bytes', 'maxTaskBytes'),
    retention: limit('retention', 'retention'),
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

  const endpoint = endpointOption(values);
  const glueDatabase = stringOption(values, 'glue-database')?.trim();
  const glueView = stringOption(values, 'glue-view')?.trim();
  const parameter = stringOption(values, 'checkpoint-parameter')?.trim();
  const dlqUrl = stringOption(values, 'dlq-url')?.trim();
  if ((glueDatabase === undefined) !== (glueView === undefined)) throw new UsageError('give --glue-database and --glue-view together: the view to point at the new checkpoint');
  if (glueDatabase !== undefined) named('glue-database', glueNameProblem(glueDatabase));
  if (glueView !== undefined) named('glue-view', glueNameProblem(glueView));
  if (parameter !== undefined) named('checkpoint-parameter', ssmParameterProblem(parameter));
  if (dlqUrl !== undefined && !/^https?:\/\/[^\s/]+\/\d+\/[A-Za-z0-9_-]{1,80}(\.fifo)?$/.test(dlqUrl)) {
    throw new UsageError(`--dlq-url must be an SQS queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>), got "${dlqUrl}"`);
  }
  for (const [flag, given] of [['glue-database', glueDatabase], ['checkpoint-parameter', parameter], ['dlq-url', dlqUrl]] as const) {
    if (given === undefined) continue;
    if (s3 === undefined) throw new UsageError(`--${flag} needs --s3: it belongs to the pipeline in AWS, not to a local lake`);
    if (noCheckpoint || dt !== undefined) throw new UsageError(`--${flag} acts on the checkpoint, which ${noCheckpoint ? '--no-checkpoint' : '--dt'} does not move`);
  }

  const store = s3 ? new S3Store(s3Client(io.env, endpoint), s3.bucket) : await localStore(resolve(lake!), dataPrefix);
  const glue = glueDatabase !== undefined ? glueClient(endpoint) : undefined;
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
    location: `${store.describe(dataPrefix)}/`,
    config: { dataPrefix, maintenance, flatten: { carry } },
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
  try {
    result = await runMaintenance(p.request, {
      store: p.store,
      config: p.config,
      now: p.now,
      repointView: p.repointView,
      holds: sqs ? async () => naming(`--dlq-url ${p.dlqUrl}`, dlqHold(sqs, p.dlqUrl!, (await readPointer(p.store, p.config.maintenance)).bound)) : undefined,
      onDay: (day, done, of) => progress.update(done / of, `${done}/${of} days, dt=${day.dt} ${day.status}${p.request.checkpoint && done === of ? ', checkpoint…' : ''}`),
    });
  } finally {
    progress.done();
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
  return 0;
}
