import type { PipelineConfig } from '../config/pipeline-config.ts';
import type { FlattenConfig } from '../flatten/flatten.ts';
import type { LakeStore } from '../lake/lake-store.ts';
import {
  checkpoint,
  checkpointSortsDone,
  planIsCurrent,
  publishIfComplete,
  runCheckpointPart,
  runCheckpointSortTask,
  runPendingCheckpointTasks,
  type CheckpointPlan,
  type CheckpointPointer,
  type CheckpointResult,
  type CheckpointSettings,
} from '../maintenance/checkpoint.ts';
import { closedBefore, closedDays, commitIfComplete, compactDay, compactionSettings, dayPlanKey, daysBeingCompacted, finishPlan, mergesDone, runPhaseTask, runSortTask, runStitchTask, runTask, sortsDone, type DayPlan, type DayResult, type TaskPhase } from '../maintenance/compaction.ts';
import { PayloadError } from './payload.ts';

/**
 * The maintenance run, on the function (the daily schedule, or by hand):
 *   {"action":"compact"}                        compact every closed day of the lookback window, then checkpoint
 *   {"action":"compact","dt":"2026-11-30"}      compact one closed day (a late object older than the window)
 *   {"action":"compact","checkpoint":false}     compaction only
 *   {"action":"checkpoint"}                     bring the checkpoint up to the closed days
 * A day or checkpoint larger than one task is split into tasks that run in
 * their own invocations ({"action":"maintenance-task",...}, sent by the run
 * itself); the last task to finish commits, and the next run completes
 * anything a failure left.
 */

export interface MaintenanceRequest {
  readonly action: 'compact' | 'checkpoint';
  readonly dt?: string;
  readonly checkpoint: boolean;
}

export interface MaintenanceTaskRequest {
  readonly action: 'maintenance-task';
  readonly kind: 'compaction' | 'checkpoint';
  /** The plan object's key (under the state prefix). */
  readonly plan: string;
  /**
   * A split plan's sort tasks run first; the last of them hands on the merge tasks, and the last merge
   * task of a day the stitch tasks (a checkpoint has none). A plan that is not split has one merge task.
   */
  readonly phase: TaskPhase;
  readonly task: number;
}

/** What maintenance reads of the configuration: where the rows and the state are, its settings, the carried columns. */
export type MaintenanceConfig = Pick<PipelineConfig, 'dataPrefix' | 'maintenance'> & { readonly flatten: Pick<FlattenConfig, 'carry'> };

export interface MaintenanceDeps {
  readonly store: LakeStore;
  /** The Lambda passes its whole PipelineConfig; the CLI and npm start only what maintenance reads. */
  readonly config: MaintenanceConfig;
  readonly now: number;
  /** Moves the current-state view to a published checkpoint (Glue UpdateTable in the Lambda). */
  readonly repointView?: (pointer: CheckpointPointer) => Promise<void>;
  /** Reasons the checkpoint must not pass a day yet, as the first day it must not cover (a failure waiting in the DLQ, a backfill in flight). */
  readonly holds?: () => Promise<{ before: string; reason: string }[]>;
  /** Hands tasks to other invocations; absent: every task runs here. */
  readonly dispatch?: (task: MaintenanceTaskRequest) => Promise<void>;
  /** Temporary folder for sort runs. */
  readonly tempDir?: string;
  /** Called as each day is done (the CLI's progress line). */
  readonly onDay?: (result: DayResult, done: number, of: number) => void;
}

export interface MaintenanceResult {
  readonly closedBefore: string;
  readonly days: readonly DayResult[];
  readonly checkpoint?: CheckpointResult & { readonly heldBy: readonly string[] };
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;

export function parseMaintenance(payload: Record<string, unknown>): MaintenanceRequest | MaintenanceTaskRequest {
  const allowed = (fields: readonly string[]): void => {
    for (const k of Object.keys(payload)) if (!fields.includes(k)) throw new PayloadError(`${k} is not a known field; allowed: ${fields.join(', ')}`);
  };
  if (payload.action === 'maintenance-task') {
    allowed(['action', 'kind', 'plan', 'phase', 'task']);
    if (payload.kind !== 'compaction' && payload.kind !== 'checkpoint') throw new PayloadError('kind must be "compaction" or "checkpoint"');
    // Absent in a task a 0.3.0 run dispatched: those were all merge tasks (of a plan that is re-planned).
    const phase = payload.phase ?? 'merge';
    if (phase !== 'sort' && phase !== 'merge' && phase !== 'stitch') throw new PayloadError('phase must be "sort", "merge" or "stitch"');
    if (phase === 'stitch' && payload.kind !== 'compaction') throw new PayloadError('phase "stitch" is a compaction phase: a checkpoint has sort and merge tasks only');
    if (typeof payload.plan !== 'string' || !payload.plan.endsWith('.json')) throw new PayloadError('plan must be the key of a plan object');
    if (typeof payload.task !== 'number' || !Number.isInteger(payload.task) || payload.task < 0) throw new PayloadError('task must be a task number (0, 1, ...)');
    return { action: 'maintenance-task', kind: payload.kind, plan: payload.plan, phase, task: payload.task };
  }
  if (payload.action === 'checkpoint') {
    allowed(['action']);
    return { action: 'checkpoint', checkpoint: true };
  }
  allowed(['action', 'dt', 'checkpoint']);
  if (payload.dt !== undefined && (typeof payload.dt !== 'string' || !DAY.test(payload.dt) || Number.isNaN(Date.parse(`${payload.dt}T00:00:00Z`)))) {
    throw new PayloadError(`dt must be a day as YYYY-MM-DD, got ${JSON.stringify(payload.dt)}`);
  }
  if (payload.checkpoint !== undefined && typeof payload.checkpoint !== 'boolean') throw new PayloadError('checkpoint must be true or false');
  return { action: 'compact', dt: payload.dt as string | undefined, checkpoint: payload.checkpoint !== false && payload.dt === undefined };
}

function settings(config: MaintenanceConfig, tempDir?: string): CheckpointSettings {
  const m = config.maintenance;
  return {
    ...compactionSettings({ dataPrefix: config.dataPrefix, statePrefix: m.statePrefix, carried: config.flatten.carry, targetBytes: m.targetBytes, maxTaskBytes: m.maxTaskBytes, ...(tempDir ? { tempDir } : {}) }),
    retention: m.retention,
  };
}

export async function runMaintenance(request: MaintenanceRequest, deps: MaintenanceDeps): Promise<MaintenanceResult> {
  const m = deps.config.maintenance;
  const s = settings(deps.config, deps.tempDir);
  const firstOpen = closedBefore(deps.now, m.maximumRecordAgeSeconds, m.marginSeconds);
  const compactionTasks = compactionRunner(deps, s);
  const days: DayResult[] = [];
  if (request.action === 'compact') {
    if (request.dt !== undefined && request.dt >= firstOpen) {
      throw new PayloadError(`dt ${request.dt} is not closed yet: records may still arrive for it until ${firstOpen}T00:00:00Z plus ${m.maximumRecordAgeSeconds + m.marginSeconds} s`);
    }
    const targets = request.dt !== undefined ? [request.dt] : await closedDays(deps.store, s, firstOpen, m.lookbackDays);
    for (const dt of targets) {
      days.push(await compactDay(deps.store, s, dt, compactionTasks));
      deps.onDay?.(days[days.length - 1]!, days.length, targets.length);
    }
  }
  if (!request.checkpoint) return { closedBefore: firstOpen, days };

  // A day whose compaction is still in flight (its tasks dispatched) is not checkpointed yet: the
  // compaction's commit deletes the objects the checkpoint would read. The next run takes it.
  const compacting = (await daysBeingCompacted(deps.store, s)).map((dt) => ({ before: dt, reason: `the compaction of ${dt} is in flight` }));
  const holds = [...compacting, ...((await deps.holds?.()) ?? [])];
  let bound = firstOpen;
  for (const h of holds) if (h.before < bound) bound = h.before;
  const result = await checkpoint(deps.store, s, bound, { onPublished: deps.repointView, run: checkpointRunner(deps, s) });
  return { closedBefore: firstOpen, days, checkpoint: { ...result, heldBy: holds.filter((h) => h.before < firstOpen).map((h) => `${h.reason} (holds the checkpoint before ${h.before})`) } };
}

/**
 * How the tasks of a split plan run: handed to other invocations, one each,
 * when the function can dispatch them and there is more than one (or a
 * stitch); here otherwise (the CLI, npm start, a single task).
 */
function runner<P, Phase extends TaskPhase>(deps: MaintenanceDeps, kind: MaintenanceTaskRequest['kind'], planKey: (plan: P) => string, runHere: (plan: P, phase: Phase, task: number) => Promise<unknown>) {
  return async (plan: P, phase: Phase, pending: readonly number[]): Promise<boolean> => {
    // One task runs here (a day of one slice: the run compacts it and can checkpoint it at once), except a
    // stitch: it follows a merge task that has used most of its invocation's time.
    if (!deps.dispatch || (pending.length === 1 && phase !== 'stitch')) {
      for (const t of pending) await runHere(plan, phase, t);
      return true;
    }
    for (const task of pending) await deps.dispatch({ action: 'maintenance-task', kind, plan: planKey(plan), phase, task });
    return false;
  };
}

const compactionRunner = (deps: MaintenanceDeps, s: CheckpointSettings) =>
  runner<DayPlan, TaskPhase>(deps, 'compaction', (plan) => dayPlanKey(s, plan), (plan, phase, t) => runPhaseTask(deps.store, s, plan, phase, t));

const checkpointRunner = (deps: MaintenanceDeps, s: CheckpointSettings) =>
  runner<CheckpointPlan, 'sort' | 'merge'>(deps, 'checkpoint', (plan) => `${s.statePrefix}/checkpoints/plans/${plan.id}.json`, (plan, phase, t) =>
    phase === 'sort' ? runCheckpointSortTask(deps.store, s, plan, t) : runCheckpointPart(deps.store, s, plan, t),
  );

/**
 * One task of a split day or checkpoint, in its own invocation. The last
 * sort task to finish hands on the merge tasks; the last merge task to
 * finish commits (a day) or publishes (a checkpoint).
 */
export async function runMaintenanceTask(request: MaintenanceTaskRequest, deps: MaintenanceDeps): Promise<{ task: number; committed: boolean }> {
  const s = settings(deps.config, deps.tempDir);
  if (!request.plan.startsWith(`${s.statePrefix}/`)) throw new PayloadError(`plan ${request.plan} is not under the state prefix ${s.statePrefix}/`);
  const bytes = await deps.store.read(request.plan);
  // The plan is gone when its work was committed already (a redelivered task): nothing to do.
  if (bytes === undefined) return { task: request.task, committed: true };
  const plan = JSON.parse(Buffer.from(bytes).toString('utf8')) as DayPlan | CheckpointPlan;
  // A 0.3.0 plan (its tasks read every day whole) is not run: the next scheduled run plans it again.
  if (plan.version !== 2) return { task: request.task, committed: false };
  if (request.kind === 'compaction') {
    const day = plan as DayPlan;
    if (request.phase === 'sort') {
      await runSortTask(deps.store, s, day, request.task);
      if (!(await sortsDone(deps.store, s, day))) return { task: request.task, committed: false };
      return { task: request.task, committed: (await finishPlan(deps.store, s, day, compactionRunner(deps, s))) !== undefined };
    }
    if (request.phase === 'merge') {
      await runTask(deps.store, s, day, request.task);
      // The last merge task hands on the stitch tasks (or runs the one there is, or commits a plan that is not split).
      if (!(await mergesDone(deps.store, s, day))) return { task: request.task, committed: false };
      return { task: request.task, committed: (await finishPlan(deps.store, s, day, compactionRunner(deps, s))) !== undefined };
    }
    await runStitchTask(deps.store, s, day, request.task);
    return { task: request.task, committed: (await commitIfComplete(deps.store, s, day)) !== undefined };
  }
  const next = plan as CheckpointPlan;
  // A plan that went stale (its objects compacted meanwhile, or another checkpoint published) is not
  // run: it would fail on a missing object, retried to no end. The next scheduled run drops it and plans again.
  if (!(await planIsCurrent(deps.store, s, next))) return { task: request.task, committed: false };
  if (request.phase === 'sort') {
    await runCheckpointSortTask(deps.store, s, next, request.task);
    if (!(await checkpointSortsDone(deps.store, s, next))) return { task: request.task, committed: false };
    if (!(await runPendingCheckpointTasks(deps.store, s, next, checkpointRunner(deps, s)))) return { task: request.task, committed: false };
  } else {
    await runCheckpointPart(deps.store, s, next, request.task);
  }
  return { task: request.task, committed: (await publishIfComplete(deps.store, s, next, deps.repointView)) !== undefined };
}
