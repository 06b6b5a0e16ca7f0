import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundleHandler, deterministicZip } from '../../modules/lambda-bundle.ts';
import { localAwsProvider, synthStack } from '../../scripts/plan.ts';
import { E2E_DEFAULT_TAGS, LocalRun, tf, timed, writeHclRoot, writeMotoGapOverrides } from '../e2e/harness.ts';
import { MOTO_ACCOUNT, MOTO_REGION } from './moto.ts';
import { exampleModuleSource, moduleSourceDir } from './module-source.ts';

/**
 * Real Terraform plans of this pipeline, for the review-plan tests: the
 * real `terraform` and AWS provider against one moto, never hand-written
 * JSON. The HCL root is examples/basic as a consumer lays it out (the
 * committed module copied where its `source` points, by writeHclRoot), plus a second
 * instance of the module, so a root that uses the module more than once is
 * covered. It is planned fresh, that plan is applied, and then planned again for
 * each scenario (a change written as an override file next to the example,
 * or a changed Lambda zip inside the module copy), all against that one
 * state. A CDKTF stack plan and an unrelated root are planned beside it.
 */

/** The example's own instance, and the second one this harness adds. */
export const EXAMPLE_INSTANCE = 'orders_flatten';
export const SECOND_INSTANCE = 'returns_flatten';
/** The second instance keeps this many days of history (so a plan can shorten it). */
export const SECOND_HISTORY_RETENTION_DAYS = 400;

/** A key ARN that passes the module's validation; it needs to exist for no plan. */
export const FIXTURE_KMS_KEY_ARN = `arn:aws:kms:${MOTO_REGION}:${MOTO_ACCOUNT}:key/0b7c8e1a-2d3f-4a5b-9c6d-7e8f9a0b1c2d`;

export interface Scenario {
  /** Arguments of the example's module block, as an override (`module.orders_flatten`). */
  readonly module?: Readonly<Record<string, unknown>>;
  /** Arguments of the second instance's module block, as an override (`module.returns_flatten`). */
  readonly second?: Readonly<Record<string, unknown>>;
  /** Ship a different Lambda zip in the module (a code change). */
  readonly codeChange?: boolean;
  /** `terraform plan -destroy`. */
  readonly destroy?: boolean;
  /**
   * Refresh the state first, as a user's plan does. The others plan with -refresh=false: the state
   * was just applied, so a refresh changes nothing and only costs time (most of a plan against moto).
   */
  readonly refresh?: boolean;
}

/** The scenarios planned against the applied HCL root. */
export const SCENARIOS = {
  clean: { refresh: true },
  sortKey: { module: { sort_key: 'line_id' }, refresh: true },
  code: { codeChange: true },
  canary: { codeChange: true, module: { alias_pinned_version: '1', canary_weight: 1 } },
  carried: { module: { carry_attributes: ['status', 'customer_id'] } },
  iam: { module: { existing_table_kms_key_arn: FIXTURE_KMS_KEY_ARN } },
  // History retention deletes history: set on the example (none → 365), shortened on the second instance (400 → 90).
  retention: { module: { history_retention_days: 365 }, second: { history_retention_days: 90 } },
  // ... and lengthened (400 → 1000): nothing more is deleted.
  retentionLonger: { second: { history_retention_days: 1000 } },
  destroy: { destroy: true },
} as const satisfies Record<string, Scenario>;

export type ScenarioName = keyof typeof SCENARIOS;

export interface PlanFixture {
  readonly name: string;
  /** The Terraform root the plan was made in (where `terraform show` works). */
  readonly dir: string;
  /** The binary plan file (`terraform plan -out`). */
  readonly planFile: string;
  /** `terraform show -json` of it, as written to a file and as text. */
  readonly jsonFile: string;
  readonly text: string;
  readonly json: Record<string, any>;
}

const SCENARIO_OVERRIDE = 'review_scenario_override.tf.json';

export class PlanFixtures {
  readonly run: LocalRun;
  private readonly hclRoot: string;

  private constructor(run: LocalRun) {
    this.run = run;
    this.hclRoot = writeHclRoot(run, 'basic', {
      moduleDir: moduleSourceDir(),
      extraFiles: {
        // A second instance: a root that uses the module twice, as many do.
        'review_second_instance.tf.json': {
          module: {
            [SECOND_INSTANCE]: { source: exampleModuleSource(), name: 'returns', partition_key: 'pk', explode_attributes: ['lines'], history_retention_days: SECOND_HISTORY_RETENTION_DAYS },
          },
        },
      },
    });
    // The moto gaps of docs/e2e.md, as ignore_changes in the test's copy of the module, so "no change" and
    // "new code" plans show only what the scenario changes (the e2e checks the module without them).
    writeMotoGapOverrides(this.moduleDir);
  }

  /** Starts moto and lays out the HCL root; the caller calls stop() (afterAll) whatever happens. */
  static async start(): Promise<PlanFixtures> {
    return new PlanFixtures(await LocalRun.start('ddb-flatten-review-plan-'));
  }

  get moduleDir(): string {
    return join(this.hclRoot, exampleModuleSource());
  }

  async stop(): Promise<void> {
    await this.run.moto.stop();
    if (process.env.E2E_KEEP_WORK !== '1') rmSync(this.run.work, { recursive: true, force: true });
  }

  /** `terraform plan -out` then `terraform show -json` in `dir`; `okCodes` lets a plan that errors (exit 1) through, since terraform still writes its plan file. */
  private async plan(dir: string, name: string, extraArgs: readonly string[] = [], okCodes: readonly number[] = [0]): Promise<PlanFixture> {
    const planFile = join(dir, `${name}.tfplan`);
    await timed(`plan ${name}`, () => tf(dir, ['plan', '-input=false', '-no-color', '-lock=false', `-out=${planFile}`, ...extraArgs], { moto: this.run.moto, okCodes }));
    const text = (await tf(dir, ['show', '-json', '-no-color', planFile], { moto: this.run.moto })).stdout;
    const jsonFile = join(dir, `${name}.plan.json`);
    writeFileSync(jsonFile, text);
    return { name, dir, planFile, jsonFile, text, json: JSON.parse(text) as Record<string, any> };
  }

  /** The HCL root before anything exists: every resource of both instances a create. */
  async initAndPlanFresh(): Promise<PlanFixture> {
    await timed('init HCL root', () => this.run.init());
    return this.plan(this.hclRoot, 'fresh');
  }

  /** Applies the fresh plan file, as CI applies a reviewed plan (and without planning it a second time). */
  async apply(fresh: PlanFixture): Promise<void> {
    await timed('apply HCL root (two instances)', () => tf(this.hclRoot, ['apply', '-auto-approve', '-input=false', '-no-color', '-lock=false', fresh.planFile], { moto: this.run.moto }));
  }

  /** One scenario against the applied state; the root and the module copy are as before afterwards. */
  async planScenario(name: ScenarioName): Promise<PlanFixture> {
    const scenario: Scenario = SCENARIOS[name];
    const override = join(this.hclRoot, SCENARIO_OVERRIDE);
    const restore = scenario.codeChange ? this.changeCode() : () => {};
    try {
      const modules = { ...(scenario.module ? { [EXAMPLE_INSTANCE]: scenario.module } : {}), ...(scenario.second ? { [SECOND_INSTANCE]: scenario.second } : {}) };
      writeFileSync(override, JSON.stringify(Object.keys(modules).length ? { module: modules } : {}, null, 2));
      return await this.plan(this.hclRoot, name, [...(scenario.destroy ? ['-destroy'] : []), ...(scenario.refresh ? [] : ['-refresh=false'])]);
    } finally {
      rmSync(override, { force: true });
      restore();
    }
  }

  /**
   * A plan of the applied HCL root with extra root files (JSON configuration, removed afterwards) and
   * plan arguments (`-refresh-only`, ...). With `errors: true` the plan may fail (exit 1): terraform
   * writes the errored plan file all the same, which is what the review must read.
   */
  async planWith(name: string, options: { files?: Readonly<Record<string, unknown>>; args?: readonly string[]; errors?: boolean } = {}): Promise<PlanFixture> {
    const written = Object.entries(options.files ?? {}).map(([file, json]) => {
      const path = join(this.hclRoot, file);
      writeFileSync(path, JSON.stringify(json, null, 2));
      return path;
    });
    try {
      return await this.plan(this.hclRoot, name, options.args ?? [], options.errors ? [0, 1] : [0]);
    } finally {
      for (const path of written) rmSync(path, { force: true });
    }
  }

  /** The applied state as `terraform show -json` gives it (values.root_module). */
  async state(): Promise<Record<string, any>> {
    return JSON.parse((await tf(this.hclRoot, ['show', '-json', '-no-color'], { moto: this.run.moto })).stdout) as Record<string, any>;
  }

  /**
   * A code change as a new release of the module brings it: another zip in
   * the module, and its hash wherever the module states it literally. The
   * zip is found by its extension and the hash by its value, so this holds
   * whatever the module's file names are. Returns the undo.
   */
  private changeCode(): () => void {
    const files = walk(this.moduleDir);
    const zips = files.filter((f) => f.endsWith('.zip'));
    if (zips.length !== 1) throw new Error(`expected one Lambda zip in ${this.moduleDir}, found ${zips.length}`);
    const zipPath = zips[0]!;
    const oldZip = readFileSync(zipPath);
    const newZip = deterministicZip([{ name: 'index.mjs', data: Buffer.concat([bundleHandler().code, Buffer.from('\n// review-plan fixture: a code change\n')]) }]);
    const oldHash = createHash('sha256').update(oldZip).digest('base64');
    const newHash = createHash('sha256').update(newZip).digest('base64');
    const texts = files.filter((f) => /\.tf(\.json)?$/.test(f)).map((f) => [f, readFileSync(f, 'utf8')] as const);
    writeFileSync(zipPath, newZip);
    for (const [file, text] of texts) if (text.includes(oldHash)) writeFileSync(file, text.replaceAll(oldHash, newHash));
    return () => {
      writeFileSync(zipPath, oldZip);
      for (const [file, text] of texts) writeFileSync(file, text);
    };
  }

  /** The deployable CDKTF stack (what `npm run plan` plans), fresh, against the same moto. */
  async planCdktfStack(): Promise<PlanFixture> {
    const outdir = join(this.run.work, 'cdktf.out');
    const dir = synthStack(
      {
        stackName: 'review',
        region: MOTO_REGION,
        defaultTags: E2E_DEFAULT_TAGS,
        backend: { type: 'local', path: join(this.run.work, 'cdktf.tfstate') },
        pipeline: { name: 'invoices', partitionKey: { name: 'pk' }, explodeAttributes: ['items'] },
      },
      outdir,
      this.run.moto.endpoint,
    );
    writeMotoGapOverrides(dir);
    await timed('init CDKTF stack', () => tf(dir, ['init', '-input=false', '-no-color'], { moto: this.run.moto }));
    return this.plan(dir, 'cdktf');
  }

  /** A root that has nothing to do with the pipeline: a queue and a terraform_data. */
  async planUnrelated(): Promise<PlanFixture> {
    const dir = join(this.run.work, 'unrelated');
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, 'main.tf.json'),
      JSON.stringify(
        {
          terraform: { required_providers: { aws: { source: 'hashicorp/aws', version: '>= 5.100.0, < 7.0.0' } } },
          provider: { aws: localAwsProvider(this.run.moto.endpoint) },
          resource: { aws_sqs_queue: { jobs: { name: 'unrelated-jobs' } }, terraform_data: { marker: { input: 'unrelated' } } },
        },
        null,
        2,
      ),
    );
    await timed('init unrelated root', () => tf(dir, ['init', '-input=false', '-no-color'], { moto: this.run.moto }));
    return this.plan(dir, 'unrelated');
  }
}

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? walk(path) : [path];
  });
}
