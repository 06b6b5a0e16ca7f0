import { App, TerraformStack } from 'cdktn';
import type { Construct } from 'constructs';
import { AwsProvider } from '@cdktn/provider-aws/lib/provider/index.js';
import { FlatteningPipeline } from 'ddb-flatten/cdktn';

/**
 * A CDK Terrain (cdktn) app that drops the flattening pipeline into a team's own stack: the same
 * app as examples/cdktf/main.ts, on the other core, through the package's cdktn flavour.
 * Synthesize it with: npm run build:flavours && node examples/cdktn/main.ts  (writes examples/cdktn/cdktn.out)
 * or run `cdktn synth --app "node examples/cdktn/main.ts"`.
 */
class OrdersAnalyticsStack extends TerraformStack {
  constructor(scope: Construct, id: string) {
    super(scope, id);
    new AwsProvider(this, 'aws', { region: 'eu-west-1', defaultTags: [{ tags: { team: 'data-platform' } }] });
    // @cdktn/provider-aws pins the provider it was generated from (6.x); the pipeline runs on 5.100 too.
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

// CDKTF_OUTDIR: set by `cdktn synth` (the same variable as cdktf's); otherwise next to this file.
const app = new App({ outdir: process.env.CDKTF_OUTDIR ?? new URL('./cdktn.out', import.meta.url).pathname });
new OrdersAnalyticsStack(app, 'orders-analytics');
app.synth();
