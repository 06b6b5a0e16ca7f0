import type { ReviewContext } from '../context.ts';
import { actionOf, configOf, destroys, sameValue, valueAt, type ResourceChange } from '../plan.ts';
import { described, kindOf, nameOf, type Role } from '../pipeline-resources.ts';
import { diffPolicies, parsePolicy } from '../policy-diff.ts';
import { RUNBOOKS, type Runbook } from './risk.ts';

/**
 * Drift: what changed outside Terraform, read from the plan's
 * `resource_drift` (before: the state; after: what AWS has now, null when
 * the object is gone). A plan shows such a change only as its repair (a
 * create, an update that sets a value again), which says nothing of what
 * already happened, so the review says it:
 *
 * - a stateful resource deleted outside Terraform: what is already lost,
 *   and what the apply creates in its place. Like a planned destroy, it
 *   fails the review unless its address is named with --allow-replace;
 * - a protection turned off (point-in-time recovery, deletion protection,
 *   encryption, the public access block, the TLS-only policy, versioning,
 *   a key disabled): the apply sets it again, but the window it was off is
 *   worth knowing, and for PITR the backups are gone;
 * - everything else, listed.
 *
 * A bucket deleted outside Terraform takes its configuration resources
 * (`aws_s3_bucket_*` on that bucket) with it: they are listed under the
 * bucket, not each as a protection turned off.
 */

export interface DriftDeleted {
  readonly address: string;
  readonly type: string;
  readonly role: Role;
  readonly instance?: string;
  /** "DynamoDB table `orders`". */
  readonly what: string;
  /** What is already gone. */
  readonly lost: readonly string[];
  /** What applying this plan creates in its place (nothing, for a refresh-only plan). */
  readonly replacement: readonly string[];
  readonly warnings: readonly string[];
  readonly safer: string;
  readonly runbook?: Runbook;
  /** Named with --allow-replace. */
  readonly allowed: boolean;
  /**
   * A bucket's own configuration resources (public access block, policy, encryption, versioning,
   * lifecycle, ...) deleted with it: "bucket policy `<address>`". Each is in resource_drift as a
   * delete of its own, but S3 removes them with the bucket, so they are told here, not as protections.
   */
  readonly goneWithIt: readonly string[];
}

export interface ProtectionOff {
  readonly address: string;
  readonly type: string;
  readonly instance?: string;
  /** The resource it protects or is: "DynamoDB table `returns`", "bucket public access block". */
  readonly what: string;
  /** "point-in-time recovery", "the public access block", ... */
  readonly protection: string;
  /** What was done, and what it means. */
  readonly change: string;
  /** Does applying this plan set it again? */
  readonly restoredByPlan: boolean;
}

export interface OtherDrift {
  readonly address: string;
  readonly instance?: string;
  readonly type: string;
  readonly noun: string;
  /** delete (gone), update (changed), no-op (moved only, in a refresh-only plan). */
  readonly action: string;
  /** Arguments the configuration sets that differ: what the next apply sets back. */
  readonly changed: readonly string[];
  /**
   * Attributes the configuration does not set that differ: mostly a first read after the apply of
   * what other resources manage (a role's inline_policy, a bucket's versioning), which no apply changes.
   */
  readonly notConfigured: readonly string[];
  readonly movedFrom?: string;
}

export interface DriftSection {
  readonly deleted: readonly DriftDeleted[];
  readonly protections: readonly ProtectionOff[];
  readonly other: readonly OtherDrift[];
}

/** Computed bookkeeping that drifts with everything. */
const NOISE = new Set(['last_modified', 'tags_all', 'id', 'arn']);

const on = (v: unknown): boolean => v === true;

/** The planned change at the same address, if any. */
const planned = (ctx: ReviewContext, address: string): ResourceChange | undefined => ctx.changes.find((rc) => rc.address === address && rc.mode === 'managed');

/* ---- deleted outside Terraform ---- */

interface DeletedText {
  lost: string[];
  warnings: string[];
  safer: string;
  runbook?: keyof typeof RUNBOOKS;
}

function deletedText(d: ResourceChange, inPipeline: boolean): DeletedText {
  const b = (d.change.before ?? {}) as Record<string, any>;
  const name = nameOf(d);
  const named = name ? ` \`${name}\`` : '';
  switch (kindOf(d).role) {
    case 'table': {
      const pitr = valueAt(b, ['point_in_time_recovery', 0, 'enabled']) === true;
      const lost = [`every item in the table${named}`];
      if (on(b.stream_enabled)) lost.push(inPipeline ? 'its stream, with the records the trigger had not read yet' : 'its stream, and every reader\'s position in it');
      const warnings = inPipeline ? ['The lake keeps what was flattened before the deletion, and its current-state view still shows every item: deleting a table writes no REMOVE records to the stream.'] : [];
      return {
        lost,
        warnings,
        safer: pitr
          ? 'Point-in-time recovery was on, so DynamoDB kept a system backup of the table when it was deleted (35 days). Restore it under the same name before applying (aws dynamodb list-backups --backup-type SYSTEM, then restore-table-from-backup) and plan again: the plan then only turns the stream on and moves the trigger to it. Apply this plan only to start again with an empty table.'
          : 'Point-in-time recovery was off: only an on-demand backup or an export can bring the items back (restore it under the same name, then plan again). Apply this plan only to start again with an empty table.',
      };
    }
    case 'bucket':
      return {
        lost: [inPipeline ? `every object in the lake bucket${named} (S3 deletes only an empty bucket): the flattened Parquet rows, the quarantine, backfill exports and Athena results` : `every object in the bucket${named} (S3 deletes only an empty bucket)`],
        warnings: [],
        safer: inPipeline
          ? 'Nothing in AWS brings a deleted bucket back. Apply to create it again, then write the lake again from the table (a backfill).'
          : 'Nothing in AWS brings a deleted bucket back; apply to create it again, empty.',
        runbook: inPipeline ? 'backfill' : undefined,
      };
    case 'queue':
      return {
        lost: [inPipeline ? `the messages in the on-failure queue${named}: each named stream records whose batch ran out of retries` : `the messages in the queue${named}`],
        warnings: [],
        safer: 'The messages cannot be brought back. Apply to create the queue again, empty.',
      };
    case 'kms-key':
      return {
        lost: [`the key${name ? ` (${name})` : ''} is scheduled for deletion or deleted: until its waiting period ends it can be saved, and once deleted, everything encrypted with it stays unreadable for good${inPipeline ? ' (table, lake objects, queue messages, the function environment)' : ''}`],
        warnings: [],
        safer: 'Cancel the deletion (aws kms cancel-key-deletion, then aws kms enable-key) and plan again: a new key cannot decrypt what the old one encrypted.',
      };
    case 'glue-database':
      return { lost: [`the catalog database${named} and every table and view in it: catalog entries only, the objects in S3 stay`], warnings: [], safer: 'Applying creates the catalog again from the configuration; the lake is untouched.' };
    case 'glue-table':
      return { lost: [`the catalog entry of the table${named}: the Parquet objects in S3 stay`], warnings: [], safer: 'Applying creates the catalog entry again; the lake is untouched.' };
    case 'log-group':
      return { lost: [`the logs in${named || ' the log group'}`], warnings: [], safer: 'Applying creates the log group again, empty.' };
    default:
      return { lost: ['the data it held'], warnings: [], safer: 'Applying creates it again.' };
  }
}

/** What the apply puts where the deleted resource was, read from the planned changes. */
function replacementOf(ctx: ReviewContext, d: ResourceChange, refreshOnly: boolean): string[] {
  const noun = kindOf(d).noun;
  if (refreshOnly) return [`nothing yet: applying this refresh-only plan records the deletion in the state, and the next plan creates a new, empty ${noun}`];
  const rc = planned(ctx, d.address);
  if (!rc || actionOf(rc.change.actions) !== 'create') return [`nothing: this plan does not create the ${noun} again`];
  const b = (d.change.before ?? {}) as Record<string, any>;
  const a = (rc.change.after ?? {}) as Record<string, any>;
  const name = nameOf(rc);
  switch (kindOf(d).role) {
    case 'table': {
      const out = [`an empty table${name ? ` \`${name}\`` : ''} with the same keys`];
      if (on(a.stream_enabled)) out.push('a new stream, with a new ARN: it holds only the changes made after the apply');
      const triggers = ctx.changes.filter((t) => kindOf(t).role === 'trigger' && typeof b.stream_arn === 'string' && t.change.before?.event_source_arn === b.stream_arn);
      for (const t of triggers) {
        const action = actionOf(t.change.actions);
        const from = t.change.after?.starting_position ?? t.change.before?.starting_position;
        if (action === 'replace' || action === 'update') out.push(`the stream trigger \`${t.address}\` ${action === 'replace' ? 'replaced' : 'updated'} to read the new stream${from ? ` from ${from}` : ''}`);
        else if (action === 'delete') out.push(`no stream trigger: \`${t.address}\` is destroyed`);
      }
      return out;
    }
    case 'bucket': {
      const settings = ctx.changes.filter((s) => (s.module_address ?? '') === (rc.module_address ?? '') && ['bucket-setting', 'bucket-policy'].includes(kindOf(s).role) && actionOf(s.change.actions) === 'create');
      return [
        `an empty bucket${name ? ` \`${name}\`` : ''}${settings.length ? `, with ${settings.map((s) => kindOf(s).noun).join(', ')} again` : ''}`,
        ...(ctx.instances.of(d) ? ['the Glue table and views point at it again: queries return no rows until the lake is written again'] : []),
      ];
    }
    case 'kms-key':
      return ['a new key: it cannot decrypt anything the old one encrypted'];
    default:
      return [`a new, empty ${noun}${name ? ` \`${name}\`` : ''}`];
  }
}

/* ---- protections turned off ---- */

type Finding = Omit<ProtectionOff, 'address' | 'type' | 'instance' | 'what' | 'restoredByPlan'>;

function protectionsOff(d: ResourceChange): Finding[] {
  const action = actionOf(d.change.actions);
  const b = (d.change.before ?? {}) as Record<string, any>;
  const a = (d.change.after ?? {}) as Record<string, any>;
  const gone = action === 'delete';
  const out: Finding[] = [];
  switch (d.type) {
    case 'aws_dynamodb_table':
      if (gone) break;
      if (valueAt(b, ['point_in_time_recovery', 0, 'enabled']) === true && valueAt(a, ['point_in_time_recovery', 0, 'enabled']) !== true) {
        out.push({ protection: 'point-in-time recovery', change: 'turned off: the continuous backups are gone, and turning it on again starts a new 35-day window from the apply' });
      }
      if (on(b.deletion_protection_enabled) && !on(a.deletion_protection_enabled)) out.push({ protection: 'deletion protection', change: 'turned off: the table can be deleted with one call' });
      if (valueAt(b, ['server_side_encryption', 0, 'enabled']) === true && valueAt(a, ['server_side_encryption', 0, 'enabled']) !== true) {
        out.push({ protection: 'encryption', change: 'the customer managed key was replaced by the AWS owned key' });
      } else if (valueAt(b, ['server_side_encryption', 0, 'kms_key_arn']) !== valueAt(a, ['server_side_encryption', 0, 'kms_key_arn'])) {
        out.push({ protection: 'encryption', change: `the table's key changed: ${valueAt(b, ['server_side_encryption', 0, 'kms_key_arn']) ?? 'none'} → ${valueAt(a, ['server_side_encryption', 0, 'kms_key_arn']) ?? 'none'}` });
      }
      if (on(b.stream_enabled) && !on(a.stream_enabled)) out.push({ protection: 'the stream', change: 'turned off: the trigger gets no records, and changes made since are not in the lake' });
      else if (on(b.stream_enabled) && typeof b.stream_arn === 'string' && typeof a.stream_arn === 'string' && b.stream_arn !== a.stream_arn) {
        out.push({ protection: 'the stream', change: 'turned off and on again: a new stream, while the trigger still reads the old one; changes made in between are not in the lake' });
      }
      break;
    case 'aws_s3_bucket_public_access_block': {
      const flags = ['block_public_acls', 'block_public_policy', 'ignore_public_acls', 'restrict_public_buckets'];
      if (gone) out.push({ protection: 'the public access block', change: 'removed: public ACLs and public bucket policies are no longer refused' });
      else {
        const off = flags.filter((f) => on(b[f]) && !on(a[f]));
        if (off.length) out.push({ protection: 'the public access block', change: `${off.join(', ')} turned off` });
      }
      break;
    }
    case 'aws_s3_bucket_policy': {
      if (gone) {
        out.push({ protection: 'the bucket policy', change: 'removed: requests without TLS (or below TLS 1.2) are no longer denied' });
        break;
      }
      const weakened = diffPolicies(parsePolicy(b.policy) ?? [], parsePolicy(a.policy) ?? []).filter((c) => c.widens.length);
      if (weakened.length) out.push({ protection: 'the bucket policy', change: `changed so it allows more: ${weakened.map((c) => `${c.label}: ${c.widens.join('; ')}`).join('; ')}` });
      break;
    }
    case 'aws_s3_bucket_server_side_encryption_configuration': {
      const algorithm = (v: Record<string, any>): unknown => valueAt(v, ['rule', 0, 'apply_server_side_encryption_by_default', 0, 'sse_algorithm']);
      const key = (v: Record<string, any>): unknown => valueAt(v, ['rule', 0, 'apply_server_side_encryption_by_default', 0, 'kms_master_key_id']);
      if (gone) out.push({ protection: 'default encryption', change: 'its configuration was removed: new objects get S3\'s default (SSE-S3), not the configured key' });
      else if (algorithm(b) !== algorithm(a) || key(b) !== key(a)) out.push({ protection: 'default encryption', change: `changed: ${algorithm(b) ?? 'none'}${key(b) ? ` (${key(b)})` : ''} → ${algorithm(a) ?? 'none'}${key(a) ? ` (${key(a)})` : ''}` });
      break;
    }
    case 'aws_s3_bucket_versioning': {
      const status = (v: Record<string, any>): unknown => valueAt(v, ['versioning_configuration', 0, 'status']);
      if (status(b) === 'Enabled' && (gone || status(a) !== 'Enabled')) out.push({ protection: 'versioning', change: `${gone ? 'removed' : `set to ${status(a) ?? 'none'}`}: overwritten and deleted objects are no longer kept` });
      break;
    }
    case 'aws_kms_key':
      if (gone) break;
      if (on(b.is_enabled) && !on(a.is_enabled)) out.push({ protection: 'the key', change: 'disabled: nothing encrypted with it can be read or written until it is enabled again' });
      if (on(b.enable_key_rotation) && !on(a.enable_key_rotation)) out.push({ protection: 'key rotation', change: 'turned off' });
      break;
    case 'aws_sqs_queue':
      if (gone) break;
      if ((on(b.sqs_managed_sse_enabled) || b.kms_master_key_id) && !on(a.sqs_managed_sse_enabled) && !a.kms_master_key_id) out.push({ protection: 'encryption', change: 'turned off: messages are stored unencrypted' });
      break;
  }
  return out;
}

/* ---- the section ---- */

/**
 * The configuration resources (`aws_s3_bucket_*`) deleted with a bucket that is itself deleted, by the
 * bucket's name: S3 removed them with it.
 */
function bucketParts(drift: readonly ResourceChange[]): Map<string, ResourceChange[]> {
  const deletes = drift.filter((d) => d.mode === 'managed' && destroys(actionOf(d.change.actions)));
  const bucketOf = (d: ResourceChange): unknown => (d.change.before as { bucket?: unknown } | null)?.bucket;
  const parts = new Map<string, ResourceChange[]>();
  for (const d of deletes) if (d.type === 'aws_s3_bucket' && typeof bucketOf(d) === 'string') parts.set(bucketOf(d) as string, []);
  for (const d of deletes) if (d.type.startsWith('aws_s3_bucket_')) parts.get(bucketOf(d) as string)?.push(d);
  return parts;
}

export function driftSection(ctx: ReviewContext, refreshOnly: boolean): DriftSection {
  const deleted: DriftDeleted[] = [];
  const protections: ProtectionOff[] = [];
  const other: OtherDrift[] = [];
  const parts = bucketParts(ctx.plan.resource_drift ?? []);
  const toldWithBucket = new Set([...parts.values()].flat());
  for (const d of ctx.plan.resource_drift ?? []) {
    if (d.mode !== 'managed' || toldWithBucket.has(d)) continue;
    const action = actionOf(d.change.actions);
    const instance = ctx.instances.of(d);
    const kind = kindOf(d);
    if (destroys(action) && kind.stateful) {
      const t = deletedText(d, instance !== undefined);
      deleted.push({
        address: d.address,
        type: d.type,
        role: kind.role,
        instance: instance?.id,
        what: described(d),
        lost: t.lost,
        replacement: replacementOf(ctx, d, refreshOnly),
        warnings: t.warnings,
        safer: t.safer,
        runbook: t.runbook ? { title: RUNBOOKS[t.runbook].title, url: `${ctx.docsUrl}#${RUNBOOKS[t.runbook].anchor}` } : undefined,
        allowed: ctx.allowReplace.has(d.address),
        goneWithIt: d.type === 'aws_s3_bucket' ? (parts.get(nameOf(d) ?? '') ?? []).map((part) => `${kindOf(part).noun} \`${part.address}\``) : [],
      });
      continue;
    }
    const found = protectionsOff(d);
    if (found.length) {
      const rc = planned(ctx, d.address);
      const restoredByPlan = !!rc && ['create', 'update', 'replace'].includes(actionOf(rc.change.actions));
      for (const f of found) protections.push({ address: d.address, type: d.type, instance: instance?.id, what: described(d), restoredByPlan, ...f });
      continue;
    }
    const before = (d.change.before ?? {}) as Record<string, unknown>;
    const after = (d.change.after ?? {}) as Record<string, unknown>;
    const differ = action === 'update' ? [...new Set([...Object.keys(before), ...Object.keys(after)])].filter((k) => !NOISE.has(k) && !sameValue(before[k], after[k])) : [];
    // What the provider merely reads back in another form (null as [], {} as null) is not drift.
    if (action === 'update' && differ.length === 0) continue;
    const configured = configOf(ctx.plan, d)?.expressions;
    const changed = configured ? differ.filter((k) => k in configured) : differ;
    const notConfigured = differ.filter((k) => !changed.includes(k));
    other.push({ address: d.address, instance: instance?.id, type: d.type, noun: kind.noun, action, changed, notConfigured, ...(d.previous_address ? { movedFrom: d.previous_address } : {}) });
  }
  const order = (i: string | undefined): number => (i === undefined ? ctx.instances.list.length : ctx.instances.list.findIndex((x) => x.id === i));
  deleted.sort((a, b) => order(a.instance) - order(b.instance));
  protections.sort((a, b) => order(a.instance) - order(b.instance));
  return { deleted, protections, other };
}
