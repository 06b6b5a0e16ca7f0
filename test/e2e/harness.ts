import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { localAwsProvider, stackSynthRequest, synthStack } from '../../scripts/plan.ts';
import { runInFlavour, type FlavourName } from '../../scripts/flavours.ts';
import type { FlatteningPipelineProps } from '../../modules/props.ts';
import type { StackSettings } from '../../stacks/config.ts';
import { MOTO_REGION, startMoto, type Moto } from '../support/moto.ts';
import { requireTerraform, TERRAFORM_BIN, terraformEnv, terraformWorkDir, type TerraformOptions, type TerraformResult } from '../support/terraform.ts';
import { motoMissing } from '../support/tools.ts';
import { REPO_ROOT } from '../../modules/lambda-bundle.ts';

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
  /** Merged into the resource block by Terraform (override file semantics), where a test needs a clean re-plan. */
  readonly override: Record<string, unknown>;
  /**
   * The top-level attributes a re-plan shows as changed because of the gap, the gap's own and the
   * ones computed from it: a consumer root applied with no override may show these and nothing else.
   */
  readonly planAttributes: readonly string[];
  readonly why: string;
  /** The line of moto's source (5.2.1) that causes it; docs/e2e.md quotes it. */
  readonly evidence: string;
}

const ignoreChanges = (...attributes: string[]) => ({ lifecycle: { ignore_changes: attributes } });

/** Gaps that would show as a perpetual diff: ignored in the CDKTF stack's e2e configuration; allowed in a consumer root's re-plan. */
export const MOTO_GAPS: readonly MotoGap[] = [
  {
    type: 'aws_lambda_function',
    override: ignoreChanges('kms_key_arn', 'logging_config'),
    // A change to the function publishes a version (publish = true), so the version and its ARNs are unknown too.
    planAttributes: ['kms_key_arn', 'logging_config', 'version', 'qualified_arn', 'qualified_invoke_arn', 'last_modified'],
    why: 'GetFunction returns neither KMSKeyArn nor LoggingConfig, so the provider plans to set them again on every run (and would publish a version each time).',
    evidence: 'moto/awslambda/models.py LambdaFunction.get_configuration() (lines 769-806) builds the configuration without "KMSKeyArn" or "LoggingConfig".',
  },
  {
    type: 'aws_lambda_alias',
    override: {},
    planAttributes: ['function_version'],
    why: 'The alias follows the function version, which the gap above makes unknown in every plan.',
    evidence: 'consequence of the aws_lambda_function gap (function_version = aws_lambda_function.version).',
  },
  {
    type: 'aws_lambda_event_source_mapping',
    override: ignoreChanges('function_name'),
    planAttributes: ['function_name'],
    why: 'The mapping is created on the alias ARN; moto reports the ARN of the version the alias points to.',
    evidence: 'moto/awslambda/models.py LambdaBackend.create_event_source_mapping() line 2129: spec.update({"FunctionArn": func.function_arn}), func being the version the alias resolves to.',
  },
];

/**
 * Phase 2 only (data written through S3): moto evaluates a bucket policy's Deny
 * whose condition does not hold as a Deny, so the TLS-only policy refuses every
 * PutObject. The policy is verified in phase 1; phase 2 does not create it.
 */
export const MOTO_DATA_GAPS: readonly MotoGap[] = [
  {
    type: 'aws_s3_bucket_policy',
    override: { count: 0 },
    planAttributes: [],
    why: 'moto denies every object write under a conditional Deny (aws:SecureTransport = false, s3:TlsVersion < 1.2) whether or not the condition holds.',
    evidence: 'moto/iam/access_control.py IAMPolicyStatement.is_statement_allowed() lines 493-494: if not self._check_conditions(...): return PermissionResult.DENIED, whatever the Effect.',
  },
];

/** A planned change as `terraform show -json` gives it. */
export interface PlannedChange {
  readonly address: string;
  /** Set when a moved block carried the resource from this address. */
  readonly previous_address?: string;
  readonly type: string;
  readonly mode: string;
  readonly change: { actions: string[]; before: Record<string, unknown> | null; after: Record<string, unknown> | null; after_unknown?: Record<string, unknown> };
}

/** The top-level attributes a change touches: changed values and values only known after apply. */
export function changedAttributes(rc: PlannedChange): string[] {
  const before = rc.change.before ?? {};
  const after = rc.change.after ?? {};
  const unknown = rc.change.after_unknown ?? {};
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => JSON.stringify(before[k] ?? null) !== JSON.stringify(after[k] ?? null) || unknown[k] === true).sort();
}

/**
 * Every change of a re-plan that no documented moto gap explains: a consumer
 * of the shipped module must see none. Each entry names the address and the
 * attributes, so a failure reads as the diff a user would see.
 */
export function unexplainedChanges(changes: readonly PlannedChange[], gaps: readonly MotoGap[] = MOTO_GAPS): string[] {
  const problems: string[] = [];
  for (const rc of changes) {
    if (rc.mode === 'data' || rc.change.actions.join() === 'no-op' || rc.change.actions.join() === 'read') continue;
    const allowed = new Set(gaps.filter((g) => g.type === rc.type).flatMap((g) => g.planAttributes));
    const changed = changedAttributes(rc);
    const extra = changed.filter((a) => !allowed.has(a));
    if (rc.change.actions.join() !== 'update' || extra.length > 0) problems.push(`${rc.change.actions.join('+')} ${rc.address}: ${(extra.length ? extra : changed).join(', ')}`);
  }
  return problems;
}

export const MOTO_GAP_OVERRIDE_FILE = 'e2e_moto_gaps_override.tf.json';

/** The resources of a folder's configuration, from its *.tf (HCL) and *.tf.json files, with their JSON config when there is one. */
function configuredResources(dir: string): { type: string; name: string; config?: Record<string, unknown> }[] {
  const found: { type: string; name: string; config?: Record<string, unknown> }[] = [];
  for (const file of readdirSync(dir).filter((f) => /\.tf(\.json)?$/.test(f) && !/_override\.tf(\.json)?$/.test(f))) {
    const text = readFileSync(join(dir, file), 'utf8');
    if (file.endsWith('.tf.json')) {
      const json = JSON.parse(text) as { resource?: Record<string, Record<string, Record<string, unknown>>> };
      for (const [type, byName] of Object.entries(json.resource ?? {})) for (const [name, config] of Object.entries(byName)) found.push({ type, name, config });
    } else if (file.endsWith('.tf')) {
      for (const m of text.matchAll(/^resource\s+"([a-z0-9_]+)"\s+"([A-Za-z0-9_-]+)"/gm)) found.push({ type: m[1]!, name: m[2]! });
    }
  }
  return found;
}

/** Writes the overrides of `gaps` for every matching resource in `dir` (HCL or JSON configuration); returns the addresses. */
export function writeMotoGapOverrides(dir: string, gaps: readonly MotoGap[] = MOTO_GAPS): string[] {
  const resources: Record<string, Record<string, unknown>> = {};
  const addresses: string[] = [];
  for (const { type, name, config } of configuredResources(dir)) {
    for (const gap of gaps) {
      if (gap.type !== type || Object.keys(gap.override).length === 0) continue;
      if (gap.match && !(config && gap.match(config))) continue;
      const byName = (resources[type] ??= {});
      if (byName[name]) throw new Error(`two moto gaps override ${type}.${name}: merge them`);
      byName[name] = gap.override;
      addresses.push(`${type}.${name}`);
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

  /** `terraform plan -out` then `show -json`: the planned resource changes, as a reviewer's tools read them. */
  async planChanges(label: string): Promise<PlannedChange[]> {
    return timed(label, async () => {
      await tf(this.dir, ['plan', '-input=false', '-no-color', '-lock=false', '-out=replan.tfplan'], { moto: this.moto });
      const shown = JSON.parse((await tf(this.dir, ['show', '-json', 'replan.tfplan'])).stdout) as { resource_changes?: PlannedChange[] };
      return shown.resource_changes ?? [];
    });
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
 * `cdktf deploy` does. `flavour` picks the core that synthesizes it: the
 * sources (cdktf, in this process) or dist/cdktn (in a child process), as
 * `cdktn deploy` would.
 */
export class LocalStack {
  readonly run: LocalRun;
  readonly gaps: readonly MotoGap[];
  readonly flavour: FlavourName;
  private initialized = false;

  constructor(run: LocalRun, gaps: readonly MotoGap[] = MOTO_GAPS, flavour: FlavourName = 'cdktf') {
    this.run = run;
    this.gaps = gaps;
    this.flavour = flavour;
  }

  /** Synthesizes the stack (with `flavour`, default this stack's) into the run's directory, with the moto-gap overrides. */
  async synth(settings: StackSettings, flavour: FlavourName = this.flavour): Promise<string> {
    const outdir = join(this.run.work, 'cdktf.out');
    this.run.dir =
      flavour === 'cdktf' ? synthStack(settings, outdir, this.run.moto.endpoint) : (await runInFlavour(flavour, 'stack', stackSynthRequest(settings, outdir, this.run.moto.endpoint))).stackDir;
    writeMotoGapOverrides(this.run.dir, this.gaps);
    return this.run.dir;
  }

  settings(pipeline: FlatteningPipelineProps, defaultTags: Readonly<Record<string, string>> = E2E_DEFAULT_TAGS): StackSettings {
    return { stackName: 'e2e', region: MOTO_REGION, defaultTags, backend: { type: 'local', path: join(this.run.work, 'terraform.e2e.tfstate') }, pipeline };
  }

  /** Synthesizes (the first time also initializes) and applies; returns the outputs. */
  async apply(label: string, settings: StackSettings): Promise<Record<string, any>> {
    await this.synth(settings);
    if (!this.initialized) {
      await this.run.init();
      this.initialized = true;
    }
    await this.run.apply(label);
    return this.run.outputs();
  }
}

/**
 * An HCL root from examples/<name> consuming the committed module, laid out as
 * in the repository: <work>/terraform and <work>/examples/<name> (source
 * "../../terraform"). The test adds, next to the example, only the provider
 * override pointing at moto (with the e2e default_tags) and extra root .tf.json
 * files. The module is used as shipped: no moto-gap override goes into it (a
 * re-plan may show only documented gaps).
 */
export function writeHclRoot(
  run: LocalRun,
  example: string,
  options: { extraFiles?: Readonly<Record<string, unknown>>; endpoints?: Readonly<Record<string, string>>; moduleDir?: string } = {},
): string {
  cpSync(options.moduleDir ?? join(REPO_ROOT, 'terraform'), join(run.work, 'terraform'), { recursive: true, filter: (src) => !src.includes('.terraform') });
  const root = join(run.work, 'examples', example);
  mkdirSync(root, { recursive: true });
  cpSync(join(REPO_ROOT, 'examples', example), root, { recursive: true });
  writeLocalProvider(run, root, options.endpoints);
  for (const [file, json] of Object.entries(options.extraFiles ?? {})) writeFileSync(join(root, file), JSON.stringify(json, null, 2));
  run.dir = root;
  return root;
}

/** The provider override of an HCL root: every endpoint at moto (or a proxy in front of it), and the e2e default_tags. */
export function writeLocalProvider(run: LocalRun, root: string, endpoints: Readonly<Record<string, string>> = {}): void {
  const provider = localAwsProvider(run.moto.endpoint) as { endpoints: Record<string, string>[] };
  provider.endpoints = [{ ...provider.endpoints[0], ...endpoints }];
  const withTags = { ...provider, default_tags: [{ tags: E2E_DEFAULT_TAGS }] };
  writeFileSync(join(root, 'local_aws_override.tf.json'), JSON.stringify({ provider: { aws: withTags } }, null, 2));
}
