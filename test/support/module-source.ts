import { readFileSync } from 'node:fs';
import { builtModule } from '../module/module-build.ts';

/**
 * The one place the tests learn where the shipped Terraform module's source
 * folder is, so a test root can copy it exactly as a consumer would use it.
 * Today the module is built from the CDKTF construct into a temp copy of
 * dist/terraform-module (once per test process); when the module becomes
 * committed HCL, this returns that folder instead.
 */
export function moduleSourceDir(): string {
  return builtModule().dir;
}

/** The `source` of the module block in examples/hcl/main.tf: where a consumer's root expects the module, relative to the root. */
export function exampleModuleSource(): string {
  const main = readFileSync(new URL('../../examples/hcl/main.tf', import.meta.url), 'utf8');
  const source = /^module\s+"[^"]+"\s*\{[^}]*?^\s*source\s*=\s*"([^"]+)"/ms.exec(main)?.[1];
  if (!source) throw new Error('examples/hcl/main.tf: no module source found');
  return source;
}
