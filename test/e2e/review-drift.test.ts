import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DeleteTableCommand, UpdateContinuousBackupsCommand, UpdateTableCommand, waitUntilTableNotExists } from '@aws-sdk/client-dynamodb';
import { DeleteBucketCommand, DeleteBucketPolicyCommand, DeleteObjectsCommand, DeletePublicAccessBlockCommand, ListObjectVersionsCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runReviewPlan } from '../../src/cli/review-plan-command.ts';
import { COMMENT_MARKER, reviewMarkdown } from '../../src/review/markdown.ts';
import { parsePlan, type Plan, type ResourceChange } from '../../src/review/plan.ts';
import { reviewPlan, type Review } from '../../src/review/review.ts';
import { testIO } from '../support/cli.ts';
import { EXAMPLE_INSTANCE, PlanFixtures, SECOND_INSTANCE, type PlanFixture } from '../support/plan-fixtures.ts';
import { e2eSkipReason, printTimings, timed } from './harness.ts';
import { localAws } from './local-aws.ts';

/**
 * review-plan on what a reviewer must never see passed: real plans of the
 * module, made with terraform and the AWS provider against moto
 * (test/support/plan-fixtures.ts: examples/basic plus a second instance),
 * applied once. Then, through the AWS API as someone outside Terraform
 * would: the `orders` table's deletion protection turned off and the table
 * deleted, point-in-time recovery of `returns` turned off, and the
 * `returns` lake bucket's public access block and TLS-only policy removed.
 * Three plans follow:
 *
 * - refresh-only (after the protections are off, before the table goes),
 *   with a `check` block added to the root (a scoped data source reading
 *   the `returns` table, asserting its point-in-time recovery): the check
 *   fails;
 * - drift: a normal plan (with refresh) after the table is deleted: the
 *   drift is in resource_drift, the plan shows only its repair;
 * - refresh-only after the table is deleted: the drift alone (the module
 *   must still plan with its table gone from the state);
 * - errored: canary_weight without alias_pinned_version, which fails the
 *   module's precondition on the alias; terraform stops part way and writes
 *   the errored plan (exit 1).
 *
 * Every expectation is read from the plan itself (addresses, names, stream
 * ARNs, the check's message), so a review that says the wrong thing fails.
 */
const skipReason = e2eSkipReason();
if (skipReason) console.warn(`skipping the review-plan drift test: ${skipReason}`);

const EXAMPLE = `module.${EXAMPLE_INSTANCE}`;
const SECOND = `module.${SECOND_INSTANCE}`;

/** The check block the refresh-only plan adds to the root: a platform team's guard on the returns table. */
const PITR_CHECK_MESSAGE = 'Point-in-time recovery is off on the returns table.';
const PITR_CHECK = {
  check: {
    returns_pitr: {
      data: { aws_dynamodb_table: { returns: { name: 'returns' } } },
      assert: [{ condition: '${data.aws_dynamodb_table.returns.point_in_time_recovery[0].enabled}', error_message: PITR_CHECK_MESSAGE }],
    },
  },
};

/** The one managed change (or drift entry) of `type` in `module`. */
function one(list: readonly ResourceChange[] | undefined, module: string, type: string): ResourceChange {
  const found = (list ?? []).filter((rc) => rc.mode === 'managed' && rc.module_address === module && rc.type === type);
  expect(found.map((rc) => rc.address), `${type} in ${module}`).toHaveLength(1);
  return found[0]!;
}

async function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const t = testIO();
  // The command itself (src/cli/main.ts adds only the error handling of every command).
  const code = await runReviewPlan(args, t.io);
  return { code, stdout: t.stdout(), stderr: t.stderr() };
}

/** The Markdown between a `### ` heading starting with `title` and the next `### ` heading. */
function section(md: string, title: string): string {
  const start = md.indexOf(`\n### ${title}`);
  expect(start, `section "${title}" in:\n${md}`).toBeGreaterThan(0);
  const next = md.indexOf('\n### ', start + 5);
  return md.slice(start, next < 0 ? undefined : next);
}

describe.skipIf(skipReason !== undefined)('review-plan on drift, a failed check and an errored plan (terraform + moto)', () => {
  let fixtures: PlanFixtures | undefined;
  const plans = {} as Record<'drift' | 'refreshOnly' | 'refreshGone' | 'errored', PlanFixture>;
  /** What the apply made, read from the state: the names the drift is made on. */
  const applied = {} as { ordersTable: string; returnsTable: string; returnsBucket: string; ordersBucket: string };
  const started = performance.now();

  beforeAll(async () => {
    fixtures = await PlanFixtures.start();
    await fixtures.apply(await fixtures.initAndPlanFresh());
    const state = await fixtures.state();
    const resources = (module: string): Record<string, any>[] => state.values.root_module.child_modules.find((m: { address: string }) => m.address === module).resources;
    const value = (module: string, type: string, key: string): string => resources(module).find((r) => r.type === type)!.values[key];
    applied.ordersTable = value(EXAMPLE, 'aws_dynamodb_table', 'name');
    applied.returnsTable = value(SECOND, 'aws_dynamodb_table', 'name');
    applied.returnsBucket = value(SECOND, 'aws_s3_bucket', 'bucket');
    applied.ordersBucket = value(EXAMPLE, 'aws_s3_bucket', 'bucket');

    const aws = localAws(fixtures.run.moto);
    await timed('protections off through the AWS API', async () => {
      await aws.ddb.send(new UpdateContinuousBackupsCommand({ TableName: applied.returnsTable, PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: false } }));
      await aws.s3.send(new DeletePublicAccessBlockCommand({ Bucket: applied.returnsBucket }));
      await aws.s3.send(new DeleteBucketPolicyCommand({ Bucket: applied.returnsBucket }));
    });
    plans.refreshOnly = await fixtures.planWith('refresh-only', { args: ['-refresh-only'], files: { 'review_checks.tf.json': PITR_CHECK } });
    await timed('table deleted through the AWS API', async () => {
      // Deletion protection is on (the module's default): DeleteTable is refused until it is turned off, as in AWS.
      await expect(aws.ddb.send(new DeleteTableCommand({ TableName: applied.ordersTable }))).rejects.toThrow(/DeletionProtection/);
      await aws.ddb.send(new UpdateTableCommand({ TableName: applied.ordersTable, DeletionProtectionEnabled: false }));
      await aws.ddb.send(new DeleteTableCommand({ TableName: applied.ordersTable }));
      await waitUntilTableNotExists({ client: aws.ddb, maxWaitTime: 30 }, { TableName: applied.ordersTable });
    });
    plans.drift = await fixtures.planWith('drift');
    // The table is gone from the refreshed state: the module's policy documents still evaluate (their
    // table ARN is built from its name), so terraform finishes the plan and shows the drift.
    await timed('orders lake bucket emptied (every version) and deleted through the AWS API', async () => {
      const bucket = applied.ordersBucket;
      for (;;) {
        const listed = await aws.s3.send(new ListObjectVersionsCommand({ Bucket: bucket }));
        const objects = [...(listed.Versions ?? []), ...(listed.DeleteMarkers ?? [])].map((v) => ({ Key: v.Key!, VersionId: v.VersionId }));
        if (objects.length === 0) break;
        await aws.s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: objects } }));
      }
      await aws.s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    });
    plans.refreshGone = await fixtures.planWith('refresh-gone', { args: ['-refresh-only'] });
    // The errored plan needs no refresh: the precondition fails on the configuration alone.
    plans.errored = await fixtures.planWith('errored', {
      args: ['-refresh=false'],
      files: { 'review_errored_override.tf.json': { module: { [EXAMPLE_INSTANCE]: { canary_weight: 0.1 } } } },
      errors: true,
    });
    if (process.env.REVIEW_DRIFT_DUMP) {
      mkdirSync(process.env.REVIEW_DRIFT_DUMP, { recursive: true });
      for (const [name, p] of Object.entries(plans)) writeFileSync(join(process.env.REVIEW_DRIFT_DUMP, `${name}.plan.json`), p.text);
    }
  }, 900_000);

  afterAll(async () => {
    await fixtures?.stop();
    console.log(`review-plan drift: total ${((performance.now() - started) / 1000).toFixed(1)} s`);
    printTimings();
  }, 60_000);

  const plan = (name: keyof typeof plans): Plan => parsePlan(plans[name].text, `${name}.plan.json`);
  const review = (name: keyof typeof plans, allowReplace: string[] = []): Review => reviewPlan(plan(name), { allowReplace });

  describe('a table deleted outside Terraform (deletion protection turned off first, as AWS requires)', () => {
    it('is real drift: resource_drift has the delete, resource_changes only the create of an empty table', () => {
      const gone = one(plan('drift').resource_drift, EXAMPLE, 'aws_dynamodb_table');
      expect(gone.change.actions).toEqual(['delete']);
      expect(gone.change.before.name).toBe(applied.ordersTable);
      expect(gone.change.after).toBeNull();
      expect(one(plan('drift').resource_changes, EXAMPLE, 'aws_dynamodb_table').change.actions).toEqual(['create']);
    });

    it('heads the review "data at risk", first what is already lost and what the apply creates in its place; exit 3', async () => {
      const gone = one(plan('drift').resource_drift, EXAMPLE, 'aws_dynamodb_table');
      const trigger = one(plan('drift').resource_changes, EXAMPLE, 'aws_lambda_event_source_mapping');
      // The trigger still reads the deleted table's stream, so it is replaced to read the new one.
      expect(trigger.change.before.event_source_arn).toBe(gone.change.before.stream_arn);
      const r = await cli([plans.drift.jsonFile]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stdout.startsWith(`${COMMENT_MARKER}\n## ⛔ Plan review: data at risk\n`)).toBe(true);
      expect(r.stdout).toContain(`- \`${EXAMPLE}\` (pipeline \`orders\`): `);
      expect(r.stdout).toMatch(new RegExp(`- \`${EXAMPLE}\` \\(pipeline \`orders\`\\): [^\\n]* — ⛔ DynamoDB table \`${applied.ordersTable}\` deleted outside Terraform`));
      const risk = section(r.stdout, '⛔ Data at risk');
      expect(r.stdout.indexOf('\n### ')).toBe(r.stdout.indexOf('\n### ⛔ Data at risk'));
      expect(risk).toContain('1 stateful resource was deleted outside Terraform: what it held is already gone.');
      const block = risk.slice(risk.indexOf(`#### ⛔ Deleted outside Terraform: DynamoDB table \`${applied.ordersTable}\``));
      expect(block.length).toBeLessThan(risk.length);
      expect(block).toContain(`\`${gone.address}\``);
      expect(block).toContain(`- **Already lost**: every item in the table \`${applied.ordersTable}\`; its stream, with the records the trigger had not read yet.`);
      expect(block).toContain(
        `- **This plan creates in its place**: an empty table \`${applied.ordersTable}\` with the same keys; a new stream, with a new ARN: it holds only the changes made after the apply; the stream trigger \`${trigger.address}\` replaced to read the new stream from ${trigger.change.after.starting_position}.`,
      );
      expect(trigger.change.after.starting_position).toBe('TRIM_HORIZON');
      // PITR was on when the table went (the module's default), so the system backup is the way back.
      expect(gone.change.before.point_in_time_recovery[0].enabled).toBe(true);
      expect(block).toContain('restore-table-from-backup');
      expect(block).toContain(`- **To accept it**: \`--allow-replace '${gone.address}'\``);
    });

    it('lists the protections turned off on returns (PITR, public access block, TLS-only policy), each set again by the plan', () => {
      const r = review('drift');
      const drifted = (type: string): ResourceChange => one(plan('drift').resource_drift, SECOND, type);
      const table = drifted('aws_dynamodb_table');
      expect(table.change.before.point_in_time_recovery[0].enabled).toBe(true);
      expect(table.change.after.point_in_time_recovery[0].enabled).toBe(false);
      expect(drifted('aws_s3_bucket_public_access_block').change.actions).toEqual(['delete']);
      expect(drifted('aws_s3_bucket_policy').change.actions).toEqual(['delete']);
      expect(r.drift.protections.map((p) => [p.address, p.protection, p.instance, p.restoredByPlan])).toEqual([
        [table.address, 'point-in-time recovery', SECOND, true],
        [drifted('aws_s3_bucket_policy').address, 'the bucket policy', SECOND, true],
        [drifted('aws_s3_bucket_public_access_block').address, 'the public access block', SECOND, true],
      ]);
      const md = reviewMarkdown(r);
      const risk = section(md, '⛔ Data at risk');
      expect(risk).toContain('#### ⚠️ Protections turned off outside Terraform');
      expect(risk).toContain(`- ⚠ DynamoDB table \`${applied.returnsTable}\` (\`${table.address}\`): **point-in-time recovery** turned off: the continuous backups are gone`);
      expect(risk).toContain(`**the public access block** removed`);
      expect(risk).toContain(`**the bucket policy** removed: requests without TLS (or below TLS 1.2) are no longer denied — this plan sets it again.`);
      // Protections do not fail the review by themselves: the deleted table does.
      expect(r.failures).toEqual([`DynamoDB table \`${applied.ordersTable}\` (\`${one(plan('drift').resource_drift, EXAMPLE, 'aws_dynamodb_table').address}\`) was deleted outside Terraform.`]);
    });

    it('--allow-replace with the table\'s address accepts it: exit 0, still saying what is lost; another address does not', async () => {
      const address = one(plan('drift').resource_drift, EXAMPLE, 'aws_dynamodb_table').address;
      const r = await cli([plans.drift.jsonFile, '--allow-replace', address]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.startsWith(`${COMMENT_MARKER}\n## ⚠️ Plan review: data at risk, allowed\n`)).toBe(true);
      expect(r.stdout).toContain(`#### Allowed Deleted outside Terraform: DynamoDB table \`${applied.ordersTable}\``);
      expect(r.stdout).toContain('- **Already lost**: every item in the table');
      const wrong = await cli([plans.drift.jsonFile, '--allow-replace', address.replace(EXAMPLE, SECOND)]);
      expect(wrong.code).toBe(3);
      expect(wrong.stderr).toContain('matches nothing at risk in this plan');
    });

    it('--format json carries the drift, the verdict and why it fails, for policy engines', async () => {
      const r = await cli([plans.drift.jsonFile, '--format', 'json']);
      expect(r.code).toBe(3);
      const json = JSON.parse(r.stdout) as Review;
      const address = one(plan('drift').resource_drift, EXAMPLE, 'aws_dynamodb_table').address;
      expect(json).toMatchObject({ exitCode: 3, verdict: 'data-at-risk', plan: { errored: false, complete: true, refreshOnly: false } });
      expect(json.drift.deleted).toMatchObject([{ address, type: 'aws_dynamodb_table', role: 'table', instance: EXAMPLE, allowed: false }]);
      expect(json.drift.protections).toHaveLength(3);
      expect(json.failures).toHaveLength(1);
      expect(json.dataAtRisk).toEqual([]);
    });
  });

  describe('a refresh-only plan after the table and the lake bucket are deleted (the module still plans with them gone from the state)', () => {
    it('is what terraform writes: finished, no resource changes, both deletions in resource_drift', () => {
      const p = plan('refreshGone');
      expect([p.errored, p.complete]).toEqual([false, true]);
      expect(p.resource_changes).toBeUndefined();
      const table = one(p.resource_drift, EXAMPLE, 'aws_dynamodb_table');
      expect(table.change.actions).toEqual(['delete']);
      expect(table.change.before.name).toBe(applied.ordersTable);
      const bucket = one(p.resource_drift, EXAMPLE, 'aws_s3_bucket');
      expect(bucket.change.actions).toEqual(['delete']);
      expect(bucket.change.before.bucket).toBe(applied.ordersBucket);
      // The module's outputs are evaluated in this plan too: the names are null, and the s3:// locations
      // (templates of the bucket's name) are null rather than an error that stops the plan.
      const outputs = (plans.refreshGone.json.planned_values as { outputs: Record<string, { value: unknown }> }).outputs;
      expect([outputs.table_name!.value, outputs.lake_bucket!.value]).toEqual([null, null]);
    });

    it('says refresh-only and data at risk at the top, what is lost and that nothing is created yet; exit 3', async () => {
      const gone = one(plan('refreshGone').resource_drift, EXAMPLE, 'aws_dynamodb_table');
      const r = await cli([plans.refreshGone.jsonFile]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stdout.startsWith(`${COMMENT_MARKER}\n## ⛔ Refresh-only plan review: data at risk\n`)).toBe(true);
      const block = section(r.stdout, '⛔ Data at risk');
      expect(block).toContain(`#### ⛔ Deleted outside Terraform: DynamoDB table \`${applied.ordersTable}\``);
      expect(block).toContain(`- **Already lost**: every item in the table \`${applied.ordersTable}\``);
      expect(block).toContain('- **This plan creates in its place**: nothing yet: applying this refresh-only plan records the deletion in the state');
      expect(block).toContain(`- **To accept it**: \`--allow-replace '${gone.address}'\``);
      const bucket = one(plan('refreshGone').resource_drift, EXAMPLE, 'aws_s3_bucket');
      expect(block).toContain(`#### ⛔ Deleted outside Terraform: S3 bucket \`${applied.ordersBucket}\``);
      expect(block).toContain(`- **To accept it**: \`--allow-replace '${bucket.address}'\``);
      expect(review('refreshGone').failures).toHaveLength(2);
      // The bucket's own configuration went with it: told under the bucket, not as protections turned off.
      const parts = (plan('refreshGone').resource_drift ?? []).filter((d) => d.module_address === EXAMPLE && d.type.startsWith('aws_s3_bucket_'));
      expect(parts.map((d) => d.type)).toEqual(expect.arrayContaining(['aws_s3_bucket_policy', 'aws_s3_bucket_public_access_block', 'aws_s3_bucket_versioning']));
      expect(parts.every((d) => d.change.actions.join() === 'delete')).toBe(true);
      const goneWithIt = block.split('\n').find((line) => line.startsWith('- **Gone with it**'))!;
      for (const d of parts) expect(goneWithIt).toContain(`\`${d.address}\``);
      expect(review('refreshGone').drift.protections.map((x) => x.address).filter((a) => a.startsWith(`${EXAMPLE}.`))).toEqual([]);
      expect(review('refreshGone').drift.deleted.find((x) => x.type === 'aws_s3_bucket')!.goneWithIt).toHaveLength(parts.length);
      const both = await cli([plans.refreshGone.jsonFile, '--allow-replace', gone.address, '--allow-replace', bucket.address]);
      expect(both.code, both.stderr).toBe(0);
    });
  });

  describe('a refresh-only plan with a failed check block', () => {
    it('is what terraform writes: no resource changes, the check failed with its message', () => {
      const p = plan('refreshOnly');
      expect(p.resource_changes).toBeUndefined();
      expect([p.errored, p.complete]).toEqual([false, true]);
      const check = (p.checks ?? []).find((c) => c.address.to_display === 'check.returns_pitr')!;
      expect(check.status).toBe('fail');
      expect(check.instances![0]!.problems).toEqual([{ message: PITR_CHECK_MESSAGE }]);
    });

    it('says refresh-only and "checks failed" at the top, the message near it; exit 3', async () => {
      const r = await cli([plans.refreshOnly.jsonFile]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stdout.startsWith(`${COMMENT_MARKER}\n## ⛔ Refresh-only plan review: checks failed\n`)).toBe(true);
      expect(r.stdout).toContain('A refresh-only plan changes nothing in AWS');
      expect(section(r.stdout, '⛔ Checks failed')).toContain(`- ⛔ check block \`check.returns_pitr\` failed: “${PITR_CHECK_MESSAGE}”`);
      // The protections it found are above the checks, each to be set again by the next plan.
      const protections = section(r.stdout, '⚠️ Protections turned off outside Terraform');
      expect(protections.match(/the next plan sets it again\./g)).toHaveLength(3);
      expect(review('refreshOnly').failures).toEqual([`Check block \`check.returns_pitr\` failed: ${PITR_CHECK_MESSAGE}`]);
    });
  });

  describe('an errored plan: the module\'s precondition on the alias fails (canary_weight without alias_pinned_version)', () => {
    it('is what terraform writes: errored, incomplete, part of the changes', () => {
      const p = plan('errored');
      expect([p.errored, p.complete, p.applyable]).toEqual([true, false, false]);
      expect((p.resource_changes ?? []).some((rc) => rc.address === `${EXAMPLE}.aws_lambda_alias.live`)).toBe(false);
    });

    it('is "Terraform could not finish this plan", exit 3, with the failed condition\'s message and what was not planned', async () => {
      const p = plan('errored');
      const failed = (p.checks ?? []).filter((c) => c.status === 'fail');
      expect(failed.map((c) => c.address.to_display)).toEqual([`${EXAMPLE}.aws_lambda_alias.live`]);
      const message = failed[0]!.instances![0]!.problems![0]!.message;
      expect(message).toMatch(/^canary_weight above 0 needs alias_pinned_version/);
      const r = await cli([plans.errored.jsonFile]);
      expect(r.code, r.stderr).toBe(3);
      expect(r.stdout.startsWith(`${COMMENT_MARKER}\n## ⛔ Plan review: Terraform could not finish this plan\n`)).toBe(true);
      expect(r.stdout).not.toContain('no data at risk');
      expect(section(r.stdout, '⛔ Checks failed')).toContain(`\`${EXAMPLE}.aws_lambda_alias.live\` failed: “${message}”`);
      const notPlanned = review('errored').plan.notPlanned;
      expect(notPlanned).toEqual(expect.arrayContaining([`${EXAMPLE}.aws_lambda_alias.live`, `${EXAMPLE}.aws_lambda_event_source_mapping.stream`]));
      // Only what exists (it was applied) and has no change: nothing of returns, which was planned.
      expect(notPlanned.every((a) => a.startsWith(`${EXAMPLE}.`))).toBe(true);
      expect(section(r.stdout, '⛔ Terraform could not finish this plan')).toContain(`<b>Not planned</b>: ${notPlanned.length} resources of the configuration have no planned change`);
    });
  });
});
