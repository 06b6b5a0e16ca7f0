import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measureCliThroughput, runCliCapped, runCliMedian, type CappedRun, type CliRun, type CliThroughput } from './cli.ts';
import { flattenEvent, lambdaBatch, measureDataPath, type DataPathResult } from './data-path.ts';
import { itemsForGzipBytes, writeExportFiles, type ExportFile } from './export-file.ts';
import { measureBundle, measureSynth, type BundleResult, type SynthResult } from './fresh-process.ts';
import {
  COST_TARGET_SHARE,
  describeSetting,
  LATENCY_TARGET_SECONDS,
  OBJECTS_AFTER_TARGET,
  runLakeBench,
  sameSetting,
  type LakeDaysResult,
  type LakeResult,
  type SettingCost,
} from './lake.ts';
import { formatBytes } from './measure.ts';
import { compareParquetLibraries, type LibraryResult } from './parquet-libraries.ts';
import {
  count,
  describeMachine,
  figuresTable,
  info,
  machine,
  markdownTable,
  mb,
  ms,
  perSecond,
  ratio,
  targeted,
  type Figure,
  type Machine,
} from './report.ts';

/**
 * `npm run bench [-- --quick] [-- --out FILE]`: every figure of issue 6 and
 * the lake's life cycle and cost of issue 13, each a ratio, a size or a
 * figure derived from measurements in this run, printed as one table with
 * its target, plus the scale, Parquet library and lake cost tables and the
 * machine; the results go to bench/results.json (--quick:
 * bench/results-quick.json). No figure is asserted anywhere: the bench
 * reports, the targets stand next to the figures.
 */

export interface BenchSizes {
  /** Gzip size of the large export file; the CLI figures use it, 1/4 of it, and 1/10 and 1/100 of its items. */
  readonly exportGzipBytes: number;
  /** Interleaved baseline/CLI rounds on the large file. */
  readonly throughputRounds: number;
  /** CLI runs per smaller file (median time, highest RSS). */
  readonly cliRuns: number;
  readonly dataPathRecords: number;
  readonly dataPathRuns: number;
  readonly libraryRuns: number;
  readonly coldInitRuns: number;
  readonly synthRuns: number;
  /** Records of the first part of a day each trigger setting writes through the handler and compacts, in at most lakeDayInvocations batches. */
  readonly lakeDayRecords: number;
  readonly lakeDayInvocations: number;
  /** Items of the table whose days of changes the current-state query figure simulates, and its changes a day. */
  readonly lakeTableKeys: number;
  readonly lakeChangesPerDay: number;
  readonly lakeDays: number;
}

export const FULL: BenchSizes = {
  exportGzipBytes: 200e6,
  throughputRounds: 2,
  cliRuns: 3,
  dataPathRecords: 10_000,
  dataPathRuns: 25,
  libraryRuns: 5,
  coldInitRuns: 15,
  synthRuns: 5,
  // 150,000 records are about 300,000 rows: more than a compaction task sorts in memory (250,000), so the rate includes a spill and merge.
  lakeDayRecords: 150_000,
  lakeDayInvocations: 1_500,
  lakeTableKeys: 3_000,
  lakeChangesPerDay: 3_000,
  lakeDays: 30,
};

export const QUICK: BenchSizes = {
  exportGzipBytes: 4e6,
  throughputRounds: 1,
  cliRuns: 1,
  dataPathRecords: 10_000,
  dataPathRuns: 5,
  libraryRuns: 1,
  coldInitRuns: 3,
  synthRuns: 1,
  lakeDayRecords: 3_000,
  lakeDayInvocations: 150,
  lakeTableKeys: 200,
  lakeChangesPerDay: 200,
  lakeDays: 10,
};

export interface ScalePoint extends CliRun {
  readonly scale: number;
}

export interface BenchResults {
  readonly generated: string;
  readonly sizes: BenchSizes;
  readonly seconds: number;
  readonly machine: Machine;
  readonly figures: readonly Figure[];
  readonly dataPath: DataPathResult;
  readonly cli: {
    readonly throughput: CliThroughput;
    /** The CLI on the file of 1/4 the gzip size (about 50 MB in the full run). */
    readonly quarter: CliRun;
    readonly scale: readonly ScalePoint[];
    /** The large file again with V8's old space capped: is the live memory bounded? */
    readonly capped: CappedRun;
  };
  readonly bundle: BundleResult;
  readonly synth: SynthResult;
  readonly libraries: readonly LibraryResult[];
  readonly lake: LakeResult;
}

/** Memory counts as flat when the larger input's peak RSS is within this factor of the smaller one's. */
const FLAT_RSS = 1.25;
/** Time counts as linear when rows/s at 100× input stays at or above this fraction of rows/s at 1×. */
const LINEAR_RATE = 0.8;
const MB = 1e6;
const CAPPED_OLD_SPACE_MB = 128;

export async function runBench(sizes: BenchSizes, log: (line: string) => void = () => {}): Promise<BenchResults> {
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'ddbf-bench-'));
  try {
    log(`handler data path: ${count(sizes.dataPathRecords)} stream records, ${sizes.dataPathRuns} runs`);
    const dataPath = measureDataPath(sizes.dataPathRuns, sizes.dataPathRecords);

    log('Parquet libraries on the same batch');
    const libraries = await compareParquetLibraries(flattenEvent(lambdaBatch(sizes.dataPathRecords).event), sizes.libraryRuns);

    log(`Lambda bundle and cold init (${sizes.coldInitRuns} runs), synth (${sizes.synthRuns} runs)`);
    const bundle = measureBundle(sizes.coldInitRuns);
    const synth = measureSynth(sizes.synthRuns);

    const big = itemsForGzipBytes(sizes.exportGzipBytes);
    const counts = { x1: Math.round(big / 100), x10: Math.round(big / 10), quarter: Math.round(big / 4), x100: big };
    log(`export files: ${count(big)} items (~${formatBytes(sizes.exportGzipBytes)} gzip) and prefixes of it, in ${dir}`);
    const files = await writeExportFiles(dir, Object.values(counts));
    const file = (items: number): ExportFile => files.find((f) => f.items === items)!;

    log(`CLI vs read + gunzip + JSON.parse on ${formatBytes(file(big).gzipBytes)}, ${sizes.throughputRounds} round(s)`);
    const throughput = measureCliThroughput(file(big), dir, sizes.throughputRounds);
    log(`CLI on ${formatBytes(file(counts.quarter).gzipBytes)}`);
    const quarter = runCliMedian(file(counts.quarter), dir, sizes.cliRuns);
    log('CLI at 1x and 10x');
    const scale: ScalePoint[] = [
      { scale: 1, ...runCliMedian(file(counts.x1), dir, sizes.cliRuns) },
      { scale: 10, ...runCliMedian(file(counts.x10), dir, sizes.cliRuns) },
      { scale: 100, ...throughput.cli },
    ];
    log(`CLI on ${formatBytes(file(big).gzipBytes)} with V8 old space capped at ${CAPPED_OLD_SPACE_MB} MB`);
    const capped = runCliCapped(file(big), dir, CAPPED_OLD_SPACE_MB);

    log(`lake life cycle and cost (issue 13), temporary lakes in ${dir}`);
    const lake = await runLakeBench(
      { dayRecords: sizes.lakeDayRecords, dayInvocations: sizes.lakeDayInvocations, tableKeys: sizes.lakeTableKeys, changesPerDay: sizes.lakeChangesPerDay, days: sizes.lakeDays },
      dir,
      log,
    );

    const partial = { dataPath, cli: { throughput, quarter, scale, capped }, bundle, synth, libraries, lake };
    return {
      generated: new Date().toISOString(),
      sizes,
      seconds: Math.round((performance.now() - started) / 1000),
      machine: machine(),
      figures: figuresOf(partial),
      ...partial,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function figuresOf(r: Pick<BenchResults, 'dataPath' | 'cli' | 'bundle' | 'synth' | 'lake'>): Figure[] {
  const d = r.dataPath;
  const t = r.cli.throughput;
  const [x1, , x100] = r.cli.scale as [ScalePoint, ScalePoint, ScalePoint];
  const big = mb(t.cli.gzipBytes);
  const small = mb(r.cli.quarter.gzipBytes);
  const rssGrowth = t.cli.maxRssBytes / r.cli.quarter.maxRssBytes;
  return [
    targeted('handler.ratio', `1. Handler: (flatten + Parquet encode) / JSON.parse, ${count(d.records)} records, ${mb(d.payloadBytes)}`, d.ratio, ratio(d.ratio), '<=', 2, '≤ 2.0'),
    info('handler.flatten', '1. Handler: flatten rate', d.flattenRowsPerSecond, `${perSecond(d.flattenRowsPerSecond)} (${ratio(d.flattenRatio)}× JSON.parse time)`),
    info('handler.encode', '1. Handler: Parquet encode rate', d.encodeRowsPerSecond, `${perSecond(d.encodeRowsPerSecond)} (${ratio(d.encodeRatio)}× JSON.parse time)`),
    targeted('cli.ratio', `2. CLI: flatten to Parquet / (read + gunzip + JSON.parse), ${big} gzip`, t.ratio, ratio(t.ratio), '<=', 2, '≤ 2.0'),
    info('cli.rate', '2. CLI: rows/s on that file', t.cli.rowsPerSecond, `${perSecond(t.cli.rowsPerSecond)} (${count(t.cli.rows)} rows in ${ms(t.cli.ms)})`),
    targeted('cli.rss.small', `2. CLI: peak RSS, ${small} gzip`, r.cli.quarter.maxRssBytes, mb(r.cli.quarter.maxRssBytes), '<=', 512 * MB, '≤ 512 MB'),
    targeted('cli.rss.big', `2. CLI: peak RSS, ${big} gzip`, t.cli.maxRssBytes, mb(t.cli.maxRssBytes), '<=', 512 * MB, '≤ 512 MB'),
    targeted('cli.rss.growth', `2. CLI: peak RSS ${big} / ${small}`, rssGrowth, ratio(rssGrowth), '<=', FLAT_RSS, `flat (≤ ${FLAT_RSS})`),
    cappedFigure(r.cli.capped, big),
    targeted('bundle.zip', '3. Lambda bundle, zipped', r.bundle.zipBytes, mb(r.bundle.zipBytes), '<=', 1 * MB, '≤ 1 MB'),
    targeted('bundle.coldInit', '3. Cold init: import of the bundled handler − bare node start', r.bundle.coldInitMs, ms(r.bundle.coldInitMs), '<=', 150, '≤ 150 ms'),
    targeted('synth', '4. Synth of the whole stack, fresh process', r.synth.ms, ms(r.synth.ms), '<=', 2000, '≤ 2 s'),
    targeted('lake.export', '5. Lake size: Parquet / DynamoDB JSON, CLI export file', t.lakeSizeRatio, t.lakeSizeRatio.toFixed(3), '<=', 0.1, '≤ 0.10'),
    targeted('lake.stream', '5. Lake size: Parquet / DynamoDB JSON, handler batch', d.lakeSizeRatio, d.lakeSizeRatio.toFixed(3), '<=', 0.1, '≤ 0.10'),
    targeted('scale.rate', '6. Scale: rows/s at 100× / rows/s at 1×', x100.rowsPerSecond / x1.rowsPerSecond, ratio(x100.rowsPerSecond / x1.rowsPerSecond), '>=', LINEAR_RATE, `linear (≥ ${LINEAR_RATE})`),
    targeted('scale.rss', '6. Scale: peak RSS at 100× / 1×', x100.maxRssBytes / x1.maxRssBytes, ratio(x100.maxRssBytes / x1.maxRssBytes), '<=', FLAT_RSS, `flat (≤ ${FLAT_RSS})`),
    ...lakeFigures(r.lake),
  ];
}

const usd = (x: number): string => `$${x < 0.01 ? x.toFixed(4) : x.toFixed(3)}`;

/** The lake's figures: measured where the text says measured, derived (a whole day from its first part, dollars from prices) otherwise. */
export function lakeFigures(l: LakeResult): Figure[] {
  const d = l.day;
  const m = d.measured;
  const c = d.day.compaction;
  const days = l.lakeDays;
  const first = days.days[0]!;
  const last = days.days[days.days.length - 1]!;
  const steady = (s: { batchSize: number; windowSeconds: number; memoryMb: number }): SettingCost =>
    l.settings.find((x) => x.traffic === l.model.trafficPerShard && sameSetting(x.setting, s))!;
  const defaults = steady(l.defaults);
  const recommended = steady(l.recommended);
  const firehose = l.firehose.total;
  const costTarget = firehose * COST_TARGET_SHARE;
  const at = `${describeSetting(l.defaults)}, ${l.model.trafficPerShard} records/s a shard`;
  const scan = (x: LakeDaysResult): string => {
    const end = x.days[x.days.length - 1]!;
    return `${ratio(x.scanRatio)} (day ${x.days.length}: checkpoint ${mb(end.checkpointBytes)} + open day ${mb(end.recentBytes)}; day 1: ${mb(x.days[0]!.queryBytes)})`;
  };
  const figures: Figure[] = [
    info('lake.compaction.objectsBefore', `7. Lake: stream objects in a day, defaults (${at})`, d.day.objectsBefore, `${count(d.day.objectsBefore)} (derived: ${count(d.day.records)} records in batches of ${count(Math.round(d.recordsPerInvocation))}; measured: ${count(m.objects)} for the day's first ${count(m.records)})`),
    targeted('lake.compaction.objectsAfter', '7. Lake: objects in that day after compaction', c.objectsAfter, `${count(c.objectsAfter)} (derived: ${mb(m.compaction.bytesAfter * d.day.scale)} of Parquet; measured: ${count(m.compaction.objectsBefore)} → ${count(m.compaction.objectsAfter)})`, '<=', OBJECTS_AFTER_TARGET, `a handful (≤ ${OBJECTS_AFTER_TARGET})`),
    info('lake.compaction.rowsPerSecond', '7. Lake: compaction rate, rows per CPU-second of this process', m.compaction.rowsPerSecond, `${perSecond(m.compaction.rowsPerSecond)} (${count(m.compaction.rowsIn)} rows of ${count(m.compaction.objectsBefore)} objects in ${ms(m.compaction.ms)} CPU, ${ms(m.compaction.wallMs)} wall)`),
    targeted('lake.compaction.taskSeconds', `7. Lake: that day's compaction task in the function at ${l.defaults.memoryMb} MB (derived)`, c.taskSeconds, `${c.taskSeconds.toFixed(0)} s (${c.tasks} task(s), ${count(Math.round(c.requests.get))} GETs at ${l.model.s3RequestSeconds * 1000} ms)`, '<=', l.model.functionTimeoutSeconds, `≤ ${l.model.functionTimeoutSeconds} s (the function's timeout)`),
    targeted('lake.checkpoint.taskSeconds', `7. Lake: a checkpoint task in the function at ${l.defaults.memoryMb} MB, table of a day's changes (derived)`, days.checkpoint.full.taskSeconds, `${days.checkpoint.full.taskSeconds.toFixed(0)} s (${days.checkpoint.full.tasks} task(s), ${count(Math.round(days.checkpoint.full.rows))} rows)`, '<=', l.model.functionTimeoutSeconds, `≤ ${l.model.functionTimeoutSeconds} s (the function's timeout)`),
    targeted('query.currentState.scanRatio', `7. Lake: current-state query's Parquet bytes at the end of day ${days.days.length} / of day 1, daily maintenance, defaults`, days.scanRatio, scan(days), '<=', 1.5, '≤ 1.5'),
    info('query.currentState.scanRatio.afterMaintenance', '7. Lake: the same measured the morning after each last night\'s maintenance (as npm start -- --days prints)', days.scanRatioAfterMaintenance, `${ratio(days.scanRatioAfterMaintenance)} (${mb(last.afterMaintenanceBytes)} / ${mb(first.afterMaintenanceBytes)})`),
    info('query.currentState.growth', `7. Lake: current-state query's bytes at the end of day ${days.days.length} / at the end of day 2 (the first with a checkpoint)`, days.growthSinceDay2, `${ratio(days.growthSinceDay2)} (${mb(last.queryBytes)} / ${mb((days.days[1] ?? first).queryBytes)})`),
    info('query.currentState.scanRatio.noMaintenance', '7. Lake: the same without maintenance (the view reading every object)', days.scanRatioWithoutMaintenance, `${ratio(days.scanRatioWithoutMaintenance)} (${mb(last.allStreamBytes)} / ${mb(first.allStreamBytes)})`),
  ];
  if (l.recommendedDays) {
    const x = l.recommendedDays;
    figures.push(targeted('query.currentState.scanRatio.recommended', `7. Lake: the same with daily maintenance at ${describeSetting(x.setting)} (recommended)`, x.scanRatio, scan(x), '<=', 1.5, '≤ 1.5'));
  }
  figures.push(
    info('cost.perGB.firehose', `8. Cost: Firehose Direct PUT + Parquet conversion, $/GB of ${count(Math.round(l.recordBytes))} B records`, firehose, `${usd(firehose)} (billed as ${ratio(l.firehose.billedGbPerGb)} GB: 5 KB a record, ingestion and conversion)`),
    info('cost.perGB.firehose.conversionUnrounded', '8. Cost: the same with the conversion billed on the records\' own bytes', l.firehose.totalConversionUnrounded, usd(l.firehose.totalConversionUnrounded)),
    targeted('cost.perGB.defaults', `8. Cost: the pipeline at defaults (${at}), $/GB of DynamoDB JSON`, defaults.perGb.total, costText(defaults), '<=', costTarget, `≤ ${usd(costTarget)} (Firehose / ${1 / COST_TARGET_SHARE})`),
    targeted('latency.defaults', `8. Latency: a record's wait until its object is in the lake, defaults (${at})`, defaults.latencySeconds, `${defaults.latencySeconds.toFixed(1)} s`, '<=', LATENCY_TARGET_SECONDS, `≤ ${LATENCY_TARGET_SECONDS} s`),
  );
  if (!defaults.isRecommended) {
    figures.push(
      targeted('cost.perGB.recommended', `8. Cost: the pipeline at ${describeSetting(recommended.setting)} (recommended defaults), ${l.model.trafficPerShard} records/s a shard`, recommended.perGb.total, costText(recommended), '<=', costTarget, `≤ ${usd(costTarget)} (Firehose / ${1 / COST_TARGET_SHARE})`),
      targeted('latency.recommended', `8. Latency: the same at ${describeSetting(recommended.setting)}`, recommended.latencySeconds, `${recommended.latencySeconds.toFixed(1)} s`, '<=', LATENCY_TARGET_SECONDS, `≤ ${LATENCY_TARGET_SECONDS} s`),
    );
  }
  return figures;
}

function costText(c: SettingCost): string {
  return `${usd(c.perGb.total)} (stream ${usd(c.perGb.stream.total)}, compaction ${usd(c.perGb.compaction.total)}, checkpoints ${usd(c.perGb.checkpoint.total)})`;
}

/** The trade-off: each setting at each traffic, $/GB with its parts, objects a day, the latency bound. */
export function lakeCostTable(l: LakeResult): string {
  return markdownTable(
    ['setting', 'records/s', 'records/invocation', 'objects/day → compacted', 'in the lake ≤', 'compaction task', 'stream $/GB', 'compaction', 'checkpoints', 'total $/GB', 'meets target'],
    l.settings.map((c) => [
      `${describeSetting(c.setting)}${c.isDefault ? ' (defaults)' : ''}${c.isRecommended && !c.isDefault ? ' (recommended)' : ''}`,
      count(c.traffic),
      count(Math.round(c.recordsPerInvocation)),
      `${count(c.objectsPerDay)} → ${count(c.objectsAfterCompaction)}`,
      `${c.latencySeconds.toFixed(1)} s`,
      `${c.compactionTaskSeconds.toFixed(0)} s`,
      usd(c.perGb.stream.total),
      usd(c.perGb.compaction.total),
      usd(c.perGb.checkpoint.total),
      usd(c.perGb.total),
      c.meetsTarget ? (c.meetsTargetConversionUnrounded ? 'yes' : 'yes (not vs the lower Firehose figure)') : 'no',
    ]),
  );
}

function cappedFigure(c: CappedRun, size: string): Figure {
  const figure = `2. CLI: peak RSS, ${size} gzip, node --max-old-space-size=${c.oldSpaceMb}`;
  if (!c.run) return { id: 'cli.rss.capped', figure, value: Number.NaN, measured: 'did not complete', target: 'completes, ≤ 512 MB', pass: false };
  return targeted('cli.rss.capped', figure, c.run.maxRssBytes, `${mb(c.run.maxRssBytes)} in ${ms(c.run.ms)}`, '<=', 512 * MB, 'completes, ≤ 512 MB');
}

export function scaleTable(points: readonly ScalePoint[]): string {
  return markdownTable(
    ['input', 'items', 'rows', 'gzip', 'DynamoDB JSON', 'time', 'rows/s', 'peak RSS'],
    points.map((p) => [`${p.scale}×`, count(p.items), count(p.rows), mb(p.gzipBytes), mb(p.jsonBytes), ms(p.ms), perSecond(p.rowsPerSecond), mb(p.maxRssBytes)]),
  );
}

export function librariesTable(libraries: readonly LibraryResult[]): string {
  return markdownTable(
    ['library', 'rows/s', 'bytes out', 'bundle (gzip)', 'note'],
    libraries.map((l) => [l.library, perSecond(l.rowsPerSecond), mb(l.bytesOut), mb(l.bundleBytes), l.note]),
  );
}

export function formatResults(r: BenchResults): string {
  const failed = r.figures.filter((f) => f.pass === false).length;
  return [
    figuresTable(r.figures),
    '',
    `Scale (CLI, --format parquet --out, fresh process per run; 100× is the ${mb(r.cli.throughput.cli.gzipBytes)} file):`,
    '',
    scaleTable(r.cli.scale),
    '',
    `Parquet libraries, the same ${count(r.dataPath.rows)} rows (handler batch):`,
    '',
    librariesTable(r.libraries),
    '',
    `Lake cost by trigger setting, per GB (2^30 bytes) of DynamoDB JSON in ${count(Math.round(r.lake.recordBytes))} B records, us-east-1 prices; Firehose: ${usd(r.lake.firehose.total)}/GB ` +
      `(${usd(r.lake.firehose.totalConversionUnrounded)} with the conversion on the records' own bytes). ` +
      `Target: ≤ ${usd(r.lake.firehose.total * COST_TARGET_SHARE)} and in the lake ≤ ${LATENCY_TARGET_SECONDS} s. Handler and maintenance CPU measured here (stretched to the memory's vCPU share), ` +
      `S3 requests counted, ${r.lake.model.s3RequestSeconds * 1000} ms assumed per request; a whole day derived from its first part (up to ${count(r.sizes.lakeDayRecords)} records in ${count(r.sizes.lakeDayInvocations)} invocations); ` +
      `checkpoints of a table with as many items as a day has changes; compaction task vs the ${r.lake.model.functionTimeoutSeconds} s timeout:`,
    '',
    lakeCostTable(r.lake),
    '',
    `Machine: ${describeMachine(r.machine)}`,
    `Run: ${r.generated}, ${r.seconds} s; ${failed === 0 ? 'every target met' : `${failed} target(s) not met`}.`,
  ].join('\n');
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { quick: { type: 'boolean', default: false }, out: { type: 'string' } } });
  const sizes = values.quick ? QUICK : FULL;
  const out = values.out ?? new URL(values.quick ? './results-quick.json' : './results.json', import.meta.url).pathname;
  const results = await runBench(sizes, (line) => process.stderr.write(`bench: ${line}\n`));
  console.log(formatResults(results));
  writeFileSync(out, `${JSON.stringify(results, null, 2)}\n`);
  console.error(`bench: wrote ${out}`);
}
