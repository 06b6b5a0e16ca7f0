import { Fn } from './cdk.ts';
import { Construct } from 'constructs';
import {
  DataAwsIamPolicyDocument,
  S3Bucket,
  S3BucketLifecycleConfiguration,
  S3BucketOwnershipControls,
  S3BucketPolicy,
  S3BucketPublicAccessBlock,
  S3BucketServerSideEncryptionConfiguration,
  S3BucketVersioning,
} from './aws.ts';
import { choose, countOf, gate, type Gate, gatedAttr, isAbsent, isToken, localString } from './expressions.ts';
import type { ResolvedConfig } from './naming.ts';
import { named } from './addresses.ts';

/**
 * The lake bucket: all public access blocked, BucketOwnerEnforced (no ACLs),
 * SSE-KMS with a bucket key (customer key) or SSE-S3, versioning, a
 * TLS-only policy (deny plain HTTP and TLS older than 1.2), lifecycle rules
 * (abort incomplete uploads, expire Athena results, expire noncurrent
 * versions) and force_destroy off. Or, with `lake.create = false`, an
 * existing bucket, left exactly as it is.
 */
export class LakeBucket extends Construct {
  readonly bucket?: S3Bucket;
  readonly publicAccessBlock?: S3BucketPublicAccessBlock;
  readonly ownership?: S3BucketOwnershipControls;
  readonly encryption?: S3BucketServerSideEncryptionConfiguration;
  readonly versioning?: S3BucketVersioning;
  readonly lifecycle?: S3BucketLifecycleConfiguration;
  readonly policy?: S3BucketPolicy;
  readonly policyDocument?: DataAwsIamPolicyDocument;
  readonly gate: Gate;
  readonly bucketName: string;
  readonly bucketArn: string;
  /**
   * The bucket's ARN as the IAM policy documents use it. A data source is read
   * in every plan, a `-refresh-only` one too, where a bucket deleted outside
   * Terraform is gone from the state: `one(bucket[*].arn)` is null there, and
   * Terraform stops on the documents ("Cannot include a null value in a string
   * template") instead of showing the drift. While the bucket is not in the
   * state the documents name `bucket_name`, or the bare `bucket_prefix` (no
   * bucket is named so: a name cannot end in "-"); they never reach IAM in that
   * plan, and a normal plan creates the bucket and takes its new ARN.
   */
  readonly policyBucketArn: string;
  /** A KMS key writers need (the existing bucket's key), if any. */
  readonly kmsKeyArn?: string;

  constructor(scope: Construct, id: string, config: ResolvedConfig, partition: string) {
    super(scope, id);
    const c = config.lake;
    this.gate = gate(c.create);
    const existingArn = `arn:${partition}:s3:::${c.existingBucketName}`;
    if (!this.gate.create) {
      this.bucketName = c.existingBucketName!;
      this.bucketArn = existingArn;
      this.policyBucketArn = existingArn;
      this.kmsKeyArn = c.existingKmsKeyArn;
      return;
    }
    const count = countOf(this.gate);
    const noName = isAbsent(c.name);
    const bucket = named(new S3Bucket(this, 'bucket', {
      ...count,
      bucket: c.name,
      bucketPrefix: isToken(c.name) ? choose(noName, c.bucketPrefix, null as unknown as string) : c.name === undefined ? c.bucketPrefix : undefined,
      forceDestroy: c.forceDestroy,
      tags: config.tags,
    }), 'lake');
    this.bucket = bucket;
    const name = gatedAttr(bucket, this.gate, 'id', bucket.id);
    const arn = gatedAttr(bucket, this.gate, 'arn', bucket.arn);

    this.publicAccessBlock = named(new S3BucketPublicAccessBlock(this, 'public-access-block', {
      ...count,
      bucket: name,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    }), 'lake');
    this.ownership = named(new S3BucketOwnershipControls(this, 'ownership', {
      ...count,
      bucket: name,
      rule: { objectOwnership: 'BucketOwnerEnforced' },
    }), 'lake');
    const noKms = isAbsent(config.kmsKeyArn);
    this.encryption = named(new S3BucketServerSideEncryptionConfiguration(this, 'encryption', {
      ...count,
      bucket: name,
      rule: [
        {
          applyServerSideEncryptionByDefault: {
            sseAlgorithm: choose(noKms, 'AES256', 'aws:kms'),
            kmsMasterKeyId: config.kmsKeyArn,
          },
          bucketKeyEnabled: choose(noKms, false, true),
        },
      ],
    }), 'lake');
    this.versioning = named(new S3BucketVersioning(this, 'versioning', {
      ...count,
      bucket: name,
      versioningConfiguration: { status: 'Enabled' },
    }), 'lake');
    this.lifecycle = named(new S3BucketLifecycleConfiguration(this, 'lifecycle', {
      ...count,
      bucket: name,
      rule: [
        {
          id: 'abort-incomplete-multipart-uploads',
          status: 'Enabled',
          filter: [{}],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: c.abortIncompleteMultipartUploadDays }],
        },
        {
          id: 'expire-athena-results',
          status: 'Enabled',
          filter: [{ prefix: `${c.athenaResultsPrefix}/` }],
          expiration: [{ days: c.athenaResultsExpirationDays }],
        },
        {
          id: 'expire-noncurrent-versions',
          status: 'Enabled',
          filter: [{}],
          noncurrentVersionExpiration: [{ noncurrentDays: c.noncurrentVersionExpirationDays }],
        },
      ],
      dependsOn: [this.versioning],
    }), 'lake');
    const policyArn = this.gate.count === undefined
      ? arn
      : localString(this, 'lake_bucket_arn_for_policies', Fn.coalesce([arn, `arn:${partition}:s3:::${Fn.coalesce([c.name!, c.bucketPrefix])}`]));
    const everyone = [{ type: '*', identifiers: ['*'] }];
    const resources = [policyArn, `${policyArn}/*`];
    this.policyDocument = named(new DataAwsIamPolicyDocument(this, 'tls-only', {
      ...count,
      statement: [
        {
          sid: 'DenyInsecureTransport',
          effect: 'Deny',
          principals: everyone,
          actions: ['s3:*'],
          resources,
          condition: [{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }],
        },
        {
          sid: 'DenyTlsOlderThan12',
          effect: 'Deny',
          principals: everyone,
          actions: ['s3:*'],
          resources,
          condition: [{ test: 'NumericLessThan', variable: 's3:TlsVersion', values: ['1.2'] }],
        },
      ],
    }), 'lake_tls_only');
    this.policy = named(new S3BucketPolicy(this, 'policy', {
      ...count,
      bucket: name,
      policy: gatedAttr(this.policyDocument, this.gate, 'json', this.policyDocument.json),
      dependsOn: [this.publicAccessBlock],
    }), 'lake');

    if (this.gate.count === undefined) {
      this.bucketName = name;
      this.bucketArn = arn;
      this.policyBucketArn = arn;
      this.kmsKeyArn = undefined;
    } else {
      this.bucketName = choose(c.create, name, c.existingBucketName!);
      this.bucketArn = choose(c.create, arn, existingArn);
      this.policyBucketArn = choose(c.create, policyArn, existingArn);
      this.kmsKeyArn = c.existingKmsKeyArn;
    }
  }
}
