import { findInstances, type Instances } from './instances.ts';
import type { Plan, ResourceChange } from './plan.ts';

/** What every section reads: the plan, its resource changes, the pipeline instances and the options. */
export interface ReviewContext {
  readonly plan: Plan;
  readonly changes: readonly ResourceChange[];
  readonly instances: Instances;
  /** Addresses named with --allow-replace. */
  readonly allowReplace: ReadonlySet<string>;
  /** Base of the runbook links (the README). */
  readonly docsUrl: string;
}

export interface ReviewOptions {
  readonly allowReplace?: readonly string[];
  readonly docsUrl?: string;
}

/** The README of this package, where the runbooks are. */
export const DEFAULT_DOCS_URL = 'README.md';

export function reviewContext(plan: Plan, options: ReviewOptions = {}): ReviewContext {
  return {
    plan,
    changes: plan.resource_changes ?? [],
    instances: findInstances(plan),
    allowReplace: new Set(options.allowReplace ?? []),
    docsUrl: options.docsUrl ?? DEFAULT_DOCS_URL,
  };
}

/** The other change in the same module with this type and name (and the same instance key when there is one). */
export function sibling(ctx: ReviewContext, rc: ResourceChange, mode: 'managed' | 'data', type: string, name: string): ResourceChange | undefined {
  const candidates = ctx.changes.filter((o) => (o.module_address ?? '') === (rc.module_address ?? '') && o.mode === mode && o.type === type && o.name === name);
  return candidates.find((o) => o.index === rc.index) ?? candidates[0];
}
