import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetAliasCommand, GetFunctionCommand, ListEventSourceMappingsCommand, ListVersionsByFunctionCommand } from '@aws-sdk/client-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleHandler, deterministicZip, REPO_ROOT } from '../../modules/lambda-bundle.ts';
import type { FlatteningPipelineProps } from '../../modules/props.ts';
import { defaultHandlerZip } from '../../modules/stream-function.ts';
import { COMMENT_MARKER } from '../../src/review/markdown.ts';
import type { Plan } from '../../src/review/plan.ts';
import { MODULE_ZIP } from '../../scripts/build-module.ts';
import { settingsFromEnv } from '../../stacks/config.ts';
import { ensureFlavours } from '../../scripts/flavours.ts';
import { GetParameterCommand } from '@aws-sdk/client-ssm';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { gunzipSync } from 'node:zlib';
import { S3Store } from '../../src/lake/lake-store.ts';
import { duckdbQuery } from '../support/duckdb.ts';
import { listKeys } from '../support/lake.ts';
import { shardReader } from '../support/moto-stream.ts';
import { elementViewName } from '../../src/schema/element-views.ts';
import { startRecordingProxy, type RecordingProxy } from '../support/recording-proxy.ts';
import { startAthenaStandIn, type AthenaStandIn } from '../support/athena-server.ts';
import { checkGlueAthenaContract } from './glue-athena-contract.ts';
import {
  changedAttributes,
  E2E_DEFAULT_TAGS,
  e2eSkipReason,
  LocalRun,
  LocalStack,
  MOTO_DATA_GAPS,
  MOTO_GAPS,
  printTimings,
  runProcess,
  timed,
  unexplainedChanges,
  writeHclRoot,
  writeLocalProvider,
  type PlannedChange,
  type ProcessResult,
} from './harness.ts';
import { localAws, type LocalAws } from './local-aws.ts';
import {
  asLambdaEventRecords,
  catalogOf,
  canonicalRows,
  deployedConfig,
  expectedCurrentRows,
  expectedStreamRows,
  invokeAction,
  ITEMS,
  openLake,
  runHandler,
  writeItems,
} from './stream-data.ts';
import { PIPELINE_CHECKS, type Expected, type PipelineOutputs } from './verify.ts';

/**
 * End to end against a local AWS: moto 5.2 as the AWS API, terraform 1.11
 * with the real AWS provider 5.100 from the offline mirror.
 *
 * - Phase 1: the CDKTF stack (what `cdktf deploy` runs), the same stack from the
 *   cdktn flavour (what `cdktn deploy` runs) and the HCL example consuming the
 *   committed terraform/ module (with a customer managed key) are applied;
 *   every resource is read back through the AWS APIs; a second plan must be empty.
 * - Versions and the alias: a code change, a tag-only change, a canary, a rollback;
 *   then the other core's synth over each stack's state plans no change.
 * - Phase 2: a stack with no trigger (moto would consume the stream itself);
 *   items written through DynamoDB, the real stream read with GetRecords, fed to
 *   the handler in Lambda-sized batches, the Parquet objects queried with DuckDB
 *   through the Glue table's columns and view SQL.
 * - `npm run plan -- --local`: text, JSON and the PR summary.
 *
 * Each Terraform root has its own moto, and all of them start at once: an apply
 * spends most of its minute waiting (the provider polls S3 lifecycle rules for
 * consistency), so running them side by side keeps the suite within budget.
 * moto can't delete named queries, so nothing is destroyed: each moto is stopped.
 */
const skipReason = e2eSkipReason();
if (skipReason) console.warn(`skipping the end-to-end tests: ${skipReason}`);

const CDKTN_VERSION = (JSON.parse(readFileSync(join(REPO_ROOT, 'node_modules', 'cdktn', 'package.json'), 'utf8')) as { version: string }).version;

const PIPELINE: FlatteningPipelineProps = { name: 'orders', partitionKey: { name: 'pk' }, explodeAttributes: ['items'], carryAttributes: ['status'], elementViews: { items: ['sku'] } };
/** examples/kms's per-element views (element_view_keys). */
const HCL_ELEMENT_VIEWS = { items: ['sku', 'qty'] };

interface Deployed {
  readonly run: LocalRun;
  readonly aws: LocalAws;
  readonly out: PipelineOutputs;
}

interface PlanCli extends ProcessResult {
  readonly outDir: string;
}

/** A promise whose rejection is reported where it is awaited, not as unhandled before that. */
function background<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}

describe.skipIf(skipReason !== undefined)('end to end against a local AWS (moto) with terraform and the AWS provider', () => {
  const runs: LocalRun[] = [];
  const startRun = async (prefix: string): Promise<LocalRun> => {
    const run = await LocalRun.start(prefix);
    runs.push(run);
    return run;
  };
  let cdktfStack: LocalStack;
  let glueAthena: RecordingProxy | undefined;

  async function deployCdktf(): Promise<Deployed> {
    const run = await startRun('ddb-flatten-e2e-cdktf-');
    cdktfStack = new LocalStack(run);
    const out = await cdktfStack.apply('apply CDKTF stack', cdktfStack.settings(PIPELINE));
    return { run, aws: localAws(run.moto), out };
  }

  let cdktnStack: LocalStack;
  /** The same stack, synthesized by the cdktn flavour (dist/cdktn) in a process of its own, into its own moto. */
  async function deployCdktn(): Promise<Deployed> {
    const run = await startRun('ddb-flatten-e2e-cdktn-');
    cdktnStack = new LocalStack(run, MOTO_GAPS, 'cdktn');
    const out = await cdktnStack.apply('apply cdktn stack', cdktnStack.settings(PIPELINE));
    return { run, aws: localAws(run.moto), out };
  }

  async function deployHcl(): Promise<Deployed & { kmsKeyArn: string }> {
    const run = await startRun('ddb-flatten-e2e-hcl-');
    // Glue and Athena requests go through a recording proxy: the contract test checks what the provider sent.
    glueAthena = await startRecordingProxy(run.moto.endpoint);
    // examples/kms as a user has it: the committed module (../../terraform), a customer managed key of its own.
    writeHclRoot(run, 'kms', { endpoints: { glue: glueAthena.endpoint, athena: glueAthena.endpoint } });
    await run.init();
    await run.apply('apply HCL module');
    const o = await run.outputs();
    return { run, aws: localAws(run.moto), out: o.pipeline as PipelineOutputs, kmsKeyArn: o.kms_key_arn as string };
  }

  /**
   * 0.1.0 as its users have it (the JSON module of that release, test/fixtures/module-0.1.0, whose
   * addresses are CDKTF-generated), applied; then the same root pointed at the committed terraform/ and
   * planned: the moved blocks must carry every resource to its new address.
   */
  async function upgradeFrom010(): Promise<{ run: LocalRun; changes: PlannedChange[] }> {
    const run = await startRun('ddb-flatten-e2e-upgrade-');
    const old = join(run.work, 'module-0.1.0');
    cpSync(new URL('../fixtures/module-0.1.0', import.meta.url).pathname, old, { recursive: true });
    mkdirSync(join(old, 'lambda'), { recursive: true });
    cpSync(join(REPO_ROOT, 'terraform', MODULE_ZIP), join(old, MODULE_ZIP));
    cpSync(join(REPO_ROOT, 'terraform'), join(run.work, 'terraform'), { recursive: true, filter: (src) => !src.includes('.terraform') });
    const root = join(run.work, 'root');
    mkdirSync(root, { recursive: true });
    const rootConfig = (source: string) => ({
      terraform: { required_providers: { aws: { source: 'hashicorp/aws', version: '>= 5.100.0, < 7.0.0' } } },
      module: { orders_flatten: { source, name: 'orders', partition_key: 'pk', sort_key: 'sk', explode_attributes: ['items'], carry_attributes: ['status'] } },
    });
    writeFileSync(join(root, 'main.tf.json'), JSON.stringify(rootConfig('../module-0.1.0'), null, 2));
    writeLocalProvider(run, root);
    run.dir = root;
    await run.init();
    await run.apply('apply 0.1.0 module');
    writeFileSync(join(root, 'main.tf.json'), JSON.stringify(rootConfig('../terraform'), null, 2));
    await run.init();
    return { run, changes: await run.planChanges('plan upgrade to the committed module') };
  }

  /** The stand-in Athena of the data-path deployment: it runs the maintenance run's statements over moto's S3 and Glue. */
  let standIn: AthenaStandIn | undefined;

  async function deployWithoutTrigger(): Promise<Deployed> {
    const run = await startRun('ddb-flatten-e2e-stream-');
    const stack = new LocalStack(run, [...MOTO_GAPS, ...MOTO_DATA_GAPS]);
    // The documented switch: FLATTEN_TRIGGER=none creates everything but the event source mapping.
    const { pipeline } = settingsFromEnv({ FLATTEN_NAME: 'orders', FLATTEN_TRIGGER: 'none', FLATTEN_CARRY_ATTRIBUTES: 'status' });
    const out = await stack.apply('apply stack without trigger', stack.settings(pipeline));
    standIn = await startAthenaStandIn({ moto: run.moto.clientConfig });
    return { run, aws: localAws(run.moto, standIn), out };
  }

  let planOutDir = '';
  function planCli(): Promise<PlanCli> {
    const outDir = (planOutDir = mkdtempSync(join(tmpdir(), 'ddb-flatten-e2e-plan-')));
    // The command behind `npm run plan -- --local`, as a user runs it.
    return timed('npm run plan --local', async () => ({
      ...(await runProcess(process.execPath, [join(REPO_ROOT, 'scripts/plan.ts'), '--local', '--out', outDir], { cwd: REPO_ROOT })),
      outDir,
    }));
  }

  let cdktf: Promise<Deployed>;
  let cdktn: Promise<Deployed>;
  let hcl: Promise<Deployed & { kmsKeyArn: string }>;
  let stream: Promise<Deployed>;
  let upgrade: Promise<{ run: LocalRun; changes: PlannedChange[] }>;
  let plan: Promise<PlanCli>;
  const started = performance.now();

  beforeAll(() => {
    // Bundle and build once, before the concurrent runs need them.
    defaultHandlerZip();
    ensureFlavours();
    cdktf = background(timed('CDKTF deployment', deployCdktf));
    cdktn = background(timed('cdktn deployment', deployCdktn));
    hcl = background(timed('HCL deployment', deployHcl));
    stream = background(timed('no-trigger deployment', deployWithoutTrigger));
    upgrade = background(timed('upgrade from 0.1.0', upgradeFrom010));
    plan = background(planCli());
  }, 120_000);

  afterAll(async () => {
    await Promise.allSettled([cdktf, cdktn, hcl, stream, plan, upgrade]);
    await glueAthena?.close();
    await standIn?.stop();
    await Promise.allSettled(runs.map((run) => run.moto.stop()));
    // E2E_KEEP_WORK=1 keeps the Terraform roots, states and downloaded lakes for a look afterwards.
    if (process.env.E2E_KEEP_WORK !== '1') {
      for (const dir of [...runs.map((run) => run.work), planOutDir]) if (dir) rmSync(dir, { recursive: true, force: true });
    }
    console.log(`e2e total ${((performance.now() - started) / 1000).toFixed(1)} s`);
    printTimings();
  }, 120_000);

  describe('phase 1: the CDKTF stack, as cdktf deploy applies it', () => {
    let d: Deployed;
    beforeAll(async () => {
      d = await cdktf;
    }, 300_000);
    const expected: Expected = {
      name: 'orders',
      partitionKey: 'pk',
      explode: ['items'],
      carried: ['status'],
      codeSha256: defaultHandlerZip().base64Sha256,
      tags: E2E_DEFAULT_TAGS,
      mapping: true,
      elementViews: PIPELINE.elementViews,
    };
    for (const [what, check] of Object.entries(PIPELINE_CHECKS)) it(what, () => check({ aws: d.aws, out: d.out, expected }));
    it('a plan right after the apply shows no changes', async () => {
      const p = await d.run.replan('re-plan CDKTF stack');
      expect(p.code, p.stdout).toBe(0);
    });
  });

  describe('versions and the alias (CDKTF stack)', () => {
    let d: Deployed;
    beforeAll(async () => {
      d = await cdktf;
    }, 300_000);
    const FunctionName = 'orders-flatten';
    const versions = async () => (await d.aws.lambda.send(new ListVersionsByFunctionCommand({ FunctionName }))).Versions!.map((v) => v.Version);
    const alias = () => d.aws.lambda.send(new GetAliasCommand({ FunctionName, Name: 'live' }));
    const codeOf = async (Qualifier: string) => (await d.aws.lambda.send(new GetFunctionCommand({ FunctionName, Qualifier }))).Configuration!.CodeSha256;
    const TAGS = { 'e2e-change': 'tags-only' };
    let changedZip = '';
    const withChangedCode = (more: Partial<FlatteningPipelineProps> = {}) => cdktfStack.settings({ ...PIPELINE, lambda: { codeZipPath: changedZip }, ...more });

    it('a code change publishes version 2 and the alias moves to it', async () => {
      // The same bundle with one more line: another zip, another hash.
      const bundle = bundleHandler();
      const zip = deterministicZip(bundle.files.map((f) => (f.name === 'index.mjs' ? { name: f.name, data: Buffer.concat([f.data, Buffer.from('\n// e2e: a code change\n')]) } : f)));
      changedZip = join(d.run.work, 'changed-handler.zip');
      writeFileSync(changedZip, zip);
      const sha = createHash('sha256').update(zip).digest('base64');
      expect(sha).not.toBe(defaultHandlerZip().base64Sha256);

      const out = await cdktfStack.apply('apply code change', withChangedCode());
      expect(await versions()).toEqual(['$LATEST', '1', '2']);
      expect((await alias()).FunctionVersion).toBe('2');
      expect(out.lambda_alias_function_version).toBe('2');
      expect(await codeOf('2')).toBe(sha);
      expect(await codeOf('1')).toBe(defaultHandlerZip().base64Sha256);
    });

    it('a tag-only change publishes no version', async () => {
      await cdktfStack.apply('apply tag change', withChangedCode({ tags: TAGS }));
      expect(await versions()).toEqual(['$LATEST', '1', '2']);
      expect((await alias()).FunctionVersion).toBe('2');
      expect((await d.aws.lambda.send(new GetFunctionCommand({ FunctionName }))).Tags).toMatchObject(TAGS);
    });

    it('a canary: the alias stays on version 1 and routes its weight to version 2', async () => {
      await cdktfStack.apply('apply canary', withChangedCode({ tags: TAGS, alias: { pinnedVersion: '1', canary: { weight: 0.25 } } }));
      const a = await alias();
      expect(a.FunctionVersion).toBe('1');
      expect(a.RoutingConfig?.AdditionalVersionWeights).toEqual({ '2': 0.25 });
      expect(await versions()).toEqual(['$LATEST', '1', '2']);
    });

    it('a rollback: pinned to version 1, the alias points to 1 with no canary, and the next plan is empty', async () => {
      await cdktfStack.apply('apply pin', withChangedCode({ tags: TAGS, alias: { pinnedVersion: '1' } }));
      const a = await alias();
      expect(a.FunctionVersion).toBe('1');
      expect(a.RoutingConfig?.AdditionalVersionWeights ?? {}).toEqual({});
      expect(await versions()).toEqual(['$LATEST', '1', '2']);
      const p = await d.run.replan('re-plan after pin');
      expect(p.code, p.stdout).toBe(0);
    });

    it('moving to cdktn deploy: the same stack synthesized by cdktn, over this state, plans no change', async () => {
      const dir = await cdktfStack.synth(withChangedCode({ tags: TAGS, alias: { pinnedVersion: '1' } }), 'cdktn');
      expect(JSON.parse(readFileSync(join(dir, 'cdk.tf.json'), 'utf8'))['//'].metadata.version).toBe(CDKTN_VERSION);
      const p = await d.run.replan('re-plan CDKTF state with the cdktn stack');
      expect(p.code, p.stdout).toBe(0);
    });
  });

  describe('phase 1: the cdktn flavour of the stack, as cdktn deploy applies it', () => {
    let d: Deployed;
    beforeAll(async () => {
      d = await cdktn;
    }, 300_000);
    const expected: Expected = {
      name: 'orders',
      partitionKey: 'pk',
      explode: ['items'],
      carried: ['status'],
      codeSha256: defaultHandlerZip().base64Sha256,
      tags: E2E_DEFAULT_TAGS,
      mapping: true,
      elementViews: PIPELINE.elementViews,
    };
    it('was synthesized by cdktn and its bindings, with the provider constraint the 5.100 mirror satisfies', () => {
      const json = JSON.parse(readFileSync(join(d.run.dir, 'cdk.tf.json'), 'utf8'));
      expect(json['//'].metadata.version).toBe(CDKTN_VERSION);
      expect(json.terraform.required_providers.aws).toEqual({ source: 'hashicorp/aws', version: '>= 5.100.0, < 7.0.0' });
    });
    // Every resource read back as for the cdktf stack; among them, through the Lambda API: versions [$LATEST, 1], `live` on 1, the trigger on the alias.
    for (const [what, check] of Object.entries(PIPELINE_CHECKS)) it(what, () => check({ aws: d.aws, out: d.out, expected }));
    it('a plan right after the apply shows no changes', async () => {
      const p = await d.run.replan('re-plan cdktn stack');
      expect(p.code, p.stdout).toBe(0);
    });
    it('and back to cdktf deploy: the cdktf synth over the cdktn state plans no change', async () => {
      await cdktnStack.synth(cdktnStack.settings(PIPELINE), 'cdktf');
      const p = await d.run.replan('re-plan cdktn state with the CDKTF stack');
      expect(p.code, p.stdout).toBe(0);
    });
  });

  describe('phase 1: examples/kms, an HCL root consuming the committed terraform/ module with a customer managed key', () => {
    let d: Deployed & { kmsKeyArn: string };
    let expected: Expected;
    beforeAll(async () => {
      d = await hcl;
      const zip = readFileSync(join(REPO_ROOT, 'terraform', MODULE_ZIP));
      expected = {
        name: 'orders',
        partitionKey: 'pk',
        sortKey: 'sk',
        explode: ['items'],
        carried: ['status'],
        kmsKeyArn: d.kmsKeyArn,
        codeSha256: createHash('sha256').update(zip).digest('base64'),
        tags: E2E_DEFAULT_TAGS,
        mapping: true,
        elementViews: HCL_ELEMENT_VIEWS,
      };
    }, 300_000);
    it('the key is a real key of this account', () => {
      expect(d.kmsKeyArn).toMatch(/^arn:aws:kms:us-east-1:\d{12}:key\//);
    });
    for (const [what, check] of Object.entries(PIPELINE_CHECKS)) it(what, () => check({ aws: d.aws, out: d.out, expected }));
    it('Glue and Athena got what AWS documents and Athena reads (every request the provider sent, recorded)', () => {
      const checked = checkGlueAthenaContract(glueAthena!, { database: 'orders', views: ['current_state', 'expired_items', ...Object.keys(HCL_ELEMENT_VIEWS).map(elementViewName)], kms: true });
      expect(checked).toMatchObject({ workgroups: 2 });
      expect(checked.tables).toBeGreaterThanOrEqual(3);
      expect(checked.namedQueries).toBe(6);
    });
    it('a plan right after the apply, with the module as shipped, shows no change but the documented moto gaps', async () => {
      const changes = await d.run.planChanges('re-plan HCL module');
      expect(unexplainedChanges(changes)).toEqual([]);
      // And each documented gap is still real: moto 5.2.1 still causes the diff it explains.
      const seen = new Set(changes.filter((rc) => rc.change.actions.join() === 'update').flatMap((rc) => changedAttributes(rc).map((a) => `${rc.type}.${a}`)));
      for (const [type, attribute] of [['aws_lambda_function', 'kms_key_arn'], ['aws_lambda_function', 'logging_config'], ['aws_lambda_event_source_mapping', 'function_name']]) {
        expect(seen, `${type}.${attribute}`).toContain(`${type}.${attribute}`);
      }
    });
    it('from HCL inputs: a change publishes version 2, then the alias pinned to 1 sends a tenth of the traffic to 2', async () => {
      const FunctionName = d.out.lambda_function_name as string;
      const alias = () => d.aws.lambda.send(new GetAliasCommand({ FunctionName, Name: 'live' }));
      // As a user edits the module block (an override file merges into it the same way).
      const change = (inputs: Record<string, unknown>) =>
        writeFileSync(join(d.run.dir, 'e2e_change_override.tf.json'), JSON.stringify({ module: { orders_flatten: inputs } }, null, 2));
      change({ lambda_memory_size: 1024 });
      await d.run.apply('apply HCL memory change');
      expect((await alias()).FunctionVersion).toBe('2');
      // canary_version "2": moto's missing LoggingConfig makes every apply update (so publish) the function
      // again (docs/e2e.md), so "the newest" would be 3 by now; AWS would not publish here.
      change({ lambda_memory_size: 1024, alias_pinned_version: '1', canary_weight: 0.1, canary_version: '2' });
      await d.run.apply('apply HCL canary');
      const a = await alias();
      expect(a.FunctionVersion).toBe('1');
      expect(a.RoutingConfig?.AdditionalVersionWeights).toEqual({ '2': 0.1 });
      const versions = (await d.aws.lambda.send(new ListVersionsByFunctionCommand({ FunctionName }))).Versions!.map((v) => v.Version);
      expect(versions).toEqual(expect.arrayContaining(['$LATEST', '1', '2']));
    });
  });

  describe('upgrade: a root on the 0.1.0 module moves to the committed module', () => {
    let changes: PlannedChange[];
    beforeAll(async () => {
      ({ changes } = await upgrade);
    }, 400_000);
    const STATEFUL = ['aws_dynamodb_table', 'aws_s3_bucket', 'aws_glue_catalog_database', 'aws_sqs_queue', 'aws_cloudwatch_log_group', 'aws_kms_key'];
    it('every resource moves to its fixed name (moved blocks), the table and the bucket included', () => {
      const moved = changes.filter((rc) => rc.previous_address);
      expect(moved.length).toBeGreaterThanOrEqual(25);
      const table = changes.find((rc) => rc.address === 'module.orders_flatten.aws_dynamodb_table.source[0]');
      expect(table?.previous_address).toBe('module.orders_flatten.aws_dynamodb_table.pipeline_source_table_9C33FAD4[0]');
      expect(changes.find((rc) => rc.address === 'module.orders_flatten.aws_s3_bucket.lake[0]')?.previous_address).toBe('module.orders_flatten.aws_s3_bucket.pipeline_lake_bucket_93501E94[0]');
    });
    it('nothing stateful is destroyed or replaced', () => {
      const destroyed = changes.filter((rc) => rc.change.actions.includes('delete'));
      const stateful = destroyed.filter((rc) => STATEFUL.includes(rc.type) || (rc.type === 'aws_glue_catalog_table' && rc.change.before?.table_type !== 'VIRTUAL_VIEW'));
      expect(stateful.map((rc) => `${rc.change.actions.join('+')} ${rc.address}`)).toEqual([]);
      // What is replaced at all: only what cannot be updated in place, and holds no data.
      for (const rc of destroyed) expect(['aws_athena_named_query'], `${rc.change.actions.join('+')} ${rc.address}`).toContain(rc.type);
    });
  });

  describe('phase 2: real stream records flattened into queryable Parquet', () => {
    let d: Deployed;
    beforeAll(async () => {
      d = await stream;
    }, 300_000);

    it('the stack has every resource but the trigger', async () => {
      const mappings = await d.aws.lambda.send(new ListEventSourceMappingsCommand({ FunctionName: d.out.lambda_function_name }));
      expect(mappings.EventSourceMappings).toEqual([]);
      expect(d.out.lambda_event_source_mapping_uuid ?? null).toBeNull();
    });

    it('puts, updates and deletes items; the stream records, through the handler, become exactly the expected rows; the current-state view reflects the changes', async () => {
      const table = d.out.dynamodb_table_name as string;
      const streamArn = d.out.dynamodb_table_stream_arn as string;
      const writes = await writeItems(d.aws, table);

      // The real stream, from TRIM_HORIZON, as Lambda's poller reads it.
      const records = asLambdaEventRecords(await (await shardReader(d.aws.streams, streamArn)).next(), streamArn);
      expect(records).toHaveLength(writes);
      expect(records.map((r) => r.eventName)).toEqual([...ITEMS.map(() => 'INSERT'), 'MODIFY', 'REMOVE', 'MODIFY', 'MODIFY']);

      // The deployed function's configuration, read back from Lambda: proves the module wires the environment.
      const config = await deployedConfig(d.aws, d.out.lambda_function_name);
      expect(config.bucket).toBe(d.out.s3_bucket_name);

      // Batches of 4, as an event source mapping with batch size 4 would deliver them.
      const { stats, metrics } = await runHandler(d.aws, config, records, { batchSize: 4, bisectOnError: true, maxRetries: 0, timeoutMs: 60_000 });
      expect(stats).toMatchObject({ invocations: Math.ceil(writes / 4), errors: 0, partialFailures: 0, timeouts: 0, dlq: [] });
      expect(metrics.reduce((n, m) => n + m.RecordsReceived!, 0)).toBe(writes);
      expect(metrics.reduce((n, m) => n + m.RecordsQuarantined!, 0)).toBe(0);

      // The lake through the catalog: Glue's column list and Glue's view SQL, over the objects in moto's S3.
      const catalog = await catalogOf(d.aws, d.out);
      const { lake, keys } = await openLake(d.aws, d.out, config, catalog.columns, join(d.run.work, 'lake'));
      try {
        expect(keys.length).toBeGreaterThanOrEqual(1);
        for (const key of keys) expect(key).toMatch(/^flattened\/dt=\d{4}-\d{2}-\d{2}\/[^/]+\.parquet$/);

        const expectedRows = expectedStreamRows(config, records);
        expect(expectedRows.length).toBeGreaterThan(30);
        const rows = await lake.query(`SELECT * FROM ${lake.names.table}`);
        expect(Object.keys(rows[0]!)).toEqual(catalog.columns);
        expect(canonicalRows(rows)).toEqual(canonicalRows(expectedRows));

        // The deployed view SQL (from Glue) and the repository's view SQL agree, and show the table as it is now.
        const viewRows = await lake.query(catalog.viewSql);
        const currentRows = await lake.query(`SELECT * FROM ${lake.names.currentView}`);
        expect(canonicalRows(viewRows)).toEqual(canonicalRows(currentRows));
        const content = catalog.columns.filter((c) => !['event_name', 'event_time', 'sequence', 'dt'].includes(c));
        expect(canonicalRows(viewRows, content)).toEqual(canonicalRows(await expectedCurrentRows(d.aws, config, table), content));

        // The seed's view after the update of A1 and the delete of A2.
        const seed = await lake.query(`SELECT pk, key, value, status FROM (${catalog.viewSql}) AS v WHERE pk IN ('A1', 'A2', 'A3') ORDER BY pk, item_index, key`);
        expect(seed).toEqual([
          { pk: 'A1', key: 'key1', value: 'value1-updated', status: 'shipped' },
          { pk: 'A3', key: 'key1', value: 'value5', status: 'new' },
          { pk: 'A3', key: 'key2', value: 'value6', status: 'new' },
        ]);
        // The hard cases, exactly as stored.
        const value = async (pk: string, key: string) =>
          (await lake.query(`SELECT value, value_type FROM (${catalog.viewSql}) AS v WHERE pk = '${pk}' AND key = '${key}'`))[0];
        expect(await value('numbers', 'big')).toEqual({ value: '12345678901234567890123456789012345678', value_type: 'N' });
        expect(await value('binary', 'bin')).toEqual({ value: Buffer.from([0, 255, 1, 128, 10, 13]).toString('base64'), value_type: 'B' });
        expect((await lake.query(`SELECT count(*) AS n FROM (${catalog.viewSql}) AS v WHERE pk = 'deep'`))[0]!.n).toBe(0n);
      } finally {
        lake.close();
      }
    });
  });

  describe('phase 2: the daily maintenance on the deployed pipeline (compaction, checkpoint, the view moved through Glue)', () => {
    let d: Deployed;
    beforeAll(async () => {
      d = await stream;
    }, 300_000);

    it('runs compaction and the checkpoint as statements in Athena (the stand-in): a failed one changes nothing, one that outlasts the invocation is resumed, then the SSM pointer and the Glue view move together; the view equals a Scan, and Terraform plans no change', async () => {
      const config = await deployedConfig(d.aws, d.out.lambda_function_name);
      const bucket = d.out.s3_bucket_name as string;
      const table = d.out.dynamodb_table_name as string;
      // The module gives the function its maintenance workgroup and the Glue tables its statements read.
      expect(config.maintenance).toMatchObject({ athenaWorkgroup: d.out.athena_maintenance_workgroup_name, glueTable: d.out.glue_catalog_table_name, glueCheckpointsTable: d.out.glue_catalog_checkpoints_table_name });
      const before = await listKeys(d.aws.s3, bucket, `${config.dataPrefix}/`);
      expect(before.length, 'the stream phase wrote objects').toBeGreaterThan(1);
      const days = [...new Set(before.map((k) => /dt=(\d{4}-\d{2}-\d{2})/.exec(k)![1]!))];
      // The schedule's payload, as the alias gets it, two days later: every day written so far is closed.
      const later = () => Date.now() + 2 * 86_400_000;
      const state = () => listKeys(d.aws.s3, bucket, `${config.maintenance.statePrefix}/`);

      // 1. Every statement fails (Athena can: an object gone under a query, a throttle): the invocation
      //    fails (Lambda retries it, then the on-failure queue), and the lake is as it was.
      const failing = standIn!.failWhen(() => true, 'HIVE_CANNOT_OPEN_SPLIT: Error opening Hive split (injected)');
      await expect(invokeAction(d.aws, config, { action: 'compact' }, later)).rejects.toThrow(/maintenance left \d+ piece\(s\) of work as they were \(the next run retries them\): compaction of .*HIVE_CANNOT_OPEN_SPLIT/);
      failing.remove();
      expect(await listKeys(d.aws.s3, bucket, `${config.dataPrefix}/`)).toEqual(before);
      expect((await state()).filter((k) => !k.includes('/athena-results/'))).toEqual([]);

      // 2. The statements outlast the invocation (2 s left): the run starts every day's and returns them running.
      const hold = standIn!.hold();
      const started = await invokeAction(d.aws, config, { action: 'compact' }, later, 2_000);
      expect(started.days.map((r: { status: string }) => r.status)).toEqual(days.map(() => 'running'));
      expect(started.checkpoint).toMatchObject({ status: 'current', heldBy: [...days].sort().map((dt) => `the compaction of ${dt} is in flight (holds the checkpoint before ${dt})`) });
      expect(await listKeys(d.aws.s3, bucket, `${config.dataPrefix}/`)).toEqual(before);
      const queries = standIn!.queries().filter((q) => q.state === 'RUNNING');
      expect(queries.map((q) => q.workgroup)).toEqual(days.map(() => d.out.athena_maintenance_workgroup_name));
      hold.release();

      // 3. The invocation the run hands itself on to resumes from the stored query ids, commits, and checkpoints.
      const result = await invokeAction(d.aws, config, { action: 'compact', continuation: 1, checkpoint: true }, later);
      expect(result.days.map((r: { dt: string; status: string }) => [r.dt, r.status]).sort()).toEqual(days.map((dt) => [dt, 'compacted']).sort());
      expect(result.checkpoint).toMatchObject({ status: 'written', heldBy: [] });
      expect(result.failed).toEqual([]);
      const pointer = result.checkpoint.pointer as { checkpoint: string; bound: string };
      // No new query was started for the days: the run found the held ones by their stored ids.
      expect(standIn!.queries().filter((q) => q.statement.destination.includes('/compaction/')).length).toBe(days.length * 2);

      const after = await listKeys(d.aws.s3, bucket, `${config.dataPrefix}/`);
      expect(after.length).toBeGreaterThanOrEqual(days.length);
      expect(after.every((k) => /\/compacted-[0-9a-f]{16}-\d{4}\.parquet$/.test(k))).toBe(true);
      const parameter = await d.aws.ssm.send(new GetParameterCommand({ Name: config.maintenance.checkpointParameter! }));
      expect(JSON.parse(parameter.Parameter!.Value!)).toMatchObject({ checkpoint: pointer.checkpoint, bound: pointer.bound });

      // Glue's view now names the checkpoint; run as is over the lake (checkpoint + days from the bound), it equals a Scan.
      const catalog = await catalogOf(d.aws, d.out);
      expect(catalog.viewSql).toContain(`WHERE checkpoint = '${pointer.checkpoint}'`);
      expect(catalog.viewSql).toContain(`WHERE dt >= '${pointer.bound}'`);
      const { lake } = await openLake(d.aws, d.out, config, catalog.columns, join(d.run.work, 'lake-after-maintenance'));
      try {
        const content = catalog.columns.filter((c) => !['event_name', 'event_time', 'sequence', 'dt'].includes(c));
        expect(canonicalRows(await lake.query(catalog.viewSql), content)).toEqual(canonicalRows(await expectedCurrentRows(d.aws, config, table), content));
      } finally {
        lake.close();
      }

      // A second run finds nothing to do and moves nothing.
      const again = await invokeAction(d.aws, config, { action: 'compact' }, later);
      expect(again.checkpoint).toMatchObject({ status: 'current', pointer: { checkpoint: pointer.checkpoint } });
      expect(await listKeys(d.aws.s3, bucket, `${config.dataPrefix}/`)).toEqual(after);

      // Terraform renders the view from the parameter: the text the run wrote is the text it plans. No change.
      const p = await d.run.replan('re-plan after the maintenance run');
      expect(p.code, p.stdout).toBe(0);
    });

    it('erases a key: after the first pass and the sweep, no byte of it is in any object or object version of the versioned bucket, and every other key is as it was', async () => {
      const config = await deployedConfig(d.aws, d.out.lambda_function_name);
      const bucket = d.out.s3_bucket_name as string;
      const table = d.out.dynamodb_table_name as string;
      const store = new S3Store(d.aws.s3, bucket);
      const rows = await expectedCurrentRows(d.aws, config, table);
      const victim = String(rows[0]!.pk);
      // The victim's values no other key has: with its pk, what no object may hold afterwards (quoted, as JSON holds text).
      const others = new Set(rows.filter((r) => r.pk !== victim).map((r) => String(r.value)));
      const secrets = [victim, ...rows.filter((r) => r.pk === victim).map((r) => String(r.value)).filter((v) => v.length > 3 && !others.has(v))].map((v) => JSON.stringify(v));
      const holding = async (): Promise<string[]> => {
        const found: string[] = [];
        const work = mkdtempSync(join(d.run.work, 'versions-'));
        for (const v of await store.listVersions('')) {
          if (v.deleteMarker) continue;
          const got = await d.aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: v.key, VersionId: v.versionId }));
          const bytes = Buffer.from(await got.Body!.transformToByteArray());
          let text: string;
          if (bytes.subarray(0, 4).toString() === 'PAR1') {
            const file = join(work, createHash('sha256').update(`${v.key}${v.versionId}`).digest('hex'));
            writeFileSync(file, bytes);
            text = JSON.stringify(await duckdbQuery(`SELECT * FROM read_parquet('${file}')`), (_k, x) => (typeof x === 'bigint' ? String(x) : x));
          } else text = (v.key.endsWith('.gz') ? gunzipSync(bytes) : bytes).toString('utf8');
          if (secrets.some((w) => text.includes(w))) found.push(`${v.key}${v.latest ? '' : ` (noncurrent ${v.versionId})`}`);
        }
        return found;
      };
      const before = await holding();
      expect(before.length, 'the victim is in the lake before').toBeGreaterThan(0);
      expect(before.some((f) => f.includes('(noncurrent')), 'older versions hold it too (compaction replaced objects in the versioned bucket)').toBe(true);
      const others1 = canonicalRows(rows.filter((r) => r.pk !== victim));

      const later = Date.now() + 2 * 86_400_000;
      const erased = await invokeAction(d.aws, config, { action: 'erase', keys: [{ pk: victim }] }, () => later);
      expect(erased.erasures).toEqual([expect.objectContaining({ status: 'first-pass-done', pass: 1 })]);
      expect(erased.erasures[0].counts.versionsDeleted).toBeGreaterThan(0);
      expect(JSON.stringify(erased)).not.toContain(JSON.stringify(victim));
      // Only the erasure's own plan (and its earlier versions, one per step it recorded) holds the key until its sweep.
      const planKey = `${config.maintenance.statePrefix}/erasures/${erased.erasures[0].erasure}.json`;
      const held = await holding();
      expect(held).toContain(planKey);
      expect(held.filter((f) => f !== planKey && !f.startsWith(`${planKey} (noncurrent `))).toEqual([]);

      // The sweep, by the daily run once no older record can arrive; then nothing at all.
      const sweep = await invokeAction(d.aws, config, { action: 'compact' }, () => later + 26 * 3_600_000);
      expect(sweep.erasures).toEqual([expect.objectContaining({ status: 'complete', pass: 2 })]);
      expect(await holding()).toEqual([]);
      const catalog = await catalogOf(d.aws, d.out);
      const { lake } = await openLake(d.aws, d.out, config, catalog.columns, join(d.run.work, 'lake-after-erasure'));
      try {
        const content = catalog.columns.filter((c) => !['event_name', 'event_time', 'sequence', 'dt'].includes(c));
        expect(canonicalRows(await lake.query(catalog.viewSql), content)).toEqual(canonicalRows(rows.filter((r) => r.pk !== victim), content));
      } finally {
        lake.close();
      }
      expect(others1.length).toBeGreaterThan(0);
    });
  });

  describe('npm run plan -- --local', () => {
    let p: PlanCli;
    beforeAll(async () => {
      p = await plan;
    }, 300_000);
    it('writes plan.txt, plan.json and, as summary.md, the review of an all-create plan against an empty moto (exit 0: nothing destroyed)', () => {
      expect(JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')).scripts.plan).toBe('node scripts/plan.ts');
      expect(p.code, p.stderr).toBe(0);
      const json = JSON.parse(readFileSync(join(p.outDir, 'plan.json'), 'utf8')) as Plan;
      const resources = (json.resource_changes ?? []).filter((rc) => rc.mode !== 'data');
      expect(resources.length).toBeGreaterThan(25);
      expect(resources.every((rc) => rc.change.actions.join() === 'create')).toBe(true);
      const text = readFileSync(join(p.outDir, 'plan.txt'), 'utf8');
      expect(text).toContain(`Plan: ${resources.length} to add, 0 to change, 0 to destroy.`);
      const summary = readFileSync(join(p.outDir, 'summary.md'), 'utf8');
      // The review of the plan (ddb-flatten review-plan), for the default stack's pipeline `orders` in the root module.
      expect(summary.startsWith(COMMENT_MARKER)).toBe(true);
      expect(summary).toContain('## ✅ Plan review: no data at risk');
      expect(summary).toContain('Plan of stack `ddb-flatten` against a local AWS (moto, empty).');
      expect(summary).toContain(`**${resources.length} to create · 0 to update · 0 to replace · 0 to destroy**`);
      expect(summary).toContain(`- root module (pipeline \`orders\`): ${resources.length} create — a new pipeline; publishes version 1`);
      expect(summary).toContain('- Alias: `live` is created on version 1 and follows the newest version');
      expect(summary).toMatch(/- \*\*create\*\* `aws_dynamodb_table\.[^`]+` \(DynamoDB table\)/);
      expect(p.stdout).toContain(summary.trim());
      expect(existsSync(join(p.outDir, 'tfplan'))).toBe(true);
    });
  });
});
