/**
 * The CDK core seam: every import of the CDK core (cdktf, or its fork
 * CDK Terrain, cdktn) in modules/, stacks/, scripts/ and test/ goes
 * through this file. The two cores are rename-level forks with the same
 * API, so the cdktn flavour of the library (dist/cdktn, built by
 * scripts/build-flavours.ts) is this tree with only the specifier below
 * rewritten, here and in ./aws.ts. Keep this file to re-exports from one
 * specifier: nothing else in it may differ between the flavours.
 */
export {
  Annotations,
  App,
  AssetType,
  Fn,
  LocalBackend,
  Op,
  ref,
  S3Backend,
  TerraformAsset,
  TerraformDataSource,
  TerraformLocal,
  TerraformOutput,
  TerraformResource,
  TerraformStack,
  Testing,
  Token,
} from 'cdktf';
export type { ITerraformDependable, S3BackendConfig, TerraformElement } from 'cdktf';
