import type { ReviewContext } from '../context.ts';
import { unifiedDiff } from '../line-diff.ts';
import { actionOf, sensitiveAt, unknownAt, valueAt, type ResourceChange } from '../plan.ts';
import { kindOf, nameOf } from '../pipeline-resources.ts';
import { decodePrestoView } from '../presto-view.ts';

/**
 * Views and columns: an Athena view's SQL decoded from its Presto envelope
 * and shown as a unified diff, and the Glue table's columns, partition keys
 * and location, compared by name.
 */

export interface ViewChange {
  readonly address: string;
  readonly instance?: string;
  readonly name?: string;
  readonly action: string;
  /** Unified diff of the SQL (updates and replaces). */
  readonly diff?: string;
  /** The whole SQL of a new view. */
  readonly sql?: string;
  readonly columnsAdded: readonly string[];
  readonly columnsRemoved: readonly string[];
  /** The new SQL is known only after apply. */
  readonly afterUnknown: boolean;
  readonly summary: string;
}

export interface TableColumnsChange {
  readonly address: string;
  readonly instance?: string;
  readonly name?: string;
  readonly action: string;
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly retyped: readonly string[];
  readonly partitionKeys?: { readonly before: readonly string[]; readonly after: readonly string[] };
  readonly location?: { readonly before?: string; readonly after?: string };
  readonly summary: string;
}

export interface ViewsSection {
  readonly views: readonly ViewChange[];
  readonly tables: readonly TableColumnsChange[];
}

type Column = { name: string; type: string };
const columns = (v: unknown): Column[] => (Array.isArray(v) ? v.filter((c) => typeof c?.name === 'string').map((c) => ({ name: c.name as string, type: String(c.type) })) : []);

function columnChanges(before: Column[], after: Column[]): { added: string[]; removed: string[]; retyped: string[] } {
  const b = new Map(before.map((c) => [c.name, c.type]));
  const a = new Map(after.map((c) => [c.name, c.type]));
  return {
    added: after.filter((c) => !b.has(c.name)).map((c) => `${c.name} ${c.type}`),
    removed: before.filter((c) => !a.has(c.name)).map((c) => `${c.name} ${c.type}`),
    retyped: after.filter((c) => b.has(c.name) && b.get(c.name) !== c.type).map((c) => `${c.name} ${b.get(c.name)} → ${c.type}`),
  };
}

function viewChange(ctx: ReviewContext, rc: ResourceChange): ViewChange | undefined {
  const action = actionOf(rc.change.actions);
  if (sensitiveAt(rc.change, 'before', ['view_original_text']) || sensitiveAt(rc.change, 'after', ['view_original_text'])) return undefined;
  const before = decodePrestoView(rc.change.before?.view_original_text);
  const afterUnknown = unknownAt(rc.change.after_unknown, ['view_original_text']);
  const after = afterUnknown ? undefined : decodePrestoView(rc.change.after?.view_original_text);
  const name = nameOf(rc);
  const view = name ? `Athena view \`${name}\`` : 'the Athena view';
  const cols = columnChanges(
    columns(before?.columns ?? valueAt(rc.change.before, ['storage_descriptor', 0, 'columns'])),
    columns(after?.columns ?? valueAt(rc.change.after, ['storage_descriptor', 0, 'columns'])),
  );
  const common = { address: rc.address, instance: ctx.instances.of(rc)?.id, name, action, columnsAdded: action === 'create' ? [] : cols.added, columnsRemoved: action === 'create' ? [] : cols.removed, afterUnknown };
  if (action === 'create') return { ...common, sql: after?.sql, summary: `creates ${view}${after ? ` (${after.sql.split('\n').length} lines of SQL)` : ''}` };
  if (action === 'delete') return { ...common, summary: `deletes ${view}: queries on it fail` };
  if (afterUnknown) return { ...common, summary: `${view}: the new SQL is known only after apply` };
  const diff = before && after ? unifiedDiff(before.sql, after.sql) : '';
  const parts = [diff ? 'SQL changes' : 'SQL unchanged'];
  if (cols.added.length) parts.push(`columns added: ${cols.added.join(', ')}`);
  if (cols.removed.length) parts.push(`columns removed: ${cols.removed.join(', ')}`);
  if (action === 'replace') parts.push('replaced: queries on it fail between the delete and the create');
  if (!diff && !cols.added.length && !cols.removed.length && action === 'update') return undefined; // settings only: listed with the rest
  return { ...common, diff: diff || undefined, summary: `${view}: ${parts.join('; ')}` };
}

function tableChange(ctx: ReviewContext, rc: ResourceChange): TableColumnsChange | undefined {
  const action = actionOf(rc.change.actions);
  if (action === 'create' || action === 'delete') return undefined; // the risk section and the list cover these
  const sd = (v: unknown) => valueAt(v, ['storage_descriptor', 0]);
  const cols = columnChanges(columns(valueAt(sd(rc.change.before), ['columns'])), columns(valueAt(sd(rc.change.after), ['columns'])));
  const pk = (v: unknown) => columns(valueAt(v, ['partition_keys'])).map((c) => `${c.name} ${c.type}`);
  const partitionBefore = pk(rc.change.before);
  const partitionAfter = pk(rc.change.after);
  const partitionChanged = JSON.stringify(partitionBefore) !== JSON.stringify(partitionAfter);
  const locationBefore = valueAt(sd(rc.change.before), ['location']) as string | undefined;
  const locationAfter = unknownAt(rc.change.after_unknown, ['storage_descriptor', 0, 'location']) ? '(known after apply)' : (valueAt(sd(rc.change.after), ['location']) as string | undefined);
  const locationChanged = locationBefore !== locationAfter;
  if (!cols.added.length && !cols.removed.length && !cols.retyped.length && !partitionChanged && !locationChanged) return undefined;
  const name = nameOf(rc);
  const parts: string[] = [];
  if (cols.added.length) parts.push(`columns added: ${cols.added.join(', ')}`);
  if (cols.removed.length) parts.push(`columns removed: ${cols.removed.join(', ')} (the data stays in the Parquet files)`);
  if (cols.retyped.length) parts.push(`column types change: ${cols.retyped.join(', ')}`);
  if (partitionChanged) parts.push(`partition keys: ${partitionBefore.join(', ') || 'none'} → ${partitionAfter.join(', ') || 'none'}`);
  if (locationChanged) parts.push(`location: ${locationBefore ?? 'none'} → ${locationAfter ?? 'none'}`);
  return {
    address: rc.address,
    instance: ctx.instances.of(rc)?.id,
    name,
    action,
    ...cols,
    partitionKeys: partitionChanged ? { before: partitionBefore, after: partitionAfter } : undefined,
    location: locationChanged ? { before: locationBefore, after: locationAfter } : undefined,
    summary: `Glue table \`${name ?? '?'}\`: ${parts.join('; ')}`,
  };
}

export function viewsSection(ctx: ReviewContext): ViewsSection {
  const changed = ctx.changes.filter((rc) => rc.mode === 'managed' && actionOf(rc.change.actions) !== 'no-op');
  return {
    views: changed.filter((rc) => kindOf(rc).role === 'glue-view').flatMap((rc) => viewChange(ctx, rc) ?? []),
    tables: changed.filter((rc) => kindOf(rc).role === 'glue-table').flatMap((rc) => tableChange(ctx, rc) ?? []),
  };
}
