import { LocalBackend, S3Backend, type S3BackendConfig, TerraformStack } from '../modules/cdk.ts';
import type { Construct } from 'constructs';
import { AwsProvider, type AwsProviderConfig } from '../modules/aws.ts';
import { assertSameCore } from '../modules/core.ts';
import { FlatteningPipeline } from '../modules/flattening-pipeline.ts';
import type { FlatteningPipelineProps } from '../modules/props.ts';

/** The AWS provider versions the module is tested with: 5.100 and every 6.x. */
export const AWS_PROVIDER_CONSTRAINT = '>= 5.100.0, < 7.0.0';
export const AWS_PROVIDER_SOURCE = 'hashicorp/aws';

export type BackendConfig =
  | { readonly type: 'local'; readonly path?: string }
  | ({ readonly type: 's3' } & S3BackendConfig);

export interface FlatteningPipelineStackProps {
  readonly pipeline: FlatteningPipelineProps;
  /** AWS region. Default: the provider's own resolution (AWS_REGION, profile). */
  readonly region?: string;
  /** Provider `default_tags`: tags the provider adds to every taggable resource. */
  readonly defaultTags?: Readonly<Record<string, string>>;
  /** Extra provider settings (profile, assume_role, or endpoints for a local AWS in tests). Never needed in production. */
  readonly provider?: Partial<AwsProviderConfig>;
  /** State backend. Default: local (terraform.<stack>.tfstate next to the synthesized stack). */
  readonly backend?: BackendConfig;
}

/**
 * A deployable stack: the AWS provider, a backend, the pipeline and its
 * outputs. `cdktf deploy` / `cdktf diff` run it through `stacks/main.ts`.
 */
export class FlatteningPipelineStack extends TerraformStack {
  readonly pipeline: FlatteningPipeline;
  readonly provider: AwsProvider;

  constructor(scope: Construct, id: string, props: FlatteningPipelineStackProps) {
    assertSameCore(scope, 'FlatteningPipelineStack', id);
    super(scope, id);
    this.provider = new AwsProvider(this, 'aws', {
      region: props.region,
      defaultTags: props.defaultTags ? [{ tags: { ...props.defaultTags } }] : undefined,
      ...props.provider,
    });
    // The bindings are generated from provider 6.x; the module also runs on 5.100.
    this.addOverride('terraform.required_providers.aws.version', AWS_PROVIDER_CONSTRAINT);
    const backend = props.backend ?? { type: 'local' };
    if (backend.type === 's3') {
      const { type: _type, ...s3 } = backend;
      new S3Backend(this, s3);
      // S3-native state locking (Terraform >= 1.10) unless a DynamoDB lock table is given.
      if (!s3.dynamodbTable) this.addOverride('terraform.backend.s3.use_lockfile', true);
    } else {
      new LocalBackend(this, { path: backend.path ?? `terraform.${id}.tfstate` });
    }
    this.pipeline = new FlatteningPipeline(this, 'pipeline', props.pipeline);
    this.pipeline.addOutputs(this);
  }
}
