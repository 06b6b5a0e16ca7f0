import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exitCodeOf } from '../src/cli/errors.ts';
import { runReviewPlan } from '../src/cli/review-plan-command.ts';
import { COMMENT_MARKER, reviewMarkdown } from '../src/review/markdown.ts';
import { parsePlan, PlanFileError, type Plan } from '../src/review/plan.ts';
import { reviewPlan, type Review } from '../src/review/review.ts';
import { testIO } from './support/cli.ts';
import { requireTerraform, terraform, terraformInit, terraformWorkDir } from './support/terraform.ts';

/**
 * The review's verdicts on the kinds of plan it must not pass, on plans the
 * real terraform 1.11 writes: tiny roots of `terraform_data` (built into
 * terraform, so no provider and no AWS; a second or two a plan). An errored
 * plan (a failed precondition, a failed variable validation), a failed
 * `check` block, a refresh-only plan, a -target plan, a move beside a
 * create. Each expectation is read from the plan's JSON or from the root
 * written here, and each verdict is set against a plan of the same root
 * that passes, so a review that always fails fails the test too. The drift
 * of the pipeline itself (moto) is test/e2e/review-drift.test.ts. Plans
 * written by Terraform's authors (test/fixtures/review-plan/terraform-v1.5.7)
 * and the format check need no terraform.
 */
const skipReason = requireTerraform();
if (skipReason) console.warn(`skipping the review-plan verdict tests: ${skipReason}`);

const PRECONDITION = 'n must be above 5, got ${var.n}.';
const CHECK_MESSAGE = 'input ${terraform_data.a.input} is too short.';

/** The roots, as HCL. */
const ROOTS: Readonly<Record<string, string>> = {
  // b's precondition fails with the default n = 1; c needs b, so terraform plans neither.
  precondition: `
variable "n" {
  type    = number
  default = 1
}
resource "terraform_data" "a" {
  input = "a"
}
resource "terraform_data" "b" {
  input = var.n
  lifecycle {
    precondition {
      condition     = var.n > 5
      error_message = "${PRECONDITION}"
    }
  }
}
resource "terraform_data" "c" {
  input = terraform_data.b.output
}
`,
  // A function fails while planning b: an error with no condition behind it, so the JSON has no check to name.
  'function-error': `
variable "settings_file" {
  type    = string
  default = "settings.json"
}
resource "terraform_data" "a" {
  input = "a"
}
resource "terraform_data" "b" {
  input = jsondecode(file(var.settings_file))
}
`,
  // A check block fails with the default name (a warning to terraform: the plan is written, exit 0);
  // the variable's validation fails for a one-letter name (an error: the plan stops).
  checks: `
variable "name" {
  type    = string
  default = "ab"
  validation {
    condition     = length(var.name) > 1
    error_message = "name must be at least 2 characters, got \\"\${var.name}\\"."
  }
}
resource "terraform_data" "a" {
  input = var.name
}
check "input_long_enough" {
  assert {
    condition     = length(terraform_data.a.input) > 3
    error_message = "${CHECK_MESSAGE}"
  }
}
check "output_known" {
  assert {
    condition     = terraform_data.a.output != null
    error_message = "no output."
  }
}
`,
};

describe.skipIf(skipReason !== undefined)('review-plan verdicts on plans terraform 1.11 writes (terraform_data roots)', () => {
  const work = terraformWorkDir('ddb-flatten-review-verdicts-');
  const dirs: Record<string, string> = {};
  const plans: Record<string, Plan> = {};

  /** `terraform plan -out` + `show -json` in a root; `okCodes` [0, 1] for a plan that stops with an error. */
  const plan = (root: string, name: string, args: readonly string[] = [], okCodes: readonly number[] = [0]): Plan => {
    const file = `${name}.tfplan`;
    terraform(dirs[root]!, ['plan', '-input=false', '-no-color', '-lock=false', `-out=${file}`, ...args], { okCodes });
    const text = terraform(dirs[root]!, ['show', '-json', '-no-color', file]).stdout;
    writeFileSync(join(dirs[root]!, `${name}.plan.json`), text);
    return (plans[name] = parsePlan(text, `${name}.plan.json`));
  };
  const apply = (root: string, file: string): void => void terraform(dirs[root]!, ['apply', '-input=false', '-no-color', '-lock=false', '-auto-approve', `${file}.tfplan`]);
  const review = (name: string): Review => reviewPlan(plans[name]!);
  const markdown = (name: string): string => reviewMarkdown(review(name));

  beforeAll(() => {
    for (const [name, hcl] of Object.entries(ROOTS)) {
      dirs[name] = join(work, name);
      mkdirSync(dirs[name]!, { recursive: true });
      writeFileSync(join(dirs[name]!, 'main.tf'), hcl);
      terraformInit(dirs[name]!);
    }
    plan('precondition', 'precondition-fails', [], [0, 1]);
    plan('precondition', 'precondition-holds', ['-var', 'n=6']);
    plan('precondition', 'targeted', ['-var', 'n=6', '-target=terraform_data.a']);
    plan('checks', 'validation-fails', ['-var', 'name=x'], [0, 1]);
    plan('function-error', 'function-fails', [], [0, 1]);
    writeFileSync(join(dirs['function-error']!, 'settings.json'), '{"size": 3}');
    plan('function-error', 'function-works');
    plan('checks', 'check-fails');
    plan('checks', 'check-passes', ['-var', 'name=long enough']);
    apply('checks', 'check-fails');
    plan('checks', 'refresh-only', ['-refresh-only']);
    plan('checks', 'after-apply');
    // A move beside a create: a renamed resource (moved block) and a new one.
    writeFileSync(join(dirs.checks!, 'main.tf'), ROOTS.checks!.replaceAll('terraform_data" "a"', 'terraform_data" "renamed"').replaceAll('terraform_data.a.', 'terraform_data.renamed.'));
    writeFileSync(join(dirs.checks!, 'more.tf'), 'moved {\n  from = terraform_data.a\n  to   = terraform_data.renamed\n}\nresource "terraform_data" "new" {\n  input = "new"\n}\n');
    plan('checks', 'move-and-create');
  }, 120_000);

  afterAll(() => rmSync(work, { recursive: true, force: true }));

  describe('an errored plan: a precondition fails part way', () => {
    it('is what terraform writes: errored, not complete, only some of the changes', () => {
      const p = plans['precondition-fails']!;
      expect([p.errored, p.complete, p.applyable]).toEqual([true, false, false]);
      expect((p.resource_changes ?? []).map((rc) => rc.address)).toEqual(['terraform_data.a']);
    });

    it('heads the review "Terraform could not finish this plan", exit 3, never "no data at risk"', async () => {
      const r = review('precondition-fails');
      expect(r).toMatchObject({ exitCode: 3, verdict: 'could-not-finish' });
      const md = markdown('precondition-fails');
      expect(md.startsWith(`${COMMENT_MARKER}\n## ⛔ Plan review: Terraform could not finish this plan\n`)).toBe(true);
      expect(md).not.toContain('no data at risk');
      expect(md).not.toContain('No stateful resource');
      // Through the command, as CI runs it.
      const t = testIO();
      expect(await runReviewPlan([join(dirs.precondition!, 'precondition-fails.plan.json')], t.io)).toBe(3);
      expect(t.stdout()).toBe(md);
    });

    it('names the failed condition with its message, and the resources terraform did not get to', () => {
      const p = plans['precondition-fails']!;
      const r = review('precondition-fails');
      const failed = (p.checks ?? []).filter((c) => c.status === 'fail');
      expect(failed.map((c) => c.address.to_display)).toEqual(['terraform_data.b']);
      expect(r.checks.findings).toEqual([{ address: 'terraform_data.b', kind: 'resource', what: 'resource condition (precondition or postcondition)', status: 'fail', messages: ['n must be above 5, got 1.'], instance: undefined }]);
      const configured = (p.configuration?.root_module?.resources ?? []).filter((x) => x.mode === 'managed').map((x) => x.address);
      const planned = (p.resource_changes ?? []).map((rc) => rc.address);
      expect(r.plan.notPlanned).toEqual(configured.filter((a) => !planned.includes(a)));
      expect(r.plan.notPlanned).toEqual(['terraform_data.b', 'terraform_data.c']);
      const md = markdown('precondition-fails');
      expect(md).toContain('- ⛔ resource condition (precondition or postcondition) `terraform_data.b` failed: “n must be above 5, got 1.”');
      expect(md).toContain('<b>Not planned</b>: 2 resources of the configuration have no planned change');
      expect(r.failures[0]).toMatch(/^Terraform could not finish this plan: .*2 resources of the configuration have no planned change/);
    });

    it('the same root with the condition met: exit 0, no data at risk', () => {
      const r = review('precondition-holds');
      expect(plans['precondition-holds']!.errored).toBe(false);
      expect(r).toMatchObject({ exitCode: 0, verdict: 'no-data-at-risk', failures: [] });
      expect(r.plan.notPlanned).toEqual([]);
      expect(markdown('precondition-holds')).toContain('## ✅ Plan review: no data at risk');
    });
  });

  describe('an errored plan: a variable validation fails before anything is planned', () => {
    it('exit 3 with the validation message; every resource of the configuration not planned', () => {
      const p = plans['validation-fails']!;
      expect(p.errored).toBe(true);
      expect(p.resource_changes ?? []).toEqual([]);
      const r = review('validation-fails');
      expect(r).toMatchObject({ exitCode: 3, verdict: 'could-not-finish' });
      expect(r.plan.refreshOnly).toBe(false);
      expect(r.plan.notPlanned).toEqual(['terraform_data.a']);
      expect(r.checks.findings.filter((c) => c.status === 'fail')).toEqual([expect.objectContaining({ address: 'var.name', kind: 'var', messages: ['name must be at least 2 characters, got "x".'] })]);
      // The checks it never reached are not "decided during the apply".
      expect(markdown('validation-fails')).toContain('- ❔ Not evaluated before Terraform stopped: `check.input_long_enough` (check block), `check.output_known` (check block).');
    });
  });

  describe('an errored plan with no failed condition (a function fails: the JSON does not say where)', () => {
    it('fails on errored alone: exit 3, the verdict, b not planned; with the file there, exit 0', () => {
      const p = plans['function-fails']!;
      expect([p.errored, p.checks]).toEqual([true, undefined]);
      const r = review('function-fails');
      expect(r).toMatchObject({ exitCode: 3, verdict: 'could-not-finish', checks: { findings: [] } });
      expect(r.failures).toHaveLength(1);
      expect(r.plan.notPlanned).toEqual(['terraform_data.b']);
      const md = markdown('function-fails');
      expect(md.startsWith(`${COMMENT_MARKER}\n## ⛔ Plan review: Terraform could not finish this plan\n`)).toBe(true);
      expect(md).toContain("- **Where**: the plan's JSON does not say: the error (a provider's, an invalid argument or function call) is in the output of `terraform plan`.");
      expect(md).toContain('**1 to create · 0 to update · 0 to replace · 0 to destroy** (only what was planned before the error)');
      expect(review('function-works')).toMatchObject({ exitCode: 0, verdict: 'no-data-at-risk', plan: { errored: false, notPlanned: [] } });
    });
  });

  describe('a failed check block (a warning to terraform: the plan is written, exit 0)', () => {
    it('fails the review with the check\'s message near the top, exit 3', async () => {
      const p = plans['check-fails']!;
      expect([p.errored, p.complete, p.applyable]).toEqual([false, true, true]);
      const r = review('check-fails');
      expect(r).toMatchObject({ exitCode: 3, verdict: 'checks-failed' });
      expect(r.failures).toEqual(['Check block `check.input_long_enough` failed: input ab is too short.']);
      const md = markdown('check-fails');
      expect(md.startsWith(`${COMMENT_MARKER}\n## ⛔ Plan review: checks failed\n`)).toBe(true);
      // The first section, right under the counts.
      expect([...md.matchAll(/^### (.+)$/gm)].map((m) => m[1])[0]).toBe('⛔ Checks failed');
      expect(md).toContain('- ⛔ check block `check.input_long_enough` failed: “input ab is too short.”');
      // The other check's value is known only after the apply: listed, not failed.
      expect(md).toContain('- ❔ Decided only during the apply (their values are known then): `check.output_known` (check block).');
      const t = testIO();
      expect(await runReviewPlan([join(dirs.checks!, 'check-fails.plan.json'), '--format', 'json'], t.io)).toBe(3);
      const json = JSON.parse(t.stdout()) as Review;
      expect(json.checks.findings.map((c) => [c.address, c.status])).toEqual([
        ['check.input_long_enough', 'fail'],
        ['check.output_known', 'unknown'],
      ]);
      expect(json.failures).toEqual(r.failures);
    });

    it('the same root with a long enough input: exit 0, no Checks failed section', () => {
      const r = review('check-passes');
      expect(r).toMatchObject({ exitCode: 0, verdict: 'no-data-at-risk' });
      expect(markdown('check-passes')).not.toContain('Checks failed');
    });
  });

  describe('a refresh-only plan', () => {
    it('has no resource changes and a prior state: the heading says refresh-only; a normal plan of the same state does not', () => {
      const p = plans['refresh-only']!;
      expect(p.resource_changes).toBeUndefined();
      expect(review('refresh-only').plan.refreshOnly).toBe(true);
      const md = markdown('refresh-only');
      // The check still fails on the applied state.
      expect(md.startsWith(`${COMMENT_MARKER}\n## ⛔ Refresh-only plan review: checks failed\n`)).toBe(true);
      expect(md).toContain('**0 resources changed outside Terraform** (a refresh-only plan: nothing to create, update or destroy)');
      expect(review('after-apply').plan.refreshOnly).toBe(false);
      expect(markdown('after-apply')).toContain('## ⛔ Plan review: checks failed');
    });
  });

  describe('smaller things', () => {
    it('a move beside a create: the counts line and "Everything else" agree (1 change, 1 move)', () => {
      const p = plans['move-and-create']!;
      const actions = (p.resource_changes ?? []).map((rc) => [rc.address, rc.previous_address, rc.change.actions.join()]);
      expect(actions).toEqual(expect.arrayContaining([['terraform_data.renamed', 'terraform_data.a', 'no-op'], ['terraform_data.new', undefined, 'create']]));
      const md = markdown('move-and-create');
      expect(md).toContain('**1 to create · 0 to update · 0 to replace · 0 to destroy · 1 to move**');
      expect(md).toContain('<details><summary>Everything else: 1 change, 1 move</summary>');
    });

    it('a -target plan (complete: false, not errored) never says plainly "no data at risk"', () => {
      const p = plans.targeted!;
      expect([p.errored, p.complete]).toEqual([false, false]);
      const r = review('targeted');
      expect(r.exitCode).toBe(0);
      const md = markdown('targeted');
      expect(md).toContain('## ⚠️ Partial plan review: no data at risk in the part planned');
      expect(md).toContain('Terraform planned only part of the configuration');
      expect(md).not.toContain('## ✅');
    });

    it('no review has two blank lines in a row', () => {
      for (const name of Object.keys(plans)) expect(markdown(name), name).not.toMatch(/\n\n\n/);
    });

    it('the footer leaves the Terraform version out when the plan has none', () => {
      const { terraform_version: version, ...rest } = plans['check-passes']!;
      expect(version).toBe('1.11.4');
      expect(reviewMarkdown(reviewPlan(plans['check-passes']!))).toContain('<sub>ddb-flatten review-plan · Terraform 1.11.4 · exit 0</sub>');
      expect(reviewMarkdown(reviewPlan(rest as Plan))).toContain('<sub>ddb-flatten review-plan · exit 0</sub>');
    });
  });
});

describe('review-plan on plans written by Terraform\'s authors, and on old formats (no terraform needed)', () => {
  const FIXTURES = new URL('./fixtures/review-plan/terraform-v1.5.7/', import.meta.url).pathname;
  const fixture = (name: string): Plan => parsePlan(readFileSync(join(FIXTURES, `${name}.json`), 'utf8'), `${name}.json`);

  it('drift.json: the drift of a resource that is not the pipeline\'s is listed, folded; nothing fails', () => {
    const p = fixture('drift');
    expect(p.terraform_version).toBeUndefined();
    const r = reviewPlan(p);
    expect(r).toMatchObject({ exitCode: 0, verdict: 'no-data-at-risk' });
    expect(r.drift).toEqual({
      deleted: [],
      protections: [],
      other: [{ address: 'test_instance.should_refresh', instance: undefined, type: 'test_instance', noun: 'test_instance', action: 'update', changed: ['ami'], notConfigured: [] }],
    });
    const md = reviewMarkdown(r);
    expect(md).toContain('<details><summary>Changed outside Terraform: 1 other resource</summary>');
    expect(md).toContain('- **changed** `test_instance.should_refresh` (test_instance): ami');
    expect(md).toContain('<sub>ddb-flatten review-plan · exit 0</sub>');
    expect(md).not.toMatch(/\n\n\n/);
  });

  it('moved-drift.json: a moved resource that drifted and is updated counts as an update and a move', () => {
    const r = reviewPlan(fixture('moved-drift'));
    expect(r.moves).toBe(1);
    expect(r.drift.other).toEqual([expect.objectContaining({ address: 'test_instance.should_refresh_with_move', movedFrom: 'test_instance.should_refresh', changed: ['ami'] })]);
    const md = reviewMarkdown(r);
    expect(md).toContain('**0 to create · 2 to update · 0 to replace · 0 to destroy · 1 to move**');
    expect(md).toContain('<details><summary>Everything else: 2 changes</summary>');
  });

  it('format 0.x is refused with exit 2, naming the Terraform version that writes 1.x', async () => {
    const old = JSON.stringify({ format_version: '0.2', terraform_version: '1.0.11', resource_changes: [] });
    expect(() => parsePlan(old, 'old.json')).toThrow(PlanFileError);
    expect(() => parsePlan(old, 'old.json')).toThrow(
      'old.json has plan format_version 0.2; this review reads format 1.x (Terraform 1.1 and later write it; this file is from Terraform 1.0 or older): plan and show it again with Terraform 1.1 or later',
    );
    const t = testIO(old);
    const error = await runReviewPlan(['-'], t.io).catch((e: unknown) => e);
    expect(exitCodeOf(error)).toBe(2);
    expect((error as Error).message).toContain('standard input has plan format_version 0.2');
  });
});
