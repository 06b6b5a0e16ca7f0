import { count, markdownTable, mb } from '../report.ts';
import type { SoakReport } from './run.ts';

/** The soak's one table: Markdown, padded so it reads as plain text, pasted as is into the README. */

const s = (seconds: number): string => (seconds >= 120 ? `${(seconds / 60).toFixed(1)} min` : `${seconds.toFixed(1)} s`);

export function soakTable(r: SoakReport): string {
  const w = r.workload;
  const f = r.faults;
  const m = r.mapping;
  const l = r.lake;
  const q = r.quarantine;
  const c = r.compaction;
  const i = c.invocations;
  const yes = (b: boolean): string => (b ? 'yes' : 'NO');
  const rows: [string, string][] = [
    ['records / items / shards', `${count(r.options.records)} / ${count(r.options.keys)} / ${r.options.shards} (seed ${r.options.seed})`],
    [
      'workload',
      `${count(w.inserts)} inserts (${count(w.reinserts)} re-inserts), ${count(w.modifies)} modifies, ${count(w.removes)} removes, ${count(w.poison)} poison; ${count(w.nearLimitVersions)} versions near 400 KB; ${l.partitions} days (dt partitions)`,
    ],
    [
      'faults injected',
      `${count(f.slowdown)} SlowDown (${count(f.outageSlowdowns)} in outages), ${count(f.reset)} resets, ${count(f.hang)} hangs (${count(f.landedLate)} landed late), ${count(f.crash)} crashes after writing, ${count(f.duplicate)} duplicate deliveries, ${count(f.outage)} S3 outages, ${count(f.poison)} poison records; redrive: ${count(f.redriveSlowdown)} SlowDown, ${count(f.redriveReset)} resets`,
    ],
    [
      'interleavings',
      `${count(r.interleavings.retriesAcrossMidnight)} retries of batches crossing midnight, ${count(r.interleavings.redeliveredWithPoison)} redelivered and ${count(r.interleavings.poisonInRetriedBatch)} retried batches holding poison, ${count(w.sharedSeconds)} seconds written by 2+ shards`,
    ],
    ['invocations', `${count(m.invocations)} (${count(m.batches)} batches; closed by the window ${count(m.closedByWindow)}, BatchSize ${count(m.closedBySize)}, the 6 MB payload ${count(m.closedByPayload)})`],
    ['retries', count(m.retries)],
    ['bisects', count(m.bisections)],
    [
      'timeouts / partial batch responses / function errors',
      `${count(m.functionTimeouts + m.timeouts)} (${count(m.functionTimeouts)} answered by Middy just before the deadline, ${count(m.timeouts)} cut off by the mapping) / ${count(m.partialFailures)} / ${count(m.errors)}`,
    ],
    ['sent to the on-failure queue', `${count(m.queueMessages)} batches, ${count(m.sentToQueue)} records`],
    ['redriven', `${count(r.redrive.deleted)} messages, ${count(r.redrive.records)} records (${r.redrive.rounds} rounds, ${count(r.redrive.keptThenRetried)} kept then retried, ${r.redrive.failedInvocations} invocations failed, ${r.redrive.leftInQueue} left)`],
    [
      'maintenance runs',
      `${i.runs} scheduled {"action":"compact"} runs (${c.mid ? `1 mid-workload with ${count(c.mid.recordsStillToStream)} records still to stream, ` : ''}${c.final?.runs.length ?? 0} after the redrive); ${count(i.continuations)} continuations (handed on while a query ran); ${count(i.attempts)} attempts, ${count(i.runRetries)} run retries, ${count(i.continuationRetries)} continuation retries (${count(i.killed)} killed after a change, ${count(i.timeouts)} timed out, ${count(i.errors)} errors), ${i.exhausted} out of attempts (to the queue, redriven)`,
    ],
    [
      'maintenance statements (stand-in Athena)',
      `${count(c.athena.queries)} queries: ${count(c.athena.succeeded)} succeeded, ${count(c.athena.failed)} failed (${count(c.athena.injectedFailures)} injected), ${count(c.athena.cancelled)} cancelled; ${count(c.athena.checkpointsHeld)} checkpoint queries held past an invocation; ${mb(c.athena.bytesScanned)} scanned`,
    ],
    ['maintenance S3 faults', `${count(c.faults.requests)} requests: ${count(c.faults.slowdown)} SlowDown, ${count(c.faults.reset)} resets, ${count(c.faults.kills)} deaths right after a change`],
    [
      'compaction objects before / after',
      `${c.final ? `${count(c.final.objectsBefore)} / ${count(c.final.objectsAfter)} (${mb(c.final.bytesBefore)} / ${mb(c.final.bytesAfter)})` : 'not run'}${c.mid ? `; mid-workload run, on the days closed by then: ${count(c.mid.objectsBefore)} / ${count(c.mid.objectsAfter)}, ${c.mid.daysCompacted.length} compacted, ${count(c.mid.streamObjectsWhileRunning)} stream objects written meanwhile` : ''}; ${c.daysCompacted} days compacted, ${c.complete ? 'nothing left to do' : `NOT done: ${c.leftovers.join('; ')}`}`,
    ],
    [
      'checkpoint written (pointer)',
      `${c.checkpoint.checkpoint} (bound ${c.checkpoint.bound}, ${c.checkpoint.parts} objects); SSM parameter follows ${yes(c.checkpoint.ssmMatches)}, Glue view follows ${yes(c.checkpoint.glueMatches)}, DuckDB view read ${l.pointer.checkpoint === c.checkpoint.checkpoint ? 'it' : `${l.pointer.checkpoint} (NOT it)`}`,
    ],
    [
      'rows written',
      `${count(r.handler.rowsWritten)} by the handler into ${count(r.handler.objectsWritten)} objects; compacted lake ${count(l.objects)} objects, ${count(l.rawRows)} rows, ${count(l.rawDistinctRows)} distinct`,
    ],
    ['raw lake vs every valid version', `${count(l.expectedVersions)} versions, ${count(l.expectedRawRows)} rows expected; ${count(l.rawLostRows)} rows (${count(l.rawLostVersions)} versions) missing, ${count(l.phantomRows)} rows from nowhere`],
    ['current view rows expected / found', `${count(l.expectedCurrentRows)} / ${count(l.currentRows)}`],
    ['lost', count(l.lost)],
    ['doubled', count(l.doubled)],
    ['same view over the raw table without the checkpoint: lost / doubled', `${count(l.recomputed.lost)} / ${count(l.recomputed.doubled)}`],
    ['quarantined expected / found', `${count(q.expected)} / ${count(q.found)} (${count(q.objects)} objects)`],
    ['poison not quarantined / valid records quarantined / quarantined twice', `${count(q.poisonMissing)} / ${count(q.validQuarantined)} / ${count(q.quarantinedTwice)}`],
    ['wall time', `${s(r.seconds.total)} (pipeline ${s(r.seconds.pipeline)}, redrive ${s(r.seconds.redrive)}, maintenance ${s(c.seconds)} of which ${s(c.mid?.seconds ?? 0)} during the pipeline, checks ${s(r.seconds.verify)})`],
    [
      'peak RSS',
      `${mb(r.memory.peakRssBytes)} with the DuckDB checks, ${mb(r.memory.pipelinePeakRssBytes)} before them${r.memory.motoPeakRssBytes ? `; moto ${mb(r.memory.motoPeakRssBytes)}` : ''}`,
    ],
  ];
  return markdownTable(['figure', 'value'], rows);
}
