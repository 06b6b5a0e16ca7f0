import { Annotations, Fn, ref, TerraformOutput, TerraformStack } from './cdk.ts';
import { Construct } from 'constructs';
import { DataAwsCallerIdentity, DataAwsPartition, DataAwsRegion } from './aws.ts';
import { PipelineAlarms } from './alarms.ts';
import { AthenaWorkgroupConstruct } from './athena-workgroup.ts';
import { BackfillNotification } from './backfill-notification.ts';
import { DeadLetterQueue } from './dead-letter-queue.ts';
import { GlueCatalog } from './glue-catalog.ts';
import { FunctionRole } from './iam.ts';
import { LakeBucket } from './lake-bucket.ts';
import { MaintenanceSchedule } from './maintenance-schedule.ts';
import { FunctionLogGroup } from './log-group.ts';
import { type ResolvedConfig, resolveConfig } from './naming.ts';
import type { FlatteningPipelineProps } from './props.ts';
import { SourceTable } from './source-table.ts';
import { StreamFunction } from './stream-function.ts';
import { validateProps } from './validation.ts';
import { AddressBook, named } from './addresses.ts';
import { arnIn, type AwsLocation } from './arns.ts';
import { assertSameCore } from './core.ts';

/**
 * The whole flattening pipeline in one construct: the source table (or an
 * existing one), the lake bucket (or an existing one), the Glue catalog
 * with the current-state view, the Athena workgroup with named queries,
 * the versioned and aliased stream function with its trigger, DLQ, role
 * and log group, and the alarms. Props are validated on construction.
 *
 * ```ts
 * new FlatteningPipeline(stack, 'orders', {
 *   name: 'orders',
 *   partitionKey: { name: 'pk' },
 *   explodeAttributes: ['items'],
 * });
 * ```
 */
export class FlatteningPipeline extends Construct {
  readonly config: ResolvedConfig;
  readonly source: SourceTable;
  readonly lake: LakeBucket;
  readonly catalog: GlueCatalog;
  readonly athena: AthenaWorkgroupConstruct;
  readonly logs: FunctionLogGroup;
  readonly deadLetterQueue: DeadLetterQueue;
  readonly role: FunctionRole;
  readonly stream: StreamFunction;
  readonly alarms: PipelineAlarms;
  readonly backfillNotification: BackfillNotification;
  readonly maintenance: MaintenanceSchedule;

  constructor(scope: Construct, id: string, props: FlatteningPipelineProps) {
    // Before anything joins the tree: a construct of the other CDK core would only fail at synth, obscurely.
    assertSameCore(scope, 'FlatteningPipeline', id);
    super(scope, id);
    validateProps(props);
    if (props.compaction?.maxTaskBytes !== undefined) {
      Annotations.of(this).addWarning(
        'compaction.maxTaskBytes is deprecated and has no effect since 0.4.0: maintenance runs as Athena UNLOAD statements in the maintenance workgroup (its cutoff is athena.maintenanceBytesScannedCutoffPerQuery). Remove it; it goes in 0.5.0.',
      );
    }
    const config = resolveConfig(props);
    this.config = config;
    // Fixed, readable Terraform addresses for everything below (and moved blocks from the generated ones).
    const addresses = AddressBook.attach(this, props.addressPrefix ?? '');

    // Where the pipeline lives: some ARNs are built from these rather than taken from resources (see stableArns).
    const here = {
      partition: named(new DataAwsPartition(this, 'partition'), 'current').partition,
      region: named(new DataAwsRegion(this, 'region'), 'current').id,
      account: named(new DataAwsCallerIdentity(this, 'account'), 'current').accountId,
    };

    this.source = new SourceTable(this, 'source', config, here);
    this.lake = new LakeBucket(this, 'lake', config, here.partition);
    this.catalog = new GlueCatalog(this, 'catalog', config, this.lake.bucketName);
    this.athena = new AthenaWorkgroupConstruct(this, 'athena', config, this.lake.bucketName, this.catalog.database.name, this.catalog);
    this.logs = new FunctionLogGroup(this, 'logs', config);
    this.deadLetterQueue = new DeadLetterQueue(this, 'dlq', config);
    this.role = new FunctionRole(this, 'iam', config, {
      tableArn: this.source.policyTableArn,
      streamArn: this.source.policyStreamArn,
      bucketArn: this.lake.policyBucketArn,
      logGroupArn: this.logs.logGroup.arn,
      dlqArn: this.deadLetterQueue.queue.arn,
      kmsKeyArns: [config.kmsKeyArn, this.source.kmsKeyArn, this.lake.kmsKeyArn],
    });
    this.stream = new StreamFunction(this, 'function', config, {
      roleArn: this.role.role.arn,
      bucketName: this.lake.bucketName,
      tableArn: this.source.tableArn,
      streamArn: this.source.streamArn,
      dlqArn: this.deadLetterQueue.queue.arn,
      dlqUrl: this.deadLetterQueue.queue.url,
      logGroupName: this.logs.logGroup.name,
      glueDatabaseName: this.catalog.database.name,
      glueViewName: this.catalog.view.name,
      glueTableName: this.catalog.table.name,
      glueCheckpointsTableName: this.catalog.checkpoints.name,
      // The function waits for the workgroup (no cycle: the workgroup needs only the bucket and the key).
      maintenanceWorkgroupName: this.athena.maintenanceWorkgroup.name,
      pointerParameterName: this.catalog.pointerParameter.name,
      dependsOn: [this.role.policy, ...(this.role.backfillPolicy ? [this.role.backfillPolicy] : []), this.logs.logGroup],
    });
    this.backfillNotification = new BackfillNotification(this, 'backfill', config, {
      bucketName: this.lake.bucketName,
      bucketArn: this.lake.bucketArn,
      functionName: this.stream.function.functionName,
      aliasName: this.stream.alias.name,
      aliasArn: this.stream.alias.arn,
      accountId: here.account,
    });
    this.alarms = new PipelineAlarms(this, 'alarms', config, this.stream.function.functionName, this.deadLetterQueue.queue.name);
    const arns = stableArns(config, here);
    this.role.addMaintenanceRights(config, { bucketArn: this.lake.policyBucketArn, dlqArn: this.deadLetterQueue.queue.arn, ...arns });
    this.maintenance = new MaintenanceSchedule(this, 'maintenance', config, { aliasArn: this.stream.alias.arn, invokeArn: arns.aliasArn });
    addresses.emitMoved();
  }

  /** The outputs users need, named `<service>_<resource>_<attribute>`, with descriptions. */
  outputs(): Record<string, { value: unknown; description: string }> {
    const fn = this.stream;
    return {
      dynamodb_table_name: { value: this.source.tableName, description: 'Name of the source DynamoDB table.' },
      dynamodb_table_arn: { value: this.source.tableArn, description: 'ARN of the source DynamoDB table.' },
      dynamodb_table_stream_arn: { value: this.source.streamArn, description: 'ARN of the table stream the function reads.' },
      s3_bucket_name: { value: this.lake.bucketName, description: 'Name of the lake bucket.' },
      s3_bucket_arn: { value: this.lake.bucketArn, description: 'ARN of the lake bucket.' },
      s3_lake_location: {
        value: this.s3Location(this.config.lake.dataPrefix),
        description: 'Where the flattened Parquet rows are written (Hive layout dt=YYYY-MM-DD).',
      },
      glue_catalog_database_name: { value: this.catalog.database.name, description: 'Glue database of the lake.' },
      glue_catalog_table_name: { value: this.catalog.table.name, description: 'Glue table of the flattened rows.' },
      glue_catalog_view_name: { value: this.catalog.view.name, description: 'Glue (Athena) view of the current state.' },
      glue_catalog_checkpoints_table_name: { value: this.catalog.checkpoints.name, description: 'Glue table of the checkpoints of the current state (the view reads the latest).' },
      glue_catalog_expired_items_view_name: {
        value: this.catalog.expiredView.name,
        description: 'Glue (Athena) view of the items Time to Live deleted: the last version of each, as it expired.',
      },
      athena_workgroup_name: { value: this.athena.workgroup.name, description: 'Athena workgroup to query the lake with.' },
      athena_maintenance_workgroup_name: {
        value: this.athena.maintenanceWorkgroup.name,
        description: 'Athena workgroup the maintenance (compaction, checkpoints) runs its UNLOAD statements in, with its own bytes-scanned cutoff.',
      },
      lambda_function_name: { value: fn.function.functionName, description: 'Name of the stream function.' },
      lambda_function_arn: { value: fn.function.arn, description: 'Unqualified ARN of the stream function.' },
      lambda_function_version: { value: fn.function.version, description: 'Newest published version of the stream function.' },
      lambda_function_code_sha256: { value: fn.codeSha256, description: 'base64 sha256 of the deployed zip (Lambda CodeSha256).' },
      lambda_alias_name: { value: fn.alias.name, description: 'Alias the stream trigger invokes.' },
      lambda_alias_arn: { value: fn.alias.arn, description: 'ARN of the alias; the stream trigger is created on it.' },
      lambda_alias_function_version: { value: fn.alias.functionVersion, description: 'Version the alias points to.' },
      ...(fn.eventSourceMappingUuid === undefined
        ? {}
        : { lambda_event_source_mapping_uuid: { value: fn.eventSourceMappingUuid, description: 'UUID of the stream trigger (null when it is not created).' } }),
      s3_export_location: {
        value: this.s3Location(this.config.backfill.exportPrefix),
        description: 'Where backfill exports land; each data file is flattened into SNAPSHOT rows.',
      },
      sqs_dlq_url: { value: this.deadLetterQueue.queue.url, description: 'URL of the on-failure destination queue.' },
      sqs_dlq_arn: { value: this.deadLetterQueue.queue.arn, description: 'ARN of the on-failure destination queue.' },
      ...(this.maintenance.scheduleName === undefined
        ? {}
        : { scheduler_schedule_name: { value: this.maintenance.scheduleName, description: 'The daily maintenance schedule: compaction of closed days and checkpoints (null when it is not created).' } }),
      cloudwatch_log_group_name: { value: this.logs.logGroup.name, description: "The function's log group." },
      iam_role_arn: { value: this.role.role.arn, description: "The function's execution role." },
    };
  }

  /**
   * `s3://<bucket>/<prefix>/`. In the module build the bucket's name is `one(bucket[*].id)`, null in a
   * refresh-only plan once the bucket was deleted outside Terraform; Terraform evaluates outputs in every
   * plan and refuses a null in a string template, so the location is then null instead of an error.
   */
  private s3Location(prefix: string): string {
    const location = `s3://${this.lake.bucketName}/${prefix}/`;
    // `null` as a reference: CDKTF drops Token.nullValue() from a function's arguments (it wrote `try(x, )`).
    return this.lake.gate.count === undefined ? location : Fn.try([location, ref('null', TerraformStack.of(this))]);
  }

  /** Adds `outputs()` as Terraform outputs of the given scope (a stack). */
  addOutputs(scope: Construct): TerraformOutput[] {
    return Object.entries(this.outputs()).map(([name, o]) => new TerraformOutput(scope, name, { value: o.value, description: o.description }));
  }
}

/**
 * ARNs of the alias, the Glue objects, the maintenance workgroup and the pointer parameter, built from
 * their configured names instead of read from the resources. A policy
 * document is a data source, and Terraform defers reading one that refers to
 * a resource with changes planned: the alias changes with every new version
 * and the view with every schema change, so a document naming their `arn`
 * attributes would show as "(known after apply)" in every such plan, an IAM
 * change for reviewers to look at that changes nothing.
 */
function stableArns(config: ResolvedConfig, here: AwsLocation) {
  const arn = (service: string, resource: string): string => arnIn(here, service, resource);
  const g = config.glue;
  return {
    aliasArn: arn('lambda', `function:${config.lambda.functionName}:${config.alias.name}`),
    catalogArn: arn('glue', 'catalog'),
    databaseArn: arn('glue', `database/${g.databaseName}`),
    viewArn: arn('glue', `table/${g.databaseName}/${g.viewName}`),
    glueTableArn: arn('glue', `table/${g.databaseName}/${g.tableName}`),
    checkpointsTableArn: arn('glue', `table/${g.databaseName}/${g.checkpointsTableName}`),
    maintenanceWorkgroupArn: arn('athena', `workgroup/${config.athena.maintenanceName}`),
    pointerParameterArn: arn('ssm', `parameter${config.compaction.pointerParameterName}`),
  };
}
