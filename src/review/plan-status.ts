import type { ConfigModule, Plan, StateModule } from './plan.ts';

/**
 * What kind of plan this is, before anything in it is judged: a plan
 * Terraform could not finish (`errored`), one it finished only in part
 * (`complete: false`: -target, or deferred changes), or a refresh-only
 * plan. The JSON has no plan mode (jsonplan.plan carries none); a
 * refresh-only plan is the one plan that has no resource changes while the
 * state it starts from holds managed resources (Terraform's refreshOnlyPlan
 * refuses to plan any change, and every other mode lists each resource of
 * the state, a no-op at least).
 */

export interface PlanStatus {
  /** Terraform stopped with an error: the changes after it are missing, and the plan cannot be applied. */
  readonly errored: boolean;
  /** `complete` as Terraform wrote it (absent before Terraform 1.8). */
  readonly complete?: boolean;
  readonly applyable?: boolean;
  /** `terraform plan -refresh-only`: no resource changes, only what changed outside Terraform. */
  readonly refreshOnly: boolean;
  /**
   * Resources of the configuration (module path and name, without instance
   * keys) for which the plan holds no change at all, not even a no-op: what
   * an errored plan did not get to.
   */
  readonly notPlanned: readonly string[];
  /** Changes Terraform put off to a later plan (deferred_changes). */
  readonly deferred: readonly string[];
}

/** `module.a[0].aws_x.y["k"]` -> `module.a.aws_x.y`: an instance's address as its configuration's. */
export function configAddress(address: string): string {
  return address.replace(/\[(?:"(?:[^"\\]|\\.)*"|[^\]]*)\]/g, '');
}

interface Configured {
  /** `module.a.module.b.aws_x.y`. */
  readonly address: string;
  /** It, or a module it is in, has count or for_each: it may have no instance, and then no change either. */
  readonly repeated: boolean;
}

/** Every managed resource of the configuration. */
function configuredResources(module: ConfigModule | undefined, prefix: string, repeated: boolean, out: Configured[] = []): Configured[] {
  for (const r of module?.resources ?? []) {
    // The configuration writes a resource by its address inside its module (jsonconfig: configs.Resource.Addr()).
    if (r.mode === 'managed') out.push({ address: `${prefix}${r.address}`, repeated: repeated || !!r.count_expression || !!r.for_each_expression });
  }
  for (const [name, call] of Object.entries(module?.module_calls ?? {})) {
    configuredResources(call.module, `${prefix}module.${name}.`, repeated || !!call.count_expression || !!call.for_each_expression, out);
  }
  return out;
}

/** The managed resources of the prior state, as configuration addresses. */
function stateResources(module: StateModule | undefined, out = new Set<string>()): Set<string> {
  for (const r of module?.resources ?? []) if (r.mode === 'managed') out.add(configAddress(r.address));
  for (const child of module?.child_modules ?? []) stateResources(child, out);
  return out;
}

export function planStatus(plan: Plan): PlanStatus {
  const changes = plan.resource_changes ?? [];
  const errored = plan.errored === true;
  const planned = new Set(changes.map((rc) => configAddress(rc.address)));
  const deferred = (plan.deferred_changes ?? []).map((d) => d.resource_change?.address).filter((a): a is string => typeof a === 'string');
  for (const a of deferred) planned.add(configAddress(a));
  const inState = stateResources(plan.prior_state?.values?.root_module);
  // A repeated block with nothing in the state may just have no instance: only what surely exists, or surely should, is listed.
  const notPlanned = errored
    ? [...new Set(configuredResources(plan.configuration?.root_module, '', false).filter((c) => !planned.has(c.address) && (inState.has(c.address) || !c.repeated)).map((c) => c.address))]
    : [];
  return {
    errored,
    ...(typeof plan.complete === 'boolean' ? { complete: plan.complete } : {}),
    ...(typeof plan.applyable === 'boolean' ? { applyable: plan.applyable } : {}),
    refreshOnly: !errored && changes.length === 0 && inState.size > 0,
    notPlanned,
    deferred,
  };
}
