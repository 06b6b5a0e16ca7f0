import { App } from '../../modules/cdk.ts';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FlatteningPipelineStack } from '../../stacks/pipeline-stack.ts';
import type { FlatteningPipelineProps } from '../../modules/props.ts';
import { KMS } from './synth.ts';

/** Addresses of a Terraform JSON document: `type.name` and `data.type.name`, sorted. */
export function addressesOf(json: { resource?: Record<string, Record<string, unknown>>; data?: Record<string, Record<string, unknown>> }): string[] {
  const out: string[] = [];
  for (const [type, byName] of Object.entries(json.resource ?? {})) for (const name of Object.keys(byName)) out.push(`${type}.${name}`);
  for (const [type, byName] of Object.entries(json.data ?? {})) for (const name of Object.keys(byName)) out.push(`data.${type}.${name}`);
  return out.sort();
}

/** A deployable stack with every optional resource switched on (so the list covers them all). */
export const FULL_PROPS: FlatteningPipelineProps = {
  name: 'orders',
  partitionKey: { name: 'pk' },
  sortKey: { name: 'sk' },
  explodeAttributes: ['items'],
  carryAttributes: ['status'],
  elementViews: { items: ['sku'] },
  kmsKeyArn: KMS,
  alias: { pinnedVersion: '1', canary: { weight: 0.1 } },
  alarms: { snsTopicArn: 'arn:aws:sns:eu-west-1:123456789012:alerts' },
};

export function synthDeployableStack(props: FlatteningPipelineProps = FULL_PROPS): Record<string, any> {
  const outdir = mkdtempSync(join(tmpdir(), 'ddb-flatten-addresses-'));
  const app = new App({ outdir });
  new FlatteningPipelineStack(app, 'ddb-flatten', { pipeline: props, region: 'eu-west-1' });
  app.synth();
  return JSON.parse(readFileSync(join(outdir, 'stacks', 'ddb-flatten', 'cdk.tf.json'), 'utf8'));
}
