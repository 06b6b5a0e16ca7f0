import { reviewContext, type ReviewOptions } from './context.ts';
import { instanceHighlights } from './highlights.ts';
import { actionOf, type Plan } from './plan.ts';
import { planStatus, type PlanStatus } from './plan-status.ts';
import { accessSection, type AccessChange } from './sections/access.ts';
import { checkFails, checksSection, type ChecksSection } from './sections/checks.ts';
import { driftSection, type DriftSection } from './sections/drift.ts';
import { restSection, type OtherChange } from './sections/rest.ts';
import { riskSection, type Risk } from './sections/risk.ts';
import { versionsSection, type VersionsSection } from './sections/versions.ts';
import { viewsSection, type ViewsSection } from './sections/views.ts';

/**
 * The review of a plan, in the pipeline's terms: one object that both
 * renderers (markdown for a PR comment, JSON for policy engines) print.
 * Its shape is the JSON output; docs/plan-review.md documents it.
 */

export const REVIEW_FORMAT = 'ddb-flatten-review-plan/1';

/**
 * Exit codes: 0 the review vouches for the plan; 3 it fails: Terraform could
 * not finish the plan, a stateful resource is destroyed or was deleted
 * outside Terraform, or the lake's history retention is set or shortened
 * (not allowed), or a check failed. One code for all, so
 * CI that posts the review on 3 posts it for each; `verdict` and `failures`
 * say which.
 */
export const REVIEW_EXIT = { OK: 0, DATA_AT_RISK: 3 } as const;

/** The heading's verdict, most serious first. */
export type Verdict = 'could-not-finish' | 'data-at-risk' | 'checks-failed' | 'data-at-risk-allowed' | 'no-data-at-risk';

export interface Counts {
  readonly create: number;
  readonly update: number;
  readonly replace: number;
  readonly delete: number;
  /** Data sources read during apply (their inputs are known only then). */
  readonly read: number;
  readonly 'no-op': number;
  readonly [other: string]: number;
}

export interface InstanceSummary {
  readonly id: string;
  /** `module.orders_flatten`, or '' for the root module. */
  readonly moduleAddress: string;
  readonly pipeline: string;
  readonly label: string;
  readonly counts: Counts;
  /** The few things a reviewer must know about this instance, most serious first. */
  readonly highlights: readonly string[];
}

export interface Review {
  readonly format: typeof REVIEW_FORMAT;
  /** 0 or 3, as the command exits. */
  readonly exitCode: number;
  readonly verdict: Verdict;
  /** Why the review fails (exit 3), one sentence each; empty when it passes. */
  readonly failures: readonly string[];
  readonly terraformVersion?: string;
  /** Errored, complete, refresh-only: what kind of plan this is. */
  readonly plan: PlanStatus;
  readonly counts: Counts;
  /** Resources whose address changes (moved blocks), whatever else happens to them. */
  readonly moves: number;
  readonly instances: readonly InstanceSummary[];
  /** Changes to resources that belong to no pipeline instance. */
  readonly otherResources: Counts;
  readonly dataAtRisk: readonly Risk[];
  /** What changed outside Terraform (resource_drift). */
  readonly drift: DriftSection;
  /** Failed, errored and unknown checks (check blocks, validations, conditions). */
  readonly checks: ChecksSection;
  readonly versions: VersionsSection;
  readonly views: ViewsSection;
  readonly access: readonly AccessChange[];
  readonly other: readonly OtherChange[];
  /** Each --allow-replace address and whether it matched a resource at risk (planned, or deleted outside Terraform). */
  readonly allowReplace: readonly { readonly address: string; readonly matched: boolean }[];
  readonly notes: readonly string[];
}

function emptyCounts(): Record<string, number> {
  return { create: 0, update: 0, replace: 0, delete: 0, read: 0, 'no-op': 0 };
}

export function reviewPlan(plan: Plan, options: ReviewOptions = {}): Review {
  const ctx = reviewContext(plan, options);
  const counts = emptyCounts();
  const perInstance = new Map<string, Record<string, number>>(ctx.instances.list.map((i) => [i.id, emptyCounts()]));
  const otherResources = emptyCounts();
  for (const rc of ctx.changes) {
    const action = actionOf(rc.change.actions);
    // A data source's "read" is not a change to review; other data source entries (no-op) are not counted.
    if (rc.mode === 'data' && action !== 'read') continue;
    counts[action] = (counts[action] ?? 0) + 1;
    const instance = ctx.instances.of(rc);
    const bucket = instance ? perInstance.get(instance.id)! : otherResources;
    bucket[action] = (bucket[action] ?? 0) + 1;
  }

  const status = planStatus(plan);
  const moves = ctx.changes.filter((rc) => rc.mode === 'managed' && rc.previous_address).length;
  const dataAtRisk = riskSection(ctx);
  const drift = driftSection(ctx, status.refreshOnly);
  const checks = checksSection(ctx);
  const versions = versionsSection(ctx);
  const views = viewsSection(ctx);
  const access = accessSection(ctx);
  const explained = new Set([
    ...dataAtRisk.map((r) => r.address),
    ...versions.functions.map((f) => f.address),
    ...versions.aliases.map((a) => a.address),
    ...versions.triggers.map((t) => t.address),
    ...views.views.map((v) => v.address),
    ...views.tables.map((t) => t.address),
    ...access.map((a) => a.address),
  ]);
  const other = restSection(ctx, explained);

  const instances: InstanceSummary[] = ctx.instances.list.map((i) => {
    const counts = perInstance.get(i.id) as Counts;
    const mine = <T extends { instance?: string }>(xs: readonly T[]): T[] => xs.filter((x) => x.instance === i.id);
    const highlights = instanceHighlights(counts, {
      risks: mine(dataAtRisk),
      deleted: mine(drift.deleted),
      protections: mine(drift.protections),
      checks: mine(checks.findings),
      functions: mine(versions.functions),
      aliases: mine(versions.aliases),
      triggers: mine(versions.triggers),
      views: mine(views.views),
      tables: mine(views.tables),
      access: mine(access),
    });
    return { id: i.id, moduleAddress: i.moduleAddress, pipeline: i.pipeline, label: i.label, counts, highlights };
  });

  const allowReplace = [...ctx.allowReplace].map((address) => ({ address, matched: dataAtRisk.some((r) => r.address === address) || drift.deleted.some((d) => d.address === address) }));
  const notes: string[] = [];
  for (const a of allowReplace) if (!a.matched) notes.push(`--allow-replace ${a.address} matches nothing at risk in this plan.`);
  if (ctx.instances.list.length === 0) notes.push('No ddb-flatten pipeline in this plan: nothing here carries the ddb-flatten:pipeline tag.');

  const failed = checks.findings.filter(checkFails);
  const failures = [
    ...(status.errored ? [`Terraform could not finish this plan: it stopped with an error, so the changes after it are missing${status.notPlanned.length ? ` (${status.notPlanned.length} resources of the configuration have no planned change)` : ''}, and it cannot be applied.`] : []),
    ...drift.deleted.filter((d) => !d.allowed).map((d) => `${d.what} (\`${d.address}\`) was deleted outside Terraform.`),
    ...dataAtRisk
      .filter((r) => !r.allowed)
      .map((r) => (r.action === 'delete-history' ? `The plan deletes ${r.what} (\`${r.address}\`): ${r.why}.` : `The plan ${r.action === 'replace' ? 'replaces' : 'destroys'} ${r.what} (\`${r.address}\`).`)),
    ...failed.map((c) => `${c.what[0]!.toUpperCase()}${c.what.slice(1)} \`${c.address}\` ${c.status === 'fail' ? 'failed' : 'could not be evaluated'}${c.messages.length ? `: ${c.messages.join(' ')}` : '.'}`),
  ];
  const openRisk = dataAtRisk.some((r) => !r.allowed) || drift.deleted.some((d) => !d.allowed);
  const verdict: Verdict = status.errored
    ? 'could-not-finish'
    : openRisk
      ? 'data-at-risk'
      : failed.length
        ? 'checks-failed'
        : dataAtRisk.length || drift.deleted.length
          ? 'data-at-risk-allowed'
          : 'no-data-at-risk';

  return {
    format: REVIEW_FORMAT,
    exitCode: failures.length ? REVIEW_EXIT.DATA_AT_RISK : REVIEW_EXIT.OK,
    verdict,
    failures,
    terraformVersion: plan.terraform_version,
    plan: status,
    counts: counts as Counts,
    moves,
    instances,
    otherResources: otherResources as Counts,
    dataAtRisk,
    drift,
    checks,
    versions,
    views,
    access,
    other,
    allowReplace,
    notes,
  };
}
