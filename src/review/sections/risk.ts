import { actionOf, destroys, pathText, sensitiveAt, unknownAt, valueAt, variableValue, type ResourceChange } from '../plan.ts';
import { described, kindOf, nameOf, type Role } from '../pipeline-resources.ts';
import type { ReviewContext } from '../context.ts';

/**
 * Data at risk: every destroy or replace of a stateful resource, with the
 * arguments that force it, what is lost, and the safe way instead; and every
 * pipeline function whose history retention is set or shortened (the
 * maintenance run then deletes the lake's history). This is the section that
 * decides the exit code.
 */

export interface ForcedBy {
  /** `range_key`, `attribute[1].name`. */
  readonly path: string;
  readonly before?: unknown;
  readonly after?: unknown;
  /** The new value is known only after apply. */
  readonly afterUnknown: boolean;
  /** The values are sensitive: not shown. */
  readonly sensitive?: boolean;
}

export interface Runbook {
  readonly title: string;
  readonly url: string;
}

export interface Risk {
  readonly address: string;
  readonly type: string;
  readonly role: Role;
  /** The pipeline instance's id, when the resource belongs to one. */
  readonly instance?: string;
  /**
   * `replace` / `delete`: the resource is destroyed. `delete-history`: the pipeline's function gets a history
   * retention, or a shorter one (its HISTORY_RETENTION_DAYS appears or goes down), so the scheduled maintenance run
   * deletes the lake's days older than that.
   */
  readonly action: 'replace' | 'delete' | 'delete-history';
  /** "DynamoDB table `orders`". */
  readonly what: string;
  /** Why Terraform destroys it, in words. */
  readonly why: string;
  readonly forcedBy: readonly ForcedBy[];
  readonly loses: readonly string[];
  /** What makes it worse in this plan (deletion protection, a non-empty bucket, ...). */
  readonly warnings: readonly string[];
  readonly safer: string;
  readonly runbook?: Runbook;
  /** Named with --allow-replace. */
  readonly allowed: boolean;
}

/** The README's runbooks the review links to (their heading anchors). */
export const RUNBOOKS = {
  keyChange: { title: "README: Change the table's key schema", anchor: 'change-the-tables-key-schema' },
  redrive: { title: 'README: Redrive exhausted batches', anchor: 'redrive-exhausted-batches' },
  backfill: { title: 'README: Backfill an existing table', anchor: 'backfill-an-existing-table' },
  lifecycle: { title: 'README: Data lifecycle', anchor: 'data-lifecycle' },
} as const;

const KEY_ARGUMENTS = new Set(['hash_key', 'range_key', 'attribute', 'local_secondary_index']);

function whyText(rc: ResourceChange, forcedBy: readonly ForcedBy[]): string {
  const action = actionOf(rc.change.actions);
  switch (rc.action_reason) {
    case 'replace_because_tainted':
      return 'the resource is tainted (a failed create, or terraform taint), so Terraform replaces it';
    case 'replace_by_request':
      return 'a replacement was requested (terraform plan -replace)';
    case 'replace_by_triggers':
      return 'replace_triggered_by names a resource that changes';
    case 'delete_because_no_resource_config':
      return 'its block is gone from the configuration (if it only moved, a `moved` block keeps it)';
    case 'delete_because_no_module':
      return 'its module call is gone from the configuration (if it only moved, a `moved` block keeps it)';
    case 'delete_because_count_index':
    case 'delete_because_each_key':
    case 'delete_because_wrong_repetition':
      return 'count/for_each no longer includes this instance';
    case 'delete_because_no_move_target':
      return 'a `moved` block points at a resource that does not exist';
  }
  if (action === 'replace') {
    return forcedBy.length
      ? `${forcedBy.map((f) => `\`${f.path}\``).join(', ')} cannot be changed in place, so Terraform deletes the ${kindOf(rc).noun} and creates a new one`
      : 'Terraform replaces it';
  }
  return 'this plan destroys it (terraform plan -destroy, or a destroy run)';
}

function forcedByOf(rc: ResourceChange): ForcedBy[] {
  return (rc.change.replace_paths ?? []).map((path) => {
    const afterUnknown = unknownAt(rc.change.after_unknown, path);
    if (sensitiveAt(rc.change, 'before', path) || sensitiveAt(rc.change, 'after', path)) return { path: pathText(path), afterUnknown, sensitive: true };
    return { path: pathText(path), before: valueAt(rc.change.before, path), ...(afterUnknown ? {} : { after: valueAt(rc.change.after, path) }), afterUnknown };
  });
}

interface Consequences {
  readonly loses: string[];
  readonly warnings: string[];
  readonly safer: string;
  readonly runbook?: keyof typeof RUNBOOKS;
}

/** What each stateful role loses, and the safe way; `inPipeline` words it for this pipeline or for any resource of the type. */
function consequences(rc: ResourceChange, ctx: ReviewContext, forcedBy: readonly ForcedBy[], inPipeline: boolean): Consequences {
  const b = (rc.change.before ?? {}) as Record<string, any>;
  const name = nameOf(rc);
  const replace = actionOf(rc.change.actions) === 'replace';
  const moved = 'If only its address changed, a `moved` block (or terraform state mv) keeps it.';
  switch (kindOf(rc).role) {
    case 'table': {
      const loses = [`every item in the table${name ? ` \`${name}\`` : ''}`];
      if (b.stream_enabled) loses.push(inPipeline ? "its stream: the trigger's position, and records not yet flattened (a new table has a new stream)" : 'its stream and every reader\'s position in it');
      if (valueAt(b, ['point_in_time_recovery', 0, 'enabled']) === true) loses.push('point-in-time recovery of this table (AWS keeps a system backup for 35 days, restorable only into a new table)');
      const warnings: string[] = [];
      if (b.deletion_protection_enabled === true) {
        const first = ctx.changes.filter((o) => o !== rc && destroys(actionOf(o.change.actions)) && kindOf(o).role === 'trigger' && b.stream_arn && o.change.before?.event_source_arn === b.stream_arn);
        warnings.push(
          'Deletion protection is on: the apply fails when it deletes this table' +
            (first.length
              ? `, after it has already destroyed ${first.map((o) => `the stream trigger \`${o.address}\``).join(' and ')}. The pipeline is left with no trigger until someone repairs it.`
              : ', part way through the apply.'),
        );
      }
      const keyChange = forcedBy.some((f) => KEY_ARGUMENTS.has(f.path.split(/[.[]/)[0]!));
      if (keyChange) {
        return {
          loses,
          warnings,
          safer:
            "DynamoDB cannot change a table's key schema. Create a new table with the new key beside this one (a second module instance with another `name`), copy the items and backfill its lake, move the writers over, then retire the old instance (turning its deletion protection off in a change of its own).",
          runbook: 'keyChange',
        };
      }
      if (forcedBy.some((f) => f.path === 'name')) {
        return { loses, warnings, safer: `A table cannot be renamed: keep the name, or create the new table beside the old one and copy the items. ${moved}`, runbook: 'keyChange' };
      }
      return { loses, warnings, safer: `If the table must go, export it first (point-in-time export to S3) and turn deletion protection off in a change of its own. ${moved}` };
    }
    case 'bucket': {
      const loses = [inPipeline ? `every object in the lake bucket${name ? ` \`${name}\`` : ''}: the flattened Parquet rows, the quarantine, backfill exports and Athena results` : `every object in the bucket${name ? ` \`${name}\`` : ''}`];
      const warnings = b.force_destroy === true ? ['force_destroy is on: the bucket is emptied and deleted, objects and versions included.'] : ['force_destroy is off: deleting a bucket that holds objects fails, part way through the apply.'];
      return {
        loses,
        warnings,
        safer: `${inPipeline ? 'Keep the bucket: point the module at it (create_bucket = false, existing_bucket_name), or copy the objects to the new bucket first. ' : 'Copy the objects to the new bucket first. '}${moved}`,
      };
    }
    case 'glue-database':
      return {
        loses: [`the catalog database${name ? ` \`${name}\`` : ''} and every table and view in it: catalog entries only, the objects in S3 stay; queries fail until it is created again`],
        warnings: [],
        safer: `Re-creating it restores the catalog (the lake is untouched), but every query and dashboard on it fails in between. ${moved}`,
      };
    case 'glue-table':
      return {
        loses: [
          `the catalog entry of the table${name ? ` \`${name}\`` : ''} (its columns and partition settings): the Parquet objects in S3 stay, and queries work again once it is created; partitions added by hand (MSCK REPAIR, ALTER TABLE ADD PARTITION) are gone, projected partitions need none`,
        ],
        warnings: [],
        safer: `Usually safe to allow once you have checked that nothing reads the table during the apply. ${moved}`,
      };
    case 'queue':
      return {
        loses: [
          inPipeline
            ? `the messages in the on-failure queue${name ? ` \`${name}\`` : ''}: each names stream records whose batch ran out of retries, the only pointer a redrive has to them`
            : `the messages in the queue${name ? ` \`${name}\`` : ''}`,
        ],
        warnings: [],
        safer: inPipeline ? 'Redrive the queue first (the `redrive` action) and check that it is empty, then apply.' : 'Drain the queue first and check that it is empty, then apply.',
        runbook: inPipeline ? 'redrive' : undefined,
      };
    case 'kms-key': {
      const days = b.deletion_window_in_days;
      return {
        loses: [
          `the key${name ? ` (${name})` : ''} is scheduled for deletion${typeof days === 'number' ? ` in ${days} days` : ''}: once deleted, everything encrypted with it stays unreadable for good${inPipeline ? ' (table, lake objects, queue messages, the function environment)' : ''}`,
        ],
        warnings: [],
        safer: `Keep the key: take it out of Terraform's hands with a \`removed\` block (lifecycle destroy = false) instead of destroying it; until the window ends the deletion can be cancelled (aws kms cancel-key-deletion). ${replace ? 'A replacement key does not decrypt what the old one encrypted.' : ''}`.trim(),
      };
    }
    case 'log-group':
      return {
        loses: [`the logs in${name ? ` \`${name}\`` : ' the log group'}${typeof b.retention_in_days === 'number' ? ` (kept ${b.retention_in_days} days)` : ''}`],
        warnings: [],
        safer: `Export what you need first (aws logs create-export-task), or keep the group with a \`removed\` block (lifecycle destroy = false). ${moved}`,
      };
    default:
      return { loses: ['the data it holds'], warnings: [], safer: moved };
  }
}

/** Most serious first: the items, the lake, the key to both, the lake's history (a function's retention), the queue, then the catalog and logs. */
const SEVERITY: readonly Role[] = ['table', 'bucket', 'kms-key', 'function', 'queue', 'glue-database', 'glue-table', 'log-group'];

/** The function's environment variable history_retention_days sets (src/config/pipeline-config.ts reads it). */
export const HISTORY_RETENTION_ENV = 'HISTORY_RETENTION_DAYS';
const RETENTION_PATH = ['environment', 0, 'variables', HISTORY_RETENTION_ENV];

/** Days of a HISTORY_RETENTION_DAYS value as the handler reads it (blank: not set). */
function retentionDays(value: unknown): number | undefined {
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value !== 'string' || value.trim() === '') return undefined;
  const n = Number(value.trim());
  return Number.isFinite(n) ? n : undefined;
}

/** noncurrent_version_expiration_days of the instance's lake bucket, as the plan has it (its lifecycle rule). */
function noncurrentDays(ctx: ReviewContext, instance: string): number | undefined {
  for (const rc of ctx.changes) {
    if (rc.type !== 'aws_s3_bucket_lifecycle_configuration' || ctx.instances.of(rc)?.id !== instance) continue;
    const rules = (valueAt(rc.change.after ?? rc.change.before, ['rule']) ?? []) as Record<string, unknown>[];
    for (const rule of rules) {
      const days = valueAt(rule, ['noncurrent_version_expiration', 0, 'noncurrent_days']);
      if (typeof days === 'number') return days;
    }
  }
  return undefined;
}

/**
 * History deleted: the pipeline's function gets HISTORY_RETENTION_DAYS, or a smaller one. Read from the
 * function's environment in the plan (the module's history_retention_days input when the plan knows the
 * environment only after apply). A function created with a new lake bucket beside it is not flagged: a new
 * lake has no history; created over a bucket that exists (bring your own, or the function replaced), it is.
 */
function historyRisk(ctx: ReviewContext, rc: ResourceChange): Risk | undefined {
  const instance = ctx.instances.of(rc);
  if (rc.mode !== 'managed' || kindOf(rc).role !== 'function' || instance === undefined) return undefined;
  const action = actionOf(rc.change.actions);
  if (action !== 'create' && action !== 'update' && action !== 'replace') return undefined;
  const before = action === 'create' ? undefined : retentionDays(valueAt(rc.change.before, RETENTION_PATH));
  let afterUnknown = unknownAt(rc.change.after_unknown, RETENTION_PATH);
  let afterText = afterUnknown ? undefined : valueAt(rc.change.after, RETENTION_PATH);
  if (afterUnknown) {
    // The module merges the variable into an environment that may be known only after apply: its input says it.
    const input = variableValue(ctx.plan, rc.module_address, 'history_retention_days');
    if (input === null || typeof input === 'number') [afterText, afterUnknown] = [input === null ? undefined : String(input), false];
  }
  const after = retentionDays(afterText);
  if (!afterUnknown && (after === undefined || (before !== undefined && after >= before))) return undefined;
  if (action === 'create') {
    const newLake = ctx.changes.some((o) => o.type === 'aws_s3_bucket' && actionOf(o.change.actions) === 'create' && ctx.instances.of(o)?.id === instance.id);
    if (newLake) return undefined;
  }
  const name = nameOf(rc);
  const fn = name ? `Lambda function \`${name}\`` : 'the Lambda function';
  const days = after === undefined ? 'the retention' : `${after} days`;
  const noncurrent = noncurrentDays(ctx, instance.id);
  const versions = `S3 keeps each deleted object as a noncurrent version for noncurrent_version_expiration_days${noncurrent === undefined ? '' : ` (${noncurrent})`} (the bucket is versioned); after that it is gone for good`;
  const why = afterUnknown
    ? `${HISTORY_RETENTION_ENV} of ${fn} is known only after apply: if it is set, the scheduled maintenance run deletes the lake's history older than it`
    : before === undefined
      ? `history_retention_days is set (${fn}'s ${HISTORY_RETENTION_ENV} appears: ${after}): the scheduled maintenance run deletes every day older than ${days} that a kept checkpoint covers`
      : `history_retention_days is shortened (${fn}'s ${HISTORY_RETENTION_ENV} ${before} → ${after}): the next scheduled maintenance run deletes the days between ${after} and ${before} days old that a kept checkpoint covers`;
  return {
    address: rc.address,
    type: rc.type,
    role: 'function',
    instance: instance.id,
    action: 'delete-history',
    what: `the lake's history older than ${days} (${fn})`,
    why,
    forcedBy: [{ path: `environment.${HISTORY_RETENTION_ENV}`, before: rc.change.before ? valueAt(rc.change.before, RETENTION_PATH) : undefined, ...(afterUnknown ? {} : { after: afterText }), afterUnknown }],
    loses: [
      `every version of every item written more than ${days} ago (the day partitions before that, compacted or not), and with it the change history of the items and the expiries the expired-items view shows from those days; the current state stays exact (a kept checkpoint holds the latest version of each live item)`,
      versions,
    ],
    warnings: before !== undefined && after !== undefined ? [`Shortening deletes what the longer retention kept: the days between ${after} and ${before} days old go at the next scheduled run.`] : [],
    safer: `Keep what must stay first: copy the days older than ${days} (the flattened table's dt partitions) out of the lake, or choose a longer retention. Retention removes only days that a kept checkpoint covers, so the current state stays exact; setting it back does not bring deleted days back.`,
    runbook: { title: RUNBOOKS.lifecycle.title, url: `${ctx.docsUrl}#${RUNBOOKS.lifecycle.anchor}` },
    allowed: ctx.allowReplace.has(rc.address),
  };
}

export function riskSection(ctx: ReviewContext): Risk[] {
  const risks: Risk[] = [];
  for (const rc of ctx.changes) {
    const history = historyRisk(ctx, rc);
    if (history) risks.push(history);
  }
  for (const rc of ctx.changes) {
    if (rc.mode !== 'managed') continue;
    const action = actionOf(rc.change.actions);
    if (!destroys(action) || !kindOf(rc).stateful) continue;
    const instance = ctx.instances.of(rc);
    const forcedBy = forcedByOf(rc);
    const c = consequences(rc, ctx, forcedBy, instance !== undefined);
    risks.push({
      address: rc.address,
      type: rc.type,
      role: kindOf(rc).role,
      instance: instance?.id,
      action: action as 'replace' | 'delete',
      what: described(rc),
      why: whyText(rc, forcedBy),
      forcedBy,
      loses: c.loses,
      warnings: c.warnings,
      safer: c.safer,
      runbook: c.runbook ? { title: RUNBOOKS[c.runbook].title, url: `${ctx.docsUrl}#${RUNBOOKS[c.runbook].anchor}` } : undefined,
      allowed: ctx.allowReplace.has(rc.address),
    });
  }
  const instanceOrder = (r: Risk): number => (r.instance === undefined ? ctx.instances.list.length : ctx.instances.list.findIndex((i) => i.id === r.instance));
  return risks.sort((a, b) => instanceOrder(a) - instanceOrder(b) || SEVERITY.indexOf(a.role) - SEVERITY.indexOf(b.role));
}
