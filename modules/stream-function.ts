import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetType, Fn, type ITerraformDependable, Op, TerraformAsset, TerraformLocal, Token } from './cdk.ts';
import { Construct } from 'constructs';
import { LambdaAlias, LambdaEventSourceMapping, LambdaFunction, LambdaFunctionEventInvokeConfig } from './aws.ts';
import type { EnvironmentName } from '../src/config/pipeline-config.ts';
import { countOf, gate, type Gate, gatedAttr, isAbsent, isToken, joinList } from './expressions.ts';
import { bundleHandler, HANDLER_ENTRY, HANDLER_NAME, PREBUILT_HANDLER_ZIP, REPO_ROOT, writeHandlerZip } from './lambda-bundle.ts';
import type { ResolvedConfig } from './naming.ts';
import { DEFAULTS } from './props.ts';
import { named } from './addresses.ts';

export const RUNTIME = 'nodejs22.x';
export const ARCHITECTURE = 'arm64';

/** A number for the environment: a literal as text, a Terraform number as its expression. */
const numberText = (n: number): string => (isToken(n) ? Token.asString(n) : String(n));

/**
 * A fraction for the environment, always in positional notation (the handler reads digits and one point):
 * String(1e-7) is "1e-7", this gives "0.0000001". Terraform's number-to-string conversion is positional already.
 */
export const decimalText = (n: number): string =>
  isToken(n) ? Token.asString(n) : n.toLocaleString('en-US', { useGrouping: false, maximumFractionDigits: 20 });

/**
 * The handler zip for this process: from the repository, bundled once and written where
 * TerraformAsset can copy it; from a built flavour, the zip built with it.
 */
let bundled: { path: string; base64Sha256: string } | undefined;
export function defaultHandlerZip(): { path: string; base64Sha256: string } {
  if (!bundled) {
    if (existsSync(HANDLER_ENTRY)) {
      const bundle = bundleHandler();
      bundled = { path: writeHandlerZip(join(REPO_ROOT, 'dist', 'lambda'), bundle), base64Sha256: bundle.base64Sha256 };
    } else if (existsSync(PREBUILT_HANDLER_ZIP)) {
      bundled = zipOf(PREBUILT_HANDLER_ZIP);
    } else {
      throw new Error(`ddb-flatten: neither the handler sources (${HANDLER_ENTRY}) nor the built zip (${PREBUILT_HANDLER_ZIP}) is here: rebuild with npm run build:flavours, or set lambda.codeZipPath`);
    }
  }
  return bundled;
}

function zipOf(path: string | undefined): { path: string; base64Sha256: string } {
  if (path === undefined) return defaultHandlerZip();
  return { path, base64Sha256: createHash('sha256').update(readFileSync(path)).digest('base64') };
}

export interface StreamFunctionInputs {
  readonly roleArn: string;
  readonly bucketName: string;
  readonly tableArn: string;
  readonly streamArn: string;
  readonly dlqArn: string;
  readonly dlqUrl: string;
  readonly logGroupName: string;
  /** The catalog the maintenance run updates (the current-state view follows each checkpoint). */
  readonly glueDatabaseName: string;
  readonly glueViewName: string;
  /** The tables the maintenance statements read: the flattened rows and the checkpoints. */
  readonly glueTableName: string;
  readonly glueCheckpointsTableName: string;
  /** The Athena workgroup the maintenance statements run in. */
  readonly maintenanceWorkgroupName: string;
  readonly pointerParameterName: string;
  /** Resources the function and its trigger must wait for (the role's policy, the log group). */
  readonly dependsOn: readonly ITerraformDependable[];
}

/**
 * The stream function: nodejs22.x on arm64, the deterministic esbuild zip
 * as a TerraformAsset, `publish = true` so each code or configuration
 * change publishes a version, active X-Ray tracing, JSON logs into the
 * module's log group. The alias (default `live`) follows the newest
 * version unless pinned, with an optional canary; the stream trigger is
 * created on the alias ARN, so traffic follows the alias.
 */
export class StreamFunction extends Construct {
  readonly function: LambdaFunction;
  readonly alias: LambdaAlias;
  readonly eventSourceMapping?: LambdaEventSourceMapping;
  readonly asyncInvokeConfig: LambdaFunctionEventInvokeConfig;
  readonly mappingGate: Gate;
  readonly asset: TerraformAsset;
  /** base64 sha256 of the zip, as set in source_code_hash. */
  readonly codeSha256: string;

  constructor(scope: Construct, id: string, config: ResolvedConfig, inputs: StreamFunctionInputs) {
    super(scope, id);
    const zip = zipOf(config.lambda.codeZipPath);
    this.codeSha256 = zip.base64Sha256;
    this.asset = new TerraformAsset(this, 'code', { path: zip.path, type: AssetType.FILE });

    const sk = config.sortKey?.name;
    const e = config.eventSourceMapping;
    const environment: Partial<Record<EnvironmentName, string>> = {
      LAKE_BUCKET: inputs.bucketName,
      LAKE_PREFIX: config.lake.dataPrefix,
      QUARANTINE_PREFIX: config.lake.quarantinePrefix,
      EXPLODE_ATTRIBUTES: joinList(config.explodeAttributes),
      PARTITION_KEY: config.partitionKey.name,
      CARRY_ATTRIBUTES: joinList(config.carryAttributes),
      // For the actions invoked through the alias (backfill, status, reflatten, redrive).
      TABLE_ARN: inputs.tableArn,
      STREAM_ARN: inputs.streamArn,
      PARTITION_KEY_TYPE: config.partitionKey.type,
      SORT_KEY_TYPE: config.sortKey?.type ?? 'S',
      EXPORT_PREFIX: config.backfill.exportPrefix,
      DLQ_URL: inputs.dlqUrl,
      // For the maintenance run (compaction, checkpoints).
      STATE_PREFIX: config.lake.statePrefix,
      GLUE_DATABASE: inputs.glueDatabaseName,
      GLUE_VIEW: inputs.glueViewName,
      GLUE_TABLE: inputs.glueTableName,
      GLUE_CHECKPOINTS_TABLE: inputs.glueCheckpointsTableName,
      ATHENA_WORKGROUP: inputs.maintenanceWorkgroupName,
      CHECKPOINT_PARAMETER: inputs.pointerParameterName,
      MAXIMUM_RECORD_AGE_SECONDS: numberText(e.maximumRecordAgeInSeconds),
      COMPACTION_MARGIN_SECONDS: numberText(config.compaction.marginSeconds),
      COMPACTION_LOOKBACK_DAYS: numberText(config.compaction.lookbackDays),
      COMPACTION_TARGET_BYTES: numberText(config.compaction.targetBytes),
      CHECKPOINT_RETENTION: numberText(config.compaction.checkpointRetention),
      CHECKPOINT_REBUILD_SHARE: decimalText(config.compaction.checkpointRebuildShare),
      CHECKPOINT_MAX_AGE_DAYS: numberText(config.compaction.checkpointMaxAgeDays),
      // For the erasure of keys: it deletes the Athena query results too (a result can hold any value).
      ATHENA_RESULTS_PREFIX: config.lake.athenaResultsPrefix,
    };
    // The handler reads an empty SORT_KEY as "no sort key".
    if (sk !== undefined) environment.SORT_KEY = isToken(sk) ? Fn.join('', Fn.compact([sk])) : sk;
    // History retention deletes history: the variable is set only when retention is (a plan then shows it appear).
    const retention = config.compaction.historyRetentionDays;
    if (retention !== undefined && !isToken(retention)) environment.HISTORY_RETENTION_DAYS = numberText(retention);
    let variables = environment as Record<string, string>;
    if (retention !== undefined && isToken(retention)) {
      // Module build: the map as a local (written one variable a line), merged with HISTORY_RETENTION_DAYS when it is set.
      const base = new TerraformLocal(this, 'function_environment', environment);
      base.overrideLogicalId('function_environment');
      variables = Token.asStringMap(Fn.merge([base.expression, Fn.conditional(isAbsent(numberText(retention)), {}, { HISTORY_RETENTION_DAYS: numberText(retention) })]));
    }

    this.function = named(new LambdaFunction(this, 'function', {
      functionName: config.lambda.functionName,
      description: `ddb-flatten: flattens ${config.name} stream records into Parquet rows on S3`,
      role: inputs.roleArn,
      runtime: RUNTIME,
      architectures: [ARCHITECTURE],
      handler: HANDLER_NAME,
      filename: this.asset.path,
      sourceCodeHash: zip.base64Sha256,
      publish: true,
      memorySize: config.lambda.memorySize,
      timeout: config.lambda.timeout,
      reservedConcurrentExecutions: config.lambda.reservedConcurrency,
      environment: { variables },
      kmsKeyArn: config.kmsKeyArn,
      tracingConfig: { mode: 'Active' },
      loggingConfig: { logFormat: 'JSON', logGroup: inputs.logGroupName, applicationLogLevel: config.lambda.logLevel },
      tags: config.tags,
      dependsOn: [...inputs.dependsOn],
    }), 'flatten');

    const a = config.alias;
    this.alias = named(new LambdaAlias(this, 'alias', {
      name: a.name,
      description: 'Stream traffic follows this alias; pin it to roll back, add a canary to try a version.',
      functionName: this.function.functionName,
      functionVersion:
        a.pinnedVersion === undefined ? this.function.version : isToken(a.pinnedVersion) ? Fn.coalesce([a.pinnedVersion, this.function.version]) : a.pinnedVersion,
    }), 'live');
    if (a.canary !== undefined) {
      const version =
        a.canary.version === undefined ? this.function.version : isToken(a.canary.version) ? Fn.coalesce([a.canary.version, this.function.version]) : a.canary.version;
      const weights = isToken(version) ? Fn.zipmap([version], [a.canary.weight]) : { [version]: a.canary.weight };
      if (isToken(a.canary.weight)) {
        // Module build: a canary only when its weight is above zero, and only with a pinned version.
        // (A comparison, not signum(): signum needs a whole number, and any weight from 0 to 1 is allowed.)
        const weight = Token.asString(a.canary.weight);
        this.alias.addOverride('dynamic.routing_config', {
          for_each: `\${${weight} > 0 ? ["canary"] : []}`,
          content: { additional_version_weights: weights },
        });
        this.alias.addOverride('lifecycle.precondition', [
          {
            condition: `\${${weight} == 0 || ${Token.asString(Op.not(isAbsent(a.pinnedVersion)))}}`,
            error_message: 'canary_weight above 0 needs alias_pinned_version: the alias must stay on a known version while the canary gets its share.',
          },
        ]);
      } else {
        this.alias.addOverride('routing_config', { additional_version_weights: weights });
      }
    }

    // Asynchronous invocations (S3 notifications of export files): bounded retries, then the same DLQ.
    this.asyncInvokeConfig = named(new LambdaFunctionEventInvokeConfig(this, 'async-invoke-config', {
      functionName: this.function.functionName,
      qualifier: this.alias.name,
      maximumRetryAttempts: DEFAULTS.backfill.maximumRetryAttempts,
      maximumEventAgeInSeconds: DEFAULTS.backfill.maximumEventAgeInSeconds,
      destinationConfig: { onFailure: { destination: inputs.dlqArn } },
    }), 'async_invocations');

    this.mappingGate = gate(e.create);
    if (this.mappingGate.create) {
      this.eventSourceMapping = named(new LambdaEventSourceMapping(this, 'stream-trigger', {
        ...countOf(this.mappingGate),
        functionName: this.alias.arn,
        eventSourceArn: inputs.streamArn,
        enabled: e.enabled,
        startingPosition: 'TRIM_HORIZON',
        batchSize: e.batchSize,
        maximumBatchingWindowInSeconds: e.maximumBatchingWindowInSeconds,
        parallelizationFactor: e.parallelizationFactor,
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: e.maximumRetryAttempts,
        maximumRecordAgeInSeconds: e.maximumRecordAgeInSeconds,
        functionResponseTypes: ['ReportBatchItemFailures'],
        destinationConfig: { onFailure: { destinationArn: inputs.dlqArn } },
        tags: config.tags,
        dependsOn: [...inputs.dependsOn],
      }), 'stream');
    }
  }

  /** The trigger's UUID (null/absent when it is not created). */
  get eventSourceMappingUuid(): string | undefined {
    if (!this.eventSourceMapping) return undefined;
    return gatedAttr(this.eventSourceMapping, this.mappingGate, 'uuid', this.eventSourceMapping.uuid);
  }
}
