import { describe, expect, it } from 'vitest';
import { exportItem, exportLine } from '../bench/export-file.ts';
import { CANDIDATE_SETTINGS, CountingStore, cutBatches, firehosePerGb, GB, measuredRecords, PAYLOAD_LIMIT_BYTES, PRICES, priceOf, QUIET_TRAFFIC_PER_SHARD, RECOMMENDED_SETTING, recordsPerWindow, sameSetting, TableChanges } from '../bench/lake.ts';
import { formatResults, runBench, type BenchResults, type BenchSizes } from '../bench/run.ts';
import { DEFAULTS } from '../modules/props.ts';
import { FolderStore } from '../src/lake/lake-store.ts';
import { PART_BYTES } from '../src/lake/s3-output.ts';

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
  lakeDayInvocations: 20,
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
      'query.currentState.scanRatio', 'query.currentState.scanRatio.afterMaintenance', 'query.currentState.growth', 'query.currentState.scanRatio.noMaintenance', 'cost.perGB.defaults', 'cost.perGB.firehose', 'cost.perGB.firehose.conversionUnrounded', 'latency.defaults',
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
    // The defaults are read from the module, and every setting is priced at every traffic level.
    expect(l.defaults).toEqual({ batchSize: DEFAULTS.eventSourceMapping.batchSize, windowSeconds: DEFAULTS.eventSourceMapping.maximumBatchingWindowInSeconds, memoryMb: DEFAULTS.lambda.memorySize });
    const traffics = [l.model.trafficPerShard, ...QUIET_TRAFFIC_PER_SHARD];
    expect([...new Set(l.settings.map((s) => s.traffic))]).toEqual(traffics);
    expect(l.settings.filter((s) => s.isDefault)).toHaveLength(traffics.length);
    // The defaults and every candidate, once each, at every traffic.
    const distinct = [l.defaults, ...CANDIDATE_SETTINGS.filter((c) => !sameSetting(c, l.defaults))];
    expect(l.settings.map((s) => s.setting)).toEqual(traffics.flatMap(() => distinct));
    expect(l.settings.filter((s) => s.isRecommended)).toHaveLength(traffics.length);
    expect(l.recommended).toEqual(RECOMMENDED_SETTING);
    for (const s of l.settings) {
      for (const x of [s.recordsPerInvocation, s.objectsPerDay, s.objectsAfterCompaction, s.latencySeconds, s.perGb.stream.total, s.perGb.compaction.total, s.perGb.checkpoint.total]) positive(x);
      expect(s.perGb.total).toBeCloseTo(s.perGb.stream.total + s.perGb.compaction.total + s.perGb.checkpoint.total, 10);
      expect(s.recordsPerInvocation).toBe(recordsPerWindow(s.setting, s.traffic));
      // A batch waits at most the window (or the poll) before the invocation.
      expect(s.latencySeconds).toBeGreaterThan(Math.min(s.setting.windowSeconds, s.recordsPerInvocation / s.traffic) - 1e-9);
    }
    // cost.perGB.defaults is the defaults' row at the stated traffic.
    const defaults = l.settings.find((s) => s.isDefault && s.traffic === l.model.trafficPerShard)!;
    expect(results.figures.find((f) => f.id === 'cost.perGB.defaults')!.value).toBe(defaults.perGb.total);
    expect(results.figures.find((f) => f.id === 'cost.perGB.defaults')!.pass).toBe(defaults.perGb.total <= l.firehose.total * l.model.costTargetShare);
    // What ran for real: the stream objects, one per batch here, and a compaction that kept every distinct row.
    const m = l.day.measured;
    expect(m.objects).toBe(m.invocations);
    expect(m.compaction.objectsBefore).toBe(m.objects);
    // Split as a full day is (sort tasks, a merge task per bucket, then stitched): objects of the target size, not one per bucket.
    expect(m.compaction.objectsAfter).toBeLessThanOrEqual(Math.ceil(m.compaction.bytesAfter / DEFAULTS.compaction.targetBytes));
    expect(m.compaction.rowsOut).toBeLessThanOrEqual(m.compaction.rowsIn);
    for (const x of [m.compaction.requests.get, m.compaction.requests.put, m.compaction.requests.list]) positive(x);
    // The stream path's PUTs and invocations per GB are the objects and batches written, over the JSON they carried.
    expect(l.day.perGb.stream.put).toBeCloseTo((m.objects * GB) / m.jsonBytes, 6);
    expect(l.day.perGb.stream.invocations).toBeCloseTo((m.invocations * GB) / m.jsonBytes, 6);
    // Firehose is priced on the same records.
    expect(l.recordBytes).toBe(m.jsonBytes / m.records);
    expect(l.firehose).toEqual(firehosePerGb(l.recordBytes));
    // Each day the query reads the pointer's checkpoint and the open day; without maintenance, every object.
    const days = l.lakeDays.days;
    expect(days).toHaveLength(TINY.lakeDays);
    expect(days[0]!.checkpointBytes).toBe(0);
    for (const d of days.slice(1)) positive(d.checkpointBytes);
    for (const d of days) expect(d.queryBytes).toBe(d.checkpointBytes + d.recentBytes);
    // The morning after, the query reads that night's checkpoint alone, the one it reads with the next day's objects.
    for (let i = 0; i + 1 < days.length; i++) expect(days[i]!.afterMaintenanceBytes).toBe(days[i + 1]!.checkpointBytes);
    // At the end of a day the table holds the earlier days compacted and the day's own stream objects.
    days.forEach((d, i) => expect(d.tableObjects).toBe(days.slice(0, i).reduce((n, x) => n + x.compaction.objectsAfter, 0) + d.streamObjects));
    expect(days[days.length - 1]!.allStreamBytes).toBeGreaterThan(days[0]!.allStreamBytes);
    // The recommended setting gets days of its own only while it is not the defaults (then lakeDays are its days).
    if (defaults.isRecommended) expect(l.recommendedDays).toBeUndefined();
    else expect(l.recommendedDays?.setting).toEqual(RECOMMENDED_SETTING);
    const ids = results.figures.map((f) => f.id);
    if (!defaults.isRecommended) for (const id of ['cost.perGB.recommended', 'latency.recommended', 'query.currentState.scanRatio.recommended']) expect(ids).toContain(id);
    expect(formatResults(results)).toContain('Lake cost by trigger setting');
  }, 300_000);

  it('prices Firehose per record rounded up to 5 KB, and the pipeline at the published rates', () => {
    const f = firehosePerGb(600);
    expect(f.billedGbPerGb).toBeCloseTo(5120 / 600, 12);
    expect(f.total).toBeCloseTo((5120 / 600) * (0.029 + 0.018), 12);
    expect(f.totalConversionUnrounded).toBeCloseTo((5120 / 600) * 0.029 + 0.018, 12);
    expect(firehosePerGb(5120).billedGbPerGb).toBe(1);
    expect(firehosePerGb(5121).billedGbPerGb).toBeCloseTo(10240 / 5121, 12);
    const c = priceOf({ invocations: 1e6, gbSeconds: 1e6, put: 1000, list: 1000, get: 1000 });
    expect(c.lambdaRequests).toBeCloseTo(0.2, 12);
    expect(c.lambdaCompute).toBeCloseTo(13.3334, 9);
    expect(c.s3PutList).toBeCloseTo(0.01, 12);
    expect(c.s3Get).toBeCloseTo(0.0004, 12);
    expect(c.total).toBeCloseTo(0.2 + 13.3334 + 0.01 + 0.0004, 9);
    expect(PRICES.firehoseIncrementBytes).toBe(5 * 1024);
  });

  it('cuts batches at the batch size, the window and the 6 MB payload, as the event source mapping does', () => {
    expect(recordsPerWindow({ batchSize: 100, windowSeconds: 5, memoryMb: 512 }, 100)).toBe(100);
    expect(recordsPerWindow({ batchSize: 10_000, windowSeconds: 30, memoryMb: 512 }, 100)).toBe(3_000);
    expect(recordsPerWindow({ batchSize: 10_000, windowSeconds: 0, memoryMb: 512 }, 100)).toBe(25); // polled four times a second
    expect(recordsPerWindow({ batchSize: 10_000, windowSeconds: 30, memoryMb: 512 }, 0.01)).toBe(1);
    // A full table's changes, mostly MODIFY with both images: about 660 bytes a record.
    const changes = new TableChanges(1_000, 5);
    for (let i = 0; i < 5_000; i++) changes.next(1_790_000_000);
    const records = Array.from({ length: 12_000 }, (_, i) => changes.next(1_790_000_000 + i));
    const batches = [...cutBatches(records, 10_000)];
    expect(batches.flat()).toEqual(records);
    for (const b of batches) {
      expect(b.length).toBeLessThanOrEqual(10_000);
      expect(JSON.stringify({ Records: b }).length).toBeLessThanOrEqual(PAYLOAD_LIMIT_BYTES);
    }
    expect(batches[0]!.length).toBeLessThan(10_000); // 10,000 such records pass 6 MB
    expect(JSON.stringify({ Records: [...batches[0]!, batches[1]![0]!] }).length).toBeGreaterThan(PAYLOAD_LIMIT_BYTES);
    expect([...cutBatches(records.slice(0, 250), 100)].map((b) => b.length)).toEqual([100, 100, 50]);
    // The measured part of a day: never more than the day, at least a few full batches.
    const s = { batchSize: 10_000, windowSeconds: 60, memoryMb: 512 };
    expect(measuredRecords(s, 100, 1_000, 1_500)).toBe(18_000);
    expect(measuredRecords(s, 1, 1_000_000, 1_500)).toBe(86_400);
    expect(measuredRecords({ batchSize: 100, windowSeconds: 5, memoryMb: 512 }, 100, 150_000, 1_500)).toBe(150_000);
    expect(measuredRecords({ batchSize: 100, windowSeconds: 5, memoryMb: 512 }, 100, 150_000, 100)).toBe(10_000);
  });

  it('counts the S3 requests S3Store would send for each store call', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const root = mkdtempSync(join(tmpdir(), 'bench-count-'));
    try {
      const store = new CountingStore(new FolderStore(root));
      await store.write('a/small.json', '{}', 'application/json'); // one PutObject
      expect(store.requests).toEqual({ put: 1, list: 0, get: 0 });
      await store.write('a/big.bin', new Uint8Array(2 * PART_BYTES + 1), 'application/octet-stream'); // one write: create, one part, complete
      expect(store.requests.put).toBe(1 + 3);
      let out = await store.output('a/streamed.bin', 'application/octet-stream');
      for (let i = 0; i < 5; i++) await out.write(Buffer.alloc(PART_BYTES / 2)); // parts after the 2nd and 4th chunk, the last at commit
      await out.commit();
      expect(store.requests.put).toBe(4 + 5);
      out = await store.output('a/streamed.bin', 'application/octet-stream');
      await out.write(Buffer.alloc(PART_BYTES - 1));
      await out.commit(); // under a part: one PutObject
      expect(store.requests).toEqual({ put: 10, list: 0, get: 0 });
      expect((await store.list('a/')).length).toBe(3);
      expect(store.requests.list).toBe(1);
      await store.read('a/small.json');
      await store.read('a/missing.json'); // a GET answered NoSuchKey is billed too
      await store.readRange('a/big.bin', 0, 10);
      expect(store.requests.get).toBe(3);
      // ListObjectsV2 pages hold 1,000 keys.
      const puts = store.requests.put;
      for (let i = 0; i < 1_001; i++) await store.write(`b/${String(i).padStart(4, '0')}.json`, '{}', 'application/json');
      const before = { ...store.requests };
      expect((await store.list('b/')).length).toBe(1_001);
      expect(store.requests.list - before.list).toBe(2);
      expect(await store.folders('')).toEqual(['a', 'b']);
      expect(store.requests.list - before.list).toBe(3);
      expect(store.requests.put - puts).toBe(1_001);
      store.requests.put = puts;
      await store.delete([]);
      await store.delete(Array.from({ length: 1001 }, (_, i) => `a/x${i}`)); // two DeleteObjects
      expect(store.requests.put).toBe(10 + 2);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
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
