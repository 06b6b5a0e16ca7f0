import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPO_ROOT } from '../../modules/lambda-bundle.ts';

/**
 * The one place the tests learn where the shipped Terraform module is: the
 * committed terraform/ folder (what consumers pin by git tag), and where an
 * example root expects it.
 */
export function moduleSourceDir(): string {
  return join(REPO_ROOT, 'terraform');
}

/** The `source` of the module block in examples/<example>/main.tf: where a consumer's root expects the module, relative to the root. */
export function exampleModuleSource(example = 'basic'): string {
  const main = readFileSync(join(REPO_ROOT, 'examples', example, 'main.tf'), 'utf8');
  const source = /^module\s+"[^"]+"\s*\{[^}]*?^\s*source\s*=\s*"([^"]+)"/ms.exec(main)?.[1];
  if (!source) throw new Error(`examples/${example}/main.tf: no module source found`);
  return source;
}
