import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../modules/lambda-bundle.ts';
import { GENERATED_FILES, MODULE_DIR, MODULE_VERSION } from '../../scripts/build-module.ts';
import { moduleTypes, providerSchema, SCHEMA_PROVIDER } from '../../scripts/update-aws-blocks.ts';
import { extractBlocks, loadAwsBlocks } from '../../stacks/hcl/provider-blocks.ts';
import { requireTerraform, TERRAFORM_BIN, terraformEnv, terraformInit, terraformValidate } from '../support/terraform.ts';
import { builtModule } from './module-build.ts';

/**
 * The committed HCL module (terraform/), as consumers get it from a git tag:
 * the same bytes as a fresh build, fmt-clean, no "${…}" string where an
 * expression belongs, its own `terraform test` suite passing (mock provider,
 * offline), and every example root valid with no warning.
 */
const skipReason = requireTerraform();
if (skipReason) console.warn(`skipping the HCL module checks: ${skipReason}`);

/** A consumer layout: <root>/terraform (the module) and <root>/examples/<name>. */
function consumerRoot(example: string): string {
  const root = mkdtempSync(join(tmpdir(), `ddb-flatten-example-${example}-`));
  cpSync(MODULE_DIR, join(root, 'terraform'), { recursive: true, filter: (src) => !src.includes('.terraform') });
  mkdirSync(join(root, 'examples'), { recursive: true });
  cpSync(join(REPO_ROOT, 'examples', example), join(root, 'examples', example), { recursive: true });
  return join(root, 'examples', example);
}

export const HCL_EXAMPLES = readdirSync(join(REPO_ROOT, 'examples'), { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(join(REPO_ROOT, 'examples', d.name, 'main.tf')))
  .map((d) => d.name)
  .sort();

describe.skipIf(skipReason !== undefined)('the committed Terraform module (terraform/)', () => {
  it('is exactly what npm run build:module writes (a stale module fails CI)', () => {
    const fresh = builtModule();
    const stale = GENERATED_FILES.filter((f) => !readFileSync(join(MODULE_DIR, f)).equals(readFileSync(join(fresh.dir, f))));
    expect(stale, `terraform/ is stale (${stale.join(', ')}): run npm run build:module and commit terraform/`).toEqual([]);
  });

  it('is terraform fmt clean, tests included', () => {
    const r = spawnSync(TERRAFORM_BIN, ['fmt', '-check', '-recursive', '-no-color', MODULE_DIR], { env: terraformEnv(), encoding: 'utf8' });
    expect(r.status, `terraform fmt would change: ${r.stdout}`).toBe(0);
  });

  it('writes expressions as HCL, never as a string that is one interpolation', () => {
    for (const file of ['main.tf', 'outputs.tf', 'variables.tf']) {
      const text = readFileSync(join(MODULE_DIR, file), 'utf8');
      // An argument or list item that is a quoted single interpolation, e.g. `name = "${var.name}"`.
      expect(text.match(/(=\s*|^\s*)"\$\{[^{}"]*\}",?\s*$/gm) ?? [], file).toEqual([]);
      expect(text, file).not.toContain('"//"');
    }
  });

  it(`reports its version, ${MODULE_VERSION}, in its README and as an output`, () => {
    expect(readFileSync(join(MODULE_DIR, 'README.md'), 'utf8')).toContain(`version ${MODULE_VERSION}`);
    expect(readFileSync(join(MODULE_DIR, 'main.tf'), 'utf8')).toMatch(new RegExp(`module_version\\s+= "${MODULE_VERSION}"`));
    expect(readFileSync(join(MODULE_DIR, 'outputs.tf'), 'utf8')).toMatch(/output "module_version"/);
  });

  it('has every variable and output documented in docs/module.md (Inputs, Outputs)', () => {
    const docs = readFileSync(join(REPO_ROOT, 'docs/module.md'), 'utf8');
    const names = (file: string, kind: string) => [...readFileSync(join(MODULE_DIR, file), 'utf8').matchAll(new RegExp(`^${kind} "([a-z0-9_]+)"`, 'gm'))].map((m) => m[1]!);
    const variables = names('variables.tf', 'variable');
    const outputs = names('outputs.tf', 'output');
    expect(variables.length).toBeGreaterThan(50);
    expect(variables.filter((v) => !docs.includes(`| \`${v}\` |`)), 'variables missing from the Inputs table').toEqual([]);
    expect(outputs.filter((o) => !docs.includes(`\`${o}\``)), 'outputs missing from the Outputs table').toEqual([]);
  });
  it('passes its own terraform test suite (mock AWS provider): canary, pins, keys, bring-your-own, toggles, validations', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'ddb-flatten-tftest-')), 'terraform');
    cpSync(MODULE_DIR, dir, { recursive: true, filter: (src) => !src.includes('.terraform') });
    terraformInit(dir, { backend: false });
    const r = spawnSync(TERRAFORM_BIN, [`-chdir=${dir}`, 'test', '-no-color'], { env: terraformEnv(), encoding: 'utf8', timeout: 600_000 });
    const summary = /(Success|Failure)! (\d+) passed, (\d+) failed/.exec(r.stdout);
    expect(r.status, r.stdout.slice(-6000) + r.stderr).toBe(0);
    expect(summary?.[1]).toBe('Success');
    expect(Number(summary![2])).toBeGreaterThanOrEqual(30);
    for (const file of ['defaults', 'versions-and-canary', 'bring-your-own', 'toggles', 'validation']) expect(r.stdout).toContain(`tests/${file}.tftest.hcl... pass`);
  }, 600_000);

  for (const example of HCL_EXAMPLES) {
    it(`examples/${example} validates from a consumer root with no error and no warning`, () => {
      const dir = consumerRoot(example);
      terraformInit(dir, { backend: false });
      const result = terraformValidate(dir);
      expect(result.diagnostics, JSON.stringify(result.diagnostics, null, 2)).toEqual([]);
      expect(result.valid).toBe(true);
      expect(readFileSync(join(dir, 'main.tf'), 'utf8')).toMatch(/source\s+= "\.\.\/\.\.\/terraform"/);
    });
  }

  it('stacks/hcl/aws-blocks.json is the block structure of the provider the module is tested with', () => {
    const fresh = extractBlocks(providerSchema(), SCHEMA_PROVIDER, moduleTypes());
    const committed = loadAwsBlocks() as unknown as Record<string, unknown>;
    expect({ resource: committed.resource, data: committed.data }, 'run npm run update:aws-blocks').toEqual({ resource: fresh.resource, data: fresh.data });
  });
});
