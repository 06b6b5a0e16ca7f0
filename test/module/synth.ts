import { Testing, TerraformStack } from '../../modules/cdk.ts';
import { AwsProvider } from '../../modules/aws.ts';
import { FlatteningPipeline } from '../../modules/flattening-pipeline.ts';
import type { FlatteningPipelineProps } from '../../modules/props.ts';

/** Helpers for synth assertions on plain Terraform JSON. */

export type Json = Record<string, any>;

export const BASE_PROPS: FlatteningPipelineProps = {
  name: 'orders',
  partitionKey: { name: 'pk' },
  explodeAttributes: ['items'],
};

export const KMS = 'arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555';

export interface Synth {
  readonly json: Json;
  readonly pipeline: FlatteningPipeline;
  /** Every resource of a type, as [logical id, config]. */
  all(type: string): [string, Json][];
  /** The one resource of a type (fails when there are none or several). */
  one(type: string): Json;
  /** The one data source of a type. */
  data(type: string, match?: string): Json;
  output(name: string): Json;
}

export function synth(overrides: Partial<FlatteningPipelineProps> = {}): Synth {
  const app = Testing.app();
  const stack = new TerraformStack(app, 'test');
  new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
  const pipeline = new FlatteningPipeline(stack, 'pipeline', { ...BASE_PROPS, ...overrides });
  pipeline.addOutputs(stack);
  const json = JSON.parse(Testing.synth(stack)) as Json;
  return wrap(json, pipeline);
}

export function wrap(json: Json, pipeline: FlatteningPipeline): Synth {
  const all = (type: string): [string, Json][] => Object.entries(json.resource?.[type] ?? {});
  return {
    json,
    pipeline,
    all,
    one(type) {
      const found = all(type);
      if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
      return found[0][1];
    },
    data(type, match) {
      const found = Object.entries<Json>(json.data?.[type] ?? {}).filter(([id]) => (match ? id === match : true));
      if (found.length !== 1) throw new Error(`expected one data.${type}${match ? ` matching ${match}` : ''}, found ${found.length}`);
      return found[0][1];
    },
    output(name) {
      const o = json.output?.[name];
      if (!o) throw new Error(`no output ${name}`);
      return o;
    },
  };
}

/** The resource with this address name (`aws_glue_catalog_table.flattened`: named(s, 'aws_glue_catalog_table', 'flattened')). */
export function named(s: Synth, type: string, name: string): Json {
  const found = s.all(type).filter(([id]) => id === name);
  if (found.length !== 1) throw new Error(`expected one ${type}.${name}, found ${found.length} (have: ${s.all(type).map(([id]) => id).join(', ')})`);
  return found[0][1];
}
