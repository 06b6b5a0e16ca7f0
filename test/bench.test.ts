import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportItem, exportLine } from '../bench/export-file.ts';
import {
  attributeValueBytes,
  caseId,
  CHURNS,
  CountingStore,
  DEFAULT_FUNCTION,
  DELETE_CONCURRENCY,
  DEFAULT_TRIGGER,
  engineRate,
  itemBytes,
  LONGEST_WINDOW_TRIGGER,
  orderVersion,
  OrderTable,
  quietShard,
  QUIET_WINDOWS,
  SIMULATED_CHURNS,
  TABLE_ITEMS,
} from '../bench/lake.ts';
import {
  athenaBilledBytes,
  ATHENA_MODEL,
  checkpointCadence,
  compactionExtraRequests,
  CONTINUATION_REQUESTS,
  copySeconds,
  firehosePerGb,
  GB,
  interpolate,
  MiB,
  partitionsOf,
  priceOf,
  PRICES,
  runCost,
  statement,
  streamDay,
  type FunctionSetting,
  type Statement,
  type StreamMeasure,
} from '../bench/lake-model.ts';
import { formatResults, runBench, type BenchResults, type BenchSizes } from '../bench/run.ts';
import { DEFAULTS } from '../modules/props.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import { MAX_CONTINUATIONS } from '../src/actions/maintenance.ts';
import { FolderStore, S3Store } from '../src/lake/lake-store.ts';
import { COPY_CONCURRENCY, copyObjects } from '../src/maintenance/copy-objects.ts';
import { PART_BYTES } from '../src/lake/s3-output.ts';

/**
 * Smoke test of `npm run bench`: every measurement runs, at tiny sizes, and
 * gives a well-formed result; the lake's cost model is checked on small
 * inputs whose answers follow from its rules. No time and no dollar figure
 * of a run is asserted: the bench reports figures against targets, it does
 * not fail on them.
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
  lakeStreamRecords: 40,
  lakeItems: 300,
  lakeDays: 4,
  lakeExportFiles: 2,
};

const positive = (x: number): void => {
  expect(Number.isFinite(x), `${x} is finite`).toBe(true);
  expect(x).toBeGreaterThan(0);
};

const CASES = TABLE_ITEMS.flatMap((items) => CHURNS.map((churn) => caseId(items, churn)));
const BACKFILLS = TABLE_ITEMS.map((items) => caseId(items, 'backfill'));

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
      'lake.compaction.objectsBefore', 'lake.compaction.objectsAfter',
      ...CASES.map((c) => `maintenance.perGB.${c}`), ...BACKFILLS.map((c) => `maintenance.perGB.${c}`),
      ...CASES.map((c) => `total.perGB.${c}`), ...CASES.map((c) => `total.perGB.${c}.window${LONGEST_WINDOW_TRIGGER.windowSeconds}`),
      'cost.perGB.firehose', 'cost.perGB.firehose.conversionUnrounded', 'latency.defaults', `latency.window${LONGEST_WINDOW_TRIGGER.windowSeconds}`,
      'maintenance.querySeconds.max', 'maintenance.checkpointSeconds.items1e9', 'maintenance.commitSeconds.max', 'maintenance.commitInvocations.max',
      'query.currentState.scanRatio', 'query.currentState.scanRatio.typical', 'query.currentState.growth',
    ]) {
      expect(ids).toContain(id);
    }
    // The figures of the deleted task model are gone, not left stale.
    for (const gone of ['lake.compaction.taskSeconds', 'lake.checkpoint.taskSeconds', 'lake.compaction.rowsPerSecond', 'cost.perGB.defaults', 'cost.perGB.recommended', 'query.currentState.scanRatio.afterMaintenance', 'query.currentState.scanRatio.noMaintenance']) {
      expect(ids).not.toContain(gone);
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

describe('the lake at scale (issue 22)', () => {
  it('models the nine cases and the three backfills, every $ figure a finite positive sum of its parts', async () => {
    results ??= await runBench(TINY);
    const l = results.lake;
    expect(l.cases.map((c) => c.id)).toEqual(CASES);
    expect(l.backfills.map((b) => b.id)).toEqual(BACKFILLS);
    expect(l.defaults.trigger).toEqual({ batchSize: DEFAULTS.eventSourceMapping.batchSize, windowSeconds: DEFAULTS.eventSourceMapping.maximumBatchingWindowInSeconds });
    expect(l.defaults.longest.windowSeconds).toBe(300);
    expect(l.defaults.fn.memoryMb).toBe(DEFAULTS.lambda.memorySize);
    expect(l.targetPerGb).toBeCloseTo(l.firehose.total / 10, 12);
    expect(l.firehose).toEqual(firehosePerGb(l.measured.stream.recordBytes));
    const m = l.measured;
    for (const c of l.cases) {
      expect(c.changesPerDay).toBeCloseTo(c.items * c.churn, 6);
      expect(c.jsonBytesPerDay).toBeCloseTo(c.changesPerDay * m.stream.recordBytes, 0);
      // Shards follow from the table: its size and its writes, at the measured item size.
      expect(c.partitions).toEqual(partitionsOf({ items: c.items, itemStorageBytes: m.itemStorageBytes, writeUnitsPerChange: m.writeUnitsPerChange, changesPerDay: c.changesPerDay }));
      // The cadence comes from the rule run day by day, not from a constant.
      expect(c.cadence.rebuilds).toBe(checkpointCadence(c.checkpointBytes, c.compactedDayBytes, l.defaults.rebuild.share, l.defaults.rebuild.maxAgeDays).rebuilds);
      expect(c.cadence.meanDaysBetween).toBeGreaterThanOrEqual(1);
      expect(c.cadence.meanDaysBetween).toBeLessThanOrEqual(l.defaults.rebuild.maxAgeDays);
      for (const w of [c.windows.defaults, c.windows.longest]) {
        for (const x of [w.perGb.stream.total, w.perGb.compaction.total, w.perGb.checkpoint.total, w.perGb.maintenance.total, w.perGb.total, w.maintenanceSlow, w.stream.latencySeconds]) positive(x);
        expect(w.perGb.total).toBeCloseTo(w.perGb.stream.total + w.perGb.maintenance.total, 12);
        expect(w.perGb.maintenance.total).toBeCloseTo(w.perGb.compaction.total + w.perGb.checkpoint.total, 12);
        // Slower queries never cost less.
        expect(w.maintenanceSlow).toBeGreaterThanOrEqual(w.perGb.maintenance.total);
        expect(w.stream.recordsPerShardSecond).toBeCloseTo(c.changesPerDay / 86_400 / c.partitions.partitions, 9);
      }
      expect(c.windows.defaults.trigger).toEqual(DEFAULT_TRIGGER);
      expect(c.windows.longest.trigger).toEqual(LONGEST_WINDOW_TRIGGER);
      // A longer window never writes more objects.
      expect(c.windows.longest.stream.objects).toBeLessThanOrEqual(c.windows.defaults.stream.objects);
      expect(results.figures.find((f) => f.id === `maintenance.perGB.${c.id}`)!.value).toBe(c.windows.defaults.perGb.maintenance.total);
      expect(results.figures.find((f) => f.id === `total.perGB.${c.id}`)!.value).toBe(c.windows.defaults.perGb.total);
      expect(results.figures.find((f) => f.id === `total.perGB.${c.id}.window300`)!.value).toBe(c.windows.longest.perGb.total);
    }
    for (const b of l.backfills) {
      for (const x of [b.perGb.total, b.perGbSlow, b.jsonBytes, b.compaction.inputBytes, b.checkpoint.inputBytes]) positive(x);
      expect(b.jsonBytes).toBeCloseTo(b.items * m.exportBytesPerItem, 0);
      // One SNAPSHOT object per export data file, at least one file per partition.
      expect(b.compaction.inputObjects).toBe(b.partitions.partitions);
      expect(results.figures.find((f) => f.id === `maintenance.perGB.${b.id}`)!.value).toBe(b.perGb.total);
    }
    expect(l.quietShard.map((q) => q.windowSeconds)).toEqual([...QUIET_WINDOWS]);
    for (const x of [m.stream.recordBytes, m.stream.rowsPerRecord, m.rowsPerItem, m.itemStorageBytes, m.exportBytesPerItem, m.engine.compaction, m.engine.checkpoint, ...Object.values(m.bytesPerRow)]) positive(x);
    // Every model input says where it comes from.
    for (const i of l.inputs) {
      expect(['measured', 'published', 'assumed', 'module']).toContain(i.kind);
      expect(i.source.length).toBeGreaterThan(5);
      expect(Number.isFinite(i.value)).toBe(true);
      if (i.kind === 'published') expect(i.source).toMatch(/https:\/\//);
    }
    expect(formatResults(results)).toContain('The morning after a backfill');
  }, 300_000);

  it('lives through a backfill and days of changes with the real maintenance, and measures the scan ratio each morning', async () => {
    results ??= await runBench(TINY);
    const lives = results.lake.lives;
    expect(lives.map((x) => x.churn)).toEqual([...SIMULATED_CHURNS]);
    for (const life of lives) {
      expect(life.mornings).toHaveLength(TINY.lakeDays);
      expect(life.backfill.files).toBe(TINY.lakeExportFiles);
      expect(life.backfill.rows).toBeGreaterThan(life.backfill.items);
      // Morning 1 compacts the backfill's day and writes the first checkpoint of the whole table.
      expect(life.mornings[0]!.checkpoint.status).toBe('written');
      expect(life.mornings[0]!.compacted.objectsBefore).toBe(TINY.lakeExportFiles);
      for (const m of life.mornings) {
        expect(m.read.bytes).toBe(m.read.checkpointBytes + m.read.daysBytes);
        expect(m.read.openDayBytes).toBeLessThanOrEqual(m.read.daysBytes);
        expect(m.scanRatio).toBeCloseTo(m.read.bytes / m.stateBytes, 12);
        positive(m.stateBytes);
        positive(m.compacted.rows);
        // The rule's reason is given whenever it decided.
        if (m.checkpoint.status === 'written' || m.checkpoint.status === 'deferred') expect(m.checkpoint.why).toBeTruthy();
      }
      expect(life.scanRatio.max).toBe(Math.max(...life.mornings.map((m) => m.scanRatio)));
      expect(life.scanRatio.closedMax).toBeLessThanOrEqual(life.scanRatio.max + 1e-12);
    }
    const f = results.figures.find((x) => x.id === 'query.currentState.scanRatio')!;
    expect(f.value).toBe(Math.max(...lives.map((x) => x.scanRatio.max)));
    expect(f.pass).toBe(f.value <= 1 + DEFAULTS.compaction.checkpointRebuildShare);
  }, 300_000);

  it('bills Athena per query: bytes rounded up to a MB, 10 MB at least, $5 a TB', () => {
    expect(athenaBilledBytes(0)).toBe(10 * MiB);
    expect(athenaBilledBytes(10 * MiB)).toBe(10 * MiB);
    expect(athenaBilledBytes(10 * MiB + 1)).toBe(11 * MiB);
    expect(athenaBilledBytes(3.5 * GB)).toBe(3.5 * GB);
    expect(priceOf({ invocations: 0, gbSeconds: 0, putList: 0, get: 0, athenaBilledBytes: 2 ** 40 }).athena).toBeCloseTo(5, 12);
    const c = priceOf({ invocations: 1e6, gbSeconds: 1e6, putList: 1000, get: 1000, athenaBilledBytes: 0 });
    expect(c.lambda).toBeCloseTo(0.2 + 13.3334, 9);
    expect(c.s3).toBeCloseTo(0.005 + 0.0004, 12);
    expect(c.total).toBeCloseTo(0.2 + 13.3334 + 0.0054, 9);
  });

  it('prices Firehose per record rounded up to 5 KB', () => {
    const f = firehosePerGb(600);
    expect(f.billedGbPerGb).toBeCloseTo(5120 / 600, 12);
    expect(f.total).toBeCloseTo((5120 / 600) * (0.029 + 0.018), 12);
    expect(f.totalConversionUnrounded).toBeCloseTo((5120 / 600) * 0.029 + 0.018, 12);
    expect(firehosePerGb(5120).billedGbPerGb).toBe(1);
    expect(firehosePerGb(5121).billedGbPerGb).toBeCloseTo(10240 / 5121, 12);
    expect(PRICES.firehoseIncrementBytes).toBe(5 * 1024);
  });

  it('gives a table the partitions its size and its writes need, one shard each', () => {
    const base = { itemStorageBytes: 1000, writeUnitsPerChange: 1, changesPerDay: 0 };
    expect(partitionsOf({ ...base, items: 1e6 }).partitions).toBe(1);
    // 10^11 bytes over 10 GiB partitions.
    expect(partitionsOf({ ...base, items: 1e8 })).toEqual({ partitions: 10, bySize: 10, byWrites: 0 });
    // 2,500 writes a second of one unit each: three partitions of 1,000 WCU.
    expect(partitionsOf({ ...base, items: 1e6, changesPerDay: 2_500 * 86_400 })).toEqual({ partitions: 3, bySize: 1, byWrites: 3 });
    expect(partitionsOf({ ...base, items: 1e6, writeUnitsPerChange: 2, changesPerDay: 2_500 * 86_400 }).byWrites).toBe(5);
  });

  it('writes a quiet shard one object a window, a busy one a batch at the 6 MB payload', () => {
    const m: StreamMeasure = {
      handlerMs: [{ x: 1, y: 1 }, { x: 101, y: 11 }],
      objectBytes: [{ x: 1, y: 2_000 }, { x: 101, y: 12_000 }],
      objectsPerBatch: 1,
      recordBytes: 2_000,
    };
    expect(interpolate(m.handlerMs, 31)).toBeCloseTo(4, 12);
    expect(interpolate(m.objectBytes, 201)).toBeCloseTo(22_000, 9);
    // One record a second on one shard, window 30 s: 2,880 objects of 30 records a day.
    const quiet = streamDay(86_400, 1, { batchSize: 10_000, windowSeconds: 30 }, { memoryMb: 512 }, m);
    expect(quiet.recordsPerBatch).toBe(30);
    expect(quiet.batches).toBe(2_880);
    expect(quiet.objects).toBe(2_880);
    expect(quiet.objectBytes).toBeCloseTo(2_880 * 4_900, 6);
    // 3.9 ms of CPU (read off the line at 30 records) at 512 MB's share of a vCPU, plus the PUT's 30 ms, billed to the millisecond.
    expect(quiet.invocationSeconds).toBe(Math.ceil(3.9 * (1769 / 512) + 30) / 1000);
    expect(quiet.usage.putList).toBe(2_880);
    expect(quiet.usage.gbSeconds).toBeCloseTo(2_880 * quiet.invocationSeconds * 0.5, 9);
    expect(quiet.latencySeconds).toBeCloseTo(30 + quiet.invocationSeconds, 9);
    // The longest window: ten times fewer objects.
    expect(streamDay(86_400, 1, { batchSize: 10_000, windowSeconds: 300 }, { memoryMb: 512 }, m).objects).toBe(288);
    // 1,000 records a second: the 6 MB payload cuts a batch at 3,145 records of 2,000 bytes.
    const busy = streamDay(86_400_000, 1, { batchSize: 10_000, windowSeconds: 30 }, { memoryMb: 512 }, m);
    expect(busy.recordsPerBatch).toBe(Math.floor((6 * 1024 * 1024) / 2_000));
    // Under one record a window, each record is its own batch.
    expect(streamDay(100, 1, { batchSize: 10_000, windowSeconds: 30 }, { memoryMb: 512 }, m).batches).toBe(100);
  });

  it('rebuilds the checkpoint by the rule, day by day: at the share of its bytes with the next day, or at its age', () => {
    // A day adds a tenth of the checkpoint: rebuilt every second day (20% + the next day's 10% >= 25%), so the
    // closed days read beside it are at most a tenth, and with the open day at most 1.2 times it.
    const byShare = checkpointCadence(100, 10, 0.25, 7, 12);
    expect(byShare.days.filter((d) => d.rebuilt).map((d) => d.day)).toEqual([2, 4, 6, 8, 10, 12]);
    expect(byShare.days[1]!.scannedBytes).toBe(120);
    expect(byShare.maxReadShare).toBeCloseTo(1.1, 12);
    expect(byShare.meanDaysBetween).toBe(2);
    // A day adds 1%: the age rebuilds it every seventh day.
    const byAge = checkpointCadence(100, 1, 0.25, 7, 364);
    expect(byAge.rebuilds).toBe(52);
    expect(byAge.scannedPerDay).toBeCloseTo((52 * 107) / 364, 9);
    // A day larger than the share: every day.
    expect(checkpointCadence(100, 30, 0.25, 7, 10).rebuilds).toBe(10);
  });

  it("times a statement at the engine's rate on Athena's vCPUs, and a run's function time, invocations and requests", () => {
    const s = statement({ objects: 10, bytes: 10 * MiB, partitions: 1 }, 300 * MiB, 1 * MiB);
    // Ten objects under 3 MB: a GET each; one LIST; three output objects of 100 MiB, each a multipart upload of 16 MiB parts.
    expect(s.usage.get).toBe(10);
    expect(s.outputObjects).toBe(3);
    expect(s.usage.putList).toBe(1 + 3 * (2 + Math.ceil((100 * MiB) / (16 * MiB))));
    expect(s.usage.athenaBilledBytes).toBe(10 * MiB);
    expect(s.cpuSeconds).toBeCloseTo(10 + 10 * ATHENA_MODEL.openSeconds, 12);
    expect(s.seconds).toBeCloseTo(ATHENA_MODEL.overheadSeconds + s.cpuSeconds / ATHENA_MODEL.vcpus, 12);
    expect(s.vcpusForTimeout).toBeCloseTo(s.cpuSeconds / (ATHENA_MODEL.dmlTimeoutSeconds - ATHENA_MODEL.overheadSeconds), 12);
    expect(statement({ objects: 10, bytes: 10 * MiB, partitions: 1 }, 300 * MiB, 1 * MiB, 10).cpuSeconds).toBeCloseTo(10 * s.cpuSeconds, 9);
    // A run of two such statements: one invocation (120 s less the 30 s reserve) holds it all. It sends its
    // requests, then Athena's query still running, a pass that waits lists the day again and reads the plan;
    // after the query, the day listed, the three copies (one wave of 16), the DeleteObjects of inputs and staging.
    const requests = { list: 10, put: 3, copy: 1, delete: 2, get: 2 };
    const run = runCost({ compaction: s, checkpoint: s, requests }, DEFAULT_FUNCTION);
    expect(run.waitSeconds).toBeCloseTo(2 * s.seconds, 12);
    expect(run.invocations).toBe(1);
    expect(run.commitInvocations).toBe(1);
    expect(copySeconds(s)).toBeCloseTo(0.03 + (100 * MiB) / ATHENA_MODEL.copyBytesPerSecond, 12);
    expect(run.commitSeconds).toBeCloseTo(0.03 + copySeconds(s) + 2 * ATHENA_MODEL.deleteSeconds, 12);
    expect(run.requests).toEqual({ list: 12, put: 3, copy: 1, delete: 2, get: 3 });
    expect(run.usage.gbSeconds).toBeCloseTo((18 * 0.03 + run.waitSeconds + run.commitSeconds) * 0.5, 9);
    expect(run.usage.athenaBilledBytes).toBe(2 * 10 * MiB);
    expect(run).toMatchObject({ commitCompletes: true, overrunSeconds: 0, withinTimeout: true, withinContinuations: true });
    // A wait longer than an invocation: handed on every 90 s, each continuation with its requests.
    const long = { ...s, seconds: 200 };
    const handed = runCost({ checkpoint: long, requests: { list: 0, put: 0, copy: 0, delete: 0, get: 0 } }, DEFAULT_FUNCTION);
    expect(handed.invocations).toBe(3);
    expect(handed.requests).toEqual({ list: 2 * CONTINUATION_REQUESTS.list, put: 0, copy: 0, delete: 0, get: 2 * CONTINUATION_REQUESTS.get });
    // What grows with a day's objects: pages of 1,000 keys, DeleteObjects of 1,000 keys, a copy an output.
    expect(compactionExtraRequests(1_000, 1)).toEqual({ list: 0, put: 0, copy: 0, delete: 0, get: 0 });
    expect(compactionExtraRequests(2_500, 4)).toEqual({ list: 4, put: 0, copy: 3, delete: 2, get: 3 });
  });

  it('commits a compaction 16 copies at a time, handing on to the next invocation when it runs out of time', () => {
    const fn: FunctionSetting = { memoryMb: 1024, timeoutSeconds: 120, reserveSeconds: 30, copyConcurrency: 16, deleteConcurrency: 8, maxContinuations: 200 };
    // 320 outputs of a copy a second each: 20 waves of 16. 2,000 inputs: the day is 2 pages, the day with the outputs 3.
    const c: Statement = { inputObjects: 2_000, inputBytes: 1e9, outputBytes: 320 * 0.97e8, outputObjects: 320, seconds: 85, cpuSeconds: 1, vcpusForTimeout: 1, usage: { invocations: 0, gbSeconds: 0, putList: 0, get: 0, athenaBilledBytes: 0 } };
    expect(copySeconds(c)).toBeCloseTo(1, 12);
    const run = runCost({ compaction: c, requests: { list: 0, put: 0, copy: 0, delete: 0, get: 0 } }, fn);
    // The first invocation: the pass that waits (3 lists, a GET: 0.12 s), the query (85 s), then in the same pass
    // the day listed (0.09 s) and five waves started before its deadline at 90 s; it hands on. The second: its
    // continuation's requests (11: 0.33 s), the other 15 waves, the deletes (0.4 s).
    expect(run.invocations).toBe(2);
    expect(run.commitInvocations).toBe(2);
    expect(run.commitSeconds).toBeCloseTo(0.09 + 5 + 0.33 + 15 + 0.4, 9);
    expect(run.overrunSeconds).toBeCloseTo(0.21, 9);
    expect(run).toMatchObject({ commitCompletes: true, withinTimeout: true });
    expect(run.usage.gbSeconds).toBeCloseTo(90.21 + 15.73, 9);
    // The commit's first listing counts one page fewer: the measured run's requests hold one.
    expect(run.requests).toEqual({ list: 3 + (3 - 1) + 5 + 4, put: 0, copy: 0, delete: 0, get: 1 + 2 });
    // One copy at a time: 320 one-second copies need more invocations. The first copies 5; each continuation
    // (its requests 0.33 s) copies 90 and, out of time, its pass that waits lists the day and its state and
    // reads the plan (4 requests: 0.12 s), not the commit, and hands on: 5 + 3 × 90, the last 45 in a fifth.
    const serial = runCost({ compaction: c, requests: { list: 0, put: 0, copy: 0, delete: 0, get: 0 } }, { ...fn, copyConcurrency: 1 });
    expect(serial.commitInvocations).toBe(5);
    expect(serial.commitSeconds).toBeCloseTo(0.09 + 5 + 3 * (0.33 + 90 + 0.12) + 0.33 + 45 + 0.4, 9);
    expect(serial.overrunSeconds).toBeCloseTo(0.45, 9);
    expect(serial.requests).toEqual({ list: 3 + (3 - 1) + 4 * (5 + 4) + 3 * 3, put: 0, copy: 0, delete: 0, get: 1 + 4 * 2 + 3 });
    // A day so large that listing it fills an invocation: no copy would ever start.
    const huge = runCost({ compaction: { ...c, inputObjects: 3_000_000 }, requests: { list: 0, put: 0, copy: 0, delete: 0, get: 0 } }, fn);
    expect(huge.commitCompletes).toBe(false);
    expect(huge.withinTimeout).toBe(false);
  });

  it("models the commit's concurrency as the code has it", async () => {
    const inFlight = { now: 0, max: 0 };
    const request = async (): Promise<object> => {
      inFlight.now++;
      inFlight.max = Math.max(inFlight.max, inFlight.now);
      await new Promise((r) => setTimeout(r, 2));
      inFlight.now--;
      return {};
    };
    // S3Store.delete: 20,000 keys are 20 DeleteObjects requests.
    await new S3Store({ send: request } as unknown as S3Client, 'bucket').delete(Array.from({ length: 20_000 }, (_, i) => `k${i}`));
    expect(inFlight.max).toBe(DELETE_CONCURRENCY);
    expect(DEFAULT_FUNCTION.deleteConcurrency).toBe(DELETE_CONCURRENCY);
    // copyObjects at its default concurrency.
    inFlight.max = 0;
    await copyObjects({ copy: async () => void (await request()) }, Array.from({ length: 100 }, (_, i) => ({ from: { key: `s${i}`, size: 1 }, to: `t${i}` })), new Map());
    expect(inFlight.max).toBe(DEFAULT_FUNCTION.copyConcurrency);
    expect(DEFAULT_FUNCTION.copyConcurrency).toBe(COPY_CONCURRENCY);
    expect(DEFAULT_FUNCTION.maxContinuations).toBe(MAX_CONTINUATIONS);
  });

  it('reads the engine rate off the slope of CPU over bytes', () => {
    expect(engineRate([{ x: 1_000, y: 7 }, { x: 3_000, y: 11 }, { x: 5_000, y: 15 }])).toBeCloseTo(500_000, 6);
    // No slope to read (one size): the bytes over the CPU time.
    expect(engineRate([{ x: 1_000, y: 10 }, { x: 1_000, y: 10 }])).toBeCloseTo(100_000, 6);
  });

  it('sizes items by DynamoDB\'s rules and changes orders as the stream delivers them', () => {
    expect(attributeValueBytes({ S: 'abc' })).toBe(3);
    expect(attributeValueBytes({ N: '123.45' })).toBe(4);
    expect(attributeValueBytes({ N: '1000' })).toBe(2);
    expect(attributeValueBytes({ BOOL: true })).toBe(1);
    expect(attributeValueBytes({ L: [{ S: 'a' }] })).toBe(5);
    expect(attributeValueBytes({ M: { ab: { N: '1' } } })).toBe(8);
    expect(itemBytes({ pk: { S: 'x' } })).toBe(3);
    expect(orderVersion(7, 0)).toEqual(exportItem(7));
    expect(orderVersion(7, 1).status).not.toEqual(exportItem(7).status);
    expect(orderVersion(7, 1).pk).toEqual(exportItem(7).pk);
    const t = new OrderTable(100, 1);
    const events = Array.from({ length: 2_000 }, (_, i) => t.next(1_790_000_000 + i));
    const names = new Set(events.map((e) => e.eventName));
    expect(names).toEqual(new Set(['MODIFY', 'REMOVE', 'INSERT']));
    for (const e of events) {
      if (e.eventName === 'MODIFY') expect(e.dynamodb!.OldImage && e.dynamodb!.NewImage).toBeTruthy();
      if (e.eventName === 'REMOVE') expect(e.dynamodb!.NewImage).toBeUndefined();
    }
    expect(caseId(1e9, 0.01)).toBe('items1e9.churn1');
    expect(caseId(1e7, 1)).toBe('items1e7.churn100');
    expect(caseId(1e8, 'backfill')).toBe('items1e8.backfill');
  });

  it('counts a quiet shard objects a window', () => {
    const m = results?.lake.measured;
    if (!m) return;
    const q = quietShard(1, 30, m);
    expect(q.objectsPerDay).toBe(2_880);
    expect(q.recordsPerObject).toBe(30);
    expect(quietShard(1, 300, m).objectsPerDay).toBe(288);
    positive(q.streamPerGb);
    positive(q.compactionPerGb);
  });

  it('counts the S3 requests S3Store would send for each store call', async () => {
    const root = mkdtempSync(join(tmpdir(), 'bench-count-'));
    try {
      const store = new CountingStore(new FolderStore(root));
      await store.write('a/small.json', '{}', 'application/json'); // one PutObject
      expect(store.requests).toEqual({ list: 0, put: 1, copy: 0, delete: 0, get: 0 });
      await store.write('a/big.bin', new Uint8Array(2 * PART_BYTES + 1), 'application/octet-stream'); // create, three parts, complete
      expect(store.requests.put).toBe(1 + 5);
      const out = await store.output('a/streamed.bin', 'application/octet-stream');
      await out.write(Buffer.alloc(PART_BYTES - 1));
      await out.commit(); // under a part: one PutObject
      expect(store.requests.put).toBe(7);
      expect((await store.list('a/')).length).toBe(3);
      expect(store.requests.list).toBe(1);
      await store.read('a/small.json');
      await store.read('a/missing.json'); // a GET answered NoSuchKey is billed too
      await store.readRange('a/big.bin', 0, 10);
      expect(store.requests.get).toBe(3);
      await store.copy({ key: 'a/small.json', size: 2 }, 'b/copied.json');
      expect(store.requests.copy).toBe(1);
      for (let i = 0; i < 1_001; i++) await store.write(`c/${String(i).padStart(4, '0')}.json`, '{}', 'application/json');
      const lists = store.requests.list;
      expect((await store.list('c/')).length).toBe(1_001);
      expect(store.requests.list - lists).toBe(2); // ListObjectsV2 pages hold 1,000 keys
      expect(await store.folders('')).toEqual(['a', 'b', 'c']);
      await store.delete([]);
      await store.delete(Array.from({ length: 1_001 }, (_, i) => `c/${String(i).padStart(4, '0')}.json`)); // two DeleteObjects
      expect(store.requests.delete).toBe(2);
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
