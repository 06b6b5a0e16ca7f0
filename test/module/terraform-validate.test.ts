import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, spawnSync } from 'node:child_process';
import { App } from '../../modules/cdk.ts';
import { describe, expect, it } from 'vitest';
import { currentStateSql, elementSql, expiredItemsViewSql, expiredViewColumns, glueColumns, viewColumns } from '../../modules/glue-catalog.ts';
import { prestoViewOriginalText, viewColumn } from '../../modules/presto-view.ts';
import { elementViewColumns } from '../../src/schema/element-views.ts';
import { FlatteningPipelineStack } from '../../stacks/pipeline-stack.ts';
import type { FlatteningPipelineProps } from '../../modules/props.ts';
import { requireTerraform, TERRAFORM_BIN, terraformEnv, terraformInit, terraformValidate } from '../support/terraform.ts';
import { builtModule } from './module-build.ts';
import { BASE_PROPS, KMS } from './synth.ts';

/**
 * `terraform validate` (terraform 1.11, AWS provider 5.100 from the local
 * mirror) of the synthesized stack and of the HCL example consuming the
 * built module (the HCL module and its examples: test/module/hcl-module.test.ts). Skips with the reason when terraform or the mirror is
 * missing, unless CI_REQUIRE_TERRAFORM=1 (then requireTerraform throws).
 */
const skipReason = requireTerraform();
if (skipReason) console.warn(`skipping terraform validate: ${skipReason}`);

function synthStack(pipeline: FlatteningPipelineProps): string {
  const outdir = mkdtempSync(join(tmpdir(), 'ddb-flatten-synth-'));
  const app = new App({ outdir });
  new FlatteningPipelineStack(app, 'ddb-flatten', { pipeline, region: 'eu-west-1', defaultTags: { team: 'data' } });
  app.synth();
  return join(outdir, 'stacks', 'ddb-flatten');
}

function expectValid(dir: string): void {
  terraformInit(dir, { backend: false });
  const result = terraformValidate(dir);
  expect(result.diagnostics.filter((d) => d.severity === 'error'), JSON.stringify(result.diagnostics, null, 2)).toEqual([]);
  expect(result.valid).toBe(true);
}

describe.skipIf(skipReason !== undefined)('terraform validate', () => {
  it('accepts the synthesized stack with the defaults', () => {
    const dir = synthStack(BASE_PROPS);
    const json = JSON.parse(readFileSync(join(dir, 'cdk.tf.json'), 'utf8'));
    expect(json.terraform.required_providers.aws.version).toBe('>= 5.100.0, < 7.0.0');
    expectValid(dir);
  });
  it('accepts the synthesized stack with every option switched', () => {
    expectValid(
      synthStack({
        ...BASE_PROPS,
        kmsKeyArn: KMS,
        sortKey: { name: 'sk', type: 'N' },
        carryAttributes: ['status'],
        table: { create: false, existingTableName: 'orders', existingStreamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/x' },
        lake: { create: false, existingBucketName: 'shared-lake', existingKmsKeyArn: KMS },
        alias: { pinnedVersion: '2', canary: { weight: 0.2 } },
        eventSourceMapping: { enabled: false },
        logs: { kmsKeyArn: KMS, retentionInDays: 90 },
        alarms: { snsTopicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts' },
      }),
    );
  });
  it('the module computes the same views (SQL, columns, envelope) and named queries in Terraform as the construct does in TypeScript', () => {
    // Copy the module, add locals holding the resources' expressions, evaluate them with terraform console.
    const dir = join(mkdtempSync(join(tmpdir(), 'ddb-flatten-console-')), 'module');
    const m = builtModule();
    cpSync(m.dir, dir, { recursive: true });
    const tables = Object.entries<any>(m.main.resource.aws_glue_catalog_table);
    const view = tables.find(([id]) => id.includes('current_state'))![1];
    const expired = tables.find(([id]) => id === 'expired_items')![1];
    const elements = tables.find(([id]) => id === 'element_view')![1];
    const queries = Object.values<any>(m.main.resource.aws_athena_named_query);
    const viewQuery = queries.find((q) => String(q.name).endsWith('${var.glue_view_name} view') && !q.for_each);
    const expiredQuery = queries.find((q) => String(q.name).endsWith('${var.glue_expired_items_view_name} view'));
    const elementQuery = queries.find((q) => q.for_each);
    // A for_each resource's expressions use each.key / each.value: evaluate them for the key "items".
    const forItems = (text: string): string => text.replaceAll('each.value', 'local.element_views["items"]').replaceAll('each.key', '"items"');
    const underTest = {
      view_text: view.view_original_text,
      view_query: viewQuery.query,
      view_columns: '${[for c in local.current_state_columns : [c.name, c.glue]]}',
      expired_text: expired.view_original_text,
      expired_query: expiredQuery.query,
      table_columns: '${[for c in local.flattened_columns : [c.name, c.glue, c.comment]]}',
      element_names: '${[for k, v in local.element_views : v.name]}',
      element_text: forItems(elements.view_original_text),
      element_query: forItems(elementQuery.query),
      element_columns: '${[for c in local.element_views["items"].columns : [c.name, c.glue, c.comment]]}',
    };
    // The view names the checkpoint the pointer object holds (read at plan time); give the console one.
    const pointer = { checkpoint: "20261130T000000Z-0a1b2c3d", bound: '2026-11-30' };
    writeFileSync(join(dir, 'zz_pointer_override.tf.json'), JSON.stringify({ locals: { checkpoint_pointer: pointer } }));
    writeFileSync(join(dir, 'zz_under_test.tf.json'), JSON.stringify({ locals: Object.fromEntries(Object.entries(underTest).map(([k, v]) => [`${k}_under_test`, v])) }));
    terraformInit(dir, { backend: false });
    const carried = ['status', 'region'];
    const views = { items: ['sku', 'unit.price', "it's"], tags: ['name'] };
    const r = spawnSync(
      TERRAFORM_BIN,
      [
        `-chdir=${dir}`,
        'console',
        '-var=name=order-lines',
        '-var=partition_key=pk',
        '-var=explode_attributes=["items","tags"]',
        `-var=carry_attributes=${JSON.stringify(carried)}`,
        `-var=element_view_keys=${JSON.stringify(views)}`,
      ],
      { input: `base64encode(jsonencode({${Object.keys(underTest).map((k) => `${k} = local.${k}_under_test`).join(', ')}}))\n`, env: terraformEnv(), encoding: 'utf8' },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toMatch(/Error:/);
    const printed = [...r.stdout.matchAll(/"([A-Za-z0-9+/=]{20,})"/g)].at(-1);
    expect(printed, r.stdout).toBeDefined();
    const got = JSON.parse(Buffer.from(printed![1], 'base64').toString('utf8')) as Record<string, any>;

    const db = 'order_lines';
    const sql = currentStateSql(db, 'flattened', carried, { pointer });
    expect(sql).toContain("WHERE checkpoint = '20261130T000000Z-0a1b2c3d'");
    expect(got.view_text).toBe(prestoViewOriginalText(db, sql, viewColumns(carried)));
    // The named query's copy reads as before any checkpoint: it does not change with every checkpoint.
    expect(got.view_query).toContain(`\n${currentStateSql(db, 'flattened', carried)}`);
    expect(got.view_query).not.toMatch(/^\s*CREATE/m);
    expect(got.view_columns).toEqual(viewColumns(carried).map((c) => [c.name, c.glue]));
    // The expired-items view: no pointer, the same SQL and columns in both paths.
    const expiredSql = expiredItemsViewSql(db, 'flattened', carried);
    expect(got.expired_text).toBe(prestoViewOriginalText(db, expiredSql, expiredViewColumns(carried)));
    expect(got.expired_query).toContain(`\n${expiredSql}`);
    expect(got.expired_query.endsWith(expiredSql)).toBe(true);
    expect(got.table_columns).toEqual(glueColumns(carried).map((c) => [c.name, c.type, c.comment]));
    expect(got.element_names).toEqual(['items_elements', 'tags_elements']);
    const itemsSql = elementSql(db, 'current_state', 'items', views.items, carried);
    const itemsColumns = elementViewColumns(views.items, carried);
    expect(got.element_text).toBe(prestoViewOriginalText(db, itemsSql, itemsColumns.map(viewColumn)));
    expect(got.element_query).toContain(`\n${itemsSql}`);
    expect(got.element_columns).toEqual(itemsColumns.map((c) => [c.name, c.glue, c.description]));
  });
  it('the module variables refuse bad values with a message naming the variable', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ddb-flatten-vars-')), 'module');
    cpSync(builtModule().dir, dir, { recursive: true });
    terraformInit(dir, { backend: false });
    // Each bad value needs its own `terraform console` (variables are checked when it starts): run them side by side.
    // Each in its own copy of the initialized module: console takes the (empty) state's lock.
    let copies = 0;
    const run = (vars: string[]): Promise<{ stdout: string; stderr: string }> =>
      new Promise((resolve, reject) => {
        const copy = `${dir}-${copies++}`;
        cpSync(dir, copy, { recursive: true, verbatimSymlinks: true });
        const child = spawn(TERRAFORM_BIN, [`-chdir=${copy}`, 'console', '-var=name=orders', '-var=partition_key=pk', '-var=explode_attributes=["items"]', ...vars], { env: terraformEnv() });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
        child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
        child.on('error', reject);
        child.on('close', () => resolve({ stdout, stderr }));
        child.stdin.end('var.name\n');
      });
    const ok = await run([]);
    expect(ok.stdout + ok.stderr).not.toMatch(/Error:/);
    const bad: [string, RegExp][] = [
      ['-var=log_retention_in_days=42', /log_retention_in_days must be one of 1, 3, 5/],
      ['-var=canary_weight=1.5', /canary_weight must be a number from 0 to 1/],
      ['-var=name=Bad_Name', /name must be 3 to 28 characters/],
      ['-var=carry_attributes=["value"]', /carry_attributes must be distinct lowercase identifiers/],
      ['-var=carry_attributes=["version_rank"]', /carry_attributes must be distinct lowercase identifiers[\s\S]*version_rank/],
      ['-var=element_view_keys={items=[]}', /element_view_keys must list at least one key path per attribute/],
      ['-var=element_view_keys={items=["1st"]}', /element_view_keys: every key path must give a column name matching/],
      ['-var=element_view_keys={items=["a.b","a_b"]}', /element_view_keys: the columns derived from an attribute's key paths/],
      ['-var=element_view_keys={items=["qty","qty_number"]}', /element_view_keys: the columns derived from an attribute's key paths/],
      ['-var=element_view_keys={items=["event_time"]}', /element_view_keys: the columns derived from an attribute's key paths/],
      ['-var=maximum_retry_attempts=-1', /maximum_retry_attempts must be an integer from 0 to 10000/],
      ['-var=create_table=false', /create_table = false needs existing_table_name and existing_stream_arn/],
      ['-var=sort_key=pk', /sort_key must differ from partition_key/],
      // (terraform wraps long messages: match their beginning.)
      ['-var=checkpoint_rebuild_share=5', /checkpoint_rebuild_share must be a number from 0 to 4/],
      ['-var=athena_maintenance_bytes_scanned_cutoff_per_query=1000', /athena_maintenance_bytes_scanned_cutoff_per_query must be an integer of/],
      ['-var=compaction_max_task_bytes=1000', /compaction_max_task_bytes must be an integer from 1048576/],
      ['-var=history_retention_days=0', /history_retention_days must be an integer from 1 to 36500/],
      ['-var=ttl_attribute=pk', /ttl_attribute must not be a key attribute/],
      ['-var=glue_expired_items_view_name=current_state', /glue_expired_items_view_name must differ from glue_table_name/],
    ];
    const results = await Promise.all(bad.map(([arg]) => run([arg])));
    bad.forEach(([arg, message], i) => expect(results[i]!.stdout + results[i]!.stderr, arg).toMatch(message));
  });
});
