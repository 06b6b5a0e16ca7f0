import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../modules/lambda-bundle.ts';
import { ensureFlavours } from '../scripts/flavours.ts';
import { jsonDifferences } from './support/json-diff.ts';
import { ALLOWED_DIFFERENCES } from './support/flavour-differences.ts';

/**
 * The package as a user installs it: `npm pack`'s file list copied into a
 * project's node_modules/ddb-flatten, next to the cores and bindings (the
 * optional peers) and nothing else, then `ddb-flatten/cdktf`,
 * `ddb-flatten/cdktn` and `ddb-flatten` imported by a cdktf and a cdktn
 * app, run by Node (no TypeScript, no esbuild) and type-checked by tsc.
 */

type Exports = Record<string, string | { types: string; default: string }>;
const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { exports: Exports; peerDependencies: Record<string, string>; peerDependenciesMeta: Record<string, { optional?: boolean }> };
const project = mkdtempSync(join(tmpdir(), 'ddb-flatten-consumer-'));
afterAll(() => rmSync(project, { recursive: true, force: true }));
let packed: string[] = [];

/** Every file a module imports relatively, transitively (the package must hold them all). */
function relativeGraph(root: string, entry: string, seen = new Set<string>()): Set<string> {
  if (seen.has(entry)) return seen;
  seen.add(entry);
  const text = readFileSync(join(root, entry), 'utf8');
  for (const m of text.matchAll(/(?:from|import)\s*\(?\s*['"](\.{1,2}\/[^'"]+)['"]/g)) {
    // Declarations keep the sources' ./x.ts specifiers; TypeScript reads ./x.d.ts for them.
    const target = normalize(join(dirname(entry), m[1]!));
    relativeGraph(root, entry.endsWith('.d.ts') && !target.endsWith('.d.ts') ? target.replace(/\.ts$/, '.d.ts') : target, seen);
  }
  return seen;
}

const run = (file: string) => spawnSync(process.execPath, [file], { cwd: project, encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } });

describe('the package: ddb-flatten/cdktf and ddb-flatten/cdktn as installed', () => {
  beforeAll(() => {
    ensureFlavours();
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: REPO_ROOT, encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    packed = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    const installed = join(project, 'node_modules', 'ddb-flatten');
    for (const file of packed) {
      mkdirSync(dirname(join(installed, file)), { recursive: true });
      cpSync(join(REPO_ROOT, file), join(installed, file));
    }
    // The peers the user installs (and @types/node for tsc), from this repository's node_modules.
    for (const dep of [...Object.keys(pkg.peerDependencies), '@types/node', 'undici-types']) {
      mkdirSync(dirname(join(project, 'node_modules', dep)), { recursive: true });
      symlinkSync(join(REPO_ROOT, 'node_modules', dep), join(project, 'node_modules', dep));
    }
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', type: 'module', private: true }));
  }, 180_000);

  it('declares the cores, the bindings and DuckDB (compact and erase on a lake folder) as optional peers, constructs as a required one', () => {
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['@cdktf/provider-aws', '@cdktn/provider-aws', '@duckdb/node-api', 'cdktf', 'cdktn', 'constructs']);
    for (const optional of ['@cdktf/provider-aws', '@cdktn/provider-aws', '@duckdb/node-api', 'cdktf', 'cdktn']) expect(pkg.peerDependenciesMeta[optional]?.optional, optional).toBe(true);
    expect(pkg.peerDependenciesMeta.constructs).toBeUndefined();
  });

  it('packs every file the exports reach: code, declarations, SQL templates and the handler zip', () => {
    expect(Object.keys(pkg.exports)).toEqual(['.', './cdktf', './cdktn', './package.json']);
    for (const [name, target] of Object.entries(pkg.exports)) {
      if (typeof target === 'string') continue;
      for (const entry of [target.default, target.types].map((t) => normalize(t))) {
        const missing = [...relativeGraph(REPO_ROOT, entry)].filter((f) => !packed.includes(f));
        expect(missing, `${name}: ${entry}`).toEqual([]);
      }
    }
    for (const flavour of ['cdktf', 'cdktn']) {
      expect(packed).toContain(`dist/${flavour}/lambda/ddb-flatten-handler.zip`);
      expect(packed).toContain(`dist/${flavour}/sql/views/current_state.sql`);
    }
    // Sources stay out: an installed package runs JavaScript (Node does not strip types under node_modules).
    expect(packed.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
  });

  it('a cdktf app and a cdktn app, each with its import, synthesize the same Terraform with no esbuild and no sources installed', () => {
    expect(existsSync(join(project, 'node_modules', 'esbuild'))).toBe(false);
    const app = (core: string, specifier: string) => `
import { App, TerraformStack } from '${core}';
import { AwsProvider } from '@${core}/provider-aws/lib/provider/index.js';
import { CORE, FlatteningPipeline } from '${specifier}';
const app = new App({ outdir: ${JSON.stringify(join(project, `out-${core}-${specifier.replace('/', '-')}`))} });
const stack = new TerraformStack(app, 'orders-analytics');
new AwsProvider(stack, 'aws', { region: 'eu-west-1' });
new FlatteningPipeline(stack, 'orders', { name: 'orders', partitionKey: { name: 'pk' }, explodeAttributes: ['items'] }).addOutputs(stack);
app.synth();
console.log(CORE);
`;
    const synths: Record<string, Record<string, unknown>> = {};
    for (const [core, specifier] of [['cdktf', 'ddb-flatten/cdktf'], ['cdktf', 'ddb-flatten'], ['cdktn', 'ddb-flatten/cdktn']] as const) {
      const file = join(project, `${specifier.replace('/', '-')}.mjs`);
      writeFileSync(file, app(core, specifier));
      const r = run(file);
      expect(r.status, `${specifier}: ${r.stderr}`).toBe(0);
      expect(r.stdout.trim()).toBe(core);
      synths[specifier] = JSON.parse(readFileSync(join(project, `out-${core}-${specifier.replace('/', '-')}`, 'stacks', 'orders-analytics', 'cdk.tf.json'), 'utf8')) as Record<string, unknown>;
    }
    expect(jsonDifferences(synths['ddb-flatten/cdktf'], synths['ddb-flatten'])).toEqual([]);
    // Without the stack's provider constraint override, the bindings pin the version they were generated from.
    const allowed = ALLOWED_DIFFERENCES.map((d) => d.path);
    const differences = jsonDifferences(synths['ddb-flatten/cdktf'], synths['ddb-flatten/cdktn']).map((d) => d.path);
    expect(differences).toEqual([...allowed, 'terraform.required_providers.aws.version'].sort());
  });

  it('a construct from the wrong import fails with the import to use', () => {
    const file = join(project, 'mixed.mjs');
    writeFileSync(file, `import { App, TerraformStack } from 'cdktn';\nimport { FlatteningPipeline } from 'ddb-flatten';\nnew FlatteningPipeline(new TerraformStack(new App(), 's'), 'p', { name: 'orders', partitionKey: { name: 'pk' }, explodeAttributes: ['items'] });\n`);
    const r = run(file);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("is built on cdktf (ddb-flatten/cdktf), but the stack \"s\" is a cdktn stack");
    expect(r.stderr).toContain("In a cdktn app import it from 'ddb-flatten/cdktn'");
  });

  it('the declarations resolve through the exports: tsc type-checks a consumer of both imports', () => {
    writeFileSync(
      join(project, 'consumer.ts'),
      `import { TerraformStack as CdktfStack } from 'cdktf';
import { TerraformStack as CdktnStack } from 'cdktn';
import { FlatteningPipeline as ForCdktf } from 'ddb-flatten/cdktf';
import { FlatteningPipeline as ForCdktn, type FlatteningPipelineProps } from 'ddb-flatten/cdktn';
const props: FlatteningPipelineProps = { name: 'orders', partitionKey: { name: 'pk' }, explodeAttributes: ['items'] };
export function build(a: CdktfStack, b: CdktnStack): string[] {
  const x = new ForCdktf(a, 'orders', props);
  const y = new ForCdktn(b, 'orders', props);
  // @ts-expect-error: a bucket name is a string (this line errs only if the types are real, not any)
  const n: number = y.lake.bucketName;
  return [x.stream.alias.arn, y.stream.alias.arn, String(n)];
}
`,
    );
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { target: 'ES2023', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, noEmit: true, skipLibCheck: true, types: ['node'] }, files: ['consumer.ts'] }),
    );
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', project], { cwd: project, encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  }, 120_000);
});
