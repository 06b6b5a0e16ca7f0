/**
 * ddb-flatten's CDKTF module: the FlatteningPipeline construct and its parts. This is the cdktf
 * flavour (`ddb-flatten/cdktf`); `ddb-flatten/cdktn` is the same tree built on CDK Terrain.
 */
export { FlatteningPipeline } from './flattening-pipeline.ts';
export { CORE, corePackageOf } from './core.ts';
export * from './props.ts';
export { propsProblems, validateProps, RULES } from './validation.ts';
export { resolveConfig, PIPELINE_TAG, type ResolvedConfig } from './naming.ts';
export { SourceTable } from './source-table.ts';
export { LakeBucket } from './lake-bucket.ts';
export { GlueCatalog, glueColumns, projectionParameters, currentStateSql, elementSql, viewColumns, PARQUET } from './glue-catalog.ts';
export { decodePrestoView, prestoViewOriginalText, PRESTO_TYPES, PRESTO_VIEW } from './presto-view.ts';
export { AthenaWorkgroupConstruct } from './athena-workgroup.ts';
export { StreamFunction, RUNTIME, ARCHITECTURE } from './stream-function.ts';
export { DeadLetterQueue } from './dead-letter-queue.ts';
export { FunctionRole, WILDCARD_RESOURCE_ACTIONS } from './iam.ts';
export { FunctionLogGroup } from './log-group.ts';
export { PipelineAlarms } from './alarms.ts';
export { bundleHandler, deterministicZip, writeHandlerZip, HANDLER_NAME } from './lambda-bundle.ts';
