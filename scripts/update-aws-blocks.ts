import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from '../modules/cdk.ts';
import { ModuleStack } from '../stacks/module-stack.ts';
import { AWS_BLOCKS_FILE, extractBlocks, typesOf, type ProviderSchemaJson } from '../stacks/hcl/provider-blocks.ts';
import { terraformEnv } from '../test/support/terraform.ts';

/**
 * `npm run update:aws-blocks`: regenerates stacks/hcl/aws-blocks.json, the
 * block structure of every resource and data source the module uses, from
 * `terraform providers schema -json` of the AWS provider version the module
 * is tested with (from the offline mirror). Run it after adding a resource
 * type to the construct.
 */

export const SCHEMA_PROVIDER = 'registry.terraform.io/hashicorp/aws';
export const SCHEMA_PROVIDER_VERSION = '5.100.0';

/** The provider schema document, from a throwaway root that requires exactly that provider version. */
export function providerSchema(): ProviderSchemaJson {
  const dir = mkdtempSync(join(tmpdir(), 'ddb-flatten-schema-'));
  try {
    writeFileSync(join(dir, 'main.tf.json'), JSON.stringify({ terraform: { required_providers: { aws: { source: 'hashicorp/aws', version: SCHEMA_PROVIDER_VERSION } } } }));
    // The project's own CLI config: the provider comes from the offline mirror, never a download.
    const env = terraformEnv();
    const bin = process.env.TERRAFORM_BIN ?? 'terraform';
    const init = spawnSync(bin, [`-chdir=${dir}`, 'init', '-input=false', '-no-color'], { env, encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`terraform init failed:\n${init.stderr}${init.stdout}`);
    const schema = spawnSync(bin, [`-chdir=${dir}`, 'providers', 'schema', '-json'], { env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
    if (schema.status !== 0) throw new Error(`terraform providers schema failed:\n${schema.stderr}`);
    return JSON.parse(schema.stdout) as ProviderSchemaJson;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The types the module uses: a synth of the module stack, where every optional resource exists behind a count. */
export function moduleTypes(): { resource: string[]; data: string[] } {
  const out = mkdtempSync(join(tmpdir(), 'ddb-flatten-types-'));
  try {
    const app = new App({ outdir: out });
    new ModuleStack(app, 'module', { codeZipPath: new URL('../package.json', import.meta.url).pathname });
    app.synth();
    return typesOf(JSON.parse(readFileSync(join(out, 'stacks', 'module', 'cdk.tf.json'), 'utf8')));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const blocks = extractBlocks(providerSchema(), SCHEMA_PROVIDER, moduleTypes());
  writeFileSync(AWS_BLOCKS_FILE, `${JSON.stringify({ ...blocks, version: SCHEMA_PROVIDER_VERSION }, null, 1)}\n`);
  console.log(`wrote ${AWS_BLOCKS_FILE.pathname}: ${Object.keys(blocks.resource).length} resources, ${Object.keys(blocks.data).length} data sources`);
}
