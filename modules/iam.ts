import { Fn, Op } from './cdk.ts';
import { Construct } from 'constructs';
import { DataAwsIamPolicyDocument, type DataAwsIamPolicyDocumentStatement, IamRole, IamRolePolicy } from './aws.ts';
import { countOf, gate, type Gate, gatedAttr, isToken, presentValues } from './expressions.ts';
import type { ResolvedConfig } from './naming.ts';
import { named } from './addresses.ts';

/**
 * Actions AWS only authorizes on `Resource: "*"` (they have no
 * resource-level permissions), and why the function needs each. The
 * policy test allows a wildcard resource for these and nothing else.
 */
export const WILDCARD_RESOURCE_ACTIONS: Readonly<Record<string, string>> = {
  'dynamodb:ListStreams': 'Lists stream ARNs (no item data); DynamoDB does not scope ListStreams to a table or stream, so it needs "*". Lambda lists streams when it polls.',
  'xray:PutTraceSegments': 'Active tracing: X-Ray has no resource-level permissions, so sending segments needs "*".',
  'xray:PutTelemetryRecords': 'Active tracing: X-Ray has no resource-level permissions, so sending telemetry needs "*".',
};

export interface FunctionRoleInputs {
  readonly tableArn: string;
  readonly streamArn: string;
  readonly bucketArn: string;
  readonly logGroupArn: string;
  readonly dlqArn: string;
  /** Every KMS key the function touches (table or stream, bucket, DLQ, environment); absent ones are dropped. */
  readonly kmsKeyArns: readonly (string | undefined)[];
}

/**
 * The function's execution role, least privilege:
 * read this stream only; put objects only under the data and quarantine
 * prefixes of this bucket; read this table's items by key only (reflatten);
 * send to and receive from this DLQ only (redrive); write only its own log
 * group; use only the given KMS keys; plus the documented wildcard-only
 * actions above. Backfill's rights (export this table into the export
 * prefix, read that prefix) are a separate policy that exists only when
 * backfill is enabled.
 */
export class FunctionRole extends Construct {
  readonly role: IamRole;
  readonly policyDocument: DataAwsIamPolicyDocument;
  readonly policy: IamRolePolicy;
  readonly backfillGate: Gate;
  readonly backfillPolicyDocument?: DataAwsIamPolicyDocument;
  readonly backfillPolicy?: IamRolePolicy;
  maintenancePolicyDocument?: DataAwsIamPolicyDocument;
  maintenancePolicy?: IamRolePolicy;

  constructor(scope: Construct, id: string, config: ResolvedConfig, inputs: FunctionRoleInputs) {
    super(scope, id);
    const assume = named(new DataAwsIamPolicyDocument(this, 'assume-role', {
      statement: [
        {
          sid: 'LambdaAssumeRole',
          effect: 'Allow',
          actions: ['sts:AssumeRole'],
          principals: [{ type: 'Service', identifiers: ['lambda.amazonaws.com'] }],
        },
      ],
    }), 'assume_role');
    this.role = named(new IamRole(this, 'role', {
      name: config.lambda.roleName,
      description: `Execution role of the ddb-flatten stream function of ${config.name}`,
      assumeRolePolicy: assume.json,
      tags: config.tags,
    }), 'function');

    const statements: DataAwsIamPolicyDocumentStatement[] = [
      {
        sid: 'ReadThisStream',
        effect: 'Allow',
        actions: ['dynamodb:DescribeStream', 'dynamodb:GetRecords', 'dynamodb:GetShardIterator'],
        resources: [inputs.streamArn],
      },
      {
        sid: 'ListStreamsHasNoResourceLevelPermissions',
        effect: 'Allow',
        actions: ['dynamodb:ListStreams'],
        resources: ['*'],
      },
      {
        sid: 'WriteLakePrefixesOnly',
        effect: 'Allow',
        // AbortMultipartUpload: a large snapshot file is a multipart upload, aborted if flattening fails.
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [`${inputs.bucketArn}/${config.lake.dataPrefix}/*`, `${inputs.bucketArn}/${config.lake.quarantinePrefix}/*`],
      },
      {
        sid: 'ReflattenReadsItemsByKey',
        effect: 'Allow',
        actions: ['dynamodb:BatchGetItem'],
        resources: [inputs.tableArn],
      },
      {
        sid: 'SendFailuresToAndRedriveFromTheDlq',
        effect: 'Allow',
        actions: ['sqs:SendMessage', 'sqs:ReceiveMessage', 'sqs:DeleteMessage'],
        resources: [inputs.dlqArn],
      },
      {
        sid: 'WriteOwnLogGroupOnly',
        effect: 'Allow',
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        resources: [`${inputs.logGroupArn}:*`],
      },
      {
        sid: 'XRayHasNoResourceLevelPermissions',
        effect: 'Allow',
        actions: ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'],
        resources: ['*'],
      },
    ];
    const keys = presentValues(inputs.kmsKeyArns);
    const kmsStatement = { sid: 'UseOnlyThesePipelineKeys', effect: 'Allow', actions: ['kms:Decrypt', 'kms:GenerateDataKey'], resources: keys };
    const dynamicKeys = isToken(keys);
    if (!dynamicKeys && keys.length > 0) statements.push(kmsStatement);

    this.policyDocument = named(new DataAwsIamPolicyDocument(this, 'policy-document', { statement: statements }), 'function');
    if (dynamicKeys) {
      // Module build: the keys are known only to Terraform; add the statement when there is at least one.
      this.policyDocument.addOverride('dynamic.statement', {
        for_each: Fn.conditional(Op.gte(Fn.lengthOf(keys), 1), ['kms'], []),
        content: kmsStatement,
      });
    }
    this.policy = named(new IamRolePolicy(this, 'policy', {
      name: 'ddb-flatten',
      role: this.role.id,
      policy: this.policyDocument.json,
    }), 'function');

    this.backfillGate = gate(config.backfill.enabled);
    if (this.backfillGate.create) {
      const exportObjects = `${inputs.bucketArn}/${config.backfill.exportPrefix}/*`;
      this.backfillPolicyDocument = named(new DataAwsIamPolicyDocument(this, 'backfill-rights-document', {
        ...countOf(this.backfillGate),
        statement: [
          { sid: 'BackfillExportsThisTable', effect: 'Allow', actions: ['dynamodb:ExportTableToPointInTime'], resources: [inputs.tableArn] },
          { sid: 'BackfillReadsItsExportStatus', effect: 'Allow', actions: ['dynamodb:DescribeExport'], resources: [`${inputs.tableArn}/export/*`] },
          {
            // DynamoDB writes the export with the caller's rights; the function then reads the files and writes markers.
            sid: 'BackfillExportPrefixOnly',
            effect: 'Allow',
            actions: ['s3:PutObject', 's3:AbortMultipartUpload', 's3:GetObject'],
            resources: [exportObjects],
          },
          {
            sid: 'BackfillListsExportPrefixOnly',
            effect: 'Allow',
            actions: ['s3:ListBucket'],
            resources: [inputs.bucketArn],
            condition: [{ test: 'StringLike', variable: 's3:prefix', values: [`${config.backfill.exportPrefix}/*`] }],
          },
        ],
      }), 'backfill');
      this.backfillPolicy = named(new IamRolePolicy(this, 'backfill-rights', {
        ...countOf(this.backfillGate),
        name: 'ddb-flatten-backfill',
        role: this.role.id,
        policy: gatedAttr(this.backfillPolicyDocument, this.backfillGate, 'json', this.backfillPolicyDocument.json),
      }), 'backfill');
    }
  }

  /**
   * The maintenance run's rights (compaction of closed days, checkpoints), run as Athena UNLOAD
   * statements the function starts in the maintenance workgroup. Athena runs a query with its
   * caller's credentials: it reads the catalog and the lake, writes the UNLOAD output and its
   * results (manifest, metadata) with this role's rights, so the role holds those too. Exactly:
   * - start, watch and stop queries in the maintenance workgroup only (not the analysts' one);
   * - read the catalog, this database and its two tables the statements read (flattened rows,
   *   checkpoints); get and move only the current-state view;
   * - list, read, write and delete only under the data and state prefixes (the UNLOAD output and
   *   the objects it replaces), and list, read and write only under the maintenance results prefix;
   *   the bucket's region (Athena checks it before it writes results);
   * - invoke only its own alias (a run hands itself on to a later invocation while a query outlasts
   *   it), read only the DLQ's message counts (a day does not close while failures wait there), move
   *   only the checkpoint pointer;
   * - the data lifecycle (erasure of keys, history retention): list the objects and every object
   *   version under the data, state, quarantine, athena-results and export prefixes; delete noncurrent
   *   versions there; rewrite quarantine records and export files; delete query results. Retention
   *   deletes whole days with the data prefix's s3:DeleteObject above.
   * KMS: the function policy's UseOnlyThesePipelineKeys covers the keys Athena uses on the caller's
   * behalf (the customer key of the results and the bucket, an existing bucket's key).
   * Its own policy, which the function does not wait for (it names the alias, which depends on the
   * function); every ARN is built from names (see stableArns in flattening-pipeline.ts).
   */
  addMaintenanceRights(
    config: ResolvedConfig,
    inputs: {
      bucketArn: string;
      aliasArn: string;
      dlqArn: string;
      catalogArn: string;
      databaseArn: string;
      viewArn: string;
      glueTableArn: string;
      checkpointsTableArn: string;
      maintenanceWorkgroupArn: string;
      pointerParameterArn: string;
    },
  ): void {
    const prefixes = [config.lake.dataPrefix, config.lake.statePrefix];
    const results = config.athena.maintenanceResultsPrefix;
    const lake = config.lake;
    const bucketObjects = (prefix: string): string => `${inputs.bucketArn}/${prefix}/*`;
    // The data lifecycle's erasure works on every prefix that can hold an item's values. The export prefix is
    // not gated on backfill: exports written while backfill was enabled hold whole items, and an erasure lists
    // and cleans the prefix in every run (src/maintenance/erasure.ts).
    const lifecyclePrefixes = [lake.dataPrefix, lake.statePrefix, lake.quarantinePrefix, lake.athenaResultsPrefix, config.backfill.exportPrefix];
    this.maintenancePolicyDocument = named(
      new DataAwsIamPolicyDocument(this, 'maintenance-rights-document', {
        statement: [
          {
            // Its own prefixes, and the UNLOAD results Athena lists and the run reads back (the manifest).
            sid: 'MaintenanceListsItsPrefixesOnly',
            effect: 'Allow',
            actions: ['s3:ListBucket'],
            resources: [inputs.bucketArn],
            condition: [{ test: 'StringLike', variable: 's3:prefix', values: [...prefixes.map((p) => `${p}/*`), `${results}/*`] }],
          },
          {
            // Compaction replaces a day's objects (reads them, writes the compacted ones, then deletes the originals); checkpoints
            // live under the state prefix. Athena reads the inputs and writes the UNLOAD output here with the run's rights.
            sid: 'MaintenanceRewritesItsPrefixesOnly',
            effect: 'Allow',
            actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
            resources: prefixes.map((p) => `${inputs.bucketArn}/${p}/*`),
          },
          {
            // Athena writes each UNLOAD's manifest and metadata to the workgroup's result location, with the caller's rights
            // (https://docs.aws.amazon.com/athena/latest/ug/unload.html, "Metadata and manifest files"); the run reads the manifest back.
            sid: 'MaintenanceQueriesWriteTheirResultsPrefixOnly',
            effect: 'Allow',
            actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload', 's3:ListMultipartUploadParts'],
            resources: [`${inputs.bucketArn}/${results}/*`],
          },
          {
            // Athena checks the result location's bucket (its region) with the caller's rights before it writes there: without
            // s3:GetBucketLocation a query fails with "Unable to verify/create output bucket"
            // (https://repost.aws/knowledge-center/athena-output-bucket-error, whose policy for running queries grants it).
            sid: 'MaintenanceQueriesCheckTheResultsBucket',
            effect: 'Allow',
            actions: ['s3:GetBucketLocation'],
            resources: [inputs.bucketArn],
          },
          {
            sid: 'MaintenanceRunsQueriesInItsWorkgroupOnly',
            effect: 'Allow',
            actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:StopQueryExecution'],
            resources: [inputs.maintenanceWorkgroupArn],
          },
          {
            // Athena resolves the statements' tables in Glue with the caller's rights: the flattened rows and the checkpoints.
            sid: 'MaintenanceQueriesReadTheLakeTables',
            effect: 'Allow',
            actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'],
            resources: [inputs.catalogArn, inputs.databaseArn, inputs.glueTableArn, inputs.checkpointsTableArn],
          },
          { sid: 'MaintenanceMovesTheCurrentStateView', effect: 'Allow', actions: ['glue:GetTable', 'glue:UpdateTable'], resources: [inputs.catalogArn, inputs.databaseArn, inputs.viewArn] },
          { sid: 'MaintenanceMovesTheCheckpointPointer', effect: 'Allow', actions: ['ssm:PutParameter'], resources: [inputs.pointerParameterArn] },
          { sid: 'MaintenanceHandsOnToItsOwnAlias', effect: 'Allow', actions: ['lambda:InvokeFunction'], resources: [inputs.aliasArn] },
          { sid: 'MaintenanceWaitsForTheDlq', effect: 'Allow', actions: ['sqs:GetQueueAttributes'], resources: [inputs.dlqArn] },
          {
            // An erasure finds the objects (quarantine records, export files, query results) and every version of every
            // object under the lake's prefixes: the versioned bucket keeps an overwritten or deleted object as a
            // noncurrent version, and the erasure deletes the ones that can hold an erased key.
            sid: 'ErasureListsObjectsAndVersionsOfItsPrefixes',
            effect: 'Allow',
            actions: ['s3:ListBucket', 's3:ListBucketVersions'],
            resources: [inputs.bucketArn],
            condition: [{ test: 'StringLike', variable: 's3:prefix', values: lifecyclePrefixes.map((p) => `${p}/*`) }],
          },
          {
            // After rewriting an object without an erased key's rows (or deleting it), the old bytes live on as noncurrent
            // versions: the erasure deletes them (DeleteObjects with VersionId), not waiting for the noncurrent-version expiration.
            sid: 'ErasureDeletesOldObjectVersions',
            effect: 'Allow',
            actions: ['s3:DeleteObjectVersion'],
            resources: lifecyclePrefixes.map(bucketObjects),
          },
          {
            // Quarantine records (stream records that could not be flattened) hold whole items: an erasure reads them and
            // deletes or rewrites those of an erased key.
            sid: 'ErasureRewritesQuarantineRecords',
            effect: 'Allow',
            actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
            resources: [bucketObjects(lake.quarantinePrefix)],
          },
          {
            // DynamoDB export files (backfill's point-in-time exports) hold whole items: an erasure deletes or rewrites those
            // that hold an erased key.
            sid: 'ErasureRewritesExportFiles',
            effect: 'Allow',
            actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject', 's3:AbortMultipartUpload'],
            resources: [bucketObjects(config.backfill.exportPrefix)],
          },
          {
            // Athena query results (the analysts' and the maintenance's) can hold an erased key's values: an erasure deletes them.
            sid: 'ErasureDeletesQueryResults',
            effect: 'Allow',
            actions: ['s3:DeleteObject'],
            resources: [bucketObjects(lake.athenaResultsPrefix)],
          },
        ],
      }),
      'maintenance',
    );
    this.maintenancePolicy = named(
      new IamRolePolicy(this, 'maintenance-rights', { name: 'ddb-flatten-maintenance', role: this.role.id, policy: this.maintenancePolicyDocument.json }),
      'maintenance',
      { introduced: '0.3.0' },
    );
  }
}
