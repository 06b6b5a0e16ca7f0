import type { ReviewContext } from '../context.ts';
import type { CheckResult } from '../plan.ts';

/**
 * Checks: the plan's `checks[]`, the conditions Terraform evaluated while
 * planning: `check` blocks, variable validation, resource pre- and
 * postconditions, output preconditions. A failed `check` block is only a
 * warning to Terraform, so the plan applies; a failed precondition or
 * validation stops the plan (errored). Either way the review fails on
 * them: what the configuration itself says is wrong is not for a reviewer
 * to wave through. "unknown" ones are decided only during the apply.
 *
 * As Terraform's docs recommend (Checks Representation), each instance is
 * listed; an object with no instances stands for itself.
 */

export interface CheckFinding {
  /** `check.lake_encrypted`, `module.orders_flatten.var.name`, `aws_lambda_alias.live`. */
  readonly address: string;
  /** resource, output_value, check, var (as Terraform writes it). */
  readonly kind: string;
  /** "check block", "variable validation", "resource condition", "output condition". */
  readonly what: string;
  readonly status: 'fail' | 'error' | 'unknown';
  /** The error_message of each condition that failed. */
  readonly messages: readonly string[];
  readonly instance?: string;
}

export interface ChecksSection {
  /** Failed, errored and unknown checks, failed first. */
  readonly findings: readonly CheckFinding[];
  /** How many passed (instances, or objects without instances). */
  readonly passed: number;
}

const WHAT: Readonly<Record<string, string>> = {
  check: 'check block',
  var: 'variable validation',
  resource: 'resource condition (precondition or postcondition)',
  output_value: 'output condition',
};

const ORDER = ['fail', 'error', 'unknown'];

/** The pipeline instance a check belongs to: its module's, when that module is one pipeline. */
function instanceOf(ctx: ReviewContext, module: string | undefined): string | undefined {
  const matching = ctx.instances.list.filter((i) => i.moduleAddress === (module ?? ''));
  return matching.length === 1 && matching[0]!.moduleAddress !== '' ? matching[0]!.id : undefined;
}

export function checksSection(ctx: ReviewContext): ChecksSection {
  const findings: CheckFinding[] = [];
  let passed = 0;
  for (const object of (ctx.plan.checks ?? []) as readonly CheckResult[]) {
    const kind = object.address?.kind ?? 'unknown';
    const what = WHAT[kind] ?? `${kind} condition`;
    const instances = object.instances?.length ? object.instances : [{ address: object.address, status: object.status, problems: [] }];
    for (const i of instances) {
      if (i.status === 'pass') {
        passed++;
        continue;
      }
      if (!ORDER.includes(i.status)) continue;
      const module = i.address?.module ?? object.address?.module;
      findings.push({
        address: i.address?.to_display ?? object.address?.to_display ?? '?',
        kind,
        what,
        status: i.status as CheckFinding['status'],
        messages: (i.problems ?? []).map((p) => p.message),
        instance: instanceOf(ctx, module),
      });
    }
  }
  findings.sort((a, b) => ORDER.indexOf(a.status) - ORDER.indexOf(b.status));
  return { findings, passed };
}

/** Failed or errored: the review fails on these. */
export const checkFails = (c: CheckFinding): boolean => c.status === 'fail' || c.status === 'error';
