import type { PipelineConfig } from '../config/pipeline-config.ts';
import { mapLimit } from '../util/map-limit.ts';
import type { FlattenConfig } from '../flatten/flatten.ts';
import type { LakeStore } from '../lake/lake-store.ts';
import { checkpoint, daysBeingCheckpointed, type CheckpointPointer, type CheckpointResult, type CheckpointSettings } from '../maintenance/checkpoint.ts';
import { closedBefore, closedDays, compactDay, compactionSettings, daysBeingCompacted, type CompactionContext, type DayResult } from '../maintenance/compaction.ts';
import type { MaintenanceEngine } from '../maintenance/engine.ts';
import { queryPeek, queryWaiter } from '../maintenance/query-wait.ts';
import { expireHistory, type RetentionResult } from '../maintenance/retention.ts';
import { advanceErasure, openErasures, type ErasureResult } from '../maintenance/erasure.ts';
import { erasureContext } from './erase.ts';
import type { EraseRequest } from './payload.ts';
import { PayloadError } from './payload.ts';

/**
 * The maintenance run, on the function (the daily schedule, or by hand):
 *   {"action":"compact"}                        compact every closed day of the lookback window, then checkpoint
 *   {"action":"compact","dt":"2026-11-30"}      compact one closed day (a late object older than the window)
 *   {"action":"compact","checkpoint":false}     compaction only
 *   {"action":"checkpoint"}                     bring the checkpoint up to the closed days
 * Each compaction and checkpoint is one statement the engine runs (Athena
 * in AWS). The run starts every day's query at once, waits within its own
 * time, and commits what finished; when a query outlasts the invocation, it
 * hands the run on to a later invocation of its own alias
 * ({"action":"compact","continuation":N}, sent by the run itself), which
 * resumes from the query ids stored in the plans and plans nothing new but
 * the checkpoint it was waiting to plan.
 */

export interface MaintenanceRequest {
  readonly action: 'compact' | 'checkpoint';
  readonly dt?: string;
  /** Plan (or advance) a checkpoint after the compaction. */
  readonly checkpoint: boolean;
  /** How many times this run was handed on (absent: a run started by the schedule or by hand). */
  readonly continuation?: number;
  /** What failed earlier in this run's chain of invocations, reported by its last invocation. */
  readonly failed?: readonly string[];
}

/** A 0.3.0 (or unreleased) run's task invocation, which may still arrive after the upgrade: answered, never run. */
export interface MaintenanceTaskRequest {
  readonly action: 'maintenance-task';
}

/** What maintenance reads of the configuration: where the rows, the quarantine, the exports and the state are, its settings, the carried columns. */
export type MaintenanceConfig = Pick<PipelineConfig, 'dataPrefix' | 'quarantinePrefix' | 'maintenance'> & {
  readonly flatten: Pick<FlattenConfig, 'carry'>;
  readonly actions: Pick<PipelineConfig['actions'], 'exportPrefix'>;
};

export interface MaintenanceDeps {
  readonly store: LakeStore;
  /** The engine the statements run in: Athena in the Lambda (and the CLI on S3), DuckDB on a lake folder. */
  readonly engine: MaintenanceEngine;
  /** The Lambda passes its whole PipelineConfig; the CLI and npm start only what maintenance reads. */
  readonly config: MaintenanceConfig;
  readonly now: number;
  /** Moves the current-state view to a published checkpoint (Glue UpdateTable in the Lambda). */
  readonly repointView?: (pointer: CheckpointPointer) => Promise<void>;
  /** Reasons the checkpoint must not pass a day yet, as the first day it must not cover (a failure waiting in the DLQ, a backfill in flight). */
  readonly holds?: () => Promise<Hold[]>;
  /** When the run stops waiting for queries (epoch ms); absent: it waits until they end. */
  readonly deadline?: number;
  /** Hands the run on to a later invocation (the Lambda: an asynchronous invocation of its alias); absent: the run waits. */
  readonly handOn?: (request: MaintenanceRequest) => Promise<void>;
  /** The same for an erasure's first pass. */
  readonly handOnErase?: (request: EraseRequest) => Promise<void>;
  readonly sleep?: (ms: number) => Promise<void>;
  /** Called as each day is done (the CLI's progress line). */
  readonly onDay?: (result: DayResult, done: number, of: number) => void;
}

/** What holds the checkpoint back, and why (an erasure waits for a backfill in flight too). */
export interface Hold {
  readonly before: string;
  readonly reason: string;
  readonly kind?: 'dlq' | 'backfill';
}

export interface MaintenanceResult {
  readonly closedBefore: string;
  readonly engine: MaintenanceEngine['kind'];
  readonly days: readonly DayResult[];
  readonly checkpoint?: CheckpointResult & { readonly heldBy: readonly string[] };
  /** Work still running when the run stopped waiting: handed on to the invocation numbered `continuation`. */
  readonly handedOn?: { readonly continuation: number; readonly waitingFor: readonly string[] };
  /** What failed in this run (its whole chain, in the last invocation): each left the lake as it was; the next run retries. */
  readonly failed: readonly string[];
  /** History retention (history_retention_days): the days past it that kept checkpoints cover, deleted. */
  readonly retention?: RetentionResult;
  /** Erasures in flight, taken further by the scheduled run (their sweep once it is due). */
  readonly erasures?: readonly ErasureResult[];
}

/**
 * How many times a run hands itself on. Athena ends a DML query after 30
 * minutes by default (its "DML query timeout" quota, which can be raised to
 * 240 minutes); at about a minute and a half of waiting an invocation, 200
 * invocations outlast the longest a query can run, and a run never chains
 * forever. The next scheduled run resumes whatever is left.
 */
export const MAX_CONTINUATIONS = 200;
/** Failures carried from one invocation of a run to the next (a run's report, not a log). */
const MAX_FAILURES_CARRIED = 50;

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function parseMaintenance(payload: Record<string, unknown>): MaintenanceRequest | MaintenanceTaskRequest {
  const allowed = (fields: readonly string[]): void => {
    for (const k of Object.keys(payload)) if (!fields.includes(k)) throw new PayloadError(`${k} is not a known field; allowed: ${fields.join(', ')}`);
  };
  // A task of a run before the upgrade (any fields): its plan is retired and planned again by the next run.
  if (payload.action === 'maintenance-task') return { action: 'maintenance-task' };
  const continuation = payload.continuation;
  if (continuation !== undefined && (typeof continuation !== 'number' || !Number.isInteger(continuation) || continuation < 1 || continuation > MAX_CONTINUATIONS)) {
    throw new PayloadError(`continuation must be a whole number from 1 to ${MAX_CONTINUATIONS} (sent by the run itself), got ${JSON.stringify(continuation)}`);
  }
  const failed = payload.failed;
  if (failed !== undefined && (!Array.isArray(failed) || failed.length > MAX_FAILURES_CARRIED || failed.some((f) => typeof f !== 'string'))) {
    throw new PayloadError(`failed must be a list of at most ${MAX_FAILURES_CARRIED} texts (sent by the run itself)`);
  }
  const chain = { ...(continuation !== undefined ? { continuation } : {}), ...(failed !== undefined ? { failed: failed as string[] } : {}) };
  if (payload.action === 'checkpoint') {
    allowed(['action', 'continuation', 'failed']);
    return { action: 'checkpoint', checkpoint: true, ...chain };
  }
  allowed(['action', 'dt', 'checkpoint', 'continuation', 'failed']);
  if (payload.dt !== undefined && (typeof payload.dt !== 'string' || !DAY.test(payload.dt) || Number.isNaN(Date.parse(`${payload.dt}T00:00:00Z`)))) {
    throw new PayloadError(`dt must be a day as YYYY-MM-DD, got ${JSON.stringify(payload.dt)}`);
  }
  if (payload.checkpoint !== undefined && typeof payload.checkpoint !== 'boolean') throw new PayloadError('checkpoint must be true or false');
  return { action: 'compact', dt: payload.dt as string | undefined, checkpoint: payload.checkpoint !== false && payload.dt === undefined, ...chain };
}

export function maintenanceSettings(config: MaintenanceConfig): CheckpointSettings {
  const m = config.maintenance;
  return {
    ...compactionSettings({ dataPrefix: config.dataPrefix, statePrefix: m.statePrefix, carried: config.flatten.carry, targetBytes: m.targetBytes }),
    retention: m.retention,
    rebuildShare: m.rebuildShare,
    maxAgeDays: m.maxAgeDays,
  };
}

/** Days with a compaction plan stored: the ones a run handed on advances (it plans no new day). */
async function daysInFlight(deps: MaintenanceDeps, s: CheckpointSettings): Promise<string[]> {
  return daysBeingCompacted(deps.store, s);
}

/** Whether the invocation may start more work before its deadline (none: the CLI and npm start wait for everything). */
export const timeLeft = (deadline: number | undefined) => (): boolean => deadline === undefined || Date.now() < deadline;

export async function runMaintenance(request: MaintenanceRequest, deps: MaintenanceDeps): Promise<MaintenanceResult> {
  const m = deps.config.maintenance;
  const s = { ...maintenanceSettings(deps.config), carried: await deps.engine.carried(deps.config.flatten.carry) };
  const firstOpen = closedBefore(deps.now, m.maximumRecordAgeSeconds, m.marginSeconds);
  const planning = request.continuation === undefined;
  if (request.dt !== undefined && request.dt >= firstOpen) {
    throw new PayloadError(`dt ${request.dt} is not closed yet: records may still arrive for it until ${firstOpen}T00:00:00Z plus ${m.maximumRecordAgeSeconds + m.marginSeconds} s`);
  }
  const wait = queryWaiter(deps.engine, { deadline: deps.deadline, sleep: deps.sleep });
  const checkpointing = await daysBeingCheckpointed(deps.store, s);
  const context = (waitFor: CompactionContext['wait']): CompactionContext => ({
    store: deps.store,
    engine: deps.engine,
    settings: s,
    wait: waitFor,
    checkpointReads: async (dt) => checkpointing.has(dt),
    plan: planning,
    hasTime: timeLeft(deps.deadline),
  });

  // Compaction: every day's query is started (or looked at) first, then the run waits for each in turn,
  // so the days run side by side in the engine and the run waits about as long as the slowest.
  let days: DayResult[] = [];
  if (request.action === 'compact') {
    const inFlight = await daysInFlight(deps, s);
    const targets = planning ? (request.dt !== undefined ? [request.dt] : await closedDays(deps.store, s, firstOpen, m.lookbackDays)) : [];
    const all = [...new Set([...targets, ...inFlight])].sort().reverse();
    // Athena reads only the partitions a statement names, so days never meet; DuckDB binds a lake
    // folder's every file, and a day's commit would delete files under another day's statement.
    const started = await mapLimit(all, deps.engine.kind === 'athena' ? 4 : 1, (dt) => compactDay(context(queryPeek(deps.engine)), dt));
    const waiting = context(wait);
    days = [];
    for (const [i, first] of started.entries()) {
      const result = first.status === 'running' ? await compactDay({ ...waiting, plan: false }, first.dt) : first;
      // A day planned and started above, finished here: report it with the sizes from before.
      days.push(first.status === 'running' && result.status !== 'running' ? { ...result, objectsBefore: first.objectsBefore, bytesBefore: first.bytesBefore } : result);
      deps.onDay?.(days[i]!, i + 1, started.length);
    }
  }

  let checkpointResult: MaintenanceResult['checkpoint'];
  // A run handed on plans the checkpoint only if it was still to be planned (request.checkpoint); in-flight plans always advance.
  if (request.checkpoint || checkpointing.size > 0 || (await hasCheckpointPlan(deps, s))) {
    // A day whose compaction is still in flight is not checkpointed yet: the compaction's commit deletes
    // the objects the checkpoint's query would read. The next invocation or run takes it.
    const compacting = (await daysBeingCompacted(deps.store, s)).map((dt) => ({ before: dt, reason: `the compaction of ${dt} is in flight` }));
    const holds = [...compacting, ...((await deps.holds?.()) ?? [])];
    let bound = firstOpen;
    for (const h of holds) if (h.before < bound) bound = h.before;
    const result = await checkpoint({ store: deps.store, engine: deps.engine, settings: s, wait, onPublished: deps.repointView }, bound, { plan: request.checkpoint });
    checkpointResult = { ...result, heldBy: holds.filter((h) => h.before < firstOpen).map((h) => `${h.reason} (holds the checkpoint before ${h.before})`) };
  }

  // Erasures in flight (their sweep, or a first pass that waited), by the scheduled run.
  const erasures = planning && request.action === 'compact' && request.dt === undefined ? await advanceOpenErasures(deps, s.carried) : [];

  // History retention, by the scheduled run (not for one day, not by a run handed on): after the
  // checkpoint, so a new one (and the pruning of old ones) lets older days go.
  const retention =
    planning && request.action === 'compact' && request.dt === undefined && m.historyRetentionDays ? await expireHistory(deps.store, s, deps.now, m.historyRetentionDays) : undefined;

  const failed = [
    ...(request.failed ?? []),
    ...days.filter((d) => d.status === 'failed').map((d) => `compaction of ${d.dt}: ${d.reason}`),
    ...(checkpointResult?.status === 'failed' ? [`checkpoint ${checkpointResult.days.at(-1) ?? ''}: ${checkpointResult.reason}`] : []),
    ...erasures.filter((e) => e.status === 'failed').map((e) => `erasure ${e.erasure}, ${e.step}: ${e.reason}`),
  ].slice(0, MAX_FAILURES_CARRIED);
  const pending = [
    ...days.filter((d) => d.status === 'running' || d.status === 'waiting').map((d) => `compaction of ${d.dt} (${d.status}${d.query ? `, query ${d.query}` : ''})`),
    ...(checkpointResult?.status === 'running' ? [`checkpoint (query ${checkpointResult.query})`] : []),
  ];
  // Compactions still in flight held the checkpoint's bound back: the invocation that sees them done plans it again.
  const checkpointStillToPlan = request.checkpoint && days.some((d) => d.status === 'running' || d.status === 'waiting');
  const base = { closedBefore: firstOpen, engine: deps.engine.kind, days, ...(checkpointResult ? { checkpoint: checkpointResult } : {}), ...(retention ? { retention } : {}), ...(erasures.length ? { erasures } : {}) };
  const continuation = (request.continuation ?? 0) + 1;
  if (pending.length > 0 && deps.handOn && continuation <= MAX_CONTINUATIONS) {
    await deps.handOn({ action: 'compact', checkpoint: checkpointStillToPlan, continuation, ...(failed.length ? { failed } : {}) });
    return { ...base, handedOn: { continuation, waitingFor: pending }, failed };
  }
  return { ...base, failed };
}

async function advanceOpenErasures(deps: MaintenanceDeps, carried: readonly string[]): Promise<ErasureResult[]> {
  const ctx = erasureContext(deps, carried);
  const out: ErasureResult[] = [];
  for (const plan of await openErasures(deps.store, ctx.settings)) out.push(await advanceErasure(ctx, plan));
  return out;
}

async function hasCheckpointPlan(deps: MaintenanceDeps, s: CheckpointSettings): Promise<boolean> {
  return (await deps.store.list(`${s.statePrefix}/checkpoints/plans/`)).some((o) => o.key.endsWith('.json'));
}

/** A maintenance run that failed: thrown by the function so its asynchronous invocation is retried, then sent to the on-failure queue. */
export class MaintenanceFailed extends Error {
  readonly failed: readonly string[];
  constructor(failed: readonly string[]) {
    super(`maintenance left ${failed.length} piece(s) of work as they were (the next run retries them): ${failed.join('; ')}`);
    this.name = 'MaintenanceFailed';
    this.failed = failed;
  }
}
