import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { currentStateSql } from '../modules/glue-catalog.ts';
import { main } from '../src/cli/main.ts';
import { COMMENT_MARKER, GITHUB_COMMENT_LIMIT, reviewMarkdown } from '../src/review/markdown.ts';
import { parsePlan, type Plan, type ResourceChange } from '../src/review/plan.ts';
import { decodePrestoView } from '../src/review/presto-view.ts';
import { reviewPlan, type Review } from '../src/review/review.ts';
import { e2eSkipReason, printTimings, runProcess, timings } from './e2e/harness.ts';
import { testIO, CLI_BIN, REPO } from './support/cli.ts';
import { DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { localAws } from './e2e/local-aws.ts';
import { EXAMPLE_INSTANCE, FIXTURE_KMS_KEY_ARN, PlanFixtures, SCENARIOS, SECOND_HISTORY_RETENTION_DAYS, SECOND_INSTANCE, type PlanFixture, type ScenarioName } from './support/plan-fixtures.ts';
import { TERRAFORM_BIN, terraformEnv } from './support/terraform.ts';

/**
 * `ddb-flatten review-plan` on real plans: terraform and the AWS provider
 * against moto (test/support/plan-fixtures.ts), never hand-written JSON.
 * One moto; the HCL root (examples/hcl plus a second module instance) is
 * planned fresh, applied once, then planned for each scenario; the CDKTF
 * stack and an unrelated root are planned beside it. Every assertion is
 * derived from what the plan holds (addresses, hashes, statements), so a
 * review that says the wrong thing fails.
 */
const skipReason = e2eSkipReason();
if (skipReason) console.warn(`skipping the review-plan fixture tests: ${skipReason}`);

const EXAMPLE = `module.${EXAMPLE_INSTANCE}`;
const SECOND = `module.${SECOND_INSTANCE}`;

type Name = ScenarioName | 'fresh' | 'cdktf' | 'unrelated';

/** The resource change of `type` in `module` ('' root) matching `where`; fails when there is not exactly one. */
function change(plan: Plan, module: string, type: string, where: (rc: ResourceChange) => boolean = () => true): ResourceChange {
  const found = (plan.resource_changes ?? []).filter((rc) => rc.mode === 'managed' && (rc.module_address ?? '') === module && rc.type === type && where(rc));
  expect(found.map((rc) => rc.address), `${type} in ${module || 'root'}`).toHaveLength(1);
  return found[0]!;
}

const hex = (b64: string): string => Buffer.from(b64, 'base64').toString('hex');

/** "4 update, 2 replace": the managed changes of one module in the plan, as the headline counts them. */
function changesOf(plan: Plan, module: string): string {
  const actions = (plan.resource_changes ?? []).filter((rc) => rc.mode === 'managed' && rc.module_address === module).map((rc) => (rc.change.actions.length === 2 ? 'replace' : rc.change.actions[0]!));
  return ['create', 'update', 'replace', 'delete']
    .map((a) => [a, actions.filter((x) => x === a).length] as const)
    .filter(([, n]) => n > 0)
    .map(([a, n]) => `${n} ${a === 'delete' ? 'destroy' : a}`)
    .join(', ');
}

async function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const t = testIO();
  const code = await main(['review-plan', ...args], t.io);
  return { code, stdout: t.stdout(), stderr: t.stderr() };
}

describe.skipIf(skipReason !== undefined)('review-plan on real plans of the pipeline (terraform + moto)', () => {
  let fixtures: PlanFixtures | undefined;
  const plans = {} as Record<Name, PlanFixture>;
  const started = performance.now();

  beforeAll(async () => {
    fixtures = await PlanFixtures.start();
    // The CDKTF stack and the unrelated root only plan; they run while the HCL root applies.
    const side = Promise.all([fixtures.planCdktfStack(), fixtures.planUnrelated()]);
    side.catch(() => {});
    plans.fresh = await fixtures.initAndPlanFresh();
    await fixtures.apply(plans.fresh);
    [plans.cdktf, plans.unrelated] = await side;
    for (const name of Object.keys(SCENARIOS) as ScenarioName[]) plans[name] = await fixtures.planScenario(name);
  }, 900_000);

  afterAll(async () => {
    await fixtures?.stop();
    console.log(`review-plan fixtures: total ${((performance.now() - started) / 1000).toFixed(1)} s`);
    printTimings();
  }, 60_000);

  const plan = (name: Name): Plan => parsePlan(plans[name].text, `${name}.plan.json`);
  const review = (name: Name, allowReplace: string[] = []): Review => reviewPlan(plan(name), { allowReplace });
  const markdown = (name: Name, allowReplace: string[] = []): string => reviewMarkdown(review(name, allowReplace));
  const tableOf = (name: Name, module = EXAMPLE): ResourceChange => change(plan(name), module, 'aws_dynamodb_table');

  describe('a fresh create (the HCL root with two instances, before the apply)', () => {
    it('exits 0, counts every create, and gives one line per instance', async () => {
      const creates = (plan('fresh').resource_changes ?? []).filter((rc) => rc.mode === 'managed' && rc.change.actions.join() === 'create');
      const perModule = (m: string) => creates.filter((rc) => rc.module_address === m).length;
      const r = await cli([plans.fresh.jsonFile]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout.startsWith(`${COMMENT_MARKER}\n## ✅ Plan review: no data at risk`)).toBe(true);
      expect(r.stdout).toContain(`**${creates.length} to create · 0 to update · 0 to replace · 0 to destroy**`);
      expect(r.stdout).toContain(`- \`${EXAMPLE}\` (pipeline \`orders\`): ${perModule(EXAMPLE)} create — a new pipeline; publishes version 1`);
      expect(r.stdout).toContain(`- \`${SECOND}\` (pipeline \`returns\`): ${perModule(SECOND)} create — a new pipeline; publishes version 1`);
      expect(r.stdout).not.toContain('Data at risk');
    });

    it("knows each instance's maintenance workgroup (its own bytes-scanned cutoff) from the analysts' one", async () => {
      const workgroups = (plan('fresh').resource_changes ?? []).filter((rc) => rc.mode === 'managed' && rc.type === 'aws_athena_workgroup' && rc.module_address === EXAMPLE);
      const names = workgroups.map((rc) => String(rc.change.after?.name));
      expect(names.sort()).toEqual([names.find((n) => !n.endsWith('-maintenance'))!, `${names.find((n) => !n.endsWith('-maintenance'))}-maintenance`]);
      const r = await cli([plans.fresh.jsonFile]);
      for (const rc of workgroups) {
        const noun = String(rc.change.after?.name).endsWith('-maintenance') ? "Athena workgroup of the lake's maintenance statements" : 'Athena workgroup';
        expect(r.stdout).toContain(`\`${rc.address}\` (${noun})`);
      }
    });

    it('says each function publishes version 1 and its alias follows the newest version', () => {
      const v = review('fresh').versions;
      expect(v.functions.map((f) => [f.name, f.publishes, f.versionAfter])).toEqual([
        ['orders-flatten', true, '1'],
        ['returns-flatten', true, '1'],
      ]);
      expect(v.aliases.map((a) => [a.instance, a.mode, a.versionAfter])).toEqual([
        [EXAMPLE, 'follows-newest', '1'],
        [SECOND, 'follows-newest', '1'],
      ]);
    });

    it('shows the new view as SQL, and the new role policy statement by statement from its policy document', () => {
      const r = review('fresh');
      const view = r.views.views.find((v) => v.instance === EXAMPLE && v.name === 'current_state')!;
      expect(view.sql).toBe(currentStateSql('orders', 'flattened', ['status']));
      const policy = change(plan('fresh'), EXAMPLE, 'aws_iam_role_policy', (rc) => rc.change.after?.name === 'ddb-flatten');
      const access = r.access.find((a) => a.address === policy.address)!;
      // Known only after apply; the statements come from the data source the policy is built from.
      expect(access.afterUnknown).toBe(true);
      const doc = (plan('fresh').resource_changes ?? []).find((rc) => rc.address === access.fromDocument)!;
      expect(access.changes.map((c) => c.statement.sid)).toEqual(doc.change.after.statement.map((s: { sid: string }) => s.sid));
      // A new policy: only its wildcards are flagged (the actions AWS authorizes on "*" alone).
      expect(access.widens.every((w) => w.includes('wildcard `*`'))).toBe(true);
      expect(access.widens.length).toBeGreaterThan(0);
    });
  });

  describe('the CDKTF stack (what npm run plan plans)', () => {
    it('finds the pipeline in the root module by its tag, and reads the alias from the configuration', () => {
      const r = review('cdktf');
      expect(r.exitCode).toBe(0);
      expect(r.instances.map((i) => [i.moduleAddress, i.pipeline, i.label])).toEqual([['', 'invoices', 'root module (pipeline `invoices`)']]);
      const creates = (plan('cdktf').resource_changes ?? []).filter((rc) => rc.mode === 'managed').length;
      expect(r.instances[0]!.counts.create).toBe(creates);
      expect(r.versions.aliases[0]).toMatchObject({ mode: 'follows-newest', versionAfter: '1' });
      expect(r.versions.triggers[0]!.summary).toBe('the stream trigger is created on alias `live` (ARN known after apply), reading from TRIM_HORIZON');
    });
  });

  describe('a key-schema change (sort_key "sk" → "line_id")', () => {
    it('exits 3, and the first section names the table, the replacement and range_key', async () => {
      const table = tableOf('sortKey');
      expect(table.change.actions).toEqual(['delete', 'create']);
      const r = await cli([plans.sortKey.jsonFile]);
      expect(r.code, r.stderr).toBe(3);
      const sections = [...r.stdout.matchAll(/^### (.+)$/gm)].map((m) => m[1]);
      expect(sections[0]).toBe('⛔ Data at risk');
      const first = r.stdout.slice(r.stdout.indexOf('### ⛔ Data at risk'), r.stdout.indexOf(`### ${sections[1]}`));
      expect(first).toContain('#### ⛔ Replaces DynamoDB table `orders`');
      expect(first).toContain(`\`${table.address}\``);
      expect(first).toContain('- **Forced by** `range_key`: `"sk"` → `"line_id"`');
      expect(first).toContain('every item in the table `orders`');
      expect(first).toContain('[README: Change the table\'s key schema](README.md#change-the-tables-key-schema)');
      expect(first).toContain(`\`--allow-replace '${table.address}'\``);
      expect(r.stdout).toContain(`- \`${EXAMPLE}\` (pipeline \`orders\`): ${changesOf(plan('sortKey'), EXAMPLE)} — ⛔ replaces DynamoDB table \`orders\``);
      expect(r.stdout).toContain(`- \`${SECOND}\` (pipeline \`returns\`): no changes`);
    });

    it('warns that deletion protection fails the apply after the trigger is already gone', () => {
      const trigger = change(plan('sortKey'), EXAMPLE, 'aws_lambda_event_source_mapping');
      expect(tableOf('sortKey').change.before.deletion_protection_enabled).toBe(true);
      const [risk, ...others] = review('sortKey').dataAtRisk;
      expect(others).toEqual([]);
      expect(risk!.warnings).toEqual([
        `Deletion protection is on: the apply fails when it deletes this table, after it has already destroyed the stream trigger \`${trigger.address}\`. The pipeline is left with no trigger until someone repairs it.`,
      ]);
      expect(review('sortKey').versions.triggers).toMatchObject([{ address: trigger.address, action: 'replace', interrupts: true }]);
    });

    it('gives the same through --format json, for policy engines', async () => {
      const r = await cli([plans.sortKey.jsonFile, '--format', 'json']);
      expect(r.code).toBe(3);
      const json = JSON.parse(r.stdout) as Review;
      expect(json.format).toBe('ddb-flatten-review-plan/1');
      expect(json.exitCode).toBe(3);
      expect(json.dataAtRisk).toMatchObject([{ address: tableOf('sortKey').address, type: 'aws_dynamodb_table', action: 'replace', allowed: false, forcedBy: [{ path: 'range_key', before: 'sk', after: 'line_id' }] }]);
    });

    it('--allow-replace with the table\'s address turns exit 3 into 0, and still shows what is lost', async () => {
      const address = tableOf('sortKey').address;
      const r = await cli([plans.sortKey.jsonFile, '--allow-replace', address]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('## ⚠️ Plan review: data at risk, allowed');
      expect(r.stdout).toContain('#### Allowed Replaces DynamoDB table `orders`');
      expect(r.stdout).toContain('every item in the table `orders`');
      // Another address allows nothing, and says so.
      const wrong = await cli([plans.sortKey.jsonFile, '--allow-replace', address.replace(EXAMPLE, SECOND)]);
      expect(wrong.code).toBe(3);
      expect(wrong.stderr).toContain(`--allow-replace ${address.replace(EXAMPLE, SECOND)} matches nothing at risk in this plan`);
    });

    it('reads the binary plan file itself with terraform show -json, to the same review', async () => {
      const r = await runProcess(process.execPath, [CLI_BIN, 'review-plan', plans.sortKey.planFile], {
        cwd: plans.sortKey.dir,
        env: terraformEnv({ TERRAFORM_BIN }),
      });
      expect(r.code, r.stderr).toBe(3);
      expect(r.stdout).toBe(markdown('sortKey'));
    });

    it('publishes a version for the new environment and moves the alias with it', () => {
      const v = review('sortKey').versions;
      expect(v.functions).toMatchObject([{ instance: EXAMPLE, publishes: true, versionBefore: '1', versionAfter: '2', configuration: ['environment (known after apply)'] }]);
      expect(v.aliases).toMatchObject([{ instance: EXAMPLE, mode: 'follows-newest', versionBefore: '1', versionAfter: '2' }]);
    });
  });

  describe('a code change (a new zip in the module)', () => {
    it('publishes a version with the code hashes and moves the alias live, in both instances', async () => {
      const r = await cli([plans.code.jsonFile]);
      expect(r.code, r.stderr).toBe(0);
      for (const [module, fn] of [[EXAMPLE, 'orders-flatten'], [SECOND, 'returns-flatten']] as const) {
        const c = change(plan('code'), module, 'aws_lambda_function').change;
        expect(c.after.source_code_hash).not.toBe(c.before.source_code_hash);
        const before = hex(c.before.source_code_hash).slice(0, 12);
        const after = hex(c.after.source_code_hash).slice(0, 12);
        expect(r.stdout).toContain(`- Function: publishes version 2 of \`${fn}\` (code changed: sha256 ${before}… → ${after}…)`);
      }
      expect(r.stdout.match(/- Alias: `live` follows the newest version: 1 → 2 \(published by this apply\)/g)).toHaveLength(2);
      expect(r.stdout).not.toContain('### Access');
      expect(r.stdout).not.toContain('### Views');
    });
  });

  describe('pin and canary (alias_pinned_version = "1", canary_weight = 1, with new code)', () => {
    it('keeps live pinned to 1 and sends the canary share to the version this plan publishes', () => {
      const r = review('canary');
      const pinned = r.versions.aliases.find((a) => a.instance === EXAMPLE)!;
      expect(pinned).toMatchObject({ mode: 'pinned', versionBefore: '1', versionAfter: '1', canaryAfter: { version: '2', weight: 1 } });
      expect(pinned.summary).toBe('`live` pinned to 1; canary 100% to version 2 (published by this apply)');
      // The other instance is not pinned: it follows the new version.
      expect(r.versions.aliases.find((a) => a.instance === SECOND)).toMatchObject({ mode: 'follows-newest', versionAfter: '2' });
      expect(reviewMarkdown(r)).toContain(`- \`${EXAMPLE}\` (pipeline \`orders\`): ${changesOf(plan('canary'), EXAMPLE)} — publishes version 2; alias \`live\` pinned to 1 with a canary`);
    });
  });

  describe('a carried attribute added (carry_attributes + customer_id)', () => {
    it('shows the view change as a diff of its SQL, not the base64 blob', () => {
      // (The example also has a per-element view, which gains the column too: the current-state view is checked here.)
      const view = change(plan('carried'), EXAMPLE, 'aws_glue_catalog_table', (rc) => rc.change.after?.table_type === 'VIRTUAL_VIEW' && rc.change.after?.name === 'current_state');
      const before = decodePrestoView(view.change.before.view_original_text)!;
      const after = decodePrestoView(view.change.after.view_original_text)!;
      expect(before.sql).toBe(currentStateSql('orders', 'flattened', ['status']));
      expect(after.sql).toBe(currentStateSql('orders', 'flattened', ['status', 'customer_id']));
      const md = markdown('carried');
      const diff = '\n' + [...md.matchAll(/```diff\n([\s\S]*?)\n```/g)].map((m) => m[1]).join('\n') + '\n';
      const removed = before.sql.split('\n').filter((l) => !after.sql.split('\n').includes(l));
      const added = after.sql.split('\n').filter((l) => !before.sql.split('\n').includes(l));
      expect(removed.length).toBeGreaterThan(0);
      for (const line of removed) expect(diff).toContain(`\n-${line}\n`);
      for (const line of added) expect(diff).toContain(`\n+${line}\n`);
      const blob = /Presto View: (\S+)/.exec(view.change.after.view_original_text)![1]!;
      expect(md).not.toContain(blob.slice(0, 40));
      expect(md).toContain('- Athena view `current_state`: SQL changes; columns added: customer_id varchar');
      expect(md).toContain('- Glue table `flattened`: columns added: customer_id string');
    });

    it('publishes a version for the new CARRY_ATTRIBUTES and lists the replaced named query with the rest', () => {
      const r = review('carried');
      expect(r.versions.functions).toMatchObject([{ instance: EXAMPLE, versionAfter: '2', configuration: ['environment.CARRY_ATTRIBUTES'] }]);
      const query = change(plan('carried'), EXAMPLE, 'aws_athena_named_query', (rc) => rc.change.actions.length === 2 && rc.address.endsWith('.current_state_view'));
      expect(r.other).toEqual(expect.arrayContaining([expect.objectContaining({ address: query.address, action: 'replace', changed: expect.arrayContaining(['query']) })]));
      expect(r.other.filter((o) => !o.address.includes('aws_athena_named_query'))).toEqual([]);
      expect(r.exitCode).toBe(0);
    });
  });

  describe('an IAM change (existing_table_kms_key_arn: a key the function may use)', () => {
    it('shows the added statement with its actions and resource, and flags the widening', async () => {
      const policy = change(plan('iam'), EXAMPLE, 'aws_iam_role_policy', (rc) => rc.change.actions.join() === 'update');
      const r = review('iam');
      expect(r.access).toHaveLength(1);
      expect(r.access[0]!.address).toBe(policy.address);
      expect(r.access[0]!.changes).toMatchObject([
        { kind: 'added', label: 'UseOnlyThesePipelineKeys', statement: { effect: 'Allow', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: [FIXTURE_KMS_KEY_ARN] } },
      ]);
      expect(r.access[0]!.widens).toEqual(['UseOnlyThesePipelineKeys: grants kms:Decrypt, kms:GenerateDataKey']);
      const md = (await cli([plans.iam.jsonFile])).stdout;
      expect(md).toContain('> [!WARNING]');
      expect(md).toContain(`  - ⚠ **added** \`UseOnlyThesePipelineKeys\`: Allow \`kms:Decrypt\`, \`kms:GenerateDataKey\` on \`${FIXTURE_KMS_KEY_ARN}\``);
      expect(changesOf(plan('iam'), EXAMPLE)).toBe('1 update');
      expect(md).toContain(`- \`${EXAMPLE}\` (pipeline \`orders\`): 1 update — ⚠ widens access`);
    });
  });

  describe('Time to Live (examples/basic sets ttl_attribute)', () => {
    it('the fresh plan turns TTL on for the example\'s table only, and the apply leaves it ENABLED in AWS (moto)', async () => {
      expect(change(plan('fresh'), EXAMPLE, 'aws_dynamodb_table').change.after.ttl).toEqual([{ attribute_name: 'expires_at', enabled: true }]);
      expect(change(plan('fresh'), SECOND, 'aws_dynamodb_table').change.after.ttl ?? []).toEqual([]);
      const ddb = localAws(fixtures!.run.moto).ddb;
      const table = (module: string) => String(change(plan('fresh'), module, 'aws_dynamodb_table').change.after.name);
      expect((await ddb.send(new DescribeTimeToLiveCommand({ TableName: table(EXAMPLE) }))).TimeToLiveDescription).toEqual({ TimeToLiveStatus: 'ENABLED', AttributeName: 'expires_at' });
      expect((await ddb.send(new DescribeTimeToLiveCommand({ TableName: table(SECOND) }))).TimeToLiveDescription?.TimeToLiveStatus).toBe('DISABLED');
      // And the refreshed plan after the apply changes nothing (the clean plan above).
      expect(review('clean').counts.update).toBe(0);
    });
  });

  describe('history retention: set on one instance (none → 365 days), shortened on the other (400 → 90)', () => {
    const fn = (name: Name, module: string) => change(plan(name), module, 'aws_lambda_function');
    it('reads it from each function\'s environment in the plan', () => {
      const variables = (module: string, side: 'before' | 'after') => fn('retention', module).change[side].environment[0].variables;
      expect(variables(EXAMPLE, 'before')).not.toHaveProperty('HISTORY_RETENTION_DAYS');
      expect(variables(EXAMPLE, 'after').HISTORY_RETENTION_DAYS).toBe('365');
      expect(variables(SECOND, 'before').HISTORY_RETENTION_DAYS).toBe(String(SECOND_HISTORY_RETENTION_DAYS));
      expect(variables(SECOND, 'after').HISTORY_RETENTION_DAYS).toBe('90');
    });

    it('exits 3: both are data at risk, with what is lost, the noncurrent versions and the --allow-replace to accept each', async () => {
      const r = review('retention');
      expect(r.exitCode).toBe(3);
      expect(r.verdict).toBe('data-at-risk');
      expect(r.dataAtRisk.map((x) => [x.instance, x.address, x.action, x.role, x.forcedBy])).toEqual([
        [EXAMPLE, fn('retention', EXAMPLE).address, 'delete-history', 'function', [{ path: 'environment.HISTORY_RETENTION_DAYS', before: undefined, after: '365', afterUnknown: false }]],
        [SECOND, fn('retention', SECOND).address, 'delete-history', 'function', [{ path: 'environment.HISTORY_RETENTION_DAYS', before: '400', after: '90', afterUnknown: false }]],
      ]);
      const [set, shortened] = r.dataAtRisk;
      expect(set!.what).toBe("the lake's history older than 365 days (Lambda function `orders-flatten`)");
      expect(set!.why).toMatch(/^history_retention_days is set \(Lambda function `orders-flatten`'s HISTORY_RETENTION_DAYS appears: 365\): the scheduled maintenance run deletes every day older than 365 days that a kept checkpoint covers$/);
      expect(shortened!.why).toMatch(/history_retention_days is shortened \(.*HISTORY_RETENTION_DAYS 400 → 90\): the next scheduled maintenance run deletes the days between 90 and 400 days old/);
      expect(shortened!.warnings).toEqual(['Shortening deletes what the longer retention kept: the days between 90 and 400 days old go at the next scheduled run.']);
      // The bucket's own noncurrent-version expiration, read from its lifecycle rule in the plan (the module's default 30).
      for (const x of [set!, shortened!]) expect(x.loses[1]).toBe('S3 keeps each deleted object as a noncurrent version for noncurrent_version_expiration_days (30) (the bucket is versioned); after that it is gone for good');
      expect(r.failures).toEqual([
        `The plan deletes ${set!.what} (\`${set!.address}\`): ${set!.why}.`,
        `The plan deletes ${shortened!.what} (\`${shortened!.address}\`): ${shortened!.why}.`,
      ]);
      const md = (await cli([plans.retention.jsonFile])).stdout;
      expect(md.startsWith(`${COMMENT_MARKER}\n## ⛔ Plan review: data at risk`)).toBe(true);
      expect(md).toContain('> Applying this plan sets or shortens the history retention of 2 lakes: the scheduled maintenance run then deletes their older history. The review fails (exit 3) unless each is named with `--allow-replace ADDRESS`.');
      expect(md).toContain("#### ⛔ Deletes the lake's history older than 365 days (Lambda function `orders-flatten`)");
      expect(md).toContain('- **Set by** `environment.HISTORY_RETENTION_DAYS`: `null` → `"365"`');
      expect(md).toContain('- **Set by** `environment.HISTORY_RETENTION_DAYS`: `"400"` → `"90"`');
      expect(md).toContain('[README: Data lifecycle](README.md#data-lifecycle)');
      expect(md).toContain(`- **To accept it**: \`--allow-replace '${fn('retention', SECOND).address}'\``);
      expect(md).toContain(`- \`${EXAMPLE}\` (pipeline \`orders\`): ${changesOf(plan('retention'), EXAMPLE)} — ⛔ deletes the lake's history older than 365 days`);
      expect(md).toContain(`- \`${SECOND}\` (pipeline \`returns\`): ${changesOf(plan('retention'), SECOND)} — ⛔ deletes the lake's history older than 90 days`);
      // The function publishes a version for it, as for any configuration change.
      expect(md).toContain('- Function: publishes version 2 of `orders-flatten` (configuration only: environment.HISTORY_RETENTION_DAYS)');
    });

    it('--allow-replace with each function\'s address accepts it (exit 0); one of the two is not enough', async () => {
      const both = [EXAMPLE, SECOND].flatMap((m) => ['--allow-replace', fn('retention', m).address]);
      const r = await cli([plans.retention.jsonFile, ...both]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('## ⚠️ Plan review: data at risk, allowed');
      expect(r.stdout).toContain("#### Allowed Deletes the lake's history older than 90 days (Lambda function `returns-flatten`)");
      expect((await cli([plans.retention.jsonFile, ...both.slice(2)])).code).toBe(3);
    });

    it('lengthened (400 → 1000): nothing more is deleted, the review passes', () => {
      expect(fn('retentionLonger', SECOND).change.after.environment[0].variables.HISTORY_RETENTION_DAYS).toBe('1000');
      const r = review('retentionLonger');
      expect(r.dataAtRisk).toEqual([]);
      expect(r.exitCode).toBe(0);
    });

    it('a new function over a lake that already exists (its bucket not created by the plan) is flagged; over a new bucket it is not', () => {
      // The fresh plan's second instance creates its function with 400 days beside a new bucket: no history to delete.
      expect(review('fresh').dataAtRisk).toEqual([]);
      const base = plan('fresh');
      const overExisting = (base.resource_changes ?? []).filter((rc) => !(rc.module_address === SECOND && rc.type === 'aws_s3_bucket'));
      const r = reviewPlan({ ...base, resource_changes: overExisting });
      expect(r.dataAtRisk.map((x) => [x.instance, x.action, x.forcedBy[0]!.after])).toEqual([[SECOND, 'delete-history', '400']]);
      expect(r.exitCode).toBe(3);
    });
  });

  describe('a destroy of the whole root (terraform plan -destroy)', () => {
    /** What the issue calls stateful, found in the plan by type (a view is not: it holds no data). */
    const statefulAddresses = (): string[] =>
      (plan('destroy').resource_changes ?? [])
        .filter((rc) => rc.mode === 'managed')
        .filter((rc) => ['aws_dynamodb_table', 'aws_s3_bucket', 'aws_glue_catalog_database', 'aws_sqs_queue', 'aws_kms_key', 'aws_cloudwatch_log_group'].includes(rc.type) || (rc.type === 'aws_glue_catalog_table' && rc.change.before.table_type !== 'VIRTUAL_VIEW'))
        .map((rc) => rc.address);

    it('exits 3 and lists every stateful resource of both instances, the table first', async () => {
      const r = await cli([plans.destroy.jsonFile, '--format', 'json']);
      expect(r.code).toBe(3);
      const json = JSON.parse(r.stdout) as Review;
      // Seven kinds in each of the two instances (the Glue tables: the flattened rows and the checkpoints).
      expect(statefulAddresses()).toHaveLength(14);
      expect(json.dataAtRisk.map((x) => x.address).sort()).toEqual(statefulAddresses().sort());
      expect(json.dataAtRisk.every((x) => x.action === 'delete')).toBe(true);
      expect(json.dataAtRisk[0]).toMatchObject({ instance: EXAMPLE, type: 'aws_dynamodb_table' });
      const md = markdown('destroy');
      expect(md).toContain('Applying this plan destroys 14 stateful resources');
      expect(md).toContain(`- \`${EXAMPLE}\` (pipeline \`orders\`): ${changesOf(plan('destroy'), EXAMPLE)} — ⛔ destroys 7 stateful resources (DynamoDB table, S3 bucket, SQS queue, Glue database, Glue table, log group); the whole pipeline is destroyed`);
      expect(md.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
    });

    it('exits 0 once each of them is named with --allow-replace', async () => {
      const args = statefulAddresses().flatMap((a) => ['--allow-replace', a]);
      const r = await cli([plans.destroy.jsonFile, ...args]);
      expect(r.code, r.stderr).toBe(0);
      const oneShort = await cli([plans.destroy.jsonFile, ...args.slice(2)]);
      expect(oneShort.code).toBe(3);
    });
  });

  describe('no changes, an unrelated configuration, a cut-off file', () => {
    it('a clean plan after the apply: exit 0, each instance with no changes, nothing else', () => {
      const md = markdown('clean');
      expect(review('clean').exitCode).toBe(0);
      expect(md).toContain(`- \`${EXAMPLE}\` (pipeline \`orders\`): no changes`);
      expect(md).toContain('**0 to create · 0 to update · 0 to replace · 0 to destroy**');
      expect(md).not.toMatch(/^### /m);
    });

    it('a plan of an unrelated root works and says nothing pipeline-specific', async () => {
      const r = await cli([plans.unrelated.jsonFile]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('**2 to create · 0 to update · 0 to replace · 0 to destroy**');
      expect(r.stdout).toContain('- **create** `aws_sqs_queue.jobs` (SQS queue)');
      expect(r.stdout).toContain('No ddb-flatten pipeline in this plan');
      for (const word of ['pipeline `', 'Versions and traffic', 'Data at risk', 'alias', 'publishes']) expect(r.stdout).not.toContain(word);
    });

    it('a real plan cut in half is refused as truncated, exit 2', async () => {
      const cut = join(plans.sortKey.dir, 'cut.plan.json');
      writeFileSync(cut, plans.sortKey.text.slice(0, Math.floor(plans.sortKey.text.length / 2)));
      const r = await cli([cut]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/^ddb-flatten: .*cut\.plan\.json is truncated: it ends at line 1 \([\d,]+ bytes\) in the middle of a value/);
    });
  });

  describe('sensitive values stay out of the comment', () => {
    it('names the argument that forces the replacement but not its values, when Terraform marks them sensitive', () => {
      // The sort-key plan as Terraform writes it when the key comes from a sensitive variable:
      // the values stay in the JSON, marked in before_sensitive / after_sensitive.
      const base = plan('sortKey');
      const table = tableOf('sortKey');
      const marked = (base.resource_changes ?? []).map((rc) =>
        rc.address === table.address ? { ...rc, change: { ...rc.change, before_sensitive: { range_key: true }, after_sensitive: { range_key: true } } } : rc,
      );
      const r = reviewPlan({ ...base, resource_changes: marked });
      expect(r.exitCode).toBe(3);
      expect(r.dataAtRisk[0]!.forcedBy).toEqual([{ path: 'range_key', afterUnknown: false, sensitive: true }]);
      const md = reviewMarkdown(r);
      expect(md).toContain('- **Forced by** `range_key` (sensitive value)');
      expect(md).not.toContain('line_id');
      expect(JSON.stringify(r)).not.toContain('line_id');
    });
  });

  describe('size: a PR comment holds at most 65,536 characters', () => {
    it('cuts the lists of a huge plan with a note; the JSON keeps everything', () => {
      // The destroy plan's changes, repeated as 80 instances: about 500 resources at risk.
      const base = plan('destroy');
      const changes = (base.resource_changes ?? []).filter((rc) => rc.module_address === EXAMPLE);
      const copies = Array.from({ length: 80 }, (_, k) => changes.map((rc) => ({ ...rc, module_address: `module.p${k}`, address: rc.address.replace(EXAMPLE, `module.p${k}`) })));
      const r = reviewPlan({ ...base, resource_changes: copies.flat() });
      expect(r.dataAtRisk).toHaveLength(80 * 7);
      const md = reviewMarkdown(r);
      expect(md.length).toBeLessThanOrEqual(GITHUB_COMMENT_LIMIT);
      expect(md).toContain('not shown: a PR comment holds at most 65,536 characters; `--format json` has everything');
      expect(md.startsWith(`${COMMENT_MARKER}\n## ⛔ Plan review: data at risk`)).toBe(true);
    });
  });

  describe('examples/github-actions: the workflow\'s script, with a fake gh', () => {
    let work: string;
    beforeAll(() => {
      work = mkdtempSync(join(tmpdir(), 'ddb-flatten-plan-review-sh-'));
      // A gh that records its arguments and keeps one comment: the list call answers with its id once posted.
      writeFileSync(
        join(work, 'gh'),
        [
          '#!/usr/bin/env bash',
          'printf "%s\\n" "$*" >> "$FAKE_GH/calls"',
          'body=""; for a in "$@"; do case "$a" in body=@*) body="${a#body=@}";; esac; done',
          'case "$*" in',
          '  *"--method POST"*) echo 4711 > "$FAKE_GH/comment"; cp "$body" "$FAKE_GH/body" ;;',
          '  *"--method PATCH"*) cp "$body" "$FAKE_GH/body" ;;',
          '  *"--paginate"*"--jq"*"<!-- ddb-flatten review-plan -->"*) [ -f "$FAKE_GH/comment" ] && cat "$FAKE_GH/comment" ;;',
          '  *) echo "fake gh: unexpected call: $*" >&2; exit 9 ;;',
          'esac',
          'exit 0',
          '',
        ].join('\n'),
      );
      chmodSync(join(work, 'gh'), 0o755);
    });
    afterAll(() => rmSync(work, { recursive: true, force: true }));

    const script = join(REPO, 'examples/github-actions/plan-review.sh');
    const run = (planFile: string, env: Record<string, string> = {}) =>
      runProcess('bash', [script, planFile], {
        cwd: work,
        env: {
          ...process.env,
          PATH: `${work}:${process.env.PATH}`,
          FAKE_GH: work,
          PR_NUMBER: '42',
          GITHUB_REPOSITORY: 'acme/orders-infra',
          DDB_FLATTEN: `${process.execPath} ${CLI_BIN}`,
          REVIEW_OUT: join(work, 'review.md'),
          GITHUB_STEP_SUMMARY: join(work, 'step-summary.md'),
          ...env,
        },
      });
    const calls = (): string[] => readFileSync(join(work, 'calls'), 'utf8').trim().split('\n');

    it('posts the review once, updates that comment on the next run, and fails the check with exit 3', async () => {
      const first = await run(plans.sortKey.jsonFile);
      expect(first.code, first.stderr).toBe(3);
      expect(calls()).toEqual([
        `api --paginate repos/acme/orders-infra/issues/42/comments --jq .[] | select(.body | contains("${COMMENT_MARKER}")) | .id`,
        `api --method POST repos/acme/orders-infra/issues/42/comments -F body=@${join(work, 'review.md')}`,
      ]);
      expect(readFileSync(join(work, 'body'), 'utf8')).toBe(markdown('sortKey'));
      expect(readFileSync(join(work, 'step-summary.md'), 'utf8')).toBe(markdown('sortKey'));

      const second = await run(plans.sortKey.jsonFile);
      expect(second.code).toBe(3);
      expect(calls().slice(2)).toEqual([calls()[0], `api --method PATCH repos/acme/orders-infra/issues/comments/4711 -F body=@${join(work, 'review.md')}`]);
      expect(second.stdout).toContain('updated the review comment (4711) on #42');
    });

    it('reads the allowed addresses from ALLOW_REPLACE_FILE: exit 0, the comment updated', async () => {
      const allow = join(work, 'plan-review.allow');
      writeFileSync(allow, `# replaced on purpose: new sort key (runbook followed)\n${tableOf('sortKey').address}\n`);
      const r = await run(plans.sortKey.jsonFile, { ALLOW_REPLACE_FILE: allow });
      expect(r.code, r.stderr).toBe(0);
      expect(calls().at(-1)).toBe(`api --method PATCH repos/acme/orders-infra/issues/comments/4711 -F body=@${join(work, 'review.md')}`);
      expect(readFileSync(join(work, 'body'), 'utf8')).toBe(markdown('sortKey', [tableOf('sortKey').address]));
    });

    it('passes a bad plan file on as exit 2 and posts nothing', async () => {
      const before = calls().length;
      const r = await run(join(work, 'missing.json'));
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('missing.json: no such file');
      expect(calls()).toHaveLength(before);
    });

    it('is what the workflow runs, after terraform show -json', () => {
      const workflow = readFileSync(join(REPO, 'examples/github-actions/plan-review.yml'), 'utf8');
      expect(workflow).toContain('terraform show -json tfplan > plan.json');
      expect(workflow).toMatch(/bash "\$GITHUB_WORKSPACE\/\.github\/scripts\/plan-review\.sh" plan\.json/);
      expect(workflow).toContain('pull-requests: write');
    });
  });

  describe('README', () => {
    it('quotes a review that the tool writes for a sort_key change', () => {
      const readme = readFileSync(join(REPO, 'README.md'), 'utf8');
      const example = /<!-- review-plan example: begin -->\n```md\n([\s\S]*?)\n```\n<!-- review-plan example: end -->/.exec(readme)?.[1];
      expect(example, 'README has the rendered example between its markers').toBeDefined();
      const review = markdown('sortKey');
      const lines = review.split('\n');
      // Every line of the example is a line of the review, except the addresses and timestamps it shortens with "…".
      for (const line of example!.split('\n').filter((l) => l.trim() !== '' && !l.includes('…'))) {
        expect(lines, `README's example is not what review-plan writes now; the review is:\n${review}`).toContain(line);
      }
      expect(example).toContain('- **Forced by** `range_key`: `"sk"` → `"line_id"`');
    });
  });

  it('timings are recorded for docs/plan-review.md', () => {
    expect(timings.map(([label]) => label)).toEqual(expect.arrayContaining(['apply HCL root (two instances)', 'plan sortKey', 'plan destroy']));
  });
});
