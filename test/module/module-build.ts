import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModule, type BuildResult } from '../../scripts/build-module.ts';
import type { Json } from './synth.ts';

/**
 * Builds the Terraform module into a fresh temp dir (once per test file): the
 * HCL files as written, and the same module in Terraform JSON form (what the
 * tests analyse: resources, variables, outputs).
 */
export interface BuiltModule extends BuildResult {
  readonly main: Json;
  readonly variables: Json;
  readonly outputs: Json;
  readonly versions: Json;
  readonly readme: string;
  /** The text of a generated file, e.g. hcl('main.tf'). */
  hcl(file: string): string;
}

let built: BuiltModule | undefined;
export function builtModule(): BuiltModule {
  if (!built) {
    const r = buildModule(join(mkdtempSync(join(tmpdir(), 'ddb-flatten-module-')), 'terraform'));
    built = {
      ...r,
      main: r.json.main,
      variables: r.json.variables,
      outputs: r.json.outputs,
      versions: r.json.versions,
      readme: readFileSync(join(r.dir, 'README.md'), 'utf8'),
      hcl: (file) => readFileSync(join(r.dir, file), 'utf8'),
    };
  }
  return built;
}

/**
 * The function's environment in the module build: its variables are a local (`local.function_environment`, one
 * per line) merged with HISTORY_RETENTION_DAYS when history_retention_days is set. The map, and the expression.
 */
export function moduleFunctionEnvironment(main: Json): { variables: Record<string, string>; expression: string } {
  const expression = Object.values<Json>(main.resource.aws_lambda_function)[0]!.environment.variables as string;
  return { variables: main.locals.function_environment as Record<string, string>, expression };
}
