import type { IncomingMessage } from 'node:http';
import type { DynamoDBRecord } from 'aws-lambda';
import type { Invoke } from '../../test/support/event-source-mapping.ts';
import { isPutObject, type Fault } from '../../test/support/fault-proxy.ts';
import { random, type Random } from './random.ts';

/**
 * Where and how often things go wrong. S3 faults are decided per PutObject
 * by the shard's own fault proxy (each shard writes through its own, as
 * each Lambda instance has its own connections); function faults per
 * invocation by a wrapper around the handler. Every kind is forced once on
 * every shard (early on; the outage on a batch holding poison), then happens
 * at its rate, so a short run has every kind and a long one has them at
 * volume. Two targeted rates make the
 * rare interleavings frequent: batches that cross midnight crash more
 * often (so their retries and bisected halves cross it too), and batches
 * holding a poison record are redelivered more often.
 */

export interface FaultRates {
  /** Per PutObject: 503 SlowDown. */
  readonly slowdown: number;
  /** Per PutObject: connection reset after the request was read. */
  readonly reset: number;
  /** Per PutObject: held past the function timeout, then landing late. */
  readonly hang: number;
  /** Per invocation: the function dies after its writes (runtime killed). */
  readonly crash: number;
  /** Per invocation: the batch is delivered twice. */
  readonly duplicate: number;
  /** Per invocation: from its second write on, S3 answers SlowDown to every write of the shard until the batch's retries run out. */
  readonly outage: number;
  /** Per INSERT/MODIFY record: malformed (quarantined). */
  readonly poison: number;
}

export const FAULT_KINDS = ['slowdown', 'reset', 'hang', 'crash', 'duplicate', 'outage', 'poison'] as const satisfies readonly (keyof FaultRates)[];
export type FaultKind = (typeof FAULT_KINDS)[number];

export const DEFAULT_RATES: FaultRates = { slowdown: 0.03, reset: 0.02, hang: 0.002, crash: 0.02, duplicate: 0.03, outage: 0.004, poison: 0.0005 };
/** Crash rate of a batch that crosses midnight; duplicate rate of a batch holding a poison record. */
const MIDNIGHT_CRASH = 0.25;
const POISON_DUPLICATE = 0.25;

/** The shard's n-th PutObject / invocation (1-based) that gets each kind once, whatever the rates. */
const FORCED_PUT: Partial<Record<number, Fault>> = { 2: 'slowdown', 4: 'reset', 7: 'hang' };
const FORCED_INVOCATION: Partial<Record<number, 'crash' | 'duplicate'>> = { 3: 'crash', 5: 'duplicate' };
/**
 * The forced outage hits the first fresh batch holding a poison record from this invocation on (the
 * workload puts one mid-shard): its first write, the quarantine object, lands, the rest fail until the
 * batch goes to the on-failure queue, so the redrive quarantines that record a second time.
 */
const FORCED_OUTAGE_FROM = 6;

/** Faults injected, by kind (poison is counted by the workload). */
export type FaultCounts = Record<Exclude<FaultKind, 'poison'>, number> & {
  /** Of the SlowDown answers, those given during outages. */
  outageSlowdowns: number;
};

/** Interleavings the issue names, counted as they happen. */
export interface Interleavings {
  /** Invocations retrying records already tried, in a batch that crosses midnight. */
  retriesAcrossMidnight: number;
  /** Redelivered batches that hold a poison record. */
  redeliveredWithPoison: number;
  /** Retried batches (whole or bisected halves) that hold a poison record. */
  poisonInRetriedBatch: number;
}

export function emptyCounts(): FaultCounts {
  return { slowdown: 0, reset: 0, hang: 0, crash: 0, duplicate: 0, outage: 0, outageSlowdowns: 0 };
}

export function emptyInterleavings(): Interleavings {
  return { retriesAcrossMidnight: 0, redeliveredWithPoison: 0, poisonInRetriedBatch: 0 };
}

export class FunctionCrash extends Error {
  constructor() {
    super('Runtime exited with error: signal: killed');
    this.name = 'Runtime.ExitError';
  }
}

const day = (r: DynamoDBRecord): number => Math.floor(Number(r.dynamodb!.ApproximateCreationDateTime) / 86_400);

export interface ShardFaultOptions {
  readonly seed: number;
  readonly shard: number;
  readonly rates: FaultRates;
  /** Invocations an outage lasts: the mapping's retries plus two (its first write lands), so a batch it hits is sent to the on-failure queue. */
  readonly outageInvocations: number;
  readonly isPoison: (sequence: string) => boolean;
  readonly counts: FaultCounts;
  readonly interleavings: Interleavings;
}

/** One shard's faults: the proxy's decision for each request and the wrapper around each invocation. */
export class ShardFaults {
  private readonly options: ShardFaultOptions;
  private readonly s3: Random;
  private readonly fn: Random;
  private puts = 0;
  private invocations = 0;
  private outageLeft = 0;
  private outageStarting = false;
  private poisonRedelivered = false;
  private outageForced = false;
  private midnightCrashed = false;
  /** The highest sequence number invoked so far: a batch starting at or below it is a retry. */
  private highest = -1n;

  constructor(options: ShardFaultOptions) {
    this.options = options;
    this.s3 = random(options.seed, 0x53, options.shard);
    this.fn = random(options.seed, 0xf0, options.shard);
  }

  /** For the shard's fault proxy: the fault of one request. Only PutObject is ever faulted. */
  decide = (req: IncomingMessage): Fault => {
    if (!isPutObject(req)) return 'pass';
    const { rates, counts } = this.options;
    if (this.outageLeft > 0 && !this.outageStarting) {
      counts.slowdown++;
      counts.outageSlowdowns++;
      return 'slowdown';
    }
    // An outage starts partway through an invocation: its first write still lands (a quarantine object, say).
    this.outageStarting = false;
    const n = ++this.puts;
    const x = this.s3();
    const fault: Fault = FORCED_PUT[n] ?? (x < rates.slowdown ? 'slowdown' : x < rates.slowdown + rates.reset ? 'reset' : x < rates.slowdown + rates.reset + rates.hang ? 'hang' : 'pass');
    if (fault !== 'pass') counts[fault]++;
    return fault;
  };

  /** Wraps the handler with the function faults and counts the interleavings. */
  wrap(handler: Invoke): Invoke {
    return async (event) => {
      const { rates, counts, interleavings, isPoison } = this.options;
      const records = event.Records;
      const n = ++this.invocations;
      const first = BigInt(records[0]!.dynamodb!.SequenceNumber!);
      const last = BigInt(records[records.length - 1]!.dynamodb!.SequenceNumber!);
      const retry = first <= this.highest;
      if (last > this.highest) this.highest = last;
      const crossesMidnight = day(records[0]!) !== day(records[records.length - 1]!);
      const poison = records.some((r) => isPoison(r.dynamodb!.SequenceNumber!));
      if (retry && crossesMidnight) interleavings.retriesAcrossMidnight++;
      if (retry && poison) interleavings.poisonInRetriedBatch++;

      const forced = FORCED_INVOCATION[n];
      // Every decision draws, whether or not it is used, so one fault does not shift the others.
      const forcedOutage = !this.outageForced && n >= FORCED_OUTAGE_FROM && poison && !retry;
      if (forcedOutage) this.outageForced = true;
      const outage = this.fn() < rates.outage || forcedOutage;
      if (outage && this.outageLeft === 0) {
        counts.outage++;
        this.outageLeft = this.options.outageInvocations;
        this.outageStarting = true;
      }
      // The first batch crossing midnight always crashes and the first holding poison is always redelivered,
      // so those interleavings happen on every shard; after that, at their (higher) targeted rates.
      const firstPoison = poison && !this.poisonRedelivered;
      const firstMidnight = crossesMidnight && !this.midnightCrashed;
      const duplicate = this.fn() < (poison ? POISON_DUPLICATE : rates.duplicate) || forced === 'duplicate' || firstPoison;
      const crash = this.fn() < (crossesMidnight ? MIDNIGHT_CRASH : rates.crash) || forced === 'crash' || firstMidnight;
      if (duplicate && poison) this.poisonRedelivered = true;
      if (crash && crossesMidnight) this.midnightCrashed = true;
      try {
        let result = await handler(event);
        if (duplicate) {
          // At-least-once: the same batch delivered again (another poller, a lost acknowledgement).
          counts.duplicate++;
          if (poison) interleavings.redeliveredWithPoison++;
          result = await handler(event);
        }
        if (crash) {
          counts.crash++;
          throw new FunctionCrash();
        }
        return result;
      } finally {
        if (this.outageLeft > 0) this.outageLeft--;
      }
    };
  }
}

/**
 * S3 faults during the redrive: SlowDown and resets at their rates, and the
 * first three writes failing, so the first range cannot be stored (the SDK
 * gives up after three attempts) and its message is kept and redriven again.
 */
export function redriveFaults(seed: number, rates: FaultRates, counts: { slowdown: number; reset: number }): (req: IncomingMessage) => Fault {
  const rnd = random(seed, 0x4ed4);
  const forced: Partial<Record<number, Fault>> = { 1: 'slowdown', 2: 'reset', 3: 'slowdown' };
  let puts = 0;
  return (req) => {
    if (!isPutObject(req)) return 'pass';
    const x = rnd();
    const fault = forced[++puts] ?? (x < rates.slowdown ? 'slowdown' : x < rates.slowdown + rates.reset ? 'reset' : 'pass');
    if (fault === 'slowdown' || fault === 'reset') counts[fault]++;
    return fault;
  };
}
