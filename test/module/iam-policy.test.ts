import { describe, expect, it } from 'vitest';
import { WILDCARD_RESOURCE_ACTIONS } from '../../modules/iam.ts';
import { builtModule } from './module-build.ts';
import { type Json, KMS, synth } from './synth.ts';

/**
 * Walks every IAM statement the module creates and reports wildcards:
 * no action may contain "*"; Resource "*" only for the actions AWS does not
 * scope (WILDCARD_RESOURCE_ACTIONS, each documented); any other "*" only as
 * the last character after "/" or ":" of a resource that names something
 * (objects under a prefix of this bucket, streams of this log group).
 * Deny statements (the bucket's TLS-only policy) and the role's trust
 * policy are restrictions, not grants, and are skipped.
 */
export function policyViolations(statements: readonly Json[]): string[] {
  const out: string[] = [];
  for (const st of statements) {
    if (st.effect === 'Deny') continue;
    const actions: string[] = st.actions ?? [];
    if (actions.length === 1 && actions[0] === 'sts:AssumeRole') continue;
    const label = st.sid ?? JSON.stringify(actions);
    for (const a of actions) if (a.includes('*')) out.push(`${label}: wildcard action ${a}`);
    const resources: string[] = st.resources ?? [];
    if (resources.length === 0) out.push(`${label}: no resources`);
    for (const raw of resources) {
      // Terraform's splat (one(resource[*].arn), module build) is not an IAM wildcard.
      const r = raw.replaceAll('[*]', '[splat]');
      if (r === '*') {
        for (const a of actions) if (!(a in WILDCARD_RESOURCE_ACTIONS)) out.push(`${label}: Resource "*" for ${a}, which supports resource-level permissions`);
        continue;
      }
      const star = r.indexOf('*');
      if (star === -1) continue;
      const scoped = star === r.length - 1 && /[/:]$/.test(r.slice(0, -1)) && r.length > 2 && /\$\{|arn:/.test(r);
      if (!scoped) out.push(`${label}: wildcard resource ${r}`);
    }
  }
  return out;
}

/** Every statement of every aws_iam_policy_document, including dynamic ones (module build). */
function statementsOf(json: Json): Json[] {
  const docs = Object.values<Json>(json.data?.aws_iam_policy_document ?? {});
  return docs.flatMap((d) => [...(d.statement ?? []), ...(d.dynamic?.statement ? [d.dynamic.statement.content] : [])]);
}

describe('IAM: least privilege', () => {
  it('the walker catches wildcard actions and resources (it can fail)', () => {
    expect(
      policyViolations([
        { sid: 'Bad1', effect: 'Allow', actions: ['s3:*'], resources: ['arn:aws:s3:::b/p/*'] },
        { sid: 'Bad2', effect: 'Allow', actions: ['s3:GetObject'], resources: ['*'] },
        { sid: 'Bad3', effect: 'Allow', actions: ['dynamodb:GetRecords'], resources: ['arn:aws:dynamodb:*:*:table/*'] },
      ]),
    ).toEqual([
      'Bad1: wildcard action s3:*',
      'Bad2: Resource "*" for s3:GetObject, which supports resource-level permissions',
      'Bad3: wildcard resource arn:aws:dynamodb:*:*:table/*',
    ]);
  });

  const cases: [string, () => Json][] = [
    ['default stack', () => synth().json],
    ['stack with keys and existing table and bucket', () =>
      synth({
        kmsKeyArn: KMS,
        table: { create: false, existingTableName: 'orders', existingStreamArn: 'arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/x' },
        lake: { create: false, existingBucketName: 'shared-lake' },
      }).json],
    ['Terraform module build', () => builtModule().main],
  ];
  for (const [what, json] of cases) {
    it(`${what}: no wildcard beyond the documented AWS-required ones`, () => {
      const j = json();
      const statements = statementsOf(j);
      expect(statements.length).toBeGreaterThanOrEqual(8);
      expect(policyViolations(statements)).toEqual([]);
      // No managed policies sneak wildcards in.
      expect(j.resource.aws_iam_role_policy_attachment).toBeUndefined();
    });
  }

  it('grants exactly: this stream, the two lake prefixes, this table by key, this DLQ, this log group, the given keys, and backfill on the export prefix', () => {
    const statements = statementsOf(synth({ kmsKeyArn: KMS }).json).filter((s) => s.sid && s.effect === 'Allow' && !s.principals);
    const bySid = Object.fromEntries(statements.map((s) => [s.sid, s]));
    expect(Object.keys(bySid).sort()).toEqual([
      'BackfillExportPrefixOnly',
      'BackfillExportsThisTable',
      'BackfillListsExportPrefixOnly',
      'BackfillReadsItsExportStatus',
      'ErasureDeletesOldObjectVersions',
      'ErasureDeletesQueryResults',
      'ErasureListsObjectsAndVersionsOfItsPrefixes',
      'ErasureRewritesExportFiles',
      'ErasureRewritesQuarantineRecords',
      'InvokeTheAliasOnly',
      'ListStreamsHasNoResourceLevelPermissions',
      'MaintenanceHandsOnToItsOwnAlias',
      'MaintenanceListsItsPrefixesOnly',
      'MaintenanceMovesTheCheckpointPointer',
      'MaintenanceMovesTheCurrentStateView',
      'MaintenanceQueriesCheckTheResultsBucket',
      'MaintenanceQueriesReadTheLakeTables',
      'MaintenanceQueriesWriteTheirResultsPrefixOnly',
      'MaintenanceRewritesItsPrefixesOnly',
      'MaintenanceRunsQueriesInItsWorkgroupOnly',
      'MaintenanceWaitsForTheDlq',
      'ReadThisStream',
      'ReflattenReadsItemsByKey',
      'SendFailuresToAndRedriveFromTheDlq',
      'UseOnlyThesePipelineKeys',
      'WriteLakePrefixesOnly',
      'WriteOwnLogGroupOnly',
      'XRayHasNoResourceLevelPermissions',
    ]);
    expect(bySid.ReadThisStream.resources).toEqual([expect.stringMatching(/^\$\{aws_dynamodb_table\.[^}]+\.stream_arn\}$/)]);
    expect(bySid.WriteLakePrefixesOnly.actions).toEqual(['s3:PutObject', 's3:AbortMultipartUpload']);
    expect(bySid.WriteLakePrefixesOnly.resources).toEqual([
      expect.stringMatching(/^\$\{aws_s3_bucket\.[^}]+\.arn\}\/flattened\/\*$/),
      expect.stringMatching(/^\$\{aws_s3_bucket\.[^}]+\.arn\}\/quarantine\/\*$/),
    ]);
    expect(bySid.SendFailuresToAndRedriveFromTheDlq.resources).toEqual([expect.stringMatching(/^\$\{aws_sqs_queue\.[^}]+\.arn\}$/)]);
    expect(bySid.SendFailuresToAndRedriveFromTheDlq.actions).toEqual(['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage']);
    // The table's ARN is built from its name, like the ARNs below: a refresh-only plan must still read the
    // documents when the table was deleted outside Terraform (test/e2e/review-drift.test.ts).
    const tableArn = 'arn:${data.aws_partition.current.partition}:dynamodb:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:table/orders';
    expect(bySid.ReflattenReadsItemsByKey).toMatchObject({ actions: ['dynamodb:BatchGetItem'], resources: [tableArn] });
    expect(bySid.BackfillExportsThisTable).toMatchObject({ actions: ['dynamodb:ExportTableToPointInTime'], resources: [tableArn] });
    expect(bySid.BackfillReadsItsExportStatus.resources).toEqual([`${tableArn}/export/*`]);
    expect(bySid.BackfillExportPrefixOnly.resources).toEqual([expect.stringMatching(/^\$\{aws_s3_bucket\.[^}]+\.arn\}\/exports\/\*$/)]);
    expect(bySid.BackfillListsExportPrefixOnly.condition).toEqual([{ test: 'StringLike', variable: 's3:prefix', values: ['exports/*'] }]);
    expect(bySid.WriteOwnLogGroupOnly.resources).toEqual([expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.[^}]+\.arn\}:\*$/)]);
    expect(bySid.UseOnlyThesePipelineKeys.resources).toEqual([KMS]);
    // Maintenance (compaction, checkpoints as Athena UNLOAD statements, which run with the role's rights): the lake and
    // state prefixes, the maintenance results prefix, the maintenance workgroup, the two tables, the view, its own alias,
    // the DLQ's depth. Exact actions and resources (toEqual, not toMatchObject): nothing more may creep in.
    const bucket = /^\$\{aws_s3_bucket\.[^}]+\.arn\}/.source;
    const only = (sid: string) => ({ actions: bySid[sid].actions, resources: bySid[sid].resources });
    expect(only('MaintenanceRewritesItsPrefixesOnly')).toEqual({
      actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
      resources: [expect.stringMatching(new RegExp(`${bucket}/flattened/\\*$`)), expect.stringMatching(new RegExp(`${bucket}/state/\\*$`))],
    });
    expect(bySid.MaintenanceListsItsPrefixesOnly).toMatchObject({ actions: ['s3:ListBucket'], resources: [expect.stringMatching(new RegExp(`${bucket}$`))] });
    expect(bySid.MaintenanceListsItsPrefixesOnly.condition).toEqual([{ test: 'StringLike', variable: 's3:prefix', values: ['flattened/*', 'state/*', 'athena-results/maintenance/*'] }]);
    expect(only('MaintenanceQueriesWriteTheirResultsPrefixOnly')).toEqual({
      actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
      resources: [expect.stringMatching(new RegExp(`${bucket}/athena-results/maintenance/\\*$`))],
    });
    expect(only('MaintenanceQueriesCheckTheResultsBucket')).toEqual({ actions: ['s3:GetBucketLocation'], resources: [expect.stringMatching(new RegExp(`${bucket}$`))] });
    // Built from names, not read from the resources: a policy document naming the alias's or the view's `arn`
    // would be deferred (known after apply) in every plan that publishes a version or changes the schema.
    const here = 'arn:${data.aws_partition.current.partition}:%s:${data.aws_region.current.id}:${data.aws_caller_identity.current.account_id}:';
    const arn = (service: string, resource: string) => here.replace('%s', service) + resource;
    expect(only('MaintenanceMovesTheCurrentStateView')).toEqual({
      actions: ['glue:GetTable', 'glue:UpdateTable'],
      resources: [arn('glue', 'catalog'), arn('glue', 'database/orders'), arn('glue', 'table/orders/current_state')],
    });
    // Athena reads the catalog with the caller's rights: the two tables the statements read, read-only (no UpdateTable there).
    expect(only('MaintenanceQueriesReadTheLakeTables')).toEqual({
      actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'],
      resources: [arn('glue', 'catalog'), arn('glue', 'database/orders'), arn('glue', 'table/orders/flattened'), arn('glue', 'table/orders/checkpoints')],
    });
    const updatable = statements.filter((st) => st.actions.includes('glue:UpdateTable')).flatMap((st) => st.resources);
    expect(updatable.filter((r: string) => r.includes(':table/')), 'UpdateTable on the view only').toEqual([arn('glue', 'table/orders/current_state')]);
    // The maintenance workgroup only: not the analysts' one (orders-flatten), not every workgroup.
    expect(only('MaintenanceRunsQueriesInItsWorkgroupOnly')).toEqual({
      actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'],
      resources: [arn('athena', 'workgroup/orders-flatten-maintenance')],
    });
    expect(only('MaintenanceMovesTheCheckpointPointer')).toEqual({ actions: ['ssm:PutParameter'], resources: [arn('ssm', 'parameter/ddb-flatten/orders/checkpoint-pointer')] });
    for (const sid of ['MaintenanceHandsOnToItsOwnAlias', 'InvokeTheAliasOnly']) {
      expect(only(sid)).toEqual({ actions: ['lambda:InvokeFunction'], resources: [arn('lambda', 'function:orders-flatten:live')] });
    }
    expect(only('MaintenanceWaitsForTheDlq')).toEqual({ actions: ['sqs:GetQueueAttributes'], resources: [expect.stringMatching(/^\$\{aws_sqs_queue\.[^}]+\.arn\}$/)] });
    for (const sid of ['ListStreamsHasNoResourceLevelPermissions', 'XRayHasNoResourceLevelPermissions']) {
      for (const a of bySid[sid].actions) expect(WILDCARD_RESOURCE_ACTIONS[a]).toMatch(/"\*"/);
    }
  });

  describe('the data lifecycle (erasure of keys, history retention): exactly these rights, and no wider', () => {
    const bucket = /^\$\{aws_s3_bucket\.[^}]+\.arn\}/.source;
    const objects = (prefix: string) => expect.stringMatching(new RegExp(`${bucket}/${prefix}/\\*$`));
    const erasure = (json: Json) => {
      const doc = Object.entries<Json>(json.data.aws_iam_policy_document).find(([id]) => id === 'maintenance')![1];
      return Object.fromEntries((doc.statement as Json[]).filter((st) => st.sid.startsWith('Erasure')).map((st) => [st.sid, st]));
    };
    const exact = (st: Json) => ({ actions: st.actions, resources: st.resources, ...(st.condition ? { condition: st.condition } : {}) });
    const rw = ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'];

    it('lists objects and versions under the lake prefixes, deletes noncurrent versions there, rewrites quarantine and export files, deletes query results', () => {
      const bySid = erasure(synth().json);
      expect(Object.keys(bySid).sort()).toEqual([
        'ErasureDeletesOldObjectVersions',
        'ErasureDeletesQueryResults',
        'ErasureListsObjectsAndVersionsOfItsPrefixes',
        'ErasureRewritesExportFiles',
        'ErasureRewritesQuarantineRecords',
      ]);
      expect(exact(bySid.ErasureListsObjectsAndVersionsOfItsPrefixes)).toEqual({
        actions: ['s3:ListBucket', 's3:ListBucketVersions'],
        resources: [expect.stringMatching(new RegExp(`${bucket}$`))],
        condition: [{ test: 'StringLike', variable: 's3:prefix', values: ['flattened/*', 'state/*', 'quarantine/*', 'athena-results/*', 'exports/*'] }],
      });
      expect(exact(bySid.ErasureDeletesOldObjectVersions)).toEqual({
        actions: ['s3:DeleteObjectVersion'],
        resources: [objects('flattened'), objects('state'), objects('quarantine'), objects('athena-results'), objects('exports')],
      });
      expect(exact(bySid.ErasureRewritesQuarantineRecords)).toEqual({ actions: rw, resources: [objects('quarantine')] });
      expect(exact(bySid.ErasureRewritesExportFiles)).toEqual({ actions: rw, resources: [objects('exports')] });
      expect(exact(bySid.ErasureDeletesQueryResults)).toEqual({ actions: ['s3:DeleteObject'], resources: [objects('athena-results')] });
      // Nothing on the bucket's other prefixes, nor the whole bucket.
      for (const st of Object.values<Json>(bySid)) for (const r of st.resources as string[]) expect(r, st.sid as string).not.toMatch(new RegExp(`${bucket}/\\*$`));
    });

    it('follows the configured prefixes; the export prefix stays without backfill (exports written before hold whole items)', () => {
      const bySid = erasure(
        synth({ lake: { dataPrefix: 'rows', statePrefix: 'meta', quarantinePrefix: 'bad', athenaResultsPrefix: 'results/athena' }, backfill: { enabled: false, exportPrefix: 'dumps' } }).json,
      );
      expect(bySid.ErasureListsObjectsAndVersionsOfItsPrefixes.condition[0].values).toEqual(['rows/*', 'meta/*', 'bad/*', 'results/athena/*', 'dumps/*']);
      expect(bySid.ErasureDeletesOldObjectVersions.resources).toEqual([objects('rows'), objects('meta'), objects('bad'), objects('results/athena'), objects('dumps')]);
      expect(bySid.ErasureRewritesQuarantineRecords.resources).toEqual([objects('bad')]);
      expect(bySid.ErasureRewritesExportFiles.resources).toEqual([objects('dumps')]);
      expect(bySid.ErasureDeletesQueryResults.resources).toEqual([objects('results/athena')]);
    });

    it('in the module build: the same statements over the prefix variables', () => {
      const doc = builtModule().main.data.aws_iam_policy_document.maintenance;
      const bySid = Object.fromEntries((doc.statement as Json[]).filter((st) => st.sid.startsWith('Erasure')).map((st) => [st.sid, st]));
      const arn = '${var.create_bucket ? local.lake_bucket_arn_for_policies : "arn:${data.aws_partition.current.partition}:s3:::${var.existing_bucket_name}"}';
      // The created bucket's ARN, or (only while a refresh finds the bucket deleted outside Terraform) one that
      // names no bucket the module made: bucket_name, or the bare prefix, which no bucket name can be.
      expect(builtModule().main.locals.lake_bucket_arn_for_policies).toBe(
        '${coalesce(one(aws_s3_bucket.lake[*].arn), "arn:${data.aws_partition.current.partition}:s3:::${coalesce(var.bucket_name, "${var.name}-lake-")}")}',
      );
      const vars = ['lake_prefix', 'state_prefix', 'quarantine_prefix', 'athena_results_prefix', 'export_prefix'];
      expect(exact(bySid.ErasureListsObjectsAndVersionsOfItsPrefixes)).toEqual({
        actions: ['s3:ListBucket', 's3:ListBucketVersions'],
        resources: [arn],
        condition: [{ test: 'StringLike', variable: 's3:prefix', values: vars.map((v) => `\${var.${v}}/*`) }],
      });
      expect(exact(bySid.ErasureDeletesOldObjectVersions)).toEqual({ actions: ['s3:DeleteObjectVersion'], resources: vars.map((v) => `${arn}/\${var.${v}}/*`) });
      expect(exact(bySid.ErasureRewritesQuarantineRecords)).toEqual({ actions: rw, resources: [`${arn}/\${var.quarantine_prefix}/*`] });
      expect(exact(bySid.ErasureRewritesExportFiles)).toEqual({ actions: rw, resources: [`${arn}/\${var.export_prefix}/*`] });
      expect(exact(bySid.ErasureDeletesQueryResults)).toEqual({ actions: ['s3:DeleteObject'], resources: [`${arn}/\${var.athena_results_prefix}/*`] });
    });

    it('a widened erasure statement fails: a wildcard action or Resource "*" fails the walk, another resource the exact checks', () => {
      const bySid = erasure(synth().json);
      expect(policyViolations([{ ...bySid.ErasureDeletesOldObjectVersions, actions: ['s3:Delete*'] }])).toEqual(['ErasureDeletesOldObjectVersions: wildcard action s3:Delete*']);
      expect(policyViolations([{ ...bySid.ErasureDeletesQueryResults, resources: ['*'] }])).toEqual(['ErasureDeletesQueryResults: Resource "*" for s3:DeleteObject, which supports resource-level permissions']);
      const wholeBucket = { ...bySid.ErasureDeletesOldObjectVersions, resources: [`${bySid.ErasureListsObjectsAndVersionsOfItsPrefixes.resources[0]}/*`] };
      expect(exact(wholeBucket)).not.toEqual(exact(bySid.ErasureDeletesOldObjectVersions));
    });
  });
});
