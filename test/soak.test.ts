import { DynamoDBStreamsClient, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readRange } from '../src/actions/redrive.ts';
import { NO_CHECKPOINT } from '../src/maintenance/checkpoint.ts';
import { helpText, parseCommandArgs } from '../src/cli/args.ts';
import { FAULT_KINDS } from '../bench/soak/faults.ts';
import { SOAK_COMMAND, soakOptions } from '../bench/soak/options.ts';
import { soakTable } from '../bench/soak/report.ts';
import { runSoak, type SoakReport } from '../bench/soak/run.ts';
import { startStreamServer, type StreamServer } from '../bench/soak/stream-server.ts';
import { sequenceOf, shardIdOf, ShardWorkload, STREAM_ARN, type WorkloadOptions } from '../bench/soak/workload.ts';
import { drainShard, pollBatches, type MappingOptions, type OnFailureRecord } from './support/event-source-mapping.ts';
import { streamRecord } from './support/stream-events.ts';
import { motoMissing } from './support/tools.ts';

/**
 * `npm run soak` at a short configuration, so the soak cannot rot: the real
 * handler, moto's S3 behind the fault proxies, one mapping per shard,
 * redrive, the maintenance run (compaction and checkpoint, as statements in a stand-in Athena, handed on as
 * asynchronous invocations) and the DuckDB checks on the compacted lake,
 * with every fault kind made to happen.
 * Nothing here asserts a time. The parts it stands on (the mapping's
 * batching and on-failure records, the workload's replay that the redrive
 * reads, the flags) are tested first, without moto.
 */

const parse = (argv: string[]) => soakOptions(parseCommandArgs(SOAK_COMMAND, argv).values);

describe('npm run soak flags', () => {
  it('defaults to a million records over 100,000 items in 4 shards', () => {
    expect(parse([])).toMatchObject({ records: 1_000_000, keys: 100_000, shards: 4, seed: 1, batchSize: 1000 });
  });

  it.each([
    [['--records', '10'], /--records must be a whole number from 1,000 to 100,000,000, got "10"/],
    [['--shards', '0'], /--shards must be a whole number from 1 to 16, got "0"/],
    [['--keys', '5', '--shards', '4'], /--keys must be at least 2 per shard \(8 for --shards 4\), got 5/],
    [['--seed', 'x'], /--seed must be a whole number from 0 to 4,294,967,295, got "x"/],
    [['--faults', 'meteor=0.1'], /--faults: "meteor" is not a fault kind; allowed: slowdown, reset, hang, crash, duplicate, outage or poison/],
    [['--faults', 'hang=2'], /--faults: hang needs a rate from 0 to 1, such as hang=0.01, got "hang=2"/],
    [['--faults', 'slowdown=0.3,reset=0.3'], /slowdown \+ reset \+ hang must be at most 0.5/],
    [['--record', '5'], /unknown option --record for npm run soak -- \(did you mean --records\?\)/],
  ])('refuses %j naming the flag and what it allows', (argv, message) => {
    expect(() => parse(argv)).toThrow(message);
  });

  it('takes fault rates over the defaults and documents every kind', () => {
    expect(parse(['--faults', 'hang=0,crash=0.5']).rates).toMatchObject({ hang: 0, crash: 0.5, slowdown: 0.03 });
    for (const kind of FAULT_KINDS) expect(helpText(SOAK_COMMAND)).toContain(kind);
  });
});

describe('the event source mapping model', () => {
  const at = Date.UTC(2026, 10, 20) / 1000;
  const records = (times: number[], bytes = 10): DynamoDBRecord[] =>
    times.map((t, i) => streamRecord({ eventName: 'INSERT', keys: { pk: { S: `K${i}` } }, newImage: { pk: { S: `K${i}` } }, at: at + t, sequence: 1000n + BigInt(i), sizeBytes: bytes }));
  const options: MappingOptions = { batchSize: 4, bisectOnError: true, maxRetries: 2, timeoutMs: 1000, recordBytes: (r) => Number(r.dynamodb!.SizeBytes) };
  const sizes = async (source: DynamoDBRecord[], o: MappingOptions): Promise<number[]> => {
    const out: number[] = [];
    for await (const b of pollBatches(source, o)) out.push(b.length);
    return out;
  };

  it('closes a batch at its size, at the 6 MB payload and at the end of the batching window', async () => {
    expect(await sizes(records([0, 0, 0, 0, 0, 0]), options)).toEqual([4, 2]);
    expect(await sizes(records([0, 0, 0, 0, 0], 2_500_000), options)).toEqual([2, 2, 1]);
    expect(await sizes(records([0, 1, 5, 6, 12, 13]), { ...options, batchingWindowSeconds: 5 })).toEqual([3, 1, 2]);
  });

  it('sends an exhausted range to the on-failure destination as Lambda does, and counts every record once', async () => {
    const sent: OnFailureRecord[] = [];
    const stats = await drainShard(
      records([0, 0, 0, 0, 0, 0]),
      async (event) => (event.Records.some((r) => r.dynamodb!.SequenceNumber === '1005') ? { batchItemFailures: [{ itemIdentifier: event.Records[0]!.dynamodb!.SequenceNumber! }] } : { batchItemFailures: [] }),
      { ...options, shardId: 'shardId-1', functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f:live', onFailure: async (r) => void sent.push(r) },
    );
    expect(sent).toEqual(stats.dlq);
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: 3, functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:f:live' },
      version: '1.0',
      DDBStreamBatchInfo: { shardId: 'shardId-1', startSequenceNumber: '1004', endSequenceNumber: '1005', batchSize: 2, streamArn: STREAM_ARN, approximateArrivalOfFirstRecord: '2026-11-20T00:00:00Z' },
    });
    expect(stats).toMatchObject({ batches: 2, invocations: 4, retries: 2, acknowledged: 4, failedRecords: 2, closedBy: { size: 1, payload: 0, window: 0 } });
  });
});

describe('the soak workload', () => {
  const workload: WorkloadOptions = { seed: 7, records: 3_000, keys: 60, shards: 3, days: 3.5, poisonRate: 0.01, bigRate: 0.01 };

  it('is the same records every time, and a replay from any point gives the rest of them', () => {
    const first = new ShardWorkload(workload, 1);
    const all: DynamoDBRecord[] = [];
    for (let p = first.plan(); p; p = first.plan()) all.push(first.build(p));
    expect(all).toHaveLength(1_000);
    const replay = new ShardWorkload(workload, 1);
    replay.skipTo(617);
    const rest: DynamoDBRecord[] = [];
    for (let p = replay.plan(); p; p = replay.plan()) rest.push(replay.build(p));
    expect(rest).toEqual(all.slice(617));
    // Sequence numbers go up, times never go back, and the traffic crosses midnights.
    const sequences = all.map((r) => BigInt(r.dynamodb!.SequenceNumber!));
    expect(sequences.every((s, i) => i === 0 || s > sequences[i - 1]!)).toBe(true);
    const times = all.map((r) => Number(r.dynamodb!.ApproximateCreationDateTime));
    expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
    expect(new Set(times.map((t) => Math.floor(t / 86_400))).size).toBeGreaterThanOrEqual(3);
    // OldImage is the item's previous NewImage.
    const last = new Map<string, unknown>();
    for (const r of all) {
      const key = JSON.stringify(r.dynamodb!.Keys);
      if (r.eventName !== 'INSERT') expect(r.dynamodb!.OldImage).toEqual(last.get(key));
      if (r.eventName === 'REMOVE') last.delete(key);
      else if (JSON.stringify(r.dynamodb!.NewImage).includes('"Q"') === false && !/9{39}|not an AttributeValue/.test(JSON.stringify(r.dynamodb!.NewImage))) last.set(key, r.dynamodb!.NewImage);
    }
  });

  describe('served to the redrive through the DynamoDB Streams API', () => {
    let server: StreamServer;
    beforeAll(async () => (server = await startStreamServer(workload)));
    afterAll(async () => server?.close());

    it('gives readRange the range, in pages, through the real SDK client', async () => {
      const shard = new ShardWorkload(workload, 2);
      const all: DynamoDBRecord[] = [];
      for (let p = shard.plan(); p; p = shard.plan()) all.push(shard.build(p));
      const streams = new DynamoDBStreamsClient({ endpoint: server.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
      const range = await readRange(streams, {
        shardId: shardIdOf(2),
        streamArn: STREAM_ARN,
        startSequenceNumber: sequenceOf(workload, 2, 10).toString(),
        endSequenceNumber: sequenceOf(workload, 2, 998).toString(),
      });
      // Through the SDK and back to the trigger's shape: exactly the records the mapping delivered.
      expect(range).toEqual(all.slice(10, 999));
      expect(server.served.getRecords).toBeGreaterThan(1); // 1 MB pages: the near-400 KB items split them
      const iterator = await streams.send(new GetShardIteratorCommand({ StreamArn: STREAM_ARN, ShardId: 'shardId-nope', ShardIteratorType: 'TRIM_HORIZON' })).catch((e: Error) => e);
      expect(iterator).toMatchObject({ name: 'ResourceNotFoundException' });
      const expired = await streams.send(new GetRecordsCommand({ ShardIterator: 'nope' })).catch((e: Error) => e);
      expect(expired).toMatchObject({ name: 'ExpiredIteratorException' });
    });
  });
});

const skipReason = motoMissing();

describe.skipIf(skipReason)('npm run soak -- --records 20000', () => {
  let report: SoakReport;

  it('loses nothing and doubles nothing in the current view, with every fault kind active', async () => {
    report = await runSoak(parse(['--records', '20000', '--keys', '2000']));
    console.log(soakTable(report));
    const { lake, quarantine, mapping, workload, redrive } = report;
    expect(workload.records).toBe(20_000);
    expect(lake.expectedCurrentRows).toBeGreaterThan(0);
    expect(lake.currentRows).toBe(lake.expectedCurrentRows);
    expect(lake.lost).toBe(0);
    expect(lake.doubled).toBe(0);
    expect(lake.itemsWrong).toBe(0);
    expect(lake.rawLostRows).toBe(0);
    expect(lake.phantomRows).toBe(0);
    expect(lake.expectedVersions).toBe(workload.records - workload.poison);
    expect(lake.partitions).toBeGreaterThanOrEqual(4);
    expect(quarantine.expected).toBe(workload.poison);
    expect(quarantine.expected).toBeGreaterThan(0);
    expect(quarantine.found).toBe(quarantine.expected);
    expect(quarantine.poisonMissing).toBe(0);
    expect(quarantine.validQuarantined).toBe(0);
    expect(quarantine.quarantinedTwice).toBe(0);
    expect(quarantine.objects).toBe(quarantine.found);
    expect(report.expectedRejected).toBe(0);
    // Every record was acknowledged by its mapping or sent to the queue, and everything sent was redriven
    // (with the on-failure records of maintenance events that ran out of attempts during the workload).
    expect(mapping.acknowledged + mapping.sentToQueue).toBe(workload.records);
    expect(redrive.deleted).toBe(mapping.queueMessages + report.compaction.mid!.onFailureMessages);
    expect(redrive.records).toBe(mapping.sentToQueue);
    expect(redrive.leftInQueue).toBe(0);
    expect(report.ok).toBe(true);
  });

  it('compacted every day and published a checkpoint, which the view reads, through the handler\'s compact action', () => {
    const { compaction, lake, handler } = report;
    expect(compaction.ran).toBe(true);
    expect(compaction.leftovers).toEqual([]);
    expect(compaction.complete).toBe(true);
    // Once mid-workload, racing the stream, on the days closed by then (a day whose task ran out of
    // attempts keeps its inputs and the outputs written so far, so its objects may even grow); then daily
    // after the redrive, until nothing is left to do.
    const mid = compaction.mid!;
    expect(mid.recordsStillToStream).toBeGreaterThan(0);
    expect(mid.daysCompacted.length).toBeGreaterThan(0);
    const final = compaction.final!;
    expect(final.runs.length).toBeGreaterThan(0);
    expect(final.objectsAfter).toBeLessThan(final.objectsBefore);
    expect(compaction.daysCompacted).toBe(lake.partitions);
    expect(lake.objects).toBe(final.objectsAfter);
    expect(lake.objects).toBeLessThan(handler.objectsWritten);
    // A checkpoint was published (complete: it covers the closed days, or a newer one would not pay off yet);
    // Terraform's parameter, the Glue view and DuckDB all read it.
    expect(compaction.checkpoint.checkpoint).not.toBe(NO_CHECKPOINT);
    expect(compaction.checkpoint.bound <= final.runs[final.runs.length - 1]!.closedBefore).toBe(true);
    expect(compaction.checkpoint.parts).toBeGreaterThan(0);
    expect(compaction.checkpoint.objects).toBe(compaction.checkpoint.parts);
    expect(compaction.checkpoint.ssmMatches).toBe(true);
    expect(compaction.checkpoint.glueMatches).toBe(true);
    expect(lake.pointer).toEqual({ checkpoint: compaction.checkpoint.checkpoint, bound: compaction.checkpoint.bound });
    // The same view over the whole raw table agrees, and compaction folded every duplicate delivery.
    expect(lake.recomputed).toEqual({ currentRows: lake.expectedCurrentRows, lost: 0, doubled: 0 });
    expect(lake.rawDuplicateRows).toBe(0);
    expect(lake.rawRows).toBe(lake.expectedRawRows);
  });

  it('ran its statements in Athena (a stand-in), some failing, checkpoint queries outlasting their invocation: the run handed itself on, and its asynchronous invocations failed and were retried', () => {
    const { invocations, faults, athena } = report.compaction;
    expect(invocations.runs).toBe(1 + report.compaction.final!.runs.length);
    // Every checkpoint query outlasts the invocation that started it: its run hands itself on.
    expect(athena.checkpointsHeld).toBeGreaterThan(0);
    expect(invocations.continuations).toBeGreaterThanOrEqual(athena.checkpointsHeld);
    // Failed statements left their work as it was, and later runs did it.
    expect(athena.injectedFailures).toBeGreaterThan(0);
    expect(athena.failed).toBeGreaterThanOrEqual(athena.injectedFailures);
    expect(athena.succeeded).toBeGreaterThan(0);
    // The first run's first attempt and every attempt of the first continuation die after their first change.
    expect(invocations.runRetries).toBeGreaterThan(0);
    expect(invocations.continuationRetries).toBeGreaterThanOrEqual(2);
    expect(faults.kills).toBeGreaterThanOrEqual(4);
    // The first continuation that makes a change dies in every attempt: its on-failure record goes to the queue, and the redrive takes it.
    expect(invocations.exhausted).toBeGreaterThan(0);
    expect(invocations.onFailureRedriven + report.compaction.mid!.onFailureMessages).toBeGreaterThan(0);
    expect(faults.slowdown + faults.reset).toBeGreaterThan(0);
  });

  it('made every fault kind happen, and the mapping saw what each one causes', () => {
    const { faults, mapping, redrive, interleavings } = report;
    for (const kind of FAULT_KINDS) expect(faults[kind], kind).toBeGreaterThan(0);
    expect(faults.landedLate).toBeGreaterThan(0);
    expect(faults.redriveSlowdown + faults.redriveReset).toBeGreaterThan(0);
    // A hung write ends its invocation at the deadline: Middy's early answer, or the mapping's cut-off if that comes first.
    expect(mapping.functionTimeouts + mapping.timeouts).toBeGreaterThan(0);
    expect(mapping.bisections).toBeGreaterThan(0);
    expect(mapping.partialFailures).toBeGreaterThan(0);
    expect(mapping.errors).toBeGreaterThan(0);
    expect(mapping.queueMessages).toBeGreaterThanOrEqual(report.options.shards);
    expect(mapping.closedByPayload).toBeGreaterThan(0); // the bulk imports of items near 400 KB
    expect(mapping.closedByWindow).toBeGreaterThan(0);
    expect(report.workload.nearLimitVersions).toBeGreaterThan(0);
    expect(redrive.keptThenRetried).toBeGreaterThan(0);
    expect(interleavings.retriesAcrossMidnight).toBeGreaterThan(0);
    expect(interleavings.redeliveredWithPoison).toBeGreaterThan(0);
    expect(report.workload.sharedSeconds).toBeGreaterThan(0);
  });
}, 600_000);
