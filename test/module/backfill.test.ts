import { describe, expect, it } from 'vitest';
import { loadPipelineConfig } from '../../src/config/pipeline-config.ts';
import { builtModule } from './module-build.ts';
import { synth } from './synth.ts';

/** Backfill, reflatten and redrive wiring: environment, rights, the S3 fan-out and async retries. */
describe('backfill and the other actions', () => {
  it('gives the function what its actions need, in an environment the handler accepts', () => {
    const s = synth({ sortKey: { name: 'sk', type: 'N' } });
    const env = s.one('aws_lambda_function').environment.variables;
    expect(env).toMatchObject({
      TABLE_ARN: expect.stringMatching(/^\$\{aws_dynamodb_table\.[^}]+\.arn\}$/),
      STREAM_ARN: expect.stringMatching(/^\$\{aws_dynamodb_table\.[^}]+\.stream_arn\}$/),
      PARTITION_KEY_TYPE: 'S',
      SORT_KEY_TYPE: 'N',
      EXPORT_PREFIX: 'exports',
      DLQ_URL: expect.stringMatching(/^\$\{aws_sqs_queue\.[^}]+\.url\}$/),
    });
    // With the references resolved as AWS would, the handler's cold-start validation passes.
    const resolved = {
      ...env,
      LAKE_BUCKET: 'orders-lake-1',
      TABLE_ARN: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders',
      STREAM_ARN: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000',
      DLQ_URL: 'https://sqs.eu-west-1.amazonaws.com/123456789012/orders-flatten-dlq',
      GLUE_DATABASE: 'orders',
      GLUE_VIEW: 'current_state',
      GLUE_TABLE: 'flattened',
      GLUE_CHECKPOINTS_TABLE: 'checkpoints',
      ATHENA_WORKGROUP: 'orders-flatten-maintenance',
      CHECKPOINT_PARAMETER: '/ddb-flatten/orders/checkpoint-pointer',
    };
    // Every reference the environment holds is resolved above: nothing of the module's reaches the handler unchecked.
    for (const [k, v] of Object.entries(resolved)) expect(String(v), k).not.toMatch(/\$\{/);
    expect(loadPipelineConfig(resolved).actions).toMatchObject({ exportPrefix: 'exports', sortKeyType: 'N' });
  });

  it('lets S3 invoke only the alias, only from the lake bucket and account, only for export data files', () => {
    const s = synth();
    const permission = s.one('aws_lambda_permission');
    expect(permission).toMatchObject({
      action: 'lambda:InvokeFunction',
      principal: 's3.amazonaws.com',
      qualifier: expect.stringMatching(/^\$\{aws_lambda_alias\.[^}]+\.name\}$/),
      source_arn: expect.stringMatching(/^\$\{aws_s3_bucket\.[^}]+\.arn\}$/),
      source_account: expect.stringMatching(/^\$\{data\.aws_caller_identity\.[^}]+\.account_id\}$/),
    });
    const notification = s.one('aws_s3_bucket_notification');
    expect(notification.lambda_function).toEqual([
      {
        id: 'ddb-flatten-export-files',
        lambda_function_arn: expect.stringMatching(/^\$\{aws_lambda_alias\.[^}]+\.arn\}$/),
        events: ['s3:ObjectCreated:*'],
        filter_prefix: 'exports/',
        filter_suffix: '.gz',
      },
    ]);
    expect(s.output('s3_export_location').value).toMatch(/\/exports\/$/);
  });

  it('retries asynchronous invocations a bounded number of times, then sends them to the DLQ', () => {
    const config = synth().one('aws_lambda_function_event_invoke_config');
    expect(config).toMatchObject({
      qualifier: expect.stringMatching(/^\$\{aws_lambda_alias\.[^}]+\.name\}$/),
      maximum_retry_attempts: 2,
      maximum_event_age_in_seconds: 21600,
      destination_config: { on_failure: { destination: expect.stringMatching(/^\$\{aws_sqs_queue\.[^}]+\.arn\}$/) } },
    });
  });

  it('leaves an existing bucket\'s notification configuration alone unless asked', () => {
    const existing = { create: false, existingBucketName: 'shared-lake' } as const;
    expect(synth({ lake: existing }).all('aws_s3_bucket_notification')).toEqual([]);
    const opted = synth({ lake: existing, backfill: { bucketNotification: true } });
    expect(opted.one('aws_s3_bucket_notification').bucket).toBe('shared-lake');
  });

  it('backfill.enabled = false removes the export rights and the notification', () => {
    const s = synth({ backfill: { enabled: false } });
    expect(s.all('aws_s3_bucket_notification')).toEqual([]);
    expect(s.all('aws_lambda_permission')).toEqual([]);
    // The function keeps its own and its maintenance policy; the backfill one is gone.
    expect(s.all('aws_iam_role_policy').map(([id]) => id).sort()).toEqual(['function', 'maintenance', 'scheduler']);
    expect(JSON.stringify(s.json.data.aws_iam_policy_document)).not.toContain('ExportTableToPointInTime');
  });

  it('uses a custom export prefix everywhere, and refuses one that overlaps the lake', () => {
    const s = synth({ backfill: { exportPrefix: 'backfill/exports' } });
    expect(s.one('aws_s3_bucket_notification').lambda_function[0].filter_prefix).toBe('backfill/exports/');
    expect(s.one('aws_lambda_function').environment.variables.EXPORT_PREFIX).toBe('backfill/exports');
    expect(() => synth({ backfill: { exportPrefix: 'flattened/exports' } })).toThrow(/lake\.dataPrefix "flattened" and backfill\.exportPrefix "flattened\/exports" must not overlap/);
    expect(() => synth({ backfill: { exportPrefix: '/x/' } })).toThrow(/backfill\.exportPrefix: "\/x\/" is not a valid prefix/);
    expect(() => synth({ backfill: { enabled: 'yes' as never } })).toThrow(/backfill\.enabled: "yes" is not allowed: use true or false/);
  });

  it('gates all of it on variables in the Terraform module build', () => {
    const main = builtModule().main;
    const notification = Object.values<Record<string, unknown>>(main.resource.aws_s3_bucket_notification)[0]!;
    expect(String(notification.count)).toMatch(/var\.backfill_enabled/);
    expect(String(notification.count)).toMatch(/var\.create_bucket_notification/);
    const policies = Object.values<Record<string, unknown>>(main.resource.aws_iam_role_policy);
    expect(policies.some((p) => String(p.count).includes('var.backfill_enabled'))).toBe(true);
  });
});
