import { App, TerraformStack } from 'cdktf';
import type { Construct } from 'constructs';
import { AwsProvider } from '@cdktf/provider-aws/lib/provider/index.js';
import { FlatteningPipeline } from '../../modules/index.ts';

/**
 * A CDKTF app that drops the flattening pipeline into a team's own stack.
 * Synthesize it with: node examples/cdktf/main.ts  (writes examples/cdktf/cdktf.out)
 * or run `cdktf synth --app "node examples/cdktf/main.ts"`. examples/cdktn is the same app on CDK Terrain.
 */
class OrdersAnalyticsStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new AwsProvider(this, 'aws', { region: 'eu-west-1', defaultTags: [{ tags: { team: 'data-platform' } }] });
    this.addOverride('terraform.required_providers.aws.version', '>= 5.100.0, < 7.0.0');

    const orders = new FlatteningPipeline(this, 'orders', {
      name: 'orders',
      partitionKey: { name: 'pk' },
      sortKey: { name: 'sk' },
      explodeAttributes: ['items'],
      carryAttributes: ['status'],
      alias: { name: 'live' }, // pinnedVersion: '3' to roll back; canary: { weight: 0.1 } with a pin to try the newest
      eventSourceMapping: { batchSize: 200, maximumBatchingWindowInSeconds: 10 },
      alarms: { snsTopicArn: 'arn:aws:sns:eu-west-1:123456789012:data-platform-alerts' },
      tags: { 'cost-center': 'analytics' },
    });
    orders.addOutputs(this);
  }
}

// CDKTF_OUTDIR: set by `cdktf synth`; otherwise next to this file.
const app = new App({ outdir: process.env.CDKTF_OUTDIR ?? new URL('./cdktf.out', import.meta.url).pathname });
new OrdersAnalyticsStack(app, 'orders-analytics');
app.synth();
