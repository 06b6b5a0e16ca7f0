import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { App, TerraformStack } from '../../modules/cdk.ts';
import { AwsProvider } from '../../modules/aws.ts';
import { FlatteningPipeline } from '../../modules/flattening-pipeline.ts';
import { addressesOf, FULL_PROPS, synthDeployableStack } from './addresses.ts';
import { builtModule } from './module-build.ts';

/**
 * Terraform addresses are part of the module's interface: a renamed address
 * is, in every existing state, a destroy and a create (the table, the bucket,
 * the trigger). The lists below are committed; a change fails here unless the
 * move comes with it: ADDRESS_MOVES in modules/addresses.ts (which writes the
 * moved blocks into the module's migrations.tf and into every CDKTF stack), the
 * updated test/fixtures/addresses.json, and a CHANGELOG entry.
 */

const fixture = (file: string) => JSON.parse(readFileSync(new URL(`../fixtures/${file}`, import.meta.url), 'utf8')) as { stack: string[]; module: string[]; version?: string };
const current = fixture('addresses.json');
/** Every release's addresses (test/fixtures/addresses-<version>.json): what states out there may hold. */
const releases = readdirSync(new URL('../fixtures/', import.meta.url))
  .filter((f) => /^addresses-\d+\.\d+\.\d+\.json$/.test(f))
  .map((f) => [f.slice('addresses-'.length, -'.json'.length), fixture(f)] as const);

const changed = (what: string, got: string[], want: string[]): string => {
  const added = got.filter((a) => !want.includes(a));
  const removed = want.filter((a) => !got.includes(a));
  return `${what} addresses changed (added: ${added.join(', ') || 'none'}; removed: ${removed.join(', ') || 'none'}). A renamed address destroys and re-creates the resource in every existing state: keep the name, or record the move in ADDRESS_MOVES (modules/addresses.ts), update test/fixtures/addresses.json and the CHANGELOG.`;
};

describe('Terraform addresses: fixed, readable, and moved when they change', () => {
  const stack = synthDeployableStack();
  const module = builtModule();
  const stackAddresses = addressesOf(stack);
  const moduleAddresses = addressesOf(module.main);

  it('the CDKTF stack has exactly the committed addresses', () => {
    expect(stackAddresses, changed('stack', stackAddresses, current.stack)).toEqual(current.stack);
  });
  it('the Terraform module has exactly the committed addresses', () => {
    expect(moduleAddresses, changed('module', moduleAddresses, current.module)).toEqual(current.module);
  });
  it('every name is snake_case and says what it is: no generated hash', () => {
    for (const address of [...stackAddresses, ...moduleAddresses]) {
      const name = address.split('.').at(-1)!;
      expect(name, address).toMatch(/^[a-z][a-z0-9_]*$/);
      expect(name, address).not.toMatch(/_[0-9A-F]{8}$/);
    }
  });
  for (const [version, released] of releases) {
    it(`every ${version} address is still there or has a moved block, in the module and in the stack`, () => {
      for (const [what, addresses, moved] of [
        ['module', moduleAddresses, module.json.moved],
        ['stack', stackAddresses, (stack.moved ?? []) as { from: string; to: string }[]],
      ] as const) {
        for (const old of released[what].filter((a) => !a.startsWith('data.'))) {
          if (addresses.includes(old)) continue;
          const move = moved.find((m) => m.from === old);
          expect(move, `${what}: ${old} (from ${version}) is gone and has no moved block`).toBeDefined();
          expect(addresses, `${what}: ${old} moves to ${move!.to}, which does not exist`).toContain(move!.to);
        }
      }
    });
  }
  it('the module writes its moved blocks in migrations.tf', () => {
    const text = module.hcl('migrations.tf');
    expect(text.match(/^moved \{/gm)?.length).toBe(module.json.moved.length);
    expect(text).toContain('from = aws_dynamodb_table.pipeline_source_table_9C33FAD4\n  to   = aws_dynamodb_table.source');
  });
  it('two pipelines in one stack need distinct addressPrefix values, and get prefixed addresses', () => {
    const twoPipelines = (second: string | undefined) => {
      const app = new App({ outdir: '/tmp/unused' });
      const s = new TerraformStack(app, 'two');
      new AwsProvider(s, 'aws', { region: 'eu-west-1' });
      new FlatteningPipeline(s, 'orders', { ...FULL_PROPS, name: 'orders' });
      new FlatteningPipeline(s, 'returns', { ...FULL_PROPS, name: 'returns', addressPrefix: second });
      return s;
    };
    expect(() => twoPipelines(undefined)).toThrow(/the address [a-z_.]+ is already used by .*orders.*: give each FlatteningPipeline in a stack its own addressPrefix/);
    expect(() => twoPipelines('returns')).not.toThrow();
    expect(() => new FlatteningPipeline(new TerraformStack(new App({ outdir: '/tmp/unused' }), 'x'), 'p', { ...FULL_PROPS, addressPrefix: 'Bad-Prefix' })).toThrow(/addressPrefix: "Bad-Prefix" is not allowed/);
  });
});
