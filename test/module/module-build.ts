import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModule, type BuildResult } from '../../scripts/build-module.ts';
import type { Json } from './synth.ts';

/** Builds the Terraform module into a fresh temp dir (once per test file) and reads its JSON files. */
export interface BuiltModule extends BuildResult {
  readonly main: Json;
  readonly variables: Json;
  readonly outputs: Json;
  readonly versions: Json;
  readonly readme: string;
}

let built: BuiltModule | undefined;
export function builtModule(): BuiltModule {
  if (!built) {
    const r = buildModule(join(mkdtempSync(join(tmpdir(), 'ddb-flatten-module-')), 'terraform-module'));
    const read = (f: string): Json => JSON.parse(readFileSync(join(r.dir, f), 'utf8')) as Json;
    built = {
      ...r,
      main: read('main.tf.json'),
      variables: read('variables.tf.json').variable,
      outputs: read('outputs.tf.json').output,
      versions: read('versions.tf.json'),
      readme: readFileSync(join(r.dir, 'README.md'), 'utf8'),
    };
  }
  return built;
}
