import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT, loadPipelineConfig } from '../src/config/pipeline-config.ts';

const good = { LAKE_BUCKET: 'my-lake', EXPLODE_ATTRIBUTES: 'items', PARTITION_KEY: 'pk' };

describe('handler environment is validated with errors that name the variable and what is allowed', () => {
  it('accepts a minimal environment and applies defaults', () => {
    expect(loadPipelineConfig(good)).toEqual({
      flatten: { attributes: ['items'], partitionKey: 'pk', sortKey: undefined, carry: [] },
      bucket: 'my-lake',
      dataPrefix: 'flattened',
      quarantinePrefix: 'quarantine',
      actions: { tableArn: undefined, streamArn: undefined, partitionKeyType: 'S', sortKeyType: 'S', exportPrefix: 'exports', dlqUrl: undefined },
      maintenance: {
        statePrefix: 'state',
        glueDatabase: undefined,
        glueView: undefined,
        maximumRecordAgeSeconds: 21_600,
        marginSeconds: 3_600,
        lookbackDays: 14,
        targetBytes: 134_217_728,
        retention: 3,
        rebuildShare: 0.25,
        maxAgeDays: 30,
      },
    });
  });

  const rejections: [Record<string, string | undefined>, RegExp][] = [
    [{ LAKE_BUCKET: undefined }, /LAKE_BUCKET is required: S3 bucket of the lake/],
    [{ LAKE_BUCKET: 'My_Bucket' }, /LAKE_BUCKET: "My_Bucket" is not a valid S3 bucket name: 3-63 characters/],
    [{ LAKE_PREFIX: '/abs/' }, /LAKE_PREFIX: "\/abs\/" is not a valid prefix/],
    [{ LAKE_PREFIX: 'a/../b' }, /LAKE_PREFIX: "a\/..\/b" is not a valid prefix/],
    [{ QUARANTINE_PREFIX: 'q//x' }, /QUARANTINE_PREFIX: "q\/\/x" is not a valid prefix/],
    [{ LAKE_PREFIX: 'lake', QUARANTINE_PREFIX: 'lake/bad' }, /must not overlap/],
    [{ EXPLODE_ATTRIBUTES: '' }, /EXPLODE_ATTRIBUTES is required/],
    [{ EXPLODE_ATTRIBUTES: 'items,items' }, /EXPLODE_ATTRIBUTES: EXPLODE_ATTRIBUTES lists "items" twice/],
    [{ EXPLODE_ATTRIBUTES: 'pk' }, /"pk" is a key attribute/],
    [{ PARTITION_KEY: undefined }, /PARTITION_KEY is required/],
    [{ SORT_KEY: 'pk' }, /SORT_KEY must differ from PARTITION_KEY/],
    [{ CARRY_ATTRIBUTES: 'CustomerId' }, /CARRY_ATTRIBUTES: "CustomerId" is not a valid carried attribute: use lowercase letters/],
    [{ CARRY_ATTRIBUTES: 'value' }, /CARRY_ATTRIBUTES: "value" is not a valid carried attribute: it clashes with the column or view name "value"/],
    [{ TABLE_ARN: 'orders' }, /TABLE_ARN: "orders" is not a DynamoDB table ARN/],
    [{ STREAM_ARN: 'arn:aws:dynamodb:us-east-1:123456789012:table/orders' }, /STREAM_ARN: .* is not a DynamoDB stream ARN/],
    [{ PARTITION_KEY_TYPE: 'SS' }, /PARTITION_KEY_TYPE: "SS" is not a key type; allowed: S, N, B/],
    [{ SORT_KEY_TYPE: 'X' }, /SORT_KEY_TYPE: "X" is not a key type; allowed: S, N, B/],
    [{ EXPORT_PREFIX: 'flattened/exports' }, /EXPORT_PREFIX "flattened\/exports" must not overlap LAKE_PREFIX "flattened"/],
    [{ EXPORT_PREFIX: '../x' }, /EXPORT_PREFIX: "..\/x" is not a valid prefix/],
    [{ DLQ_URL: 'sqs://queue' }, /DLQ_URL: "sqs:\/\/queue" is not an SQS queue URL/],
    [{ STATE_PREFIX: 'flattened/state' }, /STATE_PREFIX "flattened\/state" must not overlap LAKE_PREFIX "flattened"/],
    [{ GLUE_DATABASE: 'My-Db' }, /GLUE_DATABASE: "My-Db" is not a Glue name/],
    [{ GLUE_VIEW: 'current state' }, /GLUE_VIEW: "current state" is not a Glue name/],
    [{ CHECKPOINT_PARAMETER: 'orders' }, /CHECKPOINT_PARAMETER: "orders" is not an SSM parameter name/],
    [{ MAXIMUM_RECORD_AGE_SECONDS: '-1' }, /MAXIMUM_RECORD_AGE_SECONDS: "-1" is not allowed: use an integer from 60 to 604800/],
    [{ COMPACTION_MARGIN_SECONDS: '1.5' }, /COMPACTION_MARGIN_SECONDS: "1.5" is not allowed: use an integer from 0 to 86400/],
    [{ COMPACTION_LOOKBACK_DAYS: '0' }, /COMPACTION_LOOKBACK_DAYS: "0" is not allowed/],
    [{ COMPACTION_TARGET_BYTES: '1000' }, /COMPACTION_TARGET_BYTES: "1000" is not allowed: use an integer from 1048576/],
    [{ GLUE_TABLE: 'My-T' }, /GLUE_TABLE: "My-T" is not a Glue name/],
    [{ GLUE_CHECKPOINTS_TABLE: 'a b' }, /GLUE_CHECKPOINTS_TABLE: "a b" is not a Glue name/],
    [{ ATHENA_WORKGROUP: 'a b' }, /ATHENA_WORKGROUP: "a b" is not an Athena workgroup name \(1 to 128 of a-z A-Z 0-9 . _ -\)/],
    [{ ATHENA_RESULTS_PREFIX: '/x/' }, /ATHENA_RESULTS_PREFIX: "\/x\/" is not a valid prefix/],
    [{ CHECKPOINT_REBUILD_SHARE: '5' }, /CHECKPOINT_REBUILD_SHARE: "5" is not allowed: use a number from 0 to 4/],
    [{ CHECKPOINT_MAX_AGE_DAYS: '0' }, /CHECKPOINT_MAX_AGE_DAYS: "0" is not allowed: use an integer from 1 to 3650/],
    [{ HISTORY_RETENTION_DAYS: '0' }, /HISTORY_RETENTION_DAYS: "0" is not allowed: use an integer from 1 to 36500/],
    [{ CHECKPOINT_RETENTION: '1' }, /CHECKPOINT_RETENTION: "1" is not allowed: use an integer from 2 to 100/],
  ];
  it.each(rejections)('rejects %o', (override, message) => {
    expect(() => loadPipelineConfig({ ...good, ...override })).toThrow(message);
  });

  it('has a rejection case for every variable the handler reads', () => {
    const covered = new Set(rejections.flatMap(([override]) => Object.keys(override)));
    expect([...Object.keys(ENVIRONMENT)].filter((name) => !covered.has(name))).toEqual([]);
  });

  it('lists every problem at once', () => {
    expect(() => loadPipelineConfig({})).toThrow(/LAKE_BUCKET is required[\s\S]*EXPLODE_ATTRIBUTES is required[\s\S]*PARTITION_KEY is required/);
  });

  it('fails the Lambda cold start with that message', () => {
    const run = spawnSync(process.execPath, ['-e', "import('./handlers/index.ts')"], {
      env: { PATH: process.env.PATH, LAKE_BUCKET: 'x', EXPLODE_ATTRIBUTES: 'items' },
      encoding: 'utf8',
    });
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/invalid environment:[\s\S]*LAKE_BUCKET: "x" is not a valid S3 bucket name[\s\S]*PARTITION_KEY is required/);
  });
});
