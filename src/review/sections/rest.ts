import type { ReviewContext } from '../context.ts';
import { actionOf, changedAttributes, type ResourceChange } from '../plan.ts';
import { kindOf } from '../pipeline-resources.ts';

/**
 * Everything else: each remaining change as one compact line, with the
 * arguments that change and those known only after apply.
 */

export interface OtherChange {
  readonly address: string;
  readonly instance?: string;
  readonly type: string;
  readonly noun: string;
  readonly action: string;
  readonly changed: readonly string[];
  readonly unknown: readonly string[];
  /** The address it had before a `moved` block. */
  readonly movedFrom?: string;
}

/** Computed bookkeeping that changes with everything; not worth a reviewer's eye. */
const NOISE = new Set(['last_modified', 'tags_all', 'id', 'arn']);

export function otherChange(ctx: ReviewContext, rc: ResourceChange): OtherChange {
  const action = actionOf(rc.change.actions);
  const { changed, unknown } = action === 'update' || action === 'replace' ? changedAttributes(rc.change) : { changed: [], unknown: [] };
  return {
    address: rc.address,
    instance: ctx.instances.of(rc)?.id,
    type: rc.type,
    noun: kindOf(rc).noun,
    action,
    changed: changed.filter((k) => !NOISE.has(k)),
    unknown: unknown.filter((k) => !NOISE.has(k)),
    ...(rc.previous_address ? { movedFrom: rc.previous_address } : {}),
  };
}

/** The managed changes not in `explained` (the addresses the sections above already cover). */
export function restSection(ctx: ReviewContext, explained: ReadonlySet<string>): OtherChange[] {
  return ctx.changes
    // A move is worth a line even with nothing else changing: it is how a refactoring keeps its resources.
    .filter((rc) => rc.mode === 'managed' && (actionOf(rc.change.actions) !== 'no-op' || rc.previous_address) && !explained.has(rc.address))
    .map((rc) => otherChange(ctx, rc));
}
