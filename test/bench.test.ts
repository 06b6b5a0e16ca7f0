import { describe, expect, it } from 'vitest';
import { exportItem, exportLine } from '../bench/export-file.ts';
import { formatResults, runBench, type BenchResults, type BenchSizes } from '../bench/run.ts';
import { DEFAULTS } from '../modules/props.ts';

/**
 * Smoke test of `npm run bench`: every measurement runs, at tiny sizes, and
 * gives a well-formed result. No time is asserted here: the bench reports
 * figures against targets, it does not fail on them.
 */

const TINY: BenchSizes = {
  exportGzipBytes: 150e3,
  throughputRounds: 1,
  cliRuns: 1,
  dataPathRecords: 200,
  dataPathRuns: 1,
  libraryRuns: 1,
  coldInitRuns: 1,
  synthRuns: 1,
  lakeDayRecords: 1_000,
  lakeTableKeys: 100,
  lakeChangesPerDay: 100,
  lakeDays: 3,
};

const positive = (x: number): void => {
  expect(Number.isFinite(x), `${x} is finite`).toBe(true);
  expect(x).toBeGreaterThan(0);
};

// One tiny run, shared by the tests below in order (a test run alone makes its own).
let results: BenchResults;

describe('npm run bench', () => {

  it('runs every measurement at tiny sizes', async () => {
    results = await runBench(TINY);
    expect(results.sizes).toEqual(TINY);
  }, 300_000);

  it('gives every figure as a finite positive number with a target and a verdict', () => {
    const ids = results.figures.map((f) => f.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of [
      'handler.ratio', 'cli.ratio', 'cli.rss.small', 'cli.rss.big', 'cli.rss.growth', 'cli.rss.capped', 'bundle.zip', 'bundle.coldInit', 'synth', 'lake.export', 'lake.stream', 'scale.rate', 'scale.rss',
      'lake.compaction.objectsBefore', 'lake.compaction.objectsAfter', 'lake.compaction.rowsPerSecond', 'lake.compaction.taskSeconds', 'lake.checkpoint.taskSeconds',
      'query.currentState.scanRatio', 'query.currentState.scanRatio.noMaintenance', 'cost.perGB.defaults', 'cost.perGB.firehose',
    ]) {
      expect(ids).toContain(id);
    }
    for (const f of results.figures) {
      // cold init is a difference of two medians; at one run each it can come out at or below zero
      if (f.id !== 'bundle.coldInit') positive(f.value);
      expect(f.measured.length).toBeGreaterThan(0);
      if (f.pass === undefined) expect(f.target).toBe('—');
      else expect(typeof f.pass).toBe('boolean');
    }
  });

  it('measures the CLI side by side with the baseline on the same files', () => {
    const { throughput, quarter, scale, capped } = results.cli;
    for (const x of [throughput.ratio, throughput.parseMs, throughput.lakeSizeRatio, quarter.maxRssBytes]) positive(x);
    expect(scale.map((p) => p.scale)).toEqual([1, 10, 100]);
    expect(scale[0]!.items).toBeLessThan(scale[1]!.items);
    expect(scale[1]!.items).toBeLessThan(scale[2]!.items);
    for (const p of scale) {
      for (const x of [p.rows, p.ms, p.rowsPerSecond, p.maxRssBytes, p.parquetBytes, p.gzipBytes, p.jsonBytes]) positive(x);
      expect(p.rows).toBeGreaterThanOrEqual(p.items);
    }
    expect(capped.run?.rows).toBe(throughput.cli.rows);
  });

  it('reports the data path, bundle, synth, libraries and machine', () => {
    const d = results.dataPath;
    expect(d.records).toBe(TINY.dataPathRecords);
    for (const x of [d.ratio, d.flattenRatio, d.encodeRatio, d.lakeSizeRatio, d.flattenRowsPerSecond, d.encodeRowsPerSecond]) positive(x);
    positive(results.bundle.zipBytes);
    positive(results.bundle.bareNodeMs);
    positive(results.synth.ms);
    expect(results.libraries.map((l) => l.library)).toHaveLength(4);
    for (const l of results.libraries) for (const x of [l.rowsPerSecond, l.bytesOut, l.bundleBytes]) positive(x);
    expect(results.machine.cores).toBeGreaterThan(0);
    expect(results.machine.node).toBe(process.version);
    const text = formatResults(results);
    expect(text).toContain('| figure');
    expect(text).toContain('Machine:');
    expect(JSON.parse(JSON.stringify(results)).figures).toHaveLength(results.figures.length);
  });
});

describe('the lake bench (issue 13)', () => {
  it('writes days of stream batches, compacts and checkpoints them, and prices them', async () => {
    results ??= await runBench(TINY);
    const l = results.lake;
    // The defaults are read from the module, and every setting is priced at both traffic levels.
    expect(l.defaults).toEqual({ batchSize: DEFAULTS.eventSourceMapping.batchSize, windowSeconds: DEFAULTS.eventSourceMapping.maximumBatchingWindowInSeconds, memoryMb: DEFAULTS.lambda.memorySize });
    expect(l.settings.filter((s) => s.isDefault)).toHaveLength(2);
    expect(new Set(l.settings.map((s) => s.traffic)).size).toBe(2);
    for (const s of l.settings) {
      for (const x of [s.recordsPerInvocation, s.objectsPerDay, s.objectsAfterCompaction, s.latencySeconds, s.perGb.stream.total, s.perGb.compaction.total, s.perGb.checkpoint.total]) positive(x);
      expect(s.perGb.total).toBeCloseTo(s.perGb.stream.total + s.perGb.compaction.total + s.perGb.checkpoint.total, 10);
      expect(s.recordsPerInvocation).toBeLessThanOrEqual(s.setting.batchSize);
    }
    // What ran for real: the stream objects, one per batch here, and a compaction that kept every distinct row.
    const m = l.day.measured;
    expect(m.objects).toBe(m.invocations);
    expect(m.compaction.objectsBefore).toBe(m.objects);
    expect(m.compaction.objectsAfter).toBeLessThan(m.compaction.objectsBefore);
    expect(m.compaction.rowsOut).toBeLessThanOrEqual(m.compaction.rowsIn);
    for (const x of [m.compaction.requests.get, m.compaction.requests.put, m.compaction.requests.list]) positive(x);
    // Each day the query reads the pointer's checkpoint and the open day; without maintenance, every object.
    const days = l.lakeDays.days;
    expect(days).toHaveLength(TINY.lakeDays);
    expect(days[0]!.checkpointBytes).toBe(0);
    for (const d of days.slice(1)) positive(d.checkpointBytes);
    for (const d of days) expect(d.queryBytes).toBe(d.checkpointBytes + d.recentBytes);
    expect(days[days.length - 1]!.allStreamBytes).toBeGreaterThan(days[0]!.allStreamBytes);
    positive(l.firehose.total);
    expect(l.firehose.billedGbPerGb).toBeGreaterThan(1); // records under 5 KB are billed as 5 KB
    expect(formatResults(results)).toContain('Lake cost by trigger setting');
  }, 300_000);
});

describe('bench export files', () => {
  it('are a pure function of the item number, seed-shaped: a key and a list of maps', () => {
    expect(exportLine(42)).toBe(exportLine(42));
    expect(exportLine(42)).not.toBe(exportLine(43));
    const item = exportItem(7);
    expect(item.pk).toEqual({ S: 'ORDER#0000000007' });
    const list = (item.items as { L: { M: Record<string, unknown> }[] }).L;
    expect(list.length).toBeGreaterThan(0);
    for (const line of list) expect(Object.keys(line.M)).toContain('sku');
  });
});
