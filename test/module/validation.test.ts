import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/validate.ts';
import type { FlatteningPipelineProps } from '../../modules/props.ts';
import { DEFAULTS } from '../../modules/props.ts';
import { propsProblems, RULES } from '../../modules/validation.ts';
import { MAINTENANCE_LIMITS, REBUILD_SHARE } from '../../src/config/pipeline-config.ts';
import { BASE_PROPS, synth } from './synth.ts';

const problems = (overrides: Record<string, unknown>): string[] => propsProblems({ ...BASE_PROPS, ...overrides } as FlatteningPipelineProps);

describe('props are validated at synth time, naming the prop and what is allowed', () => {
  it('accepts the base props', () => {
    expect(propsProblems(BASE_PROPS)).toEqual([]);
  });
  it('throws a ConfigError from the construct listing every problem', () => {
    let error: unknown;
    try {
      synth({ name: 'Bad_Name', logs: { retentionInDays: 42 } });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems).toHaveLength(2);
    expect((error as Error).message).toMatch(/name: "Bad_Name" is not allowed: use 3 to 28 characters of a-z/);
    expect((error as Error).message).toMatch(/logs\.retentionInDays: 42 is not allowed: use one of 1, 3, 5, 7, 14, 30/);
  });

  const cases: [string, Record<string, unknown>, RegExp][] = [
    ['name too short', { name: 'ab' }, /^name: "ab" is not allowed/],
    ['name with --', { name: 'a--b' }, /^name: "a--b" is not allowed: no two consecutive "-"/],
    ['missing name', { name: undefined }, /^name: required/],
    ['unknown key type', { partitionKey: { name: 'pk', type: 'X' } }, /^partitionKey\.type: "X" is not allowed: use one of S, N, B/],
    ['sort key equal to partition key', { sortKey: { name: 'pk' } }, /^sortKey\.name: must differ from partitionKey\.name/],
    ['no explode attributes', { explodeAttributes: [] }, /^explodeAttributes: must list at least one/],
    ['explode a key', { explodeAttributes: ['pk'] }, /^explodeAttributes: "pk" is a key attribute/],
    ['carried name clashes with a column', { carryAttributes: ['value'] }, /^carryAttributes: "value" is not a valid carried attribute: it clashes/],
    ['carried name the view SQL uses internally', { carryAttributes: ['version_rank'] }, /^carryAttributes: "version_rank" is not a valid carried attribute: it clashes with the column or view name "version_rank"/],
    ['carried name of the checkpoints table partition', { carryAttributes: ['checkpoint'] }, /^carryAttributes: "checkpoint" is not a valid carried attribute: it clashes with the column or view name "checkpoint"/],
    ['carried name a view column takes', { carryAttributes: ['value_number'] }, /^carryAttributes: "value_number" is not a valid carried attribute/],
    ['element view of an attribute not exploded', { elementViews: { lines: ['sku'] } }, /^elementViews\.lines: "lines" is not an exploded attribute \(explodeAttributes: items\)/],
    ['element view with no keys', { elementViews: { items: [] } }, /^elementViews\.items: list at least one key path/],
    ['element key starting with a digit', { elementViews: { items: ['1st'] } }, /^elementViews\.items: key "1st" gives the column name "1st", which must match/],
    ['element keys that derive the same column', { elementViews: { items: ['a.b', 'a_b'] } }, /^elementViews\.items: key "a_b" gives the column "a_b", which clashes with the column of key "a\.b"/],
    ['element key clashing with a fixed column', { elementViews: { items: ['pk'] } }, /^elementViews\.items: key "pk" gives the column "pk", which clashes with the view column "pk"/],
    ['element key whose number column clashes', { elementViews: { items: ['qty', 'qty_number'] } }, /^elementViews\.items: key "qty_number" gives the column "qty_number", which clashes with the column of key "qty"/],
    ['element key clashing with a carried attribute', { carryAttributes: ['status'], elementViews: { items: ['status'] } }, /^elementViews\.items: key "status" gives the column "status", which clashes with the carried attribute "status"/],
    ['element view named like the table', { glue: { tableName: 'items_elements' }, elementViews: { items: ['sku'] } }, /^elementViews\.items: the view name "items_elements" is already the name of a table or view/],
    ['two attributes deriving one view name', { explodeAttributes: ['a.b', 'a_b'], elementViews: { 'a.b': ['x'], a_b: ['x'] } }, /^elementViews\.a_b: the view name "a_b_elements" is also derived from "a\.b"/],
    ['carried name with capitals', { carryAttributes: ['Status'] }, /^carryAttributes: "Status" is not a valid carried attribute/],
    ['bad KMS ARN', { kmsKeyArn: 'alias/mine' }, /^kmsKeyArn: "alias\/mine" is not allowed: use a KMS key ARN/],
    ['existing table without stream', { table: { create: false, existingTableName: 'orders' } }, /^table\.existingStreamArn: required when table\.create is false/],
    ['existing table props with create', { table: { existingTableName: 'orders' } }, /^table\.existingTableName: only applies with table\.create = false/],
    ['bad stream ARN', { table: { create: false, existingTableName: 'orders', existingStreamArn: 'arn:nope' } }, /^table\.existingStreamArn: "arn:nope" is not allowed/],
    ['existing bucket missing', { lake: { create: false } }, /^lake\.existingBucketName: required when lake\.create is false/],
    ['bad bucket name', { lake: { name: 'Bad_Bucket' } }, /^lake\.name: "Bad_Bucket" is not a valid S3 bucket name/],
    ['bad prefix', { lake: { dataPrefix: '/rows/' } }, /^lake\.dataPrefix: "\/rows\/" is not a valid prefix/],
    ['overlapping prefixes', { lake: { dataPrefix: 'data', quarantinePrefix: 'data/bad' } }, /^lake\.dataPrefix "data" and lake\.quarantinePrefix "data\/bad" must not overlap/],
    ['zero expiration days', { lake: { athenaResultsExpirationDays: 0 } }, /^lake\.athenaResultsExpirationDays: 0 is not allowed: use an integer from 1 to 36500/],
    ['glue name with dashes', { glue: { databaseName: 'my-db' } }, /^glue\.databaseName: "my-db" is not allowed: use 1 to 255 characters of a-z, 0-9 and _/],
    ['view named like the table', { glue: { viewName: 'flattened' } }, /^glue\.viewName: must differ from glue\.tableName/],
    ['impossible projection date', { glue: { projectionStartDate: '2024-02-30' } }, /^glue\.projectionStartDate: "2024-02-30" is not a calendar date/],
    ['cutoff under Athena minimum', { athena: { bytesScannedCutoffPerQuery: 1000 } }, /^athena\.bytesScannedCutoffPerQuery: 1000 is not allowed: use an integer from 10485760/],
    ['maintenance cutoff under Athena minimum', { athena: { maintenanceBytesScannedCutoffPerQuery: 10485759 } }, /^athena\.maintenanceBytesScannedCutoffPerQuery: 10485759 is not allowed: use an integer from 10485760/],
    ['maintenance cutoff not a whole number', { athena: { maintenanceBytesScannedCutoffPerQuery: 1e10 + 0.5 } }, /^athena\.maintenanceBytesScannedCutoffPerQuery: 10000000000\.5 is not allowed/],
    ['workgroup name leaving no room for -maintenance', { athena: { name: 'w'.repeat(117) } }, /^athena\.name: "w{117}" is not allowed: use 1 to 116 characters of A-Z a-z 0-9 \. _ - \(the maintenance workgroup appends -maintenance/],
    ['rebuild share below 0', { compaction: { checkpointRebuildShare: -0.1 } }, /^compaction\.checkpointRebuildShare: -0\.1 is not allowed: use a number from 0 to 4$/],
    ['rebuild share above 4', { compaction: { checkpointRebuildShare: 4.5 } }, /^compaction\.checkpointRebuildShare: 4\.5 is not allowed: use a number from 0 to 4$/],
    ['rebuild share not a number', { compaction: { checkpointRebuildShare: '0.25' } }, /^compaction\.checkpointRebuildShare: "0\.25" is not allowed: use a number from 0 to 4$/],
    ['checkpoint max age 0', { compaction: { checkpointMaxAgeDays: 0 } }, /^compaction\.checkpointMaxAgeDays: 0 is not allowed: use an integer from 1 to 3650$/],
    ['checkpoint max age not whole', { compaction: { checkpointMaxAgeDays: 1.5 } }, /^compaction\.checkpointMaxAgeDays: 1\.5 is not allowed: use an integer from 1 to 3650$/],
    ['deprecated task size still validated as in 0.3.0', { compaction: { maxTaskBytes: 1000 } }, /^compaction\.maxTaskBytes: 1000 is not allowed: use an integer from 1048576 to 107374182400$/],
    ['memory too small', { lambda: { memorySize: 64 } }, /^lambda\.memorySize: 64 is not allowed: use an integer from 128 to 10240/],
    ['timeout too long', { lambda: { timeout: 901 } }, /^lambda\.timeout: 901 is not allowed: use an integer from 1 to 900/],
    ['unknown log level', { lambda: { logLevel: 'LOUD' } }, /^lambda\.logLevel: "LOUD" is not allowed: use one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL/],
    ['canary weight above 1', { alias: { pinnedVersion: '1', canary: { weight: 1.5 } } }, /^alias\.canary\.weight: 1\.5 is not allowed: use a number from 0 to 1/],
    ['canary weight below 0', { alias: { pinnedVersion: '1', canary: { weight: -0.1 } } }, /^alias\.canary\.weight: -0\.1 is not allowed/],
    ['canary without a pin', { alias: { canary: { weight: 0.1 } } }, /^alias\.canary: needs alias\.pinnedVersion/],
    ['canary on the pinned version', { alias: { pinnedVersion: '2', canary: { weight: 0.1, version: '2' } } }, /^alias\.canary\.version: must differ from alias\.pinnedVersion/],
    ['pinned version not a number', { alias: { pinnedVersion: '$LATEST' } }, /^alias\.pinnedVersion: "\$LATEST" is not allowed: use a published version number/],
    ['alias name all digits', { alias: { name: '123' } }, /^alias\.name: "123" is not allowed/],
    ['unbounded retries', { eventSourceMapping: { maximumRetryAttempts: -1 } }, /^eventSourceMapping\.maximumRetryAttempts: -1 is not allowed: use an integer from 0 to 10000/],
    ['unbounded record age', { eventSourceMapping: { maximumRecordAgeInSeconds: -1 } }, /^eventSourceMapping\.maximumRecordAgeInSeconds: -1 is not allowed: use an integer from 60 to 604800/],
    ['batch too big', { eventSourceMapping: { batchSize: 10001 } }, /^eventSourceMapping\.batchSize: 10001 is not allowed/],
    ['window too long', { eventSourceMapping: { maximumBatchingWindowInSeconds: 301 } }, /^eventSourceMapping\.maximumBatchingWindowInSeconds: 301 is not allowed/],
    ['parallelization too high', { eventSourceMapping: { parallelizationFactor: 11 } }, /^eventSourceMapping\.parallelizationFactor: 11 is not allowed/],
    ['enabled not a boolean', { eventSourceMapping: { enabled: 'yes' } }, /^eventSourceMapping\.enabled: "yes" is not allowed: use true or false/],
    ['DLQ retention too short', { deadLetterQueue: { messageRetentionSeconds: 30 } }, /^deadLetterQueue\.messageRetentionSeconds: 30 is not allowed/],
    ['retention CloudWatch refuses', { logs: { retentionInDays: 10 } }, /^logs\.retentionInDays: 10 is not allowed: use one of 1, 3, 5, 7, 14, 30, 60/],
    ['bad SNS ARN', { alarms: { snsTopicArn: 'topic' } }, /^alarms\.snsTopicArn: "topic" is not allowed: use an SNS topic ARN/],
    ['tag key reserved by AWS', { tags: { 'aws:x': 'y' } }, /^tags: key "aws:x" is not allowed/],
    ['TTL on the partition key', { table: { ttlAttribute: 'pk' } }, /^table\.ttlAttribute: "pk" is a key attribute; Time to Live needs an attribute of its own/],
    ['TTL on the sort key', { sortKey: { name: 'sk' }, table: { ttlAttribute: 'sk' } }, /^table\.ttlAttribute: "sk" is a key attribute/],
    ['TTL attribute with a comma', { table: { ttlAttribute: 'a,b' } }, /^table\.ttlAttribute: /],
    ['TTL attribute empty', { table: { ttlAttribute: '' } }, /^table\.ttlAttribute: /],
    [
      'TTL on your own table',
      { table: { create: false, existingTableName: 'orders', existingStreamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/x', ttlAttribute: 'expires_at' } },
      /^table\.ttlAttribute: only applies when the module creates the table \(table\.create is false\): turn Time to Live on on your own table/,
    ],
    ['history retention 0', { compaction: { historyRetentionDays: 0 } }, /^compaction\.historyRetentionDays: 0 is not allowed: use an integer from 1 to 36500$/],
    ['history retention over 100 years', { compaction: { historyRetentionDays: 36501 } }, /^compaction\.historyRetentionDays: 36501 is not allowed: use an integer from 1 to 36500$/],
    ['history retention not whole', { compaction: { historyRetentionDays: 30.5 } }, /^compaction\.historyRetentionDays: 30\.5 is not allowed/],
    ['expired-items view named like the table', { glue: { expiredItemsViewName: 'flattened' } }, /^glue\.expiredItemsViewName: "flattened" must differ from glue\.tableName, glue\.viewName and glue\.checkpointsTableName/],
    ['expired-items view named like the current-state view', { glue: { expiredItemsViewName: 'current_state' } }, /^glue\.expiredItemsViewName: "current_state" must differ/],
    ['expired-items view name with dashes', { glue: { expiredItemsViewName: 'expired-items' } }, /^glue\.expiredItemsViewName: "expired-items" is not allowed: use 1 to 255 characters of a-z, 0-9 and _/],
    ['element view named like the expired-items view', { glue: { expiredItemsViewName: 'items_elements' }, elementViews: { items: ['sku'] } }, /^elementViews\.items: the view name "items_elements" is already the name of a table or view/],
  ];
  it('accepts the data lifecycle inputs at their edges', () => {
    expect(problems({ table: { ttlAttribute: 'expires_at' }, compaction: { historyRetentionDays: 1 } })).toEqual([]);
    expect(problems({ compaction: { historyRetentionDays: 36500 }, glue: { expiredItemsViewName: 'ttl_archive' } })).toEqual([]);
    expect(RULES.historyRetentionDays).toEqual({ min: MAINTENANCE_LIMITS.historyRetentionDays.min, max: MAINTENANCE_LIMITS.historyRetentionDays.max });
  });
  it('accepts the edges: share 0 and 4, max age 1 and 3650, the minimum cutoff, a 116-character workgroup name', () => {
    expect(problems({ compaction: { checkpointRebuildShare: 0, checkpointMaxAgeDays: 1 } })).toEqual([]);
    expect(problems({ compaction: { checkpointRebuildShare: 4, checkpointMaxAgeDays: 3650, maxTaskBytes: 268435456 } })).toEqual([]);
    expect(problems({ athena: { name: 'w'.repeat(116), maintenanceBytesScannedCutoffPerQuery: 10485760 } })).toEqual([]);
  });
  it('the module accepts exactly what the handler accepts from its environment (the same ranges)', () => {
    expect(RULES.checkpointRebuildShare).toEqual({ min: REBUILD_SHARE.min, max: REBUILD_SHARE.max });
    expect(DEFAULTS.compaction.checkpointRebuildShare).toBe(REBUILD_SHARE.fallback);
    const L = MAINTENANCE_LIMITS;
    for (const [rule, limit, fallback] of [
      [RULES.checkpointMaxAgeDays, L.maxAgeDays, DEFAULTS.compaction.checkpointMaxAgeDays],
      [RULES.checkpointRetention, L.retention, DEFAULTS.compaction.checkpointRetention],
      [RULES.lookbackDays, L.lookbackDays, DEFAULTS.compaction.lookbackDays],
      [RULES.targetBytes, L.targetBytes, DEFAULTS.compaction.targetBytes],
      [RULES.marginSeconds, L.marginSeconds, DEFAULTS.compaction.marginSeconds],
    ] as const) {
      expect(rule).toEqual({ min: limit.min, max: limit.max });
      expect(fallback).toBe(limit.fallback);
    }
  });
  for (const [what, overrides, message] of cases) {
    it(`refuses ${what}`, () => {
      const found = problems(overrides);
      expect(found.some((p) => message.test(p)), `problems were:\n${found.join('\n')}`).toBe(true);
    });
  }
});
