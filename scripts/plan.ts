import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { HELP_OPTION, helpText, listOption, parseCommandArgs, stringOption, type CommandSpec } from '../src/cli/args.ts';
import { errorText, exitCodeOf, UsageError } from '../src/cli/errors.ts';
import { REPO_ROOT } from '../modules/lambda-bundle.ts';
import { loadStackSettings, type StackSettings } from '../stacks/config.ts';
import { type StackSynthRequest, synthDeployableStack } from '../stacks/synth.ts';
import { MOTO_REGION, startMoto } from '../test/support/moto.ts';
import { AWS_PROVIDER_ADDRESS, cliConfigFile, PLUGIN_MIRROR } from '../test/support/terraform.ts';
import { motoMissing } from '../test/support/tools.ts';
import { reviewMarkdown } from '../src/review/markdown.ts';
import { parsePlan } from '../src/review/plan.ts';
import { reviewPlan, type Review } from '../src/review/review.ts';

/**
 * `npm run plan [-- --local] [-- --out DIR]`: a Terraform plan of the
 * deployable stack, ready for a pull request.
 *
 * Synthesizes the stack exactly as `cdktf deploy` would (stacks/config.ts:
 * FLATTEN_CONFIG, the cdktf.json context, FLATTEN_* variables), runs
 * `terraform init` and `terraform plan -out`, and writes into the output
 * directory (default plan-out/):
 *   plan.txt    `terraform show` of the plan (what a reviewer reads)
 *   plan.json   `terraform show -json` of the plan (for tools)
 *   summary.md  the review of the plan (ddb-flatten review-plan), for a PR comment
 *
 * Default target: real AWS, with the credentials and backend you have
 * configured. `--local` instead starts moto (a local AWS API), points the
 * provider at it and plans against it, so anyone can see a plan with no
 * AWS account. The endpoint settings live only here and in the tests.
 */

export const PLAN_COMMAND: CommandSpec = {
  name: 'npm run plan --',
  usage: '[--local] [--out DIR] [--allow-replace ADDRESS ...]',
  title: 'Terraform plan of the stack, as text, JSON and a reviewed PR summary',
  summary:
    'Synthesizes the deployable stack (configured like cdktf deploy), runs terraform init and plan, and writes plan.txt, plan.json and summary.md\n' +
    '(the review of ddb-flatten review-plan: data at risk first, versions and traffic, views, access).\n' +
    'Without --local it plans against real AWS with your credentials and backend (FLATTEN_STATE_BUCKET or the config file; local state otherwise).',
  options: {
    local: { type: 'boolean', help: 'Start moto (pip install "moto[server]") and plan against it: no AWS account needed.' },
    out: { type: 'string', value: 'DIR', help: 'Where to write plan.txt, plan.json and summary.md (default plan-out).' },
    'allow-replace': { type: 'string', value: 'ADDRESS', multiple: true, help: 'Accept the destroy or replace of this stateful resource (as ddb-flatten review-plan --allow-replace).' },
    ...HELP_OPTION,
  },
  notes: [
    'Environment: TERRAFORM_BIN (default terraform on PATH), and the stack settings of stacks/config.ts (FLATTEN_*, AWS_REGION).',
    'Exit codes: 0 the plan was written and the review vouches for it, 3 the plan was written and the review does not (a stateful\n' +
      'resource destroyed, replaced or deleted outside Terraform that --allow-replace does not name, a plan Terraform could not finish,\n' +
      'a failed check: summary.md says which), 1 terraform or synth failed, 2 bad command line or no AWS credentials.',
  ],
};

/** The services the provider calls, all pointed at the local AWS API. */
export const LOCAL_AWS_SERVICES = ['dynamodb', 's3', 'glue', 'athena', 'lambda', 'iam', 'kms', 'sqs', 'logs', 'cloudwatch', 'sts', 'ssm', 'scheduler'] as const;

/**
 * The AWS provider settings for a local AWS API (moto), in Terraform JSON:
 * every service's endpoint, static test credentials, path-style S3, no
 * credential or metadata checks. `skip_requesting_account_id` stays unset:
 * moto's STS answers the account, without it ARNs come out with no account.
 */
export function localAwsProvider(endpoint: string): Record<string, unknown> {
  return {
    region: MOTO_REGION,
    access_key: 'testing',
    secret_key: 'testing',
    skip_credentials_validation: true,
    skip_metadata_api_check: true,
    s3_use_path_style: true,
    endpoints: [Object.fromEntries(LOCAL_AWS_SERVICES.map((service) => [service, endpoint]))],
  };
}

/** The cdktf.json `context`, which stacks/main.ts reads its `flatten` settings from. */
export function cdktfContext(root: string = REPO_ROOT): Record<string, unknown> {
  const file = join(root, 'cdktf.json');
  if (!existsSync(file)) return {};
  return ((JSON.parse(readFileSync(file, 'utf8')) as { context?: Record<string, unknown> }).context ?? {}) as Record<string, unknown>;
}

/** What synthStack hands to stacks/synth.ts: with `localEndpoint`, the provider points at that local AWS API. */
export function stackSynthRequest(settings: StackSettings, outdir: string, localEndpoint?: string): StackSynthRequest {
  return {
    settings: localEndpoint ? { ...settings, region: MOTO_REGION } : settings,
    outdir,
    context: cdktfContext(),
    ...(localEndpoint ? { providerOverrides: localAwsProvider(localEndpoint) } : {}),
  };
}

/**
 * Synthesizes the deployable stack into `outdir` and returns the stack's
 * directory (where terraform runs). With `localEndpoint`, the provider is
 * pointed at that local AWS API (through overrides on the provider block).
 * Here, from the sources (cdktf); scripts/flavours.ts runs the cdktn flavour.
 */
export function synthStack(settings: StackSettings, outdir: string, localEndpoint?: string): string {
  return synthDeployableStack(stackSynthRequest(settings, outdir, localEndpoint)).stackDir;
}

/* ---- summary.md: the review of the plan ---- */

/**
 * summary.md is `ddb-flatten review-plan plan.json` (src/review): data at
 * risk first, versions and traffic, views, access, the rest; its exit code
 * (3 when a stateful resource would be destroyed and is not allowed) is the
 * command's.
 */
export function planReview(planJson: string, target: string, allowReplace: readonly string[] = []): { review: Review; markdown: string } {
  const review = reviewPlan(parsePlan(planJson, 'plan.json'), { allowReplace });
  return { review, markdown: reviewMarkdown(review, { target }) };
}

/* ---- running terraform ---- */

/** Where credentials may come from; without any of them a real-AWS plan cannot run. */
export function awsCredentialSource(env: NodeJS.ProcessEnv, home: string = homedir()): string | undefined {
  if (env.AWS_ACCESS_KEY_ID) return 'AWS_ACCESS_KEY_ID';
  if (env.AWS_PROFILE) return `profile ${env.AWS_PROFILE}`;
  if (env.AWS_WEB_IDENTITY_TOKEN_FILE) return 'web identity token';
  if (env.AWS_CONTAINER_CREDENTIALS_FULL_URI || env.AWS_CONTAINER_CREDENTIALS_RELATIVE_URI) return 'container credentials';
  for (const file of [env.AWS_SHARED_CREDENTIALS_FILE ?? join(home, '.aws', 'credentials'), env.AWS_CONFIG_FILE ?? join(home, '.aws', 'config')]) {
    if (existsSync(file)) return file;
  }
  return undefined;
}

export interface PlanOptions {
  /** Plan against a local moto instead of real AWS. */
  readonly local: boolean;
  /** Output directory for plan.txt, plan.json, summary.md (and the tfplan file). */
  readonly outDir: string;
  /** Stack settings source (default process.env). */
  readonly env?: NodeJS.ProcessEnv;
  /** Terraform's own output goes here line by line (default: stderr). */
  readonly onOutput?: (text: string) => void;
  /** Stateful resources whose destroy or replace is accepted (review-plan --allow-replace). */
  readonly allowReplace?: readonly string[];
}

export interface PlanResult {
  readonly review: Review;
  /** summary.md: the review as Markdown. */
  readonly markdown: string;
  readonly files: { readonly text: string; readonly json: string; readonly summary: string };
  /** The synthesized stack directory terraform ran in. */
  readonly stackDir: string;
}

function runTerraform(bin: string, dir: string, args: readonly string[], env: NodeJS.ProcessEnv, onOutput: (text: string) => void, quietStdout = false): string {
  const r = spawnSync(bin, [`-chdir=${dir}`, ...args], { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  if (r.error) throw new Error(`could not run ${bin}: ${r.error.message} (install terraform >= 1.5 or set TERRAFORM_BIN)`);
  if (!quietStdout && r.stdout) onOutput(r.stdout);
  if (r.stderr) onOutput(r.stderr);
  if (r.status !== 0) throw new Error(`terraform ${args[0]} failed (exit ${r.status}) in ${dir}${quietStdout ? `\n${r.stdout}` : ''}`);
  return r.stdout;
}

/** Terraform's environment: no prompts; for --local no cloud credentials, and the offline provider mirror when present. */
function terraformEnvironment(local: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1' };
  if (local) {
    for (const name of ['AWS_PROFILE', 'AWS_DEFAULT_PROFILE', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN']) delete env[name];
    env.AWS_EC2_METADATA_DISABLED = 'true';
    // Your own CLI config wins; otherwise the AWS provider comes from the offline mirror when there is one.
    const own = env.TF_CLI_CONFIG_FILE && existsSync(env.TF_CLI_CONFIG_FILE);
    if (!own && existsSync(join(PLUGIN_MIRROR, AWS_PROVIDER_ADDRESS))) env.TF_CLI_CONFIG_FILE = cliConfigFile();
  }
  return env;
}

/** Synth, init, plan, show, review: writes plan.txt, plan.json, summary.md (and tfplan) into `outDir`. */
export async function runPlan(options: PlanOptions): Promise<PlanResult> {
  const onOutput = options.onOutput ?? ((text: string) => process.stderr.write(text));
  const settingsEnv = options.env ?? process.env;
  const outDir = resolve(options.outDir);
  mkdirSync(outDir, { recursive: true });
  const settings = loadStackSettings(settingsEnv, cdktfContext().flatten);
  const bin = process.env.TERRAFORM_BIN ?? 'terraform';
  const env = terraformEnvironment(options.local);

  let target: string;
  let stop = async (): Promise<void> => {};
  let outdir: string;
  let stackSettings: StackSettings = settings;
  let endpoint: string | undefined;
  if (options.local) {
    const missing = motoMissing();
    if (missing) throw new UsageError(`--local needs moto: ${missing}`);
    const moto = await startMoto();
    stop = () => moto.stop();
    endpoint = moto.endpoint;
    // Fresh local state in the output directory: moto starts empty, so does the state.
    outdir = join(outDir, 'cdktf.out');
    const statePath = join(outDir, 'terraform.local.tfstate');
    rmSync(statePath, { force: true });
    stackSettings = { ...settings, backend: { type: 'local', path: statePath } };
    target = `stack \`${settings.stackName}\` against a local AWS (moto, empty)`;
  } else {
    const source = awsCredentialSource(process.env);
    if (!source) {
      throw new UsageError(
        'no AWS credentials found (AWS_ACCESS_KEY_ID, AWS_PROFILE, a web identity token, container credentials or ~/.aws/credentials); configure them, or run `npm run plan -- --local` for a plan against a local AWS',
      );
    }
    // The same place `cdktf synth` writes, so a local backend finds the state `cdktf deploy` keeps.
    outdir = join(REPO_ROOT, 'cdktf.out');
    const backend = settings.backend?.type === 's3' ? `s3://${settings.backend.bucket}/${settings.backend.key}` : 'local state (set FLATTEN_STATE_BUCKET for a shared one)';
    target = `stack \`${settings.stackName}\` in ${settings.region ?? 'the default region'}, ${backend}`;
  }
  try {
    const stackDir = synthStack(stackSettings, outdir, endpoint);
    const planFile = join(outDir, 'tfplan');
    runTerraform(bin, stackDir, ['init', '-input=false', '-no-color'], env, onOutput);
    runTerraform(bin, stackDir, ['plan', '-input=false', '-no-color', ...(options.local ? ['-lock=false'] : []), `-out=${planFile}`], env, onOutput);
    const files = { text: join(outDir, 'plan.txt'), json: join(outDir, 'plan.json'), summary: join(outDir, 'summary.md') };
    writeFileSync(files.text, runTerraform(bin, stackDir, ['show', '-no-color', planFile], env, onOutput, true));
    const json = runTerraform(bin, stackDir, ['show', '-json', planFile], env, onOutput, true);
    writeFileSync(files.json, json);
    const { review, markdown } = planReview(json, target, options.allowReplace);
    writeFileSync(files.summary, markdown);
    return { review, markdown, files, stackDir };
  } finally {
    await stop();
  }
}

export async function main(argv: readonly string[]): Promise<number> {
  try {
    const { values } = parseCommandArgs(PLAN_COMMAND, argv);
    if (values.help) {
      process.stdout.write(helpText(PLAN_COMMAND));
      return 0;
    }
    const outDir = stringOption(values, 'out') ?? 'plan-out';
    const result = await runPlan({ local: values.local === true, outDir, allowReplace: listOption(values, 'allow-replace') });
    process.stdout.write(`\n${result.markdown}\n`);
    const shown = (p: string) => (relative(process.cwd(), p).startsWith('..') ? p : relative(process.cwd(), p));
    process.stdout.write(`wrote ${shown(result.files.text)}, ${shown(result.files.json)}, ${shown(result.files.summary)}\n`);
    if (result.review.exitCode !== 0) {
      process.stderr.write(`npm run plan: the review does not vouch for this plan: ${result.review.failures.join(' ')} See ${shown(result.files.summary)} (exit ${result.review.exitCode})\n`);
    }
    return result.review.exitCode;
  } catch (error) {
    process.stderr.write(`npm run plan: ${errorText(error)}\n`);
    return exitCodeOf(error);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.exitCode = await main(process.argv.slice(2));
}
