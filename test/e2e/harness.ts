import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { localAwsProvider, synthStack } from '../../scripts/plan.ts';
import type { FlatteningPipelineProps } from '../../modules/props.ts';
import type { StackSettings } from '../../stacks/config.ts';
import { MOTO_REGION, startMoto, type Moto } from '../support/moto.ts';
import { requireTerraform, TERRAFORM_BIN, terraformEnv, terraformWorkDir, type TerraformOptions, type TerraformResult } from '../support/terraform.ts';
import { motoMissing } from '../support/tools.ts';
import { exampleModuleSource, moduleSourceDir } from '../support/module-source.ts';

/**
 * The end-to-end harness: moto as the AWS API, terraform 1.11 with the
 * AWS provider from the offline mirror, the real stack or the real HCL
 * module. Everything that exists only to please the emulator is here,
 * in the test configuration: the provider endpoints (scripts/plan.ts
 * localAwsProvider), default_tags, and the overrides of MOTO_GAPS and
 * MOTO_DATA_GAPS.
 */

/** Why the e2e tests can't run here (undefined when they can); throws under CI_REQUIRE_*. */
export function e2eSkipReason(): string | undefined {
  return requireTerraform() ?? motoMissing();
}

/** Provider default_tags of every e2e run (moto's Athena ListTagsForResource fails on an untagged workgroup). */
export const E2E_DEFAULT_TAGS: Readonly<Record<string, string>> = { 'ddb-flatten:test': 'e2e' };

/**
 * Where moto differs from AWS in a way that breaks the test of a correct
 * configuration. Each gap becomes an override of the matching resources
 * (mostly `lifecycle.ignore_changes`), in an override file the test writes
 * next to the configuration; the shipped module never carries them.
 * docs/e2e.md lists them with the evidence.
 */
export interface MotoGap {
  readonly type: string;
  /** Only resources whose configuration matches (default: all of the type). */
  readonly match?: (config: Record<string, unknown>) => boolean;
  /** Merged into the resource block by Terraform (override file semantics). */
  readonly override: Record<string, unknown>;
  readonly why: string;
}

const ignoreChanges = (...attributes: string[]) => ({ lifecycle: { ignore_changes: attributes } });

/** Gaps that would show as a perpetual diff: ignored in every e2e configuration. */
export const MOTO_GAPS: readonly MotoGap[] = [
  {
    type: 'aws_lambda_function',
    override: ignoreChanges('kms_key_arn', 'logging_config'),
    why: 'GetFunction returns neither KMSKeyArn nor LoggingConfig, so the provider plans to set them again on every run (and would publish a version each time).',
  },
  {
    type: 'aws_lambda_event_source_mapping',
    override: ignoreChanges('function_name'),
    why: 'The mapping is created on the alias ARN; moto reports the ARN of the version the alias points to.',
  },
  {
    type: 'aws_glue_catalog_table',
    match: (config) => config.table_type === 'VIRTUAL_VIEW',
    override: ignoreChanges('storage_descriptor[0].ser_de_info'),
    why: "GetTable drops the view's empty SerDeInfo, so the provider plans to add it back on every run.",
  },
];

/**
 * Phase 2 only (data written through S3): moto evaluates a bucket policy's Deny
 * whose condition does not hold as a Deny (moto/iam/access_control.py), so the
 * TLS-only policy refuses every PutObject. The policy is verified in phase 1;
 * phase 2 does not create it.
 */
export const MOTO_DATA_GAPS: readonly MotoGap[] = [
  {
    type: 'aws_s3_bucket_policy',
    override: { count: 0 },
    why: 'moto denies every object write under a conditional Deny (aws:SecureTransport = false, s3:TlsVersion < 1.2) whether or not the condition holds.',
  },
];

export const MOTO_GAP_OVERRIDE_FILE = 'e2e_moto_gaps_override.tf.json';

/** Writes the overrides of `gaps` for every matching resource of the *.tf.json files in `dir`; returns the addresses. */
export function writeMotoGapOverrides(dir: string, gaps: readonly MotoGap[] = MOTO_GAPS): string[] {
  const resources: Record<string, Record<string, unknown>> = {};
  const addresses: string[] = [];
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.tf.json') && !f.endsWith('_override.tf.json'))) {
    const json = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { resource?: Record<string, Record<string, Record<string, unknown>>> };
    for (const gap of gaps) {
      for (const [name, config] of Object.entries(json.resource?.[gap.type] ?? {})) {
        if (gap.match && !gap.match(config)) continue;
        const byName = (resources[gap.type] ??= {});
        if (byName[name]) throw new Error(`two moto gaps override ${gap.type}.${name}: merge them`);
        byName[name] = gap.override;
        addresses.push(`${gap.type}.${name}`);
      }
    }
  }
  writeFileSync(join(dir, MOTO_GAP_OVERRIDE_FILE), JSON.stringify(addresses.length ? { resource: resources } : {}, null, 2));
  return addresses;
}

/* ---- terraform, asynchronous: several runs proceed at once while the test process stays responsive ---- */

export interface ProcessResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion without blocking the test process; a timeout kills it. */
export function runProcess(command: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<ProcessResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env: options.env ?? process.env, cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 300_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout, stderr });
    });
  });
}

/** `terraform <args>` in `dir`; rejects with the output (and moto's log tail) on an unexpected exit code. */
export async function tf(dir: string, args: readonly string[], options: TerraformOptions & { moto?: Moto } = {}): Promise<TerraformResult> {
  const result = await runProcess(TERRAFORM_BIN, [`-chdir=${dir}`, ...args], { env: terraformEnv(options.env), timeoutMs: options.timeoutMs });
  if ((options.okCodes ?? [0]).includes(result.code)) return result;
  const motoLog = options.moto ? `\n--- moto log (tail) ---\n${options.moto.log().slice(-4000)}` : '';
  throw new Error(`terraform ${args.join(' ')} in ${dir} exited ${result.code}\n${result.stderr}\n${result.stdout.slice(-20_000)}${motoLog}`);
}

/** Timings of the run, printed at the end (docs/e2e.md quotes them). */
export const timings: [string, number][] = [];

export async function timed<T>(label: string, run: () => Promise<T>): Promise<T> {
  const start = performance.now();
  const value = await run();
  timings.push([label, Math.round(performance.now() - start)]);
  return value;
}

export function printTimings(): void {
  if (timings.length) console.log(`e2e timings: ${timings.map(([l, ms]) => `${l} ${(ms / 1000).toFixed(1)} s`).join(', ')}`);
}

/* ---- a local run: moto plus a terraform working directory ---- */

/** A Terraform root (a synthesized stack or the HCL example) with its own moto. */
export class LocalRun {
  readonly moto: Moto;
  readonly work: string;
  dir = '';

  private constructor(moto: Moto, work: string) {
    this.moto = moto;
    this.work = work;
  }

  /** Starts moto; the caller stops it (afterAll) whatever happens. */
  static async start(prefix: string): Promise<LocalRun> {
    return new LocalRun(await startMoto(), terraformWorkDir(prefix));
  }

  init(): Promise<TerraformResult> {
    return tf(this.dir, ['init', '-input=false', '-no-color'], { moto: this.moto });
  }

  apply(label: string): Promise<TerraformResult> {
    return timed(label, () => tf(this.dir, ['apply', '-auto-approve', '-input=false', '-no-color', '-lock=false'], { moto: this.moto }));
  }

  /** `terraform plan -detailed-exitcode`: 0 means no changes; the output explains a diff. */
  replan(label: string): Promise<TerraformResult> {
    return timed(label, () => tf(this.dir, ['plan', '-detailed-exitcode', '-input=false', '-no-color', '-lock=false'], { okCodes: [0, 2], moto: this.moto }));
  }

  /** Root outputs (`terraform output -json`), as plain values. */
  async outputs(): Promise<Record<string, any>> {
    const json = JSON.parse((await tf(this.dir, ['output', '-json', '-no-color'])).stdout) as Record<string, { value: unknown }>;
    return Object.fromEntries(Object.entries(json).map(([k, v]) => [k, v.value]));
  }
}

/**
 * The deployable CDKTF stack (FlatteningPipelineStack) against moto,
 * synthesized into the same directory each time with its local state
 * outside it, so successive applies see their previous state like
 * `cdktf deploy` does.
 */
export class LocalStack {
  readonly run: LocalRun;
  readonly gaps: readonly MotoGap[];
  private initialized = false;

  constructor(run: LocalRun, gaps: readonly MotoGap[] = MOTO_GAPS) {
    this.run = run;
    this.gaps = gaps;
  }

  settings(pipeline: FlatteningPipelineProps, defaultTags: Readonly<Record<string, string>> = E2E_DEFAULT_TAGS): StackSettings {
    return { stackName: 'e2e', region: MOTO_REGION, defaultTags, backend: { type: 'local', path: join(this.run.work, 'terraform.e2e.tfstate') }, pipeline };
  }

  /** Synthesizes (the first time also initializes) and applies; returns the outputs. */
  async apply(label: string, settings: StackSettings): Promise<Record<string, any>> {
    this.run.dir = synthStack(settings, join(this.run.work, 'cdktf.out'), this.run.moto.endpoint);
    writeMotoGapOverrides(this.run.dir, this.gaps);
    if (!this.initialized) {
      await this.run.init();
      this.initialized = true;
    }
    await this.run.apply(label);
    return this.run.outputs();
  }
}

/**
 * The HCL example (examples/hcl) consuming the built module, as a user lays
 * it out: <root>/examples/hcl and the module where its `source` points
 * (<root>/dist/terraform-module). The test adds,
 * next to the example: the provider override pointing at moto, an output of
 * the whole module, and extra root .tf.json files; into its copy of the module,
 * the moto-gap overrides.
 */
export function writeHclRoot(run: LocalRun, extraFiles: Readonly<Record<string, unknown>> = {}): string {
  const root = join(run.work, 'examples', 'hcl');
  // The module goes where the example's `source` expects it (../../dist/terraform-module today).
  const moduleDir = resolve(root, exampleModuleSource());
  cpSync(moduleSourceDir(), moduleDir, { recursive: true });
  writeMotoGapOverrides(moduleDir);
  mkdirSync(root, { recursive: true });
  cpSync(new URL('../../examples/hcl', import.meta.url).pathname, root, { recursive: true });
  writeFileSync(join(root, 'local_aws_override.tf.json'), JSON.stringify({ provider: { aws: localAwsProvider(run.moto.endpoint) } }, null, 2));
  for (const [file, json] of Object.entries(extraFiles)) writeFileSync(join(root, file), JSON.stringify(json, null, 2));
  run.dir = root;
  return root;
}
