/**
 * The AWS provider bindings seam: every class of @cdktf/provider-aws (or
 * @cdktn/provider-aws, for the cdktn flavour) the construct and the stacks
 * use, from its deep path. Deep paths on purpose: the package root loads
 * every binding (about 6 s per synth). scripts/build-flavours.ts rewrites
 * only the package name in these specifiers for the cdktn flavour; keep
 * this file to re-exports.
 */
export { AthenaNamedQuery } from '@cdktf/provider-aws/lib/athena-named-query/index.js';
export { AthenaWorkgroup } from '@cdktf/provider-aws/lib/athena-workgroup/index.js';
export { CloudwatchLogGroup } from '@cdktf/provider-aws/lib/cloudwatch-log-group/index.js';
export { CloudwatchMetricAlarm } from '@cdktf/provider-aws/lib/cloudwatch-metric-alarm/index.js';
export { DataAwsCallerIdentity } from '@cdktf/provider-aws/lib/data-aws-caller-identity/index.js';
export { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement } from '@cdktf/provider-aws/lib/data-aws-iam-policy-document/index.js';
export { DataAwsPartition } from '@cdktf/provider-aws/lib/data-aws-partition/index.js';
export { DataAwsRegion } from '@cdktf/provider-aws/lib/data-aws-region/index.js';
export { DataAwsSsmParametersByPath } from '@cdktf/provider-aws/lib/data-aws-ssm-parameters-by-path/index.js';
export { DynamodbTable } from '@cdktf/provider-aws/lib/dynamodb-table/index.js';
export { GlueCatalogDatabase } from '@cdktf/provider-aws/lib/glue-catalog-database/index.js';
export { GlueCatalogTable, type GlueCatalogTableConfig } from '@cdktf/provider-aws/lib/glue-catalog-table/index.js';
export { IamRole } from '@cdktf/provider-aws/lib/iam-role/index.js';
export { IamRolePolicy } from '@cdktf/provider-aws/lib/iam-role-policy/index.js';
export { LambdaAlias } from '@cdktf/provider-aws/lib/lambda-alias/index.js';
export { LambdaEventSourceMapping } from '@cdktf/provider-aws/lib/lambda-event-source-mapping/index.js';
export { LambdaFunction } from '@cdktf/provider-aws/lib/lambda-function/index.js';
export { LambdaFunctionEventInvokeConfig } from '@cdktf/provider-aws/lib/lambda-function-event-invoke-config/index.js';
export { LambdaPermission } from '@cdktf/provider-aws/lib/lambda-permission/index.js';
export { AwsProvider, type AwsProviderConfig } from '@cdktf/provider-aws/lib/provider/index.js';
export { S3Bucket } from '@cdktf/provider-aws/lib/s3-bucket/index.js';
export { S3BucketLifecycleConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration/index.js';
export { S3BucketNotification } from '@cdktf/provider-aws/lib/s3-bucket-notification/index.js';
export { S3BucketOwnershipControls } from '@cdktf/provider-aws/lib/s3-bucket-ownership-controls/index.js';
export { S3BucketPolicy } from '@cdktf/provider-aws/lib/s3-bucket-policy/index.js';
export { S3BucketPublicAccessBlock } from '@cdktf/provider-aws/lib/s3-bucket-public-access-block/index.js';
// The bindings call these two with an A suffix (their plain names are taken by the aws_s3_bucket block structs).
export { S3BucketServerSideEncryptionConfigurationA as S3BucketServerSideEncryptionConfiguration } from '@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration/index.js';
export { S3BucketVersioningA as S3BucketVersioning } from '@cdktf/provider-aws/lib/s3-bucket-versioning/index.js';
export { SchedulerSchedule } from '@cdktf/provider-aws/lib/scheduler-schedule/index.js';
export { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue/index.js';
export { SsmParameter } from '@cdktf/provider-aws/lib/ssm-parameter/index.js';
