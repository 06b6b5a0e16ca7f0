import { advanceErasure, openErasures, planErasure, type ErasureContext, type ErasureResult, type ErasureSettings } from '../maintenance/erasure.ts';
import { queryWaiter } from '../maintenance/query-wait.ts';
import { maintenanceSettings, MaintenanceFailed, timeLeft, type MaintenanceConfig, type MaintenanceDeps } from './maintenance.ts';
import type { EraseRequest } from './payload.ts';

/**
 * {"action":"erase","keys":[{"pk":"A1"},{"pk":"A2","sk":"x"}]}: erases the
 * keys from the lake (src/maintenance/erasure.ts). The invocation plans the
 * erasure and runs its first pass as far as its time goes, handing itself on
 * ({"action":"erase","continuation":N}) while a statement runs; the daily
 * maintenance run takes any open erasure further and runs its sweep once no
 * older record of the keys can arrive. The answer names the erasure and the
 * keys' hashes, never the keys.
 */

export interface EraseResult {
  readonly erasures: readonly ErasureResult[];
  readonly handedOn?: { readonly continuation: number };
}

/** How many times an erasure's first pass hands itself on (as the maintenance run: past Athena's longest query). */
const MAX_CONTINUATIONS = 200;

export function erasureSettings(config: MaintenanceConfig): ErasureSettings {
  const m = config.maintenance;
  return {
    ...maintenanceSettings(config),
    quarantinePrefix: config.quarantinePrefix,
    exportPrefix: config.actions.exportPrefix,
    ...(m.athenaResultsPrefix ? { athenaResultsPrefix: m.athenaResultsPrefix } : {}),
    maximumRecordAgeSeconds: m.maximumRecordAgeSeconds,
    marginSeconds: m.marginSeconds,
  };
}

export function erasureContext(deps: MaintenanceDeps, carried: readonly string[]): ErasureContext {
  return {
    store: deps.store,
    engine: deps.engine,
    settings: { ...erasureSettings(deps.config), carried },
    wait: queryWaiter(deps.engine, { deadline: deps.deadline, sleep: deps.sleep }),
    now: () => deps.now,
    backfillInFlight: async () => ((await deps.holds?.()) ?? []).some((h) => h.kind === 'backfill'),
    onPublished: deps.repointView,
    hasTime: timeLeft(deps.deadline),
  };
}

export async function runErase(request: EraseRequest, deps: MaintenanceDeps): Promise<EraseResult> {
  const ctx = erasureContext(deps, await deps.engine.carried(deps.config.flatten.carry));
  const plans = request.keys ? [await planErasure(ctx, request.keys, deps.now)] : await openErasures(deps.store, ctx.settings);
  const erasures: ErasureResult[] = [];
  for (const plan of plans) erasures.push(await advanceErasure(ctx, plan));
  // A statement still running: the next invocation of the alias resumes it. Waiting for a backfill or a
  // compaction in flight is left to the daily run, as is the sweep.
  const continuation = (request.continuation ?? 0) + 1;
  if (erasures.some((e) => e.status === 'running') && deps.handOnErase && continuation <= MAX_CONTINUATIONS) {
    await deps.handOnErase({ action: 'erase', continuation });
    return { erasures, handedOn: { continuation } };
  }
  const failed = erasures.filter((e) => e.status === 'failed').map((e) => `erasure ${e.erasure}, ${e.step}: ${e.reason}`);
  if (failed.length) throw new MaintenanceFailed(failed);
  return { erasures };
}
