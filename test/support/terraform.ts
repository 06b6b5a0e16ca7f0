import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Terraform for tests, offline: terraform 1.11 with the AWS provider from a
 * filesystem mirror, through a CLI config this project owns (TF_CLI_CONFIG_FILE),
 * so a missing or foreign ~/.terraformrc never matters and nothing is downloaded.
 *
 * Availability: when terraform or the mirror is missing, `terraformSkipReason()`
 * says why, and tests skip with that reason, unless CI_REQUIRE_TERRAFORM=1,
 * where `requireTerraform()` throws instead so CI fails loudly.
 */

export const TERRAFORM_BIN = process.env.TERRAFORM_BIN ?? '/usr/local/bin/terraform';
export const PLUGIN_MIRROR = process.env.TF_PLUGIN_MIRROR ?? '/opt/tf-plugins';
export const AWS_PROVIDER_ADDRESS = 'registry.terraform.io/hashicorp/aws';

/** Why terraform can't run here, or undefined when it can. */
export function terraformSkipReason(): string | undefined {
  if (!existsSync(TERRAFORM_BIN)) return `terraform not found at ${TERRAFORM_BIN} (set TERRAFORM_BIN)`;
  if (!existsSync(join(PLUGIN_MIRROR, AWS_PROVIDER_ADDRESS))) {
    return `AWS provider mirror not found at ${join(PLUGIN_MIRROR, AWS_PROVIDER_ADDRESS)} (set TF_PLUGIN_MIRROR)`;
  }
  return undefined;
}

/** True when CI demands terraform: a missing terraform is then a failure, not a skip. */
export const terraformRequired = (): boolean => process.env.CI_REQUIRE_TERRAFORM === '1';

/**
 * For `describe.skipIf(...)`: the skip reason when terraform is missing and not required;
 * throws when it is missing and required.
 */
export function requireTerraform(): string | undefined {
  const reason = terraformSkipReason();
  if (reason && terraformRequired()) throw new Error(`CI_REQUIRE_TERRAFORM=1 but ${reason}`);
  return reason;
}

/** The CLI config: the mirror is the only source of the AWS provider; no other provider is installable. */
export function cliConfigText(mirror: string = PLUGIN_MIRROR): string {
  return [
    'provider_installation {',
    '  filesystem_mirror {',
    `    path    = ${JSON.stringify(mirror)}`,
    `    include = [${JSON.stringify(AWS_PROVIDER_ADDRESS)}]`,
    '  }',
    '}',
    'disable_checkpoint = true',
    '',
  ].join('\n');
}

let cliConfigPath: string | undefined;
/** Writes the CLI config once per process into a temp dir and returns its path. */
export function cliConfigFile(): string {
  if (!cliConfigPath) {
    const dir = mkdtempSync(join(tmpdir(), 'ddb-flatten-tfrc-'));
    cliConfigPath = join(dir, 'terraform.rc');
    writeFileSync(cliConfigPath, cliConfigText());
  }
  return cliConfigPath;
}

export interface TerraformResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface TerraformOptions {
  /** Extra environment (e.g. AWS credentials or TF_VAR_*). */
  readonly env?: Readonly<Record<string, string>>;
  /** Fail with the output when the exit code is not one of these (default [0]). */
  readonly okCodes?: readonly number[];
  readonly timeoutMs?: number;
}

/** The environment every terraform call gets: our CLI config, no prompts, no colour, a shared plugin cache off. */
export function terraformEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TF_CLI_CONFIG_FILE: cliConfigFile(), TF_IN_AUTOMATION: '1', TF_INPUT: '0', CHECKPOINT_DISABLE: '1', ...extra };
  delete env.TF_PLUGIN_CACHE_DIR;
  return env;
}

/** Runs `terraform <args>` in `dir` and returns its output; throws with the output on an unexpected exit code. */
export function terraform(dir: string, args: readonly string[], options: TerraformOptions = {}): TerraformResult {
  const r = spawnSync(TERRAFORM_BIN, ['-chdir=' + dir, ...args], {
    env: terraformEnv(options.env),
    encoding: 'utf8',
    timeout: options.timeoutMs ?? 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  const result = { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  const ok = options.okCodes ?? [0];
  if (!ok.includes(result.code)) {
    throw new Error(`terraform ${args.join(' ')} in ${dir} exited ${result.code}\n${result.stderr}\n${result.stdout}`);
  }
  return result;
}

/** `terraform init` from the mirror only (no backend: state stays wherever the config says, validate needs none). */
export function terraformInit(dir: string, options: TerraformOptions & { backend?: boolean } = {}): TerraformResult {
  const args = ['init', '-input=false', '-no-color'];
  if (options.backend === false) args.push('-backend=false');
  return terraform(dir, args, options);
}

export interface ValidateDiagnostic {
  readonly severity: 'error' | 'warning';
  readonly summary: string;
  readonly detail?: string;
  readonly address?: string;
}

export interface ValidateResult {
  readonly valid: boolean;
  readonly error_count: number;
  readonly warning_count: number;
  readonly diagnostics: readonly ValidateDiagnostic[];
}

/** `terraform validate -json`, parsed. Call terraformInit first. */
export function terraformValidate(dir: string, options: TerraformOptions = {}): ValidateResult {
  const r = terraform(dir, ['validate', '-json', '-no-color'], { ...options, okCodes: [0, 1] });
  return JSON.parse(r.stdout) as ValidateResult;
}

/** `terraform plan` (optionally -detailed-exitcode and -out), returning the exit code: 0 no changes, 2 changes. */
export function terraformPlan(dir: string, args: readonly string[] = [], options: TerraformOptions = {}): TerraformResult {
  return terraform(dir, ['plan', '-input=false', '-no-color', '-lock=false', ...args], { okCodes: [0, 2], ...options });
}

/** `terraform show -json <planfile>`, parsed. */
export function terraformShowJson(dir: string, planFile: string, options: TerraformOptions = {}): unknown {
  return JSON.parse(terraform(dir, ['show', '-json', planFile], options).stdout);
}

/** A fresh temp working dir for a terraform root (caller removes it, or leaves it to the OS). */
export function terraformWorkDir(prefix = 'ddb-flatten-tf-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  mkdirSync(dir, { recursive: true });
  return dir;
}
