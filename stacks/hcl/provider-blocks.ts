import { readFileSync } from 'node:fs';
import type { BlockSchema, ProviderBlocks } from './emit.ts';

/**
 * The block structure of the AWS provider's resources and data sources the
 * module uses, extracted from `terraform providers schema -json` of the
 * provider version the module is tested with, and committed
 * (stacks/hcl/aws-blocks.json) so the HCL build needs no provider download.
 * `npm run update:aws-blocks` regenerates it; test/module/hcl-module.test.ts
 * checks it against the mirror's provider.
 */

export const AWS_BLOCKS_FILE = new URL('./aws-blocks.json', import.meta.url);

export interface ProviderSchemaJson {
  readonly provider_schemas: Record<string, { resource_schemas?: Record<string, { block: SchemaBlock }>; data_source_schemas?: Record<string, { block: SchemaBlock }> }>;
}

interface SchemaBlock {
  readonly block_types?: Record<string, { block: SchemaBlock }>;
}

function blockTypes(block: SchemaBlock): BlockSchema {
  return Object.fromEntries(Object.entries(block.block_types ?? {}).map(([name, t]) => [name, blockTypes(t.block)]));
}

/** The block structure of the given types, from a provider schema document. */
export function extractBlocks(schema: ProviderSchemaJson, provider: string, types: { resource: readonly string[]; data: readonly string[] }): ProviderBlocks & { provider: string } {
  const p = schema.provider_schemas[provider];
  if (!p) throw new Error(`the schema has no provider ${provider} (has: ${Object.keys(schema.provider_schemas).join(', ')})`);
  const pick = (schemas: Record<string, { block: SchemaBlock }> | undefined, names: readonly string[], kind: string) =>
    Object.fromEntries(
      [...names].sort().map((n) => {
        const s = schemas?.[n];
        if (!s) throw new Error(`${provider} has no ${kind} ${n}`);
        return [n, blockTypes(s.block)];
      }),
    );
  return { provider, resource: pick(p.resource_schemas, types.resource, 'resource'), data: pick(p.data_source_schemas, types.data, 'data source') };
}

export function loadAwsBlocks(): ProviderBlocks {
  return JSON.parse(readFileSync(AWS_BLOCKS_FILE, 'utf8')) as ProviderBlocks;
}

/** The resource and data source types a Terraform JSON document uses. */
export function typesOf(json: { resource?: Record<string, unknown>; data?: Record<string, unknown> }): { resource: string[]; data: string[] } {
  return { resource: Object.keys(json.resource ?? {}).sort(), data: Object.keys(json.data ?? {}).sort() };
}
