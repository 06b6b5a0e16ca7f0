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
  runLakeBench,
  type BackfillCase,
  type ChurnCase,
  type LakeLife,
  type LakeResult,
  type WindowCost,
} from './lake.ts';
import { ATHENA_MODEL, type ModelInput } from './lake-model.ts';
import { formatBytes, median } from './measure.ts';
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
 * the lake at the sizes users have (issue 22), each a ratio, a size or a
 * figure derived from measurements in this run, printed as one table with
 * its target, plus the scale, Parquet library and lake tables (the nine
 * cases, the backfills, the model's inputs with their sources) and the
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
  /** Records each batch size of the stream path gets through the handler. */
  readonly lakeStreamRecords: number;
  /** Items of the simulated lake (backfilled, then changing 1% and 10% a day), its days, its export's data files. */
  readonly lakeItems: number;
  readonly lakeDays: number;
  readonly lakeExportFiles: number;
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
  lakeStreamRecords: 20_000,
  // 20,000 orders are about 560,000 rows; at 10% a day a compacted day holds about 53,000.
  lakeItems: 20_000,
  lakeDays: 30,
  lakeExportFiles: 4,
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
  lakeStreamRecords: 500,
  lakeItems: 1_000,
  lakeDays: 8,
  lakeExportFiles: 2,
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

    log(`the lake at scale (issue 22), temporary lakes in ${dir}`);
    const lake = await runLakeBench(
      { streamRecordsPerSize: sizes.lakeStreamRecords, lifeItems: sizes.lakeItems, lifeDays: sizes.lakeDays, lifeFiles: sizes.lakeExportFiles },
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

export const usd = (x: number): string => `$${x < 0.01 ? x.toFixed(4) : x.toFixed(3)}`;
const pct = (x: number): string => `${Math.round(x * 100)}%`;
const itemsText = (n: number): string => (n >= 1e9 ? `${n / 1e9} B` : `${n / 1e6} M`);
const gbText = (bytes: number): string => (bytes >= 1e12 ? `${(bytes / 1e12).toFixed(2)} TB` : bytes >= 1e9 ? `${(bytes / 1e9).toFixed(1)} GB` : mb(bytes));
const duration = (s: number): string => (s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 120 ? `${(s / 60).toFixed(0)} min` : `${s.toFixed(0)} s`);

/** The case the single-case figures describe: 100 M items, 10% a day (the middle of the nine). */
const REFERENCE = { items: 1e8, churn: 0.1 } as const;

function referenceCase(l: LakeResult): ChurnCase {
  return l.cases.find((c) => c.items === REFERENCE.items && c.churn === REFERENCE.churn)!;
}

/** The lake's figures: measured where the text says measured, modelled at full size (bench/lake-model.ts) otherwise. */
export function lakeFigures(l: LakeResult): Figure[] {
  const target = l.targetPerGb;
  const targetText = `≤ ${usd(target)} (Firehose / ${1 / COST_TARGET_SHARE})`;
  const ref = referenceCase(l);
  const d = ref.windows.defaults;
  const figures: Figure[] = [
    info('lake.compaction.objectsBefore', `7. Lake: stream objects a day, ${itemsText(ref.items)} items, ${pct(ref.churn)} a day, defaults (${ref.partitions.partitions} shards)`, d.stream.objects, `${count(Math.round(d.stream.objects))} (${count(Math.round(d.stream.recordsPerBatch))} records an object, ${d.stream.recordsPerShardSecond.toFixed(1)} records/s a shard; modelled)`),
    info('lake.compaction.objectsAfter', '7. Lake: objects of that day after compaction', d.compaction.outputObjects, `${count(d.compaction.outputObjects)} (${gbText(ref.compactedDayBytes)}, objects of 128 MiB; modelled)`),
  ];
  for (const c of l.cases) {
    const w = c.windows.defaults;
    figures.push(
      targeted(`maintenance.perGB.${c.id}`, `8. Maintenance $/GB of changes: ${itemsText(c.items)} items, ${pct(c.churn)} a day`, w.perGb.maintenance.total, `${usd(w.perGb.maintenance.total)} (compaction ${usd(w.perGb.compaction.total)}, checkpoints ${usd(w.perGb.checkpoint.total)}, one every ${c.cadence.meanDaysBetween.toFixed(1)} days)`, '<=', target, targetText),
    );
  }
  for (const b of l.backfills) {
    figures.push(targeted(`maintenance.perGB.${b.id}`, `8. Maintenance $/GB of the table: the morning after a backfill of ${itemsText(b.items)} items`, b.perGb.total, `${usd(b.perGb.total)} (Athena ${usd(b.perGb.athena)}, function ${usd(b.perGb.lambda)}, S3 ${usd(b.perGb.s3)})`, '<=', target, targetText));
  }
  for (const c of l.cases) {
    const w = c.windows.defaults;
    figures.push(targeted(`total.perGB.${c.id}`, `9. Whole pipeline $/GB: ${itemsText(c.items)} items, ${pct(c.churn)} a day, window ${w.trigger.windowSeconds} s`, w.perGb.total, `${usd(w.perGb.total)} (stream ${usd(w.perGb.stream.total)}; ${c.partitions.partitions} shards at ${w.stream.recordsPerShardSecond.toFixed(1)} records/s)`, '<=', target, targetText));
  }
  for (const c of l.cases) {
    const w = c.windows.longest;
    figures.push(targeted(`total.perGB.${c.id}.window${w.trigger.windowSeconds}`, `9. Whole pipeline $/GB: ${itemsText(c.items)} items, ${pct(c.churn)} a day, window ${w.trigger.windowSeconds} s`, w.perGb.total, `${usd(w.perGb.total)} (stream ${usd(w.perGb.stream.total)}, ${count(Math.round(w.stream.recordsPerBatch))} records an object)`, '<=', target, targetText));
  }
  const worst = (pick: (w: ChurnCase['windows']) => WindowCost) => l.cases.reduce((a, c) => (pick(c.windows).stream.latencySeconds > pick(a.windows).stream.latencySeconds ? c : a));
  const slowDefaults = worst((w) => w.defaults);
  const slowLongest = worst((w) => w.longest);
  figures.push(
    info('cost.perGB.firehose', `9. Firehose Direct PUT + Parquet conversion, $/GB of ${count(Math.round(l.measured.stream.recordBytes))} B records`, l.firehose.total, `${usd(l.firehose.total)} (billed as ${l.firehose.billedGbPerGb.toFixed(2)} GB: 5 KB a record, ingestion and conversion)`),
    info('cost.perGB.firehose.conversionUnrounded', "9. The same with the conversion billed on the records' own bytes", l.firehose.totalConversionUnrounded, usd(l.firehose.totalConversionUnrounded)),
    targeted('latency.defaults', `9. A record's wait until its object is in the lake, window ${slowDefaults.windows.defaults.trigger.windowSeconds} s (the slowest case)`, slowDefaults.windows.defaults.stream.latencySeconds, `${slowDefaults.windows.defaults.stream.latencySeconds.toFixed(1)} s (${slowDefaults.id})`, '<=', 60, '≤ 60 s'),
    info(`latency.window${slowLongest.windows.longest.trigger.windowSeconds}`, `9. The same at window ${slowLongest.windows.longest.trigger.windowSeconds} s`, slowLongest.windows.longest.stream.latencySeconds, `${slowLongest.windows.longest.stream.latencySeconds.toFixed(1)} s (${slowLongest.id})`),
  );
  const statements = [
    ...l.cases.flatMap((c) => [{ id: `${c.id} compaction`, s: c.windows.defaults.compaction }, { id: `${c.id} checkpoint`, s: c.checkpoint }]),
    ...l.backfills.flatMap((b) => [{ id: `${b.id} compaction`, s: b.compaction }, { id: `${b.id} checkpoint`, s: b.checkpoint }]),
  ];
  const longest = statements.reduce((a, x) => (x.s.seconds > a.s.seconds ? x : a));
  const commits = [
    ...l.cases.flatMap((c) => [
      { id: c.id, run: c.windows.defaults.runs.compactOnly, c: c.windows.defaults.compaction },
      { id: `${c.id} (with a checkpoint)`, run: c.windows.defaults.runs.rebuild, c: c.windows.defaults.compaction },
    ]),
    ...l.backfills.map((b) => ({ id: b.id, run: b.run, c: b.compaction })),
  ];
  const longestCommit = commits.reduce((a, x) => (x.run.commitSeconds > a.run.commitSeconds ? x : a));
  const mostCommitInvocations = commits.reduce((a, x) => (x.run.commitInvocations > a.run.commitInvocations ? x : a));
  const commitsEnd = commits.every((x) => x.run.commitCompletes && x.run.withinTimeout);
  const fn = l.defaults.fn;
  const bigCheckpoints = [...l.cases.filter((c) => c.items === 1e9).map((c) => ({ id: `${pct(c.churn)} a day`, s: c.checkpoint })), ...l.backfills.filter((b) => b.items === 1e9).map((b) => ({ id: 'after a backfill', s: b.checkpoint }))];
  const longestCheckpoint = bigCheckpoints.reduce((a, x) => (x.s.seconds > a.s.seconds ? x : a));
  figures.push(
    targeted('maintenance.querySeconds.max', `10. Longest maintenance statement in Athena at ${ATHENA_MODEL.vcpus} vCPUs (modelled)`, longest.s.seconds, `${duration(longest.s.seconds)} (${longest.id}, ${gbText(longest.s.inputBytes)} in; ${Math.ceil(longest.s.vcpusForTimeout)} vCPUs would end it in ${ATHENA_MODEL.dmlTimeoutSeconds / 60} min)`, '<=', ATHENA_MODEL.dmlTimeoutSeconds, `≤ ${ATHENA_MODEL.dmlTimeoutSeconds / 60} min (Athena's DML timeout)`),
    targeted(
      'maintenance.checkpointSeconds.items1e9',
      `10. A 1 B-item table's checkpoint statement in Athena at ${ATHENA_MODEL.vcpus} vCPUs (modelled; the longest of its cases)`,
      longestCheckpoint.s.seconds,
      bigCheckpoints.map((x) => `${x.id}: ${duration(x.s.seconds)} (${gbText(x.s.inputBytes)} in)`).join('; '),
      '<=',
      ATHENA_MODEL.dmlTimeoutSeconds,
      `≤ ${ATHENA_MODEL.dmlTimeoutSeconds / 60} min (Athena's DML timeout, raisable to ${ATHENA_MODEL.dmlTimeoutMaxSeconds / 60})`,
    ),
    {
      id: 'maintenance.commitSeconds.max',
      figure: `10. Longest compaction commit in the function (listing, copies ${fn.copyConcurrency} at a time, deletes ${fn.deleteConcurrency} requests at a time; modelled)`,
      value: longestCommit.run.commitSeconds,
      measured: `${duration(longestCommit.run.commitSeconds)} in ${longestCommit.run.commitInvocations} invocation(s) (${longestCommit.id}: ${count(longestCommit.c.outputObjects)} copies, ${count(Math.round(longestCommit.c.inputObjects))} inputs deleted; the most an invocation runs past its deadline ${longestCommit.run.overrunSeconds.toFixed(1)} s)`,
      target: `ends: copies resume across invocations, each invocation within its ${fn.timeoutSeconds} s (its overrun ≤ the ${fn.reserveSeconds} s reserve)`,
      pass: commitsEnd,
    },
    info('maintenance.commitInvocations.max', '10. Most invocations a compaction commit takes (modelled)', mostCommitInvocations.run.commitInvocations, `${mostCommitInvocations.run.commitInvocations} (${mostCommitInvocations.id}, ${duration(mostCommitInvocations.run.commitSeconds)})`),
  );
  const all = l.lives.flatMap((x) => x.mornings.map((m) => m.scanRatio));
  const worstLife = l.lives.reduce((a, x) => (x.scanRatio.max > a.scanRatio.max ? x : a));
  const lifeText = (x: LakeLife): string => `${pct(x.churn)} a day: max ${ratio(x.scanRatio.max)}, median ${ratio(x.scanRatio.median)}`;
  figures.push(
    targeted('query.currentState.scanRatio', `11. Current-state query: bytes read / bytes of the state, the morning after each run, ${l.lives[0]!.mornings.length} days, share ${l.defaults.rebuild.share} (the most)`, worstLife.scanRatio.max, `${ratio(worstLife.scanRatio.max)} (${l.lives.map(lifeText).join('; ')})`, '<=', 1 + l.defaults.rebuild.share, `≤ ${1 + l.defaults.rebuild.share}`),
    info('query.currentState.scanRatio.typical', '11. The same, the median morning', median(all), ratio(median(all))),
    info(
      'query.currentState.growth',
      `11. Bytes a current-state query reads the morning after day ${l.lives[0]!.mornings.length} / after day 1 (the old "day 30 / day 1": it follows the state's own bytes, not the lake's age)`,
      Math.max(...l.lives.map((x) => x.scanRatio.day30OverDay1)),
      l.lives.map((x) => `${pct(x.churn)}: ${ratio(x.scanRatio.day30OverDay1)} (the state itself ${ratio(x.mornings.at(-1)!.stateBytes / x.mornings[0]!.stateBytes)})`).join(', '),
    ),
  );
  return figures;
}

/** One line of the nine cases: the table, its stream, its maintenance, the whole, at both windows. */
export function casesTable(l: LakeResult): string {
  const ok = (x: number): string => (x <= l.targetPerGb ? 'yes' : '**no**');
  return markdownTable(
    ['items', 'changes a day', 'DynamoDB JSON a day', 'shards', 'records/s a shard', 'records an object (30 s / 300 s)', 'stream objects a day (30 s)', 'checkpoint every', 'checkpoint statement', 'commit (invocations)', 'maintenance $/GB 30 s', '(queries 10× slower)', 'maintenance 300 s', 'stream $/GB 30 s', 'total 30 s', 'total 300 s', 'meets target (30 s / 300 s)'],
    l.cases.map((c) => {
      const d = c.windows.defaults;
      const x = c.windows.longest;
      return [
        itemsText(c.items),
        `${pct(c.churn)} (${count(c.changesPerDay)})`,
        gbText(c.jsonBytesPerDay),
        `${c.partitions.partitions}`,
        d.stream.recordsPerShardSecond.toFixed(1),
        `${count(Math.round(d.stream.recordsPerBatch))} / ${count(Math.round(x.stream.recordsPerBatch))}`,
        count(Math.round(d.stream.objects)),
        `${c.cadence.meanDaysBetween.toFixed(1)} days`,
        `${gbText(c.checkpoint.inputBytes)}, ${duration(c.checkpoint.seconds)}`,
        `${duration(d.runs.compactOnly.commitSeconds)} (${d.runs.compactOnly.commitInvocations})`,
        usd(d.perGb.maintenance.total),
        usd(d.maintenanceSlow),
        usd(x.perGb.maintenance.total),
        usd(d.perGb.stream.total),
        usd(d.perGb.total),
        usd(x.perGb.total),
        `${ok(d.perGb.total)} / ${ok(x.perGb.total)}`,
      ];
    }),
  );
}

export function backfillTable(l: LakeResult): string {
  return markdownTable(
    ['backfill of', 'DynamoDB JSON', 'export files (shards)', 'compaction: scans, in Athena', 'first checkpoint: scans, in Athena', 'commit (copies, invocations)', 'function invocations', '$/GB', '(queries 10× slower)'],
    l.backfills.map((b: BackfillCase) => [
      itemsText(b.items),
      gbText(b.jsonBytes),
      count(b.partitions.partitions),
      `${gbText(b.compaction.inputBytes)}, ${duration(b.compaction.seconds)}`,
      `${gbText(b.checkpoint.inputBytes)}, ${duration(b.checkpoint.seconds)}`,
      `${duration(b.run.commitSeconds)} (${count(b.compaction.outputObjects)}, ${b.run.commitInvocations})`,
      count(b.run.invocations),
      usd(b.perGb.total),
      usd(b.perGbSlow),
    ]),
  );
}

export function inputsTable(inputs: readonly ModelInput[]): string {
  const value = (x: number): string => (Math.abs(x) >= 1000 ? count(Math.round(x)) : Math.abs(x) >= 1 ? x.toFixed(2).replace(/\.00$/, '') : x.toPrecision(3));
  return markdownTable(
    ['input', 'value', 'source'],
    inputs.map((i) => [i.label, `${value(i.value)} ${i.unit}`.trim(), `${i.kind}: ${i.source}`]),
  );
}

export function livesTable(l: LakeResult): string {
  return markdownTable(
    ['simulated lake', 'mornings', 'checkpoints written', 'scan ratio: max', 'median', 'max without the open day', 'read, last morning / first'],
    l.lives.map((x) => {
      return [
        `${count(x.items)} orders, ${pct(x.churn)} a day, batches of ${count(x.recordsPerBatch)}`,
        `${x.mornings.length}`,
        `${x.mornings.filter((m) => m.checkpoint.status === 'written').length}`,
        ratio(x.scanRatio.max),
        ratio(x.scanRatio.median),
        ratio(x.scanRatio.closedMax),
        ratio(x.scanRatio.day30OverDay1),
      ];
    }),
  );
}

export function quietShardTable(l: LakeResult): string {
  return markdownTable(
    ['window', 'records an object', 'objects a day', 'in the lake within', 'stream $/GB', 'compaction of its objects $/GB', 'together'],
    l.quietShard.map((q) => [`${q.windowSeconds} s`, count(Math.round(q.recordsPerObject)), count(Math.round(q.objectsPerDay)), `${q.latencySeconds.toFixed(0)} s`, usd(q.streamPerGb), usd(q.compactionPerGb), usd(q.streamPerGb + q.compactionPerGb)]),
  );
}

function lakeSections(l: LakeResult): string[] {
  const d = l.defaults;
  return [
    `The lake at scale (issue 22): $ per GB (2^30 bytes) of DynamoDB JSON changes, us-east-1; Firehose ${usd(l.firehose.total)}/GB on the same ${count(Math.round(l.measured.stream.recordBytes))} B records, target ≤ ${usd(l.targetPerGb)}. ` +
      `Defaults: batch ${count(d.trigger.batchSize)}, window ${d.trigger.windowSeconds} s (and ${d.longest.windowSeconds} s, the longest allowed), ${d.fn.memoryMb} MB, checkpoint rebuilt at share ${d.rebuild.share} or age ${d.rebuild.maxAgeDays} days (cadence simulated day by day). ` +
      `Shards: one a partition, a partition per 10 GB or 1,000 WCU. Athena statements on ${ATHENA_MODEL.vcpus} vCPUs at DuckDB's measured rate (also shown 10× slower):`,
    '',
    casesTable(l),
    '',
    `The morning after a backfill ($ per GB of the table's DynamoDB JSON):`,
    '',
    backfillTable(l),
    '',
    `The simulated lakes (real runMaintenance and DuckDbEngine each morning; scan ratio = what a current-state query reads / a checkpoint written then):`,
    '',
    livesTable(l),
    '',
    `A quiet shard, 1 record/s (target ≤ ${usd(l.targetPerGb)} a GB for the whole pipeline):`,
    '',
    quietShardTable(l),
    '',
    'The model\'s inputs:',
    '',
    inputsTable(l.inputs),
    '',
  ];
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
    ...lakeSections(r.lake),
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
